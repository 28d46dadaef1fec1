/* bench_envs: env-only throughput with random actions and auto-reset, for every registered env (or
 * those named on the command line): one env per thread, on 1 thread and on all OpenMP threads.
 * Usage: bench_envs [--steps N] [ENV_ID ...]   (N steps per thread, default 1000000) */
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ppo/env.h"
#include "util/rng.h"

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Steps/second summed over `threads` threads, each stepping its own env `steps` times. */
static double run(const char *id, int threads, long steps)
{
    double start = 0, end = 0;
    int failed = 0;
#pragma omp parallel num_threads(threads) reduction(+ : failed)
    {
        char err[256];
        ppo_env *env = ppo_env_make(id, NULL, err, sizeof err);
        if (!env) {
            failed++;
        } else {
            const ppo_env_spec *s = ppo_env_get_spec(env);
            rng_t rng;
            rng_seed(&rng, (uint64_t)omp_get_thread_num() + 1);
            ppo_env_seed(env, (uint64_t)omp_get_thread_num());
            float action[PPO_ENV_MAX_ACTION_DIM];
            float *obs = malloc(sizeof(float) * (size_t)s->obs_dim); /* (obs_dim): images are large */
            if (!obs)
                abort();
            ppo_env_reset(env, obs);
#pragma omp barrier
#pragma omp master
            start = now_seconds();
            for (long i = 0; i < steps; i++) {
                if (s->action_kind == PPO_ACTION_DISCRETE)
                    action[0] = (float)rng_below(&rng, (uint32_t)s->action_count);
                else
                    for (int d = 0; d < s->action_dim; d++)
                        action[d] = (float)rng_uniform_range(&rng, s->action_low[d], s->action_high[d]);
                ppo_step_result r;
                ppo_env_step(env, action, obs, &r);
                if (r.terminated || r.truncated)
                    ppo_env_reset(env, obs);
            }
#pragma omp barrier
#pragma omp master
            end = now_seconds();
            free(obs);
            ppo_env_free(env);
        }
    }
    return failed ? NAN : (double)steps * threads / (end - start);
}

int main(int argc, char **argv)
{
    long steps = 1000000;
    int first_id = 1;
    if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        printf("usage: bench_envs [--steps N] [ENV_ID ...]\n"
               "env-only steps/s with random actions on 1 thread and on OMP_NUM_THREADS threads (one env each)\n");
        return 0;
    }
    if (argc > 2 && !strcmp(argv[1], "--steps")) {
        steps = atol(argv[2]);
        first_id = 3;
        if (steps <= 0) {
            fprintf(stderr, "bench_envs: --steps needs a positive count, not '%s'\n", argv[2]);
            return 2;
        }
    }
    for (int i = first_id; i < argc; i++) { /* one line for a misspelt id, before any timing */
        char err[256];
        ppo_env *env = ppo_env_make(argv[i], NULL, err, sizeof err);
        if (!env) {
            fprintf(stderr, "bench_envs: %s\n", err);
            return 2;
        }
        ppo_env_free(env);
    }
    const int threads = omp_get_max_threads();
    printf("env-only throughput, random actions, auto-reset, %ld steps per thread\n", steps);
    printf("%-28s %16s %22s\n", "env", "steps/s 1 thread", "steps/s");
    const int n = argc > first_id ? argc - first_id : ppo_env_count();
    for (int i = 0; i < n; i++) {
        const char *id = argc > first_id ? argv[first_id + i] : ppo_env_id_at(i);
        const double one = run(id, 1, steps);
        const double all = threads > 1 ? run(id, threads, steps) : one;
        char label[32];
        snprintf(label, sizeof label, "%d threads", threads);
        printf("%-28s %16.0f %14.0f (%s)\n", id, one, all, label);
    }
    return 0;
}
