/* eval: runs a policy for whole episodes on seeds of the caller's choosing and reports the returns,
 * optionally recording every step. The envs, network pass and recording buffer are built once
 * (eval_runner_create) and reused by every evaluation of a run. Not collective: the training loop's
 * periodic evaluation (eval_schedule) spreads the episodes over the ranks. */
#ifndef PPO_PPO_EVAL_H
#define PPO_PPO_EVAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nn/policy.h"
#include "ppo/normalizer.h"

typedef struct {
    int episodes;
    double mean, std, min, max;
    double solved_fraction; /* episodes with return >= the env's threshold (NaN when it has none) */
    double mean_length;
} eval_result;

/* One evaluated episode. */
typedef struct {
    uint64_t seed; /* of its env and its action RNG */
    double ret;
    int length;
    bool terminated; /* false: truncated by the time limit */
} eval_episode;

typedef struct eval_runner eval_runner;

/* Most bytes a recording runner keeps, rows and frames: whole episodes stay in memory until they are
 * written (CarRacing-v3: 1000 frames of 27648 bytes per episode, 77 episodes; LunarLander-v3: 1000 rows
 * of 27 floats, 19,000 episodes). */
#define EVAL_RECORD_BYTES_MAX (2.0 * 1024 * 1024 * 1024)

/* Whether a recording of `episodes` whole episodes of spec's env under pm fits EVAL_RECORD_BYTES_MAX:
 * 0, or -1 with err naming the most that fit. Known from one env, so checked before the others exist. */
int eval_record_check(const policy_model *pm, const ppo_env_spec *spec, int episodes, char *err, size_t err_len);

/* Builds `capacity` envs of id/options and one network pass over params, which is kept and only read
 * (a trainer's parameters are evaluated as they are when eval_runner_run is called). record: keep
 * every step of every episode (h5log's packed trajectory rows) for eval_runner_steps, and for an image
 * env each row's env frame as bytes for eval_runner_frames (the rows then hold no observation).
 * pm->frame_skip must be set: a row is one action. NULL with err. */
eval_runner *eval_runner_create(const policy_model *pm, const float *params, const char *id, const char *options,
                                int capacity, bool record, char *err, size_t err_len);
void eval_runner_free(eval_runner *r);

/* Runs n <= capacity episodes stepped as one batch, episode i's env and action RNG seeded from
 * seeds[i], and fills eps (n,). deterministic: greedy (argmax / Gaussian mean). obs_norm: the training
 * run's observation statistics (NULL when it did not normalise), applied with clip_obs. Returns 0, or
 * -1 with err, or -2 with err when the policy produced an invalid action (NaN/Inf out of finite
 * parameters: a bad policy, not a failure of the run). */
int eval_runner_run(eval_runner *r, const running_stats *obs_norm, double clip_obs, const uint64_t *seeds, int n,
                    bool deterministic, eval_episode *eps, char *err, size_t err_len);

/* After a run of a recording runner: episode i's rows, (eps[i].length, eval_runner_row_width). */
const float *eval_runner_steps(const eval_runner *r, int i);
/* An image env's recording: episode i's frames, (eps[i].length, H, W, C) bytes as the env drew them
 * (before any frame stacking or grayscale); NULL for vector envs or without recording. */
const uint8_t *eval_runner_frames(const eval_runner *r, int i);
int eval_runner_row_width(const eval_runner *r);
const ppo_env_spec *eval_runner_spec(const eval_runner *r);

/* Mean, std, min, max, mean length and solved fraction (against spec's threshold) of n >= 1 episodes. */
void eval_summarize(const eval_episode *eps, int n, const ppo_env_spec *spec, eval_result *out);

#endif
