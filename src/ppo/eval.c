/* eval: a batch of envs, one per episode, stepped until every episode has ended. */
#include "ppo/eval.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "envs/env_class.h"
#include "ppo/loss.h"
#include "ppo/pixels.h"
#include "util/rng.h"

struct eval_runner {
    const policy_model *pm;
    const float *params;
    int capacity, od, ad, W;   /* W: a recorded row's floats (0 when not recording) */
    bool image;                /* pixel observations for a conv policy */
    pix_stack px;              /* image: the policy's input from the env's frames (grayscale, stacking) */
    uint8_t *stacks;           /* image: (capacity, px.size) each episode's current input */
    int max_steps;             /* the env's time limit in actions: the most rows an episode records */
    size_t frame_bytes;        /* image + recording: H * W * C of the env's frame, else 0 */
    ppo_env **envs;            /* (capacity,) */
    rng_t *rngs;               /* (capacity,) action noise of stochastic evaluation */
    double *ret;               /* (capacity,) */
    int *len;                  /* (capacity,) */
    bool *done;                /* (capacity,) */
    bool *term;                /* (capacity,) ended by termination, not the time limit */
    float *obs;                /* (capacity, od) raw observations */
    float *rec;                /* (capacity, max_steps, W) recorded steps, or NULL */
    uint8_t *frames;           /* image + recording: (capacity, max_steps, H, W, C) each row's env frame */
    nn_ctx *ctx;
    policy_pass pass;
    bool pass_ok;
};

void eval_runner_free(eval_runner *r)
{
    if (!r)
        return;
    if (r->pass_ok)
        policy_pass_destroy(&r->pass);
    nn_ctx_free(r->ctx);
    for (int e = 0; r->envs && e < r->capacity; e++)
        ppo_env_free(r->envs[e]);
    free(r->envs);
    free(r->rngs);
    free(r->ret);
    free(r->len);
    free(r->done);
    free(r->term);
    free(r->obs);
    free(r->rec);
    free(r->frames);
    free(r->stacks);
    free(r);
}

int eval_record_check(const policy_model *pm, const ppo_env_spec *spec, int episodes, char *err, size_t err_len)
{
    const int skip = pm->frame_skip > 1 ? pm->frame_skip : 1; /* as eval_runner_create sizes the recording */
    const int steps = spec->max_episode_steps > 0 ? (spec->max_episode_steps + skip - 1) / skip : 1;
    const bool image = pm->has_conv; /* its rows hold no observation: the frames are bytes beside them */
    const double row_floats = (image ? 0 : spec->obs_dim) + spec->action_dim + 5 + spec->render_dim;
    const double episode_bytes = steps * ((image ? (double)spec->obs_dim : 0.0) + sizeof(float) * row_floats);
    if ((double)episodes * episode_bytes <= EVAL_RECORD_BYTES_MAX)
        return 0;
    snprintf(err, err_len, "%s: recording %d episodes of up to %d steps (%.3g MiB each) keeps %.1f GiB in memory, "
             "more than %.0f GiB: record at most %d episodes (--episodes)", spec->id, episodes, steps,
             episode_bytes / (1 << 20), episodes * episode_bytes / (1 << 30), EVAL_RECORD_BYTES_MAX / (1 << 30),
             (int)(EVAL_RECORD_BYTES_MAX / episode_bytes));
    return -1;
}

