/* `ppo [train]`: parse options, check and open the run's files, run the updates, save the policy.
 * Collective. Each step below returns CONTINUE or the process's exit status (the same on every rank). */
#include <limits.h>
#include <malloc.h>
#include <math.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/commands.h"
#include "cli/fault_hooks.h"
#include "cli/progress.h"
#include "cli/run_gather.h"
#include "envs/env_class.h"
#include "log/checkpoint.h"
#include "log/h5log.h"
#include "log/run_files.h"
#include "nn/mlp.h"
#include "ppo/eval.h"
#include "ppo/eval_schedule.h"
#include "ppo/presets.h"
#include "ppo/run_options.h"
#include "ppo/trainer.h"
#include "ppo/trainer_state.h"
#include "runtime/signals.h"

#ifndef PPO_VERSION
#define PPO_VERSION "0.0.0"
#endif

enum { CONTINUE = -1 };

/* One training run: the options, where its files are, the trainer and what it resumed from. */
typedef struct {
    ppo_config cfg;
    par_layout par;
    char preset_desc[1024];
    bool default_log;        /* --log not given: runs/... (its directory is made) */
    char best[CONFIG_PATH];  /* the log stem + .best.policy.h5: --eval-every's best policy */
    fault_hooks faults;      /* zero except in the test build */
    trainer *tr;
    const char *resume_path; /* NULL: a new run */
    bool move_aside;         /* rank 0, --resume auto: a log without checkpoint, moved aside once checks pass */
    trainer_state_info state;
    char saved_from[CONFIG_PATH]; /* a resume: the checkpoint whose saved options the run took ("": none) */
    char given[512];              /* options given that differ from the saved ones (those that may change) */
    h5log *log;                   /* rank 0 */
    double log_flushed;           /* rank 0: progress_now() at the log's last flush (0: none yet) */
    return_window returns;        /* rank 0: the last 100 episodes, continued across a resume */
    char err[2048];
} train_run;

/* Rank 0 prints the error; every rank returns status. */
static int fail(const train_run *r, int status)
{
    if (r->par.rank == 0)
        fprintf(stderr, "ppo: error: %s\n", r->err);
    return status;
}

static run_paths paths_of(const train_run *r)
{
    const ppo_config *c = &r->cfg;
    return (run_paths){c->log, c->save, c->checkpoint, r->best, c->eval_every > 0, false};
}

/* Same options on every rank? The options' hash, compared with min/max. */
static bool config_agrees(const par_layout *par, const ppo_config *c)
{
    uint64_t lo = run_options_hash(c), hi = lo;
    MPI_Allreduce(MPI_IN_PLACE, &lo, 1, MPI_UINT64_T, MPI_MIN, par->comm);
    MPI_Allreduce(MPI_IN_PLACE, &hi, 1, MPI_UINT64_T, MPI_MAX, par->comm);
    return lo == hi;
}

/* Bytes the heap has handed out (glibc's mallinfo2), to measure what one env takes; 0 elsewhere. */
static double heap_bytes(void)
{
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
    const struct mallinfo2 m = mallinfo2();
    return (double)m.uordblks + (double)m.hblkhd;
#else
    return 0.0;
#endif
}

/* The env id and options are checked by making one env; its heap use and the options give the run's
 * memory, so a run the node cannot hold is refused here rather than killed by the OOM killer later. */
