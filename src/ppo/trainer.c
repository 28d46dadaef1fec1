/* trainer: builds a rank's trainer (envs, network, workers, every buffer), frees it, and holds its state
 * for checkpoints and the accessors the CLI reads; the rollout is in trainer_rollout.c and the update in
 * trainer_optimize.c (trainer_internal.h says how they share the work). */
#include "ppo/trainer.h"

#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "envs/env_class.h"
#include "ppo/trainer_internal.h"

/* The seed env n's RNG was last seeded with (its episodes continue that stream). */
uint64_t trainer_env_seed(const trainer *t, int n)
{
    const uint64_t g = (uint64_t)t->par->rank * (uint64_t)t->N + (uint64_t)n; /* global env index */
    const uint64_t base = rng_mix((uint64_t)t->cfg->seed, g);
    return t->resumes ? rng_mix(base, (uint64_t)t->resumes) : base;
}

#define ALLOC(ptr, n) (((ptr) = calloc((size_t)(n) > 0 ? (size_t)(n) : 1u, sizeof *(ptr))) != NULL)

/* Rows per thread below which splitting a minibatch over the threads costs more than it saves. */
enum { GRAD_ROWS_PER_WORKER_MIN = 8 };

/* Runs fn(arg) on the calling thread inside an active parallel region when the rank has threads:
 * oneDNN runs serially inside one, instead of forking its own threads for a call too small to share
 * (on 2 cores, CartPole's 8-row inference took 1.7x longer on oneDNN's 2 threads than on one). */
void trainer_run_unthreaded(void (*fn)(void *), void *arg)
{
    if (omp_get_max_threads() == 1) {
        fn(arg);
        return;
    }
#pragma omp parallel num_threads(2)
    if (omp_get_thread_num() == 0)
        fn(arg);
}

/* The rank's threads as workers: envs split in contiguous slices when the envs are stepped in parallel;
 * minibatch rows split over as many threads as get GRAD_ROWS_PER_WORKER_MIN rows each (so 64-row
 * minibatches on 16 threads go to 8 of them, not to one), or, where the actor and the critic are
 * separate networks and that uses at least as many threads, the net split: half the workers train the
 * actor and half the critic, each half splitting the rows in the same groups. Every split depends
 * only on the layout, so a run repeats bit for bit on the same ranks x threads. */
int trainer_grad_split(int mb, int threads, bool nets_separate, bool *net_split)
{
    const int fit = mb / GRAD_ROWS_PER_WORKER_MIN;
    const int rows_split = fit < 2 ? 1 : fit < threads ? fit : threads;
    /* k row groups per network: each thread runs one network's passes on its group's rows, so the
     * threads' gradients are summed over k groups instead of 2k (none for k = 1, where on one rank no
     * gradient or parameter is written by one core and read by another: the row split's sum and step
     * cost the next minibatch's gradient 6-13 us a thread on the 2-core VM), and the update is the row
     * split's over k threads (k = 1: one thread's) bit for bit */
    const int k = fit < threads / 2 ? fit : threads / 2;
    *net_split = threads >= 2 && fit >= 1 && 2 * k >= rows_split && nets_separate;
    return *net_split ? k : rows_split;
}

