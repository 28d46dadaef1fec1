/* run_options: options as "name=value" text, their hash, and what a resume may change. */
#include "ppo/run_options.h"

#include <stdio.h>
#include <string.h>

uint64_t run_options_hash(const ppo_config *c)
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
    return h;
}

/* Options that do not change the computation, so a resume may give other values. */
static const char *const may_change[] = {"resume", "force", "total_steps", "checkpoint_every", "eval_episodes",
                                         "check_params", "progress_interval", "progress", "config", "threads", "grad_reduce",
                                         "preset", "log_trajectories", "eval_every", "eval_every_episodes"};
#define N_MAY_CHANGE (sizeof may_change / sizeof may_change[0])

bool run_options_may_change(const char *name)
{
    for (size_t i = 0; i < N_MAY_CHANGE; i++)
        if (!strcmp(name, may_change[i]))
            return true;
    return false;
}

void run_options_text(const ppo_config *c, char *out, size_t len)
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

bool run_options_saved_value(const char *saved, const char *name, char *out, size_t len)
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

/* The saved options as a config: defaults, then every "name=value" line of an option that exists (an
 * option newer than the checkpoint keeps its default, the value that version ran with). -1 with err
 * when a saved value does not parse (a corrupt or crafted file). */
static int saved_config(const char *saved, ppo_config *s, char *err, size_t err_len)
{
    config_defaults(s);
    for (int i = 0; i < config_option_count(); i++) {
        char text[CONFIG_PATH + 8], why[512];
        if (run_options_saved_value(saved, config_option_name(i), text, sizeof text) &&
            config_option_set(s, i, text, why, sizeof why)) {
            snprintf(err, err_len, "its saved %s", why);
            return -1;
        }
    }
    return 0;
}

int run_options_mismatch(const char *saved, const ppo_config *c, char *err, size_t err_len)
{
    ppo_config s;
    if (saved_config(saved, &s, err, err_len))
        return -1;
    for (int i = 0; i < config_option_count(); i++) {
        const char *name = config_option_name(i);
        if (run_options_may_change(name) || config_option_equal(&s, c, i))
            continue;
        char mine[CONFIG_PATH + 8], theirs[CONFIG_PATH + 8];
        double num;
        config_option_value(c, i, mine, sizeof mine, &num);
        config_option_value(&s, i, theirs, sizeof theirs, &num);
        snprintf(err, err_len, "the checkpoint was made with %s=%.200s, this run has %s=%.200s; resume with the same options",
                 name, theirs, name, mine);
        return -1;
    }
    return 0;
}

/* Options that belong to one invocation, never taken from a checkpoint: what to resume from, whether
 * files may be replaced, and the INI file read this time. */
static bool per_invocation(const char *name)
{
    return !strcmp(name, "resume") || !strcmp(name, "force") || !strcmp(name, "config");
}

int run_options_take_saved(ppo_config *c, config_set *set, const char *saved, const char *from, char *given,
                           size_t given_len, char *err, size_t err_len)
{
    ppo_config s;
    char why[768];
    given[0] = 0;
    if (saved_config(saved, &s, why, sizeof why)) {
        snprintf(err, err_len, "checkpoint %s: %s", from, why);
        return -1;
    }
    for (int i = 0; i < config_option_count(); i++) {
        const char *name = config_option_name(i);
        if (per_invocation(name))
            continue;
        if (!set->flag[i]) {
            config_option_copy(c, &s, i);
            set->flag[i] = true; /* so no algorithm default or preset replaces it */
            continue;
        }
        char mine[CONFIG_PATH + 8], theirs[CONFIG_PATH + 8];
        double num;
        config_option_value(c, i, mine, sizeof mine, &num);
        config_option_value(&s, i, theirs, sizeof theirs, &num);
        if (run_options_may_change(name)) {
            if (!config_option_equal(&s, c, i)) {
                const size_t n = strlen(given);
                snprintf(given + n, given_len - n, "%s%s=%.100s", n ? " " : "", name, mine);
            }
            continue;
        }
        if (config_option_equal(&s, c, i))
            continue;
        char list[512] = "";
        for (size_t k = 0; k < N_MAY_CHANGE; k++) {
            const size_t n = strlen(list);
            if (!per_invocation(may_change[k]))
                snprintf(list + n, sizeof list - n, "%s%s", n ? ", " : "", may_change[k]);
        }
        snprintf(err, err_len, "option %s: checkpoint %s was made with %s=%.200s, the command line gives %s=%.200s; a "
                 "resume takes the run's saved options and only these may change: %s (leave %s out)", name, from,
                 name, theirs, name, mine, list, name);
        return -1;
    }
    return 0;
}
