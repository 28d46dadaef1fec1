/* CarRacing-v3: a port of Gymnasium's box2d/car_racing.py (track generation from 12 random
 * checkpoints, road tiles as sensor bodies, the friction detector's tile rewards and lap logic, the
 * rewards and endings, discrete and continuous actions, domain randomisation of the colours). The car
 * is car_dynamics.c; the 96x96x3 observation is drawn by car_racing_render.c from a cr_scene filled
 * here after every reset and step. Physics on Box2D 2.4.1 (Gymnasium runs 2.3): steps agree closely,
 * not bit for bit.
 *
 * One deviation: the Box2D world is rebuilt per reset (Gymnasium keeps one world and destroys the
 * bodies), so an episode does not depend on the one before; that is what the replay snapshots of
 * env.c need. The first episode of a fresh env is the same either way. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "envs/box2d_envs.h"
#include "envs/box2d_world.h"
#include "envs/car_dynamics.h"
#include "envs/car_racing_render.h"
#include "envs/car_racing_scene.h"

/* car_racing.py's constants */
#define CR_SCALE 6.0
#define CR_TRACK_RAD (900 / CR_SCALE)
#define CR_PLAYFIELD (2000 / CR_SCALE)
#define CR_FPS 50
#define CR_TRACK_DETAIL_STEP (21 / CR_SCALE)
#define CR_TRACK_TURN_RATE 0.31
#define CR_TRACK_WIDTH (40 / CR_SCALE)
#define CR_BORDER (8 / CR_SCALE)
#define CR_BORDER_MIN_COUNT 4
#define CR_CHECKPOINTS 12
/* _create_track's no_freeze: the generator appends at most this many points, so no track (a slice of
 * them) has more tiles, and road_poly at most twice that (a tile and its kerb). */
#define CR_MAX_TRACK 2500
#define CR_RENDER_DIM 20
#define CR_OBS_DIM (CR_STATE_H * CR_STATE_W * 3)

enum { CR_TAG_HULL = -1, CR_TAG_WHEEL0 = -10 }; /* road tiles are tagged with their index >= 0 */

typedef struct {
    /* options */
    bool continuous, domain_randomize;
    double lap_complete_percent;
    /* physics */
    b2w_world *world;
    cr_car car;
    bool has_car;
    /* track, sized at init: (CR_MAX_TRACK, 4) alpha, beta, x, y */
    double (*raw)[4], (*track)[4];
    int n_track;
    bool *border, *visited;      /* (CR_MAX_TRACK) */
    int *tile_poly;              /* (CR_MAX_TRACK) tile index -> its road_poly entry */
    cr_road_poly *road;          /* (2 * CR_MAX_TRACK) Gymnasium's road_poly */
    int n_road;
    double start_alpha;
    double road_color[3], bg_color[3], grass_color[3];
    /* episode */
    double reward, prev_reward, t;
    int tile_visited_count;
    bool new_lap;
    /* observation */
    cr_renderer *renderer;
    uint8_t *pixels; /* (CR_STATE_H, CR_STATE_W, 3) */
    cr_scene scene;
    /* golden-trace replay (car_racing_set_replay) */
    const double *replay;
    int replay_len, replay_pos, replay_overrun;
} cr_state;

static double cr_uniform(cr_state *s, rng_t *rng, double lo, double hi)
{
    if (s->replay) {
        if (s->replay_pos < s->replay_len)
            return s->replay[s->replay_pos++];
        s->replay_overrun++;
    }
    return rng_uniform_range(rng, lo, hi);
}

static int cr_integers(cr_state *s, rng_t *rng, int lo, int hi) /* numpy's integers(lo, hi): hi exclusive */
{
    if (s->replay) {
        if (s->replay_pos < s->replay_len)
            return (int)s->replay[s->replay_pos++];
        s->replay_overrun++;
    }
    return lo + (int)rng_below(rng, (uint32_t)(hi - lo));
}

static double cr_sign(double x) { return x > 0.0 ? 1.0 : x < 0.0 ? -1.0 : x; } /* np.sign */

static int cr_wrap(int i, int n) { return ((i % n) + n) % n; } /* Python's negative indexing */

static uint8_t cr_byte(double c) { return (uint8_t)(int)c; } /* int() of a colour in [0, 255] */

