/* eval_schedule: the greedy evaluation during training (--eval-every N, as rl-baselines3-zoo's
 * EvalCallback). Every N updates each rank runs its share of --eval-every-episodes episodes on its own
 * eval envs, rank 0 gathers them in episode order, logs /eval and /eval_episodes, prints an `eval:`
 * line and, when the mean beats every earlier evaluation of the run, saves the policy as the run's best
 * (LOG.best.policy.h5). Episode seeds come from a stream of their own (run seed, update, episode), and
 * nothing here touches the trainer's RNGs, envs or buffers: a run trains bit for bit the same with and
 * without it. eval_schedule_final spreads the evaluation at the end of a run the same way. Collective
 * over par->comm, except where noted. */
#ifndef PPO_PPO_EVAL_SCHEDULE_H
#define PPO_PPO_EVAL_SCHEDULE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "log/checkpoint.h"
#include "log/h5log.h"
#include "ppo/config.h"
#include "ppo/eval.h"
#include "ppo/trainer.h"
#include "runtime/parallel.h"

typedef struct eval_schedule eval_schedule;

/* What the schedule needs of the run besides the trainer. */
typedef struct {
    const char *best_path;  /* where the best policy goes */
    const char *run_id;     /* written into it */
    double best;            /* rank 0: the best mean so far (a resumed run's, h5log_eval_best); -inf for a new run */
    checkpoint_mode mode;   /* how the best policy replaces a file at best_path */
    bool live;              /* the progress line is redrawn in place: start the eval line on a new line */
} eval_schedule_run;

/* Builds this rank's eval envs and network pass over the trainer's parameters. Returns NULL with err
 * (the same on every rank) when that fails, NULL with err empty when cfg->eval_every is 0. */
eval_schedule *eval_schedule_create(trainer *tr, const par_layout *par, const ppo_config *cfg,
                                    const eval_schedule_run *run, char *err, size_t err_len);
void eval_schedule_free(eval_schedule *s);

/* The seed of episode `episode` of the evaluation after update `update` (a stream no training env's
 * seed is drawn from). Not collective. */
uint64_t eval_schedule_seed(long long run_seed, long long update, int episode);

/* Whether an evaluation is due after `update` (a multiple of eval_every; s may be NULL). Not collective. */
bool eval_schedule_due(const eval_schedule *s, long long update);

/* Evaluates after `update` (just completed) when it is due; wall: training
 * seconds so far. log: rank 0's. Returns 0, or -1 with err (the same on every rank) when an episode
 * failed or the log or the best policy could not be written. */
int eval_schedule_after_update(eval_schedule *s, long long update, double wall, h5log *log, char *err, size_t err_len);

/* The greedy evaluation at the end of a run (--eval-episodes): episodes of seeds seed0 .. seed0 +
 * episodes - 1, spread over the ranks as the periodic ones are, summarized on rank 0 (out: rank 0's).
 * An episode's result does not depend on how many episodes share its batch (an inference pass rounds
 * a row alike in any batch; image policies' convolutions and nets wider than 2^14 multiply-adds
 * per row excepted), so the summary is what one rank playing all of them gives, in 1/P of the time.
 * Returns 0, or -1 with err (the same on every rank). */
int eval_schedule_final(trainer *tr, const par_layout *par, const ppo_config *cfg, int episodes, uint64_t seed0,
                        eval_result *out, char *err, size_t err_len);

#endif
