/* test_policy_api: the public policy API (include/ppo/policy.h) on policies the real `ppo` trained
 * (tests/api/test_policy_api.py trains them and drives this program).
 *   test_policy_api episode POLICY SEED greedy|sample-xor|sample-mix
 *                                                      one episode as `ppo eval --episodes 1 --seed SEED
 *                                                      [--stochastic]` runs it; prints its return
 *   test_policy_api checks DISCRETE CONTINUOUS NOT_A_POLICY TRUNCATED
 *                                                      batches, sampling, values, bad inputs */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "ppo/policy.h"
#include "util/rng.h"

#define ROWS 64

static ppo_policy *load_or_die(const char *path)
{
    char err[512];
    ppo_policy *p = ppo_policy_load(path, err, sizeof err);
    if (!p) {
        fprintf(stderr, "ppo_policy_load(%s): %s\n", path, err);
        exit(1);
    }
    return p;
}

/* One episode of the policy's env seeded with seed; sampled actions draw from the stream the evaluation runner
 * gives episode 0. src/ppo/eval.c seeds it with rng_mix(seed ^ 0x5eed5eed, 0) ("xor", main up to
 * 8844793) or, after the evalrun branch's fb64862, rng_mix(seed, 0x5eed5eed) ("mix"); the driver accepts
 * either (drop "xor" once both are merged). */
static int episode(const char *path, unsigned long long seed, const char *mode)
{
    const bool sample = strcmp(mode, "greedy") != 0;
    ppo_policy *p = load_or_die(path);
    const ppo_policy_info *info = ppo_policy_get_info(p);
    ppo_env *env = check_make_env(info->env_id, info->env_options);
    ppo_rng rng;
    rng_t r;
    rng_seed(&r, !strcmp(mode, "sample-xor") ? rng_mix(seed ^ 0x5eed5eedULL, 0) : rng_mix(seed, 0x5eed5eedULL));
    memcpy(rng.s, r.s, sizeof rng.s);
    ppo_env_seed(env, seed);
    float obs[PPO_ENV_MAX_OBS_DIM], action[PPO_ENV_MAX_ACTION_DIM];
    ppo_env_reset(env, obs);
    ppo_step_result res = {0};
    double ret = 0.0;
    int len = 0;
    char err[512];
    while (!res.terminated && !res.truncated) {
        int rc = ppo_policy_act(p, obs, 1, info->obs_dim, sample ? PPO_POLICY_SAMPLE : PPO_POLICY_GREEDY, &rng,
                                action, NULL, err, sizeof err);
        CHECK(rc == PPO_POLICY_OK, "step %d: %s", len, err);
        if (rc || ppo_env_step(env, action, obs, &res) != PPO_ENV_OK)
            break;
        ret += res.reward;
        len++;
    }
    printf("return %.2f length %d\n", ret, len);
    ppo_env_free(env);
    ppo_policy_free(p);
    return CHECK_DONE();
}

/* ROWS observations from greedy episodes of the policy's env, (ROWS, obs_dim). */
static void collect_obs(ppo_policy *p, float *rows)
{
    const ppo_policy_info *info = ppo_policy_get_info(p);
    ppo_env *env = check_make_env(info->env_id, info->env_options);
    ppo_env_seed(env, 99);
    float obs[PPO_ENV_MAX_OBS_DIM], a[PPO_ENV_MAX_ACTION_DIM];
    char err[512];
    ppo_env_reset(env, obs);
    for (int i = 0; i < ROWS; i++) {
        memcpy(rows + (size_t)i * info->obs_dim, obs, sizeof(float) * info->obs_dim);
        ppo_step_result r;
        ppo_policy_act(p, obs, 1, info->obs_dim, PPO_POLICY_GREEDY, NULL, a, NULL, err, sizeof err);
        if (ppo_env_step(env, a, obs, &r) != PPO_ENV_OK || r.terminated || r.truncated)
            ppo_env_reset(env, obs);
    }
    ppo_env_free(env);
}

