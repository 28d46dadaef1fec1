/* run_options: a run's resolved options as text — the "name=value" lines a training checkpoint stores,
 * the hash that tells whether every rank parsed the same options, and which options may differ between
 * a run and its resumption. */
#ifndef PPO_PPO_RUN_OPTIONS_H
#define PPO_PPO_RUN_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ppo/config.h"

/* A hash of every resolved option's value (FNV-1a): equal on two ranks when they parsed the same run. */
uint64_t run_options_hash(const ppo_config *c);

/* Whether option `name` may differ between a run and its resumption (it does not change the computation). */
bool run_options_may_change(const char *name);

/* The resolved options as "name=value" lines (truncated to len). */
void run_options_text(const ppo_config *c, char *out, size_t len);

/* Copies the value of `name` from "name=value" lines into out; false when absent. */
bool run_options_saved_value(const char *saved, const char *name, char *out, size_t len);

/* Names the first option that may not change and differs between saved lines and c: -1 with err, 0 when
 * they agree. An option missing from saved (newer than the checkpoint) counts as its default. */
int run_options_mismatch(const char *saved, const ppo_config *c, char *err, size_t err_len);

#endif
