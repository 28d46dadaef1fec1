/* BipedalWalker-v3 and BipedalWalkerHardcore-v3: a port of Gymnasium's box2d/bipedal_walker.py
 * (constants, terrain generator, bodies, motors, lidar, observation, reward and endings from that
 * file; see shared/reference/gymnasium-envs.md §5). Physics through box2d_world.h on Box2D 2.4.1.
 * Clouds are render-only: not built, but their random draws are made to keep the stream. Not the
 * heuristic walker: that lives in the tests. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "envs/box2d_envs.h"
#include "envs/box2d_world.h"

#define BW_FPS 50.0
#define BW_SCALE 30.0
#define BW_MOTORS_TORQUE 80.0
#define BW_SPEED_HIP 4.0
#define BW_SPEED_KNEE 6.0
#define BW_LIDAR_RANGE (160.0 / BW_SCALE)
#define BW_INITIAL_RANDOM 5.0
#define BW_LEG_DOWN (-8.0 / BW_SCALE)
#define BW_LEG_W (8.0 / BW_SCALE)
#define BW_LEG_H (34.0 / BW_SCALE)
#define BW_VIEWPORT_W 600.0
#define BW_VIEWPORT_H 400.0
#define BW_TERRAIN_STEP (14.0 / BW_SCALE)
#define BW_TERRAIN_LENGTH 200
#define BW_TERRAIN_HEIGHT (BW_VIEWPORT_H / BW_SCALE / 4)
#define BW_TERRAIN_GRASS 10
#define BW_TERRAIN_STARTPAD 20
#define BW_FRICTION 2.5
#define BW_MAX_RECTS 128 /* obstacle boxes per episode; hardcore makes at most about 50 */
#define BW_WINDOW 48     /* terrain points in the render window: 22.4 m, the 20 m view plus margin */
#define BW_WINDOW_RECTS 16
#define BW_RENDER_DIM (28 + 2 * BW_WINDOW + 1 + 4 * BW_WINDOW_RECTS)

/* Pixels; divided by SCALE when the fixture is made (bipedal_walker.py HULL_POLY). */
static const double walker_hull_poly[5][2] = {{-30, 9}, {6, 9}, {34, 1}, {34, -8}, {-30, -8}};

enum { WALKER_TAG_TERRAIN = 0, WALKER_TAG_HULL = 1, WALKER_TAG_LEG0 = 2 }; /* legs are 2..5 */
enum { WALKER_GRASS = 0, WALKER_STUMP = 1, WALKER_STAIRS = 2, WALKER_PIT = 3, WALKER_STATES = 4 };

typedef struct {
    bool hardcore;
    b2w_world *world;
    b2w_body *hull, *legs[4];  /* upper(-1), lower(-1), upper(+1), lower(+1) */
    b2w_joint *joints[4];      /* hip(-1), knee(-1), hip(+1), knee(+1) */
    bool game_over, contact[4]; /* contact is tracked for the lower legs (1 and 3) only */
    bool has_prev_shaping;
    double prev_shaping, shaping;
    double terrain_x[BW_TERRAIN_LENGTH], terrain_y[BW_TERRAIN_LENGTH];
    int n_rects;
    float rects[BW_MAX_RECTS][4]; /* obstacle boxes: x1, y1, x2, y2 */
    float lidar[10];
    const double *replay;
    int replay_len, replay_pos, replay_overrun;
} walker_state;

static double walker_draw(walker_state *s, bool *from_replay)
{
    *from_replay = false;
    if (s->replay) {
        if (s->replay_pos < s->replay_len) {
            *from_replay = true;
            return s->replay[s->replay_pos++];
        }
        s->replay_overrun++;
    }
    return 0.0;
}

static double walker_uniform(walker_state *s, rng_t *rng, double lo, double hi)
{
    bool hit;
    double v = walker_draw(s, &hit);
    return hit ? v : rng_uniform_range(rng, lo, hi);
}

/* numpy's integers(lo, hi): hi exclusive. */
static int walker_integers(walker_state *s, rng_t *rng, int lo, int hi)
{
    bool hit;
    double v = walker_draw(s, &hit);
    return hit ? (int)v : lo + (int)rng_below(rng, (uint32_t)(hi - lo));
}

