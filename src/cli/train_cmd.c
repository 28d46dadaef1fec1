/* `ppo [train]`: parse options, open the log, run the updates, save the policy. Collective. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stddef.h>
#include <limits.h>
#include <malloc.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli/commands.h"
#include "log/checkpoint.h"
#include "log/h5log.h"
#include "nn/mlp.h"
#include "ppo/eval.h"
#include "ppo/trainer.h"
#include "runtime/signals.h"

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
    struct stat st;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
        return false; /* a directory cannot be replaced by the file */
    char probe[CONFIG_PATH + 32];
    snprintf(probe, sizeof probe, "%s.probe%d", path, (int)getpid());
    int fd = open(probe, O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (fd < 0)
        return false;
    close(fd);
    unlink(probe);
    return true;
}

/* Why can_create refused path, for the error message. */
static const char *why_not(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode) ? "it is a directory" : "is the directory writable?";
}

/* Length of a log path without its ".h5": the stem the run's other files are named after. */
static int log_stem_len(const char *log)
{
    const size_t n = strlen(log);
    return (int)(n > 3 && !strcmp(log + n - 3, ".h5") ? n - 3 : n);
}

/* A new run's id: 128 random bits as 32 hex digits, written into its log, checkpoints and policy so a
 * resume can tell its own log from another run's at the same path. */
static void new_run_id(char *out, size_t len)
{
    unsigned char b[16] = {0};
    FILE *f = fopen("/dev/urandom", "rb");
    const bool got = f && fread(b, 1, sizeof b, f) == sizeof b;
    if (f)
        fclose(f);
    if (!got) { /* no /dev/urandom: the time, the pid and a counter, mixed */
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        uint64_t x = (uint64_t)ts.tv_sec * 1000000007ULL ^ (uint64_t)ts.tv_nsec ^ ((uint64_t)getpid() << 32);
        for (int i = 0; i < 16; i++) {
            x = (x ^ (x >> 31)) * 0x9e3779b97f4a7c15ULL + (uint64_t)i;
            b[i] = (unsigned char)(x >> 56);
        }
    }
    size_t n = 0;
    for (int i = 0; i < 16 && n + 3 <= len; i++)
        n += (size_t)snprintf(out + n, len - n, "%02x", b[i]);
}

/* --resume auto found a log but no checkpoint of it: the log moves to LOG.interrupted-TIME.h5 (never
 * overwritten) and a new run starts. Returns -1 with err when it cannot be moved. */
static int move_log_aside(const char *log, char *err, size_t err_len)
{
    char aside[CONFIG_PATH + 64], stamp[32];
    time_t now = time(NULL);
    strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", localtime(&now));
    snprintf(aside, sizeof aside, "%.*s.interrupted-%s.h5", log_stem_len(log), log, stamp);
    if (access(aside, F_OK) == 0 || rename(log, aside) != 0) {
        snprintf(err, err_len, "log %s has no checkpoint to resume from, and it cannot be moved to %s", log, aside);
        return -1;
    }
    printf("ppo: %s has no checkpoint to resume from; it was moved to %s and a new run starts\n", log, aside);
    return 0;
}

/* path with its directory resolved (symlinks, "..", "./"), for a file that may not exist yet; 0 on
 * success, -1 when the directory does not exist (the caller's can_create check reports that). */
static int resolve_path(const char *path, char *out, size_t out_len)
{
    const char *slash = strrchr(path, '/');
    char dir[PATH_MAX], real[PATH_MAX];
    if (!slash)
        snprintf(dir, sizeof dir, ".");
    else
        snprintf(dir, sizeof dir, "%.*s", slash == path ? 1 : (int)(slash - path), path);
    if (!realpath(dir, real))
        return -1;
    int n = snprintf(out, out_len, "%s/%s", real, slash ? slash + 1 : path);
    return n < 0 || (size_t)n >= out_len ? -1 : 0;
}

/* Whether two paths name one file: the same inode when both exist, else the same resolved path
 * (so --log a.h5 --save ./a.h5 is caught, not only identical strings). */
static bool same_file(const char *a, const char *b)
{
    if (!strcmp(a, b))
        return true;
    struct stat sa, sb;
    if (stat(a, &sa) == 0 && stat(b, &sb) == 0)
        return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
    char ra[PATH_MAX], rb[PATH_MAX];
    return resolve_path(a, ra, sizeof ra) == 0 && resolve_path(b, rb, sizeof rb) == 0 && !strcmp(ra, rb);
}

/* Default paths: runs/ENV_sSEED_YYYYmmdd-HHMMSS.h5 and the same stem + .policy.h5. Returns -1 when a
 * derived name would not fit (the same on every rank). */
static int resolve_paths(ppo_config *c, const par_layout *par, bool *default_log)
{
    *default_log = c->log[0] == 0;
    if (*default_log && par->rank == 0) {
        char stamp[32];
        time_t now = time(NULL);
        strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", localtime(&now));
        snprintf(c->log, sizeof c->log, "runs/%s_s%lld_%s.h5", c->env, c->seed, stamp);
    }
    MPI_Bcast(c->log, sizeof c->log, MPI_CHAR, 0, par->comm);
    const int n = log_stem_len(c->log);
    int fits = 1;
    if (!c->save[0])
        fits &= snprintf(c->save, sizeof c->save, "%.*s.policy.h5", n, c->log) < (int)sizeof c->save;
    if (!c->checkpoint[0])
        fits &= snprintf(c->checkpoint, sizeof c->checkpoint, "%.*s.ckpt.h5", n, c->log) < (int)sizeof c->checkpoint;
    return fits ? 0 : -1;
}