static void cr_set_rgb(uint8_t rgb[3], const double c[3])
{
    for (int k = 0; k < 3; k++)
        rgb[k] = cr_byte(c[k]);
}

/* FrictionDetector._contact: any touch recolours the tile; a wheel's first touch scores it. */
static void cr_on_contact(void *ctx, int tag_a, int tag_b, bool begin)
{
    cr_state *s = ctx;
    int tile = -1, obj = 0;
    if (tag_a >= 0)
        tile = tag_a, obj = tag_b;
    if (tag_b >= 0)
        tile = tag_b, obj = tag_a;
    if (tile < 0 || tile >= s->n_track)
        return;
    cr_set_rgb(s->road[s->tile_poly[tile]].rgb, s->road_color);
    const int k = obj - CR_TAG_WHEEL0;
    if (k < 0 || k >= 4) /* the hull: no tile set */
        return;
    cr_wheel *w = &s->car.wheels[k];
    if (!begin) {
        w->n_tiles--;
        return;
    }
    w->n_tiles++;
    if (!s->visited[tile]) {
        s->visited[tile] = true;
        s->reward += 1000.0 / s->n_track;
        s->tile_visited_count++;
        /* the lap counts when enough of the track was covered */
        if (tile == 0 && (double)s->tile_visited_count / s->n_track > s->lap_complete_percent)
            s->new_lap = true;
    }
}

static void cr_destroy(void *state);

static int cr_init(void *state, ppo_env_spec *spec, env_options *opts, char *err, size_t err_len)
{
    cr_state *s = state;
    s->continuous = true;
    s->lap_complete_percent = 0.95;
    if (env_options_get_bool(opts, "continuous", &s->continuous, err, err_len) ||
        env_options_get_bool(opts, "domain_randomize", &s->domain_randomize, err, err_len) ||
        env_options_get_double(opts, "lap_complete_percent", &s->lap_complete_percent, err, err_len))
        return PPO_ENV_EINVAL;
    /* Gymnasium takes any float; outside [0, 1] a lap either always or never completes early. NaN
     * cannot pass the number parser. */
    if (!(s->lap_complete_percent >= 0.0 && s->lap_complete_percent <= 1.0)) {
        if (err && err_len)
            snprintf(err, err_len, "env option lap_complete_percent=%g must be in [0, 1]", s->lap_complete_percent);
        return PPO_ENV_EINVAL;
    }
    s->world = b2w_world_create(0.0f, 0.0f, cr_on_contact, s);
    s->renderer = cr_renderer_create();
    s->raw = malloc(sizeof *s->raw * CR_MAX_TRACK);
    s->track = malloc(sizeof *s->track * CR_MAX_TRACK);
    s->border = malloc(sizeof *s->border * CR_MAX_TRACK);
    s->visited = malloc(sizeof *s->visited * CR_MAX_TRACK);
    s->tile_poly = malloc(sizeof *s->tile_poly * CR_MAX_TRACK);
    s->road = malloc(sizeof *s->road * 2 * CR_MAX_TRACK);
    s->pixels = malloc(CR_OBS_DIM);
    if (!s->world || !s->renderer || !s->raw || !s->track || !s->border || !s->visited || !s->tile_poly ||
        !s->road || !s->pixels) {
        cr_destroy(s); /* env.c frees only the state struct when init fails */
        if (err && err_len)
            snprintf(err, err_len, "out of memory making CarRacing-v3");
        return PPO_ENV_ENOMEM;
    }
    /* Gymnasium's _init_colors without randomisation; with it, reset draws them */
    const double road[3] = {102, 102, 102}, bg[3] = {102, 204, 102}, grass[3] = {102, 230, 102};
    memcpy(s->road_color, road, sizeof road);
    memcpy(s->bg_color, bg, sizeof bg);
    memcpy(s->grass_color, grass, sizeof grass);

    spec->obs_dim = CR_OBS_DIM;
    spec->obs_kind = PPO_OBS_IMAGE;
    spec->obs_height = CR_STATE_H;
    spec->obs_width = CR_STATE_W;
    spec->obs_channels = 3;
    if (s->continuous) { /* steer, gas, brake */
        spec->action_kind = PPO_ACTION_CONTINUOUS;
        spec->action_count = 0;
        spec->action_dim = 3;
        const float lo[3] = {-1.0f, 0.0f, 0.0f}, hi[3] = {1.0f, 1.0f, 1.0f};
        memcpy(spec->action_low, lo, sizeof lo);
        memcpy(spec->action_high, hi, sizeof hi);
    } else { /* nothing, left, right, gas, brake */
        spec->action_kind = PPO_ACTION_DISCRETE;
        spec->action_count = 5;
        spec->action_dim = 1;
    }
    spec->max_episode_steps = 1000;
    spec->has_reward_threshold = true;
    spec->reward_threshold = 900.0;
    spec->render_dim = CR_RENDER_DIM;
    return PPO_ENV_OK;
}

