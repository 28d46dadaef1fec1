/* Allreduce equivalence, under mpirun -n 2: the update computed by 2 ranks over half batches equals
 * the update by 1 rank over the whole batch (same gradient, same parameters, same statistics, to
 * float tolerance), including advantage normalisation when the two halves have very different
 * scales, the collective target-KL stop, A2C and REINFORCE; after several real rollouts + updates
 * the parameters are bitwise identical on all ranks; and real training (rollouts, observation and
 * reward normalisation, updates) with 1 rank x 4 envs follows 2 ranks x 2 envs step for step, for
 * the MLP and for the conv policy on CarRacing's pixels (its rollout bytes gathered by row index).
 *
 * Every rank builds a 1-rank trainer on MPI_COMM_SELF (N envs) and a 2-rank trainer on
 * MPI_COMM_WORLD (N/2 envs each, rank r holding env columns [r*N/2, (r+1)*N/2)), fills both rollouts
 * by hand with the same global batch, and optimises without shuffling. Minibatch k of a rank is rows
 * [k*mb, (k+1)*mb) of its (T, N/2) rollout, i.e. steps [k*T/M, (k+1)*T/M) of its envs when M divides
 * T, so the global minibatch k is the same set of samples in both layouts. */
#include <mpi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "ppo/trainer.h"
#include "util/rng.h"

enum { OD = 4 }; /* CartPole-v1 */

typedef struct {
    const char *name;
    int T, N; /* global batch: T steps x N envs */
    int minibatches, epochs;
    bool norm_adv, clip_vloss;
    double max_grad_norm, lr;
    double scale_second_half; /* rewards and values of env columns [N/2, N) are multiplied by this */
    const char *algo;         /* NULL: ppo */
    bool baseline;
    double target_kl;
    int threads_one;          /* OpenMP threads of the 1-rank trainer (0: 1): its minibatch split over them */
    bool norm_adv_batch;
} eq_case;

/* One global (T, N) rollout, drawn from a fixed seed (identical on every rank). */
typedef struct {
    int T, N;
    float *obs, *actions, *logp, *values, *rewards, *boot, *last;
    uint8_t *term, *trunc;
} global_batch;

static void batch_make(global_batch *g, const eq_case *c)
{
    const int T = c->T, N = c->N;
    g->T = T;
    g->N = N;
    g->obs = malloc(sizeof(float) * (size_t)(T * N * OD));
    g->actions = malloc(sizeof(float) * (size_t)(T * N));
    g->logp = malloc(sizeof(float) * (size_t)(T * N));
    g->values = malloc(sizeof(float) * (size_t)(T * N));
    g->rewards = malloc(sizeof(float) * (size_t)(T * N));
    g->boot = malloc(sizeof(float) * (size_t)(T * N));
    g->last = malloc(sizeof(float) * (size_t)N);
    g->term = malloc((size_t)(T * N));
    g->trunc = malloc((size_t)(T * N));
    rng_t rng;
    rng_seed(&rng, 77);
    for (int t = 0; t < T; t++)
        for (int n = 0; n < N; n++) {
            const int i = t * N + n;
            const double s = n >= N / 2 ? c->scale_second_half : 1.0;
            for (int d = 0; d < OD; d++)
                g->obs[i * OD + d] = (float)rng_normal(&rng);
            g->actions[i] = (float)rng_below(&rng, 2);
            /* near log(1/2), the initial policy's: some ratios leave the clip range, some do not */
            g->logp[i] = (float)(-0.6931 + 0.25 * rng_normal(&rng));
            g->values[i] = (float)(s * 0.5 * rng_normal(&rng));
            g->rewards[i] = (float)(s * (1.0 + 0.5 * rng_normal(&rng)));
            const double u = rng_uniform(&rng);
            g->term[i] = u < 0.1;
            g->trunc[i] = u >= 0.1 && u < 0.15;
            g->boot[i] = g->trunc[i] ? (float)(s * rng_normal(&rng)) : 0.0f;
        }
    for (int n = 0; n < N; n++)
        g->last[n] = (float)((n >= N / 2 ? c->scale_second_half : 1.0) * rng_normal(&rng));
}

static void batch_free(global_batch *g)
{
    void *p[] = {g->obs, g->actions, g->logp, g->values, g->rewards, g->boot, g->last, g->term, g->trunc};
    for (size_t i = 0; i < sizeof p / sizeof p[0]; i++)
        free(p[i]);
}

