/* eval_schedule: --eval-every's evaluations, spread over the ranks, gathered and logged on rank 0. */
#include "ppo/eval_schedule.h"

#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ppo/eval.h"
#include "util/rng.h"

#define EVAL_STREAM 0xe7a1e7a1c0ffee00ULL /* mixed into the run seed: the eval episodes' own stream */

struct eval_schedule {
    trainer *tr;
    const par_layout *par;
    const ppo_config *cfg;
    eval_schedule_run run;
    char best_path[CONFIG_PATH];
    char run_id[CHECKPOINT_RUN_ID];
    int episodes;           /* per evaluation, all ranks */
    int first, count;       /* this rank's episodes [first, first + count) */
    eval_runner *runner;    /* NULL when count is 0 */
    uint64_t *seeds;        /* (count,) */
    eval_episode *mine;     /* (count,) */
    eval_episode *all;      /* rank 0: (episodes,) in episode order */
    log_eval_episode *rows; /* rank 0: (episodes,) */
    int *counts, *displs;   /* rank 0: Gatherv bytes per rank */
};

uint64_t eval_schedule_seed(long long run_seed, long long update, int episode)
{
    return rng_mix(rng_mix((uint64_t)run_seed ^ EVAL_STREAM, (uint64_t)update), (uint64_t)episode);
}

/* Rank r's share of E episodes over P ranks: [E r / P, E (r + 1) / P). */
static int share_first(int E, int P, int r) { return (int)((long long)E * r / P); }

void eval_schedule_free(eval_schedule *s)
{
    if (!s)
        return;
    eval_runner_free(s->runner);
    free(s->seeds);
    free(s->mine);
    free(s->all);
    free(s->rows);
    free(s->counts);
    free(s->displs);
    free(s);
}

eval_schedule *eval_schedule_create(trainer *tr, const par_layout *par, const ppo_config *cfg,
                                    const eval_schedule_run *run, char *err, size_t err_len)
{
    err[0] = 0;
    if (cfg->eval_every <= 0)
        return NULL;
    eval_schedule *s = calloc(1, sizeof *s);
    const int E = cfg->eval_every_episodes, P = par->size;
    if (s) {
        s->tr = tr;
        s->par = par;
        s->cfg = cfg;
        s->run = *run;
        snprintf(s->best_path, sizeof s->best_path, "%s", run->best_path);
        snprintf(s->run_id, sizeof s->run_id, "%s", run->run_id);
        s->run.best_path = s->best_path;
        s->run.run_id = s->run_id;
        s->episodes = E;
        s->first = share_first(E, P, par->rank);
        s->count = share_first(E, P, par->rank + 1) - s->first;
        s->seeds = malloc(sizeof *s->seeds * (size_t)(s->count ? s->count : 1));
        s->mine = malloc(sizeof *s->mine * (size_t)(s->count ? s->count : 1));
        if (par->rank == 0) {
            s->all = malloc(sizeof *s->all * (size_t)E);
            s->rows = malloc(sizeof *s->rows * (size_t)E);
            s->counts = malloc(sizeof *s->counts * (size_t)P);
            s->displs = malloc(sizeof *s->displs * (size_t)P);
        }
    }
    if (!s || !s->seeds || !s->mine || (par->rank == 0 && (!s->all || !s->rows || !s->counts || !s->displs)))
        snprintf(err, err_len, "out of memory for %d evaluation episodes", E);
    else if (s->count > 0)
        s->runner = eval_runner_create(trainer_model(tr), trainer_params(tr), cfg->env, cfg->env_options, s->count,
                                       false, err, err_len);
    if (par->rank == 0 && s && s->counts)
        for (int r = 0; r < P; r++) {
            s->displs[r] = share_first(E, P, r) * (int)sizeof(eval_episode);
            s->counts[r] = (share_first(E, P, r + 1) - share_first(E, P, r)) * (int)sizeof(eval_episode);
        }
    if (!par_all_ok(par, err[0] == 0)) {
        if (!err[0])
            snprintf(err, err_len, "another rank could not set up its evaluation envs");
        par_bcast_error(par, err, (int)err_len);
        eval_schedule_free(s);
        return NULL;
    }
    return s;
}

