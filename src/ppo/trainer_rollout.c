/* trainer_rollout: a rollout of one rank (each worker infers and steps its slice of the envs, recording
 * what the log's trajectories and the normalisers need), then GAE over it. */
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "envs/env_class.h"
#include "ppo/gae.h"
#include "ppo/trainer_internal.h"

/* A worker's inference on its envs' raw observation rows raw (N, od): normalised when that is on, copied
 * to rollout row `step` when step >= 0 (what the policy saw), then forwarded. Pixels go through the
 * bytes the rollout stores, so that the minibatch later sees exactly what the rollout saw. */
static void worker_infer(trainer *t, trainer_worker *wk, const float *raw, int step)
{
    const double t0 = omp_get_wtime();
    const size_t od = (size_t)t->od, n = (size_t)(wk->n1 - wk->n0);
    const float *src = raw + (size_t)wk->n0 * (size_t)t->eod; /* vector envs: od == eod */
    float *seen = step >= 0 && !t->image ? t->obs + (size_t)step * t->N * od : NULL;
    if (t->image) { /* the policy's input is the envs' frame stacks: the current or the truncated ones */
        const uint8_t *in = (raw == t->final_obs ? t->final_stack : t->stack) + (size_t)wk->n0 * od;
        if (step >= 0) {
            uint8_t *row = t->obs_u8 + ((size_t)step * t->N + (size_t)wk->n0) * od;
            memcpy(row, in, n * od);
            in = row;
        }
        nn_conv_pass_load_u8(&wk->infer.conv, in, NULL);
    } else if (t->norm_obs)
        rs_normalize(&t->obs_rs, src, wk->infer.obs, (int)n, t->cfg->clip_obs);
    else
        memcpy(wk->infer.obs, src, sizeof(float) * n * od);
    if (seen)
        memcpy(seen + (size_t)wk->n0 * od, wk->infer.obs, sizeof(float) * n * od);
    policy_pass_forward(&wk->infer);
    wk->infer_sec = omp_get_wtime() - t0;
}

/* Value of each env's raw observation rows (N, od), through the workers' inference: (N,). */
static void worker_values(trainer *t, trainer_worker *wk, const float *raw)
{
    worker_infer(t, wk, raw, -1);
    memcpy(t->vals + wk->n0, policy_pass_values(&wk->infer), sizeof(float) * (size_t)(wk->n1 - wk->n0));
}


static void solo_values(void *a)
{
    solo_call *c = a;
    worker_values(c->t, &c->t->workers[0], c->raw);
}

/* Value of each env's raw observation rows (N, od), through the workers' inference: (N,). A single
 * worker runs through trainer_run_unthreaded; never inside an inactive parallel construct, where oneDNN's
 * threads would form a nested team started anew on every call (CartPole 1 x 2: 4x slower). */
const float *trainer_infer_values(trainer *t, const float *raw)
{
    const int W = t->n_roll_workers;
    if (W == 1)
        trainer_run_unthreaded(solo_values, &(solo_call){.t = t, .raw = raw});
    else {
#pragma omp parallel for schedule(static, 1) num_threads(W)
        for (int w = 0; w < W; w++)
            worker_values(t, &t->workers[w], raw);
    }
    return t->vals;
}

/* Env n starts an episode: its float row in cur_obs and, for image envs, a new frame stack. */
void trainer_env_reset_row(trainer *t, int n)
{
    float *o = t->cur_obs + (size_t)n * t->eod;
    ppo_env_reset(t->envs[n], o);
    if (t->image)
        pix_stack_reset(&t->px, t->stack + (size_t)n * t->px.size, o);
}

/* gSDE: env n draws a new exploration matrix, entries N(0, exp(log_std)^2), at the first step of a
 * rollout and every sde_sample_freq steps (SB3's reset_noise), from its own RNG. */