/* Copies env columns [col0, col0 + ncols) of the global batch into a trainer's (T, ncols) rollout. */
static void batch_fill(trainer *tr, const global_batch *g, int col0, int ncols)
{
    rollout_view v = trainer_rollout_view(tr);
    for (int t = 0; t < g->T; t++)
        for (int k = 0; k < ncols; k++) {
            const int li = t * ncols + k, gi = t * g->N + col0 + k;
            memcpy(v.obs + (size_t)li * OD, g->obs + (size_t)gi * OD, sizeof(float) * OD);
            v.actions[li] = g->actions[gi];
            v.logprobs[li] = g->logp[gi];
            v.values[li] = g->values[gi];
            v.rewards[li] = g->rewards[gi];
            v.bootstrap[li] = g->boot[gi];
            v.terminated[li] = g->term[gi];
            v.truncated[li] = g->trunc[gi];
        }
    for (int k = 0; k < ncols; k++)
        v.last_values[k] = g->last[col0 + k];
}

static void case_config(ppo_config *cfg, const eq_case *c, int envs_per_rank)
{
    config_defaults(cfg);
    cfg->envs_per_rank = envs_per_rank;
    cfg->rollout_steps = c->T;
    cfg->minibatches = c->minibatches;
    cfg->epochs = c->epochs;
    cfg->norm_adv = c->norm_adv;
    cfg->clip_vloss = c->clip_vloss;
    cfg->max_grad_norm = c->max_grad_norm;
    cfg->lr = c->lr;
    cfg->threads = 1;
    cfg->total_steps = 100LL * c->T * c->N;
    cfg->seed = 5;
    cfg->gamma = 0.95;
    cfg->gae_lambda = 0.9;
    if (c->algo)
        snprintf(cfg->algo, sizeof cfg->algo, "%s", c->algo);
    cfg->baseline = c->baseline;
    cfg->target_kl = c->target_kl;
    cfg->norm_adv_batch = c->norm_adv_batch;
}

/* max |a - b| / (|a| + |b| + floor) over n floats */
static double max_rel_diff(const float *a, const float *b, size_t n, double floor)
{
    double worst = 0;
    for (size_t i = 0; i < n; i++) {
        const double d = fabs((double)a[i] - (double)b[i]) / (fabs((double)a[i]) + fabs((double)b[i]) + floor);
        if (d > worst)
            worst = d;
    }
    return worst;
}

static double max_abs(const float *a, size_t n)
{
    double m = 0;
    for (size_t i = 0; i < n; i++)
        m = fmax(m, fabs((double)a[i]));
    return m;
}

