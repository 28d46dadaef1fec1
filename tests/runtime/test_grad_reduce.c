/* grad_reduce under mpirun -n 4, on the whole job and on sub-communicators of 3, 2 and 1 ranks:
 * - every rank gets the same bits, equal to the pairwise-tree sum of all ranks' vectors computed on
 *   one rank (shared memory) or to MPI_Allreduce's (MPI), for lengths around the 16-float slice
 *   alignment and the 256-float block, LunarLander's 9,797 and more;
 * - 200 sums back to back with new data each time stay exact (a rank that ran ahead into the next sum
 *   must not overwrite the result slot a slower rank is still reading);
 * - on one node the shared-memory path is taken when asked, MPI when not;
 * - the 4 ranks grouped as two "nodes" (grad_reduce_create_nodes: {0,1}{2,3}, {0,1,2}{3}, {0,2}{1,3})
 *   sum on each node, then between the nodes' first ranks: each node's pairwise tree, the two node sums
 *   added; {0,1}{2,3} equals the 4-rank tree bit for bit; four 1-rank nodes fall back to MPI.
 * - the halves of a sum for a sharded optimizer: a node's ranks' slices cover [0, n) in rank order on
 *   GRAD_REDUCE_BLOCK boundaries (one rank and MPI: the whole vector), on one node and as "nodes"; a scatter leaves
 *   the tree's sum in the own slice and the rest untouched; allgathers of vectors and of block values
 *   give every rank every slice, 100 rounds of scatter, block swap and two allgathers in a row with
 *   new data each time (the double-buffered result slots) staying exact.
 * Values span 1e-3..1e3 so that a different order of additions changes the bits. */
#include <mpi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "runtime/grad_reduce.h"
#include "util/rng.h"

/* Rank q's vector for call `call`: the same on every rank that computes it. */
static void fill(float *x, size_t n, int q, int call)
{
    rng_t g;
    rng_seed(&g, rng_mix((uint64_t)q * 1000003u + 17u, (uint64_t)call));
    for (size_t i = 0; i < n; i++) {
        const double mag = (double)(1u << (rng_below(&g, 21))) * 1e-3; /* 1e-3 .. ~1e3 */
        x[i] = (float)((rng_uniform(&g) * 2.0 - 1.0) * mag);
    }
}

/* The pairwise-tree sum of the listed ranks' vectors (in the order given). */
static void tree_of(float *out, size_t n, const int *ranks, int count, int call)
{
    float *all = malloc(sizeof(float) * n * (size_t)count);
    for (int q = 0; q < count; q++)
        fill(all + (size_t)q * n, n, ranks[q], call);
    for (int w = 1; w < count; w *= 2)
        for (int q = 0; q + w < count; q += 2 * w)
            for (size_t i = 0; i < n; i++)
                all[(size_t)q * n + i] = all[(size_t)q * n + i] + all[(size_t)(q + w) * n + i];
    memcpy(out, all, sizeof(float) * n);
    free(all);
}

/* The pairwise tree over ranks 0..p-1. */
static void tree_reference(float *out, size_t n, int p, int call)
{
    int *ranks = malloc(sizeof(int) * (size_t)p);
    for (int q = 0; q < p; q++)
        ranks[q] = q;
    tree_of(out, n, ranks, p, call);
    free(ranks);
}

/* The sum every rank should get in call `call`: the pairwise tree in shared memory (and on one rank),
 * else MPI_Allreduce's of the vectors sent (collective). */
static void expected_sum(float *want, const float *sent, size_t n, bool shm, MPI_Comm comm, int call)
{
    int size;
    MPI_Comm_size(comm, &size);
    if (shm || size == 1)
        tree_reference(want, n, size, call);
    else {
        memcpy(want, sent, sizeof(float) * n);
        MPI_Allreduce(MPI_IN_PLACE, want, (int)n, MPI_FLOAT, MPI_SUM, comm);
    }
}