static int workers_create(trainer *t, char *err, size_t err_len)
{
    const int threads = omp_get_max_threads();
    t->n_roll_workers = t->parallel_envs ? (threads < t->N ? threads : t->N) : 1;
    t->row_groups = trainer_grad_split(t->mb, threads, policy_model_splits(&t->pm), &t->net_split);
    t->n_grad_workers = t->net_split ? 2 * t->row_groups : t->row_groups;
    t->n_workers = t->n_roll_workers > t->n_grad_workers ? t->n_roll_workers : t->n_grad_workers;
    if (!ALLOC(t->workers, t->n_workers)) {
        snprintf(err, err_len, "out of memory for %d worker threads", t->n_workers);
        return -1;
    }
    for (int w = 0; w < t->n_workers; w++) {
        trainer_worker *wk = &t->workers[w];
        const int R = t->n_roll_workers, G = t->n_grad_workers;
        wk->n0 = (int)((long long)t->N * w / R);
        wk->n1 = w < R ? (int)((long long)t->N * (w + 1) / R) : wk->n0;
        const int g = w % t->row_groups, K = t->row_groups; /* its row group */
        wk->j0 = (int)((long long)t->mb * g / K);
        wk->j1 = w >= G ? wk->j0 : (int)((long long)t->mb * (g + 1) / K);
        wk->nets = !t->net_split ? NET_BOTH : w < K ? NET_ACTOR : NET_CRITIC;
        if (!(wk->nn = nn_ctx_create(err, err_len)))
            return -1;
        if (w < R) {
            wk->infer_ok =
                policy_pass_init(&wk->infer, wk->nn, &t->pm, wk->n1 - wk->n0, false, t->params, NULL, err, err_len) == 0;
            if (!wk->infer_ok)
                return -1;
        }
        if (w >= G)
            continue;
        wk->owns_grads = g > 0; /* the net split's two networks' gradients are disjoint parts of t->grads */
        wk->grads = !wk->owns_grads ? t->grads : calloc(t->pm.n_params, sizeof(float));
        if (!wk->grads) {
            snprintf(err, err_len, "out of memory for the gradient of thread %d", w);
            return -1;
        }
        wk->train_ok =
            policy_pass_init(&wk->train, wk->nn, &t->pm, wk->j1 - wk->j0, true, t->params, wk->grads, err, err_len) == 0;
        if (!wk->train_ok)
            return -1;
    }
    return 0;
}

static void workers_free(trainer *t)
{
    for (int w = 0; t->workers && w < t->n_workers; w++) {
        trainer_worker *wk = &t->workers[w];
        if (wk->train_ok)
            policy_pass_destroy(&wk->train);
        if (wk->infer_ok)
            policy_pass_destroy(&wk->infer);
        if (wk->owns_grads)
            free(wk->grads);
        nn_ctx_free(wk->nn);
    }
    free(t->workers);
}

