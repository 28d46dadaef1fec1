/* grad_reduce: the sum over all ranks of a float vector of fixed length (the flat gradient, once per
 * minibatch). The ranks of a node add their vectors through MPI-3 shared memory: each copies its
 * vector into a shared window, sums a fixed slice of the elements over the node's ranks, and reads the
 * other slices back after a barrier of its own (on 2 ranks of the 2-core VM: 5.9 us for 9,797 floats
 * against MPI_Allreduce's 20.5 us); where the job spans nodes, one rank per node adds the node sums with
 * MPI_Allreduce in between. Without shared memory, or when asked, it is MPI_Allreduce. Either way
 * every rank gets the same bits, and the same layout gives the same bits run after run. */
#ifndef PPO_RUNTIME_GRAD_REDUCE_H
#define PPO_RUNTIME_GRAD_REDUCE_H

#include <mpi.h>
#include <stdbool.h>
#include <stddef.h>

typedef enum {
    GRAD_REDUCE_MPI,  /* MPI_Allreduce over the job */
    GRAD_REDUCE_SHM,  /* every rank on one node: shared memory only */
    GRAD_REDUCE_NODES /* shared memory on each node, MPI_Allreduce between the nodes' first ranks */
} grad_reduce_kind;

typedef struct grad_reduce grad_reduce;

/* Collective over comm. want_shm: shared memory within each node (MPI_COMM_TYPE_SHARED), else
 * MPI_Allreduce; MPI_Allreduce too where no node has two ranks or a shared window cannot be had.
 * n > 0. Returns NULL with err set, on every rank, when out of memory. */
grad_reduce *grad_reduce_create(MPI_Comm comm, size_t n, bool want_shm, char *err, size_t err_len);

/* The same with the nodes given: node is this rank's group of comm's ranks that share memory, ranked
 * as in comm (MPI_COMM_NULL: MPI_Allreduce). The caller keeps node. Lets a test on one machine group
 * its ranks as several nodes. */
grad_reduce *grad_reduce_create_nodes(MPI_Comm comm, MPI_Comm node, size_t n, char *err, size_t err_len);

/* Collective: buf (n floats) becomes the sum of every rank's buf. */
void grad_reduce_sum(grad_reduce *r, float *buf);

/* The sum in halves, so that each rank of a node can update only its own slice of a vector and then
 * share it (a sharded optimizer): grad_reduce_scatter leaves the sum in this rank's slice of buf, and
 * grad_reduce_allgather gives every rank of its node every such rank's slice of a vector. A node's
 * ranks' slices cover [0, n) in rank order and start at multiples of GRAD_REDUCE_BLOCK elements: in
 * shared memory (on one node or several) each rank has its own (maybe empty); with MPI_Allreduce or
 * one rank the slice is all of [0, n) and the gathers do nothing. Same bits as grad_reduce_sum. */
enum { GRAD_REDUCE_BLOCK = 64 };

/* This rank's slice [lo, hi). */
void grad_reduce_slice(const grad_reduce *r, size_t *lo, size_t *hi);

/* Collective: buf's slice [lo, hi) becomes the sum of every rank's buf there; the rest of buf is left
 * as it was. Between two scatters there must be an allgather (it holds the ranks until every one has
 * read the previous scatter's vectors). */
void grad_reduce_scatter(grad_reduce *r, float *buf);

/* Collective: buf (n floats) gets every other rank's slice of its buf; its own slice stays. */
void grad_reduce_allgather(grad_reduce *r, float *buf);

/* Collective: the same for one double per block of GRAD_REDUCE_BLOCK elements (ceil(n / BLOCK) of
 * them): each rank contributes the blocks of its slice. */
void grad_reduce_allgather_blocks(grad_reduce *r, double *blocks);

grad_reduce_kind grad_reduce_kind_of(const grad_reduce *r);

/* How the sum is made, for the start-up line: "in shared memory", "by MPI_Allreduce", ... */
const char *grad_reduce_description(const grad_reduce *r);

/* Collective (frees the window). NULL is ignored. */
void grad_reduce_free(grad_reduce *r);

#endif
