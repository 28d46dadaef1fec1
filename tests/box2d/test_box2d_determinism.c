/* test_box2d_determinism: Box2D env trajectories are a function of seed and actions only.
 *  - the same seed and actions give bit-identical trajectories (hash of obs, rewards, flags);
 *  - N envs stepped in an OpenMP loop give the same per-env hashes serially, with 1 thread and with
 *    2 threads under static, cyclic and dynamic schedules;
 *  - an episode does not depend on what the env ran before it (a fresh Box2D world per reset);
 *  - a different seed gives a different trajectory. */
#include <omp.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "envs/box2d_envs.h"

#define N_ENVS 8
#define T_STEPS 400

static const char *const env_ids[N_ENVS] = {
    "LunarLander-v3",   "LunarLanderContinuous-v3", "BipedalWalker-v3", "LunarLander-v3",
    "LunarLander-v3",   "LunarLanderContinuous-v3", "BipedalWalkerHardcore-v3", "LunarLanderContinuous-v3"};
static const char *const env_opts[N_ENVS] = {NULL, NULL, NULL, "enable_wind=1", NULL, "enable_wind=1", NULL, NULL};

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 0x100000001b3ULL;
    return h;
}

/* Random actions, sometimes beyond the bounds so clipping is exercised; from the env's own stream. */
static void random_action(const ppo_env_spec *sp, rng_t *r, float *a)
{
    if (sp->action_kind == PPO_ACTION_DISCRETE)
        a[0] = (float)rng_below(r, (uint32_t)sp->action_count);
    else
        for (int i = 0; i < sp->action_dim; i++)
            a[i] = (float)rng_uniform_range(r, -1.3, 1.3);
}

typedef struct {
    ppo_env *env;
    rng_t act_rng;
    float obs[PPO_ENV_MAX_OBS_DIM];
    uint64_t hash;
    int episodes;
} slot;

static void slot_open(slot *s, int i, uint64_t seed)
{
    char err[256];
    s->env = ppo_env_make(env_ids[i], env_opts[i], err, sizeof err);
    if (!s->env) {
        fprintf(stderr, "make %s: %s\n", env_ids[i], err);
        exit(1);
    }
    ppo_env_seed(s->env, rng_mix(seed, (uint64_t)i));
    rng_seed(&s->act_rng, rng_mix(seed ^ 0xabcdefULL, (uint64_t)i));
    ppo_env_reset(s->env, s->obs);
    s->hash = fnv(0xcbf29ce484222325ULL, s->obs, sizeof(float) * (size_t)ppo_env_get_spec(s->env)->obs_dim);
    s->episodes = 0;
}

static void slot_step(slot *s)
{
    const ppo_env_spec *sp = ppo_env_get_spec(s->env);
    float a[PPO_ENV_MAX_ACTION_DIM];
    random_action(sp, &s->act_rng, a);
    ppo_step_result r;
    ppo_env_step(s->env, a, s->obs, &r);
    s->hash = fnv(s->hash, s->obs, sizeof(float) * (size_t)sp->obs_dim);
    s->hash = fnv(s->hash, &r.reward, sizeof r.reward);
    unsigned char flags = (unsigned char)(r.terminated | r.truncated << 1);
    s->hash = fnv(s->hash, &flags, 1);
    if (r.terminated || r.truncated) { /* auto-reset, as the trainer does */
        ppo_env_reset(s->env, s->obs);
        s->hash = fnv(s->hash, s->obs, sizeof(float) * (size_t)sp->obs_dim);
        s->episodes++;
    }
}

enum { RUN_SERIAL, RUN_STATIC, RUN_CYCLIC, RUN_DYNAMIC };

/* Makes the envs serially, steps them T_STEPS times in the given mode, frees them serially. */
static void run(int mode, int threads, uint64_t seed, uint64_t *hashes, int *episodes)
{
    slot slots[N_ENVS];
    for (int i = 0; i < N_ENVS; i++)
        slot_open(&slots[i], i, seed);
    for (int t = 0; t < T_STEPS; t++) {
        if (mode == RUN_SERIAL) {
            for (int i = 0; i < N_ENVS; i++)
                slot_step(&slots[i]);
        } else if (mode == RUN_STATIC) {
#pragma omp parallel for num_threads(threads) schedule(static)
            for (int i = 0; i < N_ENVS; i++)
                slot_step(&slots[i]);
        } else if (mode == RUN_CYCLIC) {
#pragma omp parallel for num_threads(threads) schedule(static, 1)
            for (int i = 0; i < N_ENVS; i++)
                slot_step(&slots[i]);
        } else {
#pragma omp parallel for num_threads(threads) schedule(dynamic, 1)
            for (int i = 0; i < N_ENVS; i++)
                slot_step(&slots[i]);
        }
    }
    for (int i = 0; i < N_ENVS; i++) {
        hashes[i] = slots[i].hash;
        episodes[i] = slots[i].episodes;
        ppo_env_free(slots[i].env);
    }
}