static void run_case(const eq_case *c)
{
    int rank;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    char err[512] = {0};
    ppo_config cfg1, cfg2;
    case_config(&cfg1, c, c->N);
    case_config(&cfg2, c, c->N / 2);
    cfg1.threads = c->threads_one > 0 ? c->threads_one : 1;
    par_layout par1, par2;
    par_layout_init(&par1, MPI_COMM_SELF, cfg1.threads); /* the trainer splits its work over these */
    trainer *one = trainer_create(&cfg1, &par1, err, sizeof err);
    CHECK(one, "%s: 1-rank trainer: %s", c->name, err);
    par_layout_init(&par2, MPI_COMM_WORLD, 1);
    trainer *two = trainer_create(&cfg2, &par2, err, sizeof err);
    CHECK(two, "%s: 2-rank trainer: %s", c->name, err);
    if (!one || !two)
        MPI_Abort(MPI_COMM_WORLD, 1);
    const size_t P = (size_t)trainer_param_count(one);
    CHECK(P == (size_t)trainer_param_count(two), "%s: parameter counts differ", c->name);
    CHECK(!memcmp(trainer_params(one), trainer_params(two), P * sizeof(float)),
          "%s: the two trainers start from different parameters", c->name);
    float *before = malloc(P * sizeof(float));
    memcpy(before, trainer_params(one), P * sizeof(float));

    global_batch g;
    batch_make(&g, c);
    batch_fill(one, &g, 0, c->N);
    batch_fill(two, &g, rank * (c->N / 2), c->N / 2);
    trainer_compute_advantages(one);
    trainer_compute_advantages(two);
    trainer_set_shuffle(one, false);
    trainer_set_shuffle(two, false);
    update_stats s1, s2;
    trainer_optimize(one, &s1);
    trainer_optimize(two, &s2);

    /* the last minibatch's averaged gradient (after clipping, identical in both layouts), where this
     * rank of the two holds it: its slice of the parameters, which the two ranks' slices cover */
    size_t lo, hi;
    trainer_grad_slice(two, &lo, &hi);
    const float *g1 = trainer_grads(one) + lo, *g2 = trainer_grads(two) + lo;
    const double gscale = max_abs(g1, hi - lo);
    const double grad_diff = max_rel_diff(g1, g2, hi - lo, 1e-3 * gscale);
    CHECK(gscale > 0, "%s: the gradient is zero", c->name);
    CHECK(grad_diff < 1e-4, "%s: gradients differ: max relative difference %.3g", c->name, grad_diff);

    const float *p1 = trainer_params(one), *p2 = trainer_params(two);
    double moved = 0;
    for (size_t i = 0; i < P; i++)
        moved = fmax(moved, fabs((double)p1[i] - before[i]));
    CHECK(moved > 0.5 * c->lr, "%s: the update did not move the parameters (max step %.3g)", c->name, moved);
    /* parameters: relative 1e-5, plus the gradients' tolerance carried through each Adam step: Adam
     * divides by the gradient's magnitude, so a parameter whose gradients are small or cancel between
     * minibatches moves by a full step either way, and the two layouts' rounding (which depends on
     * oneDNN's kernels: AVX-512 sums differently from AVX2) shows up as 1e-4 of a step per step at most */
    const double step_tol = 1e-4 * c->lr * (double)(s2.epochs * c->minibatches);
    double worst = 0;
    size_t worst_i = 0;
    for (size_t i = 0; i < P; i++) {
        const double d = fabs((double)p1[i] - (double)p2[i]) - 1e-5 * fmax(fabs((double)p1[i]), fabs((double)p2[i]));
        if (d > worst) {
            worst = d;
            worst_i = i;
        }
    }
    CHECK(worst <= step_tol, "%s: parameter %zu differs: 1 rank %.9g, 2 ranks %.9g", c->name, worst_i,
          (double)p1[worst_i], (double)p2[worst_i]);
    CHECK(trainer_params_agree(two), "%s: the 2 ranks' parameters differ", c->name);

    const double st1[] = {s1.policy_loss, s1.value_loss, s1.entropy, s1.approx_kl, s1.clip_fraction,
                          s1.explained_variance, s1.grad_norm, s1.learning_rate, (double)s1.global_step};
    const double st2[] = {s2.policy_loss, s2.value_loss, s2.entropy, s2.approx_kl, s2.clip_fraction,
                          s2.explained_variance, s2.grad_norm, s2.learning_rate, (double)s2.global_step};
    const char *names[] = {"policy_loss", "value_loss", "entropy", "approx_kl", "clip_fraction",
                           "explained_variance", "grad_norm", "learning_rate", "global_step"};
    for (size_t k = 0; k < sizeof st1 / sizeof st1[0]; k++)
        CHECK(fabs(st1[k] - st2[k]) <= 1e-4 * (fabs(st1[k]) + fabs(st2[k])) + 1e-7, "%s: %s: 1 rank %.9g, 2 ranks %.9g",
              c->name, names[k], st1[k], st2[k]);
    CHECK(s1.epochs == s2.epochs, "%s: epochs %d vs %d", c->name, s1.epochs, s2.epochs);
    if (c->target_kl > 0)
        CHECK(s2.epochs < c->epochs, "%s: target KL %g did not stop early (%d epochs)", c->name, c->target_kl, s2.epochs);
    if (rank == 0)
        printf("%-44s grad max rel diff %.2e, param max step %.2e, clip fraction %.3f, grad norm %.4g\n", c->name,
               grad_diff, moved, s2.clip_fraction, s2.grad_norm);
    free(before);
    batch_free(&g);
    trainer_free(one);
    trainer_free(two);
}

/* Several real rollouts and updates on 2 ranks (different envs on each): parameters stay bitwise
 * identical, by trainer_params_agree and by direct comparison with rank 0's; and the checksum
 * notices a one-ulp change on one rank. */
