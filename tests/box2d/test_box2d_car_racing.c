/* test_box2d_car_racing: CarRacing-v3 without reference data: the spec, options and bad options, determinism,
 * snapshot/restore, the discrete action mapping, the reward bookkeeping (a driving controller visits
 * every tile: the tile rewards sum to 1000), the lap rule, off-playfield termination (-100), the time
 * limit, the track generator's retry and the tile colours of the scene. The golden comparison against
 * Gymnasium is test_box2d_car_racing_golden.c. */
#include <math.h>
#include <omp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "envs/box2d_envs.h"
#include "envs/car_racing_scene.h"
#include "util/rng.h"

#define OBS_DIM (96 * 96 * 3)
const cr_scene *car_racing_scene(const void *state);

static uint64_t fnv1a(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 0x100000001b3ULL;
    return h;
}

static void test_spec(void)
{
    ppo_env *env = check_make_env("CarRacing-v3", NULL);
    const ppo_env_spec *s = ppo_env_get_spec(env);
    CHECK(s->obs_kind == PPO_OBS_IMAGE, "obs_kind %d", (int)s->obs_kind);
    CHECK(s->obs_dim == OBS_DIM && s->obs_height == 96 && s->obs_width == 96 && s->obs_channels == 3,
          "obs %d = %dx%dx%d", s->obs_dim, s->obs_height, s->obs_width, s->obs_channels);
    CHECK(s->action_kind == PPO_ACTION_CONTINUOUS && s->action_dim == 3, "action kind %d dim %d", (int)s->action_kind,
          s->action_dim);
    CHECK(s->action_low[0] == -1 && s->action_low[1] == 0 && s->action_low[2] == 0, "action_low");
    CHECK(s->action_high[0] == 1 && s->action_high[1] == 1 && s->action_high[2] == 1, "action_high");
    CHECK(s->max_episode_steps == 1000, "limit %d", s->max_episode_steps);
    CHECK(s->has_reward_threshold && s->reward_threshold == 900.0, "threshold %g", s->reward_threshold);
    CHECK(s->render_dim == 20, "render_dim %d", s->render_dim);
    char err[256];
    CHECK(env_spec_require_vector(s, "training", err, sizeof err) == -1, "image env accepted as vector");
    CHECK(strstr(err, "CarRacing-v3 has image observations (96x96x3)") != NULL, "message: %s", err);
    ppo_env_free(env);
    env = check_make_env("CarRacing-v3", "continuous=0");
    s = ppo_env_get_spec(env);
    CHECK(s->action_kind == PPO_ACTION_DISCRETE && s->action_count == 5 && s->action_dim == 1, "discrete spec");
    ppo_env_free(env);
    env = check_make_env("CartPole-v1", NULL);
    CHECK(ppo_env_get_spec(env)->obs_kind == PPO_OBS_VECTOR, "CartPole is a vector env");
    CHECK(env_spec_require_vector(ppo_env_get_spec(env), "training", err, sizeof err) == 0, "CartPole refused");
    ppo_env_free(env);
}

static void test_bad_options(void)
{
    const char *bad[] = {"lap_complete_percent=2", "lap_complete_percent=-0.1", "lap_complete_percent=x",
                         "continuous=maybe", "domain_randomize=2", "hardcore=1", "lap_complete_percent=nan"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char err[256] = "";
        ppo_env *env = ppo_env_make("CarRacing-v3", bad[i], err, sizeof err);
        CHECK(env == NULL && err[0], "options '%s' accepted", bad[i]);
        ppo_env_free(env);
    }
    ppo_env *env = check_make_env("CarRacing-v3", "lap_complete_percent=0.5,domain_randomize=0,continuous=1");
    ppo_env_free(env);
}

