/* The trainer's insides, shared by the three files that make it up; other modules use ppo/trainer.h.
 *
 * trainer.c builds a rank's trainer (envs, network, workers, every buffer) and holds its state for
 * checkpoints; trainer_rollout.c runs the policy and steps the envs through a rollout, then GAE;
 * trainer_optimize.c runs the epochs of minibatch updates. Every buffer is sized from the config in
 * trainer_create; the loop allocates nothing and creates no oneDNN primitive. Each env has its own env
 * RNG and action RNG, seeded from (run seed, global env index), and a rank's threads are workers with
 * fixed shares (envs for inference and stepping, minibatch rows for the gradient, parameter ranges for
 * Adam), so a run depends on the seed and the ranks x threads layout, never on the OpenMP schedule.
 * Every phase charges its time to the clock. Image envs (CarRacing-v3) train the conv policy: each
 * env's frames go through the pixel wrappers (ppo/pixels.h) into a byte stack, the rollout keeps those
 * bytes, and the conv passes load them (scaled by 1/255) for inference and, by row index, for each
 * minibatch. */
#ifndef PPO_PPO_TRAINER_INTERNAL_H
#define PPO_PPO_TRAINER_INTERNAL_H

#include <ppo/env.h>

#include "ppo/pixels.h"
#include "ppo/trainer.h"
#include "runtime/grad_reduce.h"
#include "util/rng.h"

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

typedef struct { /* arguments of a single worker's call, for run_unthreaded */
    trainer *t;
    const float *raw;
    int step;
    int bad, any_trunc;
    const int *idx;
    bool norm;
    double mean, inv_std;
} solo_call;

/* The seed env n's RNG was last seeded with (its episodes continue that stream). */
uint64_t trainer_env_seed(const trainer *t, int n);
/* fn(arg) on the calling thread, inside a parallel region when the rank has threads (trainer.c). */
void trainer_run_unthreaded(void (*fn)(void *), void *arg);
/* Value of each env's raw observation rows (N, od), through the workers' inference: (N,). */
const float *trainer_infer_values(trainer *t, const float *raw);
/* Env n starts an episode: its float row in cur_obs and, for image envs, a new frame stack. */
void trainer_env_reset_row(trainer *t, int n);

#endif
