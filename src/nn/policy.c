/* policy: builds the actor-critic layout over one flat buffer and runs it through nn passes. */
#include "nn/policy.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static void mlp_layout(nn_mlp *m, int in, const int *hidden, int n_hidden, int out, nn_activation act,
                       bool act_on_output, size_t offset)
{
    memset(m, 0, sizeof *m);
    m->sizes[0] = in;
    for (int i = 0; i < n_hidden; i++)
        m->sizes[i + 1] = hidden[i];
    m->n_layers = n_hidden + (out > 0 ? 1 : 0);
    if (out > 0)
        m->sizes[m->n_layers] = out;
    m->act = act;
    m->act_on_output = act_on_output;
    m->param_offset = offset;
}

int policy_model_init(policy_model *pm, const ppo_env_spec *spec, const int *hidden, int n_hidden,
                      nn_activation act, bool shared, bool sde, char *err, size_t err_len)
{
    memset(pm, 0, sizeof *pm);
    if (n_hidden < 1 || n_hidden > NN_MAX_LAYERS - 1) {
        snprintf(err, err_len, "the network needs 1 to %d hidden layers, got %d", NN_MAX_LAYERS - 1, n_hidden);
        return -1;
    }
    pm->obs_dim = spec->obs_dim;
    pm->continuous = spec->action_kind == PPO_ACTION_CONTINUOUS;
    pm->action_dim = spec->action_dim;
    pm->n_out = pm->continuous ? spec->action_dim : spec->action_count;
    pm->shared = shared;
    if (sde && !pm->continuous) {
        snprintf(err, err_len, "gSDE (--sde) needs continuous actions; this env's are discrete");
        return -1;
    }
    pm->sde_latent = sde ? hidden[n_hidden - 1] : 0;
    size_t off = 0;
    int head_in = spec->obs_dim;
    if (shared) {
        mlp_layout(&pm->trunk, spec->obs_dim, hidden, n_hidden, 0, act, true, off);
        off += nn_mlp_param_count(&pm->trunk);
        head_in = hidden[n_hidden - 1];
        mlp_layout(&pm->actor, head_in, NULL, 0, pm->n_out, act, false, off);
    } else {
        mlp_layout(&pm->actor, spec->obs_dim, hidden, n_hidden, pm->n_out, act, false, off);
    }
    off += nn_mlp_param_count(&pm->actor);
    if (pm->continuous) {
        pm->log_std_offset = off;
        pm->log_std_count = (size_t)pm->action_dim * (size_t)(sde ? pm->sde_latent : 1);
        off += pm->log_std_count;
    }
    pm->actor_end = off;
    if (shared)
        mlp_layout(&pm->critic, head_in, NULL, 0, 1, act, false, off);
    else
        mlp_layout(&pm->critic, spec->obs_dim, hidden, n_hidden, 1, act, false, off);
    off += nn_mlp_param_count(&pm->critic);
    pm->n_params = off;
    return 0;
}

int policy_model_init_cnn(policy_model *pm, const ppo_env_spec *spec, const nn_conv *conv, int dense_width,
                          const int *hidden, int n_hidden, nn_activation act, bool sde, char *err, size_t err_len)
{
    memset(pm, 0, sizeof *pm);
    if (n_hidden < 0 || n_hidden > NN_MAX_LAYERS - 1 || dense_width < 1) {
        snprintf(err, err_len, "a conv policy needs 0 to %d head layers and a dense width >= 1", NN_MAX_LAYERS - 1);
        return -1;
    }
    pm->conv = *conv;
    pm->conv.param_offset = 0;
    if (nn_conv_validate(&pm->conv, err, err_len))
        return -1;
    const int pixels = conv->in_channels * conv->in_height * conv->in_width;
    if (spec->obs_dim != pixels) {
        snprintf(err, err_len, "the conv input %dx%dx%d needs %d observation values, the env gives %d",
                 conv->in_height, conv->in_width, conv->in_channels, pixels, spec->obs_dim);
        return -1;
    }
    pm->has_conv = true;
    pm->shared = true;
    pm->obs_dim = spec->obs_dim;
    pm->continuous = spec->action_kind == PPO_ACTION_CONTINUOUS;
    pm->action_dim = spec->action_dim;
    pm->n_out = pm->continuous ? spec->action_dim : spec->action_count;
    if (sde && !pm->continuous) {
        snprintf(err, err_len, "gSDE (--sde) needs continuous actions; this env's are discrete");
        return -1;
    }
    /* gSDE's features: the actor's last hidden layer, the shared dense layer when the heads are linear */
    pm->sde_latent = sde ? (n_hidden > 0 ? hidden[n_hidden - 1] : dense_width) : 0;
    size_t off = nn_conv_param_count(&pm->conv);
    const int width = dense_width;
    mlp_layout(&pm->trunk, nn_conv_output_size(&pm->conv), &width, 1, 0, NN_RELU, true, off);
    off += nn_mlp_param_count(&pm->trunk);
    mlp_layout(&pm->actor, dense_width, hidden, n_hidden, pm->n_out, act, false, off);
    off += nn_mlp_param_count(&pm->actor);
    if (pm->continuous) {
        pm->log_std_offset = off;
        pm->log_std_count = (size_t)pm->action_dim * (size_t)(sde ? pm->sde_latent : 1);
        off += pm->log_std_count;
    }
    pm->actor_end = off;
    mlp_layout(&pm->critic, dense_width, hidden, n_hidden, 1, act, false, off);
    off += nn_mlp_param_count(&pm->critic);
    pm->n_params = off;
    return 0;
}