static void cr_destroy(void *state)
{
    cr_state *s = state;
    b2w_world_destroy(s->world);
    cr_renderer_free(s->renderer);
    free(s->raw);
    free(s->track);
    free(s->border);
    free(s->visited);
    free(s->tile_poly);
    free(s->road);
    free(s->pixels);
    memset(s, 0, sizeof *s);
}

/* _create_track: false when this attempt fails (Gymnasium then draws a new set of checkpoints). */
static bool cr_create_track(cr_state *s, rng_t *rng)
{
    double cp[CR_CHECKPOINTS][3];
    for (int c = 0; c < CR_CHECKPOINTS; c++) {
        const double noise = cr_uniform(s, rng, 0, 2 * M_PI * 1 / CR_CHECKPOINTS);
        double alpha = 2 * M_PI * c / CR_CHECKPOINTS + noise;
        double rad = cr_uniform(s, rng, CR_TRACK_RAD / 3, CR_TRACK_RAD);
        if (c == 0) {
            alpha = 0;
            rad = 1.5 * CR_TRACK_RAD;
        }
        if (c == CR_CHECKPOINTS - 1) {
            alpha = 2 * M_PI * c / CR_CHECKPOINTS;
            s->start_alpha = 2 * M_PI * (-0.5) / CR_CHECKPOINTS;
            rad = 1.5 * CR_TRACK_RAD;
        }
        cp[c][0] = alpha, cp[c][1] = rad * cos(alpha), cp[c][2] = rad * sin(alpha);
    }

    /* Go from one checkpoint to the next, turning at most TRACK_TURN_RATE per step, for 5 laps. */
    double x = 1.5 * CR_TRACK_RAD, y = 0, beta = 0;
    int dest_i = 0, laps = 0, n = 0, no_freeze = CR_MAX_TRACK;
    bool visited_other_side = false;
    for (;;) {
        double alpha = atan2(y, x);
        if (visited_other_side && alpha > 0) {
            laps++;
            visited_other_side = false;
        }
        if (alpha < 0) {
            visited_other_side = true;
            alpha += 2 * M_PI;
        }
        double dest_x, dest_y;
        for (;;) { /* find the destination among the checkpoints */
            bool failed = true;
            for (;;) {
                const double *d = cp[dest_i % CR_CHECKPOINTS];
                dest_x = d[1], dest_y = d[2];
                if (alpha <= d[0]) {
                    failed = false;
                    break;
                }
                dest_i++;
                if (dest_i % CR_CHECKPOINTS == 0)
                    break;
            }
            if (!failed)
                break;
            alpha -= 2 * M_PI;
        }
        const double r1x = cos(beta), r1y = sin(beta);
        const double p1x = -r1y, p1y = r1x;
        const double dest_dx = dest_x - x, dest_dy = dest_y - y; /* towards the destination */
        double proj = r1x * dest_dx + r1y * dest_dy;
        while (beta - alpha > 1.5 * M_PI)
            beta -= 2 * M_PI;
        while (beta - alpha < -1.5 * M_PI)
            beta += 2 * M_PI;
        const double prev_beta = beta;
        proj *= CR_SCALE;
        if (proj > 0.3)
            beta -= fmin(CR_TRACK_TURN_RATE, fabs(0.001 * proj));
        if (proj < -0.3)
            beta += fmin(CR_TRACK_TURN_RATE, fabs(0.001 * proj));
        x += p1x * CR_TRACK_DETAIL_STEP;
        y += p1y * CR_TRACK_DETAIL_STEP;
        s->raw[n][0] = alpha, s->raw[n][1] = prev_beta * 0.5 + beta * 0.5, s->raw[n][2] = x, s->raw[n][3] = y;
        n++;
        if (laps > 4)
            break;
        if (--no_freeze == 0)
            break;
    }

    /* One lap: between the last two passes through start_alpha. */
    int i1 = -1, i2 = -1;
    for (int i = n;;) {
        i--;
        if (i == 0)
            return false;
        const bool through = s->raw[i][0] > s->start_alpha && s->raw[i - 1][0] <= s->start_alpha;
        if (through && i2 == -1) {
            i2 = i;
        } else if (through && i1 == -1) {
            i1 = i;
            break;
        }
    }
    const int len = i2 - 1 - i1; /* track[i1 : i2 - 1] */
    if (len <= 0)
        return false; /* Python's empty slice; track[0] would raise. Unreachable: i2 > i1 + 1 */
    memmove(s->track, s->raw + i1, sizeof *s->track * (size_t)len);
    const double(*tr)[4] = (const double(*)[4])s->track;

    const double first_beta = tr[0][1];
    const double fpx = cos(first_beta), fpy = sin(first_beta);
    const double gx = fpx * (tr[0][2] - tr[len - 1][2]), gy = fpy * (tr[0][3] - tr[len - 1][3]);
    if (sqrt(gx * gx + gy * gy) > CR_TRACK_DETAIL_STEP) /* not well glued together */
        return false;

    /* Kerbs where the road turns the same way for BORDER_MIN_COUNT tiles, widened backwards. */
    for (int i = 0; i < len; i++) {
        bool good = true;
        double oneside = 0;
        for (int neg = 0; neg < CR_BORDER_MIN_COUNT; neg++) {
            const double b1 = tr[cr_wrap(i - neg - 0, len)][1], b2 = tr[cr_wrap(i - neg - 1, len)][1];
            good &= fabs(b1 - b2) > CR_TRACK_TURN_RATE * 0.2;
            oneside += cr_sign(b1 - b2);
        }
        good &= fabs(oneside) == CR_BORDER_MIN_COUNT;
        s->border[i] = good;
    }
    for (int i = 0; i < len; i++)
        for (int neg = 0; neg < CR_BORDER_MIN_COUNT; neg++)
            s->border[cr_wrap(i - neg, len)] |= s->border[i];

    s->n_track = len;
    s->n_road = 0;
    b2w_fixture_def fd = b2w_fixture_def_default();
    fd.is_sensor = true;
    for (int i = 0; i < len; i++) {
        const double *t1 = tr[i], *t2 = tr[cr_wrap(i - 1, len)];
        const double beta1 = t1[1], x1 = t1[2], y1 = t1[3], beta2 = t2[1], x2 = t2[2], y2 = t2[3];
        const double v[4][2] = {
            {x1 - CR_TRACK_WIDTH * cos(beta1), y1 - CR_TRACK_WIDTH * sin(beta1)}, /* road1_l */
            {x1 + CR_TRACK_WIDTH * cos(beta1), y1 + CR_TRACK_WIDTH * sin(beta1)}, /* road1_r */
            {x2 + CR_TRACK_WIDTH * cos(beta2), y2 + CR_TRACK_WIDTH * sin(beta2)}, /* road2_r */
            {x2 - CR_TRACK_WIDTH * cos(beta2), y2 - CR_TRACK_WIDTH * sin(beta2)}, /* road2_l */
        };
        float fv[8];
        for (int k = 0; k < 4; k++)
            fv[2 * k] = (float)v[k][0], fv[2 * k + 1] = (float)v[k][1];
        b2w_body *tile = b2w_body_create(s->world, false, 0.0f, 0.0f, 0.0f, i);
        b2w_body_add_polygon(tile, fv, 4, &fd);
        s->visited[i] = false;
        s->tile_poly[i] = s->n_road;
        cr_road_poly *rp = &s->road[s->n_road++];
        memcpy(rp->xy, v, sizeof v);
        const double c = 0.01 * (i % 3) * 255;
        for (int k = 0; k < 3; k++)
            rp->rgb[k] = cr_byte(s->road_color[k] + c);
        if (s->border[i]) {
            const double side = cr_sign(beta2 - beta1);
            cr_road_poly *kp = &s->road[s->n_road++];
            const double kv[4][2] = {
                {x1 + side * CR_TRACK_WIDTH * cos(beta1), y1 + side * CR_TRACK_WIDTH * sin(beta1)},
                {x1 + side * (CR_TRACK_WIDTH + CR_BORDER) * cos(beta1), y1 + side * (CR_TRACK_WIDTH + CR_BORDER) * sin(beta1)},
                {x2 + side * (CR_TRACK_WIDTH + CR_BORDER) * cos(beta2), y2 + side * (CR_TRACK_WIDTH + CR_BORDER) * sin(beta2)},
                {x2 + side * CR_TRACK_WIDTH * cos(beta2), y2 + side * CR_TRACK_WIDTH * sin(beta2)},
            };
            memcpy(kp->xy, kv, sizeof kv);
            const uint8_t white[3] = {255, 255, 255}, red[3] = {255, 0, 0};
            memcpy(kp->rgb, i % 2 == 0 ? white : red, 3);
        }
    }
    return true;
}

