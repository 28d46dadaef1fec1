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

/* One /eval row: an evaluation of the greedy policy during training (--eval-every). */
typedef struct {
    int64_t update, global_step, episodes;
    double wall_time, seconds; /* training wall time when it ran; seconds it took */
    double return_mean, return_std, return_min, return_max, length_mean;
    uint8_t new_best; /* 1: the best mean so far; the policy was saved as the run's best */
} log_eval;

/* One /eval_episodes row. */
typedef struct {
    int64_t update, episode, seed, length; /* episode: index within its evaluation */
    double ret;
    uint8_t terminated;
} log_eval_episode;

/* Run context stored with the config in /config. */
typedef struct {
    int ranks, threads_per_rank;
    const char *hostnames;
    const char *version;
    const char *cpu_isa; /* oneDNN's kernels (nn_cpu_isa) */
    const char *grad_sum; /* how the gradients were summed over the ranks (grad_reduce_description); NULL: "" */
    const char *start_time;
    int obs_dim, action_dim, action_count;
    const char *action_kind;
    double reward_threshold; /* NaN when none */
    long long global_batch;
    const char *run_id;      /* the run's id, also in its checkpoints */
} log_context;

/* /trajectories: the widths of a step row, and one index row per recorded episode. An image env's
 * observations are stored as its uint8 (H, W, C) frames beside the rows, which then hold none. */
typedef struct {
    int obs_dim, action_dim, render_dim;
    int frame_height, frame_width, frame_channels; /* image envs' frames; 0: vector observations in the rows */
} traj_layout;

typedef struct {
    int64_t update, rank, env_index, length, seed;
    double ret;
} traj_episode;

/* A step row as the trainer packs it: obs | action | reward, logprob, value, terminated, truncated | render
 * (no obs for an image env: its frames come separately). */
static inline int traj_row_width(const traj_layout *l)
{
    return (l->frame_height > 0 ? 0 : l->obs_dim) + l->action_dim + 5 + l->render_dim;
}
static inline size_t traj_frame_bytes(const traj_layout *l)
{
    return (size_t)l->frame_height * (size_t)l->frame_width * (size_t)l->frame_channels;
}

typedef struct h5log h5log;

/* Creates the log at path: fails (err) if it exists and !force, or if it cannot be written. It has
 * /eval when cfg->eval_every > 0.
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
    bool eval;               /* this run evaluates (--eval-every): /eval, /eval_episodes made if absent */
} h5log_resume;

/* Reopens an existing log to continue a resumed run, with its rows after want->keep_updates dropped
 * so the curves have no duplicated updates. Every check is made on a read-only open first, so nothing
 * is changed when it fails (another run's log, a missing or malformed column, too few rows). */
h5log *h5log_reopen(const char *path, const h5log_resume *want, char *err, size_t err_len);

/* -1 with the reason in err when another process holds the log at path as its writer (the run being
 * resumed still running, or its ranks still ending); 0 otherwise. A resume asks before it reads the
 * checkpoint, which that writer may still be replacing. */
int h5log_check_no_writer(const char *path, char *err, size_t err_len);

/* The run id in a log's /config ("" for logs from before run ids), read-only and validated as a ppo
 * log's (a regular file, format 'ppo-log', a bounded string). 0, or -1 when it is not a readable log. */
int h5log_peek_run_id(const char *path, char *run_id, size_t len);
/* Whether path still names this log's file (false once another run replaced it, e.g. with --force). */
bool h5log_is_at(const h5log *log, const char *path);
/* A reopened log's kept /episodes rows, update and return columns (malloc'd; the caller frees them),
 * so that what a run derives from its past episodes (the last-100 return) continues across a resume.
 * Returns the row count, or -1 with err. */
long long h5log_kept_returns(h5log *log, int64_t **update, double **ret, char *err, size_t err_len);
int h5log_append_metrics(h5log *log, const log_metrics *m, char *err, size_t err_len);
/* Appends recorded episodes: rows (sum of lengths, traj_row_width) in episode order; for an image env's
 * layout also frames, (sum of lengths, traj_frame_bytes) in the same order (NULL for vector envs). */
int h5log_append_trajectories(h5log *log, const float *rows, const uint8_t *frames, const traj_episode *eps,
                              int n_eps, char *err, size_t err_len);
int h5log_append_episodes(h5log *log, const log_episode *e, int n, char *err, size_t err_len);
/* Appends an evaluation's row to /eval and its n episodes to /eval_episodes (the log must have them). */
int h5log_append_eval(h5log *log, const log_eval *ev, const log_eval_episode *eps, int n, char *err, size_t err_len);
/* The best return_mean of the /eval rows a reopened log kept (-inf when none): a resumed run's best
 * evaluation so far. */
double h5log_eval_best(const h5log *log);
/* What `ppo eval --record` stores about the evaluation in its file's /config. */
typedef struct {
    const char *env, *env_options;
    const char *policy, *run_id; /* the evaluated file and the run that trained it */
    long long update, global_step; /* the policy's training so far (update 0 when the file does not say) */
    long long seed;                /* the first episode's seed; episode i has seed + i */
    int episodes;
    bool deterministic;
    const char *version, *start_time;
    int obs_dim, action_dim, action_count;
    const char *action_kind;
    double reward_threshold; /* NaN when none */
} eval_record_context;

/* Writes an evaluation's recording in a log's layout, so the analysis tools read it as one: root
 * attribute `content` "evaluation", /config from ctx, empty /metrics and /episodes, the evaluation's
 * /eval row and its n episodes in /eval_episodes, each recorded whole in /trajectories (rows: sum of the lengths,
 * traj_row_width). An image env's layout also takes frames: frames[i] holds episode i's teps[i].length
 * frames of traj_frame_bytes (NULL for vector envs). Built under a temporary name and published by link():
 * never over an existing file. */
int h5log_write_recording(const char *path, const eval_record_context *ctx, const traj_layout *traj, const log_eval *ev,
                          const log_eval_episode *eps, const float *rows, const uint8_t *const *frames,
                          const traj_episode *teps, int n, char *err, size_t err_len);
/* Makes everything appended so far durable and visible to SWMR readers. */
int h5log_flush(h5log *log, char *err, size_t err_len);
void h5log_close(h5log *log);

#endif
