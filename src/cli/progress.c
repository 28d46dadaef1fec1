/* progress: the return window and the progress line. */
#include "cli/progress.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

double progress_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void return_window_init(return_window *w)
{
    *w = (return_window){.best_full = -INFINITY, .best_any = -INFINITY};
}

void return_window_add(return_window *w, double ret)
{
    w->ret[w->next] = ret;
    w->next = (w->next + 1) % RETURN_WINDOW;
    if (w->n < RETURN_WINDOW)
        w->n++;
}

double return_window_mean(return_window *w)
{
    if (w->n == 0)
        return NAN;
    double s = 0.0;
    for (int i = 0; i < w->n; i++)
        s += w->ret[i];
    const double mean = s / w->n;
    w->best_any = fmax(w->best_any, mean);
    if (w->n == RETURN_WINDOW)
        w->best_full = fmax(w->best_full, mean);
    return mean;
}

bool progress_is_live(const char *mode)
{
    return !strcmp(mode, "live") || (!strcmp(mode, "auto") && isatty(STDOUT_FILENO) == 1 && !getenv("SLURM_JOB_ID"));
}

void progress_print(progress *p, const ppo_config *c, const update_stats *st, long long total_updates, double wall,
                    double sps, double ret_recent, const double *phase_mean, bool last)
{
    const double t = progress_now();
    if (!last && t - p->last_print < (p->tty ? 0.1 : c->progress_interval))
        return;
    p->last_print = t;
    char ret[32];
    if (!isnan(ret_recent))
        snprintf(ret, sizeof ret, "%8.2f", ret_recent);
    else
        snprintf(ret, sizeof ret, "%8s", "-");
    char ppo_only[64] = ""; /* A2C and REINFORCE have no ratio: no KL or clipping to show */
    if (!strcmp(c->algo, "ppo"))
        snprintf(ppo_only, sizeof ppo_only, "  kl %.4f  clip %.3f", st->approx_kl, st->clip_fraction);
    double busy = 0.0; /* the update's time, mean over ranks: the phases' shares of it */
    for (int k = 0; k < PHASE_COUNT; k++)
        busy += phase_mean[k];
    char split[128] = "";
    for (int k = 0, n = 0; k < PHASE_COUNT && busy > 0; k++)
        n += snprintf(split + n, sizeof split - (size_t)n, " %s %.0f", run_phase_names[k], 100.0 * phase_mean[k] / busy);
    char line[384];
    snprintf(line, sizeof line,
             "update %5lld/%lld  steps %9lld  %6.1fs  %7.0f steps/s  return(100) %s  entropy %.3f%s  ev %5.2f"
             "  time%%%s",
             st->update, total_updates, st->global_step, wall, sps, ret, st->entropy, ppo_only,
             st->explained_variance, split);
    if (p->tty)
        printf("\r%s\033[K%s", line, last ? "\n" : "");
    else
        printf("%s\n", line);
    fflush(stdout);
}

void progress_print_best(const return_window *w)
{
    if (w->best_full > -INFINITY) /* the best of the console's return(100) */
        printf("; best mean return over %d consecutive episodes %.2f\n", RETURN_WINDOW, w->best_full);
    else if (w->n > 0)
        printf("; best mean return %.2f (fewer than %d episodes finished)\n", w->best_any, RETURN_WINDOW);
    else
        printf("; no episode finished\n");
}
