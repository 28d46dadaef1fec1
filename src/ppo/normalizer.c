/* normalizer: sums per rollout, one allreduce, Chan's combination of (count, mean, M2). */
#include "ppo/normalizer.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int rs_init(running_stats *rs, int dim)
{
    rs->dim = dim;
    rs->count = 1e-4;
    rs->mean = calloc((size_t)dim, sizeof(double));
    rs->var = malloc((size_t)dim * sizeof(double));
    rs->acc = calloc(2 * (size_t)dim + 1, sizeof(double));
    if (!rs->mean || !rs->var || !rs->acc)
        return -1;
    for (int i = 0; i < dim; i++)
        rs->var[i] = 1.0;
    return 0;
}

void rs_free(running_stats *rs)
{
    free(rs->mean);
    free(rs->var);
    free(rs->acc);
    memset(rs, 0, sizeof *rs);
}

void rs_accumulate(running_stats *rs, const float *x, int rows)
{
    const int d = rs->dim;
    for (int r = 0; r < rows; r++)
        for (int i = 0; i < d; i++) {
            const double v = x[(size_t)r * d + i];
            rs->acc[i] += v;
            rs->acc[d + i] += v * v;
        }
    rs->acc[2 * d] += rows;
}

void rs_accumulate_scalar(running_stats *rs, double v)
{
    rs->acc[0] += v;
    rs->acc[1] += v * v;
    rs->acc[2] += 1.0;
}

void rs_merge(running_stats *rs, MPI_Comm comm)
{
    const int d = rs->dim;
    MPI_Allreduce(MPI_IN_PLACE, rs->acc, 2 * d + 1, MPI_DOUBLE, MPI_SUM, comm);
    const double nb = rs->acc[2 * d];
    if (nb > 0) {
        const double na = rs->count, n = na + nb;
        for (int i = 0; i < d; i++) {
            const double mb = rs->acc[i] / nb;
            const double vb = fmax(0.0, rs->acc[d + i] / nb - mb * mb);
            const double delta = mb - rs->mean[i];
            const double m2 = rs->var[i] * na + vb * nb + delta * delta * na * nb / n;
            rs->mean[i] += delta * nb / n;
            rs->var[i] = m2 / n;
        }
        rs->count = n;
    }
    memset(rs->acc, 0, (2 * (size_t)d + 1) * sizeof(double));
}

void rs_normalize(const running_stats *rs, const float *x, float *out, int rows, double clip)
{
    const int d = rs->dim;
    for (int i = 0; i < d; i++) {
        const double inv = 1.0 / sqrt(rs->var[i] + 1e-8);
        for (int r = 0; r < rows; r++) {
            double v = (x[(size_t)r * d + i] - rs->mean[i]) * inv;
            out[(size_t)r * d + i] = (float)(v < -clip ? -clip : (v > clip ? clip : v));
        }
    }
}
