/* The ppo command's subcommands. Each returns the process exit status. */
#ifndef PPO_CLI_COMMANDS_H
#define PPO_CLI_COMMANDS_H

#include <stdbool.h>

#include "runtime/parallel.h"

/* Exit statuses (documented in the README). */
enum {
    EXIT_OK = 0,
    EXIT_FAILURE_RUN = 1,
    EXIT_BAD_INPUT = 2,
    EXIT_NONFINITE = 6, /* a non-finite gradient: the update was not applied, no checkpoint written after it */
    EXIT_STOPPED = 75, /* stopped by SIGTERM/SIGINT/SIGUSR1 after writing a checkpoint (EX_TEMPFAIL: retry) */
};

/* Sets up its own layout (--threads decides it). Needs MPI initialised, except when the arguments ask
 * for help (cmd_train_help_requested): then it prints the help and returns. */
int cmd_train(int argc, char **argv);
bool cmd_train_help_requested(int argc, char **argv);
int cmd_eval(const par_layout *par, int argc, char **argv);
int cmd_envs(int rank); /* prints on rank 0 */

#endif
