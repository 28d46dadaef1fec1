/* ppo: command-line entry point — train (default), eval, envs. */
#include <mpi.h>
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    par_layout par; /* eval and envs use the default thread policy */
    const char *sub = argc > 1 ? argv[1] : "";
    int rc;
    if (!strcmp(sub, "eval")) {
        par_layout_init(&par, MPI_COMM_WORLD, 0);
        rc = cmd_eval(&par, argc - 2, argv + 2);
    } else if (!strcmp(sub, "envs")) {
        par_layout_init(&par, MPI_COMM_WORLD, 0);
        rc = cmd_envs(&par);
    } else {
        int skip = !strcmp(sub, "train") ? 2 : 1;
        rc = cmd_train(argc - skip, argv + skip);
    }
    MPI_Finalize();
    return rc;
}
