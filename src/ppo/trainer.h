/* trainer: one PPO / A2C / REINFORCE run — rollouts on every rank, GAE, minibatch updates with one
 * gradient allreduce each, metrics to the HDF5 log on rank 0. Collective over par->comm. */
#ifndef PPO_PPO_TRAINER_H
#define PPO_PPO_TRAINER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nn/policy.h"
#include "ppo/adam.h"
#include "ppo/config.h"
#include "ppo/loss.h"
#include "ppo/normalizer.h"
#include "runtime/parallel.h"
#include "runtime/phase_clock.h"

typedef struct trainer trainer;

/* Builds envs, network, buffers and primitives (nothing is allocated later). Collective; on failure
 * returns NULL on every rank with the reason in err (same text everywhere). */
trainer *trainer_create(const ppo_config *cfg, const par_layout *par, char *err, size_t err_len);
void trainer_free(trainer *t);
/* Test seam: makes the gradient of update `update` (1-based) NaN after its reduction, as a diverging run
 * would; only the test build of the CLI (cli/fault_hooks.h) calls it. */
void trainer_poison_update(trainer *t, long long update);

/* Per-update figures, identical on every rank after trainer_update. */
typedef struct {
    long long update, global_step;
    int epochs;
    double policy_loss, value_loss, entropy, approx_kl, clip_fraction, explained_variance;
    double grad_norm, learning_rate;
    int nonfinite; /* 1: a gradient was not finite; the update was undone (parameters and Adam as before it) */
} update_stats;

/* Collects one rollout and optimises on it. Collective. */
void trainer_rollout(trainer *t);
void trainer_optimize(trainer *t, update_stats *st);

/* This rank's time per phase, charged by trainer_rollout and trainer_optimize; the caller charges its
 * own work (PHASE_LOG) and resets it between updates. */
phase_clock *trainer_clock(trainer *t);

/* How the gradient is summed over the ranks (--grad-reduce), for the start-up line: "in shared
 * memory", "by MPI_Allreduce", ... */
const char *trainer_grad_reduce_description(const trainer *t);

/* Finished episodes of the last rollout on this rank; returns the count and points *eps at them. */
typedef struct {
    int env_index;
    int length;
    double ret;
    bool terminated;
} episode_record;
int trainer_episodes(const trainer *t, const episode_record **eps);

/* Episodes recorded for --log-trajectories that ended during the last rollout on this rank: rows
 * (sum of lengths, traj_row_width) packed as h5log expects, and one record per episode. */
typedef struct {
    int env_index, length;
    double ret;
    unsigned long long seed;
} traj_record;
int trainer_trajectories(const trainer *t, const float **rows, const traj_record **records);
/* An image env's recorded frames beside those rows: (sum of lengths, H, W, C) bytes as the env drew
 * them; NULL for vector envs (their rows hold the observations). */
const uint8_t *trainer_trajectory_frames(const trainer *t);

/* Accessors for tests, the log and checkpoints. */
const policy_model *trainer_model(const trainer *t);
float *trainer_params(trainer *t);
/* After trainer_optimize, the last minibatch's summed gradient (clipped) in [lo, hi) of
 * trainer_grad_slice; elsewhere this rank's own part of it. */
float *trainer_grads(trainer *t);
void trainer_grad_slice(const trainer *t, size_t *lo, size_t *hi);
const ppo_env_spec *trainer_spec(const trainer *t);
long long trainer_updates_total(const trainer *t);
long long trainer_steps_per_update(const trainer *t); /* global */
int trainer_param_count(const trainer *t);
/* How many of the rank's threads compute each minibatch's gradient (1 when the rows are too few to split). */
int trainer_grad_workers(const trainer *t);
/* True when half of those train the actor and half the critic (the net split). */
bool trainer_net_split(const trainer *t);
/* The groups a minibatch's rows split into: the grad workers, or in the net split half of them. */
int trainer_row_groups(const trainer *t);
/* How a rank's threads share a minibatch of mb rows, before a trainer is made (the memory estimate):
 * returns the row groups and sets *net_split (nets_separate: policy_model_splits). In the net split every
 * group's rows are in two training passes, one per network's worker. */
int trainer_grad_split(int mb, int threads, bool nets_separate, bool *net_split);

/* Resume support: RNG words per rank (action RNG of every env + the shuffle RNG), Adam, the counter. */
size_t trainer_rng_words(const trainer *t);
void trainer_save_rngs(const trainer *t, uint64_t *out);
void trainer_load_rngs(trainer *t, const uint64_t *in);
/* The optimizer's state, to load. Each rank of a shared-memory node steps only its slice of the
 * moments (trainer_grad_slice); trainer_adam_gathered, a collective, gathers every slice to every rank
 * first, to save. */
adam_state *trainer_adam(trainer *t);
adam_state *trainer_adam_gathered(trainer *t);
/* Observation and return statistics (NULL when that normalisation is off). */
running_stats *trainer_obs_stats(trainer *t);
running_stats *trainer_return_stats(trainer *t);
long long trainer_update_count(const trainer *t);
/* Bytes per rank of the envs' exact state (physics or, for Box2D worlds, the episode's actions to
 * replay; RNG; episode in progress), or 0 when the env cannot be saved mid-episode. */
size_t trainer_env_state_size(const trainer *t);
void trainer_save_envs(const trainer *t, unsigned char *out);
/* Continues after `update` completed updates. With env_state (from trainer_save_envs) every env
 * continues its episode exactly; without (NULL), every env starts a new episode re-seeded from
 * (seed, global env index, resumes): the reset policy for checkpoints without env states. Returns -1,
 * or the index of the first env whose saved state is refused: it did not restore (a Box2D episode that
 * did not replay to the saved observation, a corrupt snapshot), or the trainer's part is not valid (a
 * non-finite observation or return, an episode length other than the env's step count). */
int trainer_resume(trainer *t, long long update, long long resumes, const unsigned char *env_state);

/* Collective: a checksum of the parameters compared across ranks; false on a mismatch. */
bool trainer_params_agree(const trainer *t);

/* Test hook: fill the rollout buffers directly, then optimise. All (T, N) row-major per rank. */
typedef struct {
    float *obs;      /* (T, N, od) for vector envs, else NULL */
    uint8_t *obs_u8; /* (T, N, H, W, C) pixels for image envs, else NULL */
    float *actions, *logprobs, *values, *rewards, *bootstrap;
    uint8_t *terminated, *truncated;
    float *last_values;
    float *advantages, *returns;
} rollout_view;
rollout_view trainer_rollout_view(trainer *t);
/* Computes advantages/returns from the view's rollout (after filling it by hand). */
void trainer_compute_advantages(trainer *t);
/* Test hook: sets the permutation seed so that minibatches are the identity order when false. */
void trainer_set_shuffle(trainer *t, bool shuffle);

#endif
