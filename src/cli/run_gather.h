/* run_gather: what every rank did in an update, brought to rank 0 for the log — finished episodes (in
 * rank order), recorded trajectories, and the phase times as mean and slowest rank. Collective. */
#ifndef PPO_CLI_RUN_GATHER_H
#define PPO_CLI_RUN_GATHER_H

#include "log/h5log.h"
#include "ppo/trainer.h"
#include "runtime/parallel.h"
#include "runtime/phase_clock.h"

/* Rank 0's buffers for one update's episodes, sized for the most a rollout can finish. */
typedef struct {
    episode_record *all; /* every rank's episodes, in rank order */
    log_episode *rows;   /* the same as /episodes rows */
    int *counts, *displs;
    int total;
} run_gather;

int run_gather_init(run_gather *g, const par_layout *par, long long steps_per_update);
void run_gather_free(run_gather *g);

/* The episodes each rank finished in the last rollout, on rank 0 as g->all and g->rows (g->total of
 * them); on rank 0 m's episode count and return/length statistics are filled in (NaN when none). */
void run_gather_episodes(run_gather *g, const trainer *tr, const par_layout *par, const update_stats *st,
                         log_metrics *m);

/* The /trajectories layout of the env: an image env's observations as uint8 frames beside the rows. */
traj_layout run_traj_layout(const ppo_env_spec *spec);

/* The episodes each rank recorded in the last rollout, appended on rank 0 to the log's /trajectories in
 * rank order (an image env's frames too). The result is rank 0's (other ranks return 0). */
int run_gather_trajectories(const trainer *tr, const par_layout *par, h5log *log, long long update, char *err,
                            size_t err_len);

/* This rank's phase times since the last call, reduced to mean and max over the ranks on rank 0. The
 * clock's sums restart; its mark stays, so the rest of this update's logging is charged to the next. */
void run_gather_phase_times(phase_clock *clk, const par_layout *par, double mean[PHASE_COUNT],
                            double max[PHASE_COUNT]);

#endif
