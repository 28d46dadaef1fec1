/* config: the option table and its parsers (command line and INI via libinih). */
#include "ppo/config.h"

#include "nn/mlp.h"
#include "ppo/pixels.h"
#include "ppo/presets.h"
#include "util/parse.h"

#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef enum { OPT_INT, OPT_LLONG, OPT_DOUBLE, OPT_BOOL, OPT_STR } opt_type;

typedef struct {
    const char *name; /* --name on the command line, name = in the INI file, /config attribute */
    opt_type type;
    size_t offset;
    size_t size; /* strings */
    const char *help;
} opt_def;

#define OPT(field, type, help) {#field, type, offsetof(ppo_config, field), sizeof(((ppo_config *)0)->field), help}

static const opt_def opts[] = {
    OPT(env, OPT_STR, "Gymnasium env id (see 'ppo envs')"),
    OPT(env_options, OPT_STR, "env options as key=value,... (e.g. continuous=1)"),
    OPT(algo, OPT_STR, "ppo | a2c | reinforce (sets that algorithm's defaults)"),
    OPT(preset, OPT_STR, "auto: the env's tuned PPO hyperparameters for options not given | scale: tuned for time to solve on many cores (entries below; a run whose batch outgrows the measured one is told) | none"),
    OPT(total_steps, OPT_LLONG, "env steps to train for, over all ranks (actions, with --frame-skip)"),
    OPT(seed, OPT_LLONG, "run seed: same seed, ranks and threads give the same run"),
    OPT(envs_per_rank, OPT_INT, "environments each MPI rank steps (with OpenMP)"),
    OPT(rollout_steps, OPT_INT, "steps per env per rollout"),
    OPT(threads, OPT_INT, "OpenMP threads per rank (0: OMP_NUM_THREADS, else cores/ranks on the node; at most 4 x the node's CPUs and OMP_THREAD_LIMIT)"),
    OPT(grad_reduce, OPT_STR, "shm: sum the gradients over each node's ranks through MPI-3 shared memory, then over the nodes with MPI_Allreduce, and let each rank step its slice of the parameters (the same bits as mpi for 2, 4, 8 ranks) | mpi: MPI_Allreduce over all ranks, each stepping every parameter"),
    OPT(minibatches, OPT_INT, "minibatches per epoch (global batch / minibatches = minibatch size)"),
    OPT(epochs, OPT_INT, "optimisation epochs per rollout"),
    OPT(lr, OPT_DOUBLE, "learning rate (actor, and critic unless critic_lr is set)"),
    OPT(critic_lr, OPT_DOUBLE, "critic learning rate (0: same as lr)"),
    OPT(anneal_lr, OPT_BOOL, "anneal learning rates linearly to 0"),
    OPT(adam_eps, OPT_DOUBLE, "the optimizer's epsilon (Adam's, or RMSprop's with --optimizer rmsprop)"),
    OPT(optimizer, OPT_STR, "adam | rmsprop (torch.optim.RMSprop, alpha 0.99: Stable-Baselines3's A2C optimizer, --algo a2c's default)"),
    OPT(max_grad_norm, OPT_DOUBLE, "clip the global gradient norm to this (0: off)"),
    OPT(target_kl, OPT_DOUBLE, "stop the epochs early when the mean approx KL exceeds this (0: off)"),
    OPT(gamma, OPT_DOUBLE, "discount factor"),
    OPT(gae_lambda, OPT_DOUBLE, "GAE lambda"),
    OPT(clip_coef, OPT_DOUBLE, "PPO clip coefficient (also the value-clip range)"),
    OPT(clip_vloss, OPT_BOOL, "clip the value loss around the rollout's values"),
    OPT(norm_adv, OPT_BOOL, "normalise advantages over the global minibatch"),
    OPT(norm_adv_batch, OPT_BOOL, "norm_adv over the whole global batch once per update (Spinning Up), not per minibatch: one collective fewer per minibatch"),
    OPT(ent_coef, OPT_DOUBLE, "entropy bonus coefficient"),
    OPT(vf_coef, OPT_DOUBLE, "value loss coefficient"),
    OPT(baseline, OPT_BOOL, "reinforce: learn a value baseline"),
    OPT(norm_obs, OPT_BOOL, "normalise observations with running statistics (merged across ranks)"),
    OPT(norm_reward, OPT_BOOL, "scale rewards by the running std of the discounted return (merged across ranks)"),
    OPT(clip_obs, OPT_DOUBLE, "clip normalised observations to +-this"),
    OPT(clip_reward, OPT_DOUBLE, "clip scaled rewards to +-this"),
    OPT(net, OPT_STR, "mlp | cnn | auto: cnn for image envs (CarRacing-v3), mlp for vector envs"),
    OPT(cnn, OPT_STR, "--net cnn: the conv shape, small (16 8x8 s4, 32 4x4 s2, Linear 256; Mnih et al. 2013) | nature (32 8x8 s4, 64 4x4 s2, 64 3x3 s1, Linear 512; SB3's NatureCNN)"),
    OPT(frame_stack, OPT_INT, "image envs: stack the last K frames on the channels, zeros at an episode's start (SB3's VecFrameStack)"),
    OPT(frame_skip, OPT_INT, "repeat each action K env steps, summing the rewards (rl-baselines3-zoo's FrameSkip); steps count actions"),
    OPT(grayscale, OPT_BOOL, "image envs: RGB to one gray channel, 0.2125 R + 0.7154 G + 0.0721 B truncated (Gymnasium's GrayscaleObservation)"),
    OPT(resize, OPT_INT, "image envs: first shrink each frame to N x N with OpenCV's INTER_AREA, as Gymnasium's ResizeObservation (0: off; rl-baselines3-zoo's CarRacing: 64)"),
    OPT(hidden, OPT_STR, "mlp: hidden layer widths, comma-separated (cnn: linear heads on the conv features, as SB3's CnnPolicy)"),
    OPT(activation, OPT_STR, "tanh | relu"),
    OPT(shared_trunk, OPT_BOOL, "actor and critic share the hidden layers"),
    OPT(log_std_init, OPT_DOUBLE, "continuous actions: initial log standard deviation of the Gaussian policy"),
    OPT(sde, OPT_BOOL, "continuous actions: gSDE exploration (noise = latent features x a random matrix, as SB3's use_sde)"),
    OPT(sde_sample_freq, OPT_INT, "gSDE: draw new exploration matrices every N steps (-1: once per rollout)"),
    OPT(log, OPT_STR, "HDF5 log path (default runs/ENV_sSEED_TIME.h5)"),
    OPT(save, OPT_STR, "final policy checkpoint (default: the log path with .policy.h5)"),
    OPT(force, OPT_BOOL, "overwrite an existing log or checkpoint"),
    OPT(checkpoint_every, OPT_INT, "write a training checkpoint every N updates (0: only on SIGTERM/SIGINT/SIGUSR1 and at the end)"),
    OPT(checkpoint, OPT_STR, "training checkpoint path (default: the log path with .ckpt.h5)"),
    OPT(resume, OPT_STR, "continue the run from this checkpoint; auto: the --log's checkpoint if it exists, else start"),
    OPT(log_trajectories, OPT_INT, "record whole episodes (obs, actions, rewards, render state) that start in every N-th update (1: all; 0: off)"),
    OPT(eval_episodes, OPT_INT, "after training, evaluate the greedy policy for this many episodes (0: off)"),
    OPT(eval_every, OPT_INT, "every N updates, evaluate the greedy policy on separate envs and fresh seeds, log it to /eval and keep the best policy in LOG.best.policy.h5 (0: off)"),
    OPT(eval_every_episodes, OPT_INT, "episodes of each --eval-every evaluation, spread over the ranks"),
    OPT(check_params, OPT_INT, "debug: every N updates compare a parameter checksum across ranks (0: off)"),
    OPT(progress_interval, OPT_DOUBLE, "seconds between progress lines when not on a terminal"),
    OPT(progress, OPT_STR, "live (one updating line) | lines (periodic lines, for log files) | auto: live on a terminal outside Slurm; mpirun gives ranks a pseudo-terminal, so use lines when redirecting"),
    OPT(config, OPT_STR, "INI file to read options from (flags override it)"),
};
#define N_OPTS ((int)(sizeof opts / sizeof opts[0]))
_Static_assert(sizeof opts / sizeof opts[0] <= sizeof((config_set *)0)->flag, "config_set.flag is too short");
#define CONFIG_FILE_MAX (1 << 20) /* bytes; an options file is a few hundred */

