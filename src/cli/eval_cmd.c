/* `ppo eval`: load a policy checkpoint, run N episodes on fresh seeds, print mean +- std; optionally
 * write the per-episode results (CSV) and a recording of every step for ppo-analyze animate. */
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
#include "envs/env_class.h"
#include "log/checkpoint.h"
#include "log/h5io.h"
#include "log/h5log.h"
#include "ppo/config.h"
#include "ppo/eval.h"
#include "util/parse.h"

#ifndef PPO_VERSION
#define PPO_VERSION "0.0.0"
#endif

#define EVAL_CMD_BATCH 256 /* envs stepped at once by ppo eval (a batch's envs and network rows) */

static void eval_usage(void)
{
    printf("usage: ppo eval [--checkpoint] FILE [--episodes N] [--stochastic] [--seed S] [--out FILE.csv]\n"
           "                [--record FILE.h5]\n\n"
           "Runs the saved policy for N episodes (default 100), episode i seeded with S + i (default S = 12345),\n"
           "greedy by default (argmax / Gaussian mean), and prints the mean +- std return and the fraction of\n"
           "episodes at or above the env's reward threshold.\n"
           "  --out FILE.csv    one line per episode: episode,seed,return,length,terminated\n"
           "  --record FILE.h5  every step of every episode in a log's /trajectories layout (and the results in\n"
           "                    /eval): watch them with analysis/ppo-analyze animate FILE.h5 [--episode I];\n"
           "                    an image env's steps keep its frames as bytes (~27 KB per frame in memory)\n"
           "Neither file is ever overwritten: an existing one is refused before anything runs.\n");
}