/* Rank 0: saves the trainer's policy (parameters and observation statistics, no training state) as
 * the run's best. */
static int save_best(eval_schedule *s, long long update, char *err, size_t err_len)
{
    const ppo_config *cfg = s->cfg;
    checkpoint ck = {0};
    snprintf(ck.env, sizeof ck.env, "%s", cfg->env);
    snprintf(ck.env_options, sizeof ck.env_options, "%s", cfg->env_options);
    snprintf(ck.net, sizeof ck.net, "%s", trainer_model(s->tr)->has_conv ? "cnn" : "mlp");
    snprintf(ck.cnn, sizeof ck.cnn, "%s", trainer_model(s->tr)->has_conv ? cfg->cnn : "");
    ck.frame_stack = trainer_model(s->tr)->has_conv ? trainer_model(s->tr)->frames : 1;
    ck.grayscale = trainer_model(s->tr)->has_conv && trainer_model(s->tr)->grayscale;
    ck.resize = trainer_model(s->tr)->has_conv ? trainer_model(s->tr)->resize : 0;
    ck.frame_skip = trainer_model(s->tr)->frame_skip;
    snprintf(ck.hidden, sizeof ck.hidden, "%s", cfg->hidden);
    snprintf(ck.activation, sizeof ck.activation, "%s", cfg->activation);
    snprintf(ck.run_id, sizeof ck.run_id, "%s", s->run_id);
    ck.shared_trunk = cfg->shared_trunk;
    ck.sde = cfg->sde;
    ck.global_step = update * trainer_steps_per_update(s->tr);
    ck.n_params = (size_t)trainer_param_count(s->tr);
    ck.params = trainer_params(s->tr);
    const running_stats *os = trainer_obs_stats(s->tr);
    if (os) {
        ck.obs_norm_dim = os->dim;
        ck.obs_norm_count = os->count;
        ck.obs_norm_mean = os->mean;
        ck.obs_norm_var = os->var;
        ck.clip_obs = cfg->clip_obs;
    }
    return checkpoint_save(s->best_path, s->run.mode, &ck, NULL, err, err_len);
}

/* Rank 0: the gathered episodes into the log, the best policy when beaten, the eval line. */
static int record_evaluation(eval_schedule *s, long long update, double wall, double seconds, h5log *log, char *err,
                             size_t err_len)
{
    const ppo_env_spec *spec = trainer_spec(s->tr);
    eval_result res;
    eval_summarize(s->all, s->episodes, spec, &res);
    const bool best = res.mean > s->run.best;
    if (best && !h5log_is_at(log, s->cfg->log)) {
        snprintf(err, err_len, "log %s was replaced by another run meanwhile (two runs with --force on one --log?); "
                 "this run stops without writing %s", s->cfg->log, s->best_path);
        return -1;
    }
    if (best && save_best(s, update, err, err_len))
        return -1;
    if (best)
        s->run.best = res.mean;
    const log_eval row = {
        .update = update, .global_step = update * trainer_steps_per_update(s->tr), .episodes = s->episodes,
        .wall_time = wall, .seconds = seconds, .return_mean = res.mean, .return_std = res.std,
        .return_min = res.min, .return_max = res.max, .length_mean = res.mean_length, .new_best = best,
    };
    for (int e = 0; e < s->episodes; e++)
        s->rows[e] = (log_eval_episode){update, e, (int64_t)s->all[e].seed, s->all[e].length, s->all[e].ret,
                                        s->all[e].terminated};
    if (h5log_append_eval(log, &row, s->rows, s->episodes, err, err_len) || h5log_flush(log, err, err_len))
        return -1;
    char tail[CONFIG_PATH + 64];
    if (best)
        snprintf(tail, sizeof tail, "new best: %s", s->best_path);
    else
        snprintf(tail, sizeof tail, "best %.2f", s->run.best);
    printf("%seval: update %lld/%lld  steps %lld  %d episodes, greedy: return %.2f +- %.2f (min %.2f, max %.2f)  "
           "%.1fs  %s\n",
           s->run.live ? "\n" : "", update, trainer_updates_total(s->tr), (long long)row.global_step, s->episodes,
           res.mean, res.std, res.min, res.max, seconds, tail);
    fflush(stdout);
    return 0;
}

