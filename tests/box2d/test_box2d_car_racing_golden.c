/* test_box2d_car_racing_golden: CarRacing-v3 against Gymnasium's recorded episodes
 * (tests/data/car_racing/trace.json, format in the file's "source" and docs of branch cr-ref): the
 * random draws Gymnasium made at reset go in through the replay hook, the recorded actions are stepped.
 *
 * Exact checks: every draw consumed one for one; the track (alpha, beta, x, y per point) equal to
 * Gymnasium's to 1e-9 (the same float64 formulas and libm). Step checks: Gymnasium ran Box2D 2.3 in
 * pybox2d, we run 2.4.1; with the steering limit switched per step as 2.3 does (car_dynamics.c) the
 * hull and wheel states (x, y, angle, velocities, wheel phase and omega) stay within 1.3e-3 over
 * 3 x 300 continuous and 100 discrete recorded steps (measured; 0.43 without that emulation, from the
 * first full steering lock). With frames.json (second argument) the scene of Gymnasium's seed-0
 * frames is checked too (road polygons, colours, t, score) and the pixels compared. Per episode we print the first step beyond 1e-3, 1e-2, 1e-1 and the
 * largest differences, and assert the tolerances below, about 8x what we measured. Usage:
 * test_box2d_car_racing_golden [trace.json]; exits 77 (skip) when the file is absent. */
#include <cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "envs/box2d_envs.h"
#include "envs/car_racing_scene.h"

const cr_scene *car_racing_scene(const void *state);

/* Tolerances, above the measured agreement (measured: reset 1.5e-5, all steps 1.3e-3, rewards 2.1e-7). */
#define TRACK_TOL 1e-9
#define RESET_TOL 1e-4   /* hull and wheel state after reset's step(None) */
#define EARLY_STEPS 20   /* the first steps, within RESET_TOL too */
#define STEP_TOL 1e-2    /* every recorded step */
#define REWARD_TOL 1e-5

static cJSON *load(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        printf("SKIP: %s not found (branch cr-ref makes it)\n", path);
        exit(77);
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *text = malloc((size_t)n + 1);
    if (!text || fread(text, 1, (size_t)n, f) != (size_t)n) {
        fprintf(stderr, "%s: cannot read\n", path);
        exit(1);
    }
    fclose(f);
    text[n] = 0;
    cJSON *root = cJSON_ParseWithLength(text, (size_t)n);
    free(text);
    if (!root) {
        fprintf(stderr, "%s: invalid JSON\n", path);
        exit(1);
    }
    return root;
}

static double num(const cJSON *j) { return cJSON_IsNumber(j) ? j->valuedouble : cJSON_IsBool(j) ? cJSON_IsTrue(j) : NAN; }
static const cJSON *at(const cJSON *a, int i) { return cJSON_GetArrayItem(a, i); }
static const cJSON *get(const cJSON *o, const char *k) { return cJSON_GetObjectItemCaseSensitive(o, k); }

/* Largest |ours - ref| over the hull (6 values) and the wheels (x, y, angle, phase, omega each); the
 * positions and angles alone in *pos_diff. */
static double state_diff(const car_racing_debug *d, const cJSON *step, double *pos_diff)
{
    const cJSON *hull = get(step, "hull"), *wheels = get(step, "wheels");
    double m = 0.0, p = 0.0;
    for (int i = 0; i < 6; i++) {
        const double e = fabs(d->hull[i] - num(at(hull, i)));
        m = fmax(m, isnan(e) ? INFINITY : e);
        if (i < 3)
            p = fmax(p, isnan(e) ? INFINITY : e);
    }
    for (int k = 0; k < 4; k++)
        for (int i = 0; i < 5; i++) {
            const double e = fabs(d->wheel[k][i] - num(at(at(wheels, k), i)));
            m = fmax(m, isnan(e) ? INFINITY : e);
            if (i < 3)
                p = fmax(p, isnan(e) ? INFINITY : e);
        }
    *pos_diff = p;
    return m;
}

/* frames.json's seed-0 frames are steps of trace episode 0 (the same follower): at those steps the
 * scene the env hands the renderer must be Gymnasium's (road_poly in order with int() colours, bg,
 * grass, t, the score), and the observation is compared with Gymnasium's pixels (printed: the picture
 * is the renderer's, branch cr-render). */
static const cJSON *frames_root;

