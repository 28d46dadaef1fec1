/* heuristics: Gymnasium's hand-written controllers (lunar_lander.py heuristic(),
 * bipedal_walker.py BipedalWalkerHeuristics), reimplemented for the tests as independent checks of
 * the physics. Test code only. */
#ifndef PPO_TESTS_BOX2D_HEURISTICS_H
#define PPO_TESTS_BOX2D_HEURISTICS_H

#include <math.h>
#include <stdbool.h>

static inline double heur_clip(double v, double lo, double hi) { return v < lo ? lo : v > hi ? hi : v; }

/* Lander: point toward the pad, hover lower as it gets nearer, PD on angle and height.
 * Writes a discrete action into *disc and the continuous one into cont[2]. */
static inline void heur_lander(const float *s, int *disc, float *cont)
{
    double angle_targ = heur_clip(s[0] * 0.5 + s[2] * 1.0, -0.4, 0.4); /* more than 0.4 rad is too much */
    double hover_targ = 0.55 * fabs((double)s[0]);
    double angle_todo = (angle_targ - s[4]) * 0.5 - s[5] * 1.0;
    double hover_todo = (hover_targ - s[1]) * 0.5 - s[3] * 0.5;
    if (s[6] || s[7]) { /* legs down: stop turning, just brake the fall */
        angle_todo = 0.0;
        hover_todo = -s[3] * 0.5;
    }
    cont[0] = (float)heur_clip(hover_todo * 20 - 1, -1.0, 1.0);
    cont[1] = (float)heur_clip(-angle_todo * 20, -1.0, 1.0);
    int a = 0;
    if (hover_todo > fabs(angle_todo) && hover_todo > 0.05)
        a = 2;
    else if (angle_todo < -0.05)
        a = 3;
    else if (angle_todo > +0.05)
        a = 1;
    *disc = a;
}

/* Walker: a three-state gait (stay on one leg, put the other down, push off) with PD joints. */
typedef struct {
    int state, moving_leg, supporting_leg;
    double supporting_knee_angle;
} heur_walker;

enum { HEUR_STAY_ON_ONE_LEG = 1, HEUR_PUT_OTHER_DOWN = 2, HEUR_PUSH_OFF = 3 };
#define HEUR_SPEED 0.29 /* falls forward when faster */
#define HEUR_SUPPORT_KNEE_ANGLE 0.1

static inline void heur_walker_init(heur_walker *h)
{
    h->state = HEUR_STAY_ON_ONE_LEG;
    h->moving_leg = 0;
    h->supporting_leg = 1;
    h->supporting_knee_angle = HEUR_SUPPORT_KNEE_ANGLE;
}

static inline void heur_walker_step(heur_walker *h, const float *s, float *a)
{
    int mb = 4 + 5 * h->moving_leg, sb = 4 + 5 * h->supporting_leg;
    /* NAN = Python's None; a target of 0.0 is also skipped there ("if hip_targ[0]:") */
    double hip_targ[2] = {NAN, NAN}, knee_targ[2] = {NAN, NAN};
    double hip_todo[2] = {0, 0}, knee_todo[2] = {0, 0};
    if (h->state == HEUR_STAY_ON_ONE_LEG) {
        hip_targ[h->moving_leg] = 1.1;
        knee_targ[h->moving_leg] = -0.6;
        h->supporting_knee_angle += 0.03;
        if (s[2] > HEUR_SPEED)
            h->supporting_knee_angle += 0.03;
        h->supporting_knee_angle = fmin(h->supporting_knee_angle, HEUR_SUPPORT_KNEE_ANGLE);
        knee_targ[h->supporting_leg] = h->supporting_knee_angle;
        if (s[sb + 0] < 0.10) /* supporting leg is behind */
            h->state = HEUR_PUT_OTHER_DOWN;
    }
    if (h->state == HEUR_PUT_OTHER_DOWN) {
        hip_targ[h->moving_leg] = +0.1;
        knee_targ[h->moving_leg] = HEUR_SUPPORT_KNEE_ANGLE;
        knee_targ[h->supporting_leg] = h->supporting_knee_angle;
        if (s[mb + 4]) {
            h->state = HEUR_PUSH_OFF;
            h->supporting_knee_angle = fmin(s[mb + 2], HEUR_SUPPORT_KNEE_ANGLE);
        }
    }
    if (h->state == HEUR_PUSH_OFF) {
        knee_targ[h->moving_leg] = h->supporting_knee_angle;
        knee_targ[h->supporting_leg] = +1.0;
        if (s[sb + 2] > 0.88 || s[2] > 1.2 * HEUR_SPEED) {
            h->state = HEUR_STAY_ON_ONE_LEG;
            h->moving_leg = 1 - h->moving_leg;
            h->supporting_leg = 1 - h->moving_leg;
        }
    }
    for (int k = 0; k < 2; k++) {
        int b = 4 + 5 * k;
        if (!isnan(hip_targ[k]) && hip_targ[k] != 0.0)
            hip_todo[k] = 0.9 * (hip_targ[k] - s[b]) - 0.25 * s[b + 1];
        if (!isnan(knee_targ[k]) && knee_targ[k] != 0.0)
            knee_todo[k] = 4.0 * (knee_targ[k] - s[b + 2]) - 0.25 * s[b + 3];
        hip_todo[k] -= 0.9 * (0 - s[0]) - 1.5 * s[1]; /* keep the head level */
        knee_todo[k] -= 15.0 * s[3];                  /* damp vertical oscillation */
    }
    a[0] = (float)heur_clip(0.5 * hip_todo[0], -1.0, 1.0);
    a[1] = (float)heur_clip(0.5 * knee_todo[0], -1.0, 1.0);
    a[2] = (float)heur_clip(0.5 * hip_todo[1], -1.0, 1.0);
    a[3] = (float)heur_clip(0.5 * knee_todo[1], -1.0, 1.0);
}

#endif
