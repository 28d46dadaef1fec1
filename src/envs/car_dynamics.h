/* car_dynamics: CarRacing's car, a port of Gymnasium's box2d/car_dynamics.py (Car): a hull of 4
 * polygons and 4 wheels on revolute joints (motor steering within +-0.4 rad), rear-wheel drive, and
 * car_dynamics' own tyre model (wheel omega and phase, friction limit from the tiles under a wheel).
 * Skid particles are render-only in Gymnasium and left out (they draw no random numbers and do not
 * touch the physics). Internal header. */
#ifndef PPO_ENVS_CAR_DYNAMICS_H
#define PPO_ENVS_CAR_DYNAMICS_H

#include "envs/box2d_world.h"

typedef struct {
    b2w_body *body;
    b2w_joint *joint;
    double gas, brake, steer; /* controls as car_dynamics stores them on the wheel */
    double phase, omega;      /* the wheel's own rotation (rad, rad/s), not a Box2D quantity */
    double wheel_rad;
    int n_tiles; /* road tiles under the wheel: Gymnasium's w.tiles set (every tile has friction 1) */
} cr_wheel;

typedef struct {
    b2w_body *hull;
    cr_wheel wheels[4]; /* front left, front right, rear left, rear right (WHEELPOS) */
    double fuel_spent;
} cr_car;

/* Builds the car in w at (x, y) with hull angle `angle`; body tags hull_tag for the hull and
 * wheel_tag0 + k for wheel k (for the contact callback). */
void cr_car_create(cr_car *car, b2w_world *w, double angle, double x, double y, int hull_tag, int wheel_tag0);
void cr_car_gas(cr_car *car, double gas);     /* rear wheels; clipped to [0, 1], rises by <= 0.1 a call */
void cr_car_brake(cr_car *car, double brake); /* >= 0.9 blocks the wheels */
void cr_car_steer(cr_car *car, double steer); /* front wheels' target joint angle */
/* Sets the steering motors and applies the tyre forces for one step of dt (before the world steps). */
void cr_car_step(cr_car *car, double dt);

#endif