trainer *trainer_create(const ppo_config *cfg, const par_layout *par, char *err, size_t err_len)
{
    trainer *t = calloc(1, sizeof *t);
    bool ok = t != NULL;
    if (!ok)
        snprintf(err, err_len, "out of memory");
    if (ok) {
        t->cfg = cfg;
        t->par = par;
        t->N = cfg->envs_per_rank;
        t->T = cfg->rollout_steps;
        t->B = t->N * t->T;
        t->mb = t->B / cfg->minibatches;
        t->global_mb = (long long)t->mb * par->size;
        long long per_update = (long long)t->B * par->size;
        t->updates_total = (cfg->total_steps + per_update - 1) / per_update;
        t->shuffle = true;
        rng_seed(&t->shuffle_rng, rng_mix((uint64_t)cfg->seed ^ 0x5bd1e995ULL, (uint64_t)par->rank));
        ok = ALLOC(t->envs, t->N) && ALLOC(t->act_rng, t->N);
        if (!ok)
            snprintf(err, err_len, "out of memory for %d envs", t->N);
    }
    for (int n = 0; ok && n < t->N; n++) {
        t->envs[n] = ppo_env_make(cfg->env, cfg->env_options, err, err_len);
        if (!t->envs[n]) {
            ok = false;
            break;
        }
        const uint64_t g = (uint64_t)par->rank * (uint64_t)t->N + (uint64_t)n; /* global env index */
        ppo_env_seed(t->envs[n], trainer_env_seed(t, n));
        rng_seed(&t->act_rng[n], rng_mix((uint64_t)cfg->seed ^ 0xa5a5a5a5a5a5a5a5ULL, g));
    }
    if (ok) {
        t->spec = *ppo_env_get_spec(t->envs[0]);
        t->image = t->spec.obs_kind == PPO_OBS_IMAGE;
        if (t->image && cfg->norm_obs) {
            snprintf(err, err_len, "%s has image observations: %s", t->spec.id,
                     "--norm-obs is for vector observations (pixels are scaled by 1/255)");
            ok = false;
        }
    }
    if (ok) {
        t->eod = t->spec.obs_dim;
        t->ad = t->spec.action_dim;
        ok = config_policy_model(&t->pm, &t->spec, cfg->net, cfg->cnn, cfg->frame_stack, cfg->grayscale, cfg->resize,
                                 cfg->hidden, cfg->activation, cfg->shared_trunk, cfg->sde, err, err_len) == 0;
        t->pm.frame_skip = cfg->frame_skip;
        t->K = t->pm.n_out;
        t->od = (int)t->pm.obs_dim; /* image envs: the stacked (and grayscale) frame */
        if (t->image)
            pix_stack_init(&t->px, t->spec.obs_height, t->spec.obs_width, t->spec.obs_channels, t->pm.frames,
                           t->pm.grayscale, t->pm.resize);
    }
    if (ok && !(ALLOC(t->params, t->pm.n_params) && ALLOC(t->grads, t->pm.n_params) &&
                ALLOC(t->grad_sq, 2 * ((t->pm.n_params + GRAD_REDUCE_BLOCK - 1) / GRAD_REDUCE_BLOCK)) &&
                (strcmp(cfg->optimizer, "rmsprop")
                     ? adam_init(&t->adam, t->pm.n_params, 0.9, 0.999, cfg->adam_eps)
                     : adam_init_rmsprop(&t->adam, t->pm.n_params, 0.99, cfg->adam_eps)) == 0)) {
        ok = false;
        snprintf(err, err_len, "out of memory for the network");
    }
    if (ok) {
        rng_t init_rng;
        rng_seed(&init_rng, rng_mix((uint64_t)cfg->seed, 0x1a17ULL));
        policy_model_init_params(&t->pm, t->params, &init_rng);
        if (t->pm.continuous) /* the Gaussian's initial log-std (SB3's log_std_init) */
            for (size_t d = 0; d < t->pm.log_std_count; d++)
                t->params[t->pm.log_std_offset + d] = (float)cfg->log_std_init;
        /* Threads step the envs (and run their inference) only for Box2D worlds, the envs whose state holds
         * pointers: 12-40 us a step, where a classic-control step takes 0.03-0.2 us and a parallel region
         * a few us. A fixed rule, not a measurement: for a net oneDNN infers (wider than 2^14
         * multiply-adds per row, nn/mlp.c) how the envs are split over the inference passes changes the
         * values' last bits, and a seed must repeat on the same ranks x threads. */
        t->parallel_envs = omp_get_max_threads() > 1 && !env_get_class(t->envs[0])->plain_state;
        int provided = MPI_THREAD_SINGLE;
        MPI_Query_thread(&provided);
        t->mpi_funneled = provided >= MPI_THREAD_FUNNELED;
        ok = workers_create(t, err, err_len) == 0;
    }
    const size_t TN = (size_t)t->B;
    if (ok) {
        ok = (t->image ? ALLOC(t->obs_u8, TN * t->od) && ALLOC(t->stack, (size_t)t->N * t->od) &&
                             ALLOC(t->final_stack, (size_t)t->N * t->od)
                       : ALLOC(t->obs, TN * t->od)) &&
             ALLOC(t->actions, TN * t->ad) && ALLOC(t->logp, TN) &&
             ALLOC(t->values, TN) && ALLOC(t->rewards, TN) && ALLOC(t->boot, TN) && ALLOC(t->adv, TN) &&
             ALLOC(t->ret, TN) && ALLOC(t->term, TN) && ALLOC(t->trunc, TN) &&
             ALLOC(t->cur_obs, (size_t)t->N * t->eod) && ALLOC(t->final_obs, (size_t)t->N * t->eod) &&
             ALLOC(t->last_values, t->N) && ALLOC(t->ep_return, t->N) && ALLOC(t->ep_len, t->N) &&
             ALLOC(t->ep_done, TN) && ALLOC(t->ep_count, t->N) && ALLOC(t->perm, TN) &&
             ALLOC(t->mb_adv_stats, 2 * (size_t)cfg->minibatches) &&
             ALLOC(t->mb_actions, (size_t)t->mb * t->ad) && ALLOC(t->mb_logp, t->mb) && ALLOC(t->mb_adv, t->mb) &&
             ALLOC(t->mb_ret, t->mb) && ALLOC(t->mb_values, t->mb) && ALLOC(t->ret_acc, t->N) && ALLOC(t->vals, t->N) &&
             ALLOC(t->snap_params, t->pm.n_params) && ALLOC(t->snap_m, t->pm.n_params) &&
             ALLOC(t->snap_v, t->pm.n_params) && ALLOC(t->sde_mat, (size_t)t->N * t->pm.log_std_count);
        t->traj_every = cfg->log_trajectories;
        if (ok && t->traj_every > 0) {
            const int skip = cfg->frame_skip > 1 ? cfg->frame_skip : 1; /* rows are actions */
            t->traj_fb = t->image ? (size_t)t->eod : 0; /* frames as bytes: a quarter of the floats */
            t->traj_w = (t->image ? 0 : t->od) + t->ad + 5 + t->spec.render_dim;
            t->traj_max = t->spec.max_episode_steps > 0 ? (t->spec.max_episode_steps + skip - 1) / skip : t->T;
            ok = ALLOC(t->recording, t->N) && ALLOC(t->rec_len, t->N) &&
                 ALLOC(t->rec, (size_t)t->N * t->traj_max * t->traj_w) &&
                 ALLOC(t->traj_rows, (size_t)t->N * (t->traj_max + t->T) * t->traj_w) &&
                 ALLOC(t->traj_eps, (size_t)t->N * (t->T + 1)) &&
                 (!t->image || (ALLOC(t->rec_frames, (size_t)t->N * t->traj_max * t->traj_fb) &&
                                ALLOC(t->traj_frames, (size_t)t->N * (t->traj_max + t->T) * t->traj_fb)));
            for (int n = 0; ok && n < t->N; n++)
                t->recording[n] = 1 % t->traj_every == 0; /* the first episodes start in update 1 */
        }
        t->norm_obs = cfg->norm_obs;
        t->norm_reward = cfg->norm_reward;
        ok = ok && (!t->norm_obs || ALLOC(t->raw_obs, (size_t)t->B * t->od)) && (!t->norm_reward || ALLOC(t->disc, t->B));
        if (ok && ((t->norm_obs && rs_init(&t->obs_rs, t->od)) || (t->norm_reward && rs_init(&t->ret_rs, 1))))
            ok = false;
        if (!ok)
            snprintf(err, err_len, "out of memory for the rollout buffers (%zu samples)", TN);
    }
    if (ok) {
        const bool pg_only = strcmp(cfg->algo, "ppo") != 0;
        t->learn_values = !(strcmp(cfg->algo, "reinforce") == 0 && !cfg->baseline);
        t->lp = (loss_params){
            .continuous = t->pm.continuous,
            .n_out = t->K,
            .clipped = !pg_only,
            .clip_coef = cfg->clip_coef,
            .clip_vloss = cfg->clip_vloss,
            .vf_coef = t->learn_values ? cfg->vf_coef : 0.0,
            .ent_coef = cfg->ent_coef,
            .scale = 1.0 / (double)t->global_mb,
            .sde_latent = t->pm.sde_latent,
        };
        for (int n = 0; n < t->N; n++)
            trainer_env_reset_row(t, n);
        /* warm-up: the first oneDNN execution in a process is slow; keep it out of the timings */
        (void)trainer_infer_values(t, t->cur_obs);
    }
    /* every rank must agree before anyone proceeds, or one would hang in the first collective */
    if (!par_all_ok(par, ok)) {
        if (ok)
            snprintf(err, err_len, "another rank failed to set up (see its message)");
        trainer_free(t);
        return NULL;
    }
    t->reduce = grad_reduce_create(par->comm, t->pm.n_params, !strcmp(cfg->grad_reduce, "shm"), err, err_len);
    if (!t->reduce) { /* on every rank */
        trainer_free(t);
        return NULL;
    }
    /* identical start on every rank, whatever the floating-point history of the init */
    MPI_Bcast(t->params, (int)t->pm.n_params, MPI_FLOAT, 0, par->comm);
    return t;
}