static int check_env_and_memory(train_run *r)
{
    const ppo_config *c = &r->cfg;
    const double heap_before = heap_bytes();
    ppo_env *probe = ppo_env_make(c->env, c->env_options, r->err, sizeof r->err);
    if (!probe)
        return fail(r, EXIT_BAD_INPUT);
    const ppo_env_spec *ps = ppo_env_get_spec(probe);
    const bool image = ps->obs_kind == PPO_OBS_IMAGE;
    policy_model pm;
    if (config_policy_model(&pm, ps, c->net, c->cnn, c->frame_stack, c->grayscale, c->resize, c->hidden,
                            c->activation, c->shared_trunk, c->sde, r->err, sizeof r->err))
        ;
    else if (image && c->norm_obs)
        snprintf(r->err, sizeof r->err, "%s has image observations: --norm-obs is for vector observations (pixels "
                 "are scaled by 1/255, as SB3 does for images)", ps->id);
    else
        r->err[0] = 0;
    float *obs = r->err[0] ? NULL : malloc(sizeof(float) * (size_t)ps->obs_dim);
    if (!r->err[0] && !obs)
        snprintf(r->err, sizeof r->err, "out of memory for one observation of %s", ps->id);
    if (r->err[0]) {
        ppo_env_free(probe);
        return fail(r, EXIT_BAD_INPUT);
    }
    ppo_env_reset(probe, obs); /* a Box2D env builds its bodies here */
    free(obs);
    const double env_bytes = heap_bytes() - heap_before; /* one env (BipedalWalker: ~0.3 MB) */
    double rollout, minibatch;
    /* a rank's share of the eval envs: --eval-every's during training, --eval-episodes' after it (one set at
     * a time: the first are freed before the second are made; 100000 walkers would need ~30 GB) */
    const int during = c->eval_every > 0 ? (c->eval_every_episodes + r->par.size - 1) / r->par.size : 0;
    const int after = (c->eval_episodes + r->par.size - 1) / r->par.size;
    const int eval_envs = during > after ? during : after;
    double traj_frames = 0; /* --log-trajectories on pixels: per env frames as bytes beside float rows (up to
                             * one episode recording and the rollout's finished ones, as trainer_create sizes them) */
    if (image && c->log_trajectories > 0) {
        const int skip = c->frame_skip > 1 ? c->frame_skip : 1;
        const double longest = ps->max_episode_steps > 0 ? (ps->max_episode_steps + skip - 1) / skip : c->rollout_steps;
        traj_frames = c->envs_per_rank * (2.0 * longest + c->rollout_steps) *
                      (ps->obs_dim + 4.0 * (ps->action_dim + 5 + ps->render_dim));
    }
    /* the network's flat buffers (parameters, gradient, Adam's moments, the update's snapshots, oneDNN's
     * copies): 52 bytes per parameter measured on 1 rank (--hidden 4096,4096,4096: 67.2M parameters,
     * 3.46 GB); a gradient per extra thread; the shared-memory gradient sum, (ranks on the node + 2)
     * copies on the node and two doubles per 64 parameters, at most 8.125 bytes per parameter and rank
     * (2 ranks: 4 x 4 x 2 / 2 + 16 / 64 / 2) */
    const bool shm_sum = r->par.size > 1 && !strcmp(c->grad_reduce, "shm");
    const double params = (double)pm.n_params * (52.0 + 4.0 * (r->par.threads - 1) + (shm_sum ? 8.125 : 0.0));
    double bytes = config_memory_estimate(c, image ? (int)pm.obs_dim : ps->obs_dim, image, ps->action_dim,
                                          ps->render_dim, ps->max_episode_steps, &rollout, &minibatch) +
                   params + traj_frames + env_bytes * (c->envs_per_rank + eval_envs);
    /* the net split: each row group's rows in two training passes, one per network's thread (each pass
     * holds both networks' buffers), so twice the minibatch's (256k CartPole rows: 588 MB peak on 1
     * thread, 1,118 MB on 2 and on 4) */
    bool net_split;
    const long long mb = (long long)c->envs_per_rank * c->rollout_steps / c->minibatches;
    trainer_grad_split(mb < INT_MAX ? (int)mb : INT_MAX, r->par.threads, policy_model_splits(&pm), &net_split);
    if (net_split) {
        bytes += minibatch;
        minibatch *= 2;
    }
    ppo_env_free(probe);
    char what[320];
    const double eval_bytes = env_bytes * eval_envs;
    const bool network_most = params > bytes - params; /* then it is --hidden (or --cnn) to blame */
    const bool eval_most = eval_bytes > bytes - eval_bytes; /* or the evaluation's envs */
    const char *blamed = network_most ? (pm.has_conv ? "cnn" : "hidden")
                         : eval_most  ? (after >= during ? "eval_episodes" : "eval_every_episodes")
                                      : "envs_per_rank x rollout_steps";
    snprintf(what, sizeof what, "option %s: the envs and training buffers (envs %.2f GB, eval envs %.2f GB, rollout "
             "%.2f GB, minibatch %.2f GB, network of %zu parameters %.2f GB per rank)", blamed,
             env_bytes * c->envs_per_rank / 1e9, eval_bytes / 1e9, rollout / 1e9, minibatch / 1e9, pm.n_params,
             params / 1e9);
    const char *remedy = eval_most && !network_most
                             ? "evaluate fewer episodes, or spread them over ranks on more nodes"
                             : "use fewer envs per rank, shorter rollouts, more minibatches or a smaller network";
    return par_check_memory(&r->par, bytes, what, remedy, r->err, sizeof r->err) ? fail(r, EXIT_BAD_INPUT) : CONTINUE;
}

/* Default paths: runs/ENV_sSEED_TIME.h5 (rank 0's clock) and the same stem + .policy.h5 / .ckpt.h5. */
static int resolve_paths(train_run *r)
{
    ppo_config *c = &r->cfg;
    r->default_log = c->log[0] == 0;
    if (r->default_log && r->par.rank == 0)
        run_files_default_log(c->log, sizeof c->log, c->env, c->seed);
    MPI_Bcast(c->log, sizeof c->log, MPI_CHAR, 0, r->par.comm);
    int fits = 0;
    if (!c->save[0])
        fits |= run_files_beside(c->log, ".policy.h5", c->save, sizeof c->save);
    if (!c->checkpoint[0])
        fits |= run_files_beside(c->log, ".ckpt.h5", c->checkpoint, sizeof c->checkpoint);
    fits |= run_files_beside(c->log, ".best.policy.h5", r->best, sizeof r->best);
    if (fits == 0)
        return CONTINUE;
    snprintf(r->err, sizeof r->err, "option log: the path is too long to name its .policy.h5, .ckpt.h5 and "
             ".best.policy.h5 beside it (a shorter --log, or give --save and --checkpoint)");
    return fail(r, EXIT_BAD_INPUT);
}

/* Rank 0: the file a resume takes its options from: --resume's, or for auto the newer of the --log's
 * checkpoint and final policy (as choose_resume decides); NULL when there is none. */