static double walker_random(walker_state *s, rng_t *rng)
{
    bool hit;
    double v = walker_draw(s, &hit);
    return hit ? v : rng_uniform(rng);
}

static void walker_on_contact(void *ctx, int tag_a, int tag_b, bool begin)
{
    walker_state *s = ctx;
    if (begin && (tag_a == WALKER_TAG_HULL || tag_b == WALKER_TAG_HULL))
        s->game_over = true;
    for (int k = 1; k < 4; k += 2) /* only the lower legs report ground contact */
        if (tag_a == WALKER_TAG_LEG0 + k || tag_b == WALKER_TAG_LEG0 + k)
            s->contact[k] = begin;
}

static int walker_init(void *state, ppo_env_spec *spec, env_options *opts, char *err, size_t err_len)
{
    walker_state *s = state;
    if (env_options_get_bool(opts, "hardcore", &s->hardcore, err, err_len))
        return PPO_ENV_EINVAL;
    s->world = b2w_world_create(0.0f, -10.0f, walker_on_contact, s); /* pybox2d's default gravity */
    if (!s->world) {
        if (err && err_len)
            snprintf(err, err_len, "out of memory creating the Box2D world");
        return PPO_ENV_ENOMEM;
    }
    const float pi = (float)M_PI;
    const float high[14] = {pi, 5, 5, 5, pi, 5, pi, 5, 5, pi, 5, pi, 5, 5};
    const float low[14] = {-pi, -5, -5, -5, -pi, -5, -pi, -5, -0.0f, -pi, -5, -pi, -5, -0.0f};
    spec->obs_dim = 24;
    for (int i = 0; i < 24; i++) {
        spec->obs_low[i] = i < 14 ? low[i] : -1.0f;
        spec->obs_high[i] = i < 14 ? high[i] : 1.0f;
    }
    spec->action_kind = PPO_ACTION_CONTINUOUS;
    spec->action_count = 0;
    spec->action_dim = 4;
    for (int i = 0; i < 4; i++) {
        spec->action_low[i] = -1.0f;
        spec->action_high[i] = 1.0f;
    }
    /* The limit belongs to the registered id, as in Gymnasium: BipedalWalker-v3 with hardcore=1 keeps 1600. */
    spec->max_episode_steps = strcmp(spec->id, "BipedalWalkerHardcore-v3") ? 1600 : 2000;
    spec->has_reward_threshold = true;
    spec->reward_threshold = 300.0;
    spec->render_dim = BW_RENDER_DIM;
    return PPO_ENV_OK;
}

static void walker_destroy(void *state)
{
    walker_state *s = state;
    b2w_world_destroy(s->world);
    s->world = NULL;
}

/* A static box with corners (x1, y1), (x2, y2) listed as Gymnasium lists them (the hull Box2D
 * computes from them starts at the same corner either way). */
static void walker_add_box(walker_state *s, double poly[4][2])
{
    b2w_fixture_def fd = b2w_fixture_def_default();
    fd.friction = (float)BW_FRICTION;
    float xy[8];
    for (int i = 0; i < 4; i++) {
        xy[2 * i] = (float)poly[i][0];
        xy[2 * i + 1] = (float)poly[i][1];
    }
    b2w_body *b = b2w_body_create(s->world, false, 0.0f, 0.0f, 0.0f, WALKER_TAG_TERRAIN);
    b2w_body_add_polygon(b, xy, 4, &fd);
    if (s->n_rects < BW_MAX_RECTS) {
        float *r = s->rects[s->n_rects++];
        r[0] = fminf(xy[0], fminf(xy[2], xy[4]));
        r[1] = fminf(xy[1], fminf(xy[3], xy[5]));
        r[2] = fmaxf(xy[0], fmaxf(xy[2], xy[4]));
        r[3] = fmaxf(xy[1], fmaxf(xy[3], xy[5]));
    }
}

static double walker_sign(double v) { return v > 0.0 ? 1.0 : v < 0.0 ? -1.0 : 0.0; }

