/* h5log: the run's HDF5 log (docs/log-schema.md), written by rank 0 only; live-readable (SWMR)
 * and flushed after every update, so a killed run leaves every flushed row readable. A new log is
 * published with create-new semantics (two runs can never both create one path); a log reopened for
 * a resume is validated whole (its run id, every column's type, rank and extent, the kept rows)
 * before anything in it is changed. Not collective: only the writer rank calls these. */
#ifndef PPO_LOG_H5LOG_H
#define PPO_LOG_H5LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ppo/config.h"

#define H5LOG_SCHEMA_VERSION 1

/* One /metrics row. Field order is free; names match the datasets. */
typedef struct {
    int64_t update, global_step, episodes, epochs;
    double wall_time, steps_per_second;
    double return_mean, return_min, return_max, length_mean;
    double policy_loss, value_loss, entropy, approx_kl, clip_fraction, explained_variance;
    double grad_norm, learning_rate;
    /* seconds of the update per phase (runtime/phase_clock.h): mean over ranks and the slowest rank */
    double time_env, time_infer, time_gae, time_grad, time_comm, time_optim, time_log;
    double time_env_max, time_infer_max, time_gae_max, time_grad_max, time_comm_max, time_optim_max, time_log_max;
    double return_recent; /* mean return of the last 100 episodes (all ranks, so far); NaN before the first */
} log_metrics;

/* One /episodes row. */
typedef struct {
    int64_t global_step, update, rank, env_index, length;
    double ret;
    uint8_t terminated;
} log_episode;

/* Run context stored with the config in /config. */
typedef struct {
    int ranks, threads_per_rank;
    const char *hostnames;
    const char *version;
    const char *cpu_isa; /* oneDNN's kernels (nn_cpu_isa) */
    const char *start_time;
    int obs_dim, action_dim, action_count;
    const char *action_kind;
    double reward_threshold; /* NaN when none */
    long long global_batch;
    const char *run_id;      /* the run's id, also in its checkpoints */
} log_context;

/* /trajectories: the widths of a step row, and one index row per recorded episode. */
typedef struct {
    int obs_dim, action_dim, render_dim;
} traj_layout;

typedef struct {
    int64_t update, rank, env_index, length, seed;
    double ret;
} traj_episode;

/* A step row as the trainer packs it: obs | action | reward, logprob, value, terminated, truncated | render. */
static inline int traj_row_width(const traj_layout *l) { return l->obs_dim + l->action_dim + 5 + l->render_dim; }

typedef struct h5log h5log;

/* Creates the log at path: fails (err) if it exists and !force, or if it cannot be written.
 * The file is created under a temporary name and published once its layout is complete: by link()
 * (fails if a file appeared at path meanwhile, e.g. another run's) or, with force, by rename(). */
h5log *h5log_create(const char *path, bool force, const ppo_config *cfg, const log_context *ctx,
                    const traj_layout *traj, char *err, size_t err_len);

/* What a resume expects of the log it continues. */
typedef struct {
    long long keep_updates;  /* rows logged after it (by a run that went on past its checkpoint) are dropped */
    const char *run_id;      /* the checkpoint's run id; the log's /config must carry the same ("" = none) */
    long long global_batch;  /* steps per update: no update logs more episodes than this */
    traj_layout traj;        /* the widths /trajectories must have, if the log has it */
    bool need_trajectories;  /* refuse a log without /trajectories */
} h5log_resume;

/* Reopens an existing log to continue a resumed run, with its rows after want->keep_updates dropped
 * so the curves have no duplicated updates. Every check is made on a read-only open first, so nothing
 * is changed when it fails (another run's log, a missing or malformed column, too few rows). */
h5log *h5log_reopen(const char *path, const h5log_resume *want, char *err, size_t err_len);
/* Whether path still names this log's file (false once another run replaced it, e.g. with --force). */
bool h5log_is_at(const h5log *log, const char *path);
/* A reopened log's kept /episodes rows, update and return columns (malloc'd; the caller frees them),
 * so that what a run derives from its past episodes (the last-100 return) continues across a resume.
 * Returns the row count, or -1 with err. */
long long h5log_kept_returns(h5log *log, int64_t **update, double **ret, char *err, size_t err_len);
int h5log_append_metrics(h5log *log, const log_metrics *m, char *err, size_t err_len);
/* Appends recorded episodes: rows (sum of lengths, traj_row_width) in episode order. */
int h5log_append_trajectories(h5log *log, const float *rows, const traj_episode *eps, int n_eps, char *err,
                              size_t err_len);
int h5log_append_episodes(h5log *log, const log_episode *e, int n, char *err, size_t err_len);
/* Makes everything appended so far durable and visible to SWMR readers. */
int h5log_flush(h5log *log, char *err, size_t err_len);
void h5log_close(h5log *log);

#endif
