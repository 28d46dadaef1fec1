/* LunarLander-v3 and LunarLanderContinuous-v3: a port of Gymnasium's box2d/lunar_lander.py
 * (constants, terrain, engines, wind, observation, reward and endings from that file; see
 * shared/reference/gymnasium-envs.md §4). Physics through box2d_world.h on Box2D 2.4.1, so steps
 * match Gymnasium's Box2D 2.3 closely but not bit for bit. Particles are render-only and skipped;
 * they draw no random numbers. Not the heuristic controller: that lives in the tests. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "envs/box2d_envs.h"
#include "envs/box2d_world.h"

#define LL_FPS 50.0
#define LL_SCALE 30.0
#define LL_MAIN_ENGINE_POWER 13.0
#define LL_SIDE_ENGINE_POWER 0.6
#define LL_INITIAL_RANDOM 1000.0
#define LL_LEG_AWAY 20.0
#define LL_LEG_DOWN 18.0
#define LL_LEG_W 2.0
#define LL_LEG_H 8.0
#define LL_LEG_SPRING_TORQUE 40.0
#define LL_SIDE_ENGINE_HEIGHT 14.0
#define LL_SIDE_ENGINE_AWAY 12.0
#define LL_VIEWPORT_W 600.0
#define LL_VIEWPORT_H 400.0
#define LL_W (LL_VIEWPORT_W / LL_SCALE)
#define LL_H (LL_VIEWPORT_H / LL_SCALE)
#define LL_CHUNKS 11
#define LL_RENDER_DIM 40

/* Pixels; divided by SCALE when the fixture is made (lunar_lander.py LANDER_POLY). */
static const double lander_poly[6][2] = {{-14, 17}, {-17, 0}, {-17, -10}, {17, -10}, {17, 0}, {14, 17}};

enum { LANDER_TAG_MOON = 0, LANDER_TAG_BODY = 1, LANDER_TAG_LEG0 = 2, LANDER_TAG_LEG1 = 3 };

typedef struct {
    /* options */
    bool continuous, enable_wind;
    double gravity, wind_power, turbulence_power;
    /* physics */
    b2w_world *world;
    b2w_body *lander, *legs[2];
    /* episode */
    bool game_over, leg_contact[2];
    bool has_prev_shaping;
    double prev_shaping, shaping;
    int wind_idx, torque_idx;
    double chunk_x[LL_CHUNKS], smooth_y[LL_CHUNKS];
    double helipad_x1, helipad_x2, helipad_y;
    /* last step, for rendering and tests */
    double m_power, s_power;
    int side_dir;
    double wind_mag, torque_mag;
    /* golden-trace replay (lander_set_replay) */
    const double *replay;
    int replay_len, replay_pos, replay_overrun;
} lander_state;

static double lander_uniform(lander_state *s, rng_t *rng, double lo, double hi)
{
    if (s->replay) {
        if (s->replay_pos < s->replay_len)
            return s->replay[s->replay_pos++];
        s->replay_overrun++;
    }
    return rng_uniform_range(rng, lo, hi);
}

/* numpy's integers(lo, hi): hi exclusive. */
static int lander_integers(lander_state *s, rng_t *rng, int lo, int hi)
{
    if (s->replay) {
        if (s->replay_pos < s->replay_len)
            return (int)s->replay[s->replay_pos++];
        s->replay_overrun++;
    }
    return lo + (int)rng_below(rng, (uint32_t)(hi - lo));
}

static void lander_on_contact(void *ctx, int tag_a, int tag_b, bool begin)
{
    lander_state *s = ctx;
    if (begin && (tag_a == LANDER_TAG_BODY || tag_b == LANDER_TAG_BODY))
        s->game_over = true;
    for (int k = 0; k < 2; k++)
        if (tag_a == LANDER_TAG_LEG0 + k || tag_b == LANDER_TAG_LEG0 + k)
            s->leg_contact[k] = begin;
}