static void test_real_updates_agree(const char *label, int rank0_threads, int minibatches)
{
    int rank;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    ppo_config cfg;
    config_defaults(&cfg);
    cfg.envs_per_rank = 3;
    cfg.rollout_steps = 16;
    cfg.minibatches = minibatches;
    cfg.epochs = 3;
    cfg.threads = rank == 0 ? rank0_threads : 1;
    cfg.total_steps = 6 * 3 * 16 * 2;
    cfg.seed = 11;
    par_layout par;
    par_layout_init(&par, MPI_COMM_WORLD, cfg.threads);
    char err[512] = {0};
    trainer *tr = trainer_create(&cfg, &par, err, sizeof err);
    CHECK(tr, "real updates: %s", err);
    if (!tr)
        MPI_Abort(MPI_COMM_WORLD, 1);
    const size_t P = (size_t)trainer_param_count(tr);
    float *mine = malloc(P * sizeof(float)), *root = malloc(P * sizeof(float));
    memcpy(mine, trainer_params(tr), P * sizeof(float));
    for (int u = 0; u < 6; u++) {
        trainer_rollout(tr);
        update_stats st;
        trainer_optimize(tr, &st);
        CHECK(trainer_params_agree(tr), "real updates: checksums differ after update %d", u + 1);
        memcpy(root, trainer_params(tr), P * sizeof(float));
        MPI_Bcast(root, (int)P, MPI_FLOAT, 0, MPI_COMM_WORLD);
        CHECK(!memcmp(root, trainer_params(tr), P * sizeof(float)), "rank %d: parameters differ from rank 0's after update %d",
              rank, u + 1);
    }
    CHECK(memcmp(mine, trainer_params(tr), P * sizeof(float)) != 0, "real updates: the parameters never changed");
    /* the ranks did see different data: their first observations differ */
    double first_obs = trainer_rollout_view(tr).obs[0], other = first_obs;
    MPI_Bcast(&other, 1, MPI_DOUBLE, 0, MPI_COMM_WORLD);
    if (rank == 1)
        CHECK(first_obs != other, "real updates: both ranks saw the same observations");

    float *p = trainer_params(tr);
    const float keep = p[P / 2];
    if (rank == 1)
        p[P / 2] = nextafterf(keep, INFINITY);
    CHECK(!trainer_params_agree(tr), "rank %d: trainer_params_agree missed a one-ulp difference on rank 1", rank);
    p[P / 2] = keep;
    CHECK(trainer_params_agree(tr), "checksums differ after restoring the parameter");
    if (rank == 0)
        printf("%-44s 6 updates, parameters bitwise identical on both ranks\n", label);
    par_layout_init(&par, MPI_COMM_WORLD, 1);
    free(mine);
    free(root);
    trainer_free(tr);
}

/* Real rollouts, 1 rank x 4 envs vs 2 ranks x 2 envs: envs and action RNGs are seeded from the global
 * env index, so both layouts step the same four episodes; with 1 minibatch (the order of a minibatch
 * does not matter) every update must agree too, and so must the next rollouts. With norm_obs and
 * norm_reward the running statistics must be merged across ranks exactly as one rank computes them. */