/* Refuses an output path that exists or cannot be created (checked before the evaluation runs). */
static int output_ok(const char *path, const char *flag, char *err, size_t len)
{
    struct stat st;
    if (lstat(path, &st) == 0) {
        snprintf(err, len, "%s: %s already exists (ppo eval never overwrites a file; choose another)", flag, path);
        return -1;
    }
    char probe[CONFIG_PATH + 32]; /* a file beside it, removed again: the directory takes new files */
    snprintf(probe, sizeof probe, "%s.probe%d", path, (int)getpid());
    const int fd = open(probe, O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (fd < 0) {
        snprintf(err, len, "%s: cannot create %s: %s", flag, path, strerror(errno));
        return -1;
    }
    close(fd);
    unlink(probe);
    return 0;
}

/* Writes one CSV line per episode to a temporary file published at path by link() (never over a file). */
static int write_csv(const char *path, const eval_episode *eps, int n, char *err, size_t len)
{
    char tmp[CONFIG_PATH + 32];
    snprintf(tmp, sizeof tmp, "%s.tmp%d", path, (int)getpid());
    FILE *f = fopen(tmp, "wx");
    if (!f) {
        snprintf(err, len, "--out: cannot create %.900s: %s", tmp, strerror(errno));
        return -1;
    }
    fprintf(f, "episode,seed,return,length,terminated\n");
    for (int e = 0; e < n; e++)
        fprintf(f, "%d,%llu,%.10g,%d,%d\n", e, (unsigned long long)eps[e].seed, eps[e].ret, eps[e].length,
                eps[e].terminated ? 1 : 0);
    const bool written = fflush(f) == 0 && !ferror(f) && fsync(fileno(f)) == 0;
    if (fclose(f) != 0 || !written) {
        snprintf(err, len, "--out: cannot write %s (disk full?)", path);
        unlink(tmp);
        return -1;
    }
    if (h5io_publish_new(tmp, path) != 0) {
        snprintf(err, len, "--out: %s was created by someone else meanwhile; it is left as it is", path);
        unlink(tmp);
        return -1;
    }
    return 0;
}

/* --record: the episodes' steps and results in a log-layout file that ppo-analyze animate plays. */
static int write_recording(const char *path, const char *policy, const checkpoint *ck, long long update,
                           const eval_runner *r, const eval_episode *eps, int n, unsigned long long seed,
                           bool deterministic, const eval_result *res, char *err, size_t len)
{
    const ppo_env_spec *spec = eval_runner_spec(r);
    const int W = eval_runner_row_width(r);
    size_t steps = 0;
    for (int e = 0; e < n; e++)
        steps += (size_t)eps[e].length;
    float *rows = malloc(sizeof(float) * (steps ? steps : 1) * (size_t)W);
    traj_episode *teps = malloc(sizeof *teps * (size_t)n);
    log_eval_episode *veps = malloc(sizeof *veps * (size_t)n);
    const uint8_t **frames = calloc((size_t)n, sizeof *frames); /* image envs: each episode's, not copied */
    int rc = -1;
    if (!rows || !teps || !veps || !frames) {
        snprintf(err, len, "--record: out of memory for %zu steps", steps);
    } else {
        size_t at = 0;
        for (int e = 0; e < n; e++) {
            memcpy(rows + at * W, eval_runner_steps(r, e), sizeof(float) * (size_t)eps[e].length * W);
            at += (size_t)eps[e].length;
            frames[e] = eval_runner_frames(r, e);
            teps[e] = (traj_episode){update, 0, e, eps[e].length, (int64_t)eps[e].seed, eps[e].ret};
            veps[e] = (log_eval_episode){update, e, (int64_t)eps[e].seed, eps[e].length, eps[e].ret, eps[e].terminated};
        }
        char start_time[32];
        time_t now = time(NULL);
        strftime(start_time, sizeof start_time, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
        const eval_record_context ctx = {
            .env = ck->env, .env_options = ck->env_options, .policy = policy, .run_id = ck->run_id,
            .update = update, .global_step = ck->global_step, .seed = (long long)seed, .episodes = n,
            .deterministic = deterministic, .version = PPO_VERSION, .start_time = start_time,
            .obs_dim = spec->obs_dim, .action_dim = spec->action_dim, .action_count = spec->action_count,
            .action_kind = spec->action_kind == PPO_ACTION_DISCRETE ? "discrete" : "continuous",
            .reward_threshold = spec->has_reward_threshold ? spec->reward_threshold : NAN,
        };
        const log_eval row = {
            .update = update, .global_step = ck->global_step, .episodes = n, .wall_time = NAN, .seconds = NAN,
            .return_mean = res->mean, .return_std = res->std, .return_min = res->min, .return_max = res->max,
            .length_mean = res->mean_length, .new_best = 0,
        };
        traj_layout tl = {spec->obs_dim, spec->action_dim, spec->render_dim, 0, 0, 0};
        if (spec->obs_kind == PPO_OBS_IMAGE) { /* the env's frames as bytes, (H, W, C) */
            tl.frame_height = spec->obs_height;
            tl.frame_width = spec->obs_width;
            tl.frame_channels = spec->obs_channels;
        }
        rc = h5log_write_recording(path, &ctx, &tl, &row, veps, rows, spec->obs_kind == PPO_OBS_IMAGE ? frames : NULL,
                                   teps, n, err, len);
    }
    free(frames);
    free(rows);
    free(teps);
    free(veps);
    return rc;
}

/* The first non-finite number a loaded policy holds, named in `what`; false when all are finite. A NaN
 * policy would otherwise evaluate to NaN returns and exit 0, or fail in the env with a NaN action. */
static bool policy_nonfinite(const checkpoint *ck, char *what, size_t len)
{
    for (size_t i = 0; i < ck->n_params; i++)
        if (!isfinite(ck->params[i])) {
            snprintf(what, len, "parameter %zu of %zu is %g", i, ck->n_params, (double)ck->params[i]);
            return true;
        }
    for (int i = 0; i < ck->obs_norm_dim; i++)
        if (!isfinite(ck->obs_norm_mean[i]) || !(isfinite(ck->obs_norm_var[i]) && ck->obs_norm_var[i] >= 0)) {
            snprintf(what, len, "observation statistic %d is mean %g, variance %g", i, ck->obs_norm_mean[i],
                     ck->obs_norm_var[i]);
            return true;
        }
    if (ck->obs_norm_dim > 0 && !(isfinite(ck->obs_norm_count) && ck->obs_norm_count >= 0 && isfinite(ck->clip_obs))) {
        snprintf(what, len, "observation count %g, clip %g", ck->obs_norm_count, ck->clip_obs);
        return true;
    }
    return false;
}

int cmd_eval(const par_layout *par, int argc, char **argv)
{
    const char *path = NULL, *out_csv = NULL, *record = NULL;
    long episodes = 100;
    unsigned long long seed = 12345;
    bool stochastic = false;
    char err[1024] = {0};
    for (int i = 0; i < argc && !err[0]; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            if (par->rank == 0)
                eval_usage();
            return EXIT_OK;
        } else if (!strcmp(a, "--checkpoint") && v && !path) {
            path = v;
            i++;
        } else if (!strcmp(a, "--out") && v) {
            out_csv = v;
            i++;
        } else if (!strcmp(a, "--record") && v) {
            record = v;
            i++;
        } else if (a[0] != '-' && !path) { /* ppo eval POLICY */
            path = a;
        } else if (!strcmp(a, "--episodes") && v) {
            long long n;
            if (parse_integer(v, 1, CONFIG_MAX_EVAL_EPISODES, &n))
                episodes = (long)n;
            else
                snprintf(err, sizeof err, "--episodes: '%s' is not an integer in [1, %d]", v, CONFIG_MAX_EVAL_EPISODES);
            i++;
        } else if (!strcmp(a, "--seed") && v) {
            long long s; /* bounded so that seed + episodes cannot wrap */
            if (parse_integer(v, 0, 1LL << 62, &s))
                seed = (unsigned long long)s;
            else
                snprintf(err, sizeof err, "--seed: '%s' is not an integer in [0, 2^62]", v);
            i++;
        } else if (!strcmp(a, "--stochastic")) {
            stochastic = true;
        } else {
            static const char *const flags[] = {"--checkpoint", "--out", "--record", "--episodes", "--seed",
                                                "--stochastic", "--help"};
            const char *near = a[0] == '-' ? parse_nearest(a, flags, (int)(sizeof flags / sizeof flags[0])) : NULL;
            if (near && strcmp(near, a))
                snprintf(err, sizeof err, "eval: unknown option '%s'; did you mean %s?", a, near);
            else
                snprintf(err, sizeof err, "eval: unknown or incomplete option '%s' (see ppo eval --help)", a);
        }
    }
    if (!err[0] && !path)
        snprintf(err, sizeof err, "eval: the policy file is required (ppo eval FILE, or --checkpoint FILE)");
    if (!err[0] && out_csv && record && !strcmp(out_csv, record))
        snprintf(err, sizeof err, "eval: --out and --record must be different files");
    if (!err[0] && par->rank == 0 && out_csv)
        output_ok(out_csv, "--out", err, sizeof err);
    if (!err[0] && par->rank == 0 && record)
        output_ok(record, "--record", err, sizeof err);
    if (err[0]) {
        if (par->rank == 0)
            fprintf(stderr, "ppo: error: %s\n", err);
        return EXIT_BAD_INPUT;
    }
    if (par->rank != 0)
        return EXIT_OK;
    /* the attributes first: they give the network, and so the exact size the parameters must have */
    checkpoint ck;
    if (checkpoint_load_header(path, &ck, NULL, err, sizeof err)) {
        fprintf(stderr, "ppo: error: %s\n", err);
        return EXIT_BAD_INPUT;
    }
    int rc = EXIT_BAD_INPUT;
    ppo_env *env = ppo_env_make(ck.env, ck.env_options, err, sizeof err);
    policy_model pm;
    char what[160];
    if (policy_nonfinite(&ck, what, sizeof what)) {
        fprintf(stderr, "ppo: error: checkpoint %s: not a usable policy: %s (a diverged or corrupt run)\n", path, what);
    } else if (!env) {
        fprintf(stderr, "ppo: error: checkpoint %s: %s\n", path, err);
    } else if (config_policy_model(&pm, ppo_env_get_spec(env), ck.net, ck.cnn, ck.frame_stack, ck.grayscale,
                                   ck.resize, ck.hidden, ck.activation, ck.shared_trunk, ck.sde, err, sizeof err)) {
        fprintf(stderr, "ppo: error: checkpoint %s: %s\n", path, err);
    } else if (checkpoint_load(path,
                               &(checkpoint_expect){.n_params = pm.n_params, .obs_dim = ppo_env_get_spec(env)->obs_dim},
                               &ck, NULL, err, sizeof err)) {
        fprintf(stderr, "ppo: error: %s\n", err); /* names the object: wrong size, non-finite values, ... */
    } else {
        eval_result ev;
        const ppo_env_spec *spec = ppo_env_get_spec(env);
        running_stats norm = {0};
        if (ck.obs_norm_dim > 0) { /* evaluate with the statistics the policy was trained with */
            norm.dim = ck.obs_norm_dim;
            norm.count = ck.obs_norm_count;
            norm.mean = ck.obs_norm_mean;
            norm.var = ck.obs_norm_var;
        }
        /* episodes with seeds S .. S + N - 1, in batches of at most EVAL_CMD_BATCH envs (100,000 walkers at
         * once took 33 GB); --record keeps every episode's steps, so it runs one batch */
        const int E = (int)episodes, batch = record || E < EVAL_CMD_BATCH ? E : EVAL_CMD_BATCH;
        pm.frame_skip = ck.frame_skip; /* the policy acts every frame_skip env steps, as it was trained */
        if (record && eval_record_check(&pm, spec, E, err, sizeof err)) { /* before any of the envs is made */
            fprintf(stderr, "ppo: error: %s\n", err);
            ppo_env_free(env);
            checkpoint_free(&ck);
            return EXIT_BAD_INPUT;
        }
        eval_runner *runner = eval_runner_create(&pm, ck.params, ck.env, ck.env_options, batch, record != NULL, err,
                                                 sizeof err);
        uint64_t *seeds = malloc(sizeof *seeds * (size_t)E);
        eval_episode *eps = malloc(sizeof *eps * (size_t)E);
        int ev_rc = -1;
        if (runner && (!seeds || !eps))
            snprintf(err, sizeof err, "out of memory for %d evaluation episodes", E);
        else if (runner) {
            for (int e = 0; e < E; e++)
                seeds[e] = seed + (unsigned long long)e;
            ev_rc = 0;
            for (int first = 0; first < E && !ev_rc; first += batch)
                ev_rc = eval_runner_run(runner, ck.obs_norm_dim > 0 ? &norm : NULL, ck.clip_obs, seeds + first,
                                        E - first < batch ? E - first : batch, !stochastic, eps + first, err, sizeof err);
        }
        if (ev_rc == -2) { /* the file's policy is unusable: bad input */
            fprintf(stderr, "ppo: error: checkpoint %s: %s\n", path, err);
        } else if (ev_rc) {
            fprintf(stderr, "ppo: error: %s\n", err);
            rc = EXIT_FAILURE_RUN;
        } else {
            eval_summarize(eps, E, spec, &ev);
            printf("%s: %d episodes, %s policy, seeds %llu..%llu: return %.2f +- %.2f (min %.2f, max %.2f), "
                   "mean length %.1f",
                   ck.env, ev.episodes, stochastic ? "stochastic" : "greedy", seed, seed + (unsigned long long)episodes - 1,
                   ev.mean, ev.std, ev.min, ev.max, ev.mean_length);
            if (spec->has_reward_threshold)
                printf(", %.0f%% >= threshold %g", 100.0 * ev.solved_fraction, spec->reward_threshold);
            printf("\n");
            rc = EXIT_OK;
            long long update = 0;
            char id[CHECKPOINT_RUN_ID];
            if (record && checkpoint_peek(path, &update, id, sizeof id, err, sizeof err) != 0)
                update = 0; /* read a moment ago: only a file changed meanwhile gets here */
            if (out_csv && write_csv(out_csv, eps, E, err, sizeof err) == 0)
                printf("episodes: %s\n", out_csv);
            else if (out_csv)
                rc = EXIT_FAILURE_RUN;
            if (record && write_recording(record, path, &ck, update > 0 ? update : 0, runner, eps, E, seed, !stochastic,
                                          &ev, err, sizeof err) == 0)
                printf("recording: %s  (watch it: analysis/ppo-analyze animate %s --episode 0)\n", record, record);
            else if (record)
                rc = EXIT_FAILURE_RUN;
            if (rc != EXIT_OK)
                fprintf(stderr, "ppo: error: %s\n", err);
        }
        eval_runner_free(runner);
        free(seeds);
        free(eps);
    }
    ppo_env_free(env);
    checkpoint_free(&ck);
    return rc;
}