void trainer_poison_update(trainer *t, long long update)
{
    t->fault_nan_update = update;
}

void trainer_free(trainer *t)
{
    if (!t)
        return;
    grad_reduce_free(t->reduce); /* collective: every rank frees its trainer at the same point */
    workers_free(t);
    for (int n = 0; t->envs && n < t->N; n++)
        ppo_env_free(t->envs[n]);
    adam_free(&t->adam);
    if (t->norm_obs)
        rs_free(&t->obs_rs);
    if (t->norm_reward)
        rs_free(&t->ret_rs);
    void *bufs[] = {t->snap_params, t->snap_m, t->snap_v, t->ret_acc, t->raw_obs, t->disc, t->vals, t->recording, t->rec_len, t->rec, t->traj_rows, t->traj_eps, t->rec_frames, t->traj_frames, t->envs, t->act_rng, t->sde_mat, t->params, t->grads, t->grad_sq, t->obs, t->obs_u8, t->stack, t->final_stack, t->actions, t->logp, t->values,
                    t->rewards, t->boot, t->adv, t->ret, t->term, t->trunc, t->cur_obs, t->final_obs,
                    t->last_values, t->ep_return, t->ep_len, t->ep_done, t->ep_count, t->perm, t->mb_adv_stats,
                    t->mb_actions, t->mb_logp, t->mb_adv, t->mb_ret, t->mb_values};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++)
        free(bufs[i]);
    free(t);
}

