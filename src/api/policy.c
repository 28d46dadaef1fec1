/* api/policy: the public policy API (include/ppo/policy.h), a thin layer over the checkpoint reader
 * (log/checkpoint), the actor-critic network (nn/policy) and the action draw (ppo/loss). It loads as
 * `ppo eval` does and normalises, runs and picks actions as the evaluation runner (ppo/eval.c) does, so their greedy actions
 * agree; tests/api checks that against `ppo eval`. */
#include "ppo/policy.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "envs/env_class.h"
#include "log/checkpoint.h"
#include "nn/policy.h"
#include "ppo/config.h"
#include "ppo/loss.h"
#include "ppo/normalizer.h"
#include "util/rng.h"

#define POLICY_MAX_BATCH (1 << 20) /* rows per call: far above any use, far below a wrapped size */

struct ppo_policy {
    ppo_policy_info info;
    checkpoint ck;         /* owns the parameters and the observation statistics */
    policy_model pm;
    running_stats norm;    /* a view of ck's statistics when the run normalised observations */
    nn_ctx *ctx;
    policy_pass pass;      /* built for pass_batch rows; rebuilt when a call brings another n */
    int pass_batch;        /* 0: no pass yet */
};

_Static_assert(sizeof(ppo_rng) == sizeof(rng_t), "ppo_rng is the library's rng_t");

void ppo_rng_seed(ppo_rng *rng, uint64_t seed)
{
    rng_t r;
    rng_seed(&r, seed);
    memcpy(rng->s, r.s, sizeof rng->s);
}

/* The network the file's attributes describe, for the env they name; -1 with err. */
static int build_model(const char *path, const checkpoint *ck, policy_model *pm, ppo_env_spec *spec, char *err,
                       size_t err_len)
{
    char why[256];
    ppo_env *env = ppo_env_make(ck->env, ck->env_options, why, sizeof why);
    if (!env) {
        snprintf(err, err_len, "checkpoint %s: %s", path, why);
        return -1;
    }
    *spec = *ppo_env_get_spec(env);
    ppo_env_free(env);
    /* the public API's observation rows are float vectors of at most PPO_ENV_MAX_OBS_DIM; a conv
     * policy (net cnn) is evaluated with `ppo eval` */
    if (spec->obs_kind == PPO_OBS_IMAGE || strcmp(ck->net, "mlp")) {
        snprintf(err, err_len, "checkpoint %s: a %s policy for %s (image observations %dx%dx%d); the policy API "
                 "takes vector observations only: use 'ppo eval %s'", path, ck->net, spec->id, spec->obs_height,
                 spec->obs_width, spec->obs_channels, path);
        return -1;
    }
    if (config_policy_model(pm, spec, ck->net, ck->cnn, ck->frame_stack, ck->grayscale, ck->resize, ck->hidden,
                            ck->activation, ck->shared_trunk, ck->sde, why, sizeof why)) {
        snprintf(err, err_len, "checkpoint %s: %s", path, why);
        return -1;
    }
    return 0;
}

ppo_policy *ppo_policy_load(const char *path, char *err, size_t err_len)
{
    if (!path) {
        snprintf(err, err_len, "ppo_policy_load: no path");
        return NULL;
    }
    ppo_policy *p = calloc(1, sizeof *p);
    if (!p) {
        snprintf(err, err_len, "out of memory loading policy %s", path);
        return NULL;
    }
    ppo_env_spec spec;
    /* the attributes first: they give the network, and so the exact size the arrays must have */
    if (checkpoint_load_header(path, &p->ck, NULL, err, err_len) ||
        build_model(path, &p->ck, &p->pm, &spec, err, err_len) ||
        checkpoint_load(path, &(checkpoint_expect){.n_params = p->pm.n_params, .obs_dim = spec.obs_dim}, &p->ck, NULL,
                        err, err_len) ||
        !(p->ctx = nn_ctx_create(err, err_len))) {
        ppo_policy_free(p);
        return NULL;
    }
    if (p->ck.obs_norm_dim > 0)
        p->norm = (running_stats){.dim = p->ck.obs_norm_dim, .count = p->ck.obs_norm_count,
                                  .mean = p->ck.obs_norm_mean, .var = p->ck.obs_norm_var};
    p->info = (ppo_policy_info){.env_id = p->ck.env, .env_options = p->ck.env_options, .obs_dim = spec.obs_dim,
                                .action_kind = spec.action_kind, .action_count = spec.action_count,
                                .action_dim = spec.action_dim, .normalizes_obs = p->ck.obs_norm_dim > 0,
                                .global_step = p->ck.global_step, .run_id = p->ck.run_id,
                                .frame_skip = p->ck.frame_skip};
    return p;
}

void ppo_policy_free(ppo_policy *p)
{
    if (!p)
        return;
    if (p->pass_batch)
        policy_pass_destroy(&p->pass);
    nn_ctx_free(p->ctx);
    checkpoint_free(&p->ck);
    free(p);
}