/* Options that may differ between a run and its resumption (they do not change the computation). */
static bool option_may_change(const char *name)
{
    static const char *const names[] = {"resume", "force", "total_steps", "checkpoint_every", "eval_episodes",
                                        "check_params", "progress_interval", "progress", "config", "threads",
                                        "preset", "log_trajectories"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (!strcmp(name, names[i]))
            return true;
    return false;
}

/* The resolved options as "name=value" lines, stored in training checkpoints. */
static void options_text(const ppo_config *c, char *out, size_t len)
{
    size_t used = 0;
    out[0] = 0;
    for (int i = 0; i < config_option_count() && used < len; i++) {
        char buf[CONFIG_PATH + 8];
        double num;
        config_option_value(c, i, buf, sizeof buf, &num);
        used += (size_t)snprintf(out + used, len - used, "%s=%s\n", config_option_name(i), buf);
    }
}

/* Copies the value of `name` from "name=value" lines into out; false when absent. */
static bool saved_value(const char *saved, const char *name, char *out, size_t len)
{
    const size_t n = strlen(name);
    for (const char *line = saved; *line;) {
        const char *eol = strchr(line, '\n');
        if (!eol)
            eol = line + strlen(line);
        if (!strncmp(line, name, n) && line[n] == '=') {
            snprintf(out, len, "%.*s", (int)(eol - line - (ptrdiff_t)n - 1), line + n + 1);
            return true;
        }
        line = *eol ? eol + 1 : eol;
    }
    return false;
}

/* Names the first option that differs between a checkpoint's options and ours; 0 when they agree. */
static int options_mismatch(const char *saved, const ppo_config *c, char *err, size_t err_len)
{
    for (int i = 0; i < config_option_count(); i++) {
        const char *name = config_option_name(i);
        if (option_may_change(name))
            continue;
        char mine[CONFIG_PATH + 8], theirs[CONFIG_PATH + 8];
        double num;
        config_option_value(c, i, mine, sizeof mine, &num);
        if (!saved_value(saved, name, theirs, sizeof theirs)) { /* an option newer than the checkpoint: its default */
            ppo_config defaults;
            config_defaults(&defaults);
            config_option_value(&defaults, i, theirs, sizeof theirs, &num);
        }
        if (strcmp(mine, theirs)) {
            snprintf(err, err_len, "the checkpoint was made with %s=%.200s, this run has %s=%.200s; resume with the same options",
                     name, theirs, name, mine);
            return -1;
        }
    }
    return 0;
}

/* Collective: the episodes each rank recorded in the last rollout, gathered on rank 0 and appended to
 * the log's /trajectories in rank order. */
static int log_trajectories(trainer *tr, const par_layout *par, h5log *log, long long update, char *err, size_t err_len)
{
    const float *rows;
    const traj_record *recs;
    const int n_eps = trainer_trajectories(tr, &rows, &recs);
    const ppo_env_spec *spec = trainer_spec(tr);
    const traj_layout tl = {spec->obs_dim, spec->action_dim, spec->render_dim};
    const int W = traj_row_width(&tl);
    int n_rows = 0;
    for (int e = 0; e < n_eps; e++)
        n_rows += recs[e].length;
    int mine[2] = {n_eps, n_rows};
    int *counts = par->rank == 0 ? malloc(sizeof(int) * 2 * (size_t)par->size) : NULL;
    MPI_Gather(mine, 2, MPI_INT, counts, 2, MPI_INT, 0, par->comm);
    int *rc_eps = NULL, *dp_eps = NULL, *rc_rows = NULL, *dp_rows = NULL;
    traj_record *all_recs = NULL;
    float *all_rows = NULL;
    long long tot_eps = 0, tot_rows = 0;
    if (par->rank == 0) {
        rc_eps = malloc(sizeof(int) * (size_t)par->size);
        dp_eps = malloc(sizeof(int) * (size_t)par->size);
        rc_rows = malloc(sizeof(int) * (size_t)par->size);
        dp_rows = malloc(sizeof(int) * (size_t)par->size);
        for (int r = 0; r < par->size; r++) {
            dp_eps[r] = (int)(tot_eps * (long long)sizeof(traj_record));
            rc_eps[r] = counts[2 * r] * (int)sizeof(traj_record);
            dp_rows[r] = (int)(tot_rows * W);
            rc_rows[r] = counts[2 * r + 1] * W;
            tot_eps += counts[2 * r];
            tot_rows += counts[2 * r + 1];
        }
        all_recs = malloc(sizeof(traj_record) * (size_t)(tot_eps ? tot_eps : 1));
        all_rows = malloc(sizeof(float) * (size_t)(tot_rows ? tot_rows : 1) * (size_t)W);
    }
    MPI_Gatherv(recs, n_eps * (int)sizeof(traj_record), MPI_BYTE, all_recs, rc_eps, dp_eps, MPI_BYTE, 0, par->comm);
    MPI_Gatherv(rows, n_rows * W, MPI_FLOAT, all_rows, rc_rows, dp_rows, MPI_FLOAT, 0, par->comm);
    int rc = 0;
    if (par->rank == 0 && tot_eps > 0) {
        traj_episode *eps = malloc(sizeof(traj_episode) * (size_t)tot_eps);
        for (int r = 0, k = 0; r < par->size; r++)
            for (int j = 0; j < counts[2 * r]; j++, k++)
                eps[k] = (traj_episode){update, r, all_recs[k].env_index, all_recs[k].length,
                                        (int64_t)all_recs[k].seed, all_recs[k].ret};
        rc = h5log_append_trajectories(log, all_rows, eps, (int)tot_eps, err, err_len);
        free(eps);
    }
    free(counts);
    free(rc_eps);
    free(dp_eps);
    free(rc_rows);
    free(dp_rows);
    free(all_recs);
    free(all_rows);
    return rc;
}

/* Collective: gathers every rank's RNG words on rank 0, which writes the checkpoint atomically. */
static int write_training_checkpoint(trainer *tr, const par_layout *par, const ppo_config *cfg, const char *path,
                                     const char *run_id, const h5log *log, bool replace_any, double wall,
                                     long long resumes, char *err, size_t err_len)
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
    char *opts = par->rank == 0 ? malloc(16384) : NULL;
    err[0] = 0;
    if (!mine || (par->rank == 0 && (!all || !opts)))
        snprintf(err, err_len, "out of memory writing checkpoint %s", path);
    else
        trainer_save_rngs(tr, mine);
    MPI_Gather(mine, (int)words, MPI_UINT64_T, all, (int)words, MPI_UINT64_T, 0, par->comm);
    if (par->rank == 0 && !err[0] && log && !h5log_is_at(log, cfg->log))
        snprintf(err, err_len, "log %s was replaced by another run meanwhile (two runs with --force on one --log?); "
                 "this run stops without writing %s", cfg->log, path);
    if (par->rank == 0 && !err[0]) {
        options_text(cfg, opts, 16384);
        adam_state *adam = trainer_adam(tr);
        checkpoint ck = {0};
        snprintf(ck.env, sizeof ck.env, "%s", cfg->env);
        snprintf(ck.env_options, sizeof ck.env_options, "%s", cfg->env_options);
        snprintf(ck.hidden, sizeof ck.hidden, "%s", cfg->hidden);
        snprintf(ck.activation, sizeof ck.activation, "%s", cfg->activation);
        snprintf(ck.run_id, sizeof ck.run_id, "%s", run_id);
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
            .present = true, .update = trainer_update_count(tr), .resumes = resumes, .wall_time = wall,
            .ranks = par->size, .envs_per_rank = cfg->envs_per_rank, .adam_step = adam->step,
            .adam_m = adam->m, .adam_v = adam->v, .rng = (unsigned long long *)all, .rng_per_rank = words,
            .options = opts,
            .env_state = all_envs, .env_state_per_rank = env_bytes,
            .has_return_stats = rs != NULL,
            .ret_count = rs ? rs->count : 0, .ret_mean = rs ? rs->mean[0] : 0, .ret_var = rs ? rs->var[0] : 0,
        };
        /* never over another run's file (a new run's --force removed the previous run's at its start) */
        checkpoint_save(path, replace_any ? CHECKPOINT_REPLACE_ANY : CHECKPOINT_REPLACE_OWN, &ck, &ts, err, err_len);
    }
    free(mine);
    free(all);
    free(opts);
    free(my_envs);
    free(all_envs);
    return par_bcast_error(par, err, (int)err_len) ? 0 : -1;
}

