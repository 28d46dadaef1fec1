/* loss: per-row math of the clipped surrogate, value loss and entropy, and their derivatives. */
#include "ppo/loss.h"

#include <math.h>
#include <stddef.h>

#define LOG_2PI 1.8378770664093453

/* log-softmax of a row into logp (n), returns nothing; probabilities are exp(logp). */
static void log_softmax(int n, const float *x, double *logp)
{
    double mx = x[0];
    for (int j = 1; j < n; j++)
        if (x[j] > mx)
            mx = x[j];
    double s = 0.0;
    for (int j = 0; j < n; j++)
        s += exp(x[j] - mx);
    const double lse = mx + log(s);
    for (int j = 0; j < n; j++)
        logp[j] = x[j] - lse;
}

#define LOSS_MAX_OUT 64

double policy_log_prob(bool continuous, int n_out, const float *out, const float *log_std,
                       const float *action)
{
    if (!continuous) {
        double logp[LOSS_MAX_OUT];
        log_softmax(n_out, out, logp);
        return logp[(int)action[0]];
    }
    double lp = 0.0;
    for (int d = 0; d < n_out; d++) {
        const double z = (action[d] - out[d]) / exp(log_std[d]);
        lp += -0.5 * z * z - log_std[d] - 0.5 * LOG_2PI;
    }
    return lp;
}

double policy_sample(bool continuous, int n_out, const float *out, const float *log_std, bool deterministic,
                     double u, const double *noise, float *action)
{
    if (!continuous) {
        double logp[LOSS_MAX_OUT];
        log_softmax(n_out, out, logp);
        int a = 0;
        if (deterministic) {
            for (int j = 1; j < n_out; j++)
                if (logp[j] > logp[a])
                    a = j;
        } else { /* inverse CDF; the last index takes any rounding remainder */
            double c = 0.0;
            a = n_out - 1;
            for (int j = 0; j < n_out; j++) {
                c += exp(logp[j]);
                if (u < c) {
                    a = j;
                    break;
                }
            }
        }
        action[0] = (float)a;
        return logp[a];
    }
    for (int d = 0; d < n_out; d++)
        action[d] = deterministic ? out[d] : (float)(out[d] + exp(log_std[d]) * noise[d]);
    return policy_log_prob(true, n_out, out, log_std, action);
}

#define SDE_EPS 1e-6 /* SB3's StateDependentNoiseDistribution.epsilon */

void policy_sde_log_std(int n_out, int latent_dim, const float *latent, const float *log_std, float *eff)
{
    for (int d = 0; d < n_out; d++) {
        double var = SDE_EPS;
        for (int i = 0; i < latent_dim; i++)
            var += (double)latent[i] * latent[i] * exp(2.0 * log_std[(size_t)i * n_out + d]);
        eff[d] = (float)(0.5 * log(var));
    }
}

/* The value term of each row: d_values, and value_loss into sums. */
void loss_compute_value(const loss_params *lp, int B, const float *values, const float *returns,
                        const float *old_values, float *d_values, loss_sums *sums)
{
    for (int i = 0; i < B; i++) {
        const double v = values[i], R = returns[i];
        double vl, dv;
        if (lp->clip_vloss) {
            const double dv_old = v - old_values[i];
            const double c = lp->clip_coef;
            const double vc = old_values[i] + (dv_old < -c ? -c : (dv_old > c ? c : dv_old));
            const double l1 = 0.5 * (v - R) * (v - R), l2 = 0.5 * (vc - R) * (vc - R);
            if (l1 >= l2) {
                vl = l1;
                dv = v - R;
            } else {
                vl = l2;
                dv = (dv_old > -c && dv_old < c) ? vc - R : 0.0;
            }
        } else {
            vl = 0.5 * (v - R) * (v - R);
            dv = v - R;
        }
        d_values[i] = (float)(lp->scale * lp->vf_coef * dv);
        sums->value_loss += vl;
    }
}