void config_defaults(ppo_config *c)
{
    memset(c, 0, sizeof *c);
    snprintf(c->env, sizeof c->env, "CartPole-v1");
    snprintf(c->algo, sizeof c->algo, "ppo");
    snprintf(c->preset, sizeof c->preset, "auto");
    c->total_steps = 200000;
    c->seed = 1;
    c->envs_per_rank = 8;
    c->rollout_steps = 128;
    c->threads = 0;
    snprintf(c->grad_reduce, sizeof c->grad_reduce, "shm");
    c->minibatches = 4;
    c->epochs = 4;
    c->lr = 2.5e-4;
    c->anneal_lr = true;
    c->adam_eps = 1e-5;
    snprintf(c->optimizer, sizeof c->optimizer, "adam");
    c->max_grad_norm = 0.5;
    c->gamma = 0.99;
    c->gae_lambda = 0.95;
    c->clip_coef = 0.2;
    c->clip_vloss = true;
    c->norm_adv = true;
    c->ent_coef = 0.01;
    c->vf_coef = 0.5;
    c->baseline = true;
    c->clip_obs = 10.0;
    c->clip_reward = 10.0;
    snprintf(c->net, sizeof c->net, "auto");
    snprintf(c->cnn, sizeof c->cnn, "small");
    c->frame_stack = 1;
    c->frame_skip = 1;
    snprintf(c->hidden, sizeof c->hidden, "64,64");
    snprintf(c->activation, sizeof c->activation, "tanh");
    c->sde_sample_freq = -1;
    c->eval_every_episodes = 10;
    c->progress_interval = 5.0;
    snprintf(c->progress, sizeof c->progress, "auto");
}

/* Other trainers' names for ppo's options, accepted where they mean the same thing: CleanRL's ppo.py
 * flags (vwxyzjn/cleanrl, cleanrl/ppo.py Args) and Stable-Baselines3's PPO/A2C arguments. A name
 * with a note instead of an option is not the same thing here: the note says what to use. */
static const struct {
    const char *alias, *option, *note;
} aliases[] = {
    {"env_id", "env", NULL},
    {"total_timesteps", "total_steps", NULL},
    {"learning_rate", "lr", NULL},
    {"num_steps", "rollout_steps", NULL},
    {"num_minibatches", "minibatches", NULL},
    {"update_epochs", "epochs", NULL},
    {"local_num_envs", "envs_per_rank", NULL}, /* CleanRL's multi-GPU scripts: envs per process */
    {"n_steps", "rollout_steps", NULL},
    {"n_epochs", "epochs", NULL},
    {"clip_range", "clip_coef", NULL},
    {"normalize_advantage", "norm_adv", NULL},
    {"rms_prop_eps", "adam_eps", NULL},
    {"num_envs", NULL,
     "CleanRL's num_envs counts every env of the run; ppo's envs_per_rank counts one MPI rank's (the run steps "
     "envs_per_rank x ranks envs), so give envs_per_rank = num_envs / ranks"},
    {"n_envs", NULL, "Stable-Baselines3's n_envs counts every env of the run; ppo's envs_per_rank counts one MPI "
                     "rank's (the run steps envs_per_rank x ranks envs), so give envs_per_rank = n_envs / ranks"},
    {"batch_size", NULL,
     "Stable-Baselines3's batch_size is the minibatch size of the run; give minibatches = envs_per_rank x ranks x "
     "rollout_steps / batch_size"},
};
#define N_ALIASES ((int)(sizeof aliases / sizeof aliases[0]))

/* a == b, where '-' in b stands for '_' (--envs-per-rank == --envs_per_rank) */
static bool same_name(const char *a, const char *b)
{
    while (*a && (*a == *b || (*a == '_' && *b == '-')))
        a++, b++;
    return !*a && !*b;
}

static int find_opt(const char *name)
{
    for (int i = 0; i < N_OPTS; i++)
        if (same_name(opts[i].name, name))
            return i;
    for (int k = 0; k < N_ALIASES; k++)
        if (aliases[k].option && same_name(aliases[k].alias, name))
            return find_opt(aliases[k].option);
    return -1;
}

/* "--learning-rate" (dash) or "learning_rate" for an option or alias name. */
static void config_option_flag(const char *name, bool dash, char *buf, size_t len)
{
    snprintf(buf, len, "%s%s", dash ? "--" : "", name);
    for (char *q = buf; *q && dash; q++)
        if (*q == '_')
            *q = '-';
}

/* Why `name` is not an option and what to use: an alias's note, else the nearest option or alias
 * ("did you mean"), else nothing. `dash`: spell names as flags (--learning-rate), not INI keys. */
static void unknown_hint(const char *name, bool dash, char *buf, size_t len)
{
    buf[0] = 0;
    for (int k = 0; k < N_ALIASES; k++)
        if (!aliases[k].option && same_name(aliases[k].alias, name)) {
            snprintf(buf, len, ": %s", aliases[k].note);
            return;
        }
    int best = -1, best_d = 99; /* an option (< N_OPTS) or an alias (N_OPTS + k) */
    for (int k = 0; k < N_OPTS + N_ALIASES; k++) {
        const int d = parse_edit_distance(name, k < N_OPTS ? opts[k].name : aliases[k - N_OPTS].alias);
        if (d < best_d)
            best = k, best_d = d;
    }
    const int n = (int)strlen(name), allowed = n < 6 ? 1 : n < 12 ? 2 : 3;
    if (best < 0 || best_d > allowed || (!dash && best < N_OPTS && !strcmp(opts[best].name, "config")))
        return;
    char shown[64], same[320] = "";
    config_option_flag(best < N_OPTS ? opts[best].name : aliases[best - N_OPTS].alias, dash, shown, sizeof shown);
    if (best >= N_OPTS && !aliases[best - N_OPTS].option) /* a name ppo refuses: what to give instead */
        snprintf(same, sizeof same, " (%s)", aliases[best - N_OPTS].note);
    else if (best >= N_OPTS) { /* an alias: name ppo's option too */
        char own[64];
        config_option_flag(aliases[best - N_OPTS].option, dash, own, sizeof own);
        snprintf(same, sizeof same, " (ppo's %s)", own);
    }
    snprintf(buf, len, "; did you mean %s%s?", shown, same);
}

