/* The classic-control env classes (Gymnasium's classic_control package) and their test hooks. */
#ifndef PPO_ENVS_CLASSIC_H
#define PPO_ENVS_CLASSIC_H

#include "envs/env_class.h"

extern const env_class cartpole_class;

/* Test hooks: overwrite the physical state with Gymnasium's recorded float64 values. */
void cartpole_set_state(void *state, const double *values); /* x, x_dot, theta, theta_dot */

#endif
