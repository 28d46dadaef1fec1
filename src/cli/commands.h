/* The ppo command's subcommands. Each returns the process exit status. */
#ifndef PPO_CLI_COMMANDS_H
#define PPO_CLI_COMMANDS_H

#include "runtime/parallel.h"

/* Exit statuses (documented in the README). */
enum {
    EXIT_OK = 0,
    EXIT_FAILURE_RUN = 1,
    EXIT_BAD_INPUT = 2,
    EXIT_STOPPED = 75, /* stopped by SIGTERM/SIGINT/SIGUSR1 after writing a checkpoint (EX_TEMPFAIL: retry) */
};

int cmd_train(int argc, char **argv); /* sets up its own layout: --threads decides it */
int cmd_eval(const par_layout *par, int argc, char **argv);
int cmd_envs(const par_layout *par);

#endif