/* A pure-pursuit driver: steer towards the track point `ahead` tiles past the closest, hold `speed`. */
static void drive(void *st, double speed, int ahead, float *a)
{
    car_racing_debug d;
    car_racing_get_debug(st, &d);
    static double track[4 * 2500];
    const int n = car_racing_track(st, track, 2500);
    int best = 0;
    double bd = INFINITY;
    for (int i = 0; i < n; i++) {
        const double dx = track[4 * i + 2] - d.hull[0], dy = track[4 * i + 3] - d.hull[1];
        if (dx * dx + dy * dy < bd)
            bd = dx * dx + dy * dy, best = i;
    }
    const int t = (best + ahead) % n;
    const double phi = atan2(track[4 * t + 3] - d.hull[1], track[4 * t + 2] - d.hull[0]);
    double err = phi - (d.hull[2] + M_PI / 2); /* the hull's forward axis is local +y */
    err = atan2(sin(err), cos(err));
    const double v = hypot(d.hull[3], d.hull[4]);
    a[0] = (float)fmax(-1.0, fmin(1.0, -3.0 * err)); /* steer(-a0): a0 < 0 turns left */
    a[1] = v < speed ? 0.5f : 0.0f;
    a[2] = v > speed + 5 ? 0.3f : 0.0f;
}

typedef struct {
    double ret;     /* sum of the float step rewards */
    int steps;
    bool terminated;
    car_racing_debug end;
} drive_result;

/* Drives through the class directly (no time limit) until the episode ends or max_steps. */
static drive_result drive_episode(const char *opts, uint64_t seed, double speed, int max_steps)
{
    ppo_env *env = check_make_env("CarRacing-v3", opts);
    float *obs = malloc(sizeof(float) * OBS_DIM);
    ppo_env_seed(env, seed);
    ppo_env_reset(env, obs);
    void *st = env_state(env);
    const env_class *cls = env_get_class(env);
    rng_t rng;
    rng_seed(&rng, 1);
    drive_result r = {0};
    while (r.steps < max_steps && !r.terminated) {
        float a[3], rew;
        drive(st, speed, 5, a);
        cls->step(st, &rng, a, obs, &rew, &r.terminated);
        r.ret += rew;
        r.steps++;
    }
    car_racing_get_debug(st, &r.end);
    free(obs);
    ppo_env_free(env);
    return r;
}

static void test_rewards(void)
{
    /* lap_complete_percent=1: only visiting every tile ends the episode */
    for (uint64_t seed = 0; seed < 2; seed++) {
        drive_result r = drive_episode("lap_complete_percent=1", seed, 25.0, 6000);
        const car_racing_debug *d = &r.end;
        printf("seed %llu: %d tiles, all visited after %d steps: %s, return %.4f\n", (unsigned long long)seed,
               d->n_track, r.steps, r.terminated ? "yes" : "no", r.ret);
        CHECK(r.terminated && d->tile_visited_count == d->n_track, "seed %llu: visited %d of %d in %d steps",
              (unsigned long long)seed, d->tile_visited_count, d->n_track, r.steps);
        CHECK(!d->new_lap, "lap_complete_percent=1 completed a lap");
        /* env.reward = tile rewards - 0.1 per step: the tiles sum to 1000 */
        CHECK_NEAR(d->reward + 0.1 * r.steps, 1000.0, 1e-6, "tile rewards");
        CHECK_NEAR(r.ret, d->reward, 1e-3 * r.steps, "sum of step rewards vs env.reward");
    }
    /* default 0.95: back on tile 0 after > 95% of the tiles ends the lap (or all tiles first) */
    drive_result r = drive_episode(NULL, 2, 25.0, 6000);
    const car_racing_debug *d = &r.end;
    printf("lap_complete_percent 0.95: ended %s after %d steps, %d of %d tiles, new_lap %d\n",
           r.terminated ? "yes" : "no", r.steps, d->tile_visited_count, d->n_track, (int)d->new_lap);
    CHECK(r.terminated && (d->new_lap || d->tile_visited_count == d->n_track), "no lap");
    CHECK(d->tile_visited_count > 0.95 * d->n_track, "lap with %d of %d tiles", d->tile_visited_count, d->n_track);
    CHECK_NEAR(d->reward + 0.1 * r.steps, 1000.0 * d->tile_visited_count / d->n_track, 1e-6, "tile rewards (lap)");
}

