/* CartPole-v1: a port of Gymnasium's classic_control/cartpole.py (explicit Euler, default reward).
 * Constants and equations from that file; see docs/envs.md. */
#include <math.h>

#include "envs/classic.h"

typedef struct {
    double x, x_dot, theta, theta_dot;
} cartpole_state;

#define CP_GRAVITY 9.8
#define CP_MASSCART 1.0
#define CP_MASSPOLE 0.1
#define CP_TOTAL_MASS (CP_MASSPOLE + CP_MASSCART)
#define CP_LENGTH 0.5 /* half the pole's length */
#define CP_POLEMASS_LENGTH (CP_MASSPOLE * CP_LENGTH)
#define CP_FORCE_MAG 10.0
#define CP_TAU 0.02
#define CP_THETA_LIMIT (12.0 * 2.0 * M_PI / 360.0)
#define CP_X_LIMIT 2.4

static void cartpole_obs(const cartpole_state *s, float *obs)
{
    obs[0] = (float)s->x;
    obs[1] = (float)s->x_dot;
    obs[2] = (float)s->theta;
    obs[3] = (float)s->theta_dot;
}

static int cartpole_init(void *state, ppo_env_spec *spec, env_options *opts, char *err, size_t err_len)
{
    (void)state, (void)opts, (void)err, (void)err_len;
    spec->obs_dim = 4;
    const float high[4] = {(float)(CP_X_LIMIT * 2), INFINITY, (float)(CP_THETA_LIMIT * 2), INFINITY};
    for (int i = 0; i < 4; i++) {
        spec->obs_low[i] = -high[i];
        spec->obs_high[i] = high[i];
    }
    spec->action_kind = PPO_ACTION_DISCRETE;
    spec->action_count = 2;
    spec->action_dim = 1;
    spec->max_episode_steps = 500;
    spec->has_reward_threshold = true;
    spec->reward_threshold = 475.0;
    spec->render_dim = 4;
    return PPO_ENV_OK;
}

static void cartpole_reset(void *state, rng_t *rng, float *obs)
{
    cartpole_state *s = state;
    s->x = rng_uniform_range(rng, -0.05, 0.05);
    s->x_dot = rng_uniform_range(rng, -0.05, 0.05);
    s->theta = rng_uniform_range(rng, -0.05, 0.05);
    s->theta_dot = rng_uniform_range(rng, -0.05, 0.05);
    cartpole_obs(s, obs);
}

static void cartpole_step(void *state, rng_t *rng, const float *action, float *obs, float *reward,
                          bool *terminated)
{
    (void)rng;
    cartpole_state *s = state;
    double force = action[0] == 1.0f ? CP_FORCE_MAG : -CP_FORCE_MAG;
    double costheta = cos(s->theta), sintheta = sin(s->theta);
    /* Grouped as Gymnasium's np.square(...) terms are, so the float64 rounding matches. */
    double temp = (force + CP_POLEMASS_LENGTH * (s->theta_dot * s->theta_dot) * sintheta) / CP_TOTAL_MASS;
    double thetaacc = (CP_GRAVITY * sintheta - costheta * temp) /
                      (CP_LENGTH * (4.0 / 3.0 - CP_MASSPOLE * (costheta * costheta) / CP_TOTAL_MASS));
    double xacc = temp - CP_POLEMASS_LENGTH * thetaacc * costheta / CP_TOTAL_MASS;
    s->x = s->x + CP_TAU * s->x_dot;
    s->x_dot = s->x_dot + CP_TAU * xacc;
    s->theta = s->theta + CP_TAU * s->theta_dot;
    s->theta_dot = s->theta_dot + CP_TAU * thetaacc;
    cartpole_obs(s, obs);
    *terminated = s->x < -CP_X_LIMIT || s->x > CP_X_LIMIT || s->theta < -CP_THETA_LIMIT ||
                  s->theta > CP_THETA_LIMIT;
    *reward = 1.0f;
}

/* Render state: x, x_dot, theta, theta_dot (docs/render-state.md). */
static void cartpole_render_state(const void *state, float *out) { cartpole_obs(state, out); }

void cartpole_set_state(void *state, const double *values)
{
    cartpole_state *s = state;
    s->x = values[0];
    s->x_dot = values[1];
    s->theta = values[2];
    s->theta_dot = values[3];
}

const env_class cartpole_class = {
    .id = "CartPole-v1",
    .state_size = sizeof(cartpole_state),
    .plain_state = true,
    .init = cartpole_init,
    .reset = cartpole_reset,
    .step = cartpole_step,
    .render_state = cartpole_render_state,
};