static const char *saved_options_file(const ppo_config *c, char *buf, char *buf2, size_t len)
{
    if (!c->resume[0] || strcmp(c->resume, "auto"))
        return c->resume[0] ? c->resume : NULL;
    if ((!c->checkpoint[0] && run_files_beside(c->log, ".ckpt.h5", buf, len)) ||
        (!c->save[0] && run_files_beside(c->log, ".policy.h5", buf2, len)))
        return NULL;
    const char *ckpt = c->checkpoint[0] ? c->checkpoint : buf, *policy = c->save[0] ? c->save : buf2;
    long long ck = -1, fin = -1;
    char id[CHECKPOINT_RUN_ID], ignored[512];
    checkpoint_peek(ckpt, &ck, id, sizeof id, ignored, sizeof ignored);
    checkpoint_peek(policy, &fin, id, sizeof id, ignored, sizeof ignored);
    return ck < 0 && fin < 0 ? NULL : ck >= fin ? ckpt : policy;
}

/* Collective (MPI_COMM_WORLD, before the layout exists): a resume takes the options its checkpoint saved
 * (run_options_take_saved), so --resume FILE alone continues the run as it was started. Rank 0 reads
 * them and broadcasts them. A file that cannot be read leaves the options as given: the resume's own
 * checks then refuse it with their reason. The checkpoint's rank count is checked here first, since a
 * different count changes the per-rank options too. */
static int take_saved_options(train_run *r, config_set *set, int world_rank)
{
    ppo_config *c = &r->cfg;
    int world = 1, len = -1; /* -1: nothing to take; -2: an error in r->err */
    MPI_Comm_size(MPI_COMM_WORLD, &world);
    char *text = NULL;
    if (world_rank == 0) {
        char b1[CONFIG_PATH], b2[CONFIG_PATH], why[512];
        const char *path = saved_options_file(c, b1, b2, sizeof b1);
        checkpoint ck;
        train_state ts;
        if (path && checkpoint_load_header(path, &ck, &ts, why, sizeof why) == 0) {
            if (ts.present && ts.options && ts.ranks != world) {
                snprintf(r->err, sizeof r->err, "checkpoint %s was written by %d ranks; resume it with mpirun -n %d "
                         "(the RNG and env state is per rank)", path, ts.ranks, ts.ranks);
                len = -2;
            } else if (ts.present && ts.options && (text = strdup(ts.options))) {
                len = (int)strlen(text) + 1;
                snprintf(r->saved_from, sizeof r->saved_from, "%s", path);
            }
            train_state_free(&ts);
        }
    }
    MPI_Bcast(&len, 1, MPI_INT, 0, MPI_COMM_WORLD);
    if (len == -2) {
        if (world_rank == 0)
            fprintf(stderr, "ppo: error: %s\n", r->err);
        return EXIT_BAD_INPUT;
    }
    if (len < 0)
        return CONTINUE;
    if (world_rank != 0 && !(text = malloc((size_t)len)))
        MPI_Abort(MPI_COMM_WORLD, 5);
    MPI_Bcast(text, len, MPI_CHAR, 0, MPI_COMM_WORLD);
    MPI_Bcast(r->saved_from, sizeof r->saved_from, MPI_CHAR, 0, MPI_COMM_WORLD);
    const int rc = run_options_take_saved(c, set, text, r->saved_from, r->given, sizeof r->given, r->err,
                                          sizeof r->err);
    free(text);
    if (rc == 0)
        return CONTINUE;
    if (world_rank == 0)
        fprintf(stderr, "ppo: error: %s\n", r->err);
    return EXIT_BAD_INPUT;
}

/* Options, layout, preset, env, memory, paths: everything that can be refused before a file is touched. */
static int set_up(train_run *r, int argc, char **argv)
{
    int world_rank = 0, mpi_up = 0;
    MPI_Initialized(&mpi_up); /* not for --help typed at a shell (main.c) */
    if (mpi_up)
        MPI_Comm_rank(MPI_COMM_WORLD, &world_rank);
    ppo_config *c = &r->cfg;
    config_defaults(c);
    config_set set;
    const int rc = config_parse_args(c, &set, argc, argv, r->err, sizeof r->err);
    if (rc == 1) {
        ppo_config d;
        config_defaults(&d);
        if (world_rank == 0)
            config_print_help("ppo", &d);
        return EXIT_OK;
    }
    if (rc < 0) {
        if (world_rank == 0)
            fprintf(stderr, "ppo: error: %s\n", r->err);
        return EXIT_BAD_INPUT;
    }
    if (mpi_up) {
        const int taken = take_saved_options(r, &set, world_rank);
        if (taken != CONTINUE)
            return taken;
    }
    config_finalize(c, &set);
    par_layout_init(&r->par, MPI_COMM_WORLD, c->threads);
    if (!par_all_ok(&r->par, !r->par.threads_error[0])) { /* nodes may differ in CPUs: every rank must know */
        snprintf(r->err, sizeof r->err, "%s", r->par.threads_error[0] ? r->par.threads_error
                                                                       : "a rank on another node refused the thread count");
        return fail(r, EXIT_BAD_INPUT);
    }
    config_apply_preset(c, &set, r->par.size, r->preset_desc, sizeof r->preset_desc);
    if (r->saved_from[0])
        snprintf(r->preset_desc, sizeof r->preset_desc, "none: the options saved in %.600s%s%.300s%s", r->saved_from,
                 r->given[0] ? " (given here: " : "", r->given, r->given[0] ? ")" : "");
    if (config_validate(c, r->par.size, r->err, sizeof r->err)) {
        config_error_source(c, &set, r->err, sizeof r->err);
        return fail(r, EXIT_BAD_INPUT);
    }
    int step = check_env_and_memory(r);
    if (step == CONTINUE)
        step = resolve_paths(r);
    if (step != CONTINUE)
        return step;
    if (!config_agrees(&r->par, c)) {
        snprintf(r->err, sizeof r->err, "ranks were started with different options");
        return fail(r, EXIT_BAD_INPUT);
    }
    r->tr = trainer_create(c, &r->par, r->err, sizeof r->err);
    if (!r->tr)
        return fail(r, EXIT_BAD_INPUT);
    if (r->faults.nan_at_update > 0)
        trainer_poison_update(r->tr, r->faults.nan_at_update);
    return CONTINUE;
}