/* The lap rule fires only on a first visit of tile 0 with more than lap_complete_percent of the tiles
 * visited. The car starts on tile 0, so with 0 the reset's own step completes a "lap" and the first
 * action ends the episode (Gymnasium's behaviour, kept). */
static void test_lap_rule(void)
{
    ppo_env *env = check_make_env("CarRacing-v3", "lap_complete_percent=0");
    float *obs = malloc(sizeof(float) * OBS_DIM);
    ppo_env_seed(env, 4);
    ppo_env_reset(env, obs);
    car_racing_debug d;
    car_racing_get_debug(env_state(env), &d);
    CHECK(d.new_lap && d.tile_visited_count > 0, "reset: new_lap %d, visited %d", (int)d.new_lap, d.tile_visited_count);
    const float idle[3] = {0, 0, 0};
    ppo_step_result r;
    ppo_env_step(env, idle, obs, &r);
    car_racing_get_debug(env_state(env), &d);
    CHECK(r.terminated, "lap_complete_percent=0: first step did not end the episode");
    CHECK_NEAR(r.reward, 1000.0 * d.tile_visited_count / d.n_track - 0.1, 1e-4, "first step reward");
    ppo_env_free(env);
    env = check_make_env("CarRacing-v3", NULL);
    ppo_env_seed(env, 4);
    ppo_env_reset(env, obs);
    car_racing_get_debug(env_state(env), &d);
    CHECK(!d.new_lap, "default lap_complete_percent: a lap at reset");
    free(obs);
    ppo_env_free(env);
}

static void test_off_playfield(void)
{
    ppo_env *env = check_make_env("CarRacing-v3", NULL);
    float *obs = malloc(sizeof(float) * OBS_DIM);
    ppo_env_seed(env, 3);
    ppo_env_reset(env, obs);
    ppo_step_result r = {0};
    int steps = 0;
    float a[3];
    /* head for a point far outside (full gas on grass only spins the car, as in Gymnasium) */
    while (!r.terminated && !r.truncated) {
        car_racing_debug d;
        car_racing_get_debug(env_state(env), &d);
        double err = atan2(1000.0 - d.hull[1], 1000.0 - d.hull[0]) - (d.hull[2] + M_PI / 2);
        err = atan2(sin(err), cos(err));
        a[0] = (float)fmax(-1.0, fmin(1.0, -3.0 * err));
        a[1] = hypot(d.hull[3], d.hull[4]) < 30.0 ? 0.3f : 0.0f;
        a[2] = 0.0f;
        CHECK(ppo_env_step(env, a, obs, &r) == PPO_ENV_OK, "step");
        steps++;
    }
    car_racing_debug d;
    car_racing_get_debug(env_state(env), &d);
    printf("off to (1000, 1000): ended after %d steps at (%.1f, %.1f), reward %g\n", steps, d.hull[0], d.hull[1],
           r.reward);
    CHECK(r.terminated && !r.truncated, "not terminated (steps %d)", steps);
    CHECK(fabs(d.hull[0]) > 2000.0 / 6 || fabs(d.hull[1]) > 2000.0 / 6, "ended inside the playfield");
    CHECK(r.reward == -100.0f, "last reward %g", r.reward);
    CHECK(ppo_env_step(env, a, obs, &r) == PPO_ENV_ESTATE, "step after the end");
    free(obs);
    ppo_env_free(env);
}