/* A batch call gives each row what a one-row call gives it; sampling replays from a copied stream. */
static void check_batches(const char *path, const char *env_id, int action_dim)
{
    ppo_policy *p = load_or_die(path);
    const ppo_policy_info *info = ppo_policy_get_info(p);
    CHECK(!strcmp(info->env_id, env_id) && info->action_dim == action_dim && info->normalizes_obs &&
              info->global_step > 0 && strlen(info->run_id) == 32,
          "%s: info env %s, action_dim %d, normalizes_obs %d, step %lld, run id '%s'", path, info->env_id,
          info->action_dim, info->normalizes_obs, info->global_step, info->run_id);
    const int od = info->obs_dim, ad = info->action_dim;
    float obs[ROWS * PPO_ENV_MAX_OBS_DIM], act[ROWS * PPO_ENV_MAX_ACTION_DIM], one[PPO_ENV_MAX_ACTION_DIM];
    float val[ROWS], v1;
    char err[512];
    collect_obs(p, obs);
    CHECK(ppo_policy_act(p, obs, ROWS, od, PPO_POLICY_GREEDY, NULL, act, val, err, sizeof err) == 0, "%s", err);
    double max_a = 0, max_v = 0;
    for (int i = 0; i < ROWS; i++) {
        CHECK(ppo_policy_act(p, obs + (size_t)i * od, 1, od, PPO_POLICY_GREEDY, NULL, one, &v1, err, sizeof err) == 0,
              "%s", err);
        for (int d = 0; d < ad; d++)
            max_a = fmax(max_a, fabs(one[d] - act[(size_t)i * ad + d]));
        max_v = fmax(max_v, fabs(v1 - val[i]) / fmax(1.0, fabs(val[i])));
        CHECK(isfinite(val[i]), "row %d: value %g", i, val[i]);
    }
    printf("%s: %d rows in one call vs one by one: greedy actions max diff %.3g, values max rel diff %.3g\n", env_id,
           ROWS, max_a, max_v);
    CHECK(info->action_kind == PPO_ACTION_CONTINUOUS ? max_a <= 1e-5 : max_a == 0, "greedy batch vs rows %g", max_a);
    CHECK(max_v <= 1e-5, "values batch vs rows %g", max_v);

    /* sampling: the same stream gives the same actions; another stream others; greedy stays greedy */
    ppo_rng r1, r2, keep;
    ppo_rng_seed(&r1, 7);
    keep = r1;
    float s1[ROWS * PPO_ENV_MAX_ACTION_DIM], s2[ROWS * PPO_ENV_MAX_ACTION_DIM];
    CHECK(ppo_policy_act(p, obs, ROWS, od, PPO_POLICY_SAMPLE, &r1, s1, NULL, err, sizeof err) == 0, "%s", err);
    CHECK(memcmp(&r1, &keep, sizeof r1) != 0, "the rng did not advance");
    r2 = keep;
    CHECK(ppo_policy_act(p, obs, ROWS, od, PPO_POLICY_SAMPLE, &r2, s2, NULL, err, sizeof err) == 0, "%s", err);
    CHECK(!memcmp(s1, s2, sizeof(float) * ROWS * ad) && !memcmp(&r1, &r2, sizeof r1), "same seed, other samples");
    ppo_rng_seed(&r2, 8);
    CHECK(ppo_policy_act(p, obs, ROWS, od, PPO_POLICY_SAMPLE, &r2, s2, NULL, err, sizeof err) == 0, "%s", err);
    int differ = 0, off_greedy = 0;
    for (int i = 0; i < ROWS * ad; i++) {
        differ += s1[i] != s2[i];
        off_greedy += s1[i] != act[i];
    }
    printf("%s: sampled: %d of %d action values differ between seeds 7 and 8, %d differ from greedy\n", env_id,
           differ, ROWS * ad, off_greedy);
    CHECK(differ > 0 && off_greedy > 0, "sampling looks greedy: %d, %d", differ, off_greedy);
    ppo_policy_free(p);
}

/* Threads: each loads its own policy and acts on the same rows; every result must equal the serial one. */
typedef struct {
    const char *path;
    const float *obs;
    float act[ROWS * PPO_ENV_MAX_ACTION_DIM], val[ROWS];
    int rc;
} thread_job;

static void *thread_act(void *arg)
{
    thread_job *j = arg;
    char err[512];
    ppo_policy *p = ppo_policy_load(j->path, err, sizeof err);
    j->rc = p ? 0 : -1;
    for (int k = 0; p && k < 50 && !j->rc; k++)
        j->rc = ppo_policy_act(p, j->obs, ROWS, ppo_policy_get_info(p)->obs_dim, PPO_POLICY_GREEDY, NULL, j->act,
                               j->val, err, sizeof err);
    ppo_policy_free(p);
    return NULL;
}