static int lander_init(void *state, ppo_env_spec *spec, env_options *opts, char *err, size_t err_len)
{
    lander_state *s = state;
    s->gravity = -10.0;
    s->wind_power = 15.0;
    s->turbulence_power = 1.5;
    if (env_options_get_bool(opts, "continuous", &s->continuous, err, err_len) ||
        env_options_get_double(opts, "gravity", &s->gravity, err, err_len) ||
        env_options_get_bool(opts, "enable_wind", &s->enable_wind, err, err_len) ||
        env_options_get_double(opts, "wind_power", &s->wind_power, err, err_len) ||
        env_options_get_double(opts, "turbulence_power", &s->turbulence_power, err, err_len))
        return PPO_ENV_EINVAL;
    /* Gymnasium asserts -12 < gravity < 0, and only warns for wind_power outside [0, 20] and
     * turbulence_power outside [0, 2] (lunar_lander.py __init__: "recommended" values), so ppo accepts
     * those too, up to 50 times the recommended maximum: wind_power=1e308 overflowed Box2D's float
     * force to inf and the state to NaN, while 20 random episodes stayed finite up to wind_power=1e15,
     * turbulence_power=1e10 (measured; they fly off within ~100 steps). Negative values only flip a
     * signal that is symmetric already; Gymnasium warns for them too. */
    const char *bad = NULL;
    double value = 0.0;
    if (!(s->gravity > -12.0 && s->gravity < 0.0))
        bad = "gravity=%g must satisfy -12 < gravity < 0", value = s->gravity;
    else if (!(s->wind_power >= 0.0 && s->wind_power <= 1000.0))
        bad = "wind_power=%g must be in [0, 1000] (Gymnasium recommends [0, 20])", value = s->wind_power;
    else if (!(s->turbulence_power >= 0.0 && s->turbulence_power <= 100.0))
        bad = "turbulence_power=%g must be in [0, 100] (Gymnasium recommends [0, 2])", value = s->turbulence_power;
    if (bad) {
        if (err && err_len) {
            char msg[96];
            snprintf(msg, sizeof msg, bad, value);
            snprintf(err, err_len, "env option %s", msg);
        }
        return PPO_ENV_EINVAL;
    }
    s->world = b2w_world_create(0.0f, (float)s->gravity, lander_on_contact, s);
    if (!s->world) {
        if (err && err_len)
            snprintf(err, err_len, "out of memory creating the Box2D world");
        return PPO_ENV_ENOMEM;
    }
    /* v3 observation bounds */
    static const float high[8] = {2.5f, 2.5f, 10.0f, 10.0f, (float)(2.0 * M_PI), 10.0f, 1.0f, 1.0f};
    static const float low[8] = {-2.5f, -2.5f, -10.0f, -10.0f, (float)(-2.0 * M_PI), -10.0f, -0.0f, -0.0f};
    spec->obs_dim = 8;
    memcpy(spec->obs_low, low, sizeof low);
    memcpy(spec->obs_high, high, sizeof high);
    if (s->continuous) {
        spec->action_kind = PPO_ACTION_CONTINUOUS;
        spec->action_count = 0;
        spec->action_dim = 2;
        for (int i = 0; i < 2; i++) {
            spec->action_low[i] = -1.0f;
            spec->action_high[i] = 1.0f;
        }
    } else {
        spec->action_kind = PPO_ACTION_DISCRETE;
        spec->action_count = 4;
        spec->action_dim = 1;
    }
    spec->max_episode_steps = 1000;
    spec->has_reward_threshold = true;
    spec->reward_threshold = 200.0;
    spec->render_dim = LL_RENDER_DIM;
    return PPO_ENV_OK;
}

static void lander_destroy(void *state)
{
    lander_state *s = state;
    b2w_world_destroy(s->world);
    s->world = NULL;
}

/* One Gymnasium step() up to and including the observation and reward; `action` is a discrete
 * index as float, or 2 unclipped floats. */
