/* MountainCarContinuous-v0: a port of Gymnasium's classic_control/continuous_mountain_car.py.
 * Constants and equations from that file (Gymnasium 1.4, HEAD 3f0476a8); see docs/envs.md.
 * Dynamics run in float64, but the state is stored as float32 after every step, as Gymnasium does. */
#include <math.h>

#include "envs/classic.h"

typedef struct {
    double position, velocity; /* float64 after reset, float32-valued after any step */
} mountain_car_continuous_state;

#define MCC_MIN_ACTION (-1.0)
#define MCC_MAX_ACTION 1.0
#define MCC_MIN_POSITION (-1.2)
#define MCC_MAX_POSITION 0.6
#define MCC_MAX_SPEED 0.07
#define MCC_GOAL_POSITION 0.45 /* 0.45 here, 0.5 in MountainCar-v0 */
#define MCC_GOAL_VELOCITY 0.0  /* constructor default goal_velocity=0 */
#define MCC_POWER 0.0015
#define MCC_GRAVITY 0.0025

static void mountain_car_continuous_obs(const mountain_car_continuous_state *s, float *obs)
{
    obs[0] = (float)s->position;
    obs[1] = (float)s->velocity;
}

static int mountain_car_continuous_init(void *state, ppo_env_spec *spec, env_options *opts, char *err,
                                        size_t err_len)
{
    (void)state, (void)opts, (void)err, (void)err_len;
    spec->obs_dim = 2;
    spec->obs_low[0] = (float)MCC_MIN_POSITION;
    spec->obs_low[1] = (float)-MCC_MAX_SPEED;
    spec->obs_high[0] = (float)MCC_MAX_POSITION;
    spec->obs_high[1] = (float)MCC_MAX_SPEED;
    spec->action_kind = PPO_ACTION_CONTINUOUS;
    spec->action_count = 0;
    spec->action_dim = 1;
    spec->action_low[0] = (float)MCC_MIN_ACTION;
    spec->action_high[0] = (float)MCC_MAX_ACTION;
    spec->max_episode_steps = 999;
    spec->has_reward_threshold = true;
    spec->reward_threshold = 90.0;
    spec->render_dim = 2;
    return PPO_ENV_OK;
}

static void mountain_car_continuous_reset(void *state, rng_t *rng, float *obs)
{
    mountain_car_continuous_state *s = state;
    s->position = rng_uniform_range(rng, -0.6, -0.4);
    s->velocity = 0.0;
    mountain_car_continuous_obs(s, obs);
}

static void mountain_car_continuous_step(void *state, rng_t *rng, const float *action, float *obs,
                                         float *reward, bool *terminated)
{
    (void)rng;
    mountain_car_continuous_state *s = state;
    double a = action[0]; /* Gymnasium receives a float32 array; its value is exact in double */
    double force = fmin(fmax(a, MCC_MIN_ACTION), MCC_MAX_ACTION);
    double position = s->position, velocity = s->velocity;
    velocity += force * MCC_POWER - MCC_GRAVITY * cos(3 * position);
    if (velocity > MCC_MAX_SPEED)
        velocity = MCC_MAX_SPEED;
    if (velocity < -MCC_MAX_SPEED)
        velocity = -MCC_MAX_SPEED;
    position += velocity;
    if (position > MCC_MAX_POSITION)
        position = MCC_MAX_POSITION;
    if (position < MCC_MIN_POSITION)
        position = MCC_MIN_POSITION;
    if (position == MCC_MIN_POSITION && velocity < 0) /* inelastic left wall */
        velocity = 0.0;
    *terminated = position >= MCC_GOAL_POSITION && velocity >= MCC_GOAL_VELOCITY;
    /* The action cost uses the unclipped action, as Gymnasium's does. */
    double r = (*terminated ? 100.0 : 0.0) - a * a * 0.1;
    *reward = (float)r;
    s->position = (float)position;
    s->velocity = (float)velocity;
    mountain_car_continuous_obs(s, obs);
}

/* Render state: position, velocity (docs/render-state.md). */
static void mountain_car_continuous_render_state(const void *state, float *out)
{
    mountain_car_continuous_obs(state, out);
}

void mountain_car_continuous_set_state(void *state, const double *values)
{
    mountain_car_continuous_state *s = state;
    s->position = values[0];
    s->velocity = values[1];
}

const env_class mountain_car_continuous_class = {
    .id = "MountainCarContinuous-v0",
    .state_size = sizeof(mountain_car_continuous_state),
    .plain_state = true,
    .init = mountain_car_continuous_init,
    .reset = mountain_car_continuous_reset,
    .step = mountain_car_continuous_step,
    .render_state = mountain_car_continuous_render_state,
};
