/* trainer_optimize: the epochs of minibatch updates on a rollout: the shuffle, each minibatch's gradient
 * split over the workers, its sum over the ranks, clipping and the optimizer step, and the update's
 * statistics reduced over the ranks. */
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "ppo/trainer_internal.h"
#include "runtime/grad_reduce.h"
#include "util/simd.h"

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
    if (G == 1) { /* as in trainer_infer_values: a minibatch too small to split is too small for oneDNN's threads */
        worker_gather(t, &t->workers[0], idx);
        trainer_run_unthreaded(solo_gradient, &(solo_call){.t = t, .norm = norm, .mean = mean, .inv_std = inv_std});
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
