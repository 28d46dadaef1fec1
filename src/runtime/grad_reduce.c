/* grad_reduce: MPI-3 shared-memory sum for the ranks of each node, MPI_Allreduce between nodes.
 *
 * The node's window holds one slot per rank and a result slot. A sum: copy into the own slot; barrier;
 * each rank adds its slice of the elements over the node's slots into the result; barrier; where the
 * job spans nodes, the node leaders (node rank 0) add their results with MPI_Allreduce and a third
 * barrier holds the others until it is in; copy the result out. The result slot needs no second
 * buffer: a rank can only rewrite it in the next sum after that sum's first barrier, which every rank
 * of the node reaches only once it has copied this result out.
 *
 * The slots are added as a pairwise tree (slot q += slot q + w for w = 1, 2, 4, ...): the order
 * recursive doubling uses, which Open MPI 4.1's MPI_Allreduce followed bit for bit for 2, 4 and 8
 * ranks on the 2-core VM (3 to 160,000 floats). Nodes holding equal power-of-two blocks of
 * consecutive ranks then sum as one tree too, so a run's numbers do not depend on which path summed
 * its gradients, nor on how its ranks are spread over such nodes. */
#include "runtime/grad_reduce.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/simd.h"

enum {
    SLICE_ALIGN = 16, /* floats: slices start on 64-byte lines, so no two ranks write one line */
    TREE_BLOCK = 256  /* floats summed per pass over the tree (the scratch is ranks x this) */
};

struct grad_reduce {
    grad_reduce_kind kind;
    MPI_Comm comm;    /* the job's */
    MPI_Comm node;    /* SHM, NODES: this rank's node (owned) */
    MPI_Comm leaders; /* NODES: the node ranks 0 (owned; MPI_COMM_NULL on the others) */
    int size, node_rank, node_size;
    size_t n, stride; /* floats per vector, per slot */
    MPI_Win win;
    float *slots;     /* (node_size, stride) then the result slot, in the window */
    size_t lo, hi;    /* this rank's slice of the elements */
    float *tree;      /* (node_size, TREE_BLOCK) scratch */
};

/* Adds block [i, i + len) of every slot as a pairwise tree into out. */
PPO_SIMD_CLONES static void tree_sum(const float *restrict slots, size_t stride, int p, size_t i, size_t len,
                                     float *restrict tree, float *restrict out)
{
    for (int q = 0; q < p; q += 2) { /* level w = 1 straight from the slots */
        const float *a = slots + (size_t)q * stride + i;
        float *t = tree + (size_t)q * TREE_BLOCK;
        if (q + 1 < p) {
            const float *b = slots + (size_t)(q + 1) * stride + i;
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

/* Memory written by one rank is seen by the others after MPI_Win_sync, the barrier, MPI_Win_sync
 * (the MPI-3 shared-memory idiom; the window is locked for the whole run). */
static void sync_all(grad_reduce *r)
{
    MPI_Win_sync(r->win);
    MPI_Barrier(r->node);
    MPI_Win_sync(r->win);
}

/* The node's window and this rank's slice. Collective over r->node; false (nothing held) on failure. */
static bool open_window(grad_reduce *r)
{
    MPI_Comm_set_errhandler(r->node, MPI_ERRORS_RETURN);
    r->stride = (r->n + SLICE_ALIGN - 1) / SLICE_ALIGN * SLICE_ALIGN;
    const size_t floats = ((size_t)r->node_size + 1) * r->stride;
    const size_t bytes_needed = floats * sizeof(float) + 64; /* room to start on a 64-byte line */
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
    r->slots = (float *)((char *)base + offset);
    const size_t lines = r->stride / SLICE_ALIGN;
    r->lo = lines * (size_t)r->node_rank / (size_t)r->node_size * SLICE_ALIGN;
    r->hi = lines * (size_t)(r->node_rank + 1) / (size_t)r->node_size * SLICE_ALIGN;
    if (r->hi > r->n)
        r->hi = r->n;
    if (r->lo > r->hi)
        r->lo = r->hi;
    MPI_Win_lock_all(MPI_MODE_NOCHECK, r->win);
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

void grad_reduce_sum(grad_reduce *r, float *buf)
{
    if (r->size == 1)
        return;
    if (r->kind == GRAD_REDUCE_MPI) {
        MPI_Allreduce(MPI_IN_PLACE, buf, (int)r->n, MPI_FLOAT, MPI_SUM, r->comm);
        return;
    }
    float *result = r->slots + (size_t)r->node_size * r->stride;
    memcpy(r->slots + (size_t)r->node_rank * r->stride, buf, r->n * sizeof *buf);
    sync_all(r);
    for (size_t i = r->lo; i < r->hi; i += TREE_BLOCK) {
        const size_t len = r->hi - i < TREE_BLOCK ? r->hi - i : TREE_BLOCK;
        tree_sum(r->slots, r->stride, r->node_size, i, len, r->tree, result);
    }
    sync_all(r);
    if (r->kind == GRAD_REDUCE_NODES) {
        if (r->leaders != MPI_COMM_NULL)
            MPI_Allreduce(MPI_IN_PLACE, result, (int)r->n, MPI_FLOAT, MPI_SUM, r->leaders);
        sync_all(r);
    }
    memcpy(buf, result, r->n * sizeof *buf);
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
