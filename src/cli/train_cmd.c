/* `ppo [train]`: parse options, open the log, run the updates, save the policy. Collective. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli/commands.h"
#include "log/checkpoint.h"
#include "log/h5log.h"
#include "ppo/eval.h"
#include "ppo/trainer.h"

#ifndef PPO_VERSION
#define PPO_VERSION "0.0.0"
#endif

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Same options on every rank? A hash of the resolved config, compared with min/max. */
static bool config_agrees(const par_layout *par, const ppo_config *c)
{
    uint64_t h = 1469598103934665603ULL;
    for (int i = 0; i < config_option_count(); i++) {
        char buf[CONFIG_PATH + 8];
        double num;
        config_option_value(c, i, buf, sizeof buf, &num);
        for (const char *p = buf; *p; p++)
            h = (h ^ (unsigned char)*p) * 1099511628211ULL;
        h = (h ^ 0xff) * 1099511628211ULL;
    }
    uint64_t lo = h, hi = h;
    MPI_Allreduce(MPI_IN_PLACE, &lo, 1, MPI_UINT64_T, MPI_MIN, par->comm);
    MPI_Allreduce(MPI_IN_PLACE, &hi, 1, MPI_UINT64_T, MPI_MAX, par->comm);
    return lo == hi;
}

static int mkdir_parent(const char *path)
{
    char dir[CONFIG_PATH];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (!slash)
        return 0;
    *slash = 0;
    if (mkdir(dir, 0777) != 0 && errno != EEXIST)
        return -1;
    return 0;
}

/* Can a file be created at path? Tried with a probe beside it (removed again), so an unwritable log or
 * checkpoint path is refused before anything is written, not after training. */