static int set_value(ppo_config *c, int i, const char *value, char *err, size_t err_len)
{
    const opt_def *o = &opts[i];
    void *field = (char *)c + o->offset;
    switch (o->type) {
    case OPT_INT: {
        long long v;
        if (!parse_integer(value, -2147483647LL, 2147483647LL, &v))
            goto bad;
        *(int *)field = (int)v;
        return 0;
    }
    case OPT_LLONG: { /* digits, or a whole number written like 1e6 */
        long long v;
        double d;
        if (parse_integer(value, -(1LL << 62), 1LL << 62, &v))
            *(long long *)field = v;
        else if (parse_number(value, &d) && d == floor(d) && fabs(d) <= 0x1p62)
            *(long long *)field = (long long)d;
        else
            goto bad;
        return 0;
    }
    case OPT_DOUBLE: {
        double v;
        if (!parse_number(value, &v))
            goto bad;
        *(double *)field = v;
        return 0;
    }
    case OPT_BOOL:
        if (!strcmp(value, "1") || !strcmp(value, "true") || !strcmp(value, "yes") || !strcmp(value, "on"))
            *(bool *)field = true;
        else if (!strcmp(value, "0") || !strcmp(value, "false") || !strcmp(value, "no") || !strcmp(value, "off"))
            *(bool *)field = false;
        else
            goto bad;
        return 0;
    case OPT_STR:
        if (strlen(value) >= o->size) {
            snprintf(err, err_len, "option %s: value is longer than %zu characters", o->name, o->size - 1);
            return -1;
        }
        memcpy(field, value, strlen(value) + 1);
        return 0;
    }
bad:
    snprintf(err, err_len, "option %s: '%s' is not a valid %s", o->name, value,
             o->type == OPT_BOOL ? "boolean (true/false)" : o->type == OPT_DOUBLE ? "number" : "integer");
    return -1;
}

/* An option's value as a user gave it (command line or INI file); set_value also reads saved options,
 * where an empty path is how "not given" was saved. */
static int set_given_value(ppo_config *c, int i, const char *value, char *err, size_t err_len)
{
    const char *name = opts[i].name;
    /* an empty path would silently be the default */
    if (!value[0] && (!strcmp(name, "log") || !strcmp(name, "save") || !strcmp(name, "checkpoint") ||
                      !strcmp(name, "resume"))) {
        snprintf(err, err_len, "option %s: an empty path (leave the option out for its default)", name);
        return -1;
    }
    return set_value(c, i, value, err, err_len);
}

typedef struct {
    ppo_config *c;
    config_set *set;
    const char *path;
    const char *text; /* the rest of the file, read line by line */
    int line;         /* the line libinih is handling */
    int first_line[sizeof((config_set *)0)->flag]; /* the line of this file that set each option */
    char *err;
    size_t err_len;
    int failed;
} ini_ctx;

/* libinih's reader (fgets-like) over the file's text; it counts lines so an error can name its line
 * (Debian's libinih is built without INI_HANDLER_LINENO). config_read_file refused over-long lines.
 * It drops a line's leading blanks: libinih would take an indented line as the previous value's
 * continuation ("hidden = 64" then "  32" gave hidden=32); an indented "name = value" is read as
 * written, and a bare "32" is a syntax error. */
static char *config_ini_reader(char *str, int num, void *stream)
{
    ini_ctx *x = stream;
    if (!*x->text)
        return NULL;
    while (*x->text == ' ' || *x->text == '\t')
        x->text++;
    int n = 0;
    while (n < num - 1 && x->text[n] && (n == 0 || x->text[n - 1] != '\n'))
        n++;
    memcpy(str, x->text, (size_t)n);
    str[n] = 0;
    x->text += n;
    x->line++;
    return str;
}

static int config_ini_line(void *user, const char *section, const char *name, const char *value)
{
    ini_ctx *x = user;
    if (x->failed)
        return 0;
    x->failed = 1;
    char why[512];
    if (section[0] && strcmp(section, "ppo")) {
        snprintf(x->err, x->err_len, "config file %s, line %d: %s is in the unknown section [%s] (use [ppo] or none)",
                 x->path, x->line, name, section);
        return 0;
    }
    int i = find_opt(name);
    if (i < 0 || !strcmp(name, "config")) {
        char hint[512];
        unknown_hint(name, false, hint, sizeof hint);
        snprintf(x->err, x->err_len, "config file %s, line %d: unknown option '%s'%s", x->path, x->line, name, hint);
        return 0;
    }
    if (x->first_line[i]) { /* libinih would let the last one win without a word */
        snprintf(x->err, x->err_len, "config file %s, line %d: %s is set again (first on line %d)", x->path,
                 x->line, name, x->first_line[i]);
        return 0;
    }
    if (set_given_value(x->c, i, value, why, sizeof why)) {
        snprintf(x->err, x->err_len, "config file %s, line %d: %s", x->path, x->line, why);
        return 0;
    }
    x->set->flag[i] = true;
    x->set->ini_line[i] = x->line;
    x->first_line[i] = x->line;
    x->failed = 0;
    return 1;
}

/* The whole INI file, NUL-terminated (caller frees), or NULL with err set. Refuses what is not a small
 * text file before reading it: a directory, a device (/dev/zero never ends), a FIFO (opened
 * non-blocking, so no hang), more than CONFIG_FILE_MAX bytes, NUL bytes, and lines longer than
 * libinih's buffer, which it would split and report as a syntax error on a later line. */