static void sde_sample_noise(trainer *t, int n, int step)
{
    const int freq = t->cfg->sde_sample_freq;
    if (step != 0 && !(freq > 0 && step % freq == 0))
        return;
    const float *log_std = t->params + t->pm.log_std_offset;
    float *mat = t->sde_mat + (size_t)n * t->pm.log_std_count;
    for (size_t j = 0; j < t->pm.log_std_count; j++)
        mat[j] = (float)(exp(log_std[j]) * rng_normal(&t->act_rng[n]));
}

/* Step s of the rollout for the worker's envs: sample an action from its inference outputs, step the
 * env, store the transition at row s, record it for --log-trajectories, reset a finished env. Returns
 * the number of envs whose action the env refused; *any_trunc counts truncated episodes. */
static int worker_act_and_step(trainer *t, const trainer_worker *wk, int s, int *any_trunc)
{
    const int N = t->N, od = t->eod, ad = t->ad, K = t->K, L = t->pm.sde_latent;
    const float *log_std = t->pm.continuous ? t->params + t->pm.log_std_offset : NULL;
    const float *out = policy_pass_actor_out(&wk->infer), *v = policy_pass_values(&wk->infer); /* (n1 - n0, ...) */
    const size_t row = (size_t)s * N;
    int bad = 0;
    for (int n = wk->n0; n < wk->n1; n++) {
        const size_t i = row + (size_t)n, local = (size_t)(n - wk->n0);
        float *action = t->actions + i * ad;
        if (L) { /* gSDE: noise = latent features x this env's exploration matrix */
            sde_sample_noise(t, n, s);
            const float *lat = policy_pass_latent(&wk->infer) + local * L;
            const float *mat = t->sde_mat + (size_t)n * t->pm.log_std_count, *mu = out + local * K;
            float eff[PPO_ENV_MAX_ACTION_DIM];
            for (int d = 0; d < ad; d++) {
                double e = 0.0;
                for (int k = 0; k < L; k++)
                    e += (double)lat[k] * mat[(size_t)k * ad + d];
                action[d] = (float)(mu[d] + e);
            }
            policy_sde_log_std(K, L, lat, log_std, eff);
            t->logp[i] = (float)policy_log_prob(true, K, mu, eff, action);
        } else {
            double noise[PPO_ENV_MAX_ACTION_DIM];
            for (int d = 0; d < ad && t->pm.continuous; d++)
                noise[d] = rng_normal(&t->act_rng[n]);
            const double u = rng_uniform(&t->act_rng[n]);
            t->logp[i] = (float)policy_sample(t->pm.continuous, K, out + local * K, log_std, false, u, noise, action);
        }
        t->values[i] = v[local];
        ppo_step_result r;
        float *o = t->cur_obs + (size_t)n * od;
        float *rec = NULL;
        if (t->traj_every > 0 && t->recording[n] && t->rec_len[n] < t->traj_max) {
            /* row: obs | action | reward, logprob, value, terminated, truncated | render (before the step) */
            const size_t slot = (size_t)n * t->traj_max + (size_t)t->rec_len[n]++;
            rec = t->rec + slot * t->traj_w;
            const int ow = t->image ? 0 : od; /* an image env's obs: its frame as bytes, kept apart */
            if (t->image) {
                uint8_t *fr = t->rec_frames + slot * t->traj_fb;
                for (size_t k = 0; k < t->traj_fb; k++) /* the env's whole pixel values 0..255 */
                    fr[k] = (uint8_t)(o[k] < 0.0f ? 0.0f : (o[k] > 255.0f ? 255.0f : o[k]));
            } else
                memcpy(rec, o, sizeof(float) * (size_t)od);
            memcpy(rec + ow, action, sizeof(float) * (size_t)ad);
            ppo_env_render_state(t->envs[n], rec + ow + ad + 5);
        }
        if (ppo_env_step_repeat(t->envs[n], action, t->cfg->frame_skip, o, &r, NULL) != PPO_ENV_OK) {
            bad++;
            r = (ppo_step_result){0.0f, true, false};
        }
        t->rewards[i] = r.reward;
        t->term[i] = r.terminated;
        t->trunc[i] = r.truncated && !r.terminated;
        t->boot[i] = 0.0f;
        if (rec) {
            float *f = rec + (t->image ? 0 : od) + ad;
            f[0] = r.reward;
            f[1] = t->logp[i];
            f[2] = t->values[i];
            f[3] = r.terminated;
            f[4] = r.truncated;
        }
        t->ep_return[n] += r.reward;
        t->ep_len[n]++; /* actions: env steps / frame_skip */
        if (r.terminated || r.truncated) {
            episode_record *e = &t->ep_done[(size_t)n * t->T + (size_t)t->ep_count[n]++];
            *e = (episode_record){n, t->ep_len[n], t->ep_return[n], r.terminated};
            t->ep_return[n] = 0.0;
            t->ep_len[n] = 0;
            if (t->trunc[i]) {
                memcpy(t->final_obs + (size_t)n * od, o, sizeof(float) * (size_t)od);
                if (t->image) { /* the input the policy would see next: the last frame on the stack */
                    uint8_t *fs = t->final_stack + (size_t)n * t->px.size;
                    memcpy(fs, t->stack + (size_t)n * t->px.size, t->px.size);
                    pix_stack_push(&t->px, fs, o);
                }
                (*any_trunc)++;
            }
            trainer_env_reset_row(t, n);
        } else if (t->image)
            pix_stack_push(&t->px, t->stack + (size_t)n * t->px.size, o);
    }
    return bad;
}