static void test_discrete(void)
{
    ppo_env *env = check_make_env("CarRacing-v3", "continuous=0");
    float *obs = malloc(sizeof(float) * OBS_DIM);
    ppo_env_seed(env, 1);
    ppo_env_reset(env, obs);
    void *st = env_state(env);
    ppo_step_result r;
    car_racing_debug d;
    /* Gymnasium: steer(-0.6 (a == 1) + 0.6 (a == 2)), gas(0.2 (a == 3)), brake(0.8 (a == 4)) */
    const float a1 = 1, a2 = 2, a3 = 3, a4 = 4, a0 = 0, bad = 5, half = 0.5f;
    ppo_env_step(env, &a1, obs, &r);
    car_racing_get_debug(st, &d);
    CHECK(d.steer[0] == -0.6 && d.steer[1] == -0.6 && d.steer[2] == 0 && d.gas[2] == 0 && d.brake[0] == 0, "action 1");
    ppo_env_step(env, &a2, obs, &r);
    car_racing_get_debug(st, &d);
    CHECK(d.steer[0] == 0.6 && d.steer[1] == 0.6, "action 2: steer %g", d.steer[0]);
    ppo_env_step(env, &a3, obs, &r);
    car_racing_get_debug(st, &d);
    CHECK(d.steer[0] == 0 && d.gas[2] == 0.1 && d.gas[3] == 0.1 && d.gas[0] == 0, "action 3: gas rises by 0.1: %g",
          d.gas[2]);
    ppo_env_step(env, &a3, obs, &r);
    car_racing_get_debug(st, &d);
    CHECK(d.gas[2] == 0.2 && d.gas[3] == 0.2, "action 3 twice: gas %g", d.gas[2]);
    ppo_env_step(env, &a4, obs, &r);
    car_racing_get_debug(st, &d);
    CHECK(d.gas[2] == 0 && d.brake[0] == 0.8 && d.brake[3] == 0.8, "action 4: gas %g brake %g", d.gas[2], d.brake[0]);
    ppo_env_step(env, &a0, obs, &r);
    car_racing_get_debug(st, &d);
    CHECK(d.brake[0] == 0 && d.gas[2] == 0 && d.steer[0] == 0, "action 0");
    CHECK(ppo_env_step(env, &bad, obs, &r) == PPO_ENV_EINVAL, "action 5 accepted");
    CHECK(ppo_env_step(env, &half, obs, &r) == PPO_ENV_EINVAL, "action 0.5 accepted");
    free(obs);
    ppo_env_free(env);
}

static void test_time_limit(void)
{
    ppo_env *env = check_make_env("CarRacing-v3", NULL);
    float *obs = malloc(sizeof(float) * OBS_DIM);
    ppo_env_seed(env, 2);
    ppo_env_reset(env, obs);
    const float idle[3] = {0, 0, 0};
    ppo_step_result r = {0};
    int steps = 0;
    while (!r.terminated && !r.truncated) {
        ppo_env_step(env, idle, obs, &r);
        steps++;
        if (steps < 1000)
            CHECK(fabsf(r.reward - (steps == 1 ? r.reward : -0.1f)) < 1e-4f, "idle step %d reward %g", steps, r.reward);
    }
    CHECK(steps == 1000 && r.truncated && !r.terminated, "ended after %d steps (truncated %d)", steps, (int)r.truncated);
    CHECK(ppo_env_step(env, idle, obs, &r) == PPO_ENV_ESTATE, "step past the limit");
    free(obs);
    ppo_env_free(env);
}

/* Runs `steps` scripted actions; returns a hash of every observation, reward and car state. */
static uint64_t run_hash(ppo_env *env, uint64_t seed, int steps, float *obs)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    ppo_env_seed(env, seed);
    ppo_env_reset(env, obs);
    h = fnv1a(h, obs, sizeof(float) * OBS_DIM);
    for (int i = 0; i < steps; i++) {
        const float a[3] = {(float)sin(0.05 * i), 0.6f, i % 50 < 5 ? 0.5f : 0.0f};
        ppo_step_result r;
        if (ppo_env_step(env, a, obs, &r) != PPO_ENV_OK)
            break;
        car_racing_debug d;
        car_racing_get_debug(env_state(env), &d);
        h = fnv1a(h, obs, sizeof(float) * OBS_DIM);
        h = fnv1a(h, &r.reward, sizeof r.reward);
        h = fnv1a(h, d.hull, sizeof d.hull);
        h = fnv1a(h, d.wheel, sizeof d.wheel);
        if (r.terminated || r.truncated)
            break;
    }
    return h;
}

