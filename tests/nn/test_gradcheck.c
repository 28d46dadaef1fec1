/* Gradient check: the analytic gradient of the full PPO loss (both heads, through the MLP, separate
 * and shared trunk, conv trunk on pixels, discrete, Gaussian and gSDE policies) against central finite
 * differences. These 16-row passes run the MLP's layers in plain C; tests/nn/test_dense checks oneDNN's
 * larger passes against plain ones, tanh and relu.
 * gSDE's features enter the variance as constants (SB3's default, learn_features=False), so those cases
 * difference the loss with the features frozen at the base parameters. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "nn/policy.h"
#include "ppo/loss.h"
#include "util/rng.h"

#define B 16

typedef struct {
    policy_model pm;
    nn_ctx *ctx;
    policy_pass pass;
    float *params, *grads;
    float actions[B * 4], old_logp[B], adv[B], ret[B], old_v[B];
    float *latent; /* gSDE: the features at the base parameters, (B, sde_latent); else NULL */
    loss_params lp;
} fixture;

/* Loss at the current params (and gradients into f->grads). */
static double loss_at(fixture *f, bool backward)
{
    policy_pass_forward(&f->pass);
    float *dls = f->pm.continuous ? f->grads + f->pm.log_std_offset : NULL;
    if (dls)
        memset(dls, 0, sizeof(float) * f->pm.log_std_count);
    loss_sums s = {0};
    loss_compute(&f->lp, B, policy_pass_actor_out(&f->pass), policy_pass_values(&f->pass), f->actions, f->old_logp,
                 f->adv, f->ret, f->old_v, f->pm.continuous ? f->params + f->pm.log_std_offset : NULL, f->latent,
                 policy_pass_actor_diff(&f->pass), policy_pass_value_diff(&f->pass), dls, &s);
    if (backward)
        policy_pass_backward(&f->pass);
    return f->lp.scale * (s.policy_loss + f->lp.vf_coef * s.value_loss - f->lp.ent_coef * s.entropy);
}

/* cnn: 3x8x8 pixels -> conv 4 3x3 s2 (3x3) -> conv 6 2x2 s1 (2x2) -> Linear 8 + ReLU -> heads with a
 * hidden layer of 6 (act) when shared, else linear heads as CleanRL's ppo_atari */
static void run_case_net(const char *name, bool continuous, bool shared, bool clip_vloss, nn_activation act, bool sde,
                         bool cnn)
{
    ppo_env_spec spec = {0};
    spec.obs_dim = cnn ? 3 * 8 * 8 : 5;
    spec.action_kind = continuous ? PPO_ACTION_CONTINUOUS : PPO_ACTION_DISCRETE;
    spec.action_count = continuous ? 0 : 3;
    spec.action_dim = continuous ? 2 : 1;
    fixture f = {0};
    char err[256];
    const int hidden[2] = {8, 6};
    if (cnn) {
        nn_conv conv = {.in_channels = 3, .in_height = 8, .in_width = 8, .n_layers = 2};
        conv.layers[0] = (nn_conv_layer){4, 3, 2, 0};
        conv.layers[1] = (nn_conv_layer){6, 2, 1, 0};
        CHECK(policy_model_init_cnn(&f.pm, &spec, &conv, 8, hidden + 1, shared ? 1 : 0, act, sde, err, sizeof err) == 0, "%s",
              err);
    } else {
        CHECK(policy_model_init(&f.pm, &spec, hidden, 2, act, shared, sde, err, sizeof err) == 0, "%s", err);
    }
    f.params = calloc(f.pm.n_params, sizeof(float));
    f.grads = calloc(f.pm.n_params, sizeof(float));
    rng_t rng;
    rng_seed(&rng, 7);
    policy_model_init_params(&f.pm, f.params, &rng);
    for (size_t i = 0; i < f.pm.n_params; i++) /* larger output weights so every term matters */
        f.params[i] += (float)(0.3 * rng_normal(&rng));
    f.ctx = nn_ctx_create(err, sizeof err);
    CHECK(f.ctx && policy_pass_init(&f.pass, f.ctx, &f.pm, B, true, f.params, f.grads, err, sizeof err) == 0, "%s", err);
    for (int i = 0; i < B * spec.obs_dim; i++)
        f.pass.obs[i] = cnn ? (float)rng_uniform(&rng) : (float)rng_normal(&rng);
    for (int i = 0; i < B; i++) {
        if (continuous)
            for (int d = 0; d < 2; d++)
                f.actions[i * 2 + d] = (float)rng_normal(&rng);
        else
            f.actions[i] = (float)rng_below(&rng, 3);
        f.adv[i] = (float)rng_normal(&rng);
        f.ret[i] = (float)rng_normal(&rng);
        f.old_v[i] = (float)rng_normal(&rng) * 0.3f;
    }
    f.lp = (loss_params){.continuous = continuous, .n_out = f.pm.n_out, .clipped = true, .clip_coef = 0.2,
                         .clip_vloss = clip_vloss, .vf_coef = 0.5, .ent_coef = 0.01, .scale = 1.0 / B,
                         .sde_latent = f.pm.sde_latent};
    /* old log-probs near the current ones: some ratios inside the clip range, some outside */
    policy_pass_forward(&f.pass);
    const int L = f.pm.sde_latent;
    if (L) {
        f.latent = malloc(sizeof(float) * B * (size_t)L);
        memcpy(f.latent, policy_pass_latent(&f.pass), sizeof(float) * B * (size_t)L);
    }
    for (int i = 0; i < B; i++) {
        const float *log_std = continuous ? f.params + f.pm.log_std_offset : NULL;
        float eff[4];
        if (L)
            policy_sde_log_std(f.pm.n_out, L, f.latent + i * L, log_std, eff);
        f.old_logp[i] = (float)(policy_log_prob(continuous, f.pm.n_out, policy_pass_actor_out(&f.pass) + i * f.pm.n_out,
                                                L ? eff : log_std, f.actions + i * spec.action_dim) +
                                0.3 * rng_normal(&rng));
    }

    loss_at(&f, true);
    float *analytic = malloc(f.pm.n_params * sizeof(float));
    memcpy(analytic, f.grads, f.pm.n_params * sizeof(float));
    double worst = 0;
    int compared = 0, kinks = 0;
    const double base = loss_at(&f, false);
    for (size_t p = 0; p < f.pm.n_params; p++) {
        const float keep = f.params[p];
        /* conv trunks are ReLU; gSDE on conv features curves more (at 2e-3 a log-std entry's central
         * difference is 8% off, converging to the analytic value as h shrinks), 5e-4 still resolves */
        const float h = cnn && sde ? 5e-4f : (act == NN_RELU || cnn ? 2e-3f : 1e-2f);
        f.params[p] = keep + h;
        const double up = loss_at(&f, false);
        f.params[p] = keep - h;
        const double down = loss_at(&f, false);
        f.params[p] = keep;
        const double hh = (double)(keep + h) - (double)keep;
        const double numeric = (up - down) / (2.0 * hh);
        /* a kink of relu/max/clip inside [-h, h] makes the central difference meaningless: there the
         * one-sided slopes disagree; such parameters are counted, not compared */
        const double right = (up - base) / hh, left = (base - down) / hh;
        if (fabs(right - left) > 0.2 * fmax(fabs(right), fabs(left)) + 1e-4) {
            kinks++;
            continue;
        }
        const double err_abs = fabs(numeric - analytic[p]);
        const double rel = err_abs / fmax(1e-3, fabs(numeric) + fabs(analytic[p]));
        if (rel > worst)
            worst = rel;
        compared++;
        CHECK(rel < 2e-2 || err_abs < 2e-4, "%s: param %zu analytic %.6g numeric %.6g", name, p, analytic[p], numeric);
    }
    CHECK(kinks <= (int)f.pm.n_params / 10, "%s: %d of %zu parameters sit on a kink", name, kinks, f.pm.n_params);
    printf("%-40s %4d params compared (%d on a kink), worst relative error %.2e\n", name, compared, kinks, worst);
    free(analytic);
    free(f.latent);
    policy_pass_destroy(&f.pass);
    nn_ctx_free(f.ctx);
    free(f.params);
    free(f.grads);
}

