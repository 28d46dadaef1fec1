/* parallel: the MPI/OpenMP layout of a run — ranks, node-local ranks, threads per rank, hosts —
 * and the run-wide error exit (MPI_Abort, so no rank hangs in a collective). */
#ifndef PPO_RUNTIME_PARALLEL_H
#define PPO_RUNTIME_PARALLEL_H

#include <mpi.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct {
    MPI_Comm comm;
    int rank, size;
    int node_rank, node_size; /* within this rank's shared-memory node */
    int node_cpus;            /* online CPUs on the node */
    int affinity_cpus;        /* CPUs this process may run on (mpirun may bind it to fewer) */
    int threads;              /* OpenMP threads this rank uses */
    char threads_reason[160]; /* why that many, for the start-up message */
    char threads_error[200];  /* non-empty: the requested count was over PAR_MAX_THREADS_PER_CPU x node_cpus
                                 and was not applied (the caller refuses the run) */
    char hostnames[1024];     /* distinct host names, comma-separated (rank 0 has them) */
} par_layout;

/* More threads than this many per online CPU only thrash (libgomp spins at its barriers) or exhaust
 * memory for thread stacks: 100000 crashed in libgomp, 5000 ran without end on 2 cores. */
#define PAR_MAX_THREADS_PER_CPU 4

/* Collective. Fills the layout and sets omp_set_num_threads: `requested` threads if > 0, else
 * OMP_NUM_THREADS if set, else node_cpus / node_size capped by the affinity mask, at least 1. A
 * requested or OMP_NUM_THREADS count over PAR_MAX_THREADS_PER_CPU x node_cpus is not applied: it is
 * described in threads_error and the default count is used instead. */
void par_layout_init(par_layout *p, MPI_Comm comm, int requested);

/* Into out (empty when not): a note that the node's ranks' threads outnumber its CPUs while each rank
 * may run on as many CPUs as it has threads, so that OpenMP's waiting threads spin on cores other
 * threads need (libgomp spins less only where a team outnumbers its own process's CPUs); unless
 * OMP_WAIT_POLICY is passive. */
void par_oversubscription_note(const par_layout *p, char *out, size_t len);

/* Bytes of memory this node can still give a process: MemAvailable from /proc/meminfo, lowered to the
 * room left under a cgroup v2 memory.max; sysconf's available pages where /proc is missing; < 0 if
 * unknown. `source` names where the figure came from. */
double par_node_memory_available(const char **source);

/* Collective. Refuses (-1, err on every rank) when the ranks of some node together need more than
 * that node has: bytes_per_rank x the ranks on the node against par_node_memory_available. what names
 * the demand, remedy ends the message with what to change. */
int par_check_memory(const par_layout *p, double bytes_per_rank, const char *what, const char *remedy, char *err,
                     size_t err_len);

/* Collective: true on every rank when `ok` is true on all of them. */
bool par_all_ok(const par_layout *p, bool ok);

/* Collective: broadcasts rank 0's message; every rank returns true when rank 0 had none. */
bool par_bcast_error(const par_layout *p, char *msg, int len);

/* Prints "ppo: error: msg" from the calling rank and aborts the whole job with `code`. */
_Noreturn void par_abort(const par_layout *p, int code, const char *msg);

#endif
