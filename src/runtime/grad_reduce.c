/* grad_reduce: MPI-3 shared-memory sum for the ranks of each node, MPI_Allreduce between nodes.
 *
 * The node's window holds one slot per rank, two result slots and two arrays of block values. On one
 * node a sum is a scatter and an allgather: copy into the own slot all but the own slice; barrier;
 * each rank adds its slice of the elements over the node's slots and its own vector (into that vector); then it copies its slice into a result
 * slot; barrier; it copies the other slices out. Where the job spans nodes, the scatter is: each rank
 * adds its slice into result slot 0; barrier; the node leaders (node rank 0) add their results with
 * MPI_Allreduce and a third barrier holds the others until it is in; each rank copies its slice out.
 *
 * A rank rewrites a shared area only after a barrier that every rank reaches once done reading it:
 * the slots are read before the reader's next barrier (an allgather's, by the rule in the header);
 * the allgathers alternate between two result slots (and two block arrays), so that two in a row
 * (a checkpoint gathers the optimizer's moments) do not write where the previous one is still read;
 * across nodes, each rank reads only its own slice of the scatter's result slot 0, which the ranks'
 * allgathers then write into slice by slice, and rewrites it only after the next scatter's first
 * barrier, which every rank of the node reaches only once done with the previous allgather.
 *
 * The slots are added as a pairwise tree (slot q += slot q + w for w = 1, 2, 4, ...): the order
 * recursive doubling uses, which Open MPI 4.1's MPI_Allreduce followed bit for bit for 2, 4 and 8
 * ranks on the 2-core VM (3 to 160,000 floats). Nodes holding equal power-of-two blocks of
 * consecutive ranks then sum as one tree too, so a run's numbers do not depend on which path summed
 * its gradients, nor on how its ranks are spread over such nodes. */
#define _GNU_SOURCE /* sched_getaffinity */
#include "runtime/grad_reduce.h"

#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/simd.h"

enum {
    SLICE_ALIGN = GRAD_REDUCE_BLOCK, /* floats: slices start on 64-byte lines, so no two ranks write one line */
    TREE_BLOCK = 256,                /* floats summed per pass over the tree (the scratch is ranks x this) */
    BARRIER_BYTES = 128,             /* the barrier's two counters, a 64-byte line each, before the slots */
    SPINS_BEFORE_YIELD = 1 << 16     /* a waiting rank with a core of its own spins this long, then yields */
};

struct grad_reduce {
    grad_reduce_kind kind;
    MPI_Comm comm;    /* the job's */
    MPI_Comm node;    /* SHM, NODES: this rank's node (owned) */
    MPI_Comm leaders; /* NODES: the node ranks 0 (owned; MPI_COMM_NULL on the others) */
    int size, node_rank, node_size;
    size_t n, stride; /* floats per vector, per slot */
    size_t n_blocks;  /* ceil(n / GRAD_REDUCE_BLOCK) */
    MPI_Win win;
    atomic_uint *arrived, *generation; /* the node barrier's counters, in the window */
    bool yield;       /* more ranks on the node than CPUs to run them: wait by yielding, not spinning */
    float *slots;     /* (node_size, stride) in the window */
    float *result[2]; /* (stride,) each, in the window */
    double *blocks[2]; /* (n_blocks,) each, in the window */
    int turn, block_turn; /* which result slot and block array the next allgather uses */
    size_t lo, hi;    /* this rank's slice of the elements */
    float *tree;      /* (node_size, TREE_BLOCK) scratch */
};

/* Adds block [i, i + len) of every rank's vector as a pairwise tree into out: slot q's for the others,
 * the rank's own (me) from mine, whose slice is never copied into its slot (out may be mine: each
 * block is read before it is written). */