static void lander_advance(lander_state *s, rng_t *rng, const float *action, float *obs, float *reward,
                           bool *terminated)
{
    b2w_body_state ls;
    if (s->enable_wind && !(s->leg_contact[0] || s->leg_contact[1])) {
        /* tanh(sin(2k t) + sin(pi k t)), k = 0.01: never periodic (lunar_lander.py) */
        double wi = (double)s->wind_idx, ti = (double)s->torque_idx;
        s->wind_mag = tanh(sin(0.02 * wi) + sin(M_PI * 0.01 * wi)) * s->wind_power;
        s->wind_idx++;
        b2w_body_apply_force_to_center(s->lander, (float)s->wind_mag, 0.0f);
        s->torque_mag = tanh(sin(0.02 * ti) + sin(M_PI * 0.01 * ti)) * s->turbulence_power;
        s->torque_idx++;
        b2w_body_apply_torque(s->lander, (float)s->torque_mag);
    } else {
        s->wind_mag = s->torque_mag = 0.0;
    }

    /* Main engine fires for a0 > 0 or action 2; side engines for |a1| > 0.5 or actions 1/3. The
     * continuous action is clipped and cast to float32 as Gymnasium does. */
    bool main_on, side_on;
    float m_power = 0.0f, s_power = 0.0f, direction = 0.0f;
    if (s->continuous) {
        float a0 = fminf(fmaxf(action[0], -1.0f), 1.0f), a1 = fminf(fmaxf(action[1], -1.0f), 1.0f);
        main_on = a0 > 0.0f;
        side_on = fabsf(a1) > 0.5f;
        if (main_on)
            m_power = (fminf(fmaxf(a0, 0.0f), 1.0f) + 1.0f) * 0.5f; /* throttle 50%..100% */
        if (side_on) {
            direction = a1 > 0.0f ? 1.0f : -1.0f;
            s_power = fminf(fmaxf(fabsf(a1), 0.5f), 1.0f);
        }
    } else {
        int a = (int)action[0];
        main_on = a == 2;
        side_on = a == 1 || a == 3;
        if (main_on)
            m_power = 1.0f;
        if (side_on) {
            direction = (float)(a - 2);
            s_power = 1.0f;
        }
    }

    b2w_body_get(s->lander, &ls);
    double tip[2] = {sin((double)ls.angle), cos((double)ls.angle)};
    double side[2] = {-tip[1], tip[0]};
    /* Drawn every step, engines on or not (Gymnasium's order: d0 then d1). */
    double d0 = lander_uniform(s, rng, -1.0, 1.0) / LL_SCALE;
    double d1 = lander_uniform(s, rng, -1.0, 1.0) / LL_SCALE;

    if (main_on) {
        /* 4 px below the origin, +-2 px of dispersion */
        double ox = tip[0] * (4.0 / LL_SCALE + 2.0 * d0) + side[0] * d1;
        double oy = -tip[1] * (4.0 / LL_SCALE + 2.0 * d0) - side[1] * d1;
        double px = (double)ls.x + ox, py = (double)ls.y + oy;
        b2w_body_apply_impulse(s->lander, (float)(-ox * LL_MAIN_ENGINE_POWER * m_power),
                               (float)(-oy * LL_MAIN_ENGINE_POWER * m_power), (float)px, (float)py);
    }
    if (side_on) {
        double q = 3.0 * d1 + direction * LL_SIDE_ENGINE_AWAY / LL_SCALE;
        double ox = tip[0] * d0 + side[0] * q;
        double oy = -tip[1] * d0 - side[1] * q;
        /* 17 px in x but SIDE_ENGINE_HEIGHT (14 px) in y: Gymnasium's asymmetry, kept */
        double px = (double)ls.x + ox - tip[0] * 17.0 / LL_SCALE;
        double py = (double)ls.y + oy + tip[1] * LL_SIDE_ENGINE_HEIGHT / LL_SCALE;
        b2w_body_apply_impulse(s->lander, (float)(-ox * LL_SIDE_ENGINE_POWER * s_power),
                               (float)(-oy * LL_SIDE_ENGINE_POWER * s_power), (float)px, (float)py);
    }

    b2w_world_step(s->world, (float)(1.0 / LL_FPS), 6 * 30, 2 * 30);

    b2w_body_get(s->lander, &ls);
    double st[8];
    st[0] = ((double)ls.x - LL_VIEWPORT_W / LL_SCALE / 2) / (LL_VIEWPORT_W / LL_SCALE / 2);
    st[1] = ((double)ls.y - (s->helipad_y + LL_LEG_DOWN / LL_SCALE)) / (LL_VIEWPORT_H / LL_SCALE / 2);
    st[2] = (double)ls.vx * (LL_VIEWPORT_W / LL_SCALE / 2) / LL_FPS;
    st[3] = (double)ls.vy * (LL_VIEWPORT_H / LL_SCALE / 2) / LL_FPS;
    st[4] = (double)ls.angle;
    st[5] = 20.0 * (double)ls.omega / LL_FPS;
    st[6] = s->leg_contact[0] ? 1.0 : 0.0;
    st[7] = s->leg_contact[1] ? 1.0 : 0.0;
    for (int i = 0; i < 8; i++)
        obs[i] = (float)st[i];

    /* Shaping from the float64 state; +10 per leg touching, so losing contact costs it back. */
    double shaping = -100.0 * sqrt(st[0] * st[0] + st[1] * st[1]) - 100.0 * sqrt(st[2] * st[2] + st[3] * st[3]) -
                     100.0 * fabs(st[4]) + 10.0 * st[6] + 10.0 * st[7];
    double r = s->has_prev_shaping ? shaping - s->prev_shaping : 0.0;
    s->prev_shaping = s->shaping = shaping;
    s->has_prev_shaping = true;
    r -= (double)m_power * 0.30; /* fuel */
    r -= (double)s_power * 0.03;

    bool done = false;
    if (s->game_over || fabs(st[0]) >= 1.0) {
        done = true;
        r = -100.0;
    }
    if (!b2w_body_awake(s->lander)) { /* Box2D put the lander's island to sleep: landed and at rest */
        done = true;
        r = 100.0;
    }
    s->m_power = m_power;
    s->s_power = s_power;
    s->side_dir = (int)direction;
    *reward = (float)r;
    *terminated = done;
}

