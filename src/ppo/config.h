/* config: every trainer option — defaults, config file (INI), command line, validation — from one
 * table, so --help, the parser and the HDF5 /config attributes can never disagree. */
#ifndef PPO_PPO_CONFIG_H
#define PPO_PPO_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "nn/policy.h"

#define CONFIG_STR 256
#define CONFIG_PATH 1024
#define CONFIG_MAX_EVAL_EPISODES 100000 /* --eval-episodes and ppo eval --episodes */

typedef struct {
    /* task */
    char env[CONFIG_STR];
    char env_options[CONFIG_STR];
    char algo[16]; /* ppo | a2c | reinforce */
    char preset[16]; /* auto: the env's tuned PPO settings for options not given; none */
    long long total_steps;
    long long seed;
    /* parallel layout */
    int envs_per_rank;
    int rollout_steps;
    int threads; /* 0: OMP_NUM_THREADS, else cores on node / ranks on node */
    char grad_reduce[8];       /* shm | mpi: how the gradients are summed over ranks */
    /* optimisation */
    int minibatches;
    int epochs;
    double lr;
    double critic_lr; /* 0: same as lr */
    bool anneal_lr;
    double adam_eps; /* the optimizer's epsilon, Adam's or RMSprop's */
    char optimizer[16]; /* adam | rmsprop */
    double max_grad_norm; /* 0: no clipping */
    double target_kl;     /* 0: no early stop */
    /* PPO loss */
    double gamma;
    double gae_lambda;
    double clip_coef;
    bool clip_vloss;
    bool norm_adv;
    bool norm_adv_batch; /* normalise once over the global batch, not per minibatch */
    double ent_coef;
    double vf_coef;
    bool baseline; /* reinforce: learn a value baseline */
    /* normalisation (VecNormalize), synchronised across ranks */
    bool norm_obs;
    bool norm_reward;
    double clip_obs;
    double clip_reward;
    /* network */
    char net[8];         /* auto | mlp | cnn; auto: cnn for image envs, mlp for vector envs */
    char cnn[16];        /* --net cnn: the conv shape, a preset of nn_conv_preset (small | nature) */
    int frame_stack;     /* image envs: frames stacked on the channels (SB3's VecFrameStack); 1: none */
    bool grayscale;      /* image envs: RGB to one gray channel (Gymnasium's GrayscaleObservation) */
    int resize;          /* image envs: frames resized to resize x resize first (Gymnasium's ResizeObservation); 0: off */
    int frame_skip;      /* env steps per action (ppo_env_step_repeat); 1: none */
    char hidden[64];     /* mlp: the hidden widths (cnn: its heads are linear, as SB3's CnnPolicy) */
    char activation[16];
    bool shared_trunk;
    double log_std_init; /* continuous actions: initial log standard deviation */
    bool sde;            /* continuous actions: generalized state-dependent exploration (gSDE) */
    int sde_sample_freq; /* gSDE: new exploration matrices every N env steps; -1: once per rollout */
    /* output */
    char log[CONFIG_PATH];
    char save[CONFIG_PATH];
    bool force;
    int checkpoint_every;           /* updates between training checkpoints; 0 = only on a signal */
    char checkpoint[CONFIG_PATH];   /* training checkpoint path (default: log path with .ckpt.h5) */
    char resume[CONFIG_PATH];       /* checkpoint to continue from, or "auto" */
    int eval_episodes;
    int eval_every;          /* evaluate the greedy policy every N updates during training; 0 = off */
    int eval_every_episodes; /* episodes of each such evaluation, spread over the ranks */
    int log_trajectories; /* record every episode that starts during every N-th update; 0 = off */
    int check_params; /* every N updates compare a parameter checksum across ranks; 0 = off */
    double progress_interval; /* seconds between plain progress lines (non-TTY) */
    char progress[16];        /* auto | live | lines */
    char config[CONFIG_PATH]; /* the INI file these came from, if any */
} ppo_config;

void config_defaults(ppo_config *c);

