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

bool run_options_may_change(const char *name)
{
    static const char *const names[] = {"resume", "force", "total_steps", "checkpoint_every", "eval_episodes",
                                        "check_params", "progress_interval", "progress", "config", "threads",
                                        "preset", "log_trajectories"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (!strcmp(name, names[i]))
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

int run_options_mismatch(const char *saved, const ppo_config *c, char *err, size_t err_len)
{
    for (int i = 0; i < config_option_count(); i++) {
        const char *name = config_option_name(i);
        if (run_options_may_change(name))
            continue;
        char mine[CONFIG_PATH + 8], theirs[CONFIG_PATH + 8];
        double num;
        config_option_value(c, i, mine, sizeof mine, &num);
        if (!run_options_saved_value(saved, name, theirs, sizeof theirs)) {
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