bool eval_schedule_due(const eval_schedule *s, long long update)
{
    return s && update > 0 && update % s->cfg->eval_every == 0;
}

int eval_schedule_after_update(eval_schedule *s, long long update, double wall, h5log *log, char *err, size_t err_len)
{
    err[0] = 0;
    if (!eval_schedule_due(s, update))
        return 0;
    const par_layout *par = s->par;
    const double t0 = omp_get_wtime();
    int rc = 0;
    if (s->count > 0) {
        for (int i = 0; i < s->count; i++)
            s->seeds[i] = eval_schedule_seed(s->cfg->seed, update, s->first + i);
        rc = eval_runner_run(s->runner, trainer_obs_stats(s->tr), s->cfg->clip_obs, s->seeds, s->count, true, s->mine,
                             err, err_len);
    }
    if (!par_all_ok(par, rc == 0)) {
        if (par->rank == 0 && rc == 0)
            snprintf(err, err_len, "the evaluation after update %lld failed on another rank", update);
        else if (par->rank == 0) {
            char why[512];
            snprintf(why, sizeof why, "%s", err);
            snprintf(err, err_len, "the evaluation after update %lld: %s", update, why);
        }
        par_bcast_error(par, err, (int)err_len);
        return -1;
    }
    MPI_Gatherv(s->mine, s->count * (int)sizeof(eval_episode), MPI_BYTE, s->all, s->counts, s->displs, MPI_BYTE, 0,
                par->comm);
    if (par->rank == 0)
        record_evaluation(s, update, wall, omp_get_wtime() - t0, log, err, err_len);
    return par_bcast_error(par, err, (int)err_len) ? 0 : -1;
}

int eval_schedule_final(trainer *tr, const par_layout *par, const ppo_config *cfg, int episodes, uint64_t seed0,
                        eval_result *out, char *err, size_t err_len)
{
    err[0] = 0;
    const int P = par->size, first = share_first(episodes, P, par->rank);
    const int count = share_first(episodes, P, par->rank + 1) - first;
    uint64_t *seeds = malloc(sizeof *seeds * (size_t)(count ? count : 1));
    eval_episode *mine = malloc(sizeof *mine * (size_t)(count ? count : 1));
    eval_episode *all = NULL;
    int *counts = NULL, *displs = NULL;
    if (par->rank == 0) {
        all = malloc(sizeof *all * (size_t)episodes);
        counts = malloc(sizeof *counts * (size_t)P);
        displs = malloc(sizeof *displs * (size_t)P);
    }
    eval_runner *runner = NULL;
    if (!seeds || !mine || (par->rank == 0 && (!all || !counts || !displs)))
        snprintf(err, err_len, "out of memory for %d evaluation episodes", episodes);
    else if (count > 0 && (runner = eval_runner_create(trainer_model(tr), trainer_params(tr), cfg->env,
                                                       cfg->env_options, count, false, err, err_len))) {
        for (int i = 0; i < count; i++)
            seeds[i] = seed0 + (uint64_t)(first + i);
        if (eval_runner_run(runner, trainer_obs_stats(tr), cfg->clip_obs, seeds, count, true, mine, err, err_len) &&
            !err[0])
            snprintf(err, err_len, "an evaluation episode failed");
    }
    int rc = 0;
    if (!par_all_ok(par, err[0] == 0)) {
        if (par->rank == 0 && !err[0])
            snprintf(err, err_len, "the evaluation failed on another rank");
        par_bcast_error(par, err, (int)err_len);
        rc = -1;
    } else {
        for (int r = 0; par->rank == 0 && r < P; r++) {
            displs[r] = share_first(episodes, P, r) * (int)sizeof(eval_episode);
            counts[r] = (share_first(episodes, P, r + 1) - share_first(episodes, P, r)) * (int)sizeof(eval_episode);
        }
        MPI_Gatherv(mine, count * (int)sizeof(eval_episode), MPI_BYTE, all, counts, displs, MPI_BYTE, 0, par->comm);
        if (par->rank == 0)
            eval_summarize(all, episodes, trainer_spec(tr), out);
    }
    eval_runner_free(runner);
    free(seeds);
    free(mine);
    free(all);
    free(counts);
    free(displs);
    return rc;
}