/* Which file the run continues from: an explicit --resume must exist; "auto" continues the --log's run
 * from the newer of its checkpoint and final policy, does nothing when the run is complete, and starts a
 * new run when there is no checkpoint (a log left without one is moved aside, never overwritten). */
static int choose_resume(train_run *r)
{
    const ppo_config *c = &r->cfg;
    r->resume_path = NULL;
    if (!c->resume[0])
        return CONTINUE;
    /* the run still writing the log (its ranks outlive a killed mpirun by a moment) may be replacing its
     * checkpoint: reading it now would blame the file, and "use --force" would be the wrong advice */
    int busy = r->par.rank == 0 && h5log_check_no_writer(c->log, r->err, sizeof r->err);
    MPI_Bcast(&busy, 1, MPI_INT, 0, r->par.comm);
    if (busy)
        return fail(r, EXIT_BAD_INPUT);
    if (strcmp(c->resume, "auto")) {
        r->resume_path = c->resume;
        return CONTINUE;
    }
    enum { NEW_RUN, FROM_CHECKPOINT, FROM_POLICY, COMPLETE, UNREADABLE };
    int choice = NEW_RUN;
    const long long total = trainer_updates_total(r->tr);
    if (r->par.rank == 0) {
        long long ck = -1, fin = -1;
        char id[CHECKPOINT_RUN_ID];
        const int pc = checkpoint_peek(c->checkpoint, &ck, id, sizeof id, r->err, sizeof r->err);
        const int pf = pc < 0 ? -1 : checkpoint_peek(c->save, &fin, id, sizeof id, r->err, sizeof r->err);
        const long long best = ck > fin ? ck : fin;
        choice = best >= total ? COMPLETE : best < 0 ? NEW_RUN : ck >= fin ? FROM_CHECKPOINT : FROM_POLICY;
        if ((pc < 0 || pf < 0) && !c->force) { /* --force: a new run replaces it */
            choice = UNREADABLE;
            snprintf(r->err + strlen(r->err), sizeof r->err - strlen(r->err),
                     "; it cannot be resumed from (move it away, or use --force)");
        }
        if (choice == COMPLETE)
            printf("ppo: run %s is already complete (%lld of %lld updates in %s); nothing to do\n", c->log, best, total,
                   ck >= fin ? c->checkpoint : c->save);
        r->move_aside = choice == NEW_RUN && access(c->log, F_OK) == 0;
    }
    MPI_Bcast(&choice, 1, MPI_INT, 0, r->par.comm);
    if (choice == COMPLETE)
        return EXIT_OK;
    if (choice == UNREADABLE)
        return fail(r, EXIT_BAD_INPUT);
    r->resume_path = choice == FROM_CHECKPOINT ? c->checkpoint : choice == FROM_POLICY ? c->save : NULL;
    return CONTINUE;
}

/* A new run gets a new id; a resume loads its checkpoint into the trainer (and is done when complete). */
static int load_state(train_run *r)
{
    r->state = (trainer_state_info){0};
    if (!r->resume_path) {
        if (r->par.rank == 0)
            run_files_new_id(r->state.run_id, sizeof r->state.run_id);
        return CONTINUE;
    }
    if (trainer_state_load(r->tr, &r->par, &r->cfg, r->resume_path, &r->state, r->err, sizeof r->err))
        return fail(r, EXIT_BAD_INPUT);
    if (r->state.update >= trainer_updates_total(r->tr)) { /* as --resume auto: nothing is touched */
        if (r->par.rank == 0)
            printf("ppo: run %s is already complete (%lld of %lld updates in %s); nothing to do\n", r->cfg.log,
                   r->state.update, trainer_updates_total(r->tr), r->resume_path);
        return EXIT_OK;
    }
    return CONTINUE;
}

/* Rank 0, a resume: the return window (and its bests) as the run had it after its kept updates, from the
 * log's kept episodes fed in the order and update by update as the run fed them. */
static int restore_returns(train_run *r)
{
    int64_t *update;
    double *ret;
    const long long n = h5log_kept_returns(r->log, &update, &ret, r->err, sizeof r->err);
    if (n < 0)
        return -1;
    for (long long k = 0; k < n; k++) {
        return_window_add(&r->returns, ret[k]);
        if (k == n - 1 || update[k + 1] != update[k])
            return_window_mean(&r->returns);
    }
    free(update);
    free(ret);
    return 0;
}

