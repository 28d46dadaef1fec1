/* Acrobot-v1: a port of Gymnasium's classic_control/acrobot.py ("book" dynamics, one RK4 step of 0.2 s,
 * no torque noise). Constants and equations from that file (Gymnasium 1.4, HEAD 3f0476a8); see docs/envs.md.
 * Not the "nips" variant and not Acrobot-v0's angle observation. */
#include <math.h>

#include "envs/classic.h"

typedef struct {
    double s[4]; /* theta1, theta2, dtheta1, dtheta2; float64 as in Gymnasium */
} acrobot_state;

#define ACRO_DT 0.2
#define ACRO_L1 1.0  /* LINK_LENGTH_1 [m] */
#define ACRO_M1 1.0  /* LINK_MASS_1 [kg] */
#define ACRO_M2 1.0  /* LINK_MASS_2 [kg] */
#define ACRO_LC1 0.5 /* LINK_COM_POS_1 [m] */
#define ACRO_LC2 0.5 /* LINK_COM_POS_2 [m] */
#define ACRO_I1 1.0  /* LINK_MOI, both links */
#define ACRO_I2 1.0
#define ACRO_G 9.8
#define ACRO_PI 3.141592653589793 /* numpy.pi */
#define ACRO_MAX_VEL_1 (4 * ACRO_PI)
#define ACRO_MAX_VEL_2 (9 * ACRO_PI)
#define ACRO_RESET_BOUND 0.1

static const double acrobot_torques[3] = {-1.0, 0.0, 1.0}; /* AVAIL_TORQUE */

static void acrobot_obs(const acrobot_state *st, float *obs)
{
    const double *s = st->s;
    obs[0] = (float)cos(s[0]);
    obs[1] = (float)sin(s[0]);
    obs[2] = (float)cos(s[1]);
    obs[3] = (float)sin(s[1]);
    obs[4] = (float)s[2];
    obs[5] = (float)s[3];
}

/* Gymnasium's _dsdt, book variant. Products and sums keep Python's left-to-right order so the
 * trajectory matches Gymnasium's float64 one to the last bit where libm agrees. */
static void acrobot_dsdt(const double y[4], double a, double dy[4])
{
    double theta1 = y[0], theta2 = y[1], dtheta1 = y[2], dtheta2 = y[3];
    double d1 = ACRO_M1 * (ACRO_LC1 * ACRO_LC1) +
                ACRO_M2 * (ACRO_L1 * ACRO_L1 + ACRO_LC2 * ACRO_LC2 + 2 * ACRO_L1 * ACRO_LC2 * cos(theta2)) +
                ACRO_I1 + ACRO_I2;
    double d2 = ACRO_M2 * (ACRO_LC2 * ACRO_LC2 + ACRO_L1 * ACRO_LC2 * cos(theta2)) + ACRO_I2;
    double phi2 = ACRO_M2 * ACRO_LC2 * ACRO_G * cos(theta1 + theta2 - ACRO_PI / 2.0);
    double phi1 = -ACRO_M2 * ACRO_L1 * ACRO_LC2 * (dtheta2 * dtheta2) * sin(theta2) -
                  2 * ACRO_M2 * ACRO_L1 * ACRO_LC2 * dtheta2 * dtheta1 * sin(theta2) +
                  (ACRO_M1 * ACRO_LC1 + ACRO_M2 * ACRO_L1) * ACRO_G * cos(theta1 - ACRO_PI / 2) + phi2;
    double ddtheta2 = (a + d2 / d1 * phi1 - ACRO_M2 * ACRO_L1 * ACRO_LC2 * (dtheta1 * dtheta1) * sin(theta2) -
                       phi2) /
                      (ACRO_M2 * (ACRO_LC2 * ACRO_LC2) + ACRO_I2 - (d2 * d2) / d1);
    double ddtheta1 = -(d2 * ddtheta2 + phi1) / d1;
    dy[0] = dtheta1;
    dy[1] = dtheta2;
    dy[2] = ddtheta1;
    dy[3] = ddtheta2;
}

/* Gymnasium's wrap(): repeated shifts by the range width, not fmod, to match its rounding. */
static double acrobot_wrap(double x, double m, double M)
{
    double diff = M - m;
    while (x > M)
        x = x - diff;
    while (x < m)
        x = x + diff;
    return x;
}