static char *config_read_file(const char *path, char *err, size_t err_len)
{
    err[0] = 0;
    const int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, err_len, "config file %s: cannot open it (%s)", path, strerror(errno));
        return NULL;
    }
    struct stat st;
    char *text = NULL;
    if (fstat(fd, &st) != 0)
        snprintf(err, err_len, "config file %s: cannot stat it (%s)", path, strerror(errno));
    else if (!S_ISREG(st.st_mode))
        snprintf(err, err_len, "config file %s: not a regular file (%s)", path,
                 S_ISDIR(st.st_mode) ? "a directory" : "a device, FIFO or socket");
    else if (st.st_size > CONFIG_FILE_MAX)
        snprintf(err, err_len, "config file %s: %lld bytes, more than the %d an options file may have", path,
                 (long long)st.st_size, CONFIG_FILE_MAX);
    else if (!(text = malloc((size_t)st.st_size + 1)))
        snprintf(err, err_len, "config file %s: out of memory", path);
    size_t n = 0;
    while (text && n < (size_t)st.st_size) { /* the size from fstat bounds the read even if the file grows */
        const ssize_t r = read(fd, text + n, (size_t)st.st_size - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            snprintf(err, err_len, "config file %s: cannot read it (%s)", path, strerror(errno));
            free(text);
            text = NULL;
        } else if (r == 0)
            break;
        else
            n += (size_t)r;
    }
    close(fd);
    if (!text)
        return NULL;
    text[n] = 0;
    const size_t max_line = INI_MAX_LINE - 3; /* libinih's buffer keeps 3 bytes for '\r', '\n' and the NUL */
    int line = 1;
    for (size_t i = 0, start = 0; i <= n; i++) {
        if (i < n && text[i] == 0) {
            snprintf(err, err_len, "config file %s: line %d holds a NUL byte (not a text file)", path, line);
            break;
        }
        if (i < n && text[i] == '\r' && i + 1 < n && text[i + 1] != '\n') {
            /* libinih splits lines on '\n' only: the rest of the file would be one line, silently lost */
            snprintf(err, err_len, "config file %s: line %d ends with a lone carriage return (old Mac line ends; "
                     "use \\n or \\r\\n)", path, line);
            break;
        }
        if (i == n || text[i] == '\n') {
            const size_t len = i - start - (i > start && text[i - 1] == '\r');
            if (len > max_line) {
                snprintf(err, err_len, "config file %s: line %d has %zu characters, more than the %zu a line may have",
                         path, line, len, max_line);
                break;
            }
            line++;
            start = i + 1;
        }
    }
    if (err[0]) {
        free(text);
        return NULL;
    }
    return text;
}

int config_parse_args(ppo_config *c, config_set *set, int argc, char **argv, char *err, size_t err_len)
{
    memset(set, 0, sizeof *set);
    if (config_presets_check(err, err_len)) { /* a bug in presets.c: no run may start with it */
        const size_t n = strlen(err);
        snprintf(err + n, err_len - n, " (a bug in ppo's preset table)");
        return -1;
    }
    /* the config file first, so flags override it wherever --config appears */
    for (int k = 0; k < argc; k++) {
        const char *a = argv[k];
        const char *file = NULL;
        if (!strcmp(a, "--config") && k + 1 < argc)
            file = argv[k + 1];
        else if (!strncmp(a, "--config=", 9))
            file = a + 9;
        if (!file)
            continue;
        char *text = config_read_file(file, err, err_len);
        if (!text)
            return -1;
        ini_ctx x = {.c = c, .set = set, .path = file, .text = text, .err = err, .err_len = err_len};
        int rc = ini_parse_stream(config_ini_reader, &x, config_ini_line, &x);
        free(text);
        if (rc != 0 && (!x.failed || rc < x.line)) { /* libinih returns the first bad line, ours or its own */
            snprintf(err, err_len, "config file %s, line %d: syntax error (expected name = value)", file, rc);
            return -1;
        }
        if (x.failed)
            return -1;
        snprintf(c->config, sizeof c->config, "%s", file);
    }
    for (int k = 0; k < argc; k++) {
        const char *a = argv[k];
        if (!strcmp(a, "--help") || !strcmp(a, "-h"))
            return 1;
        if (strncmp(a, "--", 2)) {
            snprintf(err, err_len, "unexpected argument '%s' (options start with --; see --help)", a);
            return -1;
        }
        char name[128];
        const char *eq = strchr(a, '=');
        const char *value;
        snprintf(name, sizeof name, "%.*s", (int)(eq ? (size_t)(eq - a - 2) : strlen(a + 2)), a + 2);
        int i = find_opt(name);
        bool negated = false;
        if (i < 0 && !strncmp(name, "no-", 3) && (i = find_opt(name + 3)) >= 0 && opts[i].type == OPT_BOOL)
            negated = true;
        else if (i < 0 || (i >= 0 && !strncmp(name, "no-", 3))) {
            char hint[512];
            unknown_hint(name, true, hint, sizeof hint);
            snprintf(err, err_len, "unknown option --%s%s", name, hint[0] ? hint : " (see --help)");
            return -1;
        }
        if (negated) {
            if (eq) {
                snprintf(err, err_len, "option --%s takes no value", name);
                return -1;
            }
            value = "false";
        } else if (eq)
            value = eq + 1;
        else if (opts[i].type == OPT_BOOL && (k + 1 >= argc || !strncmp(argv[k + 1], "--", 2)))
            value = "true"; /* a bare boolean flag */
        else if (k + 1 < argc)
            value = argv[++k];
        else {
            snprintf(err, err_len, "option --%s needs a value", name);
            return -1;
        }
        if (!strcmp(opts[i].name, "config"))
            continue; /* already loaded */
        if (set_given_value(c, i, value, err, err_len))
            return -1;
        set->flag[i] = true;
        set->ini_line[i] = 0; /* a flag overrides the file */
    }
    return 0;
}

static bool is_set(const config_set *set, const char *name) { return set->flag[find_opt(name)]; }

void config_finalize(ppo_config *c, const config_set *set)
{
    /* A2C (Mnih et al. 2016) as Stable-Baselines3 configures it (stable_baselines3/a2c/a2c.py): 5-step
     * rollouts, one gradient step per rollout on the whole batch, no ratio clipping, no advantage
     * normalisation, lambda 1, lr 7e-4, and RMSprop (use_rms_prop=True: torch.optim.RMSprop with
     * alpha 0.99, eps 1e-5), the optimizer of the A3C paper. CartPole-v1, 2 ranks, 200k steps, seeds
     * 1/2/3, greedy eval over 100 episodes: RMSprop 500.0 / 500.0 / 500.0, Adam 500.0 / 464.2 / 500.0. */
    if (!strcmp(c->algo, "a2c")) {
        if (!is_set(set, "optimizer")) snprintf(c->optimizer, sizeof c->optimizer, "rmsprop");
        if (!is_set(set, "rollout_steps")) c->rollout_steps = 5;
        if (!is_set(set, "epochs")) c->epochs = 1;
        if (!is_set(set, "minibatches")) c->minibatches = 1;
        if (!is_set(set, "gae_lambda")) c->gae_lambda = 1.0;
        if (!is_set(set, "norm_adv")) c->norm_adv = false;
        if (!is_set(set, "clip_vloss")) c->clip_vloss = false;
        if (!is_set(set, "lr")) c->lr = 7e-4;
        if (!is_set(set, "anneal_lr")) c->anneal_lr = false;
        if (!is_set(set, "ent_coef")) c->ent_coef = 0.0;
    }
    /* REINFORCE (Williams 1992): Monte-Carlo returns (lambda 1), one step per rollout, with an optional
     * learned baseline; rollouts long enough to hold whole episodes of the classic tasks. */
    if (!strcmp(c->algo, "reinforce")) {
        if (!is_set(set, "rollout_steps")) c->rollout_steps = 500;
        if (!is_set(set, "epochs")) c->epochs = 1;
        if (!is_set(set, "minibatches")) c->minibatches = 1;
        if (!is_set(set, "gae_lambda")) c->gae_lambda = 1.0;
        if (!is_set(set, "norm_adv")) c->norm_adv = true;
        if (!is_set(set, "clip_vloss")) c->clip_vloss = false;
        if (!is_set(set, "lr")) c->lr = 1e-3;
        if (!is_set(set, "anneal_lr")) c->anneal_lr = false;
        if (!is_set(set, "ent_coef")) c->ent_coef = 0.0;
    }
}