static void test_real_rollouts_equivalent(const char *name, const char *env, bool normalise, bool sde)
{
    int rank;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    ppo_config cfg1, cfg2;
    config_defaults(&cfg1);
    snprintf(cfg1.env, sizeof cfg1.env, "%s", env);
    cfg1.rollout_steps = strcmp(env, "Pendulum-v1") ? 32 : 224;
    if (!strcmp(env, "CarRacing-v3")) /* the conv policy, ~1 ms a step per env (rendering): keep it short */
        cfg1.rollout_steps = 16; /* Pendulum's episodes are 200 steps: some must end */
    cfg1.sde = sde;
    cfg1.sde_sample_freq = 4;
    cfg1.minibatches = 1;
    cfg1.epochs = 3;
    cfg1.threads = 1;
    cfg1.seed = 9;
    cfg1.total_steps = 100000;
    cfg1.norm_obs = normalise;
    cfg1.norm_reward = normalise;
    cfg2 = cfg1;
    cfg1.envs_per_rank = 4;
    cfg2.envs_per_rank = 2;
    par_layout par1, par2;
    par_layout_init(&par1, MPI_COMM_SELF, 1);
    par_layout_init(&par2, MPI_COMM_WORLD, 1);
    char err[512] = {0};
    trainer *one = trainer_create(&cfg1, &par1, err, sizeof err);
    CHECK(one, "%s: 1-rank trainer: %s", name, err);
    trainer *two = trainer_create(&cfg2, &par2, err, sizeof err);
    CHECK(two, "%s: 2-rank trainer: %s", name, err);
    if (!one || !two)
        MPI_Abort(MPI_COMM_WORLD, 1);
    const size_t P = (size_t)trainer_param_count(one);
    const int T = cfg1.rollout_steps, od = trainer_spec(one)->obs_dim;
    const bool image = trainer_spec(one)->obs_kind == PPO_OBS_IMAGE; /* rollout pixels are bytes */
    const int ad = trainer_spec(one)->action_dim;
    long long px_differ = 0, px_total = 0;
    /* Discrete actions must match exactly. Continuous ones are network outputs (plus noise), and oneDNN
     * rounds a batch of 4 rows and one of 2 differently in the last bits: there the two layouts must
     * agree to a tolerance that a wrong noise stream (an O(1) difference) cannot meet. */
    const bool continuous = trainer_spec(one)->action_kind == PPO_ACTION_CONTINUOUS;
    const double act_tol = continuous ? 1e-2 : 0.0, obs_tol = continuous ? 1e-2 : 1e-4;
    const double params_tol = continuous ? 1e-3 : 1e-4; /* gSDE's noise sums 64 features: measured 2.3e-4 */
    double worst_params = 0, worst_obs = 0, worst_act = 0;
    int action_mismatch = 0, episodes = 0;
    for (int u = 0; u < 4 && !(continuous && u > 0); u++) { /* continuous: one rollout, before rounding compounds */
        trainer_rollout(one);
        trainer_rollout(two);
        rollout_view a = trainer_rollout_view(one), b = trainer_rollout_view(two);
        for (int t = 0; t < T; t++)
            for (int k = 0; k < 2; k++) {
                const int ia = t * 4 + rank * 2 + k, ib = t * 2 + k;
                for (int d = 0; d < ad; d++) { /* CarRacing: 3 floats per action */
                    const double xa = a.actions[ia * ad + d], ya = b.actions[ib * ad + d];
                    const double rel = fabs(xa - ya) / (fabs(xa) + fabs(ya) + 1e-3);
                    worst_act = fmax(worst_act, rel);
                    action_mismatch += rel > act_tol;
                }
                episodes += b.terminated[ib] + b.truncated[ib];
                for (int d = 0; d < od && image; d++) /* a car a float ulp away may cover one more pixel */
                    px_differ += a.obs_u8[(size_t)ia * od + d] != b.obs_u8[(size_t)ib * od + d];
                px_total += image ? od : 0;
                for (int d = 0; d < od && !image; d++) {
                    const double x = a.obs[ia * od + d], y = b.obs[ib * od + d];
                    worst_obs = fmax(worst_obs, fabs(x - y) / (fabs(x) + fabs(y) + 1e-3));
                }
            }
        update_stats s1, s2;
        trainer_optimize(one, &s1);
        trainer_optimize(two, &s2);
        worst_params = fmax(worst_params, max_rel_diff(trainer_params(one), trainer_params(two), P, 1e-3));
        CHECK(fabs(s1.value_loss - s2.value_loss) <= 1e-4 * fabs(s1.value_loss) + 1e-7,
              "%s: update %d: value loss %.9g (1 rank) vs %.9g (2 ranks)", name, u + 1, s1.value_loss, s2.value_loss);
    }
    CHECK(action_mismatch == 0, "rank %d: %s: %d actions differ between the layouts", rank, name, action_mismatch);
    CHECK(worst_obs <= obs_tol, "rank %d: %s: observations differ (max relative %.3g)", rank, name, worst_obs);
    CHECK(worst_params < params_tol, "rank %d: %s: parameters differ (max relative %.3g)", rank, name, worst_params);
    /* CarRacing's episodes are 1000 steps: none ends in a short rollout; its pixels are compared instead */
    CHECK(image || episodes > 0, "rank %d: %s: no episode ended, the comparison is weak", rank, name);
    CHECK(!image || px_differ <= px_total / 10000, "rank %d: %s: %lld of %lld rollout pixels differ", rank, name,
          px_differ, px_total);
    if (rank == 0)
        printf("%-44s %s: actions max rel diff %.2e, obs %.2e, params %.2e\n", name,
               continuous ? "1 update" : "4 updates", worst_act, worst_obs, worst_params);
    trainer_free(one);
    trainer_free(two);
}

