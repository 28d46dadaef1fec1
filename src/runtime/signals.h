/* signals: SIGTERM, SIGINT and SIGUSR1 ask the run to stop at the end of the current update (checkpoint,
 * flush, exit); a second SIGINT exits at once. The request is read by the training loop, which makes
 * it a collective decision so that every rank stops after the same update. */
#ifndef PPO_RUNTIME_SIGNALS_H
#define PPO_RUNTIME_SIGNALS_H

void signals_install(void);
/* The signal number that asked for a stop, or 0. */
int signals_stop_requested(void);

#endif
