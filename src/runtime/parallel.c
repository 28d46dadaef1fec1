/* parallel: node discovery with MPI_Comm_split_type and the thread-count policy. */
#define _GNU_SOURCE
#include "runtime/parallel.h"

#include <omp.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int affinity_cpu_count(void)
{
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0)
        return CPU_COUNT(&set);
    return (int)sysconf(_SC_NPROCESSORS_ONLN);
}

void par_layout_init(par_layout *p, MPI_Comm comm, int requested)
{
    memset(p, 0, sizeof *p);
    p->comm = comm;
    MPI_Comm_rank(comm, &p->rank);
    MPI_Comm_size(comm, &p->size);
    MPI_Comm node;
    MPI_Comm_split_type(comm, MPI_COMM_TYPE_SHARED, p->rank, MPI_INFO_NULL, &node);
    MPI_Comm_rank(node, &p->node_rank);
    MPI_Comm_size(node, &p->node_size);
    MPI_Comm_free(&node);
    p->node_cpus = (int)sysconf(_SC_NPROCESSORS_ONLN);
    p->affinity_cpus = affinity_cpu_count();

    const char *env = getenv("OMP_NUM_THREADS");
    if (requested > 0) {
        p->threads = requested;
        snprintf(p->threads_reason, sizeof p->threads_reason, "--threads %d", requested);
    } else if (env && atoi(env) > 0) {
        p->threads = atoi(env);
        snprintf(p->threads_reason, sizeof p->threads_reason, "OMP_NUM_THREADS=%d", p->threads);
    } else {
        int share = p->node_cpus / p->node_size;
        if (share < 1)
            share = 1;
        p->threads = share < p->affinity_cpus ? share : p->affinity_cpus;
        if (p->threads < 1)
            p->threads = 1;
        snprintf(p->threads_reason, sizeof p->threads_reason,
                 "%d cores / %d ranks on the node%s", p->node_cpus, p->node_size,
                 share > p->affinity_cpus ? ", capped by the CPUs mpirun bound the rank to (use --bind-to none to lift)" : "");
    }
    omp_set_num_threads(p->threads);

    /* distinct host names, gathered on rank 0 */
    char host[64] = {0};
    gethostname(host, sizeof host - 1);
    char *all = p->rank == 0 ? malloc((size_t)p->size * sizeof host) : NULL;
    MPI_Gather(host, (int)sizeof host, MPI_CHAR, all, (int)sizeof host, MPI_CHAR, 0, comm);
    if (p->rank == 0) {
        for (int r = 0; r < p->size; r++) {
            const char *h = all + (size_t)r * sizeof host;
            bool seen = false;
            for (int q = 0; q < r && !seen; q++)
                seen = !strcmp(h, all + (size_t)q * sizeof host);
            if (!seen && strlen(p->hostnames) + strlen(h) + 2 < sizeof p->hostnames) {
                if (p->hostnames[0])
                    strcat(p->hostnames, ",");
                strcat(p->hostnames, h);
            }
        }
        free(all);
    }
}

bool par_all_ok(const par_layout *p, bool ok)
{
    int mine = ok ? 1 : 0, all = 0;
    MPI_Allreduce(&mine, &all, 1, MPI_INT, MPI_MIN, p->comm);
    return all == 1;
}

bool par_bcast_error(const par_layout *p, char *msg, int len)
{
    MPI_Bcast(msg, len, MPI_CHAR, 0, p->comm);
    return msg[0] == 0;
}

_Noreturn void par_abort(const par_layout *p, int code, const char *msg)
{
    fprintf(stderr, "ppo: error (rank %d): %s\n", p->rank, msg);
    fflush(stderr);
    MPI_Abort(p->comm, code);
    exit(code); /* not reached */
}