/* Rank 0: checks the run's paths, then reopens the log of a resumed run or creates a new one. */
static void open_log(train_run *r, const char *start_time)
{
    const ppo_config *c = &r->cfg;
    const ppo_env_spec *spec = trainer_spec(r->tr);
    const run_paths paths = paths_of(r);
    const traj_layout tl = run_traj_layout(spec); /* an image env's frames as bytes */
    r->err[0] = 0;
    if (r->resume_path) {
        if (run_files_check_resume(&paths, c->force, r->state.run_id, r->err, sizeof r->err))
            return;
        const h5log_resume want = {
            .keep_updates = r->state.update, .run_id = r->state.run_id,
            .global_batch = trainer_steps_per_update(r->tr), .traj = tl, .need_trajectories = c->log_trajectories > 0,
            .eval = c->eval_every > 0,
        };
        r->log = h5log_reopen(c->log, &want, r->err, sizeof r->err);
        if (r->log && restore_returns(r)) {
            h5log_close(r->log);
            r->log = NULL;
        }
        return;
    }
    run_paths fresh = paths;
    fresh.moving_aside = r->move_aside && run_files_best_is_the_logs(&paths);
    if (run_files_check_new(&fresh, c->force, c->resume[0] != 0, r->default_log, r->err, sizeof r->err) ||
        (r->move_aside && run_files_move_aside(&fresh, r->err, sizeof r->err)))
        return;
    const log_context ctx = {
        .ranks = r->par.size, .threads_per_rank = r->par.threads, .hostnames = r->par.hostnames,
        .version = PPO_VERSION, .cpu_isa = nn_cpu_isa(), .start_time = start_time, .obs_dim = spec->obs_dim,
        .grad_sum = r->par.size > 1 ? trainer_grad_reduce_description(r->tr) : "",
        .action_dim = spec->action_dim, .action_count = spec->action_count,
        .action_kind = spec->action_kind == PPO_ACTION_DISCRETE ? "discrete" : "continuous",
        .reward_threshold = spec->has_reward_threshold ? spec->reward_threshold : NAN,
        .global_batch = trainer_steps_per_update(r->tr), .run_id = r->state.run_id,
    };
    r->log = h5log_create(c->log, c->force, c, &ctx, c->log_trajectories > 0 ? &tl : NULL, r->err, sizeof r->err);
    /* --force replaces the previous run whole: its checkpoint and final policy left beside the new log
     * would let --resume auto continue (or call complete) a run this log is not from */
    if (r->log && c->force && run_files_remove_previous(&paths, r->err, sizeof r->err)) {
        h5log_close(r->log);
        r->log = NULL;
    }
}

static void print_start(const train_run *r)
{
    const ppo_config *c = &r->cfg;
    const par_layout *par = &r->par;
    const long long total = trainer_updates_total(r->tr), batch = trainer_steps_per_update(r->tr);
    printf("ppo %s: %s (%s) with %s and %s, %lld steps = %lld update%s of %lld steps\n", PPO_VERSION, c->env,
           c->env_options[0] ? c->env_options : "default options", c->algo,
           strcmp(c->optimizer, "rmsprop") ? "Adam" : "RMSprop", total * batch, total, total == 1 ? "" : "s", batch);
    if (total * batch != c->total_steps)
        printf("note: --total-steps %lld is not a multiple of the global batch (%lld steps): training %lld steps\n",
               c->total_steps, batch, total * batch);
    /* below 8 rows a rank's share of a minibatch costs less than the minibatch's gradient sum (2-core VM:
     * 6.3 us of gradient for 4 rows of LunarLander's nets, 11.9 for 8, against 4.9 us for the sum on 2
     * ranks, more on more); docs/scaling.md */
    const long long rows = (long long)c->envs_per_rank * c->rollout_steps / c->minibatches;
    const int G = trainer_grad_workers(r->tr);
    char split[128] = ""; /* how a rank's minibatch rows go to its threads, where not to all of them */
    const int K = trainer_row_groups(r->tr);
    if (trainer_net_split(r->tr) && K == 1)
        snprintf(split, sizeof split, " (the actor on one thread, the critic on %s)", par->threads > 2 ? "another" : "the other");
    else if (trainer_net_split(r->tr))
        snprintf(split, sizeof split, " (each minibatch's %lld rows in %d groups, the actor on %d threads and the critic on %d others)",
                 rows, K, K, K);
    else if (par->threads > 1 && G < par->threads)
        snprintf(split, sizeof split, G == 1 ? " (each minibatch's %lld rows on one thread)"
                                             : " (each minibatch's %lld rows on %d of the threads)", rows, G);
    printf("layout: %d rank%s x %d thread%s (%s) on %s; %d envs/rank x %d steps; %d minibatches x %d epochs%s; "
           "%d parameters; oneDNN %s kernels%s%s\n",
           par->size, par->size > 1 ? "s" : "", par->threads, par->threads > 1 ? "s" : "", par->threads_reason,
           par->hostnames, c->envs_per_rank, c->rollout_steps, c->minibatches, c->epochs, split,
           trainer_param_count(r->tr), nn_cpu_isa(),
           par->size == 1 ? "" : "; gradients summed ", par->size == 1 ? "" : trainer_grad_reduce_description(r->tr));
    char busy[320];
    par_oversubscription_note(par, busy, sizeof busy);
    if (busy[0])
        printf("%s\n", busy);
    if (par->size > 1 && rows < 8)
        printf("note: a minibatch leaves each rank %lld sample%s, so on %d ranks the gradient sum outweighs the "
               "work; fewer, larger minibatches (--minibatches)%s scale better (docs/scaling.md)\n",
               rows, rows == 1 ? "" : "s", par->size,
               strcmp(c->preset, "scale") && presets_find("scale", c->env) ? " or --preset scale" : "");
    const policy_model *pm = trainer_model(r->tr);
    if (pm->has_conv) /* the input the conv policy sees, after the pixel wrappers */
        printf("network: conv '%s' on %dx%dx%d bytes per step (%s%d frame%s), linear heads\n", c->cnn,
               pm->conv.in_height, pm->conv.in_width, pm->conv.in_channels, pm->grayscale ? "gray, " : "",
               pm->frames, pm->frames > 1 ? "s stacked" : "");
    printf("preset: %s\n", r->preset_desc[0] ? r->preset_desc : "none (defaults and flags only)");
    printf("log: %s\n", c->log);
    if (r->resume_path)
        printf("resumed from %s after update %lld (resume %lld; %s)\n", r->resume_path, r->state.update,
               r->state.resumes, r->state.exact_envs ? "envs continue their episodes exactly"
                                                     : "envs restart their episodes: the checkpoint holds no env states");
    fflush(stdout);
}