/* Collective: loads a training checkpoint on every rank and puts the trainer in its state. Returns the
 * completed updates via *update, the resume count via *resumes and the run's id via run_id. The
 * options are compared first (from the attributes alone); the arrays are then read against the sizes
 * this run needs, so a crafted file never costs more than the real state would. */
static int load_training_checkpoint(trainer *tr, const par_layout *par, const ppo_config *cfg, const char *path,
                                    long long *update, long long *resumes, double *wall, bool *exact_envs,
                                    char *run_id, size_t run_id_len, char *err, size_t err_len)
{
    checkpoint ck;
    train_state ts;
    err[0] = 0;
    const running_stats *os = trainer_obs_stats(tr);
    const checkpoint_expect want = {
        .n_params = (size_t)trainer_param_count(tr), .obs_dim = os ? os->dim : 0, .ranks = par->size,
        .rng_per_rank = trainer_rng_words(tr), .env_state_per_rank = trainer_env_state_size(tr),
    };
    if (checkpoint_load_header(path, &ck, &ts, err, err_len) == 0) {
        if (!ts.present)
            snprintf(err, err_len, "%s is a policy checkpoint without training state; it cannot be resumed", path);
        else if (ts.ranks != par->size)
            snprintf(err, err_len,
                     "checkpoint %s was written by %d ranks; resume it with mpirun -n %d (the RNG and env state is per rank)",
                     path, ts.ranks, ts.ranks);
        else
            options_mismatch(ts.options, cfg, err, err_len);
        train_state_free(&ts);
    }
    if (!err[0] && checkpoint_load(path, &want, &ck, &ts, err, err_len) == 0) {
        if (!ts.present) /* the header said it was there: the file changed meanwhile */
            snprintf(err, err_len, "%s is a policy checkpoint without training state; it cannot be resumed", path);
        else if (!os != !ck.obs_norm_dim)
            snprintf(err, err_len, "checkpoint %s: %s observation statistics, this run %s them (corrupt?)", path,
                     ck.obs_norm_dim ? "has" : "lacks", os ? "needs" : "does not use");
        else if (ck.global_step != ts.update * trainer_steps_per_update(tr))
            snprintf(err, err_len, "checkpoint %s: global_step %lld is not its %lld updates x %lld steps (corrupt?)",
                     path, ck.global_step, ts.update, trainer_steps_per_update(tr));
        else if (ts.env_state && !trainer_env_state_size(tr))
            snprintf(err, err_len, "checkpoint %s: /train/env_state is present, but this env's state is not saved "
                     "(corrupt?)", path);
        if (!err[0]) {
            adam_state *adam = trainer_adam(tr);
            memcpy(trainer_params(tr), ck.params, ck.n_params * sizeof(float));
            memcpy(adam->m, ts.adam_m, ck.n_params * sizeof(float));
            memcpy(adam->v, ts.adam_v, ck.n_params * sizeof(float));
            adam->step = ts.adam_step;
            trainer_load_rngs(tr, (const uint64_t *)ts.rng + (size_t)par->rank * ts.rng_per_rank);
            running_stats *obs = trainer_obs_stats(tr), *rs = trainer_return_stats(tr);
            if (obs) {
                obs->count = ck.obs_norm_count;
                memcpy(obs->mean, ck.obs_norm_mean, sizeof(double) * (size_t)obs->dim);
                memcpy(obs->var, ck.obs_norm_var, sizeof(double) * (size_t)obs->dim);
            }
            if (rs && ts.has_return_stats) {
                rs->count = ts.ret_count;
                rs->mean[0] = ts.ret_mean;
                rs->var[0] = ts.ret_var;
            }
            *update = ts.update;
            *resumes = ts.resumes + 1;
            *wall = ts.wall_time;
            snprintf(run_id, run_id_len, "%s", ck.run_id);
            const bool exact = ts.env_state != NULL; /* of this run's size: checkpoint_load checked */
            *exact_envs = exact;
            const int bad = trainer_resume(tr, ts.update, *resumes,
                                           exact ? ts.env_state + (size_t)par->rank * ts.env_state_per_rank : NULL);
            if (bad >= 0)
                snprintf(err, err_len, "checkpoint %s: env %d of rank %d: its saved state is not valid (corrupt, or "
                         "written by another build of the physics)", path, bad, par->rank);
        }
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

typedef struct {
    bool tty;
    double last_print;
} progress;

/* Rank 0: the returns of the last RECENT_EPISODES finished episodes (all ranks, in gather order), whose
 * mean is the console's return, as Stable-Baselines3's ep_rew_mean; a resumed run starts it afresh. */
enum { RECENT_EPISODES = 100 };
typedef struct {
    double ret[RECENT_EPISODES];
    int n, next;
    double best_full; /* best mean over a full window of RECENT_EPISODES; -inf until there is one */
    double best_any;  /* best mean over the episodes so far, for runs with fewer */
} recent_returns;

static void recent_add(recent_returns *r, double ret)
{
    r->ret[r->next] = ret;
    r->next = (r->next + 1) % RECENT_EPISODES;
    if (r->n < RECENT_EPISODES)
        r->n++;
}

/* The window's mean (NaN when empty), and the bests updated with it. */
static double recent_mean_update(recent_returns *r)
{
    if (r->n == 0)
        return NAN;
    double s = 0.0;
    for (int i = 0; i < r->n; i++)
        s += r->ret[i];
    const double mean = s / r->n;
    r->best_any = fmax(r->best_any, mean);
    if (r->n == RECENT_EPISODES)
        r->best_full = fmax(r->best_full, mean);
    return mean;
}

/* Collective: this rank's phase times since the last call, reduced to mean and max over the ranks on
 * rank 0. The clock's sums restart; its mark stays, so the rest of this update's logging (the row, the
 * progress line) is charged to the next update. */
static void phase_times_reduce(phase_clock *clk, const par_layout *par, double mean[PHASE_COUNT], double max[PHASE_COUNT])
{
    MPI_Reduce(clk->sec, mean, PHASE_COUNT, MPI_DOUBLE, MPI_SUM, 0, par->comm);
    MPI_Reduce(clk->sec, max, PHASE_COUNT, MPI_DOUBLE, MPI_MAX, 0, par->comm);
    for (int p = 0; p < PHASE_COUNT; p++) {
        mean[p] /= par->size;
        clk->sec[p] = 0.0;
    }
}

/* ret_recent: the mean of the last RECENT_EPISODES episodes (NaN before the first). */
static void progress_print(progress *p, const ppo_config *c, const update_stats *st, long long total_updates,
                           double wall, double sps, double ret_recent, const double *phase_mean, bool last)
{
    const double t = now_seconds();
    if (!last && t - p->last_print < (p->tty ? 0.1 : c->progress_interval))
        return;
    p->last_print = t;
    char ret[32];
    if (!isnan(ret_recent))
        snprintf(ret, sizeof ret, "%8.2f", ret_recent);
    else
        snprintf(ret, sizeof ret, "%8s", "-");
    char ppo_only[64] = ""; /* A2C and REINFORCE have no ratio: no KL or clipping to show */
    if (!strcmp(c->algo, "ppo"))
        snprintf(ppo_only, sizeof ppo_only, "  kl %.4f  clip %.3f", st->approx_kl, st->clip_fraction);
    double busy = 0.0; /* the update's time, mean over ranks: the phases' shares of it */
    for (int k = 0; k < PHASE_COUNT; k++)
        busy += phase_mean[k];
    char split[128] = "";
    for (int k = 0, n = 0; k < PHASE_COUNT && busy > 0; k++)
        n += snprintf(split + n, sizeof split - (size_t)n, " %s %.0f", run_phase_names[k], 100.0 * phase_mean[k] / busy);
    char line[384];
    snprintf(line, sizeof line,
             "update %5lld/%lld  steps %9lld  %6.1fs  %7.0f steps/s  return(100) %s  entropy %.3f%s  ev %5.2f"
             "  time%%%s",
             st->update, total_updates, st->global_step, wall, sps, ret, st->entropy, ppo_only,
             st->explained_variance, split);
    if (p->tty)
        printf("\r%s\033[K%s", line, last ? "\n" : "");
    else
        printf("%s\n", line);
    fflush(stdout);
}

/* Collective: the end of a completed run — final policy (with training state), summary, optional
 * evaluation, log closed. Returns the exit status, the same on every rank. */
static int finish_run(trainer *tr, const par_layout *par, const ppo_config *cfg, h5log *log, const char *run_id,
                      double train_seconds, double wall_before, long long start_update, long long resumes,
                      const recent_returns *recent)
{
    char err[2048];
    int status = EXIT_OK;
    const ppo_env_spec *spec = trainer_spec(tr);
    const long long total_updates = trainer_updates_total(tr);
    /* the final policy, with its training state so that the run can be extended later */
    const bool replace_any = cfg->force && start_update > 0; /* --force with --resume: any file at the paths */
    if (write_training_checkpoint(tr, par, cfg, cfg->save, run_id, log, replace_any, train_seconds, resumes, err,
                                  sizeof err)) {
        if (par->rank == 0)
            fprintf(stderr, "ppo: error: %s\n", err);
        status = EXIT_FAILURE_RUN;
    }
    if (par->rank == 0) {
        const long long trained = (total_updates - start_update) * trainer_steps_per_update(tr);
        printf("trained %lld steps in %.1f s (%.0f steps/s)", trained, train_seconds - wall_before,
               (double)trained / (train_seconds - wall_before));
        if (recent->best_full > -INFINITY) /* the best of the console's return(100) */
            printf("; best mean return over %d consecutive episodes %.2f\n", RECENT_EPISODES, recent->best_full);
        else if (recent->n > 0)
            printf("; best mean return %.2f (fewer than %d episodes finished)\n", recent->best_any, RECENT_EPISODES);
        else
            printf("; no episode finished\n");
        if (cfg->eval_episodes > 0 && status == EXIT_OK) {
            eval_result ev;
            if (eval_policy(trainer_model(tr), trainer_params(tr), trainer_obs_stats(tr), cfg->clip_obs, cfg->env,
                            cfg->env_options, cfg->eval_episodes, (unsigned long long)cfg->seed + 1000000ULL, true,
                            NULL, &ev, err, sizeof err)) {
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
        char abs_log[PATH_MAX]; /* the hint works from any directory (ppo-analyze: installed by scripts/build.sh) */
        const char *shown = realpath(cfg->log, abs_log) ? abs_log : cfg->log;
        printf("policy: %s\nlog: %s  (look at it: ppo-analyze summary %s; curves: ppo-analyze curves %s)\n",
               cfg->save, cfg->log, shown, shown);
    }
    MPI_Bcast(&status, 1, MPI_INT, 0, par->comm);
    return status;
}

/* Rank 0, a resume without --force: -1 with err when the checkpoint or final policy this run will write
 * holds another run's file (or an unreadable one), which the run would otherwise replace. */
static int others_files(const ppo_config *cfg, const char *run_id, char *err, size_t err_len)
{
    const char *paths[2] = {cfg->checkpoint, cfg->save};
    for (int i = 0; i < 2; i++) {
        long long update;
        char theirs[CHECKPOINT_RUN_ID], why[1024];
        const int peek = checkpoint_peek(paths[i], &update, theirs, sizeof theirs, why, sizeof why);
        if (peek < 0) {
            snprintf(err, err_len, "%s; this run would replace it: move it away, or use --force", why);
            return -1;
        }
        if (peek == 0 && strcmp(theirs, run_id)) {
            snprintf(err, err_len, "checkpoint %s belongs to another run (run id %s, this run is %s); move it away, "
                     "or use --force", paths[i], theirs[0] ? theirs : "(none)", run_id[0] ? run_id : "(none)");
            return -1;
        }
    }
    return 0;
}

/* Rank 0, a new run with --force: deletes the checkpoint and final policy of the run it replaces.
 * Returns -1 with err set when one exists and cannot be removed. */
static int remove_previous_run_files(const ppo_config *cfg, char *err, size_t err_len)
{
    const char *paths[2] = {cfg->checkpoint, cfg->save};
    for (int i = 0; i < 2; i++) {
        if (unlink(paths[i]) == 0)
            printf("ppo: removed %s of the previous run (--force)\n", paths[i]);
        else if (errno != ENOENT) {
            snprintf(err, err_len, "cannot remove %s of the previous run: %s", paths[i], strerror(errno));
            return -1;
        }
    }
    return 0;
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
    int world_rank = 0, mpi_up = 0;
    MPI_Initialized(&mpi_up); /* not for --help typed at a shell (main.c) */
    if (mpi_up)
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
    if (!par_all_ok(&par, !par.threads_error[0])) { /* nodes may differ in CPUs: every rank must know */
        if (par.rank == 0)
            fprintf(stderr, "ppo: error: %s\n", par.threads_error[0] ? par.threads_error
                                                                       : "a rank on another node refused the thread count");
        return EXIT_BAD_INPUT;
    }
    char preset_desc[1024];
    config_apply_preset(&cfg, &set, par.size, preset_desc, sizeof preset_desc);
    if (config_validate(&cfg, par.size, err, sizeof err)) {
        if (par.rank == 0)
            fprintf(stderr, "ppo: error: %s\n", err);
        return EXIT_BAD_INPUT;
    }
    { /* the env id and options are checked before anything is written */
        const double heap_before = heap_bytes();
        ppo_env *probe = ppo_env_make(cfg.env, cfg.env_options, err, sizeof err);
        if (!probe) {
            if (par.rank == 0)
                fprintf(stderr, "ppo: error: %s\n", err);
            return EXIT_BAD_INPUT;
        }
        /* the buffers' size from the options, before they are allocated: a run the node cannot hold is
         * refused here rather than killed by the OOM killer minutes later */
        const ppo_env_spec *ps = ppo_env_get_spec(probe);
        float obs[PPO_ENV_MAX_OBS_DIM];
        ppo_env_reset(probe, obs); /* a Box2D env builds its bodies here */
        const double env_bytes = heap_bytes() - heap_before; /* one env (BipedalWalker: ~0.3 MB) */
        double rollout, minibatch;
        const double bytes = config_memory_estimate(&cfg, ps->obs_dim, ps->action_dim, ps->render_dim,
                                                    ps->max_episode_steps, &rollout, &minibatch) +
                             env_bytes * cfg.envs_per_rank;
        ppo_env_free(probe);
        char what[200];
        snprintf(what, sizeof what, "option envs_per_rank x rollout_steps: the envs and training buffers (envs %.2f GB, "
                 "rollout %.2f GB, minibatch %.2f GB per rank)", env_bytes * cfg.envs_per_rank / 1e9, rollout / 1e9,
                 minibatch / 1e9);
        if (par_check_memory(&par, bytes, what, err, sizeof err)) {
            if (par.rank == 0)
                fprintf(stderr, "ppo: error: %s\n", err);
            return EXIT_BAD_INPUT;
        }
    }
    bool default_log;
    if (resolve_paths(&cfg, &par, &default_log)) {
        if (par.rank == 0)
            fprintf(stderr, "ppo: error: option log: the path is too long to name its .policy.h5 and .ckpt.h5 beside it "
                            "(give --save and --checkpoint)\n");
        return EXIT_BAD_INPUT;
    }
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

    /* resume: an explicit checkpoint must exist; "auto" continues the --log's run from the newest of its
     * checkpoint and its final policy, does nothing when the run is complete, and starts a new run when
     * there is no checkpoint (moving a log left without one aside, never overwriting it) */
    const char *resume_path = NULL;
    bool move_aside = false; /* rank 0: a log without checkpoint, moved aside once every check passed */
    if (cfg.resume[0] && strcmp(cfg.resume, "auto"))
        resume_path = cfg.resume;
    else if (cfg.resume[0]) {
        int choice = 0; /* 0 new run, 1 checkpoint, 2 final policy, 3 complete, 4 unreadable */
        if (par.rank == 0) {
            long long ck = -1, fin = -1;
            char id[CHECKPOINT_RUN_ID];
            const int pc = checkpoint_peek(cfg.checkpoint, &ck, id, sizeof id, err, sizeof err);
            const int pf = pc < 0 ? -1 : checkpoint_peek(cfg.save, &fin, id, sizeof id, err, sizeof err);
            const long long best = ck > fin ? ck : fin;
            choice = best >= trainer_updates_total(tr) ? 3 : best < 0 ? 0 : ck >= fin ? 1 : 2;
            if ((pc < 0 || pf < 0) && !cfg.force) { /* --force: a new run replaces it */
                choice = 4;
                snprintf(err + strlen(err), sizeof err - strlen(err),
                         "; it cannot be resumed from (move it away, or use --force)");
            }
            if (choice == 3)
                printf("ppo: run %s is already complete (%lld of %lld updates in %s); nothing to do\n", cfg.log, best,
                       trainer_updates_total(tr), ck >= fin ? cfg.checkpoint : cfg.save);
            move_aside = choice == 0 && access(cfg.log, F_OK) == 0;
        }
        MPI_Bcast(&choice, 1, MPI_INT, 0, par.comm);
        if (choice == 3 || choice == 4) {
            if (choice == 4 && par.rank == 0)
                fprintf(stderr, "ppo: error: %s\n", err);
            trainer_free(tr);
            return choice == 3 ? EXIT_OK : EXIT_BAD_INPUT;
        }
        resume_path = choice == 1 ? cfg.checkpoint : choice == 2 ? cfg.save : NULL;
    }
    long long start_update = 0, resumes = 0;
    double wall_before = 0.0;
    bool exact_envs = false;
    char run_id[CHECKPOINT_RUN_ID] = ""; /* a resume continues its checkpoint's run; else a new run */
    if (!resume_path && par.rank == 0)
        new_run_id(run_id, sizeof run_id);
    if (resume_path &&
        load_training_checkpoint(tr, &par, &cfg, resume_path, &start_update, &resumes, &wall_before, &exact_envs,
                                 run_id, sizeof run_id, err, sizeof err)) {
        if (par.rank == 0)
            fprintf(stderr, "ppo: error: %s\n", err);
        trainer_free(tr);
        return EXIT_BAD_INPUT;
    }
    if (resume_path && start_update >= trainer_updates_total(tr)) { /* as --resume auto: nothing is touched */
        if (par.rank == 0)
            printf("ppo: run %s is already complete (%lld of %lld updates in %s); nothing to do\n", cfg.log,
                   start_update, trainer_updates_total(tr), resume_path);
        trainer_free(tr);
        return EXIT_OK;
    }

    const char *fault = getenv("PPO_FAULT_SIGNAL_IN_SETUP"); /* tests: a signal at the end of set-up */
    if (fault && atoi(fault) > 0)
        raise(atoi(fault));
    signals_arm_stop(); /* from here files are written: a signal asks for a stop and a checkpoint */
    if (par.rank == 0) {
        err[0] = 0;
        const char *twice = same_file(cfg.log, cfg.save) || same_file(cfg.log, cfg.checkpoint) ? cfg.log
                            : same_file(cfg.save, cfg.checkpoint)                               ? cfg.save
                                                                                                : NULL;
        if (twice)
            snprintf(err, sizeof err, "--log, --save and --checkpoint must be different files, but two are %s", twice);
        else if (!resume_path && !cfg.force && access(cfg.save, F_OK) == 0)
            snprintf(err, sizeof err, "checkpoint %s already exists (use --force to overwrite, or --save)", cfg.save);
        else if (!resume_path && !cfg.force && access(cfg.checkpoint, F_OK) == 0)
            snprintf(err, sizeof err, cfg.resume[0] ? "checkpoint %s exists but cannot be resumed from (corrupt?); "
                                                      "move it away, or use --force"
                                                    : "checkpoint %s already exists (continue it with --resume auto, "
                                                      "or use --force)",
                     cfg.checkpoint);
        else if (resume_path && !cfg.force && others_files(&cfg, run_id, err, sizeof err))
            ; /* err says whose */
        else if (resume_path) {
            const h5log_resume want = {
                .keep_updates = start_update, .run_id = run_id, .global_batch = trainer_steps_per_update(tr),
                .traj = {spec->obs_dim, spec->action_dim, spec->render_dim},
                .need_trajectories = cfg.log_trajectories > 0,
            };
            log = h5log_reopen(cfg.log, &want, err, sizeof err);
        }
        else if (default_log && mkdir_parent(cfg.log))
            snprintf(err, sizeof err, "cannot create the directory for log %s", cfg.log);
        else if (!can_create(cfg.log))
            snprintf(err, sizeof err, "cannot create log %s (%s)", cfg.log, why_not(cfg.log));
        else if (!can_create(cfg.save))
            snprintf(err, sizeof err, "cannot create checkpoint %s (%s)", cfg.save, why_not(cfg.save));
        else if (!can_create(cfg.checkpoint))
            snprintf(err, sizeof err, "cannot create checkpoint %s (%s)", cfg.checkpoint, why_not(cfg.checkpoint));
        else if (move_aside && move_log_aside(cfg.log, err, sizeof err))
            ; /* err says why */
        else {
            log_context ctx = {
                .ranks = par.size, .threads_per_rank = par.threads, .hostnames = par.hostnames,
                .version = PPO_VERSION, .cpu_isa = nn_cpu_isa(), .start_time = start_time, .obs_dim = spec->obs_dim,
                .action_dim = spec->action_dim, .action_count = spec->action_count,
                .action_kind = spec->action_kind == PPO_ACTION_DISCRETE ? "discrete" : "continuous",
                .reward_threshold = spec->has_reward_threshold ? spec->reward_threshold : NAN,
                .global_batch = trainer_steps_per_update(tr), .run_id = run_id,
            };
            const traj_layout tl = {spec->obs_dim, spec->action_dim, spec->render_dim};
            log = h5log_create(cfg.log, cfg.force, &cfg, &ctx, cfg.log_trajectories > 0 ? &tl : NULL, err, sizeof err);
            /* --force replaces the previous run whole: its checkpoint and final policy left beside the new log
             * would let --resume auto continue (or call complete) a run this log is not from */
            if (log && !resume_path && remove_previous_run_files(&cfg, err, sizeof err)) {
                h5log_close(log);
                log = NULL;
            }
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
        if (total_updates * trainer_steps_per_update(tr) != cfg.total_steps)
            printf("note: --total-steps %lld is not a multiple of the global batch (%lld steps): training %lld steps\n",
                   cfg.total_steps, trainer_steps_per_update(tr), total_updates * trainer_steps_per_update(tr));
        printf("layout: %d rank%s x %d thread%s (%s) on %s; %d envs/rank x %d steps; %d minibatches x %d epochs; "
               "%d parameters; oneDNN %s kernels\n",
               par.size, par.size > 1 ? "s" : "", par.threads, par.threads > 1 ? "s" : "", par.threads_reason,
               par.hostnames, cfg.envs_per_rank, cfg.rollout_steps, cfg.minibatches, cfg.epochs,
               trainer_param_count(tr), nn_cpu_isa());
        printf("preset: %s\n", preset_desc[0] ? preset_desc : "none (defaults and flags only)");
        printf("log: %s\n", cfg.log);
        if (resume_path)
            printf("resumed from %s after update %lld (resume %lld; %s)\n", resume_path, start_update, resumes,
                   exact_envs ? "envs continue their episodes exactly"
                              : "envs restart their episodes: the checkpoint holds no env states");
        fflush(stdout);
    }

    /* inside a Slurm job stdout is a file even when mpirun hands the rank a pseudo-terminal */
    const bool live = !strcmp(cfg.progress, "live") ||
                      (!strcmp(cfg.progress, "auto") && isatty(STDOUT_FILENO) == 1 && !getenv("SLURM_JOB_ID"));
    progress prog = {live, 0.0};
    episode_record *all_eps = NULL;
    int *counts = NULL, *displs = NULL;
    if (par.rank == 0) {
        all_eps = malloc(sizeof(episode_record) * (size_t)trainer_steps_per_update(tr));
        counts = malloc(sizeof(int) * (size_t)par.size);
        displs = malloc(sizeof(int) * (size_t)par.size);
    }
    log_episode *rows = par.rank == 0 ? malloc(sizeof(log_episode) * (size_t)trainer_steps_per_update(tr)) : NULL;
    const double t0 = now_seconds() - wall_before;
    recent_returns recent = {.best_full = -INFINITY, .best_any = -INFINITY};
    int status = EXIT_OK;
    int stop_signal = 0;
    long long nonfinite_update = 0;
    phase_clock *clk = trainer_clock(tr);
    double phase_mean[PHASE_COUNT], phase_max[PHASE_COUNT];
    phase_clock_reset(clk);
    for (long long u = start_update; u < total_updates; u++) {
        if (u > start_update) { /* a collective decision, so that every rank stops after the same update */
            int sig = signals_stop_requested();
            MPI_Allreduce(MPI_IN_PLACE, &sig, 1, MPI_INT, MPI_MAX, par.comm);
            const bool periodic = cfg.checkpoint_every > 0 && u % cfg.checkpoint_every == 0;
            if (sig || periodic) {
                if (write_training_checkpoint(tr, &par, &cfg, cfg.checkpoint, run_id, log, cfg.force && start_update > 0,
                                              now_seconds() - t0, resumes, err, sizeof err))
                    par_abort(&par, 5, err);
                if (par.rank == 0 && (sig || !prog.tty))
                    printf("%scheckpoint: %s after update %lld\n", prog.tty ? "\n" : "", cfg.checkpoint, u);
            }
            if (sig) {
                stop_signal = sig;
                break;
            }
        }
        phase_clock_lap(clk, PHASE_LOG);
        const double tu = now_seconds();
        trainer_rollout(tr);
        update_stats st;
        trainer_optimize(tr, &st);
        if (st.nonfinite) { /* identical on every rank, so every rank stops here */
            nonfinite_update = st.update;
            break;
        }
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
        if (cfg.log_trajectories > 0 && log_trajectories(tr, &par, log, st.update, err, sizeof err))
            par_abort(&par, 5, err);
        phase_clock_lap(clk, PHASE_LOG);
        phase_times_reduce(clk, &par, phase_mean, phase_max);
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
            .time_env = phase_mean[PHASE_ENV], .time_infer = phase_mean[PHASE_INFER], .time_gae = phase_mean[PHASE_GAE],
            .time_grad = phase_mean[PHASE_GRAD], .time_comm = phase_mean[PHASE_COMM],
            .time_optim = phase_mean[PHASE_OPTIM], .time_log = phase_mean[PHASE_LOG],
            .time_env_max = phase_max[PHASE_ENV], .time_infer_max = phase_max[PHASE_INFER],
            .time_gae_max = phase_max[PHASE_GAE], .time_grad_max = phase_max[PHASE_GRAD],
            .time_comm_max = phase_max[PHASE_COMM], .time_optim_max = phase_max[PHASE_OPTIM],
            .time_log_max = phase_max[PHASE_LOG],
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
            for (int k = 0; k < total_eps; k++)
                recent_add(&recent, all_eps[k].ret);
        }
        const double ret_recent = recent_mean_update(&recent);
        if (h5log_append_metrics(log, &m, err, sizeof err) || h5log_append_episodes(log, rows, total_eps, err, sizeof err) ||
            h5log_flush(log, err, sizeof err))
            par_abort(&par, 5, err);
        progress_print(&prog, &cfg, &st, total_updates, m.wall_time, m.steps_per_second, ret_recent, phase_mean,
                       u == total_updates - 1);
    }
    const double train_seconds = now_seconds() - t0;

    if (nonfinite_update) { /* every rank knows: the gradient was reduced before the check */
        if (par.rank == 0) {
            h5log_close(log);
            fprintf(stderr,
                    "ppo: error: update %lld produced a non-finite gradient (NaN/Inf); it was not applied and no "
                    "checkpoint was written after it (last: %s, if any); the log ends at update %lld\n",
                    nonfinite_update, cfg.checkpoint, nonfinite_update - 1);
        }
        status = EXIT_NONFINITE;
    } else if (stop_signal) {
        if (par.rank == 0) {
            h5log_close(log);
            printf("stopped by signal %d: checkpoint %s, log %s; continue with --resume auto --log %s (exit %d)\n",
                   stop_signal, cfg.checkpoint, cfg.log, cfg.log, EXIT_STOPPED);
        }
        status = EXIT_STOPPED;
    } else
        status = finish_run(tr, &par, &cfg, log, run_id, train_seconds, wall_before, start_update, resumes, &recent);
    free(all_eps);
    free(counts);
    free(displs);
    free(rows);
    trainer_free(tr);
    return status;
}
