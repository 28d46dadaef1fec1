/* trainer: the rollout / GAE / update cycle of one rank, and the collectives that keep ranks equal.
 *
 * Every buffer is sized from the config in trainer_create; the loop allocates nothing and creates
 * no oneDNN primitive. Each env has its own env RNG and action RNG, seeded from (run seed, global env
 * index), and a rank's threads are workers with fixed shares (envs for inference and stepping,
 * minibatch rows for the gradient, parameter ranges for Adam), so a run depends on the seed and the
 * ranks x threads layout, never on the OpenMP schedule. Every phase charges its time to the clock.
 * Image envs (CarRacing-v3) train the conv policy: each env's frames go through the pixel wrappers
 * (ppo/pixels.h) into a byte stack, the rollout keeps those bytes, and the conv passes load them
 * (scaled by 1/255) for inference and, by row index, for each minibatch. */
#include "ppo/trainer.h"

#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "envs/env_class.h"
#include "ppo/gae.h"
#include "ppo/pixels.h"
#include "runtime/grad_reduce.h"
#include "runtime/phase_clock.h"
#include "util/rng.h"
#include "util/simd.h"

/* One OpenMP thread's share of a rank's work, with its own oneDNN context (scratchpad), so threads run
 * their passes at once: the inference of envs [n0, n1) and the gradient of minibatch rows [j0, j1).
 * With one worker the passes cover the whole batch (oneDNN's own threads inside). */
enum { NET_ACTOR = 1, NET_CRITIC = 2, NET_BOTH = 3 };

typedef struct {
    nn_ctx *nn;
    policy_pass infer;         /* batch n1 - n0; only for workers below n_roll_workers */
    policy_pass train;         /* batch j1 - j0; only for workers below n_grad_workers */
    bool infer_ok, train_ok;
    int n0, n1, j0, j1;
    float *grads;              /* (P,) this worker's gradient: the trainer's for worker 0 (both in the net split) */
    bool owns_grads;
    int nets;                  /* which networks its training pass runs: NET_ACTOR, NET_CRITIC or both */
    loss_sums sums;            /* this minibatch's loss sums over the worker's rows */
    double infer_sec;          /* time of its last inference in the rollout */
} trainer_worker;

struct trainer {
    const ppo_config *cfg;
    const par_layout *par;
    int N, T, B, mb;           /* envs, steps, local batch T*N, local minibatch */
    long long global_mb;       /* samples in a global minibatch */
    long long updates_total, update;
    ppo_env **envs;            /* (N,) */
    rng_t *act_rng;            /* (N,) action sampling, one per env */
    float *sde_mat;            /* gSDE: (N, sde_latent, ad) exploration matrices, one per env */
    rng_t shuffle_rng;         /* minibatch permutation of this rank */
    bool shuffle;
    ppo_env_spec spec;
    int od, ad, K;             /* obs dim, action floats, actor outputs */
    bool image;                /* pixel observations: stored as bytes, loaded by the conv pass */
    int eod;                   /* floats of an env's observation row (od: of the policy's input) */
    pix_stack px;              /* image: env frames -> policy input (grayscale, frame stacking) */
    bool learn_values;         /* false for REINFORCE without a baseline */
    bool parallel_envs;        /* threads step the envs and run their inference (when that outweighs the cost) */

    policy_model pm;
    trainer_worker *workers;   /* (max(n_roll_workers, n_grad_workers),) */
    int n_workers, n_roll_workers, n_grad_workers;
    int row_groups;            /* the groups a minibatch's rows split into: the grad workers, or half of them */
    bool net_split;            /* grad workers [0, row_groups) train the actor, the rest the critic */
    bool mpi_funneled;         /* MPI lets a team's first thread call it (epoch_in_team_ranks) */
    float *vals;               /* (N,) values gathered from the workers' inference */
    phase_clock clock;         /* this rank's time per phase since the CLI last reset it */
    float *params, *grads;     /* (P,) each: the one flat buffer of the network and of its gradient */
    double *grad_sq;           /* (2, ceil(P / GRAD_REDUCE_BLOCK)) the summed gradient's squares per block
                                * (the second row: the net split's alternate minibatches) */
    grad_reduce *reduce;       /* the gradient's sum over ranks, once per minibatch */
    adam_state adam;
    loss_params lp;

    /* rollout storage, (T, N, ...) */
    float *obs, *actions, *logp, *values, *rewards, *boot, *adv, *ret;
    uint8_t *term, *trunc;
    uint8_t *obs_u8;           /* image envs: (T, N, H, W, C) the rollout's pixels; obs is then NULL */
    uint8_t *stack;            /* image envs: (N, H, W, C') each env's current policy input */
    uint8_t *final_stack;      /* image envs: (N, H, W, C') the input at a truncated episode's end */
    float *cur_obs, *final_obs, *last_values; /* (N, eod), (N, eod), (N,): the envs' float rows */

    /* episodes in progress and finished during the last rollout */
    double *ep_return;         /* (N,) */
    int *ep_len;               /* (N,) */
    episode_record *ep_done;   /* (N, T) slots, compacted after the rollout */
    int *ep_count;             /* (N,) */
    int n_done;