PPO_SIMD_CLONES static void tree_sum(const float *slots, size_t stride, int p, int me, const float *mine, size_t i,
                                     size_t len, float *restrict tree, float *out)
{
    for (int q = 0; q < p; q += 2) { /* level w = 1 straight from the vectors */
        const float *a = (q == me ? mine : slots + (size_t)q * stride) + i;
        float *t = tree + (size_t)q * TREE_BLOCK;
        if (q + 1 < p) {
            const float *b = (q + 1 == me ? mine : slots + (size_t)(q + 1) * stride) + i;
            for (size_t j = 0; j < len; j++)
                t[j] = a[j] + b[j];
        } else
            memcpy(t, a, len * sizeof *t);
    }
    for (int w = 2; w < p; w *= 2)
        for (int q = 0; q + w < p; q += 2 * w) {
            float *a = tree + (size_t)q * TREE_BLOCK;
            const float *b = tree + (size_t)(q + w) * TREE_BLOCK;
            for (size_t j = 0; j < len; j++)
                a[j] += b[j];
        }
    memcpy(out + i, tree, len * sizeof *out);
}

/* The node's barrier, on two counters in the window (a 3-float sum, two barriers, on 2 ranks of the
 * VM: 1.47 us with MPI_Win_sync around MPI_Barrier, 0.75 with this): each rank counts itself in; the
 * last resets the count and opens the next generation, which the others wait for. The counters'
 * acquire and release order the ranks' writes to the window before the barrier before their reads
 * after it, as MPI_Win_sync around MPI_Barrier did. */
static void sync_all(grad_reduce *r)
{
    const unsigned gen = atomic_load_explicit(r->generation, memory_order_acquire);
    if (atomic_fetch_add_explicit(r->arrived, 1, memory_order_acq_rel) == (unsigned)r->node_size - 1) {
        atomic_store_explicit(r->arrived, 0, memory_order_relaxed);
        atomic_store_explicit(r->generation, gen + 1, memory_order_release);
        return;
    }
    for (unsigned spins = 0; atomic_load_explicit(r->generation, memory_order_acquire) == gen; spins++) {
        if (r->yield || spins >= SPINS_BEFORE_YIELD)
            sched_yield(); /* oversubscribed: the rank it waits for may need this core */
#if defined(__x86_64__) || defined(__i386__)
        else
            __builtin_ia32_pause();
#endif
    }
}

/* Whether the node's ranks outnumber the CPUs they may run on together (their affinity masks'
 * union). Collective over r->node. */
static bool oversubscribed(grad_reduce *r)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) != 0)
        return true; /* unknown: yielding is never wrong, only slower */
    unsigned char bytes[sizeof set];
    memcpy(bytes, &set, sizeof set);
    MPI_Allreduce(MPI_IN_PLACE, bytes, (int)sizeof bytes, MPI_BYTE, MPI_BOR, r->node);
    memcpy(&set, bytes, sizeof set);
    return r->node_size > CPU_COUNT(&set);
}

/* The node's window and this rank's slice. Collective over r->node; false (nothing held) on failure. */
static bool open_window(grad_reduce *r)
{
    MPI_Comm_set_errhandler(r->node, MPI_ERRORS_RETURN);
    r->stride = (r->n + SLICE_ALIGN - 1) / SLICE_ALIGN * SLICE_ALIGN;
    r->n_blocks = (r->n + GRAD_REDUCE_BLOCK - 1) / GRAD_REDUCE_BLOCK;
    const size_t block_stride = (r->n_blocks + 7) / 8 * 8; /* doubles: whole 64-byte lines */
    const size_t floats = ((size_t)r->node_size + 2) * r->stride; /* stride: a multiple of 64 bytes */
    const size_t bytes_needed = BARRIER_BYTES + floats * sizeof(float) + 2 * block_stride * sizeof(double) + 64; /* + room to start on a line */
    void *base = NULL;
    const int rc = MPI_Win_allocate_shared(r->node_rank == 0 ? (MPI_Aint)bytes_needed : 0, sizeof(float),
                                           MPI_INFO_NULL, r->node, &base, &r->win);
    r->tree = malloc(sizeof(float) * (size_t)r->node_size * TREE_BLOCK);
    int ok = rc == MPI_SUCCESS && r->tree;
    if (rc == MPI_SUCCESS) {
        MPI_Aint bytes;
        int unit;
        ok = ok && MPI_Win_shared_query(r->win, 0, &bytes, &unit, &base) == MPI_SUCCESS &&
             (size_t)bytes >= bytes_needed;
    }
    MPI_Allreduce(MPI_IN_PLACE, &ok, 1, MPI_INT, MPI_MIN, r->node);
    if (!ok) {
        if (rc == MPI_SUCCESS)
            MPI_Win_free(&r->win);
        free(r->tree);
        r->tree = NULL;
        return false;
    }
    /* node rank 0's offset to a 64-byte line, used by all (each process maps the segment elsewhere) */
    int offset = (int)((64 - (uintptr_t)base % 64) % 64);
    MPI_Bcast(&offset, 1, MPI_INT, 0, r->node);
    char *start = (char *)base + offset;
    r->arrived = (atomic_uint *)start;
    r->generation = (atomic_uint *)(start + 64);
    if (r->node_rank == 0) {
        atomic_init(r->arrived, 0);
        atomic_init(r->generation, 0);
    }
    r->slots = (float *)(start + BARRIER_BYTES);
    r->result[0] = r->slots + (size_t)r->node_size * r->stride;
    r->result[1] = r->result[0] + r->stride;
    r->blocks[0] = (double *)(r->result[1] + r->stride);
    r->blocks[1] = r->blocks[0] + block_stride;
    const size_t lines = r->stride / SLICE_ALIGN;
    r->lo = lines * (size_t)r->node_rank / (size_t)r->node_size * SLICE_ALIGN;
    r->hi = lines * (size_t)(r->node_rank + 1) / (size_t)r->node_size * SLICE_ALIGN;
    if (r->hi > r->n)
        r->hi = r->n;
    if (r->lo > r->hi)
        r->lo = r->hi;
    r->yield = oversubscribed(r);
    MPI_Win_lock_all(MPI_MODE_NOCHECK, r->win);
    MPI_Win_sync(r->win); /* the counters' start, before any rank uses them */
    MPI_Barrier(r->node);
    MPI_Win_sync(r->win);
    return true;
}

