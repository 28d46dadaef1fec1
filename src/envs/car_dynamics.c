/* car_dynamics: the car of CarRacing-v3, ported from Gymnasium's box2d/car_dynamics.py (constants,
 * shapes and the per-wheel force model from that file; the arithmetic kept in its order and in
 * float64, Box2D's values read as float32 as pybox2d hands them over). */
#include "envs/car_dynamics.h"

#include <math.h>

#define CD_SIZE 0.02
/* Written as car_dynamics.py evaluates them (left to right), so the doubles are the same. */
#define CD_ENGINE_POWER (100000000 * CD_SIZE * CD_SIZE)
#define CD_WHEEL_MOMENT_OF_INERTIA (4000 * CD_SIZE * CD_SIZE)
#define CD_FRICTION_LIMIT (1000000 * CD_SIZE * CD_SIZE) /* friction ~ mass ~ size^2 */
#define CD_WHEEL_R 27
#define CD_WHEEL_W 14
#define CD_BRAKE_FORCE 15.0 /* rad/s per step at full brake */

static const int hull_len[4] = {4, 4, 8, 4};
static const double hull_poly[4][8][2] = {
    {{-60, +130}, {+60, +130}, {+60, +110}, {-60, +110}},
    {{-15, +120}, {+15, +120}, {+20, +20}, {-20, 20}},
    {{+25, +20}, {+50, -10}, {+50, -40}, {+20, -90}, {-20, -90}, {-50, -40}, {-50, -10}, {-25, +20}},
    {{-50, -120}, {+50, -120}, {+50, -90}, {-50, -90}},
};
static const double wheel_pos[4][2] = {{-55, +80}, {+55, +80}, {-55, -82}, {+55, -82}};

static double sign(double x) { return x > 0.0 ? 1.0 : x < 0.0 ? -1.0 : x; } /* np.sign (NaN stays NaN) */

void cr_car_create(cr_car *car, b2w_world *w, double angle, double x, double y, int hull_tag, int wheel_tag0)
{
    car->fuel_spent = 0.0;
    car->hull = b2w_body_create(w, true, (float)x, (float)y, (float)angle, hull_tag);
    b2w_fixture_def fd = b2w_fixture_def_default();
    fd.density = 1.0f;
    for (int p = 0; p < 4; p++) {
        float v[16];
        for (int i = 0; i < hull_len[p]; i++) {
            v[2 * i] = (float)(hull_poly[p][i][0] * CD_SIZE);
            v[2 * i + 1] = (float)(hull_poly[p][i][1] * CD_SIZE);
        }
        b2w_body_add_polygon(car->hull, v, hull_len[p], &fd);
    }
    static const double wheel_poly[4][2] = {
        {-CD_WHEEL_W, +CD_WHEEL_R}, {+CD_WHEEL_W, +CD_WHEEL_R}, {+CD_WHEEL_W, -CD_WHEEL_R}, {-CD_WHEEL_W, -CD_WHEEL_R}};
    for (int k = 0; k < 4; k++) {
        const double wx = wheel_pos[k][0], wy = wheel_pos[k][1];
        const double front_k = 1.0; /* car_dynamics.py: 1.0 for front and rear alike */
        cr_wheel *wh = &car->wheels[k];
        /* placed at the unrotated offset, as Gymnasium does; the joint pulls it in on the first step */
        wh->body = b2w_body_create(w, true, (float)(x + wx * CD_SIZE), (float)(y + wy * CD_SIZE), (float)angle,
                                   wheel_tag0 + k);
        float v[8];
        for (int i = 0; i < 4; i++) {
            v[2 * i] = (float)(wheel_poly[i][0] * front_k * CD_SIZE);
            v[2 * i + 1] = (float)(wheel_poly[i][1] * front_k * CD_SIZE);
        }
        b2w_fixture_def wf = b2w_fixture_def_default();
        wf.density = 0.1f;
        wf.category_bits = 0x0020;
        wf.mask_bits = 0x0001;
        wf.restitution = 0.0f;
        b2w_body_add_polygon(wh->body, v, 4, &wf);
        wh->wheel_rad = front_k * CD_WHEEL_R * CD_SIZE;
        wh->gas = wh->brake = wh->steer = wh->phase = wh->omega = 0.0;
        wh->n_tiles = 0;
        b2w_revolute_def jd = {
            .a = car->hull,
            .b = wh->body,
            .anchor_a = {(float)(wx * CD_SIZE), (float)(wy * CD_SIZE)},
            .anchor_b = {0.0f, 0.0f},
            .reference_angle = 0.0f, /* pybox2d's default, angle_b - angle_a, is 0 here */
            .enable_motor = true,
            .motor_speed = 0.0f,
            .max_motor_torque = (float)(180 * 900 * CD_SIZE * CD_SIZE),
            .enable_limit = true,
            .lower_angle = -0.4f,
            .upper_angle = +0.4f,
        };
        wh->joint = b2w_revolute_create(w, &jd);
    }
}