static void test_determinism_and_snapshot(void)
{
    float *obs = malloc(sizeof(float) * OBS_DIM);
    ppo_env *a = check_make_env("CarRacing-v3", NULL), *b = check_make_env("CarRacing-v3", NULL);
    const uint64_t ha = run_hash(a, 7, 300, obs);
    CHECK(ha == run_hash(b, 7, 300, obs), "same seed, different episode");
    CHECK(ha == run_hash(a, 7, 300, obs), "same env reset again, different episode (world rebuilt per reset)");
    const uint64_t hb = run_hash(b, 8, 300, obs);
    CHECK(ha != hb, "seeds 7 and 8 give the same episode");
    ppo_env_free(b);

    /* two envs stepped concurrently (each its own world and renderer) give the serial episodes */
    uint64_t hp[2] = {0, 0};
#pragma omp parallel for num_threads(2)
    for (int t = 0; t < 2; t++) {
        ppo_env *e = check_make_env("CarRacing-v3", NULL);
        float *o = malloc(sizeof(float) * OBS_DIM);
        hp[t] = run_hash(e, 7 + (uint64_t)t, 300, o);
        free(o);
        ppo_env_free(e);
    }
    CHECK(hp[0] == ha && hp[1] == hb, "2 threads: episodes differ from the serial ones");

    /* snapshot mid-episode, restore into a fresh env, both go on alike */
    ppo_env_seed(a, 11);
    ppo_env_reset(a, obs);
    const float act[3] = {0.2f, 0.8f, 0.0f};
    ppo_step_result r;
    for (int i = 0; i < 40; i++)
        ppo_env_step(a, act, obs, &r);
    const size_t n = env_snapshot_size(a);
    CHECK(n > 0, "no snapshot for CarRacing");
    void *buf = malloc(n);
    env_snapshot(a, buf);
    b = check_make_env("CarRacing-v3", NULL);
    CHECK(env_snapshot_size(b) == n, "snapshot size differs between envs");
    CHECK(env_restore(b, buf) == 0, "restore failed");
    float *obs_b = malloc(sizeof(float) * OBS_DIM);
    bool same = true;
    for (int i = 0; i < 30; i++) {
        ppo_step_result ra, rb;
        ppo_env_step(a, act, obs, &ra);
        ppo_env_step(b, act, obs_b, &rb);
        car_racing_debug da, db;
        car_racing_get_debug(env_state(a), &da);
        car_racing_get_debug(env_state(b), &db);
        same &= ra.reward == rb.reward && !memcmp(da.hull, db.hull, sizeof da.hull) &&
                !memcmp(obs, obs_b, sizeof(float) * OBS_DIM);
    }
    CHECK(same, "restored env diverges");
    ((unsigned char *)buf)[n - 1] ^= 0x40; /* the saved observation's last byte */
    ppo_env *c = check_make_env("CarRacing-v3", NULL);
    CHECK(env_restore(c, buf) == -1, "a corrupt observation restored");
    free(buf);
    free(obs_b);
    free(obs);
    ppo_env_free(a);
    ppo_env_free(b);
    ppo_env_free(c);
}

