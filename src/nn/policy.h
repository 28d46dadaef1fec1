/* policy: the actor-critic network — actor and critic MLPs (or a shared trunk with two linear heads),
 * a log-std for Gaussian policies, all in ONE flat parameter buffer laid out
 * [conv | trunk | actor | log_std | critic], so the actor's learning-rate range is [0, actor_end).
 * conv: only for pixel observations (policy_model_init_cnn), a conv stack whose trunk is its Linear +
 * ReLU, features shared by both heads as SB3's CnnPolicy and CleanRL's ppo_atari.
 * log_std: (action_dim,), state-independent; with gSDE (latent, action_dim): the log-std of each entry
 * of the exploration matrix that maps the actor's last hidden features to action noise (SB3's
 * StateDependentNoiseDistribution, full_std). */
#ifndef PPO_NN_POLICY_H
#define PPO_NN_POLICY_H

#include "nn/conv.h"
#include "nn/mlp.h"
#include "ppo/env.h"

typedef struct {
    int obs_dim;
    bool continuous;
    int action_dim; /* floats per action: 1 for discrete */
    int n_out;      /* actor outputs: logits (discrete) or means (continuous) */
    bool shared;    /* trunk + heads (linear, or MLPs with a conv trunk) */
    bool has_conv;  /* pixel input: conv, then trunk = its dense layer */
    nn_conv conv;   /* only when has_conv; obs_dim = H * W * C, each row (H, W, C) */
    int frames;     /* has_conv: env frames stacked on the channels (ppo/pixels.h); 1: none */
    bool grayscale; /* has_conv: each frame is the env's RGB in one gray channel */
    int resize;     /* has_conv: env frames first resized to resize x resize (ppo/pixels.h); 0: none */
    int frame_skip; /* env steps per action (ppo_env_step_repeat); 0 or 1: none. Set by the caller */
    nn_mlp trunk;   /* only when shared */
    nn_mlp actor;
    nn_mlp critic;
    size_t log_std_offset; /* continuous only */
    size_t log_std_count;  /* action_dim, or sde_latent * action_dim with gSDE */
    int sde_latent;        /* gSDE: width of the features the noise is built from; 0: plain Gaussian */
    size_t actor_end;      /* params [0, actor_end) belong to the policy side */
    size_t n_params;
} policy_model;

/* hidden: n_hidden layer widths; sde: gSDE (continuous actions only). Returns 0 or -1 with err. */
int policy_model_init(policy_model *pm, const ppo_env_spec *spec, const int *hidden, int n_hidden,
                      nn_activation act, bool shared, bool sde, char *err, size_t err_len);

/* Pixel observations of (channels, height, width), each obs row (H, W, C) floats (pixels / 255):
 * conv (its param_offset is set here) -> Linear dense_width + ReLU -> actor and critic heads with
 * n_hidden (0 or more: CleanRL and SB3 use 0, linear heads) layers of act. sde: gSDE on the actor's
 * last features (the dense layer's with linear heads, as SB3's CnnPolicy with use_sde). Returns 0 or -1
 * with err. */
int policy_model_init_cnn(policy_model *pm, const ppo_env_spec *spec, const nn_conv *conv, int dense_width,
                          const int *hidden, int n_hidden, nn_activation act, bool sde, char *err, size_t err_len);

/* Orthogonal init with CleanRL's gains: sqrt(2) hidden, 0.01 policy output, 1 value output;
 * log_std starts at 0 (std 1). */
void policy_model_init_params(const policy_model *pm, float *params, rng_t *rng);

typedef struct {
    const policy_model *pm;
    int batch;
    nn_conv_pass conv; /* only when pm->has_conv */
    nn_pass trunk, actor, critic;
    float *obs; /* (batch, obs_dim): write observations here before policy_pass_forward */
} policy_pass;

int policy_pass_init(policy_pass *pp, nn_ctx *ctx, const policy_model *pm, int batch, bool training,
                     float *params, float *grads, char *err, size_t err_len);
void policy_pass_destroy(policy_pass *pp);

void policy_pass_forward(policy_pass *pp);
/* One of the two networks alone (the actor, or the critic), forward or backward, for a model with
 * neither a shared trunk nor a conv layer (policy_model_splits): their parameters and gradients are
 * disjoint, so two threads can each run one. */
void policy_pass_forward_net(policy_pass *pp, bool critic);
void policy_pass_backward_net(policy_pass *pp, bool critic);
static inline bool policy_model_splits(const policy_model *pm) { return !pm->shared && !pm->has_conv; }
/* gSDE's latent features (batch, sde_latent) after a forward pass: the actor's last hidden layer. */
const float *policy_pass_latent(const policy_pass *pp);
static inline const float *policy_pass_actor_out(const policy_pass *pp) { return nn_pass_output(&pp->actor); } /* (batch, n_out) */
static inline const float *policy_pass_values(const policy_pass *pp) { return nn_pass_output(&pp->critic); } /* (batch,) */
/* Where the loss writes d loss / d actor output (batch, n_out) and d loss / d value (batch,). */
static inline float *policy_pass_actor_diff(const policy_pass *pp) { return nn_pass_output_diff(&pp->actor); }
static inline float *policy_pass_value_diff(const policy_pass *pp) { return nn_pass_output_diff(&pp->critic); }
/* Overwrites the network part of the gradient buffer (not log_std, which the loss writes). */
void policy_pass_backward(policy_pass *pp);

#endif