static void check_frame(const void *st, const float *obs, int step)
{
    const cJSON *frames = get(frames_root, "frames");
    for (int f = 0; f < cJSON_GetArraySize(frames); f++) {
        const cJSON *fr = at(frames, f);
        const char *name = cJSON_GetStringValue(get(fr, "name"));
        int k = -1;
        if (!name || (sscanf(name, "seed 0, step %d", &k) != 1 && strncmp(name, "seed 0, right after reset", 25)))
            continue;
        if (k < 0)
            k = 0;
        if (k != step)
            continue;
        const cr_scene *sc = car_racing_scene(st);
        const cJSON *road = get(fr, "road");
        const int nr = cJSON_GetArraySize(road);
        CHECK(sc->n_road == nr, "frame '%s': %d road polygons, Gymnasium %d", name, sc->n_road, nr);
        double xy_diff = 0.0;
        int colour_bad = 0;
        for (int i = 0; i < nr && i < sc->n_road; i++) {
            const cJSON *p = at(road, i);
            for (int v = 0; v < 8; v++)
                xy_diff = fmax(xy_diff, fabs(sc->road[i].xy[v / 2][v % 2] - num(at(p, v))));
            for (int c = 0; c < 3; c++)
                colour_bad += sc->road[i].rgb[c] != (int)num(at(p, 8 + c));
        }
        CHECK(xy_diff <= 1e-9 && colour_bad == 0, "frame '%s': road vertices off by %g, %d colour components differ",
              name, xy_diff, colour_bad);
        for (int c = 0; c < 3; c++)
            CHECK(sc->bg_rgb[c] == (int)num(at(get(fr, "bg"), c)) && sc->grass_rgb[c] == (int)num(at(get(fr, "grass"), c)),
                  "frame '%s': bg/grass", name);
        CHECK(fabs(sc->t - num(get(fr, "t"))) <= 1e-12, "frame '%s': t %.17g", name, sc->t);
        /* the frame records env.reward after the step; the picture (and so the scene) shows it before
         * that step's -0.1, as Gymnasium renders first */
        const double shown = num(get(fr, "reward")) + (step > 0 ? 0.1 : 0.0);
        CHECK(fabs(sc->reward - shown) <= 1e-5, "frame '%s': score %.9g vs %.9g", name, sc->reward, shown);
        const char *hex = cJSON_GetStringValue(get(fr, "pixels"));
        int differ = 0, max_d = 0;
        for (int i = 0; hex && i < CR_STATE_H * CR_STATE_W * 3 && hex[2 * i]; i++) {
            unsigned v;
            sscanf(hex + 2 * i, "%2x", &v);
            const int d = abs((int)obs[i] - (int)v);
            differ += d != 0;
            max_d = d > max_d ? d : max_d;
        }
        printf("  frame '%.40s...' (step %d): road %d polygons, vertices within %.2g, colours equal: %s; pixels "
               "differing %d of %d, max |diff| %d\n", name, step, nr, xy_diff, colour_bad ? "no" : "yes", differ,
               CR_STATE_H * CR_STATE_W * 3, max_d);
    }
}