/* Gymnasium's _generate_terrain: a state machine over 200 points; draws in its exact order. */
static void walker_generate_terrain(walker_state *s, rng_t *rng)
{
    const double TS = BW_TERRAIN_STEP;
    int state = WALKER_GRASS, counter = BW_TERRAIN_STARTPAD;
    double velocity = 0.0, y = BW_TERRAIN_HEIGHT, original_y = 0.0;
    bool oneshot = false;
    int stair_steps = 0, stair_width = 0, stair_height = 0;
    s->n_rects = 0;
    for (int i = 0; i < BW_TERRAIN_LENGTH; i++) {
        double x = i * TS;
        s->terrain_x[i] = x;
        if (state == WALKER_GRASS && !oneshot) {
            velocity = 0.8 * velocity + 0.01 * walker_sign(BW_TERRAIN_HEIGHT - y);
            if (i > BW_TERRAIN_STARTPAD)
                velocity += walker_uniform(s, rng, -1.0, 1.0) / BW_SCALE;
            y += velocity;
        } else if (state == WALKER_PIT && oneshot) {
            counter = walker_integers(s, rng, 3, 5);
            double poly[4][2] = {{x, y}, {x + TS, y}, {x + TS, y - 4 * TS}, {x, y - 4 * TS}};
            walker_add_box(s, poly);
            for (int k = 0; k < 4; k++)
                poly[k][0] += TS * counter;
            walker_add_box(s, poly);
            counter += 2;
            original_y = y;
        } else if (state == WALKER_PIT && !oneshot) {
            y = original_y;
            if (counter > 1)
                y -= 4 * TS;
        } else if (state == WALKER_STUMP && oneshot) {
            counter = walker_integers(s, rng, 1, 3);
            double poly[4][2] = {
                {x, y}, {x + counter * TS, y}, {x + counter * TS, y + counter * TS}, {x, y + counter * TS}};
            walker_add_box(s, poly);
        } else if (state == WALKER_STAIRS && oneshot) {
            stair_height = walker_random(s, rng) > 0.5 ? 1 : -1;
            stair_width = walker_integers(s, rng, 4, 5); /* always 4, but it is a draw */
            stair_steps = walker_integers(s, rng, 3, 5);
            original_y = y;
            for (int st = 0; st < stair_steps; st++) {
                double poly[4][2] = {
                    {x + (st * stair_width) * TS, y + (st * stair_height) * TS},
                    {x + ((1 + st) * stair_width) * TS, y + (st * stair_height) * TS},
                    {x + ((1 + st) * stair_width) * TS, y + (-1 + st * stair_height) * TS},
                    {x + (st * stair_width) * TS, y + (-1 + st * stair_height) * TS},
                };
                walker_add_box(s, poly);
            }
            counter = stair_steps * stair_width;
        } else if (state == WALKER_STAIRS && !oneshot) {
            int st = stair_steps * stair_width - counter - stair_height;
            double n = (double)st / stair_width; /* Python 3 true division: a ramp inside the steps */
            y = original_y + (n * stair_height) * TS;
        }
        oneshot = false;
        s->terrain_y[i] = y;
        counter--;
        if (counter == 0) {
            counter = walker_integers(s, rng, BW_TERRAIN_GRASS / 2, BW_TERRAIN_GRASS);
            if (state == WALKER_GRASS && s->hardcore)
                state = walker_integers(s, rng, 1, WALKER_STATES);
            else
                state = WALKER_GRASS;
            oneshot = true;
        }
    }
    b2w_fixture_def fd = b2w_fixture_def_default();
    fd.friction = (float)BW_FRICTION;
    fd.category_bits = 0x0001;
    for (int i = 0; i < BW_TERRAIN_LENGTH - 1; i++) {
        b2w_body *b = b2w_body_create(s->world, false, 0.0f, 0.0f, 0.0f, WALKER_TAG_TERRAIN);
        b2w_body_add_edge(b, (float)s->terrain_x[i], (float)s->terrain_y[i], (float)s->terrain_x[i + 1],
                          (float)s->terrain_y[i + 1], &fd);
    }
}