    /* normalisation, identical on all ranks (merged after every rollout) */
    running_stats obs_rs, ret_rs;
    bool norm_obs, norm_reward;
    double *ret_acc;           /* (N,) discounted return per env, for reward scaling */
    /* what the rollout adds to the statistics, kept per step and env and added after the last step in
     * step and env order (as one thread would, step by step), so that threads step their envs freely */
    float *raw_obs;            /* --norm-obs: (T, N, od) the observations before normalisation */
    double *disc;              /* --norm-reward: (T, N) the discounted returns */

    /* --log-trajectories: per-env recording buffers and this rollout's finished recordings */
    int traj_every, traj_w, traj_max;  /* every N-th update; floats per row; rows per episode at most */
    bool *recording;           /* (N,) the env's current episode is being recorded */
    int *rec_len;              /* (N,) */
    float *rec;                /* (N, traj_max, traj_w) */
    float *traj_rows;          /* (N * (traj_max + T), traj_w) finished this rollout */
    size_t traj_fb;            /* image envs: bytes of a recorded frame (H * W * C), the rows then hold no obs */
    uint8_t *rec_frames;       /* image envs: (N, traj_max, traj_fb) each row's env frame */
    uint8_t *traj_frames;      /* image envs: (N * (traj_max + T), traj_fb) beside traj_rows */
    traj_record *traj_eps;     /* (N * (T + 1),) */
    int traj_n_rows, traj_n_eps;
    long long resumes;         /* envs are re-seeded on every resume */

    /* start-of-update copies, restored when the update meets a non-finite gradient */
    float *snap_params, *snap_m, *snap_v;
    long long fault_nan_update;  /* test seam (trainer_poison_update): poison this update's gradient; 0: none */

    /* minibatch scratch */
    int *perm;                 /* (B,) */
    double *mb_adv_stats;      /* (minibatches, 2) per-minibatch normalisation: the epoch's (mean, 1/std) */
    float *mb_actions, *mb_logp, *mb_adv, *mb_ret, *mb_values; /* (mb, ...) */
};

/* The seed env n's RNG was last seeded with (its episodes continue that stream). */
static uint64_t env_seed(const trainer *t, int n)
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
static void run_unthreaded(void (*fn)(void *), void *arg)
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

typedef struct { /* arguments of a single worker's call, for run_unthreaded */
    trainer *t;
    const float *raw;
    int step;
    int bad, any_trunc;
    const int *idx;
    bool norm;
    double mean, inv_std;
} solo_call;

static void solo_values(void *a)
{
    solo_call *c = a;
    worker_values(c->t, &c->t->workers[0], c->raw);
}

/* Value of each env's raw observation rows (N, od), through the workers' inference: (N,). A single
 * worker runs through run_unthreaded; never inside an inactive parallel construct, where oneDNN's
 * threads would form a nested team started anew on every call (CartPole 1 x 2: 4x slower). */
static const float *infer_values(trainer *t, const float *raw)
{
    const int W = t->n_roll_workers;
    if (W == 1)
        run_unthreaded(solo_values, &(solo_call){.t = t, .raw = raw});
    else {
#pragma omp parallel for schedule(static, 1) num_threads(W)
        for (int w = 0; w < W; w++)
            worker_values(t, &t->workers[w], raw);
    }
    return t->vals;
}

