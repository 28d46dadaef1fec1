/* bench_allreduce: time of the sum of n floats over the ranks, the collective ppo runs once per
 * minibatch (n = the network's parameter count): MPI_Allreduce(MPI_IN_PLACE, SUM) and ppo's
 * grad_reduce through shared memory (--grad-reduce shm: on each node, then between nodes; "-" where no
 * node has two ranks). Prints the
 * median over repetitions per size (the slowest rank's time), MPI_Allreduce's latency (3 floats) and
 * the bandwidth of a straight-line fit t = a + 4n bytes / bandwidth, for the scaling model
 * (docs/scaling.md). Then, in shared memory, a minibatch's sum and Adam step as ppo makes them: the
 * sum on every rank and a step over all n parameters, against each rank stepping its slice
 * (grad_reduce_scatter, the block squares swapped for the norm, allgather of the parameters).
 * Usage: mpirun -n R bench_allreduce [repetitions] */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>

#include "ppo/adam.h"
#include "runtime/grad_reduce.h"

static int cmp_double(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Median time of one minibatch's sum and Adam step of n parameters: whole (sharded false) or by slices. */
static double step_time(grad_reduce *r, adam_state *a, float *params, float *grads, double *blocks, size_t n,
                        bool sharded, int reps, double *t)
{
    size_t lo = 0, hi = n;
    if (sharded)
        grad_reduce_slice(r, &lo, &hi);
    for (int i = 0; i < 10 + reps; i++) {
        for (size_t j = 0; j < n; j++)
            grads[j] = 1e-3f * (float)((j + (size_t)i) % 7);
        MPI_Barrier(MPI_COMM_WORLD);
        const double t0 = MPI_Wtime();
        if (sharded) {
            grad_reduce_scatter(r, grads);
            for (size_t b = lo / GRAD_REDUCE_BLOCK; b * GRAD_REDUCE_BLOCK < hi; b++)
                blocks[b] = grads[b * GRAD_REDUCE_BLOCK];
            grad_reduce_allgather_blocks(r, blocks);
        } else
            grad_reduce_sum(r, grads);
        const adam_coef c = adam_begin(a, n / 2, 1e-3, 1e-3);
        adam_apply(a, &c, params, grads, lo, hi);
        if (sharded)
            grad_reduce_allgather(r, params);
        if (i >= 10)
            t[i - 10] = MPI_Wtime() - t0;
    }
    MPI_Allreduce(MPI_IN_PLACE, t, reps, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
    qsort(t, (size_t)reps, sizeof(double), cmp_double);
    return t[reps / 2];
}

static void step_table(int reps, double *t)
{
    int rank;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    const int sizes[] = {9797, 40000, 200000};
    if (rank == 0)
        printf("sum and Adam step of n parameters, median of %d, us:\n%10s %14s %14s\n", reps, "floats", "whole",
               "sharded");
    for (int s = 0; s < 3; s++) {
        const size_t n = (size_t)sizes[s];
        char err[200];
        grad_reduce *r = grad_reduce_create(MPI_COMM_WORLD, n, true, err, sizeof err);
        float *params = calloc(n, sizeof(float)), *grads = calloc(n, sizeof(float));
        double *blocks = calloc(n / GRAD_REDUCE_BLOCK + 1, sizeof(double));
        adam_state a;
        if (!r || !params || !grads || !blocks || adam_init(&a, n, 0.9, 0.999, 1e-5) != 0)
            MPI_Abort(MPI_COMM_WORLD, 1);
        const int rr = n > 50000 ? reps / 10 : reps;
        const double whole = step_time(r, &a, params, grads, blocks, n, false, rr, t);
        const double sharded = step_time(r, &a, params, grads, blocks, n, true, rr, t);
        if (rank == 0)
            printf("%10zu %14.2f %14.2f\n", n, 1e6 * whole, 1e6 * sharded);
        adam_free(&a);
        free(params);
        free(grads);
        free(blocks);
        grad_reduce_free(r);
    }
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    const int reps = argc > 1 ? atoi(argv[1]) : 2000;
    const int sizes[] = {3, 256, 2048, 9797, 40000, 100000, 200000}; /* 9797: LunarLander's 64x64 actor-critic */
    const int n_sizes = (int)(sizeof sizes / sizeof sizes[0]);
    float *buf = calloc((size_t)sizes[n_sizes - 1], sizeof(float));
    double *t = malloc(sizeof(double) * (size_t)(reps > 0 ? reps : 1));
    double med[16];
    if (!buf || !t || reps < 10) {
        if (rank == 0)
            fprintf(stderr, "bench_allreduce: repetitions must be >= 10 (or out of memory)\n");
        MPI_Abort(MPI_COMM_WORLD, 2);
    }
    if (rank == 0)
        printf("sum of n floats over %d ranks, median of %d, us:\n%10s %14s %14s\n", size, reps, "floats",
               "MPI_Allreduce", "shared memory");
    for (int s = 0; s < n_sizes; s++) {
        const int n = sizes[s];
        const int r = n > 50000 ? reps / 10 : reps;
        char err[200];
        grad_reduce *shm = grad_reduce_create(MPI_COMM_WORLD, (size_t)n, true, err, sizeof err);
        const int shm_ok = shm && grad_reduce_kind_of(shm) != GRAD_REDUCE_MPI;
        double med_shm = -1;
        for (int method = 0; method < 1 + shm_ok; method++) {
            for (int i = 0; i < 10 + r; i++) { /* 10 warm-up calls first */
                MPI_Barrier(MPI_COMM_WORLD);
                const double t0 = MPI_Wtime();
                if (method == 0)
                    MPI_Allreduce(MPI_IN_PLACE, buf, n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
                else
                    grad_reduce_sum(shm, buf);
                if (i >= 10)
                    t[i - 10] = MPI_Wtime() - t0;
            }
            MPI_Allreduce(MPI_IN_PLACE, t, r, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD); /* the slowest rank's */
            qsort(t, (size_t)r, sizeof(double), cmp_double);
            if (method == 0)
                med[s] = t[r / 2];
            else
                med_shm = t[r / 2];
        }
        grad_reduce_free(shm);
        if (rank == 0) {
            char shm_col[32] = "-";
            if (med_shm >= 0)
                snprintf(shm_col, sizeof shm_col, "%.2f", 1e6 * med_shm);
            printf("%10d %14.2f %14s\n", n, 1e6 * med[s], shm_col);
        }
    }
    if (rank == 0) { /* least squares over the sizes from 2048 floats on: t = alpha + beta * bytes */
        double sx = 0, sy = 0, sxx = 0, sxy = 0;
        int m = 0;
        for (int s = 2; s < n_sizes; s++, m++) {
            const double x = 4.0 * sizes[s], y = med[s];
            sx += x;
            sy += y;
            sxx += x * x;
            sxy += x * y;
        }
        const double beta = (m * sxy - sx * sy) / (m * sxx - sx * sx);
        printf("latency (3 floats) %.2f us; bandwidth (fit over 2048+ floats) %.2f GB/s\n", 1e6 * med[0], 1e-9 / beta);
    }
    step_table(reps, t);
    free(buf);
    free(t);
    MPI_Finalize();
    return 0;
}