grad_reduce *grad_reduce_create_nodes(MPI_Comm comm, MPI_Comm node, size_t n, char *err, size_t err_len)
{
    grad_reduce *r = calloc(1, sizeof *r);
    int ok = r != NULL;
    MPI_Allreduce(MPI_IN_PLACE, &ok, 1, MPI_INT, MPI_MIN, comm);
    if (!ok) {
        free(r);
        snprintf(err, err_len, "out of memory for the gradient reduction");
        return NULL;
    }
    r->kind = GRAD_REDUCE_MPI;
    r->comm = comm;
    r->node = r->leaders = MPI_COMM_NULL;
    r->n = n;
    MPI_Comm_size(comm, &r->size);
    if (node == MPI_COMM_NULL || r->size == 1)
        return r;
    MPI_Comm_dup(node, &r->node);
    MPI_Comm_rank(r->node, &r->node_rank);
    MPI_Comm_size(r->node, &r->node_size);
    int largest = r->node_size;
    MPI_Allreduce(MPI_IN_PLACE, &largest, 1, MPI_INT, MPI_MAX, comm);
    const bool one_node = largest == r->size, all_single = largest == 1;
    ok = !all_single && open_window(r);
    MPI_Allreduce(MPI_IN_PLACE, &ok, 1, MPI_INT, MPI_MIN, comm);
    if (!ok) { /* one rank per node, or no shared window somewhere: MPI_Allreduce does the same sum */
        if (r->slots) {
            MPI_Win_unlock_all(r->win);
            MPI_Win_free(&r->win);
            r->slots = NULL;
        }
        free(r->tree);
        r->tree = NULL;
        MPI_Comm_free(&r->node);
        return r;
    }
    r->kind = one_node ? GRAD_REDUCE_SHM : GRAD_REDUCE_NODES;
    if (!one_node) {
        int rank;
        MPI_Comm_rank(comm, &rank);
        MPI_Comm_split(comm, r->node_rank == 0 ? 0 : MPI_UNDEFINED, rank, &r->leaders);
    }
    return r;
}

grad_reduce *grad_reduce_create(MPI_Comm comm, size_t n, bool want_shm, char *err, size_t err_len)
{
    int rank;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm node = MPI_COMM_NULL;
    if (want_shm)
        MPI_Comm_split_type(comm, MPI_COMM_TYPE_SHARED, rank, MPI_INFO_NULL, &node);
    grad_reduce *r = grad_reduce_create_nodes(comm, node, n, err, err_len);
    if (node != MPI_COMM_NULL)
        MPI_Comm_free(&node);
    return r;
}