/* --log-trajectories: moves the recordings of episodes that just ended to the outbox, serially in env
 * order so that the outbox order does not depend on threads. */
static void collect_recordings(trainer *t)
{
    for (int n = 0; n < t->N; n++) {
        if (t->ep_len[n] != 0)
            continue; /* episode goes on */
        if (t->recording[n] && t->rec_len[n] > 0) {
            const size_t len = (size_t)t->rec_len[n];
            memcpy(t->traj_rows + (size_t)t->traj_n_rows * t->traj_w, t->rec + (size_t)n * t->traj_max * t->traj_w,
                   sizeof(float) * len * (size_t)t->traj_w);
            if (t->image)
                memcpy(t->traj_frames + (size_t)t->traj_n_rows * t->traj_fb,
                       t->rec_frames + (size_t)n * t->traj_max * t->traj_fb, len * t->traj_fb);
            const episode_record *e = &t->ep_done[(size_t)n * t->T + (size_t)t->ep_count[n] - 1];
            t->traj_eps[t->traj_n_eps++] = (traj_record){n, (int)len, e->ret, trainer_env_seed(t, n)};
            t->traj_n_rows += (int)len;
        }
        t->rec_len[n] = 0;
        t->recording[n] = (t->update + 1) % t->traj_every == 0; /* the update being collected */
    }
}

/* --norm-reward: scales the rewards of envs [n0, n1) in row `row` by the std of the discounted return
 * (frozen during the rollout), keeping each env's discounted return for the statistics in t->disc. */
static void scale_rewards(trainer *t, size_t row, int n0, int n1)
{
    const double inv = 1.0 / sqrt(t->ret_rs.var[0] + 1e-8), clip = t->cfg->clip_reward;
    for (int n = n0; n < n1; n++) {
        const size_t i = row + (size_t)n;
        t->ret_acc[n] = t->ret_acc[n] * t->cfg->gamma + t->rewards[i];
        t->disc[i] = t->ret_acc[n];
        const double r = t->rewards[i] * inv;
        t->rewards[i] = (float)(r < -clip ? -clip : (r > clip ? clip : r));
        if (t->term[i] || t->trunc[i] || t->ep_len[n] == 0)
            t->ret_acc[n] = 0.0;
    }
}

