/* checkpoint: a trained policy on disk (HDF5): the network's flat parameters plus what is needed to
 * rebuild the network and its env. Written to a temporary file and published by link() (a new file:
 * never over another) or rename() (a replacement), so a crash never leaves a half-written checkpoint
 * in place. A training checkpoint also holds what resume needs (train_state): Adam's moments and
 * step, the update counter, every rank's RNG states and the resolved options. Every file carries the
 * id of the run that wrote it. Loading validates every attribute and dataset before it reads it
 * (h5io), so a corrupt or crafted file is refused with one reason, never read out of bounds. */
#ifndef PPO_LOG_CHECKPOINT_H
#define PPO_LOG_CHECKPOINT_H

#include <stdbool.h>
#include <stddef.h>

#define CHECKPOINT_STR 256
#define CHECKPOINT_RUN_ID 40 /* a run id: 32 hex digits, and room */

typedef struct {
    char env[CHECKPOINT_STR];
    char env_options[CHECKPOINT_STR];
    char net[8];   /* mlp | cnn ("mlp" when the attribute is absent: files from before the conv policy) */
    char cnn[16];  /* cnn: the conv shape (nn_conv_preset); "" for mlp */
    int frame_stack; /* observation frames the policy sees (1: none) */
    bool grayscale;  /* image policies: frames converted to gray (absent: false) */
    int resize;      /* image policies: frames resized to resize x resize first (0: none; absent: 0) */
    int frame_skip;  /* env steps per action (absent: 1) */
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
    char run_id[CHECKPOINT_RUN_ID];       /* the run that wrote it; "" in files from before run ids */
} checkpoint;

/* What the reader knows a checkpoint must hold, checked before the arrays are read; 0 = not known,
 * and then only bounded by caps. */
typedef struct {
    size_t n_params;
    int obs_dim;               /* obs_norm's size, when present */
    int ranks;
    size_t rng_per_rank;
    size_t env_state_per_rank; /* env_state's size per rank, when present */
} checkpoint_expect;

typedef enum {
    CHECKPOINT_REPLACE_OWN, /* a new file (refused if one appeared meanwhile) or a replacement of a file
                               with the same run id: never another run's file */
    CHECKPOINT_REPLACE_ANY, /* --force: replaces whatever is there */
} checkpoint_mode;

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
int checkpoint_save(const char *path, checkpoint_mode mode, const checkpoint *ck, const train_state *ts, char *err,
                    size_t err_len);
/* Reads and checks a checkpoint; -1 with a one-line reason naming the file and the object when
 * missing, corrupt, not ours or not what `want` (may be NULL) expects. ts may be NULL; else
 * ts->present tells whether the file holds a training state. */
int checkpoint_load(const char *path, const checkpoint_expect *want, checkpoint *ck, train_state *ts, char *err,
                    size_t err_len);
/* Reads only the attributes (env, network, run id; and, when ts is not NULL, a training checkpoint's
 * counters and options, no arrays): what a reader needs to build its expectations. */
int checkpoint_load_header(const char *path, checkpoint *ck, train_state *ts, char *err, size_t err_len);
void checkpoint_free(checkpoint *ck);
/* A quick look at a checkpoint: 1 when there is no file at path; 0 with its run id and the updates
 * completed (-1 when it holds no training state); -1 with err when it is not a readable checkpoint. */
int checkpoint_peek(const char *path, long long *update, char *run_id, size_t run_id_len, char *err, size_t err_len);
void train_state_free(train_state *ts);

#endif
