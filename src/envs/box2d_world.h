/* box2d_world: the small C interface over Box2D 2.4.1 that the Box2D envs (lunar_lander.c,
 * bipedal_walker.c, car_racing.c) use. Only what those envs need: one world with a contact callback, static and
 * dynamic bodies with polygon/box/edge fixtures (sensors too), revolute joints with explicit reference
 * angles, forces, impulses, world vectors, a closest-hit ray cast and the awake flag.
 *
 * Not thread-safe per world; distinct worlds may be stepped concurrently from different threads.
 * Implemented in box2d_world.cpp, the project's one C++ file. Internal header. */
#ifndef PPO_ENVS_BOX2D_WORLD_H
#define PPO_ENVS_BOX2D_WORLD_H

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct b2w_world b2w_world;
typedef struct b2w_body b2w_body;   /* a Box2D body; valid until the next b2w_world_clear */
typedef struct b2w_joint b2w_joint; /* a revolute joint; same lifetime */

/* Called from inside b2w_world_step when two fixtures start (begin = true) or stop touching.
 * tag_a, tag_b are the tags the two bodies were created with. */
typedef void (*b2w_contact_fn)(void *ctx, int tag_a, int tag_b, bool begin);

/* A world with gravity (gx, gy), sleeping on, Box2D's defaults otherwise. NULL when out of memory. */
b2w_world *b2w_world_create(float gx, float gy, b2w_contact_fn on_contact, void *ctx);
void b2w_world_destroy(b2w_world *w);
/* Drops every body and joint and starts from a fresh Box2D world (same gravity and callback), so an
 * episode does not depend on the broad-phase state left by the previous one (Gymnasium v3 makes a
 * new b2World per reset for this reason). No callbacks fire. */
void b2w_world_clear(b2w_world *w);
void b2w_world_step(b2w_world *w, float dt, int velocity_iterations, int position_iterations);

/* Fraction along (x1,y1)->(x2,y2) of the closest hit on a fixture whose category has any bit of
 * category_bits set; 1 when nothing is hit. */
float b2w_world_raycast(b2w_world *w, float x1, float y1, float x2, float y2, uint16_t category_bits);

typedef struct {
    float density, friction, restitution;
    uint16_t category_bits, mask_bits;
    bool is_sensor; /* reports contacts (b2w_contact_fn) but exerts no force: CarRacing's road tiles */
} b2w_fixture_def;

/* Box2D's fixture defaults: density 0, friction 0.2, restitution 0, category 0x0001, mask 0xFFFF,
 * not a sensor. */
b2w_fixture_def b2w_fixture_def_default(void);

b2w_body *b2w_body_create(b2w_world *w, bool dynamic, float x, float y, float angle, int tag);
/* Convex polygon from n (3..8) local vertices xy[2n]; Box2D computes the hull as pybox2d does. */
void b2w_body_add_polygon(b2w_body *b, const float *xy, int n, const b2w_fixture_def *fd);
void b2w_body_add_box(b2w_body *b, float half_w, float half_h, const b2w_fixture_def *fd);
void b2w_body_add_edge(b2w_body *b, float x1, float y1, float x2, float y2, const b2w_fixture_def *fd);

typedef struct {
    float x, y, angle;   /* body origin (not the centre of mass) and angle */
    float vx, vy, omega; /* linear velocity of the centre of mass, angular velocity */
} b2w_body_state;

void b2w_body_get(const b2w_body *b, b2w_body_state *out);
bool b2w_body_awake(const b2w_body *b);
/* The body's local vector (lx, ly) in world axes, with Box2D's float32 rotation (GetWorldVector). */
void b2w_body_world_vector(const b2w_body *b, float lx, float ly, float out[2]);
/* All of these wake the body, as Gymnasium's calls (wake=True) do. */
void b2w_body_apply_force_to_center(b2w_body *b, float fx, float fy);
void b2w_body_apply_torque(b2w_body *b, float torque);
void b2w_body_apply_impulse(b2w_body *b, float ix, float iy, float px, float py);

typedef struct {
    b2w_body *a, *b;
    float anchor_a[2], anchor_b[2]; /* local anchors */
    float reference_angle;          /* set explicitly: pybox2d's default is angle_b - angle_a, C++'s is 0 */
    bool enable_motor;
    float motor_speed, max_motor_torque;
    bool enable_limit;
    float lower_angle, upper_angle;
} b2w_revolute_def;

b2w_joint *b2w_revolute_create(b2w_world *w, const b2w_revolute_def *def);
void b2w_joint_set_motor(b2w_joint *j, float speed, float max_torque);
/* Turns the angle limits on or off (Box2D resets the limit impulses when this changes). */
void b2w_joint_enable_limit(b2w_joint *j, bool enable);
float b2w_joint_angle(const b2w_joint *j); /* angle_b - angle_a - reference */
float b2w_joint_speed(const b2w_joint *j); /* omega_b - omega_a */

#ifdef __cplusplus
}
#endif
#endif
