/* Pendulum-v1: a port of Gymnasium's classic_control/pendulum.py (swing-up, semi-implicit Euler).
 * Constants and equations from that file (Gymnasium 1.4, HEAD 3f0476a8); see docs/envs.md.
 * Option g (gravity, default 10.0) mirrors the constructor argument; reset(options=x_init/y_init) is not ported. */
#include <math.h>
#include <stdio.h>

#include "envs/classic.h"

typedef struct {
    double th, thdot; /* theta (0 = upright, never wrapped) and its rate, float64 as in Gymnasium */
    double g;
    float last_u;     /* last applied (clipped) torque, for rendering; 0 after reset */
} pendulum_state;

#define PEND_MAX_SPEED 8.0
#define PEND_MAX_TORQUE 2.0
#define PEND_DT 0.05
#define PEND_DEFAULT_G 10.0
#define PEND_M 1.0
#define PEND_L 1.0
#define PEND_PI 3.141592653589793 /* numpy.pi */

static void pendulum_obs(const pendulum_state *s, float *obs)
{
    obs[0] = (float)cos(s->th);
    obs[1] = (float)sin(s->th);
    obs[2] = (float)s->thdot;
}

/* Gymnasium's angle_normalize, ((x + pi) % 2pi) - pi, with numpy's floor-mod (result in [0, 2pi)). */
static double pendulum_angle_normalize(double x)
{
    const double two_pi = 2 * PEND_PI;
    double r = fmod(x + PEND_PI, two_pi);
    if (r < 0.0)
        r += two_pi;
    return r - PEND_PI;
}

static int pendulum_init(void *state, ppo_env_spec *spec, env_options *opts, char *err, size_t err_len)
{
    pendulum_state *s = state;
    s->g = PEND_DEFAULT_G;
    if (env_options_get_double(opts, "g", &s->g, err, err_len) != PPO_ENV_OK)
        return PPO_ENV_EINVAL;
    /* Gymnasium takes any g (pendulum.py: "the default value is g = 10.0"). ppo bounds it so the
     * dynamics stay finite: 3g/(2l)*sin(th)*dt with g near DBL_MAX overflows to inf, and inf*0 is NaN.
     * 0..100 covers every planet's surface gravity (Jupiter: 24.8). */
    if (!(s->g >= 0.0 && s->g <= 100.0)) {
        if (err && err_len)
            snprintf(err, err_len, "env option g=%g must be in [0, 100]", s->g);
        return PPO_ENV_EINVAL;
    }
    spec->obs_dim = 3;
    const float high[3] = {1.0f, 1.0f, (float)PEND_MAX_SPEED};
    for (int i = 0; i < 3; i++) {
        spec->obs_low[i] = -high[i];
        spec->obs_high[i] = high[i];
    }
    spec->action_kind = PPO_ACTION_CONTINUOUS;
    spec->action_count = 0;
    spec->action_dim = 1;
    spec->action_low[0] = (float)-PEND_MAX_TORQUE;
    spec->action_high[0] = (float)PEND_MAX_TORQUE;
    spec->max_episode_steps = 200;
    spec->has_reward_threshold = false; /* Pendulum-v1 is registered without one */
    spec->reward_threshold = 0.0;
    spec->render_dim = 3;
    return PPO_ENV_OK;
}

static void pendulum_reset(void *state, rng_t *rng, float *obs)
{
    pendulum_state *s = state;
    /* One uniform(low=[-pi,-1], high=[pi,1]) in Gymnasium: theta first, then its rate. */
    s->th = rng_uniform_range(rng, -PEND_PI, PEND_PI);
    s->thdot = rng_uniform_range(rng, -1.0, 1.0);
    s->last_u = 0.0f;
    pendulum_obs(s, obs);
}

static void pendulum_step(void *state, rng_t *rng, const float *action, float *obs, float *reward,
                          bool *terminated)
{
    (void)rng;
    pendulum_state *s = state;
    double th = s->th, thdot = s->thdot, g = s->g;
    double u = fmin(fmax(action[0], -PEND_MAX_TORQUE), PEND_MAX_TORQUE);
    s->last_u = (float)u;
    /* The cost uses the pre-step state and the clipped torque. */
    double an = pendulum_angle_normalize(th);
    double costs = an * an + 0.1 * (thdot * thdot) + 0.001 * (u * u);
    double newthdot = thdot + (3 * g / (2 * PEND_L) * sin(th) + 3.0 / (PEND_M * (PEND_L * PEND_L)) * u) * PEND_DT;
    newthdot = fmin(fmax(newthdot, -PEND_MAX_SPEED), PEND_MAX_SPEED);
    double newth = th + newthdot * PEND_DT;
    s->th = newth;
    s->thdot = newthdot;
    pendulum_obs(s, obs);
    *reward = (float)-costs;
    *terminated = false;
}

/* Render state: theta, theta_dot, last applied torque (docs/render-state.md). */
static void pendulum_render_state(const void *state, float *out)
{
    const pendulum_state *s = state;
    out[0] = (float)s->th;
    out[1] = (float)s->thdot;
    out[2] = s->last_u;
}

void pendulum_set_state(void *state, const double *values)
{
    pendulum_state *s = state;
    s->th = values[0];
    s->thdot = values[1];
}

const env_class pendulum_class = {
    .id = "Pendulum-v1",
    .state_size = sizeof(pendulum_state),
    .plain_state = true,
    .init = pendulum_init,
    .reset = pendulum_reset,
    .step = pendulum_step,
    .render_state = pendulum_render_state,
};
