/* registry: every env id ppo knows, in the order `ppo envs` lists them. */
#include "envs/box2d_envs.h"
#include "envs/classic.h"

const env_class *const env_registry[] = {
    &cartpole_class,
    &acrobot_class,
    &mountain_car_class,
    &mountain_car_continuous_class,
    &pendulum_class,
    &lunar_lander_class,
    &lunar_lander_continuous_class,
    &bipedal_walker_class,
    &bipedal_walker_hardcore_class,
    &car_racing_class,
};

const int env_registry_count = (int)(sizeof env_registry / sizeof env_registry[0]);
