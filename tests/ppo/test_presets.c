/* Presets: every entry of the auto and scale tables passes the start-up check, and presets with a
 * value of the wrong type, a setting given twice, envs together with envs_per_rank, a text option, or
 * options that do not validate are refused with a message naming the preset and the option. A misspelt
 * setting name is not tested here: PRESET_SET takes a ppo_config field, so it does not compile. */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "ppo/config.h"
#include "ppo/presets.h"

static void expect_refused(const ppo_preset *p, const char *words)
{
    char err[512] = "";
    const int rc = config_preset_check(p, err, sizeof err);
    CHECK(rc == -1 && strstr(err, p->env) && strstr(err, words), "preset %s: rc %d, message '%s' (want '%s')", p->env,
          rc, err, words);
}

int main(void)
{
    char err[512] = "";
    CHECK(config_presets_check(err, sizeof err) == 0, "the shipped presets: %s", err);
    const char *kinds[] = {"auto", "scale"};
    for (int k = 0; k < 2; k++) { /* each entry on its own too, so a failure names it */
        int n;
        const ppo_preset *table = presets_table(kinds[k], &n);
        CHECK(n > 0, "no %s presets", kinds[k]);
        for (int j = 0; j < n; j++)
            CHECK(config_preset_check(&table[j], err, sizeof err) == 0, "%s preset %s: %s", kinds[k], table[j].env,
                  err);
    }

    const ppo_preset fractional = {"Bad-v0", "test", 8, {PRESET_SET(epochs, 2.5)}};
    expect_refused(&fractional, "epochs");
    const ppo_preset not_bool = {"Bad-v0", "test", 8, {PRESET_SET(anneal_lr, 2)}};
    expect_refused(&not_bool, "anneal_lr");
    const ppo_preset twice = {"Bad-v0", "test", 8, {PRESET_SET(lr, 1e-3), PRESET_SET(lr, 3e-4)}};
    expect_refused(&twice, "lr is set twice");
    const ppo_preset both_counts = {"Bad-v0", "test", 8, {PRESET_SET(envs_per_rank, 4)}};
    expect_refused(&both_counts, "envs_per_rank");
    const ppo_preset text = {"Bad-v0", "test", 8, {PRESET_SET(hidden, 64)}};
    expect_refused(&text, "hidden");
    const ppo_preset negative = {"Bad-v0", "test", 8, {PRESET_SET(gamma, 1.5)}};
    expect_refused(&negative, "gamma");
    /* 8 envs x 10 steps = 80 samples do not split into 7 minibatches: caught by the validation */
    const ppo_preset uneven = {"Bad-v0", "test", 8, {PRESET_SET(rollout_steps, 10), PRESET_SET(minibatches, 7)}};
    expect_refused(&uneven, "minibatches");
    const ppo_preset renamed = {"Bad-v0", "test", 8, {{offsetof(ppo_config, lr), "learning_rate", 1e-3}}};
    expect_refused(&renamed, "learning_rate");

    /* applied: options not given come from the preset, given ones stay, envs is split over the ranks */
    ppo_config c;
    config_set set;
    config_defaults(&c);
    char *argv[] = {"--env", "CartPole-v1", "--epochs", "3"};
    CHECK(config_parse_args(&c, &set, 4, argv, err, sizeof err) == 0, "parse: %s", err);
    config_finalize(&c, &set);
    char desc[1024];
    config_apply_preset(&c, &set, 2, desc, sizeof desc);
    CHECK(c.rollout_steps == 32 && c.minibatches == 1 && c.epochs == 3 && c.envs_per_rank == 4 && c.lr == 1e-3 &&
              !c.clip_vloss && c.anneal_lr && c.total_steps == 100000,
          "CartPole's preset on 2 ranks: rollout %d minibatches %d epochs %d envs/rank %d lr %g", c.rollout_steps,
          c.minibatches, c.epochs, c.envs_per_rank, c.lr);
    CHECK(strstr(desc, "rollout_steps=32") && strstr(desc, "envs_per_rank=4") && !strstr(desc, "epochs="),
          "description: %s", desc);

    /* --preset scale: LunarLander-v3's 16 envs are split over up to 16 ranks (the batch measured to solve),
     * then one per rank; a run whose batch outgrows the measured one is told, with the --envs-per-rank
     * that keeps it where there is one; BipedalWalker-v3 has no entry, so its auto preset's global envs */
    const struct { const char *env; int ranks; const char *flag, *value; int want_epr; const char *want; } scale[] = {
        {"LunarLander-v3", 2, NULL, NULL, 8, NULL},
        {"LunarLander-v3", 8, NULL, NULL, 2, NULL},
        {"LunarLander-v3", 16, NULL, NULL, 1, NULL},
        {"LunarLander-v3", 3, NULL, NULL, 5, NULL},
        {"LunarLander-v3", 32, NULL, NULL, 1, "on 32 ranks an update holds 16384 samples, more than the 8192 this entry "
                                             "was measured to solve with in its total_steps: it may need more steps ("},
        {"LunarLander-v3", 16, "--envs-per-rank", "8", 8, "on 16 ranks an update holds 65536 samples, more than the "
                                                           "8192 this entry was measured to solve with in its "
                                                           "total_steps: it may need more steps ("},
        {"LunarLander-v3", 8, "--rollout-steps", "1024", 2, "16384 samples, more than the 8192 this entry was measured "
                                                            "to solve with in its total_steps: it may need more "
                                                            "steps, or --envs-per-rank 1 keeps 8192"},
        {"BipedalWalker-v3", 2, NULL, NULL, 16, NULL}, /* no scale entry: the auto preset's 32 envs */
        {"BipedalWalker-v3", 4, NULL, NULL, 8, "(no scale preset for BipedalWalker-v3: its auto preset)"},
    };
    for (size_t k = 0; k < sizeof scale / sizeof scale[0]; k++) {
        config_defaults(&c);
        char *sargv[] = {"--env", (char *)scale[k].env, "--preset", "scale", (char *)scale[k].flag,
                         (char *)scale[k].value};
        CHECK(config_parse_args(&c, &set, scale[k].flag ? 6 : 4, sargv, err, sizeof err) == 0, "parse: %s", err);
        config_finalize(&c, &set);
        config_apply_preset(&c, &set, scale[k].ranks, desc, sizeof desc);
        CHECK(c.envs_per_rank == scale[k].want_epr, "%s scale on %d ranks: %d envs per rank, want %d", scale[k].env,
              scale[k].ranks, c.envs_per_rank, scale[k].want_epr);
        if (scale[k].want)
            CHECK(strstr(desc, scale[k].want) != NULL, "%s scale on %d ranks: %s", scale[k].env, scale[k].ranks, desc);
        else
            CHECK(strstr(desc, "measured to solve") == NULL, "%s scale on %d ranks: %s", scale[k].env, scale[k].ranks,
                  desc);
    }
    return CHECK_DONE();
}
