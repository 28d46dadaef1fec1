/* signals: SIGTERM, SIGINT and SIGUSR1 ask the run to stop at the end of the current update (checkpoint,
 * flush, exit); a second SIGINT exits at once. The request is read by the training loop, which makes
 * it a collective decision so that every rank stops after the same update. */
#ifndef PPO_RUNTIME_SIGNALS_H
#define PPO_RUNTIME_SIGNALS_H

#include <stdbool.h>

void signals_install(void);
/* While true, SIGTERM and SIGINT end the process at once (exit 128 + signal) instead of asking for a
 * stop: set-up (parsing, allocation, env creation, reading a checkpoint) can take minutes and has
 * nothing to save, as long as no file has been written yet. SIGUSR1 is always only recorded. */
void signals_set_setup(bool setup);
/* The signal number that asked for a stop, or 0. */
int signals_stop_requested(void);

#endif
