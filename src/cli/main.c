/* ppo: command-line entry point — train (default), eval, envs, --version. */
#include <hdf5.h>
#include <mpi.h>
#include <oneapi/dnnl/dnnl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "util/parse.h"

#ifndef PPO_VERSION
#define PPO_VERSION "0.0.0"
#endif

/* Set by mpirun (OpenMPI) or srun (PMIx, PMI) in every rank's environment. */
static bool started_by_launcher(void)
{
    return getenv("OMPI_COMM_WORLD_SIZE") || getenv("PMIX_RANK") || getenv("PMI_RANK");
}

/* Open MPI chooses its point-to-point layer (pml) by starting those it was built with; Debian's build also
 * starts cm with its Omni-Path transports (PSM, PSM2), ~0.2 s of every start here (an empty MPI program
 * under mpirun -n 2: 0.55 s, with pml ob1 0.33 s; a 1-update ppo run 0.71 s and 0.47 s). Ranks that all
 * share one node need none of them: ob1 over shared memory (vader) is Open MPI's own path within a node.
 * So ppo asks for ob1 when it runs alone or mpirun put every rank on this node, unless a pml was chosen
 * (OMPI_MCA_pml, which mpirun --mca pml X also sets). Other MPIs ignore the variable. */
static void prefer_local_pml(void)
{
    if (getenv("OMPI_MCA_pml"))
        return;
    const char *local = getenv("OMPI_COMM_WORLD_LOCAL_SIZE"), *world = getenv("OMPI_COMM_WORLD_SIZE");
    if (!started_by_launcher() || (local && world && !strcmp(local, world)))
        setenv("OMPI_MCA_pml", "ob1", 0);
}

/* The rank a launcher gave this process (0 when started alone). */
static int launcher_rank(void)
{
    const char *vars[] = {"OMPI_COMM_WORLD_RANK", "PMIX_RANK", "PMI_RANK"};
    for (int k = 0; k < 3; k++)
        if (getenv(vars[k]))
            return atoi(getenv(vars[k]));
    return 0;
}

/* `ppo --version`: ppo's version and the libraries it runs with (the run-time ones, which may differ
 * from those it was built against). Needs no MPI start: MPI_Get_library_version may be called before
 * MPI_Init. Under a launcher only rank 0 prints. */
static int print_version(void)
{
    if (launcher_rank() != 0)
        return EXIT_OK;
    const dnnl_version_t *dnnl = dnnl_version();
    unsigned h5[3] = {0, 0, 0};
    H5get_libversion(&h5[0], &h5[1], &h5[2]);
    char mpi[MPI_MAX_LIBRARY_VERSION_STRING] = "";
    int len = 0;
    MPI_Get_library_version(mpi, &len);
    mpi[strcspn(mpi, ",\n")] = 0; /* "Open MPI v4.1.6, package: ...": the name and version */
    printf("ppo %s\noneDNN %d.%d.%d\nHDF5 %u.%u.%u\n%s\n", PPO_VERSION, dnnl->major, dnnl->minor, dnnl->patch, h5[0],
           h5[1], h5[2], mpi[0] ? mpi : "MPI (version unknown)");
    return EXIT_OK;
}

/* No option takes a control character, and one (a newline, say) in a value would split the one-line
 * error that echoes it: refused before anything reads the arguments. 0 when there is none. */
static int refuse_control_characters(int argc, char **argv)
{
    for (int k = 1; k < argc; k++)
        for (const unsigned char *c = (const unsigned char *)argv[k]; *c; c++)
            if (*c < 0x20 || *c == 0x7f) {
                char shown[64];
                parse_printable(argv[k], shown, sizeof shown);
                if (launcher_rank() == 0)
                    fprintf(stderr, "ppo: error: argument %d ('%s') contains a control character (code %d), which no "
                            "option takes\n", k, shown, *c);
                return EXIT_BAD_INPUT;
            }
    return 0;
}

int main(int argc, char **argv)
{
    if (refuse_control_characters(argc, argv))
        return EXIT_BAD_INPUT;
    const char *sub = argc > 1 ? argv[1] : "";
    const int skip = !strcmp(sub, "train") ? 2 : 1;
    const bool version = !strcmp(sub, "--version") || (skip == 2 && argc > 2 && !strcmp(argv[2], "--version"));
    if ((version || !strcmp(sub, "envs")) && argc > skip + 1) { /* an ignored word may be a mistyped command */
        if (launcher_rank() == 0)
            fprintf(stderr, "ppo: error: '%s' takes no arguments, got '%.64s'\n", version ? "--version" : "envs",
                    argv[skip + 1]);
        return EXIT_BAD_INPUT;
    }
    if (version)
        return print_version();
    /* `ppo --help` and `ppo envs` typed at a shell print without starting MPI: a singleton MPI start
     * costs half a second, and some login nodes refuse it. Under a launcher every rank initialises
     * MPI and rank 0 prints. */
    if (!started_by_launcher()) {
        if (!strcmp(sub, "envs"))
            return cmd_envs(0);
        if (strcmp(sub, "eval") && cmd_train_help_requested(argc - skip, argv + skip))
            return cmd_train(argc - skip, argv + skip);
    }
    prefer_local_pml();
    int provided; /* a team's first thread calls MPI between its barriers (trainer_optimize.c) */
    MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
    par_layout par; /* eval uses the default thread policy */
    int rc;
    if (!strcmp(sub, "eval")) {
        par_layout_init(&par, MPI_COMM_WORLD, 0);
        if (par.threads_error[0]) {
            if (par.rank == 0)
                fprintf(stderr, "ppo: error: %s\n", par.threads_error);
            rc = EXIT_BAD_INPUT;
        } else
            rc = cmd_eval(&par, argc - 2, argv + 2);
    } else if (!strcmp(sub, "envs")) {
        par_layout_init(&par, MPI_COMM_WORLD, 0);
        rc = cmd_envs(par.rank);
    } else {
        rc = cmd_train(argc - skip, argv + skip);
    }
    MPI_Finalize();
    return rc;
}
