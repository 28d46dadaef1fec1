/* presets: tuned PPO settings per env (--preset auto) and per-rank shapes (--preset scale) as typed
 * tables. A setting names a ppo_config field through PRESET_SET, so a misspelt name does not compile;
 * config_presets_check then checks each value against its option's type and validates every preset at
 * start-up. Applying a preset to a run is config_apply_preset's job (config.c), not this file's. */
#ifndef PPO_PPO_PRESETS_H
#define PPO_PPO_PRESETS_H

#include <stddef.h>

#include "ppo/config.h"

typedef struct {
    size_t offset;    /* offsetof(ppo_config, field): the option it sets */
    const char *name; /* the field's name, for messages */
    double value;     /* numbers and booleans (0/1); no preset sets a text option */
} preset_setting;

#define PRESET_MAX_SETTINGS 24

typedef struct ppo_preset {
    const char *env;
    const char *source;
    int envs; /* the global env count, split over the ranks; 0: the preset sets envs_per_rank, if anything */
    preset_setting settings[PRESET_MAX_SETTINGS]; /* ends at the first setting without a name */
} ppo_preset;

#define PRESET_SET(field, v) {offsetof(ppo_config, field), #field, (double)(v)}

/* The table of "auto" or "scale" presets and its length; NULL (count 0) for any other kind. */
const ppo_preset *presets_table(const char *kind, int *count);
/* The env's preset of that kind, or NULL. */
const ppo_preset *presets_find(const char *kind, const char *env);
/* --preset scale: the largest global batch (samples per update) the env's entry was measured to solve
 * with in its step budget (0: not said); a run with a larger batch is told so. */
long long presets_scale_solved_batch(const char *env);

#endif