static void check_threads(const char *path)
{
    ppo_policy *p = load_or_die(path);
    const int od = ppo_policy_get_info(p)->obs_dim, ad = ppo_policy_get_info(p)->action_dim;
    float obs[ROWS * PPO_ENV_MAX_OBS_DIM];
    collect_obs(p, obs);
    thread_job serial = {.path = path, .obs = obs}, jobs[4];
    char err[512];
    CHECK(ppo_policy_act(p, obs, ROWS, od, PPO_POLICY_GREEDY, NULL, serial.act, serial.val, err, sizeof err) == 0,
          "%s", err);
    ppo_policy_free(p);
    pthread_t t[4];
    for (int i = 0; i < 4; i++) {
        jobs[i] = (thread_job){.path = path, .obs = obs};
        pthread_create(&t[i], NULL, thread_act, &jobs[i]);
    }
    int same = 0;
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        same += jobs[i].rc == 0 && !memcmp(jobs[i].act, serial.act, sizeof(float) * ROWS * ad) &&
                !memcmp(jobs[i].val, serial.val, sizeof serial.val);
    }
    printf("%s: 4 threads, one policy each, 50 calls of %d rows: %d of 4 equal the serial result\n", path, ROWS,
           same);
    CHECK(same == 4, "threads: %d of 4 equal", same);
}

/* Bad input: one clear error, nothing written, no crash. */
static void check_bad_input(const char *good, const char *not_policy, const char *truncated)
{
    char err[512];
    const struct {
        const char *path, *want;
    } files[] = {{"/nonexistent/x.policy.h5", "no such readable file"},
                 {not_policy, "not a ppo policy checkpoint"},
                 {truncated, "not an HDF5 file, or corrupt"},
                 {"/etc/hostname", "not an HDF5 file"}};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        err[0] = 0;
        ppo_policy *p = ppo_policy_load(files[i].path, err, sizeof err);
        CHECK(!p && strstr(err, files[i].want) && strstr(err, files[i].path) && !strchr(err, '\n'),
              "load(%s): %s", files[i].path, err);
        printf("load %s: %s\n", files[i].path, err);
        ppo_policy_free(p);
    }
    ppo_policy *p = load_or_die(good);
    const int od = ppo_policy_get_info(p)->obs_dim;
    float obs[2 * PPO_ENV_MAX_OBS_DIM] = {0}, act[2] = {-5, -5};
    ppo_rng rng;
    ppo_rng_seed(&rng, 1);
    const struct {
        const float *obs;
        int n, dim, mode;
        ppo_rng *rng;
        const char *want;
    } calls[] = {{obs, 1, od + 1, PPO_POLICY_GREEDY, NULL, "observation rows of 5 floats, this CartPole-v1 policy takes 4"},
                 {obs, 1, od - 1, PPO_POLICY_GREEDY, NULL, "takes 4"},
                 {obs, 0, od, PPO_POLICY_GREEDY, NULL, "1 to 1048576 rows, got 0"},
                 {NULL, 1, od, PPO_POLICY_GREEDY, NULL, "needs obs and actions"},
                 {obs, 1, od, PPO_POLICY_SAMPLE, NULL, "needs a ppo_rng"},
                 {obs, 1, od, 7, &rng, "mode 7 is not"}};
    for (size_t i = 0; i < sizeof calls / sizeof calls[0]; i++) {
        err[0] = 0;
        int rc = ppo_policy_act(p, calls[i].obs, calls[i].n, calls[i].dim, (ppo_policy_mode)calls[i].mode,
                                calls[i].rng, act, NULL, err, sizeof err);
        CHECK(rc == PPO_POLICY_EINVAL && strstr(err, calls[i].want) && act[0] == -5, "call %zu: rc %d, err '%s'", i,
              rc, err);
        printf("act call %zu: %s\n", i, err);
    }
    obs[od + 2] = NAN; /* row 1, component 2 */
    int rc = ppo_policy_act(p, obs, 2, od, PPO_POLICY_GREEDY, NULL, act, NULL, err, sizeof err);
    CHECK(rc == PPO_POLICY_EINVAL && strstr(err, "row 1, component 2 is nan") && act[0] == -5, "NaN obs: %d %s", rc,
          err);
    printf("act with NaN: %s\n", err);
    ppo_policy_free(p);
}

int main(int argc, char **argv)
{
    if (argc == 5 && !strcmp(argv[1], "episode"))
        return episode(argv[2], strtoull(argv[3], NULL, 10), argv[4]);
    if (argc != 6 || strcmp(argv[1], "checks")) {
        fprintf(stderr, "usage: see the file's opening comment\n");
        return 2;
    }
    check_batches(argv[2], "CartPole-v1", 1);
    check_batches(argv[3], "Pendulum-v1", 1);
    check_threads(argv[3]);
    check_bad_input(argv[2], argv[4], argv[5]);
    return CHECK_DONE();
}
