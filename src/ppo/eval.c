/* eval: a batch of envs, one per episode, stepped until every episode has ended. */
#include "ppo/eval.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ppo/loss.h"
#include "util/rng.h"

int eval_policy(const policy_model *pm, const float *params, const running_stats *obs_norm, double clip_obs,
                const char *id, const char *options, int episodes, unsigned long long seed, bool deterministic,
                double *returns, eval_result *out, char *err, size_t err_len)
{
    memset(out, 0, sizeof *out);
    const int E = episodes;
    ppo_env **envs = calloc((size_t)E, sizeof *envs);
    double *ret = calloc((size_t)E, sizeof *ret);
    int *len = calloc((size_t)E, sizeof *len);
    bool *done = calloc((size_t)E, sizeof *done);
    rng_t *rngs = calloc((size_t)E, sizeof *rngs);
    float *obs = NULL;
    nn_ctx *ctx = NULL;
    policy_pass pass = {0};
    bool pass_ok = false;
    int rc = -1;
    if (!envs || !ret || !len || !done || !rngs) {
        snprintf(err, err_len, "out of memory for %d evaluation episodes", E);
        goto out;
    }
    for (int e = 0; e < E; e++) {
        envs[e] = ppo_env_make(id, options, err, err_len);
        if (!envs[e])
            goto out;
        ppo_env_seed(envs[e], seed + (unsigned long long)e);
        rng_seed(&rngs[e], rng_mix(seed ^ 0x5eed5eedULL, (uint64_t)e));
    }
    const ppo_env_spec *spec = ppo_env_get_spec(envs[0]);
    const int od = spec->obs_dim, ad = spec->action_dim;
    if (!(obs = calloc((size_t)E * od, sizeof *obs)))
        goto out;
    if (!(ctx = nn_ctx_create(err, err_len)))
        goto out;
    /* the pass only reads params; the cast is for the shared pass constructor */
    if (policy_pass_init(&pass, ctx, pm, E, false, (float *)params, NULL, err, err_len))
        goto out;
    pass_ok = true;
    for (int e = 0; e < E; e++)
        ppo_env_reset(envs[e], obs + (size_t)e * od);
    const float *log_std = pm->continuous ? params + pm->log_std_offset : NULL;
    int remaining = E;
    while (remaining > 0) {
        if (obs_norm)
            rs_normalize(obs_norm, obs, pass.obs, E, clip_obs);
        else
            memcpy(pass.obs, obs, sizeof(float) * (size_t)E * od);
        policy_pass_forward(&pass);
        const float *a_out = policy_pass_actor_out(&pass);
        int bad = 0;
#pragma omp parallel for schedule(static) reduction(+ : remaining, bad)
        for (int e = 0; e < E; e++) {
            if (done[e])
                continue;
            float action[PPO_ENV_MAX_ACTION_DIM];
            double noise[PPO_ENV_MAX_ACTION_DIM];
            for (int d = 0; d < ad && pm->continuous; d++)
                noise[d] = rng_normal(&rngs[e]);
            float eff[PPO_ENV_MAX_ACTION_DIM]; /* gSDE: the row's log-std (stochastic eval draws iid noise) */
            if (pm->sde_latent)
                policy_sde_log_std(pm->n_out, pm->sde_latent, policy_pass_latent(&pass) + (size_t)e * pm->sde_latent,
                                   log_std, eff);
            policy_sample(pm->continuous, pm->n_out, a_out + (size_t)e * pm->n_out, pm->sde_latent ? eff : log_std,
                          deterministic, rng_uniform(&rngs[e]), noise, action);
            ppo_step_result r;
            if (ppo_env_step(envs[e], action, obs + (size_t)e * od, &r) != PPO_ENV_OK) {
                bad++;
                done[e] = true;
                remaining--;
                continue;
            }
            ret[e] += r.reward;
            len[e]++;
            if (r.terminated || r.truncated) {
                done[e] = true;
                remaining--;
            }
        }
        if (bad) {
            snprintf(err, err_len, "the policy produced an invalid action (NaN or Inf from its parameters)");
            rc = -2;
            goto out;
        }
    }
    double s = 0, s2 = 0, solved = 0, ls = 0;
    out->min = INFINITY;
    out->max = -INFINITY;
    for (int e = 0; e < E; e++) {
        s += ret[e];
        s2 += ret[e] * ret[e];
        ls += len[e];
        out->min = fmin(out->min, ret[e]);
        out->max = fmax(out->max, ret[e]);
        if (spec->has_reward_threshold && ret[e] >= spec->reward_threshold)
            solved++;
        if (returns)
            returns[e] = ret[e];
    }
    out->episodes = E;
    out->mean = s / E;
    out->std = sqrt(fmax(0.0, s2 / E - out->mean * out->mean));
    out->mean_length = ls / E;
    out->solved_fraction = spec->has_reward_threshold ? solved / E : NAN;
    rc = 0;
out:
    if (pass_ok)
        policy_pass_destroy(&pass);
    nn_ctx_free(ctx);
    for (int e = 0; envs && e < E; e++)
        ppo_env_free(envs[e]);
    free(envs);
    free(ret);
    free(len);
    free(done);
    free(rngs);
    free(obs);
    return rc;
}