static void lander_reset(void *state, rng_t *rng, float *obs)
{
    lander_state *s = state;
    b2w_world_clear(s->world); /* a fresh world per episode, as Gymnasium v3 does */
    s->game_over = false;
    s->leg_contact[0] = s->leg_contact[1] = false;
    s->has_prev_shaping = false;
    s->prev_shaping = s->shaping = 0.0;

    /* Terrain: 12 heights (the 12th only reached through Python's height[-1]), the pad flattened. */
    double height[LL_CHUNKS + 1];
    for (int i = 0; i < LL_CHUNKS + 1; i++)
        height[i] = lander_uniform(s, rng, 0.0, LL_H / 2);
    for (int i = 0; i < LL_CHUNKS; i++)
        s->chunk_x[i] = LL_W / (LL_CHUNKS - 1) * i;
    s->helipad_x1 = s->chunk_x[LL_CHUNKS / 2 - 1];
    s->helipad_x2 = s->chunk_x[LL_CHUNKS / 2 + 1];
    s->helipad_y = LL_H / 4;
    for (int i = LL_CHUNKS / 2 - 2; i <= LL_CHUNKS / 2 + 2; i++)
        height[i] = s->helipad_y;
    for (int i = 0; i < LL_CHUNKS; i++) /* 0.33, not 1/3: the pad sits at 0.99 * helipad_y */
        s->smooth_y[i] = 0.33 * (height[i == 0 ? LL_CHUNKS : i - 1] + height[i] + height[i + 1]);

    b2w_body *moon = b2w_body_create(s->world, false, 0.0f, 0.0f, 0.0f, LANDER_TAG_MOON);
    b2w_fixture_def fd = b2w_fixture_def_default();
    b2w_body_add_edge(moon, 0.0f, 0.0f, (float)LL_W, 0.0f, &fd);
    fd.friction = 0.1f;
    for (int i = 0; i < LL_CHUNKS - 1; i++)
        b2w_body_add_edge(moon, (float)s->chunk_x[i], (float)s->smooth_y[i], (float)s->chunk_x[i + 1],
                          (float)s->smooth_y[i + 1], &fd);

    const double initial_y = LL_VIEWPORT_H / LL_SCALE;
    s->lander = b2w_body_create(s->world, true, (float)(LL_VIEWPORT_W / LL_SCALE / 2), (float)initial_y, 0.0f,
                                LANDER_TAG_BODY);
    float poly[12];
    for (int i = 0; i < 6; i++) {
        poly[2 * i] = (float)(lander_poly[i][0] / LL_SCALE);
        poly[2 * i + 1] = (float)(lander_poly[i][1] / LL_SCALE);
    }
    fd = b2w_fixture_def_default();
    fd.density = 5.0f;
    fd.friction = 0.1f;
    fd.category_bits = 0x0010;
    fd.mask_bits = 0x0001; /* collide only with the ground */
    b2w_body_add_polygon(s->lander, poly, 6, &fd);
    double fx = lander_uniform(s, rng, -LL_INITIAL_RANDOM, LL_INITIAL_RANDOM);
    double fy = lander_uniform(s, rng, -LL_INITIAL_RANDOM, LL_INITIAL_RANDOM);
    b2w_body_apply_force_to_center(s->lander, (float)fx, (float)fy);
    if (s->enable_wind) { /* the random phase C of the wind and turbulence signals */
        s->wind_idx = lander_integers(s, rng, -9999, 9999);
        s->torque_idx = lander_integers(s, rng, -9999, 9999);
    }

    for (int k = 0; k < 2; k++) {
        const int i = k == 0 ? -1 : 1;
        s->legs[k] = b2w_body_create(s->world, true, (float)(LL_VIEWPORT_W / LL_SCALE / 2 - i * LL_LEG_AWAY / LL_SCALE),
                                     (float)initial_y, (float)(i * 0.05), LANDER_TAG_LEG0 + k);
        fd = b2w_fixture_def_default();
        fd.density = 1.0f;
        fd.category_bits = 0x0020;
        fd.mask_bits = 0x0001;
        b2w_body_add_box(s->legs[k], (float)(LL_LEG_W / LL_SCALE), (float)(LL_LEG_H / LL_SCALE), &fd);
        b2w_revolute_def jd = {
            .a = s->lander,
            .b = s->legs[k],
            .anchor_a = {0.0f, 0.0f},
            .anchor_b = {(float)(i * LL_LEG_AWAY / LL_SCALE), (float)(LL_LEG_DOWN / LL_SCALE)},
            .reference_angle = (float)(i * 0.05) - 0.0f, /* pybox2d: angle_b - angle_a */
            .enable_motor = true,
            .motor_speed = (float)(0.3 * i), /* low enough not to jump back into the sky */
            .max_motor_torque = (float)LL_LEG_SPRING_TORQUE,
            .enable_limit = true,
            .lower_angle = (float)(i == -1 ? 0.9 - 0.5 : -0.9),
            .upper_angle = (float)(i == -1 ? 0.9 : -0.9 + 0.5),
        };
        b2w_revolute_create(s->world, &jd);
    }

    /* Gymnasium returns the observation of step(0) / step([0, 0]). */
    const float noop[2] = {0.0f, 0.0f};
    float r;
    bool done;
    lander_advance(s, rng, noop, obs, &r, &done);
}