/* The option a preset setting names, by its field's offset; -1 if none. */
static int find_opt_at(size_t offset)
{
    for (int i = 0; i < N_OPTS; i++)
        if (opts[i].offset == offset)
            return i;
    return -1;
}

/* Stores a preset's number into option i after checking it fits the option's type. */
static int set_number(ppo_config *c, int i, double v, char *err, size_t err_len)
{
    void *field = (char *)c + opts[i].offset;
    switch (opts[i].type) {
    case OPT_INT:
        if (v != floor(v) || fabs(v) > 2147483647.0)
            break;
        *(int *)field = (int)v;
        return 0;
    case OPT_LLONG:
        if (v != floor(v) || fabs(v) > 0x1p62)
            break;
        *(long long *)field = (long long)v;
        return 0;
    case OPT_DOUBLE:
        if (!isfinite(v))
            break;
        *(double *)field = v;
        return 0;
    case OPT_BOOL:
        if (v != 0 && v != 1)
            break;
        *(bool *)field = v == 1;
        return 0;
    case OPT_STR:
        snprintf(err, err_len, "option %s: a text option, which a preset cannot set", opts[i].name);
        return -1;
    }
    snprintf(err, err_len, "option %s: %g is not a valid %s", opts[i].name, v,
             opts[i].type == OPT_BOOL ? "boolean (0/1)" : opts[i].type == OPT_DOUBLE ? "number" : "integer");
    return -1;
}

/* A preset setting as "name=value" text. */
static void format_setting(const preset_setting *s, char *buf, size_t len)
{
    const int i = find_opt_at(s->offset);
    if (i >= 0 && opts[i].type == OPT_BOOL)
        snprintf(buf, len, "%s=%s", s->name, s->value ? "true" : "false");
    else
        snprintf(buf, len, "%s=%.10g", s->name, s->value);
}

/* Applies a preset's settings to the options not given; envs (a global count) is split over the
 * ranks. Describes what it set in desc. The preset passed config_presets_check, so it cannot fail. */
static int apply_preset(ppo_config *c, const config_set *set, int ranks, const ppo_preset *p, char *desc,
                        size_t desc_len, char *err, size_t err_len)
{
    char applied[768] = "", uneven[160] = "";
    const int epr = find_opt("envs_per_rank");
    if (p->envs > 0 && !set->flag[epr]) {
        const int n = p->envs / ranks > 0 ? p->envs / ranks : 1;
        c->envs_per_rank = n;
        snprintf(applied, sizeof applied, "envs_per_rank=%d", n);
        if (n * ranks != p->envs)
            snprintf(uneven, sizeof uneven,
                     "; note: its %d envs do not split evenly over %d ranks, so this run steps %d per rank, %d in all",
                     p->envs, ranks, n, n * ranks);
    }
    for (const preset_setting *s = p->settings; s < p->settings + PRESET_MAX_SETTINGS && s->name; s++) {
        const int i = find_opt_at(s->offset);
        if (i < 0) {
            snprintf(err, err_len, "preset %s: %s is not an option", p->env, s->name);
            return -1;
        }
        if (set->flag[i])
            continue;
        if (set_number(c, i, s->value, err, err_len))
            return -1;
        char text[96];
        format_setting(s, text, sizeof text);
        size_t n = strlen(applied);
        snprintf(applied + n, sizeof applied - n, "%s%s", n ? " " : "", text);
    }
    char beyond[320] = "";
    const long long solved = presets_find("scale", p->env) == p ? presets_scale_solved_batch(p->env) : 0;
    const long long batch = (long long)c->envs_per_rank * c->rollout_steps * ranks;
    if (solved > 0 && batch > solved) {
        const long long keep = c->envs_per_rank * solved / batch;
        int n = snprintf(beyond, sizeof beyond,
                         "; note: on %d ranks an update holds %lld samples, more than the %lld this entry was measured "
                         "to solve with in its total_steps: it may need more steps",
                         ranks, batch, solved);
        if (keep >= 1 && !set->flag[epr])
            snprintf(beyond + n, sizeof beyond - (size_t)n, ", or --envs-per-rank %lld keeps %lld (docs/scaling.md)",
                     keep, keep * c->rollout_steps * ranks);
        else
            snprintf(beyond + n, sizeof beyond - (size_t)n, " (docs/scaling.md)");
    }
    snprintf(desc, desc_len, "%s (%s): %s%s%s", p->env, p->source, applied, uneven, beyond);
    return 0;
}

void config_apply_preset(ppo_config *c, const config_set *set, int ranks, char *desc, size_t desc_len)
{
    desc[0] = 0;
    if ((strcmp(c->preset, "auto") && strcmp(c->preset, "scale")) || strcmp(c->algo, "ppo"))
        return;
    const ppo_preset *p = presets_find(c->preset, c->env);
    const bool fallback = !p && !strcmp(c->preset, "scale");
    if (fallback)
        p = presets_find("auto", c->env);
    char err[256];
    if (!p || apply_preset(c, set, ranks, p, desc, desc_len, err, sizeof err))
        return;
    if (fallback) {
        size_t n = strlen(desc);
        snprintf(desc + n, desc_len - n, " (no scale preset for %s: its auto preset)", c->env);
    }
}

int config_preset_check(const ppo_preset *p, char *err, size_t err_len)
{
    ppo_config c;
    config_set set;
    config_defaults(&c);
    memset(&set, 0, sizeof set);
    snprintf(c.env, sizeof c.env, "%s", p->env);
    char desc[1024], why[512];
    if (p->envs < 0) {
        snprintf(err, err_len, "preset %s: envs %d is negative", p->env, p->envs);
        return -1;
    }
    for (int a = 0; a < PRESET_MAX_SETTINGS && p->settings[a].name; a++) {
        const int i = find_opt_at(p->settings[a].offset);
        if (i >= 0 && strcmp(opts[i].name, p->settings[a].name)) { /* PRESET_SET makes these agree */
            snprintf(err, err_len, "preset %s: setting %s names option %s", p->env, p->settings[a].name, opts[i].name);
            return -1;
        }
        for (int b = 0; b < a; b++)
            if (p->settings[b].offset == p->settings[a].offset) {
                snprintf(err, err_len, "preset %s: %s is set twice", p->env, p->settings[a].name);
                return -1;
            }
        if (p->envs > 0 && i == find_opt("envs_per_rank")) {
            snprintf(err, err_len, "preset %s: sets both envs and envs_per_rank", p->env);
            return -1;
        }
    }
    /* on one rank (envs = envs_per_rank), as a run would validate it */
    if (apply_preset(&c, &set, 1, p, desc, sizeof desc, why, sizeof why) || config_validate(&c, 1, why, sizeof why)) {
        snprintf(err, err_len, "preset %s: %s", p->env, why);
        return -1;
    }
    return 0;
}