/* The clouds are render-only; only their draws matter: per cloud x, then 5 vertex jitters (x, y). */
static void walker_skip_clouds(walker_state *s, rng_t *rng)
{
    for (int c = 0; c < BW_TERRAIN_LENGTH / 20; c++) {
        (void)walker_uniform(s, rng, 0.0, BW_TERRAIN_LENGTH);
        for (int a = 0; a < 10; a++)
            (void)walker_uniform(s, rng, 0.0, 5 * BW_TERRAIN_STEP);
    }
}

static void walker_advance(walker_state *s, const float *action, float *obs, float *reward, bool *terminated)
{
    static const double speed[4] = {BW_SPEED_HIP, BW_SPEED_KNEE, BW_SPEED_HIP, BW_SPEED_KNEE};
    double cost = 0.0;
    for (int j = 0; j < 4; j++) {
        /* a torque-limited velocity servo aimed at full speed: sign picks the direction, |a| the torque */
        double a = action[j], mag = fmin(fabs(a), 1.0);
        b2w_joint_set_motor(s->joints[j], (float)(speed[j] * walker_sign(a)), (float)(BW_MOTORS_TORQUE * mag));
        cost += 0.00035 * BW_MOTORS_TORQUE * mag;
    }

    b2w_world_step(s->world, (float)(1.0 / BW_FPS), 6 * 30, 2 * 30);

    b2w_body_state h;
    b2w_body_get(s->hull, &h);
    for (int i = 0; i < 10; i++) {
        double ang = 1.5 * i / 10.0;
        s->lidar[i] = b2w_world_raycast(s->world, h.x, h.y, (float)((double)h.x + sin(ang) * BW_LIDAR_RANGE),
                                        (float)((double)h.y - cos(ang) * BW_LIDAR_RANGE), 0x0001);
    }

    double st[24];
    st[0] = h.angle;
    st[1] = 2.0 * (double)h.omega / BW_FPS;
    st[2] = 0.3 * (double)h.vx * (BW_VIEWPORT_W / BW_SCALE) / BW_FPS; /* normalised to about -1..1 */
    st[3] = 0.3 * (double)h.vy * (BW_VIEWPORT_H / BW_SCALE) / BW_FPS;
    for (int k = 0; k < 2; k++) {
        st[4 + 5 * k] = b2w_joint_angle(s->joints[2 * k]);
        st[5 + 5 * k] = (double)b2w_joint_speed(s->joints[2 * k]) / BW_SPEED_HIP;
        st[6 + 5 * k] = (double)b2w_joint_angle(s->joints[2 * k + 1]) + 1.0;
        st[7 + 5 * k] = (double)b2w_joint_speed(s->joints[2 * k + 1]) / BW_SPEED_KNEE;
        st[8 + 5 * k] = s->contact[2 * k + 1] ? 1.0 : 0.0;
    }
    for (int i = 0; i < 10; i++)
        st[14 + i] = s->lidar[i];
    for (int i = 0; i < 24; i++)
        obs[i] = (float)st[i];

    /* 130 per terrain-length walked (about 300 at the end), minus keeping the head level */
    double shaping = 130.0 * (double)h.x / BW_SCALE;
    shaping -= 5.0 * fabs(st[0]);
    double r = s->has_prev_shaping ? shaping - s->prev_shaping : 0.0;
    s->prev_shaping = s->shaping = shaping;
    s->has_prev_shaping = true;
    r -= cost;

    bool done = false;
    if (s->game_over || h.x < 0.0f) {
        r = -100.0;
        done = true;
    }
    if ((double)h.x > (BW_TERRAIN_LENGTH - BW_TERRAIN_GRASS) * BW_TERRAIN_STEP)
        done = true;
    *reward = (float)r;
    *terminated = done;
}