static void lander_step(void *state, rng_t *rng, const float *action, float *obs, float *reward, bool *terminated)
{
    lander_advance(state, rng, action, obs, reward, terminated);
}

/* Layout in docs/render-state.md (Box2D section). */
static void lander_render_state(const void *state, float *out)
{
    const lander_state *s = state;
    if (!s->lander) { /* before the first reset */
        memset(out, 0, LL_RENDER_DIM * sizeof *out);
        return;
    }
    b2w_body_state b;
    b2w_body_get(s->lander, &b);
    out[0] = b.x, out[1] = b.y, out[2] = b.angle;
    for (int k = 0; k < 2; k++) {
        b2w_body_get(s->legs[k], &b);
        out[3 + 4 * k] = b.x, out[4 + 4 * k] = b.y, out[5 + 4 * k] = b.angle;
        out[6 + 4 * k] = s->leg_contact[k] ? 1.0f : 0.0f;
    }
    out[11] = (float)s->m_power;
    out[12] = (float)(s->side_dir * s->s_power);
    for (int i = 0; i < LL_CHUNKS; i++) {
        out[13 + 2 * i] = (float)s->chunk_x[i];
        out[14 + 2 * i] = (float)s->smooth_y[i];
    }
    out[35] = (float)s->helipad_x1, out[36] = (float)s->helipad_x2, out[37] = (float)s->helipad_y;
    out[38] = (float)s->wind_mag, out[39] = (float)s->torque_mag;
}

void lander_set_replay(void *state, const double *draws, int n)
{
    lander_state *s = state;
    s->replay = draws;
    s->replay_len = draws ? n : 0;
    s->replay_pos = s->replay_overrun = 0;
}

int lander_replay_used(const void *state) { return ((const lander_state *)state)->replay_pos; }

int lander_replay_overrun(const void *state) { return ((const lander_state *)state)->replay_overrun; }

void lander_terrain(const void *state, float *xy22)
{
    const lander_state *s = state;
    for (int i = 0; i < LL_CHUNKS; i++) {
        xy22[2 * i] = (float)s->chunk_x[i];
        xy22[2 * i + 1] = (float)s->smooth_y[i];
    }
}

void lander_get_debug(const void *state, lander_debug *out)
{
    const lander_state *s = state;
    out->m_power = s->m_power;
    out->s_power = s->s_power;
    out->shaping = s->shaping;
    out->awake = s->lander && b2w_body_awake(s->lander);
    out->game_over = s->game_over;
}

const env_class lunar_lander_class = {
    .id = "LunarLander-v3",
    .state_size = sizeof(lander_state),
    .init = lander_init,
    .destroy = lander_destroy,
    .reset = lander_reset,
    .step = lander_step,
    .render_state = lander_render_state,
};

const env_class lunar_lander_continuous_class = {
    .id = "LunarLanderContinuous-v3",
    .default_options = "continuous=1",
    .state_size = sizeof(lander_state),
    .init = lander_init,
    .destroy = lander_destroy,
    .reset = lander_reset,
    .step = lander_step,
    .render_state = lander_render_state,
};