/* A reduction over comm (one node), checked for its kind; NULL when it could not be made. */
static grad_reduce *create_checked(MPI_Comm comm, size_t n, bool shm, const char *what)
{
    int size;
    MPI_Comm_size(comm, &size);
    char err[256];
    grad_reduce *r = grad_reduce_create(comm, n, shm, err, sizeof err);
    CHECK(r != NULL, "%s: create: %s", what, err);
    if (r && size > 1)
        CHECK(grad_reduce_kind_of(r) == (shm ? GRAD_REDUCE_SHM : GRAD_REDUCE_MPI), "%s: %d ranks on one node, shm %d, got kind %d",
              what, size, shm, (int)grad_reduce_kind_of(r));
    return r;
}

/* Runs `calls` sums of length n on comm and checks them. */
static void check_sums(MPI_Comm comm, size_t n, bool shm, int calls, const char *what)
{
    int rank, size;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    grad_reduce *r = create_checked(comm, n, shm, what);
    if (!r)
        return;
    float *buf = malloc(sizeof(float) * n), *want = malloc(sizeof(float) * n), *mine = malloc(sizeof(float) * n);
    int bad_calls = 0, unequal_calls = 0;
    for (int call = 0; call < calls; call++) {
        fill(buf, n, rank, call);
        memcpy(mine, buf, sizeof(float) * n);
        grad_reduce_sum(r, buf);
        expected_sum(want, mine, n, shm, comm, call);
        size_t diff = 0;
        for (size_t i = 0; i < n; i++)
            diff += memcmp(&buf[i], &want[i], sizeof(float)) != 0;
        bad_calls += diff != 0;
        if (diff && bad_calls == 1)
            CHECK(0, "%s: rank %d call %d: %zu of %zu floats differ from the reference", what, rank, call, diff, n);
        /* every rank holds the same bits: compare with rank 0's */
        memcpy(want, buf, sizeof(float) * n);
        MPI_Bcast(want, (int)n, MPI_FLOAT, 0, comm);
        const bool same = memcmp(want, buf, sizeof(float) * n) == 0;
        unequal_calls += !same;
        if (!same && unequal_calls == 1) /* no early exit: every rank must make the same collectives */
            CHECK(0, "%s: rank %d call %d: result differs from rank 0's", what, rank, call);
    }
    free(buf);
    free(want);
    free(mine);
    grad_reduce_free(r);
}

/* Element i of the vector the slices' owners hold in round `call`: a value that names both. */
static float owned_value(size_t i, int call) { return (float)(i % 100003) + 0.25f * (float)(call % 4); }

/* The slices of node's ranks cover [0, n) in rank order on block boundaries (each the whole vector
 * where r sums by MPI_Allreduce). Collective over node. */
static void check_slices(const grad_reduce *r, MPI_Comm node, size_t n, const char *what)
{
    int size;
    MPI_Comm_size(node, &size);
    size_t lo, hi;
    grad_reduce_slice(r, &lo, &hi);
    unsigned long long mine[2] = {lo, hi}, *all = malloc(sizeof mine * (size_t)size);
    MPI_Allgather(mine, 2, MPI_UNSIGNED_LONG_LONG, all, 2, MPI_UNSIGNED_LONG_LONG, node);
    const bool own = grad_reduce_kind_of(r) != GRAD_REDUCE_MPI;
    for (int q = 0; q < size; q++) {
        const unsigned long long qlo = all[2 * q], qhi = all[2 * q + 1];
        const bool ok = own ? qlo <= qhi && qhi <= n && qlo % GRAD_REDUCE_BLOCK == 0 &&
                                  qlo == (q ? all[2 * q - 2 + 1] : 0) && (q < size - 1 || qhi == n)
                            : qlo == 0 && qhi == n;
        CHECK(ok, "%s: node rank %d's slice [%llu, %llu) (kind %d)", what, q, qlo, qhi, (int)grad_reduce_kind_of(r));
    }
    free(all);
}

/* The sum a rank should get in round `call` from the vectors sent (collective where it needs MPI). */
typedef void (*expected_fn)(float *want, const float *sent, size_t n, int call, const void *ctx);

/* `calls` rounds of scatter, block swap, allgather and a second allgather with new data each time
 * (rank `rank`'s vectors), checked: the scatter's sum in the own slice and the rest untouched, every
 * slice's blocks and vectors on every rank. */
