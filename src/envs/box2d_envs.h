/* The Box2D env classes (Gymnasium's box2d package) and their test hooks. Internal header. */
#ifndef PPO_ENVS_BOX2D_ENVS_H
#define PPO_ENVS_BOX2D_ENVS_H

#include "envs/env_class.h"

extern const env_class lunar_lander_class;            /* LunarLander-v3 */
extern const env_class lunar_lander_continuous_class; /* LunarLanderContinuous-v3 = continuous=1 */
extern const env_class bipedal_walker_class;          /* BipedalWalker-v3 */
extern const env_class bipedal_walker_hardcore_class; /* BipedalWalkerHardcore-v3 = hardcore=1 */
extern const env_class car_racing_class;              /* CarRacing-v3 (image observations) */

/* Test hooks (golden traces): from now on every random draw the env would make is taken, in order,
 * from draws[0..n) instead (the values Gymnasium's np_random returned: uniform outputs, integers as
 * doubles, random() outputs). The array must outlive its use; a draw past n is taken from the RNG
 * and counted. NULL turns replay off. *_replay_used tells how many were consumed, *_replay_overrun
 * how many had to come from the RNG. */
void lander_set_replay(void *state, const double *draws, int n);
int lander_replay_used(const void *state);
int lander_replay_overrun(const void *state);
void walker_set_replay(void *state, const double *draws, int n);
int walker_replay_used(const void *state);
int walker_replay_overrun(const void *state);

/* The last reset's terrain, for tests: LunarLander's 11 chunk points (x, y as float32, as Box2D
 * stores them); BipedalWalker's 200 terrain points in float64 (x[200], y[200]). */
void lander_terrain(const void *state, float *xy22);
void walker_terrain(const void *state, double *x200, double *y200);
/* The last reset's obstacle boxes (hardcore) as x1, y1, x2, y2 in float32; returns how many there are
 * and writes at most max of them. */
int walker_obstacles(const void *state, float *rects, int max);

/* Box2D facts the reward tests need: the lander's last step used m_power/s_power (0 when off), the
 * shaping value of the last step, whether the lander body is awake, and game_over. */
typedef struct {
    double m_power, s_power, shaping;
    bool awake, game_over;
} lander_debug;
void lander_get_debug(const void *state, lander_debug *out);

typedef struct {
    double hull_x, shaping;
    bool game_over;
} walker_debug;
void walker_get_debug(const void *state, walker_debug *out);

/* CarRacing-v3 (car_racing.c). Replay as above; the reset draws are Gymnasium's: with domain_randomize
 * 3 road, 3 background colour uniforms and integers(3), then per track attempt 12 x (noise, rad). */
void car_racing_set_replay(void *state, const double *draws, int n);
int car_racing_replay_used(const void *state);
int car_racing_replay_overrun(const void *state);
/* The last reset's track (env.track): alpha, beta, x, y per point into abxy[4 * max]; returns the
 * number of points (= road tiles). */
int car_racing_track(const void *state, double *abxy, int max);

typedef struct {
    double hull[6];     /* x, y, angle, vx, vy, omega (Box2D's float32 values) */
    double wheel[4][5]; /* x, y, angle, phase, omega per wheel, WHEELPOS order */
    double steer_angle; /* wheels[0].joint.angle */
    double gas[4], brake[4], steer[4];
    int wheel_tiles[4]; /* road tiles under each wheel */
    int tile_visited_count, n_track, n_road;
    double reward;      /* env.reward: the episode's return so far */
    double fuel_spent;
    bool new_lap;
} car_racing_debug;
void car_racing_get_debug(const void *state, car_racing_debug *out);

#endif