static void cr_fill_scene(cr_state *s)
{
    cr_scene *sc = &s->scene;
    sc->t = s->t;
    sc->road = s->road;
    sc->n_road = s->n_road;
    cr_set_rgb(sc->bg_rgb, s->bg_color);
    cr_set_rgb(sc->grass_rgb, s->grass_color);
    b2w_body_state b;
    b2w_body_get(s->car.hull, &b);
    sc->hull = (cr_pose){b.x, b.y, b.angle};
    sc->hull_vx = b.vx, sc->hull_vy = b.vy, sc->hull_omega = b.omega;
    for (int k = 0; k < 4; k++) {
        const cr_wheel *w = &s->car.wheels[k];
        b2w_body_get(w->body, &b);
        sc->wheel[k] = (cr_pose){b.x, b.y, b.angle};
        sc->wheel_phase[k] = w->phase;
        sc->wheel_omega[k] = w->omega;
    }
    sc->steer = b2w_joint_angle(s->car.wheels[0].joint);
    sc->reward = s->reward;
}

/* The picture of the scene taken at the last step. */
static void cr_observe(const void *state, float *obs)
{
    const cr_state *s = state;
    cr_render_state_pixels(s->renderer, &s->scene, s->pixels);
    for (int i = 0; i < CR_OBS_DIM; i++)
        obs[i] = (float)s->pixels[i];
}