const ppo_policy_info *ppo_policy_get_info(const ppo_policy *p) { return &p->info; }

/* A pass for n rows (kept while calls bring the same n). */
static int ensure_pass(ppo_policy *p, int n, char *err, size_t err_len)
{
    if (p->pass_batch == n)
        return PPO_POLICY_OK;
    if (p->pass_batch)
        policy_pass_destroy(&p->pass);
    p->pass_batch = 0;
    char why[256];
    /* the pass only reads params (no gradients): the cast is for the shared pass constructor */
    if (policy_pass_init(&p->pass, p->ctx, &p->pm, n, false, p->ck.params, NULL, why, sizeof why)) {
        snprintf(err, err_len, "cannot build the network for %d rows: %s", n, why);
        return PPO_POLICY_ENOMEM;
    }
    p->pass_batch = n;
    return PPO_POLICY_OK;
}

int ppo_policy_act(ppo_policy *p, const float *obs, int n, int obs_dim, ppo_policy_mode mode, ppo_rng *rng,
                   float *actions, float *values, char *err, size_t err_len)
{
    const policy_model *pm = &p->pm;
    const bool sample = mode == PPO_POLICY_SAMPLE;
    if (!obs || !actions || n < 1 || n > POLICY_MAX_BATCH) {
        snprintf(err, err_len, "ppo_policy_act: needs obs and actions arrays and 1 to %d rows, got %d", POLICY_MAX_BATCH,
                 n);
        return PPO_POLICY_EINVAL;
    }
    if (obs_dim != pm->obs_dim) {
        snprintf(err, err_len, "ppo_policy_act: observation rows of %d floats, this %s policy takes %d", obs_dim,
                 p->info.env_id, pm->obs_dim);
        return PPO_POLICY_EINVAL;
    }
    if ((mode != PPO_POLICY_GREEDY && !sample) || (sample && !rng)) {
        snprintf(err, err_len, "ppo_policy_act: mode %d%s", (int)mode,
                 sample ? " (PPO_POLICY_SAMPLE) needs a ppo_rng" : " is not PPO_POLICY_GREEDY or PPO_POLICY_SAMPLE");
        return PPO_POLICY_EINVAL;
    }
    const size_t cells = (size_t)n * (size_t)obs_dim;
    for (size_t i = 0; i < cells; i++)
        if (!isfinite(obs[i])) {
            snprintf(err, err_len, "ppo_policy_act: observation row %zu, component %zu is %g", i / (size_t)obs_dim,
                     i % (size_t)obs_dim, (double)obs[i]);
            return PPO_POLICY_EINVAL;
        }
    const int rc = ensure_pass(p, n, err, err_len);
    if (rc)
        return rc;
    if (p->norm.dim)
        rs_normalize(&p->norm, obs, p->pass.obs, n, p->ck.clip_obs);
    else
        memcpy(p->pass.obs, obs, sizeof(float) * cells);
    policy_pass_forward(&p->pass);
    const float *out = policy_pass_actor_out(&p->pass), *v = policy_pass_values(&p->pass);
    const size_t n_out = (size_t)n * (size_t)pm->n_out;
    for (size_t i = 0; i < n_out; i++)
        if (!isfinite(out[i])) {
            snprintf(err, err_len, "ppo_policy_act: the network's output for row %zu is %g (a diverged policy?)",
                     i / (size_t)pm->n_out, (double)out[i]);
            return PPO_POLICY_EBADPOLICY;
        }
    const float *log_std = pm->continuous ? p->ck.params + pm->log_std_offset : NULL;
    rng_t r;
    if (sample)
        memcpy(r.s, rng->s, sizeof r.s);
    for (int i = 0; i < n; i++) {
        /* the evaluation runner's draws, in its order: action_dim normals (continuous), then one uniform */
        double noise[PPO_ENV_MAX_ACTION_DIM] = {0}, u = 0.0;
        for (int d = 0; sample && pm->continuous && d < pm->action_dim; d++)
            noise[d] = rng_normal(&r);
        if (sample)
            u = rng_uniform(&r);
        float eff[PPO_ENV_MAX_ACTION_DIM]; /* gSDE: the row's log-std (a sampled action draws iid noise) */
        if (pm->sde_latent)
            policy_sde_log_std(pm->n_out, pm->sde_latent, policy_pass_latent(&p->pass) + (size_t)i * pm->sde_latent,
                               log_std, eff);
        policy_sample(pm->continuous, pm->n_out, out + (size_t)i * pm->n_out, pm->sde_latent ? eff : log_std, !sample,
                      u, noise, actions + (size_t)i * pm->action_dim);
        if (values)
            values[i] = v[i];
    }
    if (sample)
        memcpy(rng->s, r.s, sizeof r.s);
    return PPO_POLICY_OK;
}
