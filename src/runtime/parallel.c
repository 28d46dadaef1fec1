/* parallel: node discovery with MPI_Comm_split_type and the thread-count policy. */
#define _GNU_SOURCE
#include "runtime/parallel.h"

#include "util/parse.h"

#include <ctype.h>
#include <errno.h>
#include <omp.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

static int affinity_cpu_count(void)
{
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0)
        return CPU_COUNT(&set);
    return (int)sysconf(_SC_NPROCESSORS_ONLN);
}

/* OMP_NUM_THREADS's thread count: its first number (it may list one per nesting level, "4,2"), plain
 * decimal; -1 for anything else (0, -1, "abc", "", "0x2", "1e3", out of range), which libgomp only
 * warns about and ppo used to read with atol (1e3 as 1). */
static long omp_threads_from_env(const char *env)
{
    if (!isdigit((unsigned char)env[0]))
        return -1;
    errno = 0;
    char *end;
    const long v = strtol(env, &end, 10);
    return errno == ERANGE || (*end && *end != ',') || v < 1 ? -1 : v;
}

void par_oversubscription_note(const par_layout *p, char *out, size_t len)
{
    out[0] = '\0';
    const char *policy = getenv("OMP_WAIT_POLICY");
    if (p->threads < 2 || (long)p->node_size * p->threads <= p->node_cpus || p->threads > p->affinity_cpus ||
        (policy && !strcasecmp(policy, "passive")))
        return;
    /* 2 ranks x 2 threads on the 2-core VM, --preset scale: 33x slower than x 1 thread, and as fast
     * with OMP_WAIT_POLICY=passive or each rank bound to one core (libgomp then spins little) */
    snprintf(out, len,
             "note: %d rank%s x %d threads on this node's %d CPUs: OpenMP's waiting threads spin on cores the others "
             "need, which made runs 30x slower; give --threads %d, or set OMP_WAIT_POLICY=passive",
             p->node_size, p->node_size > 1 ? "s" : "", p->threads, p->node_cpus,
             p->node_cpus / p->node_size > 1 ? p->node_cpus / p->node_size : 1);
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
    const long max_threads = (long)PAR_MAX_THREADS_PER_CPU * (p->node_cpus > 0 ? p->node_cpus : 1);
    const long env_threads = requested <= 0 && env ? omp_threads_from_env(env) : 0; /* --threads wins over it */
    if (env_threads < 0) {
        char shown[48];
        parse_printable(env, shown, sizeof shown);
        snprintf(p->threads_error, sizeof p->threads_error,
                 "OMP_NUM_THREADS: '%s' is not a whole number of threads from 1 to %ld (unset it, or give --threads)",
                 shown, max_threads);
    } else if (requested > max_threads || env_threads > max_threads)
        snprintf(p->threads_error, sizeof p->threads_error,
                 "%s %ld is more than the %ld threads per rank allowed on this node (%d x %d online CPUs)",
                 requested > 0 ? "option threads:" : "OMP_NUM_THREADS:", requested > 0 ? (long)requested : env_threads,
                 max_threads, PAR_MAX_THREADS_PER_CPU, p->node_cpus);
    if (requested > 0 && !p->threads_error[0]) {
        p->threads = requested;
        snprintf(p->threads_reason, sizeof p->threads_reason, "--threads %d", requested);
    } else if (env_threads > 0 && !p->threads_error[0]) {
        p->threads = (int)env_threads;
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
    /* ppo splits work by the team size it asks for (a worker per thread, fixed parts of every sum), so a
     * team must have exactly that many threads: no dynamic adjustment (OMP_DYNAMIC=true gave smaller
     * teams on a busy node, whose missing workers' rows were never computed), and no more threads than
     * OMP_THREAD_LIMIT allows (it shrank every team to its value the same way) */
    omp_set_dynamic(0);
    /* a value libgomp cannot read it only warns about and ignores, dropping the limit asked for: refuse
     * it as OMP_NUM_THREADS is (a plain whole number from 1; no list, which a limit does not take) */
    const char *limit_env = getenv("OMP_THREAD_LIMIT");
    if (limit_env && !p->threads_error[0] && (omp_threads_from_env(limit_env) < 0 || strchr(limit_env, ','))) {
        char shown[48];
        parse_printable(limit_env, shown, sizeof shown);
        snprintf(p->threads_error, sizeof p->threads_error,
                 "OMP_THREAD_LIMIT: '%s' is not a whole number of threads from 1 (unset it)", shown);
    }
    const int limit = omp_get_thread_limit();
    if (!p->threads_error[0] && limit >= 1 && p->threads > limit) {
        const size_t len = strlen(p->threads_reason);
        snprintf(p->threads_reason + len, sizeof p->threads_reason - len, ", capped by OMP_THREAD_LIMIT=%d", limit);
        p->threads = limit;
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

/* The first number after `key` in a /proc-style file, or -1. */
static double read_number_after(const char *path, const char *key)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    char line[256];
    double v = -1;
    const size_t klen = strlen(key);
    while (v < 0 && fgets(line, sizeof line, f))
        if (!strncmp(line, key, klen) && sscanf(line + klen, "%lf", &v) != 1)
            v = -1;
    fclose(f);
    return v;
}

double par_node_memory_available(const char **source)
{
    double avail = read_number_after("/proc/meminfo", "MemAvailable:");
    *source = "MemAvailable";
    if (avail >= 0)
        avail *= 1024.0; /* kB */
    else {
        const long pages = sysconf(_SC_AVPHYS_PAGES), page = sysconf(_SC_PAGESIZE);
        avail = pages > 0 && page > 0 ? (double)pages * (double)page : -1;
        *source = "free pages";
    }
    /* cgroup limits (a container, a Slurm job): the tightest of this process's memory cgroup and its
     * ancestors, as Slurm may set the limit on the job and not on the step. v2 ("0::/path", "max" reads
     * as no number) and v1 ("N:memory:/path", no limit reads as a huge number). */
    FILE *f = fopen("/proc/self/cgroup", "r");
    char line[512];
    while (f && fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = 0;
        const bool v2 = !strncmp(line, "0::", 3);
        const char *v1 = strstr(line, ":memory:");
        if (!v2 && !v1)
            continue;
        char rel[512];
        snprintf(rel, sizeof rel, "%s", v2 ? line + 3 : v1 + 8);
        const char *base = v2 ? "/sys/fs/cgroup" : "/sys/fs/cgroup/memory";
        for (;;) {
            char max_path[600], cur_path[600];
            snprintf(max_path, sizeof max_path, "%s%s/%s", base, rel, v2 ? "memory.max" : "memory.limit_in_bytes");
            snprintf(cur_path, sizeof cur_path, "%s%s/%s", base, rel, v2 ? "memory.current" : "memory.usage_in_bytes");
            const double limit = read_number_after(max_path, ""), used = read_number_after(cur_path, "");
            if (limit > 0 && used >= 0 && (avail < 0 || limit - used < avail)) {
                avail = limit > used ? limit - used : 0;
                *source = v2 ? "cgroup memory.max - memory.current" : "cgroup memory.limit_in_bytes - usage";
            }
            char *slash = strrchr(rel, '/');
            if (!slash)
                break;
            *slash = 0; /* the parent; "" is the root */
        }
    }
    if (f)
        fclose(f);
    return avail;
}

int par_check_memory(const par_layout *p, double bytes_per_rank, const char *what, const char *remedy, char *err,
                     size_t err_len)
{
    const char *source = "";
    const double avail = par_node_memory_available(&source);
    const double need = bytes_per_rank * p->node_size;
    struct {
        double margin;
        int rank;
    } mine = {avail < 0 ? 0.0 : avail - need, p->rank}, worst;
    MPI_Allreduce(&mine, &worst, 1, MPI_DOUBLE_INT, MPI_MINLOC, p->comm);
    if (worst.margin >= 0)
        return 0;
    double fig[3] = {need, avail, (double)p->node_size};
    MPI_Bcast(fig, 3, MPI_DOUBLE, worst.rank, p->comm);
    char where[64];
    snprintf(where, sizeof where, "the node of rank %d", worst.rank);
    snprintf(err, err_len,
             "%s need about %.1f GB on %s (%.0f rank%s x %.2f GB), but it has %.1f GB available%s%s%s; %s",
             what, fig[0] / 1e9, worst.rank == p->rank ? "this node" : where, fig[2], fig[2] > 1 ? "s" : "",
             fig[0] / fig[2] / 1e9, fig[1] / 1e9, worst.rank == p->rank ? " (" : "", worst.rank == p->rank ? source : "",
             worst.rank == p->rank ? ")" : "", remedy);
    return -1;
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