/* Checks the paths and opens the log (rank 0), then tells the run how it starts. */
static int open_files(train_run *r)
{
    if (r->faults.signal_in_setup > 0) /* tests: a signal at the end of set-up */
        raise(r->faults.signal_in_setup);
    signals_arm_stop(); /* from here files are written: a signal asks for a stop and a checkpoint */
    if (r->par.rank == 0) {
        char start_time[32];
        time_t now = time(NULL);
        strftime(start_time, sizeof start_time, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
        open_log(r, start_time);
    }
    if (!par_bcast_error(&r->par, r->err, sizeof r->err))
        return fail(r, EXIT_BAD_INPUT);
    if (r->par.rank == 0)
        print_start(r);
    return CONTINUE;
}

/* Rank 0: the log's rows so far made durable and visible to readers (SWMR). Each flush costs ~0.2 ms on
 * the 2-core VM's disk: 70% of an A2C update on CartPole-v1 when it came after every update. */
static int flush_log(train_run *r)
{
    r->log_flushed = progress_now();
    return h5log_flush(r->log, r->err, sizeof r->err);
}

/* Collective: the training checkpoint at path, refused when another run replaced the log meanwhile.
 * The log is flushed first, so that it holds every update the checkpoint has. */
static int save_state(train_run *r, const char *path, double wall)
{
    if (r->par.rank == 0 && r->log && flush_log(r))
        par_abort(&r->par, 5, r->err);
    char replaced[2 * CONFIG_PATH] = "";
    if (r->par.rank == 0 && r->log && !h5log_is_at(r->log, r->cfg.log))
        snprintf(replaced, sizeof replaced, "log %s was replaced by another run meanwhile (two runs with --force on "
                 "one --log?); this run stops without writing %s", r->cfg.log, path);
    trainer_state_info now = r->state; /* r->state stays what the run resumed from */
    now.wall = wall;
    /* never over another run's file (a new run's --force removed the previous run's at its start) */
    const bool replace_any = r->cfg.force && r->state.update > 0; /* --force with --resume: any file at the paths */
    return trainer_state_save(r->tr, &r->par, &r->cfg, path, &now, replace_any, replaced[0] ? replaced : NULL, r->err,
                              sizeof r->err);
}

/* Seconds between the log's flushes during a run; a checkpoint and the end of a run flush it too. SWMR
 * keeps the file readable between them, and a killed run loses at most this long of rows. Four flushes a
 * second cost ~1 ms, and a reader (ppo-analyze, a job script waiting for progress) sees rows soon. */
#define LOG_FLUSH_SEC 0.25

/* Rank 0: the update's /metrics and /episodes rows, flushed when LOG_FLUSH_SEC have passed since the last
 * flush (so the first update's at once). */
static int log_update(train_run *r, const run_gather *g, log_metrics *m)
{
    return h5log_append_metrics(r->log, m, r->err, sizeof r->err) ||
                   h5log_append_episodes(r->log, g->rows, g->total, r->err, sizeof r->err) ||
                   (progress_now() - r->log_flushed >= LOG_FLUSH_SEC && flush_log(r))
               ? -1
               : 0;
}

static void metrics_set_times(log_metrics *m, const double mean[PHASE_COUNT], const double max[PHASE_COUNT])
{
    m->time_env = mean[PHASE_ENV], m->time_infer = mean[PHASE_INFER], m->time_gae = mean[PHASE_GAE];
    m->time_grad = mean[PHASE_GRAD], m->time_comm = mean[PHASE_COMM], m->time_optim = mean[PHASE_OPTIM];
    m->time_log = mean[PHASE_LOG];
    m->time_env_max = max[PHASE_ENV], m->time_infer_max = max[PHASE_INFER], m->time_gae_max = max[PHASE_GAE];
    m->time_grad_max = max[PHASE_GRAD], m->time_comm_max = max[PHASE_COMM], m->time_optim_max = max[PHASE_OPTIM];
    m->time_log_max = max[PHASE_LOG];
}

/* How the update loop ended. */
typedef struct {
    int stop_signal;            /* stopped by this signal after a checkpoint */
    long long nonfinite_update; /* stopped before applying this update's non-finite gradient */
    double train_seconds;
} loop_end;

/* Collective, before update u: a checkpoint when one is due or a stop was asked for. Returns the signal
 * that asked for a stop (0: go on); a checkpoint that cannot be written ends the job. */
static int checkpoint_if_due(train_run *r, long long u, double wall, bool tty)
{
    int sig = signals_stop_requested(); /* a collective decision: every rank stops after the same update */
    MPI_Allreduce(MPI_IN_PLACE, &sig, 1, MPI_INT, MPI_MAX, r->par.comm);
    const bool periodic = r->cfg.checkpoint_every > 0 && u % r->cfg.checkpoint_every == 0;
    if (sig || periodic) {
        if (save_state(r, r->cfg.checkpoint, wall))
            par_abort(&r->par, 5, r->err);
        if (r->par.rank == 0 && (sig || !tty))
            printf("%scheckpoint: %s after update %lld\n", tty ? "\n" : "", r->cfg.checkpoint, u);
    }
    return sig;
}

/* Collective, after update u: --eval-every's evaluation when due, before any checkpoint of update u (a
 * resume from it keeps its /eval row). Its time is charged to no phase: /eval logs it. */
static void evaluate_if_due(train_run *r, eval_schedule *evs, long long u, double wall)
{
    if (!eval_schedule_due(evs, u))
        return;
    phase_clock *clk = trainer_clock(r->tr);
    phase_clock_lap(clk, PHASE_LOG);
    if (eval_schedule_after_update(evs, u, wall, r->log, r->err, sizeof r->err))
        par_abort(&r->par, 5, r->err);
    phase_clock_skip(clk);
}

/* Collective: the updates from the resumed one to the last, each logged and reported on rank 0. */
static void run_updates(train_run *r, loop_end *end)
{
    trainer *tr = r->tr;
    const par_layout *par = &r->par;
    const long long total_updates = trainer_updates_total(tr), start = r->state.update;
    progress prog = {progress_is_live(r->cfg.progress), 0.0};
    run_gather g;
    if (run_gather_init(&g, par, trainer_steps_per_update(tr)))
        par_abort(par, 5, "out of memory for the episode gather");
    const eval_schedule_run er = {
        .best_path = r->best, .run_id = r->state.run_id, .best = par->rank == 0 ? h5log_eval_best(r->log) : -INFINITY,
        .mode = r->cfg.force && start > 0 ? CHECKPOINT_REPLACE_ANY : CHECKPOINT_REPLACE_OWN, .live = prog.tty,
    };
    eval_schedule *evs = eval_schedule_create(tr, par, &r->cfg, &er, r->err, sizeof r->err);
    if (!evs && r->err[0])
        par_abort(par, 5, r->err);
    const double t0 = progress_now() - r->state.wall;
    phase_clock *clk = trainer_clock(tr);
    double phase_mean[PHASE_COUNT], phase_max[PHASE_COUNT];
    phase_clock_reset(clk);
    for (long long u = start; u < total_updates; u++) {
        if (u > start)
            evaluate_if_due(r, evs, u, progress_now() - t0);
        if (u > start && (end->stop_signal = checkpoint_if_due(r, u, progress_now() - t0, prog.tty)))
            break;
        phase_clock_lap(clk, PHASE_LOG);
        const double tu = progress_now();
        trainer_rollout(tr);
        update_stats st;
        trainer_optimize(tr, &st);
        if (st.nonfinite) { /* identical on every rank, so every rank stops here */
            end->nonfinite_update = st.update;
            break;
        }
        if (r->cfg.check_params > 0 && st.update % r->cfg.check_params == 0 && !trainer_params_agree(tr))
            par_abort(par, 4, "parameter checksums differ across ranks (--check-params); the ranks diverged");
        log_metrics m = {
            .update = st.update, .global_step = st.global_step, .epochs = st.epochs,
            .policy_loss = st.policy_loss, .value_loss = st.value_loss, .entropy = st.entropy,
            .approx_kl = st.approx_kl, .clip_fraction = st.clip_fraction,
            .explained_variance = st.explained_variance, .grad_norm = st.grad_norm, .learning_rate = st.learning_rate,
        };
        run_gather_episodes(&g, tr, par, &st, &m);
        if (r->cfg.log_trajectories > 0 && run_gather_trajectories(tr, par, r->log, st.update, r->err, sizeof r->err))
            par_abort(par, 5, r->err);
        phase_clock_lap(clk, PHASE_LOG);
        run_gather_phase_times(clk, par, phase_mean, phase_max);
        if (par->rank != 0)
            continue;
        const double now = progress_now();
        m.wall_time = now - t0;
        m.steps_per_second = (double)trainer_steps_per_update(tr) / (now - tu);
        metrics_set_times(&m, phase_mean, phase_max);
        for (int k = 0; k < g.total; k++)
            return_window_add(&r->returns, g.all[k].ret);
        const double ret_recent = m.return_recent = return_window_mean(&r->returns);
        if (log_update(r, &g, &m))
            par_abort(par, 5, r->err);
        progress_print(&prog, &r->cfg, &st, total_updates, m.wall_time, m.steps_per_second, ret_recent, phase_mean,
                       u == total_updates - 1);
    }
    if (!end->stop_signal && !end->nonfinite_update)
        evaluate_if_due(r, evs, total_updates, progress_now() - t0);
    end->train_seconds = progress_now() - t0;
    eval_schedule_free(evs);
    run_gather_free(&g);
}

/* Collective: the greedy evaluation at the end of a run, spread over the ranks; rank 0 prints it. -1 (on
 * every rank) when it could not run. */
static int evaluate_final(train_run *r)
{
    const ppo_config *c = &r->cfg;
    const ppo_env_spec *spec = trainer_spec(r->tr);
    eval_result ev;
    if (eval_schedule_final(r->tr, &r->par, c, c->eval_episodes, (uint64_t)c->seed + 1000000ULL, &ev, r->err,
                            sizeof r->err)) {
        if (r->par.rank == 0)
            fprintf(stderr, "ppo: error: evaluation: %s\n", r->err);
        return -1;
    }
    if (r->par.rank != 0)
        return 0;
    printf("eval: %d episodes, greedy policy: return %.2f +- %.2f (min %.2f, max %.2f)", ev.episodes, ev.mean, ev.std,
           ev.min, ev.max);
    if (spec->has_reward_threshold)
        printf(", %.0f%% >= threshold %g", 100.0 * ev.solved_fraction, spec->reward_threshold);
    printf("\n");
    return 0;
}

/* Collective: the end of a completed run — final policy (with training state, so that the run can be
 * extended later), summary, optional evaluation, log closed. */
static int finish_run(train_run *r, const loop_end *end)
{
    const ppo_config *c = &r->cfg;
    int status = EXIT_OK;
    if (save_state(r, c->save, end->train_seconds)) {
        if (r->par.rank == 0)
            fprintf(stderr, "ppo: error: %s\n", r->err);
        status = EXIT_FAILURE_RUN;
    }
    if (r->par.rank == 0) {
        const long long trained = (trainer_updates_total(r->tr) - r->state.update) * trainer_steps_per_update(r->tr);
        const double seconds = end->train_seconds - r->state.wall;
        printf("trained %lld steps in %.1f s (%.0f steps/s)", trained, seconds, (double)trained / seconds);
        progress_print_best(&r->returns);
        fflush(stdout);
    }
    if (c->eval_episodes > 0 && status == EXIT_OK && evaluate_final(r))
        status = EXIT_FAILURE_RUN;
    if (r->par.rank == 0) {
        h5log_close(r->log);
        r->log = NULL;
        char abs_log[PATH_MAX]; /* the hint works from any directory (ppo-analyze: installed by scripts/build.sh) */
        const char *shown = realpath(c->log, abs_log) ? abs_log : c->log;
        printf("policy: %s\nlog: %s  (look at it: ppo-analyze summary %s; curves: ppo-analyze curves %s)\n", c->save,
               c->log, shown, shown);
    }
    MPI_Bcast(&status, 1, MPI_INT, 0, r->par.comm);
    return status;
}

/* The exit status of a loop that ended: a non-finite gradient, a stop by signal, or the last update. */
static int end_run(train_run *r, const loop_end *end)
{
    const ppo_config *c = &r->cfg;
    if (end->nonfinite_update) { /* every rank knows: the gradient was reduced before the check */
        if (r->par.rank == 0)
            fprintf(stderr,
                    "ppo: error: update %lld produced a non-finite gradient (NaN/Inf); it was not applied and no "
                    "checkpoint was written after it (last: %s, if any); the log ends at update %lld\n",
                    end->nonfinite_update, c->checkpoint, end->nonfinite_update - 1);
        return EXIT_NONFINITE;
    }
    if (end->stop_signal) {
        if (r->par.rank == 0)
            printf("stopped by signal %d: checkpoint %s, log %s; continue with --resume auto --log %s (exit %d)\n",
                   end->stop_signal, c->checkpoint, c->log, c->log, EXIT_STOPPED);
        return EXIT_STOPPED;
    }
    return finish_run(r, end);
}

bool cmd_train_help_requested(int argc, char **argv)
{
    bool named = false; /* only then parse (a --config file is read again by cmd_train) */
    for (int k = 0; k < argc && !named; k++)
        named = !strcmp(argv[k], "--help") || !strcmp(argv[k], "-h");
    if (!named)
        return false;
    ppo_config cfg;
    config_set set;
    char err[2048];
    config_defaults(&cfg);
    return config_parse_args(&cfg, &set, argc, argv, err, sizeof err) == 1;
}

int cmd_train(int argc, char **argv)
{
    signals_install(); /* first: a SIGUSR1 that arrives during set-up must not kill the rank */
    train_run *r = calloc(1, sizeof *r);
    if (!r) {
        fprintf(stderr, "ppo: error: out of memory\n");
        return EXIT_FAILURE_RUN;
    }
    fault_hooks_read(&r->faults);
    return_window_init(&r->returns);
    int status = set_up(r, argc, argv);
    if (status == CONTINUE)
        status = choose_resume(r);
    if (status == CONTINUE)
        status = load_state(r);
    if (status == CONTINUE)
        status = open_files(r);
    if (status == CONTINUE) {
        loop_end end = {0};
        run_updates(r, &end);
        status = end_run(r, &end);
    }
    if (r->log)
        h5log_close(r->log);
    trainer_free(r->tr);
    free(r);
    return status;
}