static bool can_create(const char *path)
{
    char probe[CONFIG_PATH + 32];
    snprintf(probe, sizeof probe, "%s.probe%d", path, (int)getpid());
    int fd = open(probe, O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (fd < 0)
        return false;
    close(fd);
    unlink(probe);
    return true;
}

/* Default paths: runs/ENV_sSEED_YYYYmmdd-HHMMSS.h5 and the same stem + .policy.h5. */
static void resolve_paths(ppo_config *c, const par_layout *par, bool *default_log)
{
    *default_log = c->log[0] == 0;
    if (*default_log && par->rank == 0) {
        char stamp[32];
        time_t now = time(NULL);
        strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", localtime(&now));
        snprintf(c->log, sizeof c->log, "runs/%s_s%lld_%s.h5", c->env, c->seed, stamp);
    }
    MPI_Bcast(c->log, sizeof c->log, MPI_CHAR, 0, par->comm);
    if (!c->save[0]) {
        size_t n = strlen(c->log);
        if (n > 3 && !strcmp(c->log + n - 3, ".h5"))
            n -= 3;
        snprintf(c->save, sizeof c->save, "%.*s.policy.h5", (int)n, c->log);
    }
}

typedef struct {
    bool tty;
    double last_print;
} progress;

static void progress_print(progress *p, const ppo_config *c, const update_stats *st, long long total_updates,
                           double wall, double sps, int n_eps, double ret_mean, bool last)
{
    const double t = now_seconds();
    if (!last && t - p->last_print < (p->tty ? 0.1 : c->progress_interval))
        return;
    p->last_print = t;
    char ret[32];
    if (n_eps > 0)
        snprintf(ret, sizeof ret, "%8.2f", ret_mean);
    else
        snprintf(ret, sizeof ret, "%8s", "-");
    char line[256];
    snprintf(line, sizeof line,
             "update %5lld/%lld  steps %9lld  %6.1fs  %7.0f steps/s  return %s  entropy %.3f  kl %.4f  clip %.3f  ev %5.2f",
             st->update, total_updates, st->global_step, wall, sps, ret, st->entropy, st->approx_kl,
             st->clip_fraction, st->explained_variance);
    if (p->tty)
        printf("\r%s\033[K%s", line, last ? "\n" : "");
    else
        printf("%s\n", line);
    fflush(stdout);
}

int cmd_train(int argc, char **argv)
{
    int world_rank;
    MPI_Comm_rank(MPI_COMM_WORLD, &world_rank);
    ppo_config cfg;
    config_defaults(&cfg);
    config_set set;
    char err[2048] = {0};
    int rc = config_parse_args(&cfg, &set, argc, argv, err, sizeof err);
    if (rc == 1) {
        ppo_config d;
        config_defaults(&d);
        if (world_rank == 0)
            config_print_help("ppo", &d);
        return EXIT_OK;
    }
    if (rc < 0) {
        if (world_rank == 0)
            fprintf(stderr, "ppo: error: %s\n", err);
        return EXIT_BAD_INPUT;
    }
    config_finalize(&cfg, &set);
    par_layout par;
    par_layout_init(&par, MPI_COMM_WORLD, cfg.threads);
    if (config_validate(&cfg, par.size, err, sizeof err)) {
        if (par.rank == 0)
            fprintf(stderr, "ppo: error: %s\n", err);
        return EXIT_BAD_INPUT;
    }
    { /* the env id and options are checked before anything is written */
        ppo_env *probe = ppo_env_make(cfg.env, cfg.env_options, err, sizeof err);
        if (!probe) {
            if (par.rank == 0)
                fprintf(stderr, "ppo: error: %s\n", err);
            return EXIT_BAD_INPUT;
        }
        ppo_env_free(probe);
    }
    bool default_log;
    resolve_paths(&cfg, &par, &default_log);
    if (!config_agrees(&par, &cfg)) {
        if (par.rank == 0)
            fprintf(stderr, "ppo: error: ranks were started with different options\n");
        return EXIT_BAD_INPUT;
    }

    /* rank 0 opens the log; every rank learns whether it worked */
    h5log *log = NULL;
    char start_time[32];
    {
        time_t now = time(NULL);
        strftime(start_time, sizeof start_time, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
    }
    trainer *tr = trainer_create(&cfg, &par, err, sizeof err);
    if (!tr) {
        if (par.rank == 0)
            fprintf(stderr, "ppo: error: %s\n", err);
        return EXIT_BAD_INPUT;
    }
    const ppo_env_spec *spec = trainer_spec(tr);
    if (par.rank == 0) {
        err[0] = 0;
        if (!strcmp(cfg.log, cfg.save))
            snprintf(err, sizeof err, "the log and the checkpoint (--save) are the same file %s", cfg.log);
        else if (!cfg.force && access(cfg.save, F_OK) == 0)
            snprintf(err, sizeof err, "checkpoint %s already exists (use --force to overwrite, or --save)", cfg.save);
        else if (default_log && mkdir_parent(cfg.log))
            snprintf(err, sizeof err, "cannot create the directory for log %s", cfg.log);
        else if (!can_create(cfg.log))
            snprintf(err, sizeof err, "cannot create log %s (is the directory writable?)", cfg.log);
        else if (!can_create(cfg.save))
            snprintf(err, sizeof err, "cannot create checkpoint %s (is the directory writable?)", cfg.save);
        else {
            log_context ctx = {
                .ranks = par.size, .threads_per_rank = par.threads, .hostnames = par.hostnames,
                .version = PPO_VERSION, .start_time = start_time, .obs_dim = spec->obs_dim,
                .action_dim = spec->action_dim, .action_count = spec->action_count,
                .action_kind = spec->action_kind == PPO_ACTION_DISCRETE ? "discrete" : "continuous",
                .reward_threshold = spec->has_reward_threshold ? spec->reward_threshold : NAN,
                .global_batch = trainer_steps_per_update(tr),
            };
            log = h5log_create(cfg.log, cfg.force, &cfg, &ctx, err, sizeof err);
        }
    }
    if (!par_bcast_error(&par, err, sizeof err)) {
        if (par.rank == 0)
            fprintf(stderr, "ppo: error: %s\n", err);
        trainer_free(tr);
        return EXIT_BAD_INPUT;
    }

    const long long total_updates = trainer_updates_total(tr);
    if (par.rank == 0) {
        printf("ppo %s: %s (%s) with %s, %lld steps = %lld updates of %lld steps\n", PPO_VERSION, cfg.env,
               cfg.env_options[0] ? cfg.env_options : "default options", cfg.algo,
               total_updates * trainer_steps_per_update(tr), total_updates, trainer_steps_per_update(tr));
        printf("layout: %d rank%s x %d thread%s (%s) on %s; %d envs/rank x %d steps; %d minibatches x %d epochs; "
               "%d parameters\n",
               par.size, par.size > 1 ? "s" : "", par.threads, par.threads > 1 ? "s" : "", par.threads_reason,
               par.hostnames, cfg.envs_per_rank, cfg.rollout_steps, cfg.minibatches, cfg.epochs,
               trainer_param_count(tr));
        printf("log: %s\n", cfg.log);
        fflush(stdout);
    }

    progress prog = {isatty(STDOUT_FILENO) == 1, 0.0};
    episode_record *all_eps = NULL;
    int *counts = NULL, *displs = NULL;
    if (par.rank == 0) {
        all_eps = malloc(sizeof(episode_record) * (size_t)trainer_steps_per_update(tr));
        counts = malloc(sizeof(int) * (size_t)par.size);
        displs = malloc(sizeof(int) * (size_t)par.size);
    }
    log_episode *rows = par.rank == 0 ? malloc(sizeof(log_episode) * (size_t)trainer_steps_per_update(tr)) : NULL;
    const double t0 = now_seconds();
    double best = -INFINITY;
    int status = EXIT_OK;
    for (long long u = 0; u < total_updates; u++) {
        const double tu = now_seconds();
        trainer_rollout(tr);
        update_stats st;
        trainer_optimize(tr, &st);
        if (cfg.check_params > 0 && st.update % cfg.check_params == 0 && !trainer_params_agree(tr))
            par_abort(&par, 4, "parameter checksums differ across ranks (--check-params); the ranks diverged");

        /* episodes of this rollout, gathered on rank 0 in rank order */
        const episode_record *eps;
        int n_eps = trainer_episodes(tr, &eps);
        MPI_Gather(&n_eps, 1, MPI_INT, counts, 1, MPI_INT, 0, par.comm);
        int total_eps = 0;
        if (par.rank == 0)
            for (int r = 0; r < par.size; r++) {
                displs[r] = total_eps * (int)sizeof(episode_record);
                total_eps += counts[r];
                counts[r] *= (int)sizeof(episode_record);
            }
        MPI_Gatherv(eps, n_eps * (int)sizeof(episode_record), MPI_BYTE, all_eps, counts, displs, MPI_BYTE, 0, par.comm);
        if (par.rank != 0)
            continue;

        const double now = now_seconds();
        log_metrics m = {
            .update = st.update, .global_step = st.global_step, .episodes = total_eps, .epochs = st.epochs,
            .wall_time = now - t0, .steps_per_second = (double)trainer_steps_per_update(tr) / (now - tu),
            .return_mean = NAN, .return_min = NAN, .return_max = NAN, .length_mean = NAN,
            .policy_loss = st.policy_loss, .value_loss = st.value_loss, .entropy = st.entropy,
            .approx_kl = st.approx_kl, .clip_fraction = st.clip_fraction,
            .explained_variance = st.explained_variance, .grad_norm = st.grad_norm, .learning_rate = st.learning_rate,
        };
        if (total_eps > 0) {
            double s = 0, ls = 0, lo = INFINITY, hi = -INFINITY;
            for (int r = 0, k = 0; r < par.size; r++)
                for (int j = 0; j < counts[r] / (int)sizeof(episode_record); j++, k++) {
                    const episode_record *e = &all_eps[k];
                    s += e->ret;
                    ls += e->length;
                    lo = fmin(lo, e->ret);
                    hi = fmax(hi, e->ret);
                    rows[k] = (log_episode){st.global_step, st.update, r, e->env_index, e->length, e->ret, e->terminated};
                }
            m.return_mean = s / total_eps;
            m.return_min = lo;
            m.return_max = hi;
            m.length_mean = ls / total_eps;
            best = fmax(best, m.return_mean);
        }
        if (h5log_append_metrics(log, &m, err, sizeof err) || h5log_append_episodes(log, rows, total_eps, err, sizeof err) ||
            h5log_flush(log, err, sizeof err))
            par_abort(&par, 5, err);
        if (st.nonfinite)
            fprintf(stderr, "ppo: warning: update %lld skipped %d minibatch(es) with a non-finite gradient\n", st.update,
                    st.nonfinite);
        progress_print(&prog, &cfg, &st, total_updates, m.wall_time, m.steps_per_second, total_eps, m.return_mean,
                       u == total_updates - 1);
    }
    const double train_seconds = now_seconds() - t0;

    if (par.rank == 0) {
        checkpoint ck = {0};
        snprintf(ck.env, sizeof ck.env, "%s", cfg.env);
        snprintf(ck.env_options, sizeof ck.env_options, "%s", cfg.env_options);
        snprintf(ck.hidden, sizeof ck.hidden, "%s", cfg.hidden);
        snprintf(ck.activation, sizeof ck.activation, "%s", cfg.activation);
        ck.shared_trunk = cfg.shared_trunk;
        ck.global_step = total_updates * trainer_steps_per_update(tr);
        ck.n_params = (size_t)trainer_param_count(tr);
        ck.params = trainer_params(tr);
        if (checkpoint_save(cfg.save, cfg.force, &ck, err, sizeof err)) {
            fprintf(stderr, "ppo: error: %s\n", err);
            status = EXIT_FAILURE_RUN;
        }
        printf("trained %lld steps in %.1f s (%.0f steps/s); best mean return %.2f\n",
               total_updates * trainer_steps_per_update(tr), train_seconds,
               (double)(total_updates * trainer_steps_per_update(tr)) / train_seconds, best);
        if (cfg.eval_episodes > 0 && status == EXIT_OK) {
            eval_result ev;
            if (eval_policy(trainer_model(tr), trainer_params(tr), cfg.env, cfg.env_options, cfg.eval_episodes,
                            (unsigned long long)cfg.seed + 1000000ULL, true, NULL, &ev, err, sizeof err)) {
                fprintf(stderr, "ppo: error: evaluation: %s\n", err);
                status = EXIT_FAILURE_RUN;
            } else {
                printf("eval: %d episodes, greedy policy: return %.2f +- %.2f (min %.2f, max %.2f)", ev.episodes,
                       ev.mean, ev.std, ev.min, ev.max);
                if (spec->has_reward_threshold)
                    printf(", %.0f%% >= threshold %g", 100.0 * ev.solved_fraction, spec->reward_threshold);
                printf("\n");
            }
        }
        h5log_close(log);
        printf("policy: %s\nlog: %s  (look at it: analysis/ppo-analyze summary %s; curves: analysis/ppo-analyze curves %s)\n",
               cfg.save, cfg.log, cfg.log, cfg.log);
    }
    free(all_eps);
    free(counts);
    free(displs);
    free(rows);
    trainer_free(tr);
    MPI_Bcast(&status, 1, MPI_INT, 0, par.comm);
    return status;
}