static void walker_reset(void *state, rng_t *rng, float *obs)
{
    walker_state *s = state;
    /* A fresh world per episode (Gymnasium keeps one and destroys the bodies; this makes an episode
     * independent of the previous one's broad-phase state, at no cost in faithfulness). */
    b2w_world_clear(s->world);
    s->game_over = false;
    memset(s->contact, 0, sizeof s->contact);
    s->has_prev_shaping = false;
    s->prev_shaping = s->shaping = 0.0;

    walker_generate_terrain(s, rng);
    walker_skip_clouds(s, rng);

    const double init_x = BW_TERRAIN_STEP * BW_TERRAIN_STARTPAD / 2;
    const double init_y = BW_TERRAIN_HEIGHT + 2 * BW_LEG_H;
    s->hull = b2w_body_create(s->world, true, (float)init_x, (float)init_y, 0.0f, WALKER_TAG_HULL);
    float poly[10];
    for (int i = 0; i < 5; i++) {
        poly[2 * i] = (float)(walker_hull_poly[i][0] / BW_SCALE);
        poly[2 * i + 1] = (float)(walker_hull_poly[i][1] / BW_SCALE);
    }
    b2w_fixture_def fd = b2w_fixture_def_default();
    fd.density = 5.0f;
    fd.friction = 0.1f;
    fd.category_bits = 0x0020;
    fd.mask_bits = 0x0001; /* collide only with the ground */
    b2w_body_add_polygon(s->hull, poly, 5, &fd);
    b2w_body_apply_force_to_center(s->hull, (float)walker_uniform(s, rng, -BW_INITIAL_RANDOM, BW_INITIAL_RANDOM),
                                   0.0f);

    fd.density = 1.0f;
    fd.friction = b2w_fixture_def_default().friction;
    for (int k = 0; k < 2; k++) {
        const int i = k == 0 ? -1 : 1;
        const float angle = (float)(i * 0.05);
        b2w_body *upper = b2w_body_create(s->world, true, (float)init_x, (float)(init_y - BW_LEG_H / 2 - BW_LEG_DOWN),
                                          angle, WALKER_TAG_LEG0 + 2 * k);
        b2w_body_add_box(upper, (float)(BW_LEG_W / 2), (float)(BW_LEG_H / 2), &fd);
        b2w_revolute_def hip = {
            .a = s->hull,
            .b = upper,
            .anchor_a = {0.0f, (float)BW_LEG_DOWN},
            .anchor_b = {0.0f, (float)(BW_LEG_H / 2)},
            .reference_angle = angle - 0.0f, /* pybox2d: angle_b - angle_a */
            .enable_motor = true,
            .motor_speed = (float)i,
            .max_motor_torque = (float)BW_MOTORS_TORQUE,
            .enable_limit = true,
            .lower_angle = -0.8f,
            .upper_angle = 1.1f,
        };
        s->legs[2 * k] = upper;
        s->joints[2 * k] = b2w_revolute_create(s->world, &hip);

        b2w_body *lower = b2w_body_create(s->world, true, (float)init_x,
                                          (float)(init_y - BW_LEG_H * 3 / 2 - BW_LEG_DOWN), angle,
                                          WALKER_TAG_LEG0 + 2 * k + 1);
        b2w_body_add_box(lower, (float)(0.8 * BW_LEG_W / 2), (float)(BW_LEG_H / 2), &fd);
        b2w_revolute_def knee = {
            .a = upper,
            .b = lower,
            .anchor_a = {0.0f, (float)(-BW_LEG_H / 2)},
            .anchor_b = {0.0f, (float)(BW_LEG_H / 2)},
            .reference_angle = angle - angle,
            .enable_motor = true,
            .motor_speed = 1.0f,
            .max_motor_torque = (float)BW_MOTORS_TORQUE,
            .enable_limit = true,
            .lower_angle = -1.6f,
            .upper_angle = -0.1f,
        };
        s->legs[2 * k + 1] = lower;
        s->joints[2 * k + 1] = b2w_revolute_create(s->world, &knee);
    }

    /* Gymnasium returns the observation of step([0, 0, 0, 0]). */
    const float noop[4] = {0};
    float r;
    bool done;
    walker_advance(s, noop, obs, &r, &done);
}

static void walker_step(void *state, rng_t *rng, const float *action, float *obs, float *reward, bool *terminated)
{
    (void)rng;
    walker_advance(state, action, obs, reward, terminated);
}