/* The conv policy's layout: [conv | trunk | actor | log_std | critic], Nature CNN on 96x96x3 (CarRacing). */
static void check_cnn_layout(void)
{
    char err[256];
    nn_conv conv;
    int dense;
    CHECK(nn_conv_preset(&conv, "nature", 3, 96, 96, 0, &dense, err, sizeof err) == 0, "%s", err);
    ppo_env_spec spec = {.obs_dim = 96 * 96 * 3, .action_kind = PPO_ACTION_CONTINUOUS, .action_dim = 3};
    policy_model pm;
    CHECK(policy_model_init_cnn(&pm, &spec, &conv, dense, NULL, 0, NN_TANH, false, err, sizeof err) == 0, "%s", err);
    const size_t nc = nn_conv_param_count(&pm.conv), trunk = 4096 * 512 + 512, actor = 512 * 3 + 3, critic = 512 + 1;
    CHECK(pm.trunk.param_offset == nc && pm.actor.param_offset == nc + trunk && pm.log_std_offset == nc + trunk + actor &&
              pm.actor_end == nc + trunk + actor + 3 && pm.critic.param_offset == pm.actor_end &&
              pm.n_params == pm.actor_end + critic,
          "conv policy layout: trunk %zu actor %zu log_std %zu critic %zu total %zu", pm.trunk.param_offset,
          pm.actor.param_offset, pm.log_std_offset, pm.critic.param_offset, pm.n_params);
    spec.obs_dim = 96 * 96;
    CHECK(policy_model_init_cnn(&pm, &spec, &conv, dense, NULL, 0, NN_TANH, false, err, sizeof err) != 0,
          "a 96x96x1 observation accepted for a 3-channel conv");
}

static void run_case(const char *name, bool continuous, bool shared, bool clip_vloss, nn_activation act, bool sde)
{
    run_case_net(name, continuous, shared, clip_vloss, act, sde, false);
}

int main(void)
{
    check_cnn_layout();
    run_case("discrete, separate nets, tanh", false, false, true, NN_TANH, false);
    run_case("discrete, separate nets, no value clip", false, false, false, NN_TANH, false);
    run_case("discrete, shared trunk, tanh", false, true, true, NN_TANH, false);
    run_case("discrete, separate nets, relu", false, false, true, NN_RELU, false);
    run_case("gaussian, separate nets, tanh", true, false, true, NN_TANH, false);
    run_case("gaussian, shared trunk, tanh", true, true, false, NN_TANH, false);
    run_case("gSDE, separate nets, tanh", true, false, true, NN_TANH, true);
    run_case("gSDE, shared trunk, relu", true, true, false, NN_RELU, true);
    run_case_net("discrete, conv trunk, linear heads", false, false, true, NN_RELU, false, true);
    run_case_net("gaussian, conv trunk, tanh head layers", true, true, true, NN_TANH, false, true);
    run_case_net("gSDE, conv trunk, linear heads", true, false, true, NN_RELU, true, true);
    run_case_net("gSDE, conv trunk, tanh head layers", true, true, false, NN_TANH, true, true);
    return CHECK_DONE();
}