static void check_rounds(grad_reduce *r, int rank, size_t n, int calls, expected_fn expected, const void *ctx,
                         const char *what)
{
    size_t lo, hi;
    grad_reduce_slice(r, &lo, &hi);
    const size_t n_blocks = (n + GRAD_REDUCE_BLOCK - 1) / GRAD_REDUCE_BLOCK;
    float *buf = malloc(sizeof(float) * n), *sent = malloc(sizeof(float) * n), *want = malloc(sizeof(float) * n);
    float *vec = malloc(sizeof(float) * n), *vec2 = malloc(sizeof(float) * n);
    double *blocks = malloc(sizeof(double) * n_blocks);
    int bad = 0;
    for (int call = 0; call < calls; call++) {
        fill(buf, n, rank, call);
        memcpy(sent, buf, sizeof(float) * n);
        grad_reduce_scatter(r, buf);
        expected(want, sent, n, call, ctx);
        bool ok = !memcmp(buf + lo, want + lo, sizeof(float) * (hi - lo)) && !memcmp(buf, sent, sizeof(float) * lo) &&
                  !memcmp(buf + hi, sent + hi, sizeof(float) * (n - hi));
        /* block b holds -(b + call) on its owner, garbage elsewhere; then two vectors in a row */
        for (size_t b = 0; b < n_blocks; b++) {
            const bool owned = lo < hi && b >= lo / GRAD_REDUCE_BLOCK && b * GRAD_REDUCE_BLOCK < hi;
            blocks[b] = owned ? -(double)(b + (size_t)call) : 1e300;
        }
        grad_reduce_allgather_blocks(r, blocks);
        for (size_t i = 0; i < n; i++) {
            vec[i] = i >= lo && i < hi ? owned_value(i, call) : -1.0f;
            vec2[i] = i >= lo && i < hi ? -owned_value(i, call) : 1.0f;
        }
        grad_reduce_allgather(r, vec);
        grad_reduce_allgather(r, vec2);
        for (size_t b = 0; b < n_blocks; b++)
            ok = ok && blocks[b] == -(double)(b + (size_t)call);
        for (size_t i = 0; i < n; i++)
            ok = ok && vec[i] == owned_value(i, call) && vec2[i] == -owned_value(i, call);
        bad += !ok;
    }
    CHECK(bad == 0, "%s: rank %d: %d of %d rounds wrong", what, rank, bad, calls);
    free(buf);
    free(sent);
    free(want);
    free(vec);
    free(vec2);
    free(blocks);
}

typedef struct {
    bool shm;
    MPI_Comm comm;
} one_node;

static void one_node_sum(float *want, const float *sent, size_t n, int call, const void *ctx)
{
    const one_node *o = ctx;
    expected_sum(want, sent, n, o->shm, o->comm, call);
}

/* The halves on comm, one node. */
static void check_halves(MPI_Comm comm, size_t n, bool shm, int calls, const char *what)
{
    int rank;
    MPI_Comm_rank(comm, &rank);
    grad_reduce *r = create_checked(comm, n, shm, what);
    if (!r)
        return;
    check_slices(r, comm, n, what);
    const one_node o = {shm, comm};
    check_rounds(r, rank, n, calls, one_node_sum, &o, what);
    grad_reduce_free(r);
}

/* The sum over 4 ranks grouped as nodes (ctx: node_of): node 0's tree + node 1's tree, or
 * MPI_Allreduce's where every rank is a node of its own (collective then). */