void grad_reduce_slice(const grad_reduce *r, size_t *lo, size_t *hi)
{
    const bool own = r->kind != GRAD_REDUCE_MPI;
    *lo = own ? r->lo : 0;
    *hi = own ? r->hi : r->n;
}

void grad_reduce_scatter(grad_reduce *r, float *buf)
{
    if (r->size == 1)
        return;
    if (r->kind == GRAD_REDUCE_MPI) {
        MPI_Allreduce(MPI_IN_PLACE, buf, (int)r->n, MPI_FLOAT, MPI_SUM, r->comm);
        return;
    }
    float *own = r->slots + (size_t)r->node_rank * r->stride; /* the others read all but the own slice */
    memcpy(own, buf, r->lo * sizeof *buf);
    memcpy(own + r->hi, buf + r->hi, (r->n - r->hi) * sizeof *buf);
    sync_all(r);
    float *out = r->kind == GRAD_REDUCE_SHM ? buf : r->result[0];
    for (size_t i = r->lo; i < r->hi; i += TREE_BLOCK) {
        const size_t len = r->hi - i < TREE_BLOCK ? r->hi - i : TREE_BLOCK;
        tree_sum(r->slots, r->stride, r->node_size, r->node_rank, buf, i, len, r->tree, out);
    }
    if (r->kind == GRAD_REDUCE_SHM)
        return;
    sync_all(r); /* nodes: the node's sum is in result slot 0; add the nodes' */
    if (r->leaders != MPI_COMM_NULL)
        MPI_Allreduce(MPI_IN_PLACE, r->result[0], (int)r->n, MPI_FLOAT, MPI_SUM, r->leaders);
    sync_all(r);
    memcpy(buf + r->lo, r->result[0] + r->lo, (r->hi - r->lo) * sizeof *buf);
}

void grad_reduce_allgather(grad_reduce *r, float *buf)
{
    if (r->kind == GRAD_REDUCE_MPI)
        return;
    float *res = r->result[r->turn];
    r->turn ^= 1;
    memcpy(res + r->lo, buf + r->lo, (r->hi - r->lo) * sizeof *buf);
    sync_all(r);
    memcpy(buf, res, r->lo * sizeof *buf);
    memcpy(buf + r->hi, res + r->hi, (r->n - r->hi) * sizeof *buf);
}

void grad_reduce_allgather_blocks(grad_reduce *r, double *blocks)
{
    if (r->kind == GRAD_REDUCE_MPI)
        return;
    double *shared = r->blocks[r->block_turn];
    r->block_turn ^= 1;
    const size_t b0 = r->lo / GRAD_REDUCE_BLOCK, b1 = r->lo < r->hi ? (r->hi + GRAD_REDUCE_BLOCK - 1) / GRAD_REDUCE_BLOCK : b0;
    memcpy(shared + b0, blocks + b0, (b1 - b0) * sizeof *blocks);
    sync_all(r);
    memcpy(blocks, shared, b0 * sizeof *blocks);
    memcpy(blocks + b1, shared + b1, (r->n_blocks - b1) * sizeof *blocks);
}

void grad_reduce_sum(grad_reduce *r, float *buf)
{
    grad_reduce_scatter(r, buf);
    grad_reduce_allgather(r, buf);
}

grad_reduce_kind grad_reduce_kind_of(const grad_reduce *r) { return r->kind; }

const char *grad_reduce_description(const grad_reduce *r)
{
    switch (r->kind) {
    case GRAD_REDUCE_SHM:
        return "in shared memory";
    case GRAD_REDUCE_NODES:
        return "in shared memory on each node, then by MPI_Allreduce between nodes";
    default:
        return "by MPI_Allreduce";
    }
}

void grad_reduce_free(grad_reduce *r)
{
    if (!r)
        return;
    if (r->slots) {
        MPI_Win_unlock_all(r->win);
        MPI_Win_free(&r->win);
    }
    if (r->leaders != MPI_COMM_NULL)
        MPI_Comm_free(&r->leaders);
    if (r->node != MPI_COMM_NULL)
        MPI_Comm_free(&r->node);
    free(r->tree);
    free(r);
}