static void test_scene_and_obs(void)
{
    ppo_env *env = check_make_env("CarRacing-v3", NULL);
    float *obs = malloc(sizeof(float) * OBS_DIM);
    ppo_env_seed(env, 0);
    ppo_env_reset(env, obs);
    const cr_scene *sc = car_racing_scene(env_state(env));
    car_racing_debug d;
    car_racing_get_debug(env_state(env), &d);
    CHECK(sc->n_road == d.n_road && sc->n_road >= d.n_track, "road %d, tiles %d", sc->n_road, d.n_track);
    CHECK(sc->bg_rgb[0] == 102 && sc->bg_rgb[1] == 204 && sc->bg_rgb[2] == 102, "bg");
    CHECK(sc->grass_rgb[0] == 102 && sc->grass_rgb[1] == 230 && sc->grass_rgb[2] == 102, "grass");
    CHECK_NEAR(sc->t, 0.02, 1e-12, "t after reset");
    /* tile colours: int(102 + 0.01 * (i % 3) * 255) = 102, 104, 107; kerbs white or red */
    int counts[3] = {0}, untouched_ok = 1;
    for (int i = 0; i < sc->n_road; i++) {
        const uint8_t *c = sc->road[i].rgb;
        if (c[0] == 255)
            continue; /* kerb */
        counts[c[0] == 102 ? 0 : c[0] == 104 ? 1 : c[0] == 107 ? 2 : 0]++;
        untouched_ok &= (c[0] == 102 || c[0] == 104 || c[0] == 107) && c[1] == c[0] && c[2] == c[0];
    }
    CHECK(untouched_ok && counts[1] > 0 && counts[2] > 0, "tile colours %d %d %d", counts[0], counts[1], counts[2]);
    /* drive on: the touched tiles turn road_color (102) */
    const float a[3] = {0, 0.5f, 0};
    ppo_step_result r;
    for (int i = 0; i < 60; i++)
        ppo_env_step(env, a, obs, &r);
    int grey = 0;
    for (int i = 0; i < sc->n_road; i++)
        grey += sc->road[i].rgb[0] == 102;
    CHECK(grey > counts[0], "no tile recoloured: %d grey before, %d after", counts[0], grey);
    bool pixels_ok = true;
    for (int i = 0; i < OBS_DIM; i++)
        pixels_ok &= obs[i] >= 0 && obs[i] <= 255 && obs[i] == floorf(obs[i]);
    CHECK(pixels_ok, "observation values are not pixel values");
    ppo_env_free(env);

    env = check_make_env("CarRacing-v3", "domain_randomize=1");
    ppo_env_seed(env, 0);
    ppo_env_reset(env, obs);
    sc = car_racing_scene(env_state(env));
    int raised = 0;
    for (int k = 0; k < 3; k++) {
        const int diff = sc->grass_rgb[k] - sc->bg_rgb[k];
        CHECK(sc->bg_rgb[k] <= 210, "bg %d", sc->bg_rgb[k]);
        raised += diff >= 19 && diff <= 20; /* int(b + 20) - int(b) */
        CHECK(diff == 0 || (diff >= 19 && diff <= 20), "grass - bg = %d", diff);
    }
    CHECK(raised == 1, "grass raised on %d channels", raised);
    CHECK(!(sc->bg_rgb[0] == 102 && sc->bg_rgb[1] == 204), "colours not randomised");
    free(obs);
    ppo_env_free(env);
}

/* Draws from a uniform stream in Gymnasium's ranges; counts how many a reset consumed. */
static void test_retry(void)
{
    enum { N = 24 * 40 };
    static double draws[N];
    rng_t rng;
    rng_seed(&rng, 5);
    int retried = 0, resets = 0;
    ppo_env *env = check_make_env("CarRacing-v3", NULL);
    float *obs = malloc(sizeof(float) * OBS_DIM);
    for (int t = 0; t < 40; t++) {
        for (int i = 0; i < N; i += 2) {
            draws[i] = rng_uniform_range(&rng, 0, 2 * M_PI / 12);
            draws[i + 1] = rng_uniform_range(&rng, 150.0 / 3, 150.0);
        }
        car_racing_set_replay(env_state(env), draws, N);
        ppo_env_reset(env, obs);
        const int used = car_racing_replay_used(env_state(env));
        CHECK(used % 24 == 0 && used >= 24 && car_racing_replay_overrun(env_state(env)) == 0, "reset used %d draws",
              used);
        retried += used > 24;
        resets++;
    }
    car_racing_set_replay(env_state(env), NULL, 0);
    printf("track generation retried in %d of %d resets\n", retried, resets);
    CHECK(retried > 0, "no reset needed a second attempt: the retry path is untested");
    free(obs);
    ppo_env_free(env);
}

int main(void)
{
    test_spec();
    test_bad_options();
    test_discrete();
    test_time_limit();
    test_off_playfield();
    test_lap_rule();
    test_determinism_and_snapshot();
    test_scene_and_obs();
    test_retry();
    test_rewards();
    return CHECK_DONE();
}