phase_clock *trainer_clock(trainer *t) { return &t->clock; }

const char *trainer_grad_reduce_description(const trainer *t) { return grad_reduce_description(t->reduce); }

const uint8_t *trainer_trajectory_frames(const trainer *t) { return t->traj_frames; }

int trainer_trajectories(const trainer *t, const float **rows, const traj_record **records)
{
    *rows = t->traj_rows;
    *records = t->traj_eps;
    return t->traj_n_eps;
}

int trainer_episodes(const trainer *t, const episode_record **eps)
{
    *eps = t->ep_done;
    return t->n_done;
}

bool trainer_params_agree(const trainer *t)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a over the parameter bytes */
    const unsigned char *b = (const unsigned char *)t->params;
    for (size_t i = 0; i < t->pm.n_params * sizeof(float); i++)
        h = (h ^ b[i]) * 1099511628211ULL;
    uint64_t lo = h, hi = h;
    MPI_Allreduce(MPI_IN_PLACE, &lo, 1, MPI_UINT64_T, MPI_MIN, t->par->comm);
    MPI_Allreduce(MPI_IN_PLACE, &hi, 1, MPI_UINT64_T, MPI_MAX, t->par->comm);
    return lo == hi;
}

size_t trainer_rng_words(const trainer *t) { return 4 * ((size_t)t->N + 1); }

void trainer_save_rngs(const trainer *t, uint64_t *out)
{
    for (int n = 0; n < t->N; n++)
        memcpy(out + 4 * (size_t)n, t->act_rng[n].s, sizeof t->act_rng[n].s);
    memcpy(out + 4 * (size_t)t->N, t->shuffle_rng.s, sizeof t->shuffle_rng.s);
}

void trainer_load_rngs(trainer *t, const uint64_t *in)
{
    for (int n = 0; n < t->N; n++)
        memcpy(t->act_rng[n].s, in + 4 * (size_t)n, sizeof t->act_rng[n].s);
    memcpy(t->shuffle_rng.s, in + 4 * (size_t)t->N, sizeof t->shuffle_rng.s);
}

adam_state *trainer_adam(trainer *t) { return &t->adam; }
adam_state *trainer_adam_gathered(trainer *t)
{
    grad_reduce_allgather(t->reduce, t->adam.m);
    grad_reduce_allgather(t->reduce, t->adam.v);
    return &t->adam;
}
running_stats *trainer_obs_stats(trainer *t) { return t->norm_obs ? &t->obs_rs : NULL; }
running_stats *trainer_return_stats(trainer *t) { return t->norm_reward ? &t->ret_rs : NULL; }
long long trainer_update_count(const trainer *t) { return t->update; }

/* Per env: env snapshot | current raw obs | return and length so far | discounted return (reward scaling)
 * | image envs: the frame stack (its older frames are not in the env's state) */
static size_t env_blob_size(const trainer *t)
{
    return env_snapshot_size(t->envs[0]) + sizeof(float) * (size_t)t->eod + 2 * sizeof(double) + sizeof(int) +
           (t->image ? t->px.size : 0);
}

size_t trainer_env_state_size(const trainer *t)
{
    return env_snapshot_size(t->envs[0]) ? env_blob_size(t) * (size_t)t->N : 0;
}