/* The policy and entropy terms of each row: d_out, d_log_std, and the other sums. */
void loss_compute_policy(const loss_params *lp, int B, const float *out, const float *actions,
                         const float *old_logp, const float *adv, const float *log_std, const float *latent,
                         float *d_out, float *d_log_std, loss_sums *sums)
{
    const int L = lp->continuous ? lp->sde_latent : 0;
    const int K = lp->n_out;
    const int adim = lp->continuous ? K : 1;
    double entropy_const = 0.0; /* Gaussian entropy does not depend on the row */
    if (lp->continuous && !L)
        for (int d = 0; d < K; d++)
            entropy_const += 0.5 + 0.5 * LOG_2PI + log_std[d];
    for (int i = 0; i < B; i++) {
        const float *o = out + (size_t)i * K;
        float *d_o = d_out + (size_t)i * K;
        const float *a = actions + (size_t)i * adim;
        const double A = adv[i];
        const float *lat = L ? latent + (size_t)i * L : NULL;
        float eff[LOSS_MAX_OUT]; /* gSDE: this row's log-std per dimension */
        if (L)
            policy_sde_log_std(K, L, lat, log_std, eff);
        const float *row_log_std = L ? eff : log_std;

        /* log pi(a|s) and entropy */
        double logp, H;
        double lsm[LOSS_MAX_OUT], prob[LOSS_MAX_OUT]; /* prob: exp(lsm), made once for H and the gradient */
        if (!lp->continuous) {
            log_softmax(K, o, lsm);
            logp = lsm[(int)a[0]];
            H = 0.0;
            for (int j = 0; j < K; j++) {
                prob[j] = exp(lsm[j]);
                H -= prob[j] * lsm[j];
            }
        } else {
            logp = policy_log_prob(true, K, o, row_log_std, a);
            H = entropy_const;
            if (L)
                for (int d = 0; d < K; d++)
                    H += 0.5 + 0.5 * LOG_2PI + eff[d];
        }

        /* policy term and d/d logp */
        const double log_ratio = logp - old_logp[i];
        const double ratio = exp(log_ratio);
        double pg, dpg_dlogp;
        if (lp->clipped) {
            const double lo = 1.0 - lp->clip_coef, hi = 1.0 + lp->clip_coef;
            const double rc = ratio < lo ? lo : (ratio > hi ? hi : ratio);
            const double t1 = -A * ratio, t2 = -A * rc;
            if (t1 >= t2) { /* unclipped term active: d(-A r)/dlogp = -A r */
                pg = t1;
                dpg_dlogp = -A * ratio;
            } else { /* clipped term is constant in logp */
                pg = t2;
                dpg_dlogp = 0.0;
            }
            if (fabs(ratio - 1.0) > lp->clip_coef)
                sums->clipped += 1.0;
        } else {
            pg = -A * logp;
            dpg_dlogp = -A;
        }
        sums->approx_kl += (ratio - 1.0) - log_ratio;

        /* gradients w.r.t. the actor outputs */
        const double s = lp->scale;
        if (!lp->continuous) {
            const int ai = (int)a[0];
            for (int j = 0; j < K; j++) {
                const double p = prob[j];
                const double dlogp = (j == ai ? 1.0 : 0.0) - p;
                const double dH = -p * (lsm[j] + H);
                d_o[j] = (float)(s * (dpg_dlogp * dlogp - lp->ent_coef * dH));
            }
        } else if (L) { /* var_d = sum_i lat_i^2 sigma_id^2 + eps; the features are constants here */
            for (int d = 0; d < K; d++) {
                const double var = exp(2.0 * (double)eff[d]);
                const double diff = a[d] - o[d];
                d_o[d] = (float)(s * dpg_dlogp * diff / var);
                /* d logp / d var = (diff^2 / var - 1) / (2 var); d H / d var = 1 / (2 var) */
                const double g_var = s * (dpg_dlogp * (diff * diff / var - 1.0) - lp->ent_coef) / (2.0 * var);
                for (int k = 0; k < L; k++) {
                    const size_t j = (size_t)k * K + d;
                    d_log_std[j] += (float)(g_var * 2.0 * (double)lat[k] * lat[k] * exp(2.0 * log_std[j]));
                }
            }
        } else {
            for (int d = 0; d < K; d++) {
                const double inv_var = exp(-2.0 * log_std[d]);
                const double diff = a[d] - o[d];
                d_o[d] = (float)(s * dpg_dlogp * diff * inv_var);
                /* d logp / d log_std = z^2 - 1; d H / d log_std = 1 */
                d_log_std[d] += (float)(s * (dpg_dlogp * (diff * diff * inv_var - 1.0) - lp->ent_coef));
            }
        }
        sums->policy_loss += pg;
        sums->entropy += H;
        sums->count += 1.0;
    }
}

void loss_compute(const loss_params *lp, int B, const float *out, const float *values,
                  const float *actions, const float *old_logp, const float *adv, const float *returns,
                  const float *old_values, const float *log_std, const float *latent, float *d_out,
                  float *d_values, float *d_log_std, loss_sums *sums)
{
    loss_compute_policy(lp, B, out, actions, old_logp, adv, log_std, latent, d_out, d_log_std, sums);
    loss_compute_value(lp, B, values, returns, old_values, d_values, sums);
}
