/* ppo: command-line entry point — train (default), eval, envs. */
#include <mpi.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"

/* Set by mpirun (OpenMPI) or srun (PMIx, PMI) in every rank's environment. */
static bool started_by_launcher(void)
{
    return getenv("OMPI_COMM_WORLD_SIZE") || getenv("PMIX_RANK") || getenv("PMI_RANK");
}

int main(int argc, char **argv)
{
    const char *sub = argc > 1 ? argv[1] : "";
    const int skip = !strcmp(sub, "train") ? 2 : 1;
    /* `ppo --help` and `ppo envs` typed at a shell print without starting MPI: a singleton MPI start
     * costs half a second, and some login nodes refuse it. Under a launcher every rank initialises
     * MPI and rank 0 prints. */
    if (!started_by_launcher()) {
        if (!strcmp(sub, "envs"))
            return cmd_envs(0);
        if (strcmp(sub, "eval") && cmd_train_help_requested(argc - skip, argv + skip))
            return cmd_train(argc - skip, argv + skip);
    }
    MPI_Init(&argc, &argv);
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
