/* normalizer: running mean/variance statistics for observation normalisation and reward scaling, as
 * Stable-Baselines3's VecNormalize — but kept identical on every rank: each rollout's local sums are
 * merged across ranks with one allreduce (parallel variance combination, Chan et al. 1979), so all
 * ranks normalise with the same numbers. Statistics are frozen during a rollout. */
#ifndef PPO_PPO_NORMALIZER_H
#define PPO_PPO_NORMALIZER_H

#include <mpi.h>

typedef struct {
    int dim;
    double count;        /* starts at 1e-4 with mean 0, var 1 (SB3's RunningMeanStd) */
    double *mean, *var;  /* (dim,) */
    double *acc;         /* (2*dim + 1,) this rollout's local sum, sum of squares, count */
} running_stats;

int rs_init(running_stats *rs, int dim);
void rs_free(running_stats *rs);
/* Adds rows (rows, dim) of x to this rollout's local sums (not yet in mean/var). */
void rs_accumulate(running_stats *rs, const float *x, int rows);
/* The same for one value of a dim-1 statistic. */
void rs_accumulate_scalar(running_stats *rs, double v);
/* Collective: merges every rank's sums of this rollout into the statistics, then clears the sums. */
void rs_merge(running_stats *rs, MPI_Comm comm);
/* out = clip((x - mean) / sqrt(var + 1e-8), -clip, clip) for (rows, dim); out may alias x. */
void rs_normalize(const running_stats *rs, const float *x, float *out, int rows, double clip);

#endif