static void solo_rollout_step(void *a)
{
    solo_call *c = a;
    trainer *t = c->t;
    worker_infer(t, &t->workers[0], t->cur_obs, c->step);
    c->bad = worker_act_and_step(t, &t->workers[0], c->step, &c->any_trunc);
}

/* Rollout step s: every env takes one action from the policy; truncated episodes get their bootstrap
 * value. Returns the count of invalid actions (a NaN policy). */
static int rollout_step(trainer *t, int s)
{
    const int N = t->N, W = t->n_roll_workers;
    const size_t row = (size_t)s * N;
    phase_clock *clk = &t->clock;
    if (t->norm_obs)
        memcpy(t->raw_obs + row * (size_t)t->od, t->cur_obs, sizeof(float) * (size_t)N * (size_t)t->od);
    int any_trunc = 0, bad_actions = 0;
    /* each thread runs the policy on its envs, then steps them: no barrier between the two */
    if (W == 1) { /* as in trainer_infer_values */
        solo_call c = {.t = t, .step = s};
        trainer_run_unthreaded(solo_rollout_step, &c);
        bad_actions += c.bad;
        any_trunc += c.any_trunc;
    } else {
#pragma omp parallel for schedule(static, 1) num_threads(W) reduction(+ : any_trunc, bad_actions)
        for (int w = 0; w < W; w++) {
            worker_infer(t, &t->workers[w], t->cur_obs, s);
            bad_actions += worker_act_and_step(t, &t->workers[w], s, &any_trunc);
        }
    }
    /* the main thread's inference is the rank's inference time; the rest of the region is stepping */
    clk->sec[PHASE_INFER] += t->workers[0].infer_sec;
    clk->mark += t->workers[0].infer_sec;
    if (t->traj_every > 0)
        collect_recordings(t);
    if (t->norm_reward)
        scale_rewards(t, row, 0, N);
    phase_clock_lap(clk, PHASE_ENV);
    if (any_trunc) { /* bootstrap truncated episodes from the value of their last observation */
        const float *fv = trainer_infer_values(t, t->final_obs);
        for (int n = 0; n < N; n++)
            if (t->trunc[row + (size_t)n])
                t->boot[row + (size_t)n] = fv[n];
        phase_clock_lap(clk, PHASE_INFER);
    }
    return bad_actions;
}

/* After the last step: the values to bootstrap from, the normalisers merged over the ranks, the finished
 * episodes compacted, the advantages. Collective. */
static void rollout_close(trainer *t)
{
    const int N = t->N;
    phase_clock *clk = &t->clock;
    memcpy(t->last_values, trainer_infer_values(t, t->cur_obs), sizeof(float) * (size_t)N);
    phase_clock_lap(clk, PHASE_INFER);
    if (t->norm_obs)
        rs_accumulate(&t->obs_rs, t->raw_obs, t->B);
    for (int i = 0; t->norm_reward && i < t->B; i++)
        rs_accumulate_scalar(&t->ret_rs, t->disc[i]);
    phase_clock_lap(clk, PHASE_ENV);
    /* collective: every rank folds this rollout into the same statistics */
    if (t->norm_obs)
        rs_merge(&t->obs_rs, t->par->comm);
    if (t->norm_reward)
        rs_merge(&t->ret_rs, t->par->comm);
    phase_clock_lap(clk, PHASE_COMM);
    /* compact finished episodes in env order (deterministic, whatever the thread schedule) */
    t->n_done = 0;
    for (int n = 0; n < N; n++)
        for (int k = 0; k < t->ep_count[n]; k++)
            t->ep_done[t->n_done++] = t->ep_done[(size_t)n * t->T + (size_t)k];
    trainer_compute_advantages(t);
    phase_clock_lap(clk, PHASE_GAE);
}

