/* phase_clock: where an update's wall time goes, by phase. Lap-based: every lap charges the time since
 * the previous one to a phase, so the phases of an update add up to its wall time on this rank.
 * Not collective; the trainer and the CLI each charge their own work. */
#ifndef PPO_RUNTIME_PHASE_CLOCK_H
#define PPO_RUNTIME_PHASE_CLOCK_H

#include <omp.h>

typedef enum {
    PHASE_ENV,   /* env stepping, action sampling, episode bookkeeping */
    PHASE_INFER, /* policy inference in the rollout (obs normalisation included) */
    PHASE_GAE,   /* advantages and returns */
    PHASE_GRAD,  /* minibatch gather, forward, loss, backward, summing the threads' gradients */
    PHASE_COMM,  /* the trainer's collectives: gradients, advantage and normaliser statistics (waits included) */
    PHASE_OPTIM, /* gradient norm, clipping, Adam, update statistics */
    PHASE_LOG,   /* gathers to rank 0, log rows, checkpoints, the signal vote */
    PHASE_COUNT
} run_phase;

/* Short names, as in the /metrics columns time_<name> and the progress line. */
static const char *const run_phase_names[PHASE_COUNT] = {"env", "infer", "gae", "grad", "comm", "optim", "log"};

typedef struct {
    double sec[PHASE_COUNT]; /* seconds charged since the last reset */
    double mark;             /* end of the last lap */
} phase_clock;

static inline void phase_clock_reset(phase_clock *c)
{
    for (int p = 0; p < PHASE_COUNT; p++)
        c->sec[p] = 0.0;
    c->mark = omp_get_wtime();
}

/* Charges the time since the last lap (or reset) to phase p. */
static inline void phase_clock_lap(phase_clock *c, run_phase p)
{
    const double now = omp_get_wtime();
    c->sec[p] += now - c->mark;
    c->mark = now;
}

/* Charges the time since the last lap to no phase: work logged on its own (--eval-every's evaluations,
 * /eval seconds), which would otherwise swell the next update's phases. */
static inline void phase_clock_skip(phase_clock *c) { c->mark = omp_get_wtime(); }

#endif
