/* The classic-control env classes (Gymnasium's classic_control package) and their test hooks. */
#ifndef PPO_ENVS_CLASSIC_H
#define PPO_ENVS_CLASSIC_H

#include "envs/env_class.h"

extern const env_class cartpole_class;
extern const env_class acrobot_class;
extern const env_class mountain_car_class;
extern const env_class mountain_car_continuous_class;
extern const env_class pendulum_class;

/* Test hooks: overwrite the physical state with Gymnasium's recorded float64 values (env->state,
 * i.e. env_state(env)). The episode counters and the RNG are left alone. */
void cartpole_set_state(void *state, const double *values);     /* x, x_dot, theta, theta_dot */
void acrobot_set_state(void *state, const double *values);      /* theta1, theta2, dtheta1, dtheta2 */
void mountain_car_set_state(void *state, const double *values); /* position, velocity */
void mountain_car_continuous_set_state(void *state, const double *values); /* position, velocity */
void pendulum_set_state(void *state, const double *values);     /* theta, theta_dot */

#endif
