/* trainer_state: trainer <-> training checkpoint. */
#include "ppo/trainer_state.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ppo/run_options.h"

enum { OPTIONS_TEXT = 16384 };

int trainer_state_save(trainer *tr, const par_layout *par, const ppo_config *cfg, const char *path,
                       const trainer_state_info *info, bool replace_any, const char *refuse, char *err,
                       size_t err_len)
{
    const size_t words = trainer_rng_words(tr), env_bytes = trainer_env_state_size(tr);
    uint64_t *mine = malloc(words * sizeof *mine);
    uint64_t *all = par->rank == 0 ? malloc(words * (size_t)par->size * sizeof *all) : NULL;
    unsigned char *my_envs = env_bytes ? malloc(env_bytes) : NULL;
    unsigned char *all_envs = env_bytes && par->rank == 0 ? malloc(env_bytes * (size_t)par->size) : NULL;
    if (my_envs)
        trainer_save_envs(tr, my_envs);
    if (env_bytes)
        MPI_Gather(my_envs, (int)env_bytes, MPI_BYTE, all_envs, (int)env_bytes, MPI_BYTE, 0, par->comm);
    char *opts = par->rank == 0 ? malloc(OPTIONS_TEXT) : NULL;
    adam_state *adam = trainer_adam_gathered(tr); /* collective */
    err[0] = 0;
    if (!mine || (par->rank == 0 && (!all || !opts)))
        snprintf(err, err_len, "out of memory writing checkpoint %s", path);
    else
        trainer_save_rngs(tr, mine);
    MPI_Gather(mine, (int)words, MPI_UINT64_T, all, (int)words, MPI_UINT64_T, 0, par->comm);
    if (par->rank == 0 && !err[0] && refuse)
        snprintf(err, err_len, "%s", refuse);
    if (par->rank == 0 && !err[0]) {
        run_options_text(cfg, opts, OPTIONS_TEXT);
        checkpoint ck = {0};
        snprintf(ck.env, sizeof ck.env, "%s", cfg->env);
        snprintf(ck.env_options, sizeof ck.env_options, "%s", cfg->env_options);
        snprintf(ck.net, sizeof ck.net, "%s", trainer_model(tr)->has_conv ? "cnn" : "mlp");
        snprintf(ck.cnn, sizeof ck.cnn, "%s", trainer_model(tr)->has_conv ? cfg->cnn : "");
        ck.frame_stack = trainer_model(tr)->has_conv ? trainer_model(tr)->frames : 1;
        ck.grayscale = trainer_model(tr)->has_conv && trainer_model(tr)->grayscale;
        ck.resize = trainer_model(tr)->has_conv ? trainer_model(tr)->resize : 0;
        ck.frame_skip = trainer_model(tr)->frame_skip;
        snprintf(ck.hidden, sizeof ck.hidden, "%s", cfg->hidden);
        snprintf(ck.activation, sizeof ck.activation, "%s", cfg->activation);
        snprintf(ck.run_id, sizeof ck.run_id, "%s", info->run_id);
        ck.shared_trunk = cfg->shared_trunk;
        ck.sde = cfg->sde;
        ck.global_step = trainer_update_count(tr) * trainer_steps_per_update(tr);
        ck.n_params = (size_t)trainer_param_count(tr);
        ck.params = trainer_params(tr);
        const running_stats *os = trainer_obs_stats(tr), *rs = trainer_return_stats(tr);
        if (os) {
            ck.obs_norm_dim = os->dim;
            ck.obs_norm_count = os->count;
            ck.obs_norm_mean = os->mean;
            ck.obs_norm_var = os->var;
            ck.clip_obs = cfg->clip_obs;
        }
        train_state ts = {
            .present = true, .update = trainer_update_count(tr), .resumes = info->resumes, .wall_time = info->wall,
            .ranks = par->size, .envs_per_rank = cfg->envs_per_rank, .adam_step = adam->step,
            .adam_m = adam->m, .adam_v = adam->v, .rng = (unsigned long long *)all, .rng_per_rank = words,
            .options = opts,
            .env_state = all_envs, .env_state_per_rank = env_bytes,
            .has_return_stats = rs != NULL,
            .ret_count = rs ? rs->count : 0, .ret_mean = rs ? rs->mean[0] : 0, .ret_var = rs ? rs->var[0] : 0,
        };
        checkpoint_save(path, replace_any ? CHECKPOINT_REPLACE_ANY : CHECKPOINT_REPLACE_OWN, &ck, &ts, err, err_len);
    }
    free(mine);
    free(all);
    free(opts);
    free(my_envs);
    free(all_envs);
    return par_bcast_error(par, err, (int)err_len) ? 0 : -1;
}