int main(int argc, char **argv)
{
    int provided; /* as ppo: a team's first thread calls MPI */
    MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
    int size;
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    if (size != 2) {
        fprintf(stderr, "run with mpirun -n 2\n");
        MPI_Finalize();
        return 77;
    }
    const eq_case cases[] = {
        /* name                                          T  N  M  E  norm   clipv  maxgn  lr    scale  algo, baseline, target_kl, threads_one, norm_adv_batch */
        {"1 minibatch, 1 epoch, no grad clip",            8, 4, 1, 1, true,  true,  0.0,  1e-2, 1.0, NULL, true, 0, 0, false},
        {"1 minibatch, 1 epoch, grad clip 0.5",           8, 4, 1, 1, true,  true,  0.5,  1e-2, 1.0, NULL, true, 0, 0, false},
        {"4 minibatches, 2 epochs, no norm_adv",          8, 6, 4, 2, false, false, 0.0,  3e-3, 1.0, NULL, true, 0, 0, false},
        {"2 minibatches, 3 epochs, norm_adv, grad clip",  8, 4, 2, 3, true,  true,  0.5,  3e-3, 1.0, NULL, true, 0, 0, false},
        {"norm_adv, rank 1's half scaled x100",           8, 4, 1, 1, true,  false, 0.0,  1e-2, 100.0, NULL, true, 0, 0, false},
        {"norm_adv, 2 minibatches, rank 1's half x0.01",  8, 4, 2, 1, true,  true,  0.0,  1e-2, 0.01, NULL, true, 0, 0, false},
        {"target KL stops after the first epoch",         8, 4, 2, 4, true,  true,  0.5,  1e-2, 1.0, NULL, true, 1e-6, 0, false},
        {"a2c (no ratio clipping)",                       8, 4, 1, 1, false, false, 0.5,  7e-3, 1.0, "a2c", true, 0, 0, false},
        {"reinforce without baseline",                    8, 4, 1, 1, true,  false, 0.5,  1e-2, 1.0, "reinforce", false, 0, 0, false},
        {"norm_adv over the batch, rank 1's half x100",   8, 4, 2, 2, true,  true,  0.5,  1e-2, 100.0, NULL, true, 0, 0, true},
        {"1 rank x 2 threads (rows split) vs 2 ranks",    8, 8, 2, 2, true,  true,  0.5,  3e-3, 1.0, NULL, true, 0, 2, false},
        {"2 threads, norm_adv over the batch, x0.01",     8, 8, 2, 2, true,  false, 0.0,  3e-3, 0.01, NULL, true, 0, 2, true},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++)
        run_case(&cases[k]);
    test_real_updates_agree("real rollouts + updates", 1, 4);
    /* rank 0 splits each minibatch over 3 threads, rank 1 does not: the ranks must still agree */
    test_real_updates_agree("rank 0 x 3 threads, rank 1 x 1 thread", 3, 1);
    test_real_rollouts_equivalent("real rollouts", "CartPole-v1", false, false);
    test_real_rollouts_equivalent("real rollouts, norm_obs + norm_reward", "CartPole-v1", true, false);
    test_real_rollouts_equivalent("real rollouts, Pendulum, Gaussian", "Pendulum-v1", false, false);
    test_real_rollouts_equivalent("real rollouts, Pendulum, gSDE every 4 steps", "Pendulum-v1", false, true);
    test_real_rollouts_equivalent("real rollouts, CarRacing, conv policy (small)", "CarRacing-v3", false, false);
    test_real_rollouts_equivalent("real rollouts, CarRacing, conv policy, gSDE", "CarRacing-v3", false, true);

    int fails = check_failures, all = 0;
    MPI_Allreduce(&fails, &all, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    MPI_Finalize();
    if (all)
        fprintf(stderr, "%d check(s) failed on this rank, %d on all ranks\n", fails, all);
    return all ? 1 : 0;
}