/* Layout in docs/render-state.md (Box2D section): bodies, contacts, lidar, then the terrain in a
 * window of BW_WINDOW points around Gymnasium's view (scroll = hull x - 4 m, 20 m wide) and the
 * obstacle boxes that reach into it. */
static void walker_render_state(const void *state, float *out)
{
    const walker_state *s = state;
    memset(out, 0, BW_RENDER_DIM * sizeof *out);
    if (!s->hull)
        return;
    b2w_body_state b;
    b2w_body_get(s->hull, &b);
    out[0] = b.x, out[1] = b.y, out[2] = b.angle;
    for (int k = 0; k < 4; k++) {
        b2w_body_get(s->legs[k], &b);
        out[3 + 3 * k] = b.x, out[4 + 3 * k] = b.y, out[5 + 3 * k] = b.angle;
    }
    out[15] = s->contact[1] ? 1.0f : 0.0f;
    out[16] = s->contact[3] ? 1.0f : 0.0f;
    for (int i = 0; i < 10; i++)
        out[17 + i] = s->lidar[i];
    double scroll = (double)out[0] - BW_VIEWPORT_W / BW_SCALE / 5;
    int i0 = (int)floor(scroll / BW_TERRAIN_STEP) - 1;
    i0 = i0 < 0 ? 0 : i0 > BW_TERRAIN_LENGTH - BW_WINDOW ? BW_TERRAIN_LENGTH - BW_WINDOW : i0;
    out[27] = (float)i0;
    for (int i = 0; i < BW_WINDOW; i++) {
        out[28 + 2 * i] = (float)s->terrain_x[i0 + i];
        out[29 + 2 * i] = (float)s->terrain_y[i0 + i];
    }
    float *rects = out + 28 + 2 * BW_WINDOW + 1;
    int n = 0;
    float wx1 = (float)s->terrain_x[i0], wx2 = (float)s->terrain_x[i0 + BW_WINDOW - 1];
    for (int r = 0; r < s->n_rects && n < BW_WINDOW_RECTS; r++)
        if (s->rects[r][2] >= wx1 && s->rects[r][0] <= wx2)
            memcpy(rects + 4 * n++, s->rects[r], 4 * sizeof(float));
    out[28 + 2 * BW_WINDOW] = (float)n;
}

void walker_set_replay(void *state, const double *draws, int n)
{
    walker_state *s = state;
    s->replay = draws;
    s->replay_len = draws ? n : 0;
    s->replay_pos = s->replay_overrun = 0;
}

int walker_replay_used(const void *state) { return ((const walker_state *)state)->replay_pos; }

int walker_replay_overrun(const void *state) { return ((const walker_state *)state)->replay_overrun; }

void walker_terrain(const void *state, double *x200, double *y200)
{
    const walker_state *s = state;
    memcpy(x200, s->terrain_x, sizeof s->terrain_x);
    memcpy(y200, s->terrain_y, sizeof s->terrain_y);
}

int walker_obstacles(const void *state, float *rects, int max)
{
    const walker_state *s = state;
    for (int r = 0; r < s->n_rects && r < max; r++)
        memcpy(rects + 4 * r, s->rects[r], 4 * sizeof(float));
    return s->n_rects;
}

void walker_get_debug(const void *state, walker_debug *out)
{
    const walker_state *s = state;
    b2w_body_state h = {0};
    if (s->hull)
        b2w_body_get(s->hull, &h);
    out->hull_x = h.x;
    out->shaping = s->shaping;
    out->game_over = s->game_over;
}

const env_class bipedal_walker_class = {
    .id = "BipedalWalker-v3",
    .state_size = sizeof(walker_state),
    .init = walker_init,
    .destroy = walker_destroy,
    .reset = walker_reset,
    .step = walker_step,
    .render_state = walker_render_state,
};

const env_class bipedal_walker_hardcore_class = {
    .id = "BipedalWalkerHardcore-v3",
    .default_options = "hardcore=1",
    .state_size = sizeof(walker_state),
    .init = walker_init,
    .destroy = walker_destroy,
    .reset = walker_reset,
    .step = walker_step,
    .render_state = walker_render_state,
};
