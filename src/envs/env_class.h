/* env_class: what one environment implementation provides to the generic env layer (env.c).
 *
 * The generic layer owns the spec, the RNG, the time limit and action validation; a class owns only
 * its physics. Internal header: users see include/ppo/env.h. */
#ifndef PPO_ENVS_ENV_CLASS_H
#define PPO_ENVS_ENV_CLASS_H

#include <stdbool.h>
#include <stddef.h>

#include "ppo/env.h"
#include "util/rng.h"

typedef struct env_options env_options;

typedef struct env_class {
    const char *id;
    const char *default_options; /* applied before the user's, e.g. "continuous=1" for an alias id */
    size_t state_size;           /* bytes of the class's state struct, allocated zeroed by env.c */
    bool plain_state;            /* the state struct holds no pointers: it can be saved as bytes */
    /* Reads options (env_options_get_*), fills spec (id, max_episode_steps are preset by env.c;
     * everything else is the class's), prepares state. Returns PPO_ENV_OK or writes err. */
    int (*init)(void *state, ppo_env_spec *spec, env_options *opts, char *err, size_t err_len);
    void (*destroy)(void *state); /* may be NULL */
    void (*reset)(void *state, rng_t *rng, float *obs);
    /* action is already validated (discrete index in range; no NaN); continuous values are NOT clipped.
     * obs is NULL only for a class with `observe`: the step skips drawing its picture (frame skipping). */
    void (*step)(void *state, rng_t *rng, const float *action, float *obs, float *reward, bool *terminated);
    /* May be NULL. Writes the observation of the last step or reset again; classes whose observation is
     * costly to make (pixels) provide it so that steps whose picture nobody reads can skip it. */
    void (*observe)(const void *state, float *obs);
    void (*render_state)(const void *state, float *out); /* writes spec->render_dim floats */
} env_class;

/* Option lookup for a class's init. Each returns PPO_ENV_OK and leaves *out alone when the key is
 * absent, PPO_ENV_EINVAL with a message in err when the value does not parse. Looked-up keys are
 * marked used; env.c rejects any key that no class looked up. */
int env_options_get_double(env_options *opts, const char *key, double *out, char *err, size_t err_len);
int env_options_get_int(env_options *opts, const char *key, int *out, char *err, size_t err_len);
int env_options_get_bool(env_options *opts, const char *key, bool *out, char *err, size_t err_len);

/* Snapshot of an env for exact checkpoint/resume: for plain_state classes the RNG, step counter and
 * state bytes; for the others (Box2D worlds) the RNG before the last reset and the actions since,
 * which env_restore runs again. env_snapshot_size is fixed per env, 0 when it cannot be saved (a
 * replayed class without a time limit). env_restore returns -1 when the replay does not arrive at
 * the saved RNG state and observation (a corrupt snapshot, or another build of the physics). */
size_t env_snapshot_size(const ppo_env *env);
void env_snapshot(const ppo_env *env, void *buf);
int env_restore(ppo_env *env, const void *buf);

/* 0 when spec has vector observations; otherwise -1 and one line in err naming the env, its image
 * shape and that `what` (e.g. "training") on pixels needs the conv policy (--net cnn).
 * For the consumers that hold observations in PPO_ENV_MAX_OBS_DIM-sized buffers or an MLP. */
int env_spec_require_vector(const ppo_env_spec *spec, const char *what, char *err, size_t err_len);

/* Access to a made env's class state, for tests that set up exact states (golden traces). */
void *env_state(ppo_env *env);
const env_class *env_get_class(const ppo_env *env);

/* The registered classes, in the order `ppo envs` lists them (registry.c). */
extern const env_class *const env_registry[];
extern const int env_registry_count;

#endif