static void run_episode(const cJSON *ep, int index)
{
    const cJSON *opt = get(ep, "options");
    const bool continuous = cJSON_IsTrue(get(opt, "continuous"));
    char opts[160];
    snprintf(opts, sizeof opts, "continuous=%d,domain_randomize=%d,lap_complete_percent=%.17g", continuous,
             cJSON_IsTrue(get(opt, "domain_randomize")), num(get(opt, "lap_complete_percent")));
    ppo_env *env = check_make_env("CarRacing-v3", opts);
    void *st = env_state(env);
    const cJSON *draws = get(ep, "draws"), *track = get(ep, "track"), *steps = get(ep, "steps");
    const int nd = cJSON_GetArraySize(draws), nt = cJSON_GetArraySize(track), ns = cJSON_GetArraySize(steps);
    double *dv = malloc(sizeof *dv * (size_t)(nd ? nd : 1));
    for (int i = 0; i < nd; i++)
        dv[i] = num(at(draws, i));
    float *obs = malloc(sizeof(float) * (size_t)ppo_env_get_spec(env)->obs_dim);
    car_racing_set_replay(st, dv, nd);
    ppo_env_seed(env, (uint64_t)num(get(ep, "seed")));
    ppo_env_reset(env, obs);
    const int used = car_racing_replay_used(st), over = car_racing_replay_overrun(st);
    CHECK(used == nd && over == 0, "episode %d: %d of %d draws used, %d more wanted", index, used, nd, over);

    static double ours[4 * 2500];
    const int n = car_racing_track(st, ours, 2500);
    CHECK(n == nt, "episode %d: %d track points, Gymnasium %d", index, n, nt);
    double track_diff = 0.0;
    for (int i = 0; i < n && i < nt; i++)
        for (int k = 0; k < 4; k++)
            track_diff = fmax(track_diff, fabs(ours[4 * i + k] - num(at(at(track, i), k))));
    CHECK(track_diff <= TRACK_TOL, "episode %d: track differs by %g", index, track_diff);

    int first[3] = {-1, -1, -1}; /* first step beyond 1e-3, 1e-2, 1e-1 */
    const double tols[3] = {1e-3, 1e-2, 1e-1};
    double reset_diff = NAN, max_early = 0.0, max_reward = 0.0, max_all = 0.0;
    int tiles_match = 0, ended_ours = -1, ended_ref = -1, compared = 0;
    for (int k = 0; k < ns; k++) {
        const cJSON *s = at(steps, k);
        if (k > 0) {
            const cJSON *a = get(s, "action");
            float act[3] = {0, 0, 0};
            if (continuous)
                for (int i = 0; i < 3; i++)
                    act[i] = (float)num(at(a, i));
            else
                act[0] = (float)num(a);
            ppo_step_result r;
            if (ppo_env_step(env, act, obs, &r) != PPO_ENV_OK)
                break;
            max_reward = fmax(max_reward, fabs((double)r.reward - num(get(s, "reward"))));
            if (r.terminated && ended_ours < 0)
                ended_ours = k;
            if (cJSON_IsTrue(get(s, "terminated")) && ended_ref < 0)
                ended_ref = k;
        }
        if (index == 0 && frames_root)
            check_frame(st, obs, k);
        car_racing_debug d;
        car_racing_get_debug(st, &d);
        double pos;
        const double diff = state_diff(&d, s, &pos);
        compared++;
        max_all = fmax(max_all, diff);
        if (k == 0)
            reset_diff = diff;
        if (k <= EARLY_STEPS)
            max_early = fmax(max_early, diff);
        for (int t = 0; t < 3; t++)
            if (first[t] < 0 && diff > tols[t])
                first[t] = k;
        tiles_match += d.tile_visited_count == (int)num(get(s, "tile_visited_count"));
        if (cJSON_IsTrue(get(s, "terminated")) || cJSON_IsTrue(get(s, "truncated")))
            break;
    }
    printf("episode %d (seed %g, %s): %d draws, %d track points, track diff %.3g; %d steps compared: state diff "
           "at reset %.3g, max over steps 0..%d %.3g, over all %.3g; first step beyond 1e-3/1e-2/1e-1: %d/%d/%d; "
           "max reward diff %.3g; tile_visited_count equal on %d of %d; terminated at %d (Gymnasium %d)\n",
           index, num(get(ep, "seed")), opts, nd, nt, track_diff, compared, reset_diff, EARLY_STEPS, max_early, max_all,
           first[0], first[1], first[2], max_reward, tiles_match, compared, ended_ours, ended_ref);
    if (ns > 0) {
        CHECK(reset_diff <= RESET_TOL, "episode %d: state after reset differs by %g", index, reset_diff);
        CHECK(max_early <= RESET_TOL, "episode %d: state within %d steps differs by %g", index, EARLY_STEPS, max_early);
        CHECK(max_all <= STEP_TOL, "episode %d: state differs by %g", index, max_all);
        CHECK(max_reward <= REWARD_TOL, "episode %d: rewards differ by %g", index, max_reward);
        CHECK(tiles_match == compared, "episode %d: tile_visited_count differs on %d steps", index, compared - tiles_match);
        CHECK(ended_ours == ended_ref, "episode %d: terminated at %d, Gymnasium at %d", index, ended_ours, ended_ref);
    }
    free(obs);
    free(dv);
    ppo_env_free(env);
}

int main(int argc, char **argv)
{
    const char *path = argc > 1 ? argv[1] : "tests/data/car_racing/trace.json";
    cJSON *root = load(path);
    if (argc > 2) { /* frames.json; optional */
        FILE *f = fopen(argv[2], "rb");
        if (f) {
            fclose(f);
            frames_root = load(argv[2]);
        }
    }
    const cJSON *eps = get(root, "episodes");
    CHECK(cJSON_GetArraySize(eps) > 0, "no episodes in %s", path);
    for (int e = 0; e < cJSON_GetArraySize(eps); e++)
        run_episode(at(eps, e), e);
    cJSON_Delete(root);
    cJSON_Delete((cJSON *)frames_root);
    return CHECK_DONE();
}
