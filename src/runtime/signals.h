/* signals: after set-up, SIGTERM, SIGINT and SIGUSR1 ask the run to stop at the end of the current update (checkpoint,
 * flush, exit); a second SIGINT exits at once. The request is read by the training loop, which makes
 * it a collective decision so that every rank stops after the same update. */
#ifndef PPO_RUNTIME_SIGNALS_H
#define PPO_RUNTIME_SIGNALS_H

/* Set-up: SIGUSR1 is recorded (it must not kill a rank a batch script signals early); SIGTERM and
 * SIGINT keep their default action, so a run stopped while it parses, allocates, builds envs or reads
 * a checkpoint (minutes for a large run) ends at once, before any file is written. */
void signals_install(void);
/* From the first file write on: SIGTERM and SIGINT are recorded too, so the run stops after the
 * update with a checkpoint. */
void signals_arm_stop(void);
/* The signal number that asked for a stop, or 0. */
int signals_stop_requested(void);

#endif