int config_presets_check(char *err, size_t err_len)
{
    const char *kinds[] = {"auto", "scale"};
    for (int k = 0; k < 2; k++) {
        int n;
        const ppo_preset *table = presets_table(kinds[k], &n);
        for (int j = 0; j < n; j++)
            if (config_preset_check(&table[j], err, err_len))
                return -1;
    }
    return 0;
}

int config_validate(const ppo_config *c, int ranks, char *err, size_t err_len)
{
#define FAIL(...) do { snprintf(err, err_len, __VA_ARGS__); return -1; } while (0)
    if (strcmp(c->preset, "auto") && strcmp(c->preset, "none") && strcmp(c->preset, "scale"))
        FAIL("option preset: '%s' is not auto, scale or none", c->preset);
    if (strcmp(c->algo, "ppo") && strcmp(c->algo, "a2c") && strcmp(c->algo, "reinforce"))
        FAIL("option algo: '%s' is not one of ppo, a2c, reinforce", c->algo);
    if (c->total_steps <= 0) FAIL("option total_steps: must be positive, got %lld", c->total_steps);
    if (c->seed < 0) FAIL("option seed: must be >= 0, got %lld", c->seed);
    if (c->envs_per_rank <= 0) FAIL("option envs_per_rank: must be positive, got %d", c->envs_per_rank);
    if (c->envs_per_rank > 65536) FAIL("option envs_per_rank: %d is more than 65536", c->envs_per_rank);
    if (c->rollout_steps <= 0) FAIL("option rollout_steps: must be positive, got %d", c->rollout_steps);
    if (c->threads < 0) FAIL("option threads: must be >= 0, got %d", c->threads);
    if (c->minibatches <= 0) FAIL("option minibatches: must be positive, got %d", c->minibatches);
    if (c->epochs <= 0) FAIL("option epochs: must be positive, got %d", c->epochs);
    long long local = (long long)c->envs_per_rank * c->rollout_steps;
    if (local % c->minibatches)
        FAIL("option minibatches: %d does not divide the per-rank batch envs_per_rank x rollout_steps = %lld "
             "(global batch %lld over %d ranks)", c->minibatches, local, local * ranks, ranks);
    if (local > 100000000LL) FAIL("option rollout_steps: the per-rank batch %lld is too large", local);
    /* upper bounds far past any run that learns, and below what overflows the float an update is made in
     * (lr=1e308 started, then stopped on its first non-finite gradient) */
    if (!(c->lr > 0 && c->lr <= 1)) FAIL("option lr: must be in (0, 1], got %g", c->lr);
    if (!(c->critic_lr >= 0 && c->critic_lr <= 1)) FAIL("option critic_lr: must be in [0, 1] (0: lr), got %g", c->critic_lr);
    /* the float the step divides by is eps x sqrt(1 - beta2^t) >= eps / 32: below ~1e-37 it is 0, and a
     * parameter whose gradient stayed 0 gets 0/0 */
    if (!(c->adam_eps >= 1e-30 && c->adam_eps <= 1)) FAIL("option adam_eps: must be in [1e-30, 1], got %g", c->adam_eps);
    if (strcmp(c->grad_reduce, "shm") && strcmp(c->grad_reduce, "mpi"))
        FAIL("option grad_reduce: '%s' is not shm or mpi", c->grad_reduce);
    if (strcmp(c->optimizer, "adam") && strcmp(c->optimizer, "rmsprop"))
        FAIL("option optimizer: '%s' is not adam or rmsprop", c->optimizer);
    if (c->max_grad_norm < 0) FAIL("option max_grad_norm: must be >= 0, got %g", c->max_grad_norm);
    if (c->target_kl < 0) FAIL("option target_kl: must be >= 0, got %g", c->target_kl);
    if (!(c->gamma >= 0 && c->gamma <= 1)) FAIL("option gamma: must be in [0, 1], got %g", c->gamma);
    if (!(c->gae_lambda >= 0 && c->gae_lambda <= 1)) FAIL("option gae_lambda: must be in [0, 1], got %g", c->gae_lambda);
    if (!(c->clip_coef > 0)) FAIL("option clip_coef: must be positive, got %g", c->clip_coef);
    if (!(c->ent_coef >= 0 && c->ent_coef <= 1000)) FAIL("option ent_coef: must be in [0, 1000], got %g", c->ent_coef);
    if (!(c->vf_coef >= 0 && c->vf_coef <= 1000)) FAIL("option vf_coef: must be in [0, 1000], got %g", c->vf_coef);
    int sizes[16];
    int n = config_hidden_sizes(c->hidden, sizes, 7);
    if (n < 1) FAIL("option hidden: '%s' is not 1 to 7 comma-separated widths in [1, 4096]", c->hidden);
    nn_activation act;
    if (nn_activation_parse(c->activation, &act))
        FAIL("option activation: '%s' is not tanh or relu", c->activation);
    if (strcmp(c->net, "auto") && strcmp(c->net, "mlp") && strcmp(c->net, "cnn"))
        FAIL("option net: '%s' is not mlp, cnn or auto", c->net);
    if (strcmp(c->cnn, "small") && strcmp(c->cnn, "nature"))
        FAIL("option cnn: '%s' is not small or nature", c->cnn);
    if (c->frame_stack < 1 || c->frame_stack > 16) FAIL("option frame_stack: must be in [1, 16], got %d", c->frame_stack);
    if (c->resize < 0 || c->resize > PIX_RESIZE_MAX_SIDE)
        FAIL("option resize: must be in [0, %d] (0: off; for image envs, at most the env's frame), got %d",
             PIX_RESIZE_MAX_SIDE, c->resize);
    if (c->frame_skip < 1 || c->frame_skip > 16) FAIL("option frame_skip: must be in [1, 16], got %d", c->frame_skip);
    if (c->sde_sample_freq < -1 || c->sde_sample_freq == 0)
        FAIL("option sde_sample_freq: must be -1 (once per rollout) or positive, got %d", c->sde_sample_freq);
    /* a std of e^20 (5e8) is already far past any action range; e^88 overflows a float to inf and the
     * first actions are NaN */
    if (!(c->log_std_init >= -20 && c->log_std_init <= 20))
        FAIL("option log_std_init: must be in [-20, 20] (the std is its exp), got %g", c->log_std_init);
    if (c->log_trajectories < 0) FAIL("option log_trajectories: must be >= 0, got %d", c->log_trajectories);
    if (c->eval_episodes < 0 || c->eval_episodes > CONFIG_MAX_EVAL_EPISODES)
        FAIL("option eval_episodes: must be in [0, %d], got %d", CONFIG_MAX_EVAL_EPISODES, c->eval_episodes);
    if (c->eval_every < 0)
        FAIL("option eval_every: must be >= 0 (updates; 0: off), got %d", c->eval_every);
    if (c->eval_every_episodes < 1 || c->eval_every_episodes > CONFIG_MAX_EVAL_EPISODES)
        FAIL("option eval_every_episodes: must be in [1, %d], got %d", CONFIG_MAX_EVAL_EPISODES,
             c->eval_every_episodes);
    if (!(c->clip_obs > 0)) FAIL("option clip_obs: must be positive, got %g", c->clip_obs);
    if (!(c->clip_reward > 0)) FAIL("option clip_reward: must be positive, got %g", c->clip_reward);
    if (c->checkpoint_every < 0) FAIL("option checkpoint_every: must be >= 0, got %d", c->checkpoint_every);
    if (!strcmp(c->resume, "auto") && !c->log[0])
        FAIL("option resume: 'auto' needs an explicit --log (the run to continue)");
    if (c->check_params < 0) FAIL("option check_params: must be >= 0, got %d", c->check_params);
    if (strcmp(c->progress, "auto") && strcmp(c->progress, "live") && strcmp(c->progress, "lines"))
        FAIL("option progress: '%s' is not auto, live or lines", c->progress);
    if (!(c->progress_interval > 0)) FAIL("option progress_interval: must be positive, got %g", c->progress_interval);
    return 0;
#undef FAIL
}