/* One episode's hash for env id/opts with env seed `seed`, after first running `warmup` episodes with
 * another seed in the same env (0 = a fresh env). */
static uint64_t episode_hash(int i, uint64_t seed, int warmup)
{
    slot s;
    slot_open(&s, i, 999);
    rng_t act;
    for (int e = 0; e < warmup; e++) {
        ppo_step_result r;
        do {
            float a[PPO_ENV_MAX_ACTION_DIM];
            random_action(ppo_env_get_spec(s.env), &s.act_rng, a);
            ppo_env_step(s.env, a, s.obs, &r);
        } while (!r.terminated && !r.truncated);
        ppo_env_reset(s.env, s.obs);
    }
    ppo_env_seed(s.env, seed);
    rng_seed(&act, seed);
    ppo_env_reset(s.env, s.obs);
    const ppo_env_spec *sp = ppo_env_get_spec(s.env);
    uint64_t h = fnv(0xcbf29ce484222325ULL, s.obs, sizeof(float) * (size_t)sp->obs_dim);
    ppo_step_result r;
    do {
        float a[PPO_ENV_MAX_ACTION_DIM];
        random_action(sp, &act, a);
        ppo_env_step(s.env, a, s.obs, &r);
        h = fnv(h, s.obs, sizeof(float) * (size_t)sp->obs_dim);
        h = fnv(h, &r.reward, sizeof r.reward);
    } while (!r.terminated && !r.truncated);
    ppo_env_free(s.env);
    return h;
}

int main(void)
{
    uint64_t ref[N_ENVS], h[N_ENVS];
    int eps[N_ENVS], eps2[N_ENVS];
    run(RUN_SERIAL, 1, 42, ref, eps);
    int total_eps = 0;
    for (int i = 0; i < N_ENVS; i++)
        total_eps += eps[i];
    printf("serial reference: %d envs x %d steps, %d auto-resets\n", N_ENVS, T_STEPS, total_eps);
    CHECK(total_eps > N_ENVS, "too few episodes ended (%d) to exercise auto-reset", total_eps);

    run(RUN_SERIAL, 1, 42, h, eps2);
    CHECK(!memcmp(ref, h, sizeof ref), "serial rerun differs");

    const struct {
        int mode, threads;
        const char *name;
    } modes[] = {{RUN_STATIC, 1, "1 thread, static"},
                 {RUN_STATIC, 2, "2 threads, static"},
                 {RUN_CYCLIC, 2, "2 threads, static,1"},
                 {RUN_DYNAMIC, 2, "2 threads, dynamic,1"}};
    for (size_t m = 0; m < sizeof modes / sizeof modes[0]; m++) {
        run(modes[m].mode, modes[m].threads, 42, h, eps2);
        int same = 0;
        for (int i = 0; i < N_ENVS; i++)
            same += h[i] == ref[i];
        printf("%-22s: %d/%d env trajectories bit-identical to serial\n", modes[m].name, same, N_ENVS);
        CHECK(same == N_ENVS, "%s: %d of %d envs differ", modes[m].name, N_ENVS - same, N_ENVS);
    }

    run(RUN_SERIAL, 1, 43, h, eps2);
    int differ = 0;
    for (int i = 0; i < N_ENVS; i++)
        differ += h[i] != ref[i];
    CHECK(differ == N_ENVS, "another seed left %d envs unchanged", N_ENVS - differ);

    /* Episode independence: the same episode after 0 or 3 unrelated episodes. */
    for (int i = 0; i < N_ENVS; i++) {
        uint64_t a = episode_hash(i, 7, 0), b = episode_hash(i, 7, 3);
        CHECK(a == b, "%s: episode depends on earlier episodes", env_ids[i]);
    }
    printf("episodes independent of the env's history: checked for %d envs\n", N_ENVS);
    return CHECK_DONE();
}