eval_runner *eval_runner_create(const policy_model *pm, const float *params, const char *id, const char *options,
                                int capacity, bool record, char *err, size_t err_len)
{
    eval_runner *r = calloc(1, sizeof *r);
    const int E = capacity > 0 ? capacity : 1;
    if (!r || !(r->envs = calloc((size_t)E, sizeof *r->envs)) || !(r->rngs = calloc((size_t)E, sizeof *r->rngs)) ||
        !(r->ret = calloc((size_t)E, sizeof *r->ret)) || !(r->len = calloc((size_t)E, sizeof *r->len)) ||
        !(r->done = calloc((size_t)E, sizeof *r->done)) || !(r->term = calloc((size_t)E, sizeof *r->term))) {
        snprintf(err, err_len, "out of memory for %d evaluation episodes", E);
        eval_runner_free(r);
        return NULL;
    }
    r->pm = pm;
    r->params = params;
    r->capacity = E;
    /* one env first: its spec sizes the recording, which is refused before the other envs are made */
    if (!(r->envs[0] = ppo_env_make(id, options, err, err_len))) {
        eval_runner_free(r);
        return NULL;
    }
    const ppo_env_spec *spec = ppo_env_get_spec(r->envs[0]);
    if (pm->has_conv)
        pix_stack_init(&r->px, spec->obs_height, spec->obs_width, spec->obs_channels, pm->frames, pm->grayscale,
                       pm->resize);
    const int in_dim = pm->has_conv ? (int)r->px.size : spec->obs_dim;
    if (in_dim != pm->obs_dim || (spec->obs_kind == PPO_OBS_IMAGE) != pm->has_conv) {
        snprintf(err, err_len, "%s gives %s observations of %d values; the policy takes %s observations of %d",
                 spec->id, spec->obs_kind == PPO_OBS_IMAGE ? "image" : "vector", spec->obs_dim,
                 pm->has_conv ? "image" : "vector", pm->obs_dim);
        eval_runner_free(r);
        return NULL;
    }
    r->image = pm->has_conv;
    r->od = spec->obs_dim;
    r->ad = spec->action_dim;
    const int skip = pm->frame_skip > 1 ? pm->frame_skip : 1; /* an action takes up to skip env steps */
    r->max_steps = spec->max_episode_steps > 0 ? (spec->max_episode_steps + skip - 1) / skip : 1;
    /* an image env's rows hold no observation: its frames are kept as bytes, 1/4 of the floats */
    r->frame_bytes = record && r->image ? (size_t)spec->obs_dim : 0;
    r->W = record ? (r->image ? 0 : r->od) + r->ad + 5 + spec->render_dim : 0;
    if (record && eval_record_check(pm, spec, E, err, err_len)) {
        eval_runner_free(r);
        return NULL;
    }
    for (int e = 1; e < E; e++)
        if (!(r->envs[e] = ppo_env_make(id, options, err, err_len))) {
            eval_runner_free(r);
            return NULL;
        }
    if (r->image && !(r->stacks = calloc((size_t)E, r->px.size))) {
        snprintf(err, err_len, "out of memory for %d evaluation episodes' frames", E);
        eval_runner_free(r);
        return NULL;
    }
    if (!(r->obs = calloc((size_t)E * (size_t)r->od, sizeof *r->obs)) ||
        (record && !(r->rec = malloc(sizeof(float) * (size_t)E * (size_t)r->max_steps * (size_t)r->W))) ||
        (r->frame_bytes && !(r->frames = malloc((size_t)E * (size_t)r->max_steps * r->frame_bytes)))) {
        snprintf(err, err_len, "out of memory for %d evaluation episodes%s", E,
                 record ? " and their recording (fewer episodes?)" : "");
        eval_runner_free(r);
        return NULL;
    }
    /* the pass only reads params; the cast is for the shared pass constructor */
    if (!(r->ctx = nn_ctx_create(err, err_len)) ||
        policy_pass_init(&r->pass, r->ctx, pm, E, false, (float *)params, NULL, err, err_len)) {
        eval_runner_free(r);
        return NULL;
    }
    r->pass_ok = true;
    return r;
}

const ppo_env_spec *eval_runner_spec(const eval_runner *r) { return ppo_env_get_spec(r->envs[0]); }
int eval_runner_row_width(const eval_runner *r) { return r->W; }
const float *eval_runner_steps(const eval_runner *r, int i)
{
    return r->rec ? r->rec + (size_t)i * (size_t)r->max_steps * (size_t)r->W : NULL;
}
const uint8_t *eval_runner_frames(const eval_runner *r, int i)
{
    return r->frames ? r->frames + (size_t)i * (size_t)r->max_steps * r->frame_bytes : NULL;
}

/* Episode e's next step: sample its action from the pass's outputs, record the row, step the env.
 * Returns false when the env refused the action. */