/* Gymnasium's step(action) up to the reward; action NULL is the step(None) that ends reset. */
static void cr_advance(cr_state *s, const float *action, float *obs, float *reward, bool *terminated)
{
    if (action) {
        if (s->continuous) { /* clipped to the box (ppo's contract; Gymnasium clips only the gas) */
            const double steer = fmin(fmax((double)action[0], -1.0), 1.0);
            cr_car_steer(&s->car, -steer);
            cr_car_gas(&s->car, fmin(fmax((double)action[1], 0.0), 1.0));
            cr_car_brake(&s->car, fmin(fmax((double)action[2], 0.0), 1.0));
        } else {
            const int a = (int)action[0];
            cr_car_steer(&s->car, -0.6 * (a == 1) + 0.6 * (a == 2));
            cr_car_gas(&s->car, 0.2 * (a == 3));
            cr_car_brake(&s->car, 0.8 * (a == 4));
        }
    }
    cr_car_step(&s->car, 1.0 / CR_FPS);
    b2w_world_step(s->world, (float)(1.0 / CR_FPS), 6 * 30, 2 * 30);
    s->t += 1.0 / CR_FPS;

    cr_fill_scene(s); /* taken before this step's -0.1, as Gymnasium renders the score */
    if (obs) /* NULL: a skipped frame, drawn by cr_observe only if an episode ends on it */
        cr_observe(s, obs);

    double step_reward = 0.0;
    bool done = false;
    if (action) {
        s->reward -= 0.1;
        s->car.fuel_spent = 0.0;
        step_reward = s->reward - s->prev_reward;
        s->prev_reward = s->reward;
        if (s->tile_visited_count == s->n_track || s->new_lap)
            done = true;
        b2w_body_state h;
        b2w_body_get(s->car.hull, &h);
        if (fabs((double)h.x) > CR_PLAYFIELD || fabs((double)h.y) > CR_PLAYFIELD) {
            done = true;
            step_reward = -100;
        }
    }
    if (reward)
        *reward = (float)step_reward;
    if (terminated)
        *terminated = done;
}

