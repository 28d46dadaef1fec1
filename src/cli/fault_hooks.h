/* fault_hooks: faults the tests inject into a real run — a signal at the end of set-up, a NaN gradient
 * at a given update. Read from the environment (PPO_FAULT_SIGNAL_IN_SETUP, PPO_FAULT_NAN_AT_UPDATE) only
 * in the test build of the CLI (`ppo-faults`, compiled with PPO_FAULT_HOOKS); the `ppo` users run has
 * none and ignores those variables. */
#ifndef PPO_CLI_FAULT_HOOKS_H
#define PPO_CLI_FAULT_HOOKS_H

#include <stdlib.h>

typedef struct {
    int signal_in_setup;     /* raise this signal just before the run's files are written; 0: none */
    long long nan_at_update; /* poison this update's gradient (trainer_poison_update); 0: none */
} fault_hooks;

static inline void fault_hooks_read(fault_hooks *f)
{
    *f = (fault_hooks){0};
#ifdef PPO_FAULT_HOOKS
    const char *sig = getenv("PPO_FAULT_SIGNAL_IN_SETUP"), *nan = getenv("PPO_FAULT_NAN_AT_UPDATE");
    f->signal_in_setup = sig ? atoi(sig) : 0;
    f->nan_at_update = nan ? atoll(nan) : 0;
#endif
}

#endif