static void nodes_sum(float *want, const float *sent, size_t n, int call, const void *ctx)
{
    const int *node_of = ctx;
    if (node_of[0] < 0) {
        memcpy(want, sent, sizeof(float) * n);
        MPI_Allreduce(MPI_IN_PLACE, want, (int)n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
        return;
    }
    int members[2][4], count[2] = {0, 0};
    for (int q = 0; q < 4; q++)
        members[node_of[q]][count[node_of[q]]++] = q;
    float *b = malloc(sizeof(float) * n);
    tree_of(want, n, members[0], count[0], call);
    tree_of(b, n, members[1], count[1], call);
    for (size_t i = 0; i < n; i++)
        want[i] = want[i] + b[i];
    free(b);
}

/* 4 ranks as nodes: node_of[rank] names each rank's node (0 or 1; -1 everywhere: one node per rank). */
static void check_nodes(const int node_of[4], const char *what)
{
    int rank;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    const bool singles = node_of[0] < 0;
    MPI_Comm node;
    MPI_Comm_split(MPI_COMM_WORLD, singles ? rank : node_of[rank], rank, &node);
    const size_t n = 9797;
    char err[256];
    grad_reduce *r = grad_reduce_create_nodes(MPI_COMM_WORLD, node, n, err, sizeof err);
    CHECK(r != NULL, "%s: create: %s", what, err);
    if (!r) {
        MPI_Comm_free(&node);
        return;
    }
    const grad_reduce_kind want_kind = singles ? GRAD_REDUCE_MPI : GRAD_REDUCE_NODES;
    CHECK(grad_reduce_kind_of(r) == want_kind, "%s: kind %d, expected %d", what, (int)grad_reduce_kind_of(r), (int)want_kind);
    check_slices(r, node, n, what);
    float *buf = malloc(sizeof(float) * n), *sent = malloc(sizeof(float) * n), *want = malloc(sizeof(float) * n);
    int bad = 0;
    for (int call = 0; call < 50; call++) {
        fill(buf, n, rank, call);
        memcpy(sent, buf, sizeof(float) * n);
        nodes_sum(want, sent, n, call, node_of);
        grad_reduce_sum(r, buf);
        bad += memcmp(buf, want, sizeof(float) * n) != 0;
    }
    CHECK(bad == 0, "%s: rank %d: %d of 50 sums differ from the reference", what, rank, bad);
    if (!singles && node_of[1] == 0 && node_of[2] == 1) { /* {0,1}{2,3}: the same bits as one node of 4 */
        const int all4[4] = {0, 1, 2, 3};
        fill(buf, n, rank, 99);
        grad_reduce_sum(r, buf);
        tree_of(want, n, all4, 4, 99);
        CHECK(memcmp(buf, want, sizeof(float) * n) == 0, "%s: differs from the 4-rank tree", what);
    }
    check_rounds(r, rank, n, 20, nodes_sum, node_of, what);
    free(buf);
    free(sent);
    free(want);
    grad_reduce_free(r);
    MPI_Comm_free(&node);
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    const size_t lengths[] = {1, 15, 16, 17, 63, 255, 256, 257, 1000, 9797, 70001};
    char what[96];
    for (int sub = size; sub >= 1; sub--) { /* ranks [0, sub) of the job */
        MPI_Comm comm;
        MPI_Comm_split(MPI_COMM_WORLD, rank < sub ? 0 : MPI_UNDEFINED, rank, &comm);
        if (comm != MPI_COMM_NULL) {
            for (size_t k = 0; k < sizeof lengths / sizeof lengths[0]; k++)
                for (int shm = 1; shm >= 0; shm--) { /* whole sums, then the halves */
                    const int calls = lengths[k] > 10000 ? 5 : 20;
                    snprintf(what, sizeof what, "%d ranks, n %zu, %s", sub, lengths[k], shm ? "shm" : "mpi");
                    check_sums(comm, lengths[k], shm, calls, what);
                    snprintf(what, sizeof what, "%d ranks, n %zu, %s, halves", sub, lengths[k], shm ? "shm" : "mpi");
                    check_halves(comm, lengths[k], shm, calls, what);
                }
            snprintf(what, sizeof what, "%d ranks, 200 back-to-back sums", sub);
            check_sums(comm, 9797, true, 200, what);
            snprintf(what, sizeof what, "%d ranks, 100 rounds of halves", sub);
            check_halves(comm, 9797, true, 100, what);
            MPI_Comm_free(&comm);
        }
        MPI_Barrier(MPI_COMM_WORLD);
    }
    if (size == 4) {
        check_nodes((const int[4]){0, 0, 1, 1}, "nodes {0,1}{2,3}");
        check_nodes((const int[4]){0, 0, 0, 1}, "nodes {0,1,2}{3}");
        check_nodes((const int[4]){0, 1, 0, 1}, "nodes {0,2}{1,3}");
        check_nodes((const int[4]){-1, -1, -1, -1}, "four 1-rank nodes");
    }
    int failures = check_failures;
    MPI_Allreduce(MPI_IN_PLACE, &failures, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    if (rank == 0)
        printf("test_grad_reduce: %d ranks, %s\n", size, failures ? "FAILED" : "ok");
    MPI_Finalize();
    return failures ? 1 : 0;
}