static void cr_reset(void *state, rng_t *rng, float *obs)
{
    cr_state *s = state;
    b2w_world_clear(s->world); /* see the header comment */
    s->has_car = false;
    s->n_track = s->n_road = 0;
    s->reward = s->prev_reward = s->t = 0.0;
    s->tile_visited_count = 0;
    s->new_lap = false;
    if (s->domain_randomize) { /* _reinit_colors(randomize=True) */
        for (int k = 0; k < 3; k++)
            s->road_color[k] = cr_uniform(s, rng, 0, 210);
        for (int k = 0; k < 3; k++)
            s->bg_color[k] = cr_uniform(s, rng, 0, 210);
        memcpy(s->grass_color, s->bg_color, sizeof s->grass_color);
        s->grass_color[cr_integers(s, rng, 0, 3)] += 20;
    }
    while (!cr_create_track(s, rng)) { /* a failed attempt made no bodies */
    }
    cr_car_create(&s->car, s->world, s->track[0][1], s->track[0][2], s->track[0][3], CR_TAG_HULL, CR_TAG_WHEEL0);
    s->has_car = true;
    cr_advance(s, NULL, obs, NULL, NULL);
}

static void cr_step(void *state, rng_t *rng, const float *action, float *obs, float *reward, bool *terminated)
{
    (void)rng; /* no draws after reset */
    cr_advance(state, action, obs, reward, terminated);
}

/* Layout in docs/render-state.md (CarRacing section). */
static void cr_render_state(const void *state, float *out)
{
    const cr_state *s = state;
    memset(out, 0, CR_RENDER_DIM * sizeof *out);
    if (!s->has_car)
        return;
    const cr_scene *sc = &s->scene;
    out[0] = (float)sc->hull.x, out[1] = (float)sc->hull.y, out[2] = (float)sc->hull.angle;
    out[3] = (float)sc->hull_vx, out[4] = (float)sc->hull_vy, out[5] = (float)sc->hull_omega;
    for (int k = 0; k < 4; k++) {
        out[6 + 3 * k] = (float)sc->wheel[k].x;
        out[7 + 3 * k] = (float)sc->wheel[k].y;
        out[8 + 3 * k] = (float)sc->wheel[k].angle;
    }
    out[18] = (float)sc->steer;
    out[19] = (float)s->tile_visited_count;
}

void car_racing_set_replay(void *state, const double *draws, int n)
{
    cr_state *s = state;
    s->replay = draws;
    s->replay_len = draws ? n : 0;
    s->replay_pos = s->replay_overrun = 0;
}

int car_racing_replay_used(const void *state) { return ((const cr_state *)state)->replay_pos; }

int car_racing_replay_overrun(const void *state) { return ((const cr_state *)state)->replay_overrun; }

int car_racing_track(const void *state, double *abxy, int max)
{
    const cr_state *s = state;
    for (int i = 0; i < s->n_track && i < max; i++)
        memcpy(abxy + 4 * i, s->track[i], sizeof s->track[i]);
    return s->n_track;
}

void car_racing_get_debug(const void *state, car_racing_debug *out)
{
    const cr_state *s = state;
    memset(out, 0, sizeof *out);
    out->tile_visited_count = s->tile_visited_count;
    out->n_track = s->n_track;
    out->n_road = s->n_road;
    out->reward = s->reward;
    out->new_lap = s->new_lap;
    out->fuel_spent = s->car.fuel_spent;
    if (!s->has_car)
        return;
    b2w_body_state b;
    b2w_body_get(s->car.hull, &b);
    const double hull[6] = {b.x, b.y, b.angle, b.vx, b.vy, b.omega};
    memcpy(out->hull, hull, sizeof hull);
    for (int k = 0; k < 4; k++) {
        const cr_wheel *w = &s->car.wheels[k];
        b2w_body_get(w->body, &b);
        const double wh[5] = {b.x, b.y, b.angle, w->phase, w->omega};
        memcpy(out->wheel[k], wh, sizeof wh);
        out->wheel_tiles[k] = w->n_tiles;
        out->gas[k] = w->gas;
        out->brake[k] = w->brake;
        out->steer[k] = w->steer;
    }
    out->steer_angle = b2w_joint_angle(s->car.wheels[0].joint);
}

const cr_scene *car_racing_scene(const void *state) { return &((const cr_state *)state)->scene; }

const env_class car_racing_class = {
    .id = "CarRacing-v3",
    .state_size = sizeof(cr_state),
    .init = cr_init,
    .destroy = cr_destroy,
    .reset = cr_reset,
    .step = cr_step,
    .observe = cr_observe,
    .render_state = cr_render_state,
};
