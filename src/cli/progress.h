/* progress: what a training run tells its console — the mean return of the last 100 episodes (as
 * Stable-Baselines3's ep_rew_mean) with the best such mean, and the per-update progress line. Rank 0. */
#ifndef PPO_CLI_PROGRESS_H
#define PPO_CLI_PROGRESS_H

#include <stdbool.h>

#include "ppo/config.h"
#include "ppo/trainer.h"
#include "runtime/phase_clock.h"

enum { RETURN_WINDOW = 100 };

/* The returns of the last RETURN_WINDOW finished episodes (all ranks, in gather order). */
typedef struct {
    double ret[RETURN_WINDOW];
    int n, next;
    double best_full; /* best mean over a full window; -inf until there is one */
    double best_any;  /* best mean over the episodes so far, for runs with fewer */
} return_window;

void return_window_init(return_window *w);
void return_window_add(return_window *w, double ret);
/* The window's mean (NaN when empty); the bests are updated with it. */
double return_window_mean(return_window *w);

typedef struct {
    bool tty;      /* a live line rewritten in place; else one line per interval */
    double last_print;
} progress;

/* Whether progress is a live line: --progress live, or auto on a terminal outside a Slurm job (inside
 * one stdout is a file even when mpirun hands the rank a pseudo-terminal). */
bool progress_is_live(const char *mode);

/* Prints the update's line when due (always when last). ret_recent: the window's mean (NaN: none yet);
 * phase_mean: the update's seconds per phase, mean over ranks. */
void progress_print(progress *p, const ppo_config *c, const update_stats *st, long long total_updates, double wall,
                    double sps, double ret_recent, const double *phase_mean, bool last);

/* The end-of-run summary's "best mean return" clause. */
void progress_print_best(const return_window *w);

/* Monotonic seconds. */
double progress_now(void);

#endif