/* --log-trajectories: whether an episode is being recorded in this rollout or may start to be. */
static bool rollout_records(const trainer *t)
{
    if (t->traj_every <= 0)
        return false;
    if ((t->update + 1) % t->traj_every == 0) /* episodes that start in the update being collected */
        return true;
    for (int n = 0; n < t->N; n++)
        if (t->recording[n])
            return true;
    return false;
}

/* Whether the rollout's workers can each run their envs through all T steps without meeting: nothing
 * couples envs within a step (trajectory recording collects in env order, so a rollout that records
 * keeps a region per step; the normalisers' statistics are frozen during the rollout, and what it adds
 * to them is added after it). */
static bool rollout_runs_free(const trainer *t)
{
    return t->n_roll_workers > 1 && !rollout_records(t);
}

/* The whole rollout, each worker stepping its own envs from the first step to the last in one parallel
 * region: no barrier per step, so a worker whose envs were slower in one step catches up in the next
 * instead of holding the others. A truncated episode's bootstrap value comes from the worker's own
 * inference pass over its envs, the same pass and rows as trainer_infer_values', so the run is the same bit
 * for bit as with a region per step. Returns the count of invalid actions. */
static int rollout_free(trainer *t)
{
    const int W = t->n_roll_workers, N = t->N;
    int bad_actions = 0;
    double infer_sec = 0.0;
#pragma omp parallel for schedule(static, 1) num_threads(W) reduction(+ : bad_actions)
    for (int w = 0; w < W; w++) {
        trainer_worker *wk = &t->workers[w];
        double sec = 0.0;
        for (int s = 0; s < t->T; s++) {
            int any_trunc = 0;
            const size_t row = (size_t)s * N;
            if (t->norm_obs)
                memcpy(t->raw_obs + (row + (size_t)wk->n0) * (size_t)t->od, t->cur_obs + (size_t)wk->n0 * t->od,
                       sizeof(float) * (size_t)(wk->n1 - wk->n0) * t->od);
            worker_infer(t, wk, t->cur_obs, s);
            sec += wk->infer_sec;
            bad_actions += worker_act_and_step(t, wk, s, &any_trunc);
            if (t->norm_reward)
                scale_rewards(t, row, wk->n0, wk->n1);
            if (any_trunc) {
                worker_values(t, wk, t->final_obs);
                sec += wk->infer_sec;
                for (int n = wk->n0; n < wk->n1; n++)
                    if (t->trunc[row + (size_t)n])
                        t->boot[row + (size_t)n] = t->vals[n];
            }
        }
        if (w == 0)
            infer_sec = sec;
    }
    /* the main thread's inference is the rank's inference time; the rest of the region is stepping */
    phase_clock *clk = &t->clock;
    clk->sec[PHASE_INFER] += infer_sec;
    clk->mark += infer_sec;
    phase_clock_lap(clk, PHASE_ENV);
    return bad_actions;
}

void trainer_rollout(trainer *t)
{
    memset(t->ep_count, 0, sizeof(int) * (size_t)t->N);
    t->traj_n_rows = t->traj_n_eps = 0;
    int bad_actions = 0;
    if (rollout_runs_free(t))
        bad_actions = rollout_free(t);
    else
        for (int s = 0; s < t->T; s++)
            bad_actions += rollout_step(t, s);
    if (bad_actions)
        par_abort(t->par, 3, "the policy produced invalid actions (NaN parameters?); stopping");
    rollout_close(t);
}

void trainer_compute_advantages(trainer *t)
{
    if (!t->learn_values) { /* REINFORCE without baseline: plain discounted returns */
        memset(t->values, 0, sizeof(float) * (size_t)t->B);
        memset(t->boot, 0, sizeof(float) * (size_t)t->B);
        memset(t->last_values, 0, sizeof(float) * (size_t)t->N);
    }
    ppo_gae(t->T, t->N, t->rewards, t->values, t->term, t->trunc, t->boot, t->last_values, t->cfg->gamma,
            t->cfg->gae_lambda, t->adv, t->ret);
}