void policy_model_init_params(const policy_model *pm, float *params, rng_t *rng)
{
    const double hidden_gain = sqrt(2.0);
    if (pm->has_conv)
        (void)nn_conv_init_orthogonal(&pm->conv, params, hidden_gain, rng);
    if (pm->shared)
        nn_mlp_init_orthogonal(&pm->trunk, params, hidden_gain, hidden_gain, rng);
    nn_mlp_init_orthogonal(&pm->actor, params, hidden_gain, 0.01, rng);
    if (pm->continuous)
        memset(params + pm->log_std_offset, 0, sizeof(float) * pm->log_std_count);
    nn_mlp_init_orthogonal(&pm->critic, params, hidden_gain, 1.0, rng);
}

int policy_pass_init(policy_pass *pp, nn_ctx *ctx, const policy_model *pm, int batch, bool training,
                     float *params, float *grads, char *err, size_t err_len)
{
    memset(pp, 0, sizeof *pp);
    pp->pm = pm;
    pp->batch = batch;
    if (pm->has_conv) {
        if (nn_conv_pass_init(&pp->conv, ctx, &pm->conv, batch, training, false, NN_CONV_LAYOUT_NHWC, params, grads,
                              err, err_len))
            return -1;
        pp->obs = pp->conv.input; /* NHWC: each row is the env's (H, W, C) observation as it is */
        if (nn_pass_init(&pp->trunk, ctx, &pm->trunk, batch, training, params, grads, pp->conv.output, err, err_len)) {
            policy_pass_destroy(pp);
            return -1;
        }
        float *features = nn_pass_output(&pp->trunk);
        if (nn_pass_init(&pp->actor, ctx, &pm->actor, batch, training, params, grads, features, err, err_len) ||
            nn_pass_init(&pp->critic, ctx, &pm->critic, batch, training, params, grads, features, err, err_len)) {
            policy_pass_destroy(pp);
            return -1;
        }
    } else if (pm->shared) {
        if (nn_pass_init(&pp->trunk, ctx, &pm->trunk, batch, training, params, grads, NULL, err, err_len))
            return -1;
        pp->obs = pp->trunk.input;
        float *features = nn_pass_output(&pp->trunk);
        if (nn_pass_init(&pp->actor, ctx, &pm->actor, batch, training, params, grads, features, err, err_len) ||
            nn_pass_init(&pp->critic, ctx, &pm->critic, batch, training, params, grads, features, err, err_len)) {
            policy_pass_destroy(pp);
            return -1;
        }
    } else {
        if (nn_pass_init(&pp->actor, ctx, &pm->actor, batch, training, params, grads, NULL, err, err_len))
            return -1;
        pp->obs = pp->actor.input;
        if (nn_pass_init(&pp->critic, ctx, &pm->critic, batch, training, params, grads, pp->obs, err, err_len)) {
            policy_pass_destroy(pp);
            return -1;
        }
    }
    return 0;
}

void policy_pass_destroy(policy_pass *pp)
{
    nn_pass_destroy(&pp->critic);
    nn_pass_destroy(&pp->actor);
    nn_pass_destroy(&pp->trunk);
    nn_conv_pass_destroy(&pp->conv);
}

void policy_pass_forward(policy_pass *pp)
{
    if (pp->pm->has_conv)
        nn_conv_pass_forward(&pp->conv);
    if (pp->pm->shared)
        nn_pass_forward(&pp->trunk);
    nn_pass_forward(&pp->actor);
    nn_pass_forward(&pp->critic);
}

void policy_pass_forward_net(policy_pass *pp, bool critic)
{
    nn_pass_forward(critic ? &pp->critic : &pp->actor);
}

void policy_pass_backward_net(policy_pass *pp, bool critic)
{
    nn_pass_backward(critic ? &pp->critic : &pp->actor, false);
}

const float *policy_pass_latent(const policy_pass *pp)
{
    if (pp->pm->actor.n_layers > 1) /* the actor's own last hidden layer */
        return pp->actor.out[pp->pm->actor.n_layers - 2];
    return nn_pass_output(&pp->trunk); /* linear actor head on a shared trunk */
}

void policy_pass_backward(policy_pass *pp)
{
    const bool shared = pp->pm->shared;
    nn_pass_backward(&pp->actor, shared);
    nn_pass_backward(&pp->critic, shared);
    if (shared) { /* both heads' input gradients flow into the trunk's output */
        float *d = nn_pass_output_diff(&pp->trunk);
        const float *da = pp->actor.diff_input, *dc = pp->critic.diff_input;
        const size_t n = (size_t)pp->batch * (size_t)pp->pm->trunk.sizes[pp->pm->trunk.n_layers];
        for (size_t i = 0; i < n; i++)
            d[i] = da[i] + dc[i];
        nn_pass_backward(&pp->trunk, pp->pm->has_conv);
    }
    if (pp->pm->has_conv) {
        memcpy(pp->conv.output_diff, pp->trunk.diff_input,
               sizeof(float) * (size_t)pp->batch * (size_t)pp->pm->trunk.sizes[0]);
        nn_conv_pass_backward(&pp->conv);
    }
}