/* The checkpoint's header (no arrays): training state present, written by as many ranks, same options. */
static void check_header(const char *path, const par_layout *par, const ppo_config *cfg, char *err, size_t err_len)
{
    checkpoint ck;
    train_state ts;
    if (checkpoint_load_header(path, &ck, &ts, err, err_len))
        return;
    if (!ts.present)
        snprintf(err, err_len, "%s is a policy checkpoint without training state; it cannot be resumed", path);
    else if (ts.ranks != par->size)
        snprintf(err, err_len,
                 "checkpoint %s was written by %d ranks; resume it with mpirun -n %d (the RNG and env state is per rank)",
                 path, ts.ranks, ts.ranks);
    else
        run_options_mismatch(ts.options, cfg, err, err_len);
    train_state_free(&ts);
}

/* The loaded arrays agree with each other and with this trainer. */
static void check_loaded(trainer *tr, const ppo_config *cfg, const char *path, const checkpoint *ck,
                         const train_state *ts, char *err, size_t err_len)
{
    const running_stats *os = trainer_obs_stats(tr);
    /* the run is rebuilt from the saved options; the attributes that describe its network must agree */
    const policy_model *pm = trainer_model(tr);
    const int frames = pm->has_conv ? pm->frames : 1, resize = pm->has_conv ? pm->resize : 0;
    const int skip = pm->frame_skip > 1 ? pm->frame_skip : 1;
    const bool gray = pm->has_conv && pm->grayscale;
    if (!ts->present) /* the header said it was there: the file changed meanwhile */
        snprintf(err, err_len, "%s is a policy checkpoint without training state; it cannot be resumed", path);
    else if (!os != !ck->obs_norm_dim)
        snprintf(err, err_len, "checkpoint %s: %s observation statistics, this run %s them (corrupt?)", path,
                 ck->obs_norm_dim ? "has" : "lacks", os ? "needs" : "does not use");
    else if (ck->global_step != ts->update * trainer_steps_per_update(tr))
        snprintf(err, err_len, "checkpoint %s: global_step %lld is not its %lld updates x %lld steps (corrupt?)",
                 path, ck->global_step, ts->update, trainer_steps_per_update(tr));
    else if (strcmp(ck->net, pm->has_conv ? "cnn" : "mlp") || ck->frame_stack != frames || ck->grayscale != gray ||
             ck->resize != resize || ck->frame_skip != skip)
        snprintf(err, err_len, "checkpoint %s: its attributes (net %s, frame_stack %d, grayscale %d, resize %d, "
                 "frame_skip %d) disagree with its saved options (net %s, %d, %d, %d, %d) (corrupt?)", path, ck->net,
                 ck->frame_stack, ck->grayscale, ck->resize, ck->frame_skip, pm->has_conv ? "cnn" : "mlp", frames,
                 gray, resize, skip);
    else if (strcmp(ck->env, cfg->env) || strcmp(ck->env_options, cfg->env_options) || strcmp(ck->hidden, cfg->hidden) ||
             strcmp(ck->activation, cfg->activation) || ck->shared_trunk != cfg->shared_trunk || ck->sde != cfg->sde)
        /* the same parameter count does not make the same policy: tanh weights trained on as relu, or
         * one env's policy on another's */
        snprintf(err, err_len, "checkpoint %s: its attributes (env %.64s, env_options '%.64s', hidden %s, activation %s, "
                 "shared_trunk %d, sde %d) disagree with its saved options (%.64s, '%.64s', %s, %s, %d, %d) (corrupt?)",
                 path, ck->env, ck->env_options, ck->hidden, ck->activation, ck->shared_trunk, ck->sde, cfg->env,
                 cfg->env_options, cfg->hidden, cfg->activation, cfg->shared_trunk, cfg->sde);
    else if (ts->env_state && !trainer_env_state_size(tr))
        snprintf(err, err_len, "checkpoint %s: /train/env_state is present, but this env's state is not saved "
                 "(corrupt?)", path);
}

