/* car_racing_scene: what one CarRacing-v3 observation is drawn from (the track's polygons, the car's
 * bodies, the dashboard values), shared by the env (car_racing.c fills it after every reset and
 * step) and the renderer (car_racing_render.c draws it as Gymnasium's _render("state_pixels") does).
 *
 * Geometry is car_dynamics.py's, in its units: multiply by CR_SIZE for metres. World coordinates
 * are Box2D's (metres, y up). Internal header. */
#ifndef PPO_ENVS_CAR_RACING_SCENE_H
#define PPO_ENVS_CAR_RACING_SCENE_H

#include <stdint.h>

#define CR_STATE_W 96   /* the observation: CR_STATE_H rows of CR_STATE_W RGB pixels */
#define CR_STATE_H 96
#define CR_WINDOW_W 1000 /* the surface Gymnasium draws on before smoothscale to 96 x 96 */
#define CR_WINDOW_H 800

#define CR_SIZE 0.02
#define CR_WHEEL_R 27
#define CR_WHEEL_W 14

/* car_dynamics.py's HULL_POLY1..4 (4, 4, 8 and 4 vertices) and WHEELPOS (front left, front right,
 * rear left, rear right), unscaled. Defined in car_racing_render.c. */
extern const int cr_hull_poly_len[4];
extern const float cr_hull_poly[4][8][2];
extern const float cr_wheel_pos[4][2];

/* One entry of Gymnasium's road_poly: a road tile or a kerb, 4 vertices in its order. */
typedef struct {
    double xy[4][2];
    uint8_t rgb[3]; /* int() of Gymnasium's float colour; a tile's changes to road_color on contact */
} cr_road_poly;

typedef struct {
    double x, y, angle; /* body origin and angle (Box2D's float32 values) */
} cr_pose;

typedef struct {
    double t;                /* env.t: seconds since reset (the zoom animation spans the first one) */
    const cr_road_poly *road; /* road_poly in Gymnasium's order: tile i, then its kerb if it has one */
    int n_road;
    uint8_t bg_rgb[3], grass_rgb[3];
    cr_pose hull;
    double hull_vx, hull_vy;  /* linear velocity: the speed bar */
    double hull_omega;        /* angular velocity: the gyro bar */
    cr_pose wheel[4];         /* WHEELPOS order */
    double wheel_phase[4];    /* car_dynamics' own wheel state: the white stripes */
    double wheel_omega[4];    /* the ABS bars */
    double steer;             /* wheels[0].joint.angle: the steering bar */
    double reward;            /* env.reward, the episode's return so far: the score digits */
} cr_scene;

#endif
