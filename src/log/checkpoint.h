/* checkpoint: a trained policy on disk (HDF5): the network's flat parameters plus what is needed to
 * rebuild the network and its env. Written to a temporary file and renamed, so a crash never leaves a
 * half-written checkpoint in place. A training checkpoint also holds what resume needs (train_state):
 * Adam's moments and step, the update counter, every rank's RNG states and the resolved options. */
#ifndef PPO_LOG_CHECKPOINT_H
#define PPO_LOG_CHECKPOINT_H

#include <stdbool.h>
#include <stddef.h>

#define CHECKPOINT_STR 256

typedef struct {
    char env[CHECKPOINT_STR];
    char env_options[CHECKPOINT_STR];
    char hidden[64];
    char activation[16];
    bool shared_trunk;
    bool sde;      /* gSDE log-std layout (attribute absent in older checkpoints: false) */
    long long global_step;
    size_t n_params;
    float *params; /* (n_params,) owned after checkpoint_load */
    /* observation normalisation the policy was trained with (obs_norm_dim 0: none) */
    int obs_norm_dim;
    double obs_norm_count, clip_obs;
    double *obs_norm_mean, *obs_norm_var; /* (obs_norm_dim,) */
} checkpoint;

/* Training state for an exact continuation (with env_state, the envs continue their episodes). */
typedef struct {
    bool present;
    long long update;      /* updates completed */
    long long resumes;     /* how many times this run was resumed before */
    double wall_time;      /* training seconds so far */
    int ranks, envs_per_rank;
    long long adam_step;
    float *adam_m, *adam_v;     /* (n_params,) */
    unsigned long long *rng;    /* (ranks, rng_per_rank) RNG words, rank-major */
    size_t rng_per_rank;
    char *options;              /* resolved options as "name=value\n" lines */
    unsigned char *env_state;   /* (ranks, env_state_per_rank) exact env states, or NULL (reset policy) */
    size_t env_state_per_rank;
    bool has_return_stats;      /* reward scaling's running statistics of the discounted return */
    double ret_count, ret_mean, ret_var;
} train_state;

/* ts may be NULL (a policy-only checkpoint). */
int checkpoint_save(const char *path, bool force, const checkpoint *ck, const train_state *ts, char *err,
                    size_t err_len);
/* Reads and checks a checkpoint; -1 with a one-line reason when missing, corrupt or not ours.
 * ts may be NULL; else ts->present tells whether the file holds a training state. */
int checkpoint_load(const char *path, checkpoint *ck, train_state *ts, char *err, size_t err_len);
void checkpoint_free(checkpoint *ck);
/* Updates completed in a training checkpoint at path, or -1 when there is none readable. */
long long checkpoint_train_update(const char *path);
void train_state_free(train_state *ts);

#endif