/* Env n starts an episode: its float row in cur_obs and, for image envs, a new frame stack. */
static void env_reset_row(trainer *t, int n)
{
    float *o = t->cur_obs + (size_t)n * t->eod;
    ppo_env_reset(t->envs[n], o);
    if (t->image)
        pix_stack_reset(&t->px, t->stack + (size_t)n * t->px.size, o);
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
        ppo_env_seed(t->envs[n], env_seed(t, n));
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
            env_reset_row(t, n);
        /* warm-up: the first oneDNN execution in a process is slow; keep it out of the timings */
        (void)infer_values(t, t->cur_obs);
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
            env_reset_row(t, n);
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
            t->traj_eps[t->traj_n_eps++] = (traj_record){n, (int)len, e->ret, env_seed(t, n)};
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
    if (W == 1) { /* as in infer_values */
        solo_call c = {.t = t, .step = s};
        run_unthreaded(solo_rollout_step, &c);
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
        const float *fv = infer_values(t, t->final_obs);
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
    memcpy(t->last_values, infer_values(t, t->cur_obs), sizeof(float) * (size_t)N);
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
 * inference pass over its envs, the same pass and rows as infer_values', so the run is the same bit
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

static void shuffle(trainer *t)
{
    for (int i = 0; i < t->B; i++)
        t->perm[i] = i;
    if (!t->shuffle)
        return;
    for (int i = t->B - 1; i > 0; i--) {
        int j = (int)rng_below(&t->shuffle_rng, (uint32_t)(i + 1));
        int tmp = t->perm[i];
        t->perm[i] = t->perm[j];
        t->perm[j] = tmp;
    }
}

/* Minibatch rows [j0, j1) of the worker: gathers them (idx: the minibatch's sample indices) into its
 * training pass and the minibatch arrays. */
static void worker_gather(trainer *t, trainer_worker *wk, const int *idx)
{
    const int od = t->od, ad = t->ad;
    if (t->image)
        nn_conv_pass_load_u8(&wk->train.conv, t->obs_u8, idx + wk->j0);
    for (int j = wk->j0; j < wk->j1; j++) {
        const int i = idx[j];
        if (!t->image)
            memcpy(wk->train.obs + (size_t)(j - wk->j0) * od, t->obs + (size_t)i * od, sizeof(float) * (size_t)od);
        if (wk->nets & NET_ACTOR) {
            memcpy(t->mb_actions + (size_t)j * ad, t->actions + (size_t)i * ad, sizeof(float) * (size_t)ad);
            t->mb_logp[j] = t->logp[i];
            t->mb_adv[j] = t->adv[i];
        }
        if (wk->nets & NET_CRITIC) {
            t->mb_ret[j] = t->ret[i];
            t->mb_values[j] = t->values[i];
        }
    }
}

/* The worker's share of the minibatch gradient: (optionally) normalised advantages, forward, loss,
 * backward into its gradient buffer, loss sums into wk->sums. */
static void worker_gradient(trainer *t, trainer_worker *wk, bool norm, double mean, double inv_std)
{
    const int j0 = wk->j0, rows = wk->j1 - wk->j0;
    if (wk->nets == NET_CRITIC) {
        policy_pass_forward_net(&wk->train, true);
        wk->sums = (loss_sums){0};
        loss_compute_value(&t->lp, rows, policy_pass_values(&wk->train), t->mb_ret + j0, t->mb_values + j0,
                           policy_pass_value_diff(&wk->train), &wk->sums);
        policy_pass_backward_net(&wk->train, true);
        return;
    }
    if (norm)
        for (int j = j0; j < wk->j1; j++)
            t->mb_adv[j] = (float)((t->mb_adv[j] - mean) * inv_std);
    if (wk->nets == NET_ACTOR)
        policy_pass_forward_net(&wk->train, false);
    else
        policy_pass_forward(&wk->train);
    float *d_log_std = t->pm.continuous ? wk->grads + t->pm.log_std_offset : NULL;
    if (d_log_std)
        memset(d_log_std, 0, sizeof(float) * t->pm.log_std_count);
    wk->sums = (loss_sums){0};
    if (wk->nets == NET_ACTOR) {
        loss_compute_policy(&t->lp, rows, policy_pass_actor_out(&wk->train), t->mb_actions + (size_t)j0 * t->ad,
                            t->mb_logp + j0, t->mb_adv + j0, t->pm.continuous ? t->params + t->pm.log_std_offset : NULL,
                            t->pm.sde_latent ? policy_pass_latent(&wk->train) : NULL, policy_pass_actor_diff(&wk->train),
                            d_log_std, &wk->sums);
        policy_pass_backward_net(&wk->train, false);
        return;
    }
    loss_compute(&t->lp, rows, policy_pass_actor_out(&wk->train), policy_pass_values(&wk->train),
                 t->mb_actions + (size_t)j0 * t->ad, t->mb_logp + j0, t->mb_adv + j0, t->mb_ret + j0,
                 t->mb_values + j0, t->pm.continuous ? t->params + t->pm.log_std_offset : NULL,
                 t->pm.sde_latent ? policy_pass_latent(&wk->train) : NULL, policy_pass_actor_diff(&wk->train),
                 policy_pass_value_diff(&wk->train), d_log_std, &wk->sums);
    policy_pass_backward(&wk->train);
}

static void loss_sums_add(loss_sums *a, const loss_sums *b)
{
    a->policy_loss += b->policy_loss;
    a->value_loss += b->value_loss;
    a->entropy += b->entropy;
    a->approx_kl += b->approx_kl;
    a->clipped += b->clipped;
    a->count += b->count;
}

/* Mean and 1 / (std + 1e-8) from (sum, sum of squares, count); the std is unbiased, as torch.std. */
static void adv_moments(const double s[3], double *mean, double *inv_std)
{
    *mean = s[0] / s[2];
    const double var = s[2] > 1 ? (s[1] - s[2] * *mean * *mean) / (s[2] - 1) : 0.0;
    *inv_std = 1.0 / (sqrt(var > 0 ? var : 0) + 1e-8);
}

/* --norm-adv-batch: normalises the rollout's advantages in place with the global batch's statistics.
 * Collective. */
static void normalize_batch_advantages(trainer *t)
{
    double s[3] = {0, 0, (double)t->B};
    for (int i = 0; i < t->B; i++) {
        s[0] += t->adv[i];
        s[1] += (double)t->adv[i] * t->adv[i];
    }
    phase_clock_lap(&t->clock, PHASE_GAE);
    MPI_Allreduce(MPI_IN_PLACE, s, 3, MPI_DOUBLE, MPI_SUM, t->par->comm);
    phase_clock_lap(&t->clock, PHASE_COMM);
    double mean, inv_std;
    adv_moments(s, &mean, &inv_std);
    for (int i = 0; i < t->B; i++)
        t->adv[i] = (float)((t->adv[i] - mean) * inv_std);
    phase_clock_lap(&t->clock, PHASE_GAE);
}

static void solo_gradient(void *a)
{
    solo_call *c = a;
    worker_gradient(c->t, &c->t->workers[0], c->norm, c->mean, c->inv_std);
}

/* Per-minibatch advantage normalisation for the epoch just shuffled: every minibatch's (mean, 1/std)
 * over the global minibatch into t->mb_adv_stats, from one collective for the whole epoch instead of
 * one per minibatch (each rank's sums are formed per grad worker and added in worker order, as the
 * minibatch's rows are split). Collective. */
static void epoch_adv_stats(trainer *t)
{
    const int M = t->cfg->minibatches, G = t->row_groups; /* workers [0, G) hold the groups' rows */
    double *s = t->mb_adv_stats;
    for (int k = 0; k < M; k++) {
        const int *idx = t->perm + (size_t)k * t->mb;
        double sum = 0.0, sumsq = 0.0;
        for (int w = 0; w < G; w++) {
            double ws = 0.0, wsq = 0.0;
            for (int j = t->workers[w].j0; j < t->workers[w].j1; j++) {
                const float a = t->adv[idx[j]];
                ws += a;
                wsq += (double)a * a;
            }
            sum += ws;
            sumsq += wsq;
        }
        s[2 * k] = sum;
        s[2 * k + 1] = sumsq;
    }
    phase_clock_lap(&t->clock, PHASE_GRAD);
    MPI_Allreduce(MPI_IN_PLACE, s, 2 * M, MPI_DOUBLE, MPI_SUM, t->par->comm);
    phase_clock_lap(&t->clock, PHASE_COMM);
    const double count = (double)t->global_mb;
    for (int k = 0; k < M; k++)
        adv_moments((double[3]){s[2 * k], s[2 * k + 1], count}, &s[2 * k], &s[2 * k + 1]);
}

/* Part w of W of [lo, hi). */
static size_t part(size_t lo, size_t hi, int w, int W) { return lo + (hi - lo) * (size_t)w / (size_t)W; }

/* Adds the other row groups' gradients [lo, hi) to the first group's (t->grads), one group after
 * another: each element in group order, as restrict-qualified loops the compiler vectorises. In the
 * net split an element of the actor is summed over the actor's workers, one of the critic over the
 * critic's. */
static void add_worker_grads(trainer *t, size_t lo, size_t hi)
{
    float *restrict dst = t->grads;
    const int K = t->row_groups;
    const size_t split = t->net_split ? t->pm.actor_end : hi; /* the actor's part: [lo, split) */
    for (int net = 0; net < (t->net_split ? 2 : 1); net++) {
        const size_t a = net == 0 ? lo : split > lo ? split : lo, b = net == 0 ? (split < hi ? split : hi) : hi;
        for (int g = 1; g < K; g++) {
            const float *restrict src = t->workers[net * K + g].grads;
            for (size_t p = a; p < b; p++)
                dst[p] += src[p];
        }
    }
}

/* Row group g's loss sums: its worker's, or in the net split the actor's worker's with the value loss
 * of the critic's. */
static loss_sums group_sums(const trainer *t, int g)
{
    loss_sums s = t->workers[g].sums;
    if (t->net_split)
        s.value_loss = t->workers[t->row_groups + g].sums.value_loss;
    return s;
}

/* The loss sums of every row group added to ep, in group order. */
static void add_group_sums(const trainer *t, loss_sums *ep)
{
    for (int g = 0; g < t->row_groups; g++) {
        const loss_sums s = group_sums(t, g);
        loss_sums_add(ep, &s);
    }
}

/* The rank's gradient of minibatch k into t->grads (the sum of the workers' in worker order, so the
 * result does not depend on the schedule), its loss sums added to ep. */
static void minibatch_gradient(trainer *t, int k, loss_sums *ep)
{
    phase_clock *clk = &t->clock;
    const int G = t->n_grad_workers;
    const size_t P = t->pm.n_params;
    const int *idx = t->perm + (size_t)k * t->mb;
    const bool norm = t->cfg->norm_adv && !t->cfg->norm_adv_batch; /* per minibatch */
    const double mean = norm ? t->mb_adv_stats[2 * k] : 0.0, inv_std = norm ? t->mb_adv_stats[2 * k + 1] : 1.0;
    if (G == 1) { /* as in infer_values: a minibatch too small to split is too small for oneDNN's threads */
        worker_gather(t, &t->workers[0], idx);
        run_unthreaded(solo_gradient, &(solo_call){.t = t, .norm = norm, .mean = mean, .inv_std = inv_std});
    } else { /* one team per minibatch: a region costs ~4 us on the 2-core VM, a barrier ~2 */
#pragma omp parallel num_threads(G)
        {
#pragma omp for schedule(static, 1)
            for (int w = 0; w < G; w++) { /* a worker reads only the rows it gathered */
                worker_gather(t, &t->workers[w], idx);
                worker_gradient(t, &t->workers[w], norm, mean, inv_std);
            }
            /* t->grads is the first row group's buffer (in the net split both networks' first workers
             * wrote their parts of it): add the other groups' (after the loop's barrier), a part each */
            const int me = omp_get_thread_num();
            if (t->row_groups > 1)
                add_worker_grads(t, part(0, P, me, G), part(0, P, me + 1, G));
        }
    }
    add_group_sums(t, ep);
    phase_clock_lap(clk, PHASE_GRAD);
}

/* The sum of x[i]^2 in double, in SUMSQ_LANES interleaved partial sums added in lane order at the end:
 * a fixed order (so the same on every rank), and independent additions the compiler vectorises (one
 * running sum was a chain of dependent adds: 13 us of LunarLander's 16 us optimizer step). */
enum { SUMSQ_LANES = 8 };

PPO_SIMD_CLONES static double sum_squares(const float *restrict x, size_t n)
{
    double lane[SUMSQ_LANES] = {0};
    size_t i = 0;
    for (; i + SUMSQ_LANES <= n; i += SUMSQ_LANES)
        for (int l = 0; l < SUMSQ_LANES; l++)
            lane[l] += (double)x[i + l] * x[i + l];
    for (int l = 0; i < n; i++, l++)
        lane[l] += (double)x[i] * x[i];
    double total = 0.0;
    for (int l = 0; l < SUMSQ_LANES; l++)
        total += lane[l];
    return total;
}

/* The summed gradient's squares of blocks [b0, b1) into t->grad_sq. */
static void square_blocks(trainer *t, size_t b0, size_t b1)
{
    const size_t P = t->pm.n_params;
    for (size_t b = b0; b < b1; b++) {
        const size_t i = b * GRAD_REDUCE_BLOCK;
        t->grad_sq[b] = sum_squares(t->grads + i, P - i < GRAD_REDUCE_BLOCK ? P - i : GRAD_REDUCE_BLOCK);
    }
}

/* The norm from every block's squares, added in block order: the same bits on every rank and thread,
 * however the blocks were shared out. */
static double block_norm(const trainer *t)
{
    const size_t n = (t->pm.n_params + GRAD_REDUCE_BLOCK - 1) / GRAD_REDUCE_BLOCK;
    double total = 0.0;
    for (size_t b = 0; b < n; b++)
        total += t->grad_sq[b];
    return sqrt(total);
}

/* Clipping to max_grad_norm and the Adam step on parameters [lo, hi). */
static void clip_and_step_range(trainer *t, const adam_coef *coef, double norm, size_t lo, size_t hi)
{
    const double max_norm = t->cfg->max_grad_norm;
    if (max_norm > 0 && norm > max_norm) {
        const float scale = (float)(max_norm / (norm + 1e-6));
        for (size_t p = lo; p < hi; p++)
            t->grads[p] *= scale;
    }
    adam_apply(&t->adam, coef, t->params, t->grads, lo, hi);
}

/* The summed gradient's norm, clipping and the optimizer step. Each rank of a node (shared memory) holds
 * the sum of only its slice of the gradient (grad_reduce_scatter): it squares the slice's blocks, the
 * node's ranks swap block squares, and each steps its slice of the parameters and of Adam's moments,
 * then they swap parameter slices: each rank does 1/ranks-per-node of the step (LunarLander's whole
 * step costs ~6 us on the VM), for one barrier more (two across nodes). With MPI_Allreduce or one
 * rank the slice is every parameter. The rank's threads split the blocks and the slice. Returns the
 * norm before clipping; when it is not finite nothing is applied (on every rank alike: they add the
 * same squares). */
static double clip_and_step(trainer *t, double lr, double lr_critic)
{
    const int W = t->n_grad_workers;
    size_t lo, hi;
    grad_reduce_slice(t->reduce, &lo, &hi);
    const size_t P = t->pm.n_params, b0 = lo / GRAD_REDUCE_BLOCK,
                 b1 = lo < hi ? (hi + GRAD_REDUCE_BLOCK - 1) / GRAD_REDUCE_BLOCK : b0;
    const bool whole = lo == 0 && hi == P;
    const adam_coef coef = adam_begin(&t->adam, t->pm.actor_end, lr, lr_critic);
    if (W == 1)
        square_blocks(t, b0, b1);
    else if (whole) { /* no swap between the halves: one team (a region costs ~4 us) */
        double norm = 0.0;
#pragma omp parallel num_threads(W)
        {
            const int w = omp_get_thread_num();
            square_blocks(t, part(b0, b1, w, W), part(b0, b1, w + 1, W));
#pragma omp barrier
            const double n = block_norm(t);
            if (isfinite(n))
                clip_and_step_range(t, &coef, n, part(lo, hi, w, W), part(lo, hi, w + 1, W));
            if (w == 0)
                norm = n;
        }
        return norm;
    } else {
#pragma omp parallel num_threads(W)
        square_blocks(t, part(b0, b1, omp_get_thread_num(), W), part(b0, b1, omp_get_thread_num() + 1, W));
    }
    grad_reduce_allgather_blocks(t->reduce, t->grad_sq);
    const double norm = block_norm(t);
    if (!isfinite(norm))
        return norm;
    if (W == 1)
        clip_and_step_range(t, &coef, norm, lo, hi);
    else {
#pragma omp parallel num_threads(W)
        clip_and_step_range(t, &coef, norm, part(lo, hi, omp_get_thread_num(), W), part(lo, hi, omp_get_thread_num() + 1, W));
    }
    grad_reduce_allgather(t->reduce, t->params);
    return norm;
}

/* An epoch's minibatches one after another: each minibatch's gradient, its sum over the ranks, the
 * step. Returns false when a norm was not finite (nothing of that minibatch applied). */
static bool epoch_by_minibatch(trainer *t, double lr, double lr_critic, loss_sums *ep, double *grad_norm_sum,
                               int *steps)
{
    phase_clock *clk = &t->clock;
    for (int k = 0; k < t->cfg->minibatches; k++) {
        minibatch_gradient(t, k, ep);
        /* the one gradient collective: per-rank sums of (1/global_mb)-scaled terms add up to the mean */
        if (t->update == t->fault_nan_update)
            t->grads[0] = NAN;
        grad_reduce_scatter(t->reduce, t->grads);
        phase_clock_lap(clk, PHASE_COMM);
        const double norm = clip_and_step(t, lr, lr_critic);
        if (!isfinite(norm))
            return false;
        *grad_norm_sum += norm;
        (*steps)++;
        phase_clock_lap(clk, PHASE_OPTIM);
    }
    return true;
}

/* One rank with threads (the row split, or the net split in row groups): an epoch's minibatches in one
 * team instead of two regions each (a region costs ~4 us on the 2-core VM, a barrier ~2). Each thread
 * owns a range of whole blocks of the gradient: it sums the row groups' gradients there, squares those blocks, clips and steps those
 * parameters, so the lines it rewrites are the ones it just summed. Three barriers per minibatch: the
 * workers' gradients are in; the sum and the squares are in; the parameters are stepped. The same
 * additions in the same order as minibatch_gradient and clip_and_step, so the same bits. Returns
 * false when a norm was not finite (nothing of that minibatch applied). */
static bool epoch_in_team(trainer *t, double lr, double lr_critic, loss_sums *ep, double *grad_norm_sum, int *steps)
{
    const int G = t->n_grad_workers, M = t->cfg->minibatches;
    const size_t P = t->pm.n_params, nb = (P + GRAD_REDUCE_BLOCK - 1) / GRAD_REDUCE_BLOCK;
    const bool norm = t->cfg->norm_adv && !t->cfg->norm_adv_batch;
    const bool fault = t->update == t->fault_nan_update;
    phase_clock *clk = &t->clock;
    adam_coef coef;
    bool finite = true;
#pragma omp parallel num_threads(G)
    {
        const int me = omp_get_thread_num();
        trainer_worker *wk = &t->workers[me];
        const size_t b0 = part(0, nb, me, G), b1 = part(0, nb, me + 1, G);
        const size_t lo = b0 * GRAD_REDUCE_BLOCK, hi = b1 * GRAD_REDUCE_BLOCK < P ? b1 * GRAD_REDUCE_BLOCK : P;
        for (int k = 0; k < M; k++) {
            const int *idx = t->perm + (size_t)k * t->mb;
            worker_gather(t, wk, idx);
            worker_gradient(t, wk, norm, norm ? t->mb_adv_stats[2 * k] : 0.0, norm ? t->mb_adv_stats[2 * k + 1] : 1.0);
#pragma omp barrier
            add_worker_grads(t, lo, hi);
            if (fault && lo == 0 && hi > 0)
                t->grads[0] = NAN;
            square_blocks(t, b0, b1);
            if (me == 0) {
                add_group_sums(t, ep);
                phase_clock_lap(clk, PHASE_GRAD);
                coef = adam_begin(&t->adam, t->pm.actor_end, lr, lr_critic);
            }
#pragma omp barrier
            const double n = block_norm(t);
            if (!isfinite(n)) { /* every thread adds the same squares, so all leave here */
                if (me == 0)
                    finite = false;
                break;
            }
            clip_and_step_range(t, &coef, n, lo, hi);
            if (me == 0) {
                *grad_norm_sum += n;
                (*steps)++;
            }
#pragma omp barrier
            if (me == 0)
                phase_clock_lap(clk, PHASE_OPTIM);
        }
    }
    return finite;
}

/* Parameters in a rank's slice from which its threads share the squares, clipping and step; below,
 * the team's first thread does them alone (LunarLander's 9,797 parameters take ~6 us on the 2-core VM,
 * and sharing them costs four barriers more). */
enum { TEAM_STEP_SHARED_MIN = 16384 };

/* Several ranks with threads: an epoch's minibatches in one team too, where a region per minibatch
 * and two more in the optimizer cost ~4 us each. The team's first thread makes the MPI calls between
 * barriers (MPI_THREAD_FUNNELED): the sum over the ranks and the gathers of the sharded step. Two
 * barriers per minibatch (three with row groups to sum, four more for a large slice's shared step).
 * The same additions in the same order as epoch_by_minibatch, so the same bits. Returns false when a
 * norm was not finite (nothing of that minibatch applied, on every rank alike). */
static bool epoch_in_team_ranks(trainer *t, double lr, double lr_critic, loss_sums *ep, double *grad_norm_sum,
                                int *steps)
{
    const int G = t->n_grad_workers, M = t->cfg->minibatches;
    const size_t P = t->pm.n_params;
    size_t lo, hi;
    grad_reduce_slice(t->reduce, &lo, &hi);
    const size_t b0 = lo / GRAD_REDUCE_BLOCK, b1 = lo < hi ? (hi + GRAD_REDUCE_BLOCK - 1) / GRAD_REDUCE_BLOCK : b0;
    const bool whole = lo == 0 && hi == P, shared_step = hi - lo >= TEAM_STEP_SHARED_MIN;
    const bool norm = t->cfg->norm_adv && !t->cfg->norm_adv_batch;
    const bool fault = t->update == t->fault_nan_update;
    phase_clock *clk = &t->clock;
    adam_coef coef;
    double grad_norm = 0.0;
    bool finite = true;
#pragma omp parallel num_threads(G)
    {
        const int me = omp_get_thread_num();
        trainer_worker *wk = &t->workers[me];
        for (int k = 0; k < M; k++) {
            worker_gather(t, wk, t->perm + (size_t)k * t->mb);
            worker_gradient(t, wk, norm, norm ? t->mb_adv_stats[2 * k] : 0.0, norm ? t->mb_adv_stats[2 * k + 1] : 1.0);
#pragma omp barrier
            if (t->row_groups > 1) {
                add_worker_grads(t, part(0, P, me, G), part(0, P, me + 1, G));
#pragma omp barrier
            }
            if (me == 0) {
                add_group_sums(t, ep);
                phase_clock_lap(clk, PHASE_GRAD);
                if (fault)
                    t->grads[0] = NAN;
                grad_reduce_scatter(t->reduce, t->grads);
                phase_clock_lap(clk, PHASE_COMM);
                coef = adam_begin(&t->adam, t->pm.actor_end, lr, lr_critic);
                if (!shared_step) { /* as clip_and_step with one thread */
                    square_blocks(t, b0, b1);
                    if (!whole)
                        grad_reduce_allgather_blocks(t->reduce, t->grad_sq);
                    grad_norm = block_norm(t);
                    if (isfinite(grad_norm)) {
                        clip_and_step_range(t, &coef, grad_norm, lo, hi);
                        if (!whole)
                            grad_reduce_allgather(t->reduce, t->params);
                    }
                }
            }
            if (shared_step) { /* as clip_and_step with the threads */
#pragma omp barrier
                square_blocks(t, part(b0, b1, me, G), part(b0, b1, me + 1, G));
#pragma omp barrier
                if (me == 0) {
                    if (!whole)
                        grad_reduce_allgather_blocks(t->reduce, t->grad_sq);
                    grad_norm = block_norm(t);
                }
#pragma omp barrier
                if (isfinite(grad_norm))
                    clip_and_step_range(t, &coef, grad_norm, part(lo, hi, me, G), part(lo, hi, me + 1, G));
#pragma omp barrier
                if (me == 0 && isfinite(grad_norm) && !whole)
                    grad_reduce_allgather(t->reduce, t->params);
            }
#pragma omp barrier
            /* read before the first thread can write it again: after the next minibatch's first barrier */
            const double n = grad_norm;
            if (!isfinite(n)) { /* every thread reads the same norm, so all leave here */
                if (me == 0)
                    finite = false;
                break;
            }
            if (me == 0) {
                *grad_norm_sum += n;
                (*steps)++;
                phase_clock_lap(clk, PHASE_OPTIM);
            }
        }
    }
    return finite;
}

/* The net split with one row group (one rank, two workers): worker 0 trains the actor and worker 1 the
 * critic, each on all of a minibatch's rows, each squaring, clipping and stepping its own network's
 * parameters, which the other never reads. One barrier per minibatch, for the norm: each thread squares the blocks wholly
 * its own into this minibatch's row of t->grad_sq and its part of the block the two networks share, if
 * any, into this minibatch's edge buffer (rows and buffers alternate, so a thread may run ahead into
 * the next minibatch while the other still reads); after the barrier both square the shared block
 * from the edge buffer (the gradient itself is being clipped by then) and add all in block order. The
 * same passes, rows and additions as one thread, so the same bits as 1 rank x 1 thread. Returns false
 * when a norm was not finite. */
static bool epoch_in_nets(trainer *t, double lr, double lr_critic, loss_sums *ep, double *grad_norm_sum, int *steps)
{
    const int M = t->cfg->minibatches;
    const size_t P = t->pm.n_params, nb = (P + GRAD_REDUCE_BLOCK - 1) / GRAD_REDUCE_BLOCK, split = t->pm.actor_end;
    const size_t shared_block = split / GRAD_REDUCE_BLOCK; /* the block holding the critic's first parameter */
    const bool straddles = split % GRAD_REDUCE_BLOCK != 0;
    const bool norm = t->cfg->norm_adv && !t->cfg->norm_adv_batch;
    const bool fault = t->update == t->fault_nan_update;
    phase_clock *clk = &t->clock;
    const size_t edge0 = shared_block * GRAD_REDUCE_BLOCK,
                 edge_len = P - edge0 < GRAD_REDUCE_BLOCK ? P - edge0 : GRAD_REDUCE_BLOCK;
    float edge[2][GRAD_REDUCE_BLOCK];
    adam_coef coef[2];
    loss_sums sums[2];
    memset(sums, 0, sizeof sums);
    bool finite = true;
#pragma omp parallel num_threads(2)
    {
        const int me = omp_get_thread_num();
        trainer_worker *wk = &t->workers[me];
        const size_t lo = me == 0 ? 0 : split, hi = me == 0 ? split : P;
        const size_t b0 = me == 0 ? 0 : shared_block + straddles, b1 = me == 0 ? shared_block : nb;
        for (int k = 0; k < M; k++) {
            double *sq = t->grad_sq + (size_t)(k & 1) * nb;
            worker_gather(t, wk, t->perm + (size_t)k * t->mb);
            worker_gradient(t, wk, norm, norm ? t->mb_adv_stats[2 * k] : 0.0, norm ? t->mb_adv_stats[2 * k + 1] : 1.0);
            loss_sums_add(&sums[me], &wk->sums);
            if (fault && me == 0)
                t->grads[0] = NAN;
            for (size_t b = b0; b < b1; b++) {
                const size_t i = b * GRAD_REDUCE_BLOCK;
                sq[b] = sum_squares(t->grads + i, P - i < GRAD_REDUCE_BLOCK ? P - i : GRAD_REDUCE_BLOCK);
            }
            if (straddles) { /* this thread's elements of the shared block */
                const size_t e0 = me == 0 ? edge0 : split, e1 = me == 0 ? split : edge0 + edge_len;
                memcpy(edge[k & 1] + (e0 - edge0), t->grads + e0, (e1 - e0) * sizeof(float));
            }
            if (me == 0) {
                phase_clock_lap(clk, PHASE_GRAD);
                coef[k & 1] = adam_begin(&t->adam, split, lr, lr_critic);
            }
#pragma omp barrier
            double total = 0.0;
            for (size_t b = 0; b < nb; b++)
                total += straddles && b == shared_block ? sum_squares(edge[k & 1], edge_len) : sq[b];
            const double n = sqrt(total);
            if (!isfinite(n)) { /* both threads add the same squares, so both leave here */
                if (me == 0)
                    finite = false;
                break;
            }
            clip_and_step_range(t, &coef[k & 1], n, lo, hi);
            if (me == 0) {
                *grad_norm_sum += n;
                (*steps)++;
                phase_clock_lap(clk, PHASE_OPTIM);
            }
        }
    }
    /* each field from the thread that computed it, summed over the minibatches as one thread does */
    *ep = sums[0];
    ep->value_loss = sums[1].value_loss;
    return finite;
}

void trainer_optimize(trainer *t, update_stats *st)
{
    const ppo_config *c = t->cfg;
    MPI_Comm comm = t->par->comm;
    phase_clock *clk = &t->clock;
    const size_t P = t->pm.n_params;
    t->update++;
    memset(st, 0, sizeof *st);
    st->update = t->update;
    const double frac = c->anneal_lr ? 1.0 - (double)(t->update - 1) / (double)t->updates_total : 1.0;
    const double lr = c->lr * frac;
    const double lr_critic = (c->critic_lr > 0 ? c->critic_lr : c->lr) * frac;
    st->learning_rate = lr;

    loss_sums all = {0}, last_epoch = {0};
    double grad_norm_sum = 0.0;
    int steps = 0;
    const size_t bytes = P * sizeof(float);
    const long long adam_step0 = t->adam.step;
    memcpy(t->snap_params, t->params, bytes);
    memcpy(t->snap_m, t->adam.m, bytes);
    memcpy(t->snap_v, t->adam.v, bytes);
    phase_clock_lap(clk, PHASE_OPTIM);
    if (c->norm_adv && c->norm_adv_batch)
        normalize_batch_advantages(t);
    for (int epoch = 0; epoch < c->epochs && !st->nonfinite; epoch++) {
        shuffle(t);
        if (c->norm_adv && !c->norm_adv_batch)
            epoch_adv_stats(t);
        loss_sums ep = {0};
        const bool finite = t->net_split && t->row_groups == 1 && t->par->size == 1 ? epoch_in_nets(t, lr, lr_critic, &ep, &grad_norm_sum, &steps)
                            : t->par->size == 1 && t->n_grad_workers > 1
                                ? epoch_in_team(t, lr, lr_critic, &ep, &grad_norm_sum, &steps)
                            : t->n_grad_workers > 1 && t->mpi_funneled
                                ? epoch_in_team_ranks(t, lr, lr_critic, &ep, &grad_norm_sum, &steps)
                                : epoch_by_minibatch(t, lr, lr_critic, &ep, &grad_norm_sum, &steps);
        if (!finite) { /* the update is dropped whole, on every rank alike */
            st->nonfinite = 1;
            memcpy(t->params, t->snap_params, bytes);
            memcpy(t->adam.m, t->snap_m, bytes);
            memcpy(t->adam.v, t->snap_v, bytes);
            t->adam.step = adam_step0;
        }
        loss_sums_add(&all, &ep);
        last_epoch = ep;
        st->epochs = epoch + 1;
        if (c->target_kl > 0) { /* a collective decision: the KL over the epoch, all ranks */
            double kl[2] = {ep.approx_kl, ep.count};
            MPI_Allreduce(MPI_IN_PLACE, kl, 2, MPI_DOUBLE, MPI_SUM, comm);
            phase_clock_lap(clk, PHASE_COMM);
            if (kl[0] / kl[1] > c->target_kl)
                break;
        }
    }

    /* explained variance over the whole batch: sums of y, y^2, (y - v), (y - v)^2 */
    double ev[5] = {0, 0, 0, 0, (double)t->B};
    for (int i = 0; i < t->B; i++) {
        const double y = t->ret[i], r = y - t->values[i];
        ev[0] += y;
        ev[1] += y * y;
        ev[2] += r;
        ev[3] += r * r;
    }
    double red[12] = {all.policy_loss, all.value_loss, all.entropy, all.count, last_epoch.approx_kl,
                      last_epoch.clipped, last_epoch.count, ev[0], ev[1], ev[2], ev[3], ev[4]};
    phase_clock_lap(clk, PHASE_OPTIM);
    MPI_Allreduce(MPI_IN_PLACE, red, 12, MPI_DOUBLE, MPI_SUM, comm);
    phase_clock_lap(clk, PHASE_COMM);
    st->policy_loss = red[0] / red[3];
    st->value_loss = red[1] / red[3];
    st->entropy = red[2] / red[3];
    st->approx_kl = red[4] / red[6];
    st->clip_fraction = red[5] / red[6];
    const double n = red[11];
    const double var_y = red[8] / n - (red[7] / n) * (red[7] / n);
    const double var_r = red[10] / n - (red[9] / n) * (red[9] / n);
    st->explained_variance = var_y > 0 ? 1.0 - var_r / var_y : NAN;
    st->grad_norm = steps ? grad_norm_sum / steps : NAN;
    st->global_step = t->update * (long long)t->B * t->par->size;
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
        ppo_env_seed(t->envs[n], env_seed(t, n));
        env_reset_row(t, n);
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
