/* `ppo eval`: load a policy checkpoint, run N episodes on fresh seeds, print mean +- std. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "log/checkpoint.h"
#include "ppo/config.h"
#include "ppo/eval.h"
#include "util/parse.h"

static void eval_usage(void)
{
    printf("usage: ppo eval --checkpoint FILE [--episodes N] [--stochastic] [--seed S]\n\n"
           "Runs the saved policy for N episodes (default 100), episode i seeded with S + i (default S = 12345),\n"
           "greedy by default (argmax / Gaussian mean), and prints the mean +- std return and the fraction of\n"
           "episodes at or above the env's reward threshold.\n");
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
    const char *path = NULL;
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
        } else if (!strcmp(a, "--checkpoint") && v) {
            path = v;
            i++;
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
            snprintf(err, sizeof err, "eval: unknown or incomplete option '%s' (see ppo eval --help)", a);
        }
    }
    if (!err[0] && !path)
        snprintf(err, sizeof err, "eval: --checkpoint FILE is required");
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
    int hidden[16];
    int nh = config_hidden_sizes(ck.hidden, hidden, 7);
    nn_activation act;
    char what[160];
    if (policy_nonfinite(&ck, what, sizeof what)) {
        fprintf(stderr, "ppo: error: checkpoint %s: not a usable policy: %s (a diverged or corrupt run)\n", path, what);
    } else if (!env) {
        fprintf(stderr, "ppo: error: checkpoint %s: %s\n", path, err);
    } else if (nn_activation_parse(ck.activation, &act)) {
        fprintf(stderr, "ppo: error: checkpoint %s: unknown activation '%s'\n", path, ck.activation);
    } else if (nh < 1 || policy_model_init(&pm, ppo_env_get_spec(env), hidden, nh, act, ck.shared_trunk, ck.sde, err,
                                           sizeof err)) {
        fprintf(stderr, "ppo: error: checkpoint %s: bad network shape '%s'\n", path, ck.hidden);
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
        const int ev_rc = eval_policy(&pm, ck.params, ck.obs_norm_dim > 0 ? &norm : NULL, ck.clip_obs, ck.env,
                                      ck.env_options, (int)episodes, seed, !stochastic, NULL, &ev, err, sizeof err);
        if (ev_rc == -2) { /* the file's policy is unusable: bad input */
            fprintf(stderr, "ppo: error: checkpoint %s: %s\n", path, err);
        } else if (ev_rc) {
            fprintf(stderr, "ppo: error: %s\n", err);
            rc = EXIT_FAILURE_RUN;
        } else {
            printf("%s: %d episodes, %s policy, seeds %llu..%llu: return %.2f +- %.2f (min %.2f, max %.2f), "
                   "mean length %.1f",
                   ck.env, ev.episodes, stochastic ? "stochastic" : "greedy", seed, seed + (unsigned long long)episodes - 1,
                   ev.mean, ev.std, ev.min, ev.max, ev.mean_length);
            if (spec->has_reward_threshold)
                printf(", %.0f%% >= threshold %g", 100.0 * ev.solved_fraction, spec->reward_threshold);
            printf("\n");
            rc = EXIT_OK;
        }
    }
    ppo_env_free(env);
    checkpoint_free(&ck);
    return rc;
}
