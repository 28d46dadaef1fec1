/* parallel: the MPI/OpenMP layout of a run — ranks, node-local ranks, threads per rank, hosts —
 * and the run-wide error exit (MPI_Abort, so no rank hangs in a collective). */
#ifndef PPO_RUNTIME_PARALLEL_H
#define PPO_RUNTIME_PARALLEL_H

#include <mpi.h>
#include <stdbool.h>

typedef struct {
    MPI_Comm comm;
    int rank, size;
    int node_rank, node_size; /* within this rank's shared-memory node */
    int node_cpus;            /* online CPUs on the node */
    int affinity_cpus;        /* CPUs this process may run on (mpirun may bind it to fewer) */
    int threads;              /* OpenMP threads this rank uses */
    char threads_reason[160]; /* why that many, for the start-up message */
    char hostnames[1024];     /* distinct host names, comma-separated (rank 0 has them) */
} par_layout;

/* Collective. Fills the layout and sets omp_set_num_threads: `requested` threads if > 0, else
 * OMP_NUM_THREADS if set, else node_cpus / node_size capped by the affinity mask, at least 1. */
void par_layout_init(par_layout *p, MPI_Comm comm, int requested);

/* Collective: true on every rank when `ok` is true on all of them. */
bool par_all_ok(const par_layout *p, bool ok);

/* Collective: broadcasts rank 0's message; every rank returns true when rank 0 had none. */
bool par_bcast_error(const par_layout *p, char *msg, int len);

/* Prints "ppo: error: msg" from the calling rank and aborts the whole job with `code`. */
_Noreturn void par_abort(const par_layout *p, int code, const char *msg);

#endif