void config_error_source(const ppo_config *c, const config_set *set, char *err, size_t err_len)
{
    char name[64];
    if (sscanf(err, "option %63[a-z_0-9]:", name) != 1)
        return;
    const int i = config_option_find(name);
    const size_t n = strlen(err);
    if (i >= 0 && set->ini_line[i] > 0)
        snprintf(err + n, err_len - n, " (config file %s, line %d)", c->config, set->ini_line[i]);
}

int config_hidden_sizes(const char *text, int *sizes, int max)
{
    int n = 0;
    for (const char *p = text;; p++) { /* "64,64": no empty item, so "64," and ",64" are refused */
        const char *comma = strchr(p, ',');
        const size_t len = comma ? (size_t)(comma - p) : strlen(p);
        char item[16];
        long long v;
        if (len == 0 || len >= sizeof item || n == max)
            return -1;
        memcpy(item, p, len);
        item[len] = 0;
        if (!parse_integer(item, 1, 4096, &v))
            return -1;
        sizes[n++] = (int)v;
        if (!comma)
            return n;
        p = comma;
    }
}

double config_memory_estimate(const ppo_config *c, int obs_dim, bool image_obs, int action_dim, int render_dim,
                              int max_episode_steps, double *rollout, double *minibatch)
{
    const double samples = (double)c->envs_per_rank * c->rollout_steps, mb = samples / c->minibatches;
    /* trainer_create: per sample obs (floats; pixels: bytes) and action floats, 6 more floats (log-prob,
     * value, reward, bootstrap, advantage, return), 2 flag bytes and a permutation index */
    *rollout = samples * ((image_obs ? 1.0 : 4.0) * obs_dim + 4.0 * (action_dim + 6) + 2 + 4);
    /* what the normalisers take from the rollout, added after it: the raw observations, the returns */
    *rollout += samples * ((c->norm_obs ? 4.0 * obs_dim : 0.0) + (c->norm_reward ? 8.0 : 0.0));
    if (image_obs) { /* obs_dim: the policy's input (frames stacked); per env the current and final
                      * frames as floats and both stacks as bytes (10 bytes per value bounds it) */
        *rollout += c->envs_per_rank * 10.0 * obs_dim;
        /* the conv pass: its float input, and activations plus their gradients, which are below the
         * input's size for both shapes on 96x96x3 (small: 11.7k values, nature: 27.4k) */
        *minibatch = mb * 4.0 * 3.0 * obs_dim;
        return *rollout + *minibatch + 32e6;
    }
    /* oneDNN's forward and backward buffers: about 2 floats per hidden unit and sample in each of the
     * actor and critic (measured: CartPole, 64,64, 1024 envs x 1000 steps used 2.2 GB in one minibatch
     * and 0.64 GB in four, i.e. ~2140 bytes per minibatch sample and ~65 per rollout sample) */
    int sizes[16];
    const int n = config_hidden_sizes(c->hidden, sizes, 7);
    double units = 0;
    for (int k = 0; k < n; k++)
        units += sizes[k];
    *minibatch = mb * 4.0 * (obs_dim + 2.0 * units * (c->shared_trunk ? 1 : 2));
    double traj = 0;
    if (c->log_trajectories > 0) { /* per env a recording of up to one episode, and the finished rows */
        const double width = obs_dim + action_dim + 5 + render_dim;
        const double longest = max_episode_steps > 0 ? max_episode_steps : c->rollout_steps;
        traj = 4.0 * width * c->envs_per_rank * (2 * longest + c->rollout_steps);
    }
    return *rollout + *minibatch + traj + 32e6; /* 32 MB: a tiny run's footprint (36 MB measured) */
}

void config_print_help(const char *prog, const ppo_config *d)
{
    printf("usage: %s [train] [--option value ...]\n"
           "       %s eval FILE [--episodes N] [--stochastic] [--seed S] [--out FILE.csv] [--record FILE.h5]\n"
           "       %s envs\n"
           "       %s --version\n\n"
           "Trains an agent with PPO (or A2C / REINFORCE). Run it under mpirun for several ranks:\n"
           "  mpirun -n 8 %s --env LunarLander-v3\n"
           "Options may also come from an INI file (--config FILE, keys as below, optional [ppo] section);\n"
           "flags override the file. Booleans take true/false or --no-NAME.\n\noptions (default):\n",
           prog, prog, prog, prog, prog);
    for (int i = 0; i < N_OPTS; i++) {
        char val[CONFIG_PATH + 8];
        double num;
        config_option_value(d, i, val, sizeof val, &num);
        char flag[64];
        config_option_flag(opts[i].name, true, flag, sizeof flag);
        printf("  %-22s %s (%s)\n", flag, opts[i].help, val[0] ? val : "none");
    }
    printf("\naliases (CleanRL's ppo.py and Stable-Baselines3's names for the same options, in flags and the INI "
           "file):\n");
    for (int k = 0; k < N_ALIASES; k++) {
        if (!aliases[k].option)
            continue;
        char a[64], o[64];
        config_option_flag(aliases[k].alias, true, a, sizeof a);
        config_option_flag(aliases[k].option, true, o, sizeof o);
        printf("  %-22s = %s\n", a, o);
    }
    printf("not the same here, so refused with what to give instead:\n");
    for (int k = 0; k < N_ALIASES; k++)
        if (!aliases[k].option) {
            char a[64];
            config_option_flag(aliases[k].alias, true, a, sizeof a);
            printf("  %-22s %s\n", a, aliases[k].note);
        }
    const char *kinds[] = {"auto", "scale"};
    const char *titles[] = {"env presets (--preset auto applies them to the options not given; envs is the global "
                            "count, split over the ranks)",
                            "scale presets (--preset scale; envs is a global count with at least one per rank, so "
                            "the batch grows past that many ranks; envs not listed take their auto preset)"};
    for (int k = 0; k < 2; k++) {
        printf("\n%s:\n", titles[k]);
        int n;
        const ppo_preset *table = presets_table(kinds[k], &n);
        for (int j = 0; j < n; j++) {
            printf("  %s:", table[j].env);
            if (table[j].envs > 0)
                printf(" envs=%d", table[j].envs);
            for (const preset_setting *s = table[j].settings; s < table[j].settings + PRESET_MAX_SETTINGS && s->name;
                 s++) {
                char text[96];
                format_setting(s, text, sizeof text);
                printf(" %s", text);
            }
            printf("\n      (%s)\n", table[j].source);
        }
    }
}