void trainer_save_envs(const trainer *t, unsigned char *out)
{
    const size_t snap = env_snapshot_size(t->envs[0]);
    for (int n = 0; n < t->N; n++) {
        unsigned char *p = out + (size_t)n * env_blob_size(t);
        env_snapshot(t->envs[n], p);
        p += snap;
        memcpy(p, t->cur_obs + (size_t)n * t->eod, sizeof(float) * (size_t)t->eod);
        p += sizeof(float) * (size_t)t->eod;
        memcpy(p, &t->ep_return[n], sizeof(double));
        memcpy(p + sizeof(double), &t->ret_acc[n], sizeof(double));
        memcpy(p + 2 * sizeof(double), &t->ep_len[n], sizeof(int));
        if (t->image)
            memcpy(p + 2 * sizeof(double) + sizeof(int), t->stack + (size_t)n * t->px.size, t->px.size);
    }
}

int trainer_resume(trainer *t, long long update, long long resumes, const unsigned char *env_state)
{
    int bad = -1;
    t->update = update;
    t->resumes = resumes;
    const size_t snap = env_snapshot_size(t->envs[0]);
    for (int n = 0; n < t->N; n++) {
        if (t->traj_every > 0) { /* an episode cut by the resume is not recorded */
            t->recording[n] = env_state ? false : (update + 1) % t->traj_every == 0;
            t->rec_len[n] = 0;
        }
        if (env_state) {
            const unsigned char *p = env_state + (size_t)n * env_blob_size(t);
            const bool restored = env_restore(t->envs[n], p) == 0;
            p += snap;
            float *obs = t->cur_obs + (size_t)n * t->eod;
            memcpy(obs, p, sizeof(float) * (size_t)t->eod);
            p += sizeof(float) * (size_t)t->eod;
            memcpy(&t->ep_return[n], p, sizeof(double));
            memcpy(&t->ret_acc[n], p + sizeof(double), sizeof(double));
            memcpy(&t->ep_len[n], p + 2 * sizeof(double), sizeof(int));
            if (t->image)
                memcpy(t->stack + (size_t)n * t->px.size, p + 2 * sizeof(double) + sizeof(int), t->px.size);
            /* the trainer's part of the blob, read from a file: a finite observation and returns, and the
             * episode's length (actions) times frame_skip equal to the steps the restored env counts */
            bool valid = restored && isfinite(t->ep_return[n]) && isfinite(t->ret_acc[n]) &&
                         (long long)t->ep_len[n] * t->cfg->frame_skip == ppo_env_elapsed_steps(t->envs[n]);
            for (int d = 0; d < t->eod && valid; d++)
                valid = isfinite(obs[d]);
            if (valid && t->image) /* pixels, and the frame stack's newest frame made from them */
                valid = pix_stack_newest_matches(&t->px, t->stack + (size_t)n * t->px.size, obs);
            if (!valid && bad < 0)
                bad = n;
            continue;
        }
        ppo_env_seed(t->envs[n], trainer_env_seed(t, n));
        trainer_env_reset_row(t, n);
        t->ep_return[n] = 0.0;
        t->ep_len[n] = 0;
        t->ret_acc[n] = 0.0;
    }
    return bad;
}

const policy_model *trainer_model(const trainer *t) { return &t->pm; }
float *trainer_params(trainer *t) { return t->params; }
float *trainer_grads(trainer *t) { return t->grads; }
void trainer_grad_slice(const trainer *t, size_t *lo, size_t *hi) { grad_reduce_slice(t->reduce, lo, hi); }
const ppo_env_spec *trainer_spec(const trainer *t) { return &t->spec; }
long long trainer_updates_total(const trainer *t) { return t->updates_total; }
long long trainer_steps_per_update(const trainer *t) { return (long long)t->B * t->par->size; }
int trainer_param_count(const trainer *t) { return (int)t->pm.n_params; }
int trainer_grad_workers(const trainer *t) { return t->n_grad_workers; }
bool trainer_net_split(const trainer *t) { return t->net_split; }
int trainer_row_groups(const trainer *t) { return t->row_groups; }
void trainer_set_shuffle(trainer *t, bool on) { t->shuffle = on; }

rollout_view trainer_rollout_view(trainer *t)
{
    return (rollout_view){t->obs, t->obs_u8, t->actions, t->logp, t->values, t->rewards, t->boot,
                          t->term, t->trunc, t->last_values, t->adv, t->ret};
}
