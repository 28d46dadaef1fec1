/* bench_box2d_envs: env-only throughput of the Box2D envs (not a test; no network, no PPO).
 * Steps N envs with random actions and auto-reset, first on one thread, then in an OpenMP loop over
 * 2 threads (each region steps every env CHUNK times), and prints steps per second (resets included
 * in the time, not counted as steps).
 *
 *     build/tests/box2d/bench_box2d_envs [seconds per measurement, default 2] */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>

#include "envs/env_class.h"

#define N_ENVS 16
#define CHUNK 32

typedef struct {
    ppo_env *env;
    rng_t act;
    float obs[PPO_ENV_MAX_OBS_DIM];
    long steps, resets;
} slot;

static void slot_step(slot *s)
{
    const ppo_env_spec *sp = ppo_env_get_spec(s->env);
    float a[PPO_ENV_MAX_ACTION_DIM];
    if (sp->action_kind == PPO_ACTION_DISCRETE)
        a[0] = (float)rng_below(&s->act, (uint32_t)sp->action_count);
    else
        for (int i = 0; i < sp->action_dim; i++)
            a[i] = (float)rng_uniform_range(&s->act, -1.0, 1.0);
    ppo_step_result r;
    ppo_env_step(s->env, a, s->obs, &r);
    s->steps++;
    if (r.terminated || r.truncated) {
        ppo_env_reset(s->env, s->obs);
        s->resets++;
    }
}

/* Returns steps per second over about `seconds` of wall time with `threads` threads. */
static double measure(slot *slots, int threads, double seconds, long *resets)
{
    long before = 0, rb = 0;
    for (int i = 0; i < N_ENVS; i++)
        before += slots[i].steps, rb += slots[i].resets;
    double t0 = omp_get_wtime(), t1 = t0;
    while (t1 - t0 < seconds) {
        /* CHUNK steps per env per parallel region: this measures the envs, not OpenMP's barrier (which on
         * a shared, busy machine can cost a whole scheduler time slice when a thread is preempted). */
#pragma omp parallel for num_threads(threads) schedule(static)
        for (int i = 0; i < N_ENVS; i++)
            for (int rep = 0; rep < CHUNK; rep++)
                slot_step(&slots[i]);
        t1 = omp_get_wtime();
    }
    long after = 0, ra = 0;
    for (int i = 0; i < N_ENVS; i++)
        after += slots[i].steps, ra += slots[i].resets;
    *resets = ra - rb;
    return (double)(after - before) / (t1 - t0);
}

int main(int argc, char **argv)
{
    double seconds = argc > 1 ? atof(argv[1]) : 2.0;
    const char *ids[] = {"LunarLander-v3", "LunarLanderContinuous-v3", "BipedalWalker-v3"};
    printf("%-26s %14s %14s %8s   (%d envs, random actions, auto-reset, %.1f s each)\n", "env", "1 thread", "2 threads",
           "speedup", N_ENVS, seconds);
    for (size_t k = 0; k < sizeof ids / sizeof ids[0]; k++) {
        slot slots[N_ENVS];
        for (int i = 0; i < N_ENVS; i++) {
            char err[256];
            slots[i].env = ppo_env_make(ids[k], NULL, err, sizeof err);
            if (!slots[i].env) {
                fprintf(stderr, "%s\n", err);
                return 1;
            }
            ppo_env_seed(slots[i].env, rng_mix(1, (uint64_t)i));
            rng_seed(&slots[i].act, rng_mix(2, (uint64_t)i));
            ppo_env_reset(slots[i].env, slots[i].obs);
            slots[i].steps = slots[i].resets = 0;
        }
        long r1, r2;
        double one = measure(slots, 1, seconds, &r1);
        double two = measure(slots, 2, seconds, &r2);
        printf("%-26s %10.0f st/s %10.0f st/s %7.2fx   (%ld and %ld resets)\n", ids[k], one, two, two / one, r1, r2);
        for (int i = 0; i < N_ENVS; i++)
            ppo_env_free(slots[i].env);
    }
    return 0;
}