int config_option_count(void) { return N_OPTS; }

int config_option_find(const char *name)
{
    const int i = find_opt(name);
    return i >= 0 && !strcmp(opts[i].name, name) ? i : -1;
}

int config_option_set(ppo_config *c, int i, const char *value, char *err, size_t err_len)
{
    return set_value(c, i, value, err, err_len);
}

void config_option_copy(ppo_config *dst, const ppo_config *src, int i)
{
    const size_t size = opts[i].type == OPT_STR     ? opts[i].size
                        : opts[i].type == OPT_INT   ? sizeof(int)
                        : opts[i].type == OPT_LLONG ? sizeof(long long)
                        : opts[i].type == OPT_BOOL  ? sizeof(bool)
                                                    : sizeof(double);
    memcpy((char *)dst + opts[i].offset, (const char *)src + opts[i].offset, size);
}

bool config_option_equal(const ppo_config *a, const ppo_config *b, int i)
{
    char ta[CONFIG_PATH + 8], tb[CONFIG_PATH + 8];
    double na, nb;
    config_option_value(a, i, ta, sizeof ta, &na);
    config_option_value(b, i, tb, sizeof tb, &nb);
    if (opts[i].type == OPT_DOUBLE) /* older checkpoints wrote 6 digits */
        return na == nb || fabs(na - nb) <= 1e-6 * fmax(fabs(na), fabs(nb));
    return !strcmp(ta, tb);
}
const char *config_option_name(int i) { return opts[i].name; }

char config_option_kind(int i)
{
    switch (opts[i].type) {
    case OPT_INT:
    case OPT_LLONG: return 'i';
    case OPT_DOUBLE: return 'f';
    case OPT_BOOL: return 'b';
    default: return 's';
    }
}

void config_option_value(const ppo_config *c, int i, char *buf, size_t len, double *num)
{
    const void *field = (const char *)c + opts[i].offset;
    *num = 0;
    switch (opts[i].type) {
    case OPT_INT: *num = *(const int *)field; snprintf(buf, len, "%d", *(const int *)field); break;
    case OPT_LLONG: *num = (double)*(const long long *)field; snprintf(buf, len, "%lld", *(const long long *)field); break;
    case OPT_DOUBLE: { /* the shortest of 6, 15 or 17 digits that reads back as the same double */
        const double v = *(const double *)field;
        *num = v;
        const int digits[3] = {6, 15, 17};
        for (int k = 0; k < 3; k++) {
            snprintf(buf, len, "%.*g", digits[k], v);
            if (strtod(buf, NULL) == v)
                break;
        }
        break;
    }
    case OPT_BOOL: *num = *(const bool *)field; snprintf(buf, len, "%s", *(const bool *)field ? "true" : "false"); break;
    case OPT_STR: snprintf(buf, len, "%s", (const char *)field); break;
    }
}

int config_policy_model(policy_model *pm, const ppo_env_spec *spec, const char *net, const char *cnn,
                        int frame_stack, bool grayscale, int resize, const char *hidden, const char *activation,
                        bool shared, bool sde, char *err, size_t err_len)
{
    const bool image = spec->obs_kind == PPO_OBS_IMAGE;
    const bool want_cnn = !strcmp(net, "cnn") || ((!net[0] || !strcmp(net, "auto")) && image);
    if (!want_cnn && strcmp(net, "mlp") && strcmp(net, "auto") && net[0]) {
        snprintf(err, err_len, "unknown network '%s' (mlp or cnn)", net);
        return -1;
    }
    if (want_cnn != image) {
        if (image)
            snprintf(err, err_len, "%s has image observations (%dx%dx%d): it needs --net cnn, not %s", spec->id,
                     spec->obs_height, spec->obs_width, spec->obs_channels, net);
        else
            snprintf(err, err_len, "--net cnn needs an env with image observations; %s gives a vector of %d",
                     spec->id, spec->obs_dim);
        return -1;
    }
    if (!image && (frame_stack > 1 || grayscale)) {
        snprintf(err, err_len, "--frame-stack and --grayscale are for image envs; %s gives a vector", spec->id);
        return -1;
    }
    if (!image && resize) {
        snprintf(err, err_len, "--resize is for image envs; %s gives a vector", spec->id);
        return -1;
    }
    if (image && resize && !pix_resize_fits(spec->obs_height, spec->obs_width, spec->obs_channels, resize)) {
        snprintf(err, err_len, "--resize %d: must be in [1, %d] for %s (downscaling only, at most its %dx%d frame)",
                 resize, spec->obs_height < spec->obs_width ? spec->obs_height : spec->obs_width, spec->id,
                 spec->obs_height, spec->obs_width);
        return -1;
    }
    if (want_cnn) {
        /* the policy's input: the env's frames after resize, grayscale and stacking (ppo/pixels.h) */
        pix_stack ps;
        pix_stack_init(&ps, spec->obs_height, spec->obs_width, spec->obs_channels, frame_stack, grayscale, resize);
        ppo_env_spec in = *spec;
        in.obs_height = ps.height;
        in.obs_width = ps.width;
        in.obs_channels = ps.frame_channels * ps.frames;
        in.obs_dim = (int)ps.size;
        nn_conv conv;
        int dense = 0;
        if (nn_conv_preset(&conv, cnn, in.obs_channels, in.obs_height, in.obs_width, 0, &dense, err, err_len) ||
            policy_model_init_cnn(pm, &in, &conv, dense, NULL, 0, NN_RELU, sde, err, err_len)) {
            const int side = spec->obs_height < spec->obs_width ? spec->obs_height : spec->obs_width;
            for (int s = resize + 1; resize && s <= side; s++) { /* name the option that made the frame small */
                char why[256];
                if (!nn_conv_preset(&conv, cnn, in.obs_channels, s, s, 0, &dense, why, sizeof why) &&
                    !nn_conv_validate(&conv, why, sizeof why)) {
                    snprintf(err, err_len, "--resize %d: --cnn %s needs frames of at least %dx%d (allowed: %d to %d)",
                             resize, cnn, s, s, s, side);
                    break;
                }
            }
            return -1;
        }
        pm->frames = ps.frames;
        pm->grayscale = ps.frame_channels != spec->obs_channels;
        pm->resize = ps.resize;
        return 0;
    }
    int sizes[NN_MAX_LAYERS];
    const int nh = config_hidden_sizes(hidden, sizes, 7);
    nn_activation act;
    if (nh < 1) {
        snprintf(err, err_len, "bad network shape '%s'", hidden);
        return -1;
    }
    if (nn_activation_parse(activation, &act)) {
        snprintf(err, err_len, "unknown activation '%s'", activation);
        return -1;
    }
    return policy_model_init(pm, spec, sizes, nh, act, shared, sde, err, err_len);
}
