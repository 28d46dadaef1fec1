/* MountainCar-v0: a port of Gymnasium's classic_control/mountain_car.py (discrete pushes, float64 state).
 * Constants and equations from that file (Gymnasium 1.4, HEAD 3f0476a8); see docs/envs.md.
 * The continuous variant is mountain_car_continuous.c. */
#include <math.h>

#include "envs/classic.h"

typedef struct {
    double position, velocity;
} mountain_car_state;

#define MC_MIN_POSITION (-1.2)
#define MC_MAX_POSITION 0.6
#define MC_MAX_SPEED 0.07
#define MC_GOAL_POSITION 0.5
#define MC_GOAL_VELOCITY 0.0 /* constructor default goal_velocity=0 */
#define MC_FORCE 0.001
#define MC_GRAVITY 0.0025

static void mountain_car_obs(const mountain_car_state *s, float *obs)
{
    obs[0] = (float)s->position;
    obs[1] = (float)s->velocity;
}

static int mountain_car_init(void *state, ppo_env_spec *spec, env_options *opts, char *err, size_t err_len)
{
    (void)state, (void)opts, (void)err, (void)err_len;
    spec->obs_dim = 2;
    spec->obs_low[0] = (float)MC_MIN_POSITION;
    spec->obs_low[1] = (float)-MC_MAX_SPEED;
    spec->obs_high[0] = (float)MC_MAX_POSITION;
    spec->obs_high[1] = (float)MC_MAX_SPEED;
    spec->action_kind = PPO_ACTION_DISCRETE;
    spec->action_count = 3;
    spec->action_dim = 1;
    spec->max_episode_steps = 200;
    spec->has_reward_threshold = true;
    spec->reward_threshold = -110.0;
    spec->render_dim = 2;
    return PPO_ENV_OK;
}

static void mountain_car_reset(void *state, rng_t *rng, float *obs)
{
    mountain_car_state *s = state;
    s->position = rng_uniform_range(rng, -0.6, -0.4);
    s->velocity = 0.0;
    mountain_car_obs(s, obs);
}

static void mountain_car_step(void *state, rng_t *rng, const float *action, float *obs, float *reward,
                              bool *terminated)
{
    (void)rng;
    mountain_car_state *s = state;
    int a = (int)action[0]; /* 0 push left, 1 none, 2 push right */
    double position = s->position, velocity = s->velocity;
    velocity += (a - 1) * MC_FORCE + cos(3 * position) * (-MC_GRAVITY);
    velocity = fmin(fmax(velocity, -MC_MAX_SPEED), MC_MAX_SPEED);
    position += velocity;
    position = fmin(fmax(position, MC_MIN_POSITION), MC_MAX_POSITION);
    if (position == MC_MIN_POSITION && velocity < 0) /* inelastic left wall */
        velocity = 0.0;
    s->position = position;
    s->velocity = velocity;
    mountain_car_obs(s, obs);
    *terminated = position >= MC_GOAL_POSITION && velocity >= MC_GOAL_VELOCITY;
    *reward = -1.0f; /* the terminating step included */
}

/* Render state: position, velocity (docs/render-state.md). */
static void mountain_car_render_state(const void *state, float *out) { mountain_car_obs(state, out); }

void mountain_car_set_state(void *state, const double *values)
{
    mountain_car_state *s = state;
    s->position = values[0];
    s->velocity = values[1];
}

const env_class mountain_car_class = {
    .id = "MountainCar-v0",
    .state_size = sizeof(mountain_car_state),
    .plain_state = true,
    .init = mountain_car_init,
    .reset = mountain_car_reset,
    .step = mountain_car_step,
    .render_state = mountain_car_render_state,
};
