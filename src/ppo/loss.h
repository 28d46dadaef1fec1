/* loss: the PPO / policy-gradient loss on top of the network outputs, with its gradient — plain C.
 * Discrete: categorical over logits. Continuous: diagonal Gaussian with state-independent log-std, or
 * with gSDE the variance of dimension d is sum_i latent_i^2 exp(2 log_std[i][d]) + 1e-6 (SB3's
 * StateDependentNoiseDistribution: full_std, features not learned through the noise). */
#ifndef PPO_PPO_LOSS_H
#define PPO_PPO_LOSS_H

#include <stdbool.h>

typedef struct {
    bool continuous;
    int n_out;          /* logits or means per row */
    bool clipped;       /* PPO's clipped surrogate; false: vanilla policy gradient -A*log pi */
    double clip_coef;
    bool clip_vloss;    /* CleanRL/SB3 value clipping around the rollout's values */
    double vf_coef, ent_coef;
    double scale;       /* 1 / global minibatch size: per-sample terms are summed then scaled */
    int sde_latent;     /* gSDE: latent width (log_std is (sde_latent, n_out)); 0: plain Gaussian */
} loss_params;

/* Sums over the rows of one call (the caller reduces them across minibatches and ranks). */
typedef struct {
    double policy_loss, value_loss, entropy, approx_kl, clipped, count;
} loss_sums;

/* Rows: out (B, n_out), values (B,), actions (B, action_dim), old_logp/adv/returns/old_values (B,).
 * log_std (n_out,) for continuous, else NULL; with gSDE (sde_latent, n_out) and latent (B, sde_latent)
 * the rows' features (else NULL). Writes d_out (B, n_out), d_values (B,), and adds into d_log_std
 * (same shape as log_std) when continuous. Gradients are of scale * sum over rows of
 * (pg + vf_coef * v - ent_coef * H). Accumulates into sums. */
void loss_compute(const loss_params *lp, int B, const float *out, const float *values,
                  const float *actions, const float *old_logp, const float *adv, const float *returns,
                  const float *old_values, const float *log_std, const float *latent, float *d_out,
                  float *d_values, float *d_log_std, loss_sums *sums);
/* loss_compute's two halves, for the actor and the critic on different threads (each row's terms are
 * independent): the policy and entropy terms (d_out, d_log_std; policy_loss, entropy, approx_kl,
 * clipped and count into sums), and the value term (d_values; value_loss into sums). */
void loss_compute_policy(const loss_params *lp, int B, const float *out, const float *actions,
                         const float *old_logp, const float *adv, const float *log_std, const float *latent,
                         float *d_out, float *d_log_std, loss_sums *sums);
void loss_compute_value(const loss_params *lp, int B, const float *values, const float *returns,
                        const float *old_values, float *d_values, loss_sums *sums);

/* gSDE: the per-dimension log-std of one row, 0.5 log(sum_i latent_i^2 exp(2 log_std[i][d]) + 1e-6),
 * into eff (n_out,); policy_sample / policy_log_prob then take eff as their log_std. */
void policy_sde_log_std(int n_out, int latent_dim, const float *latent, const float *log_std, float *eff);

/* Log-probability of actions under the current outputs and, for sampling, the action itself:
 * discrete: samples an index from softmax(out) (or argmax when deterministic); continuous: mean +
 * std * noise (mean when deterministic). u is a uniform in [0,1) (discrete) and noise a
 * (n_out,) standard-normal vector (continuous). Returns log pi(action). */
double policy_sample(bool continuous, int n_out, const float *out, const float *log_std, bool deterministic,
                     double u, const double *noise, float *action);
double policy_log_prob(bool continuous, int n_out, const float *out, const float *log_std,
                       const float *action);

#endif