static bool step_episode(eval_runner *r, int e, bool deterministic)
{
    const policy_model *pm = r->pm;
    const int od = r->od, ad = r->ad;
    const float *log_std = pm->continuous ? r->params + pm->log_std_offset : NULL;
    float action[PPO_ENV_MAX_ACTION_DIM];
    double noise[PPO_ENV_MAX_ACTION_DIM];
    for (int d = 0; d < ad && pm->continuous; d++)
        noise[d] = rng_normal(&r->rngs[e]);
    float eff[PPO_ENV_MAX_ACTION_DIM]; /* gSDE: the row's log-std (stochastic eval draws iid noise) */
    if (pm->sde_latent)
        policy_sde_log_std(pm->n_out, pm->sde_latent, policy_pass_latent(&r->pass) + (size_t)e * pm->sde_latent,
                           log_std, eff);
    const float *out = policy_pass_actor_out(&r->pass) + (size_t)e * pm->n_out;
    const double logp = policy_sample(pm->continuous, pm->n_out, out, pm->sde_latent ? eff : log_std, deterministic,
                                      rng_uniform(&r->rngs[e]), noise, action);
    float *o = r->obs + (size_t)e * od;
    float *rec = NULL;
    if (r->rec && r->len[e] < r->max_steps) {
        /* row: obs | action | reward, logprob, value, terminated, truncated | render (before the step);
         * an image env's obs is its frame as bytes, kept apart (the env's whole pixel values 0..255) */
        rec = (float *)eval_runner_steps(r, e) + (size_t)r->len[e] * (size_t)r->W;
        const int ow = r->image ? 0 : od;
        if (r->image) {
            uint8_t *fr = (uint8_t *)eval_runner_frames(r, e) + (size_t)r->len[e] * r->frame_bytes;
            for (size_t i = 0; i < r->frame_bytes; i++)
                fr[i] = (uint8_t)(o[i] < 0.0f ? 0.0f : (o[i] > 255.0f ? 255.0f : o[i]));
        } else
            memcpy(rec, o, sizeof(float) * (size_t)od);
        memcpy(rec + ow, action, sizeof(float) * (size_t)ad);
        ppo_env_render_state(r->envs[e], rec + ow + ad + 5);
    }
    ppo_step_result s;
    if (ppo_env_step_repeat(r->envs[e], action, pm->frame_skip > 1 ? pm->frame_skip : 1, o, &s, NULL) != PPO_ENV_OK)
        return false;
    if (r->image)
        pix_stack_push(&r->px, r->stacks + (size_t)e * r->px.size, o);
    if (rec) {
        float *f = rec + (r->image ? 0 : od) + ad;
        f[0] = s.reward;
        f[1] = (float)logp;
        f[2] = policy_pass_values(&r->pass)[e];
        f[3] = s.terminated;
        f[4] = s.truncated;
    }
    r->ret[e] += s.reward;
    r->len[e]++; /* actions, not env steps (frame_skip each) */
    r->term[e] = s.terminated;
    if (s.terminated || s.truncated)
        r->done[e] = true;
    return true;
}

int eval_runner_run(eval_runner *r, const running_stats *obs_norm, double clip_obs, const uint64_t *seeds, int n,
                    bool deterministic, eval_episode *eps, char *err, size_t err_len)
{
    if (n < 0 || n > r->capacity) {
        snprintf(err, err_len, "%d evaluation episodes, room for %d", n, r->capacity);
        return -1;
    }
    const int od = r->od;
    for (int e = 0; e < r->capacity; e++) { /* rows past n stay zero: inferred, never stepped */
        r->ret[e] = 0.0;
        r->len[e] = 0;
        r->done[e] = e >= n;
        r->term[e] = false;
        if (e < n) {
            ppo_env_seed(r->envs[e], seeds[e]);
            rng_seed(&r->rngs[e], rng_mix(seeds[e], 0x5eed5eedULL));
            ppo_env_reset(r->envs[e], r->obs + (size_t)e * od);
        } else
            memset(r->obs + (size_t)e * od, 0, sizeof(float) * (size_t)od);
        if (r->image)
            pix_stack_reset(&r->px, r->stacks + (size_t)e * r->px.size, r->obs + (size_t)e * od);
    }
    int remaining = n;
    while (remaining > 0) {
        if (r->image) /* the bytes the trainer's rollout stores, loaded as it loads them */
            nn_conv_pass_load_u8(&r->pass.conv, r->stacks, NULL);
        else if (obs_norm)
            rs_normalize(obs_norm, r->obs, r->pass.obs, r->capacity, clip_obs);
        else
            memcpy(r->pass.obs, r->obs, sizeof(float) * (size_t)r->capacity * od);
        policy_pass_forward(&r->pass);
        int bad = 0;
#pragma omp parallel for schedule(static) reduction(+ : bad)
        for (int e = 0; e < n; e++) {
            if (r->done[e])
                continue;
            if (!step_episode(r, e, deterministic)) {
                bad++;
                r->done[e] = true;
            }
        }
        if (bad) {
            snprintf(err, err_len, "the policy produced an invalid action (NaN or Inf from its parameters)");
            return -2;
        }
        remaining = 0;
        for (int e = 0; e < n; e++)
            remaining += !r->done[e];
    }
    for (int e = 0; e < n; e++)
        eps[e] = (eval_episode){seeds[e], r->ret[e], r->len[e], r->term[e]};
    return 0;
}

void eval_summarize(const eval_episode *eps, int n, const ppo_env_spec *spec, eval_result *out)
{
    double s = 0, s2 = 0, solved = 0, ls = 0;
    memset(out, 0, sizeof *out);
    out->min = INFINITY;
    out->max = -INFINITY;
    for (int e = 0; e < n; e++) {
        s += eps[e].ret;
        s2 += eps[e].ret * eps[e].ret;
        ls += eps[e].length;
        out->min = fmin(out->min, eps[e].ret);
        out->max = fmax(out->max, eps[e].ret);
        if (spec->has_reward_threshold && eps[e].ret >= spec->reward_threshold)
            solved++;
    }
    out->episodes = n;
    out->mean = s / n;
    out->std = sqrt(fmax(0.0, s2 / n - out->mean * out->mean));
    out->mean_length = ls / n;
    out->solved_fraction = spec->has_reward_threshold ? solved / n : NAN;
}