static double acrobot_bound(double x, double m, double M) { return fmin(fmax(x, m), M); }

static int acrobot_init(void *state, ppo_env_spec *spec, env_options *opts, char *err, size_t err_len)
{
    (void)state, (void)opts, (void)err, (void)err_len;
    spec->obs_dim = 6;
    const float high[6] = {1.0f, 1.0f, 1.0f, 1.0f, (float)ACRO_MAX_VEL_1, (float)ACRO_MAX_VEL_2};
    for (int i = 0; i < 6; i++) {
        spec->obs_low[i] = -high[i];
        spec->obs_high[i] = high[i];
    }
    spec->action_kind = PPO_ACTION_DISCRETE;
    spec->action_count = 3;
    spec->action_dim = 1;
    spec->max_episode_steps = 500;
    spec->has_reward_threshold = true;
    spec->reward_threshold = -100.0;
    spec->render_dim = 4;
    return PPO_ENV_OK;
}

static void acrobot_reset(void *state, rng_t *rng, float *obs)
{
    acrobot_state *st = state;
    /* Gymnasium stores the reset draw as float32 (.astype(np.float32)); later states are float64. */
    for (int i = 0; i < 4; i++)
        st->s[i] = (double)(float)rng_uniform_range(rng, -ACRO_RESET_BOUND, ACRO_RESET_BOUND);
    acrobot_obs(st, obs);
}

static void acrobot_step(void *state, rng_t *rng, const float *action, float *obs, float *reward,
                         bool *terminated)
{
    (void)rng; /* torque_noise_max is 0: no draw */
    acrobot_state *st = state;
    double torque = acrobot_torques[(int)action[0]];
    /* Gymnasium's rk4() over t = [0, dt]: a single classical RK4 step with the torque held constant. */
    const double dt = ACRO_DT - 0.0, dt2 = dt / 2.0;
    double k1[4], k2[4], k3[4], k4[4], y[4];
    const double *y0 = st->s;
    acrobot_dsdt(y0, torque, k1);
    for (int i = 0; i < 4; i++)
        y[i] = y0[i] + dt2 * k1[i];
    acrobot_dsdt(y, torque, k2);
    for (int i = 0; i < 4; i++)
        y[i] = y0[i] + dt2 * k2[i];
    acrobot_dsdt(y, torque, k3);
    for (int i = 0; i < 4; i++)
        y[i] = y0[i] + dt * k3[i];
    acrobot_dsdt(y, torque, k4);
    double ns[4];
    for (int i = 0; i < 4; i++)
        ns[i] = y0[i] + dt / 6.0 * (k1[i] + 2 * k2[i] + 2 * k3[i] + k4[i]);
    st->s[0] = acrobot_wrap(ns[0], -ACRO_PI, ACRO_PI);
    st->s[1] = acrobot_wrap(ns[1], -ACRO_PI, ACRO_PI);
    st->s[2] = acrobot_bound(ns[2], -ACRO_MAX_VEL_1, ACRO_MAX_VEL_1);
    st->s[3] = acrobot_bound(ns[3], -ACRO_MAX_VEL_2, ACRO_MAX_VEL_2);
    acrobot_obs(st, obs);
    /* The free end is above the bar one link length over the pivot. */
    *terminated = -cos(st->s[0]) - cos(st->s[1] + st->s[0]) > 1.0;
    *reward = *terminated ? 0.0f : -1.0f;
}

/* Render state: theta1, theta2, dtheta1, dtheta2 (docs/render-state.md). */
static void acrobot_render_state(const void *state, float *out)
{
    const acrobot_state *st = state;
    for (int i = 0; i < 4; i++)
        out[i] = (float)st->s[i];
}

void acrobot_set_state(void *state, const double *values)
{
    acrobot_state *st = state;
    for (int i = 0; i < 4; i++)
        st->s[i] = values[i];
}

const env_class acrobot_class = {
    .id = "Acrobot-v1",
    .state_size = sizeof(acrobot_state),
    .plain_state = true,
    .init = acrobot_init,
    .reset = acrobot_reset,
    .step = acrobot_step,
    .render_state = acrobot_render_state,
};