void cr_car_gas(cr_car *car, double gas)
{
    gas = fmin(fmax(gas, 0.0), 1.0);
    for (int k = 2; k < 4; k++) {
        double diff = gas - car->wheels[k].gas;
        if (diff > 0.1)
            diff = 0.1; /* gradually increase, but stop immediately */
        car->wheels[k].gas += diff;
    }
}

void cr_car_brake(cr_car *car, double brake)
{
    for (int k = 0; k < 4; k++)
        car->wheels[k].brake = brake;
}

void cr_car_steer(cr_car *car, double steer)
{
    car->wheels[0].steer = steer;
    car->wheels[1].steer = steer;
}

void cr_car_step(cr_car *car, double dt)
{
    for (int k = 0; k < 4; k++) {
        cr_wheel *w = &car->wheels[k];
        const double angle = (double)b2w_joint_angle(w->joint);
        /* Box2D 2.3 (Gymnasium's) looks at the limit only when a step starts at or past it and lets the
         * joint run past it during a step that starts inside (then keeps up to 2 degrees of overshoot);
         * 2.4.1's speculative limit stops it at the limit. Switching the limit per step as 2.3 would
         * keeps the steering within 1e-5 rad of Gymnasium's (without: 0.026 rad off from the first
         * full lock, test_box2d_car_racing_golden). */
        b2w_joint_enable_limit(w->joint, !(angle > -0.4 && angle < 0.4));
        const double dir = sign(w->steer - angle), val = fabs(w->steer - angle);
        b2w_joint_set_motor(w->joint, (float)(dir * fmin(50.0 * val, 3.0)), (float)(180 * 900 * CD_SIZE * CD_SIZE));

        /* grass unless a tile is under the wheel; every tile's road_friction is 1.0 */
        const double friction_limit = w->n_tiles > 0 ? fmax(CD_FRICTION_LIMIT * 0.6, CD_FRICTION_LIMIT * 1.0)
                                                     : CD_FRICTION_LIMIT * 0.6;
        float forw[2], side[2];
        b2w_body_world_vector(w->body, 0.0f, 1.0f, forw);
        b2w_body_world_vector(w->body, 1.0f, 0.0f, side);
        b2w_body_state st;
        b2w_body_get(w->body, &st);
        const double v0 = (double)st.vx, v1 = (double)st.vy;
        const double vf = (double)forw[0] * v0 + (double)forw[1] * v1; /* forward speed */
        const double vs = (double)side[0] * v0 + (double)side[1] * v1; /* side speed */

        w->omega += dt * CD_ENGINE_POWER * w->gas / CD_WHEEL_MOMENT_OF_INERTIA / (fabs(w->omega) + 5.0);
        car->fuel_spent += dt * CD_ENGINE_POWER * w->gas;

        if (w->brake >= 0.9) {
            w->omega = 0.0;
        } else if (w->brake > 0.0) {
            const double bdir = -sign(w->omega);
            double bval = CD_BRAKE_FORCE * w->brake;
            if (fabs(bval) > fabs(w->omega))
                bval = fabs(w->omega); /* low speed => same as = 0 */
            w->omega += bdir * bval;
        }
        w->phase += w->omega * dt;

        const double vr = w->omega * w->wheel_rad; /* rotating wheel speed */
        double f_force = -vf + vr;                 /* along the speed difference */
        double p_force = -vs;
        f_force *= 205000 * CD_SIZE * CD_SIZE;
        p_force *= 205000 * CD_SIZE * CD_SIZE;
        double force = sqrt(f_force * f_force + p_force * p_force);
        if (fabs(force) > friction_limit) {
            f_force /= force;
            p_force /= force;
            force = friction_limit;
            f_force *= force;
            p_force *= force;
        }
        w->omega -= dt * f_force * w->wheel_rad / CD_WHEEL_MOMENT_OF_INERTIA;
        b2w_body_apply_force_to_center(w->body, (float)(p_force * (double)side[0] + f_force * (double)forw[0]),
                                       (float)(p_force * (double)side[1] + f_force * (double)forw[1]));
    }
}