/* Puts the trainer in the loaded state; an env state that does not restore is an error. */
static void restore(trainer *tr, const par_layout *par, const char *path, const checkpoint *ck, const train_state *ts,
                    trainer_state_info *info, char *err, size_t err_len)
{
    adam_state *adam = trainer_adam(tr);
    memcpy(trainer_params(tr), ck->params, ck->n_params * sizeof(float));
    memcpy(adam->m, ts->adam_m, ck->n_params * sizeof(float));
    memcpy(adam->v, ts->adam_v, ck->n_params * sizeof(float));
    adam->step = ts->adam_step;
    trainer_load_rngs(tr, (const uint64_t *)ts->rng + (size_t)par->rank * ts->rng_per_rank);
    running_stats *obs = trainer_obs_stats(tr), *rs = trainer_return_stats(tr);
    if (obs) {
        obs->count = ck->obs_norm_count;
        memcpy(obs->mean, ck->obs_norm_mean, sizeof(double) * (size_t)obs->dim);
        memcpy(obs->var, ck->obs_norm_var, sizeof(double) * (size_t)obs->dim);
    }
    if (rs && ts->has_return_stats) {
        rs->count = ts->ret_count;
        rs->mean[0] = ts->ret_mean;
        rs->var[0] = ts->ret_var;
    }
    info->update = ts->update;
    info->resumes = ts->resumes + 1;
    info->wall = ts->wall_time;
    snprintf(info->run_id, sizeof info->run_id, "%s", ck->run_id);
    info->exact_envs = ts->env_state != NULL; /* of this run's size: checkpoint_load checked */
    const int bad = trainer_resume(tr, ts->update, info->resumes,
                                   info->exact_envs ? ts->env_state + (size_t)par->rank * ts->env_state_per_rank : NULL);
    if (bad >= 0)
        snprintf(err, err_len, "checkpoint %s: env %d of rank %d: its saved state is not valid (corrupt, or "
                 "written by another build of the physics)", path, bad, par->rank);
}

int trainer_state_load(trainer *tr, const par_layout *par, const ppo_config *cfg, const char *path,
                       trainer_state_info *info, char *err, size_t err_len)
{
    err[0] = 0;
    check_header(path, par, cfg, err, err_len);
    const running_stats *os = trainer_obs_stats(tr);
    const checkpoint_expect want = {
        .n_params = (size_t)trainer_param_count(tr), .obs_dim = os ? os->dim : 0, .ranks = par->size,
        .rng_per_rank = trainer_rng_words(tr), .env_state_per_rank = trainer_env_state_size(tr),
    };
    checkpoint ck;
    train_state ts;
    if (!err[0] && checkpoint_load(path, &want, &ck, &ts, err, err_len) == 0) {
        check_loaded(tr, cfg, path, &ck, &ts, err, err_len);
        if (!err[0])
            restore(tr, par, path, &ck, &ts, info, err, err_len);
        checkpoint_free(&ck);
        train_state_free(&ts);
    }
    /* every rank read the same file: agree before going on */
    if (!par_all_ok(par, err[0] == 0)) {
        if (!err[0])
            snprintf(err, err_len, "another rank could not load checkpoint %s", path);
        return -1;
    }
    return 0;
}