/* Applies the algorithm's defaults (a2c, reinforce) for fields the user did not set. Call after
 * parsing; `set` marks user-set options (config_parse_args fills it). */
typedef struct {
    bool flag[64];
    int ini_line[64]; /* the --config file's line that set the option; 0: not the file */
} config_set;

/* Parses argv (after the subcommand), first loading --config FILE if present, then flags.
 * Returns 0; 1 when --help was asked (help printed to stdout); -1 with a message in err. */
int config_parse_args(ppo_config *c, config_set *set, int argc, char **argv, char *err, size_t err_len);
/* Fills derived defaults (algo presets, log/save paths). */
void config_finalize(ppo_config *c, const config_set *set);
/* Applies the env's tuned PPO preset (presets.c) to options the user did not set, for `ranks` ranks
 * (the preset fixes the global env count; envs_per_rank = envs / ranks). Writes a description of what
 * it did into desc (empty when no preset applies). */
void config_apply_preset(ppo_config *c, const config_set *set, int ranks, char *desc, size_t desc_len);
/* Checks one preset (presets.h): each value fits its option's type, nothing is set twice, and the
 * options it gives validate on one rank; -1 with a message naming the preset and the option.
 * config_presets_check checks every preset; config_parse_args calls it, so a bad table stops every run. */
struct ppo_preset;
int config_preset_check(const struct ppo_preset *p, char *err, size_t err_len);
int config_presets_check(char *err, size_t err_len);
/* Checks every field; -1 with a message naming the bad one. `ranks` for batch divisibility. */
int config_validate(const ppo_config *c, int ranks, char *err, size_t err_len);
/* After a failed config_validate: when the option its message names ("option NAME: ...") came from the
 * --config file, appends that file and line. */
void config_error_source(const ppo_config *c, const config_set *set, char *err, size_t err_len);
void config_print_help(const char *prog, const ppo_config *defaults);

/* Iteration over options for logging: name, and the value formatted as text; kind 'i', 'f', 's', 'b'. */
int config_option_count(void);
const char *config_option_name(int i);
char config_option_kind(int i);
void config_option_value(const ppo_config *c, int i, char *buf, size_t len, double *num);
/* For options read back from a checkpoint: the index of option `name` (its own name, not an alias;
 * -1 if none); set option i from text (-1 with err as a flag's value would get); copy option i; and
 * whether option i is the same in a and b (numbers within 1e-6 relative: older checkpoints kept 6 digits). */
int config_option_find(const char *name);
int config_option_set(ppo_config *c, int i, const char *value, char *err, size_t err_len);
void config_option_copy(ppo_config *dst, const ppo_config *src, int i);
bool config_option_equal(const ppo_config *a, const ppo_config *b, int i);

/* Parses "64,64" into widths; returns the count or -1. */
int config_hidden_sizes(const char *text, int *sizes, int max);
/* The policy network that (net, cnn, hidden, activation, shared, sde) describe for an env with this
 * spec: the MLP, or for net cnn (net auto or "" on an image env) the conv policy with linear heads.
 * Used by the trainer and by every reader of a policy file. Returns 0 or -1 with err. */
int config_policy_model(policy_model *pm, const ppo_env_spec *spec, const char *net, const char *cnn,
                        int frame_stack, bool grayscale, int resize, const char *hidden, const char *activation,
                        bool shared, bool sde, char *err, size_t err_len);

/* Bytes one rank's training buffers take at least (rollout storage, the minibatch's activations and
 * gradients, trajectory recording), from the validated options and the env's sizes, so that a run
 * the node cannot hold is refused before anything is allocated. `rollout` and `minibatch` get the
 * two largest parts. obs_dim: for image_obs, the policy's input per sample (H x W x channels x frames,
 * stored as bytes). */
double config_memory_estimate(const ppo_config *c, int obs_dim, bool image_obs, int action_dim, int render_dim,
                              int max_episode_steps, double *rollout, double *minibatch);

#endif
