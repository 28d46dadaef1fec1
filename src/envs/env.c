/* env: the generic half of every environment — option parsing, RNG, time limit, action checks.
 * The physics lives in the env classes (cartpole.c, lunar_lander.c, ...). */
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "envs/env_class.h"
#include "util/parse.h"

#define ENV_MAX_OPTIONS 16
#define ENV_OPTION_LEN 64

struct env_options {
    int count;
    struct {
        char key[ENV_OPTION_LEN];
        char value[ENV_OPTION_LEN];
        bool used;
    } item[ENV_MAX_OPTIONS];
};

struct ppo_env {
    const env_class *cls;
    ppo_env_spec spec;
    rng_t rng;
    int elapsed;
    bool episode_over; /* terminated or truncated and not reset since */
    bool was_reset;
    void *state;
    /* The replay log of a class whose state cannot be copied (Box2D worlds): the RNG as it was before
     * the last reset, every action since and the last observation. A snapshot is that log; a restore
     * runs the episode again, which gives the same bits because stepping is deterministic. NULL
     * action_log for plain-state classes and for envs without a time limit. Heap buffers, sized at
     * make: an image observation is far larger than a vector one. */
    rng_t reset_rng;
    float *action_log; /* (max_episode_steps, action_dim) */
    float *last_obs;   /* (obs_dim) */
    float *replay_obs; /* (obs_dim) scratch for env_restore's replay */
};

static void set_err(char *err, size_t len, const char *fmt, const char *a, const char *b)
{
    if (err && len)
        snprintf(err, len, fmt, a, b);
}

/* Parses "k=v,k2=v2" into opts (appending). Whitespace around keys and values is ignored. A key given
 * again overrides its earlier value (the env's defaults, or an earlier item: "$BASE,g=10" in a job
 * script is an override, tests/envs/test_env_options checks it). */
static int options_parse(env_options *opts, const char *text, char *err, size_t err_len)
{
    if (!text)
        return PPO_ENV_OK;
    const char *p = text;
    while (*p == ' ')
        p++;
    if (!*p)
        return PPO_ENV_OK; /* no options */
    for (;; p++) { /* p: the start of an item; an empty one ("a=1,", ",,") is refused */
        while (*p == ' ')
            p++;
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        const char *eq = memchr(p, '=', n);
        char item[2 * ENV_OPTION_LEN];
        snprintf(item, sizeof item, "%.*s", (int)n, p);
        if (!eq || eq == p) {
            set_err(err, err_len, n ? "env option '%s' is not of the form key=value%s"
                                    : "env options '%s': an empty item (a stray comma)", n ? item : text, "");
            return PPO_ENV_EINVAL;
        }
        size_t klen = (size_t)(eq - p), vlen = n - klen - 1;
        while (klen && p[klen - 1] == ' ')
            klen--;
        const char *v = eq + 1;
        while (vlen && *v == ' ')
            v++, vlen--;
        while (vlen && v[vlen - 1] == ' ')
            vlen--;
        if (klen >= ENV_OPTION_LEN || vlen >= ENV_OPTION_LEN || vlen == 0) {
            set_err(err, err_len, "env option '%s' has an empty or too long key or value%s", item, "");
            return PPO_ENV_EINVAL;
        }
        if (opts->count == ENV_MAX_OPTIONS) {
            set_err(err, err_len, "too many env options at '%s'%s", item, "");
            return PPO_ENV_EINVAL;
        }
        int slot = opts->count;
        for (int i = 0; i < opts->count; i++) /* later values override earlier ones */
            if (strlen(opts->item[i].key) == klen && !strncmp(opts->item[i].key, p, klen))
                slot = i;
        snprintf(opts->item[slot].key, ENV_OPTION_LEN, "%.*s", (int)klen, p);
        snprintf(opts->item[slot].value, ENV_OPTION_LEN, "%.*s", (int)vlen, v);
        opts->item[slot].used = false;
        if (slot == opts->count)
            opts->count++;
        p += n;
        if (!*p)
            return PPO_ENV_OK;
    }
}

static const char *options_find(env_options *opts, const char *key)
{
    for (int i = 0; i < opts->count; i++)
        if (!strcmp(opts->item[i].key, key)) {
            opts->item[i].used = true;
            return opts->item[i].value;
        }
    return NULL;
}

int env_options_get_double(env_options *opts, const char *key, double *out, char *err, size_t err_len)
{
    const char *v = options_find(opts, key);
    if (!v)
        return PPO_ENV_OK;
    double x;
    if (!parse_number(v, &x)) {
        set_err(err, err_len, "env option %s=%s is not a finite number", key, v);
        return PPO_ENV_EINVAL;
    }
    *out = x;
    return PPO_ENV_OK;
}

int env_options_get_int(env_options *opts, const char *key, int *out, char *err, size_t err_len)
{
    const char *v = options_find(opts, key);
    if (!v)
        return PPO_ENV_OK;
    long long x;
    if (!parse_integer(v, -2147483647LL, 2147483647LL, &x)) {
        set_err(err, err_len, "env option %s=%s is not an integer", key, v);
        return PPO_ENV_EINVAL;
    }
    *out = (int)x;
    return PPO_ENV_OK;
}

int env_options_get_bool(env_options *opts, const char *key, bool *out, char *err, size_t err_len)
{
    const char *v = options_find(opts, key);
    if (!v)
        return PPO_ENV_OK;
    if (!strcmp(v, "1") || !strcmp(v, "true") || !strcmp(v, "True") || !strcmp(v, "yes"))
        *out = true;
    else if (!strcmp(v, "0") || !strcmp(v, "false") || !strcmp(v, "False") || !strcmp(v, "no"))
        *out = false;
    else {
        set_err(err, err_len, "env option %s=%s is not a boolean (use 1/0, true/false)", key, v);
        return PPO_ENV_EINVAL;
    }
    return PPO_ENV_OK;
}

static const env_class *find_class(const char *id)
{
    for (int i = 0; i < env_registry_count; i++)
        if (!strcmp(env_registry[i]->id, id))
            return env_registry[i];
    return NULL;
}

ppo_env *ppo_env_make(const char *id, const char *options, char *err, size_t err_len)
{
    if (!id) {
        set_err(err, err_len, "no env id given%s%s", "", "");
        return NULL;
    }
    const env_class *cls = find_class(id);
    if (!cls) {
        set_err(err, err_len, "unknown env '%s' (run 'ppo envs' for the list)%s", id, "");
        return NULL;
    }
    env_options opts = {0};
    if (options_parse(&opts, cls->default_options, err, err_len) ||
        options_parse(&opts, options, err, err_len))
        return NULL;
    ppo_env *env = calloc(1, sizeof *env);
    void *state = calloc(1, cls->state_size ? cls->state_size : 1);
    if (!env || !state) {
        free(env);
        free(state);
        set_err(err, err_len, "out of memory making env '%s'%s", id, "");
        return NULL;
    }
    env->cls = cls;
    env->state = state;
    env->spec.id = cls->id;
    if (cls->init(state, &env->spec, &opts, err, err_len) != PPO_ENV_OK) {
        free(state);
        free(env);
        return NULL;
    }
    /* a vector env's observation fits the fixed-size buffers (spec bounds, snapshots, users' arrays) */
    if (env->spec.obs_kind == PPO_OBS_VECTOR ? env->spec.obs_dim > PPO_ENV_MAX_OBS_DIM
                                             : env->spec.obs_dim != env->spec.obs_height * env->spec.obs_width *
                                                                        env->spec.obs_channels) {
        set_err(err, err_len, "internal error: %s declares an inconsistent observation shape%s", id, "");
        ppo_env_free(env);
        return NULL;
    }
    for (int i = 0; i < opts.count; i++)
        if (!opts.item[i].used) {
            set_err(err, err_len, "unknown env option '%s' for %s", opts.item[i].key, id);
            ppo_env_free(env);
            return NULL;
        }
    if (!cls->plain_state && env->spec.max_episode_steps > 0) {
        env->action_log = calloc((size_t)env->spec.max_episode_steps * (size_t)env->spec.action_dim, sizeof(float));
        env->last_obs = calloc((size_t)env->spec.obs_dim, sizeof(float));
        env->replay_obs = calloc((size_t)env->spec.obs_dim, sizeof(float));
        if (!env->action_log || !env->last_obs || !env->replay_obs) {
            set_err(err, err_len, "out of memory making env '%s'%s", id, "");
            ppo_env_free(env);
            return NULL;
        }
    }
    rng_seed(&env->rng, 0);
    return env;
}

void ppo_env_free(ppo_env *env)
{
    if (!env)
        return;
    if (env->cls->destroy)
        env->cls->destroy(env->state);
    free(env->action_log);
    free(env->last_obs);
    free(env->replay_obs);
    free(env->state);
    free(env);
}

const ppo_env_spec *ppo_env_get_spec(const ppo_env *env) { return &env->spec; }

void ppo_env_seed(ppo_env *env, uint64_t seed) { rng_seed(&env->rng, seed); }

void ppo_env_reset(ppo_env *env, float *obs)
{
    env->reset_rng = env->rng;
    env->cls->reset(env->state, &env->rng, obs);
    if (env->action_log)
        memcpy(env->last_obs, obs, sizeof(float) * (size_t)env->spec.obs_dim);
    env->elapsed = 0;
    env->episode_over = false;
    env->was_reset = true;
}

int ppo_env_step(ppo_env *env, const float *action, float *obs, ppo_step_result *result)
{
    if (!env->was_reset || env->episode_over)
        return PPO_ENV_ESTATE;
    const ppo_env_spec *s = &env->spec;
    if (s->action_kind == PPO_ACTION_DISCRETE) {
        float a = action[0];
        if (!(a >= 0.0f && a < (float)s->action_count) || a != floorf(a))
            return PPO_ENV_EINVAL;
    } else {
        for (int i = 0; i < s->action_dim; i++)
            if (isnan(action[i]))
                return PPO_ENV_EINVAL;
    }
    bool terminated = false;
    if (env->action_log) /* elapsed < max_episode_steps: a truncated episode takes no more steps */
        memcpy(env->action_log + (size_t)env->elapsed * (size_t)s->action_dim, action,
               sizeof(float) * (size_t)s->action_dim);
    float scratch[PPO_ENV_MAX_OBS_DIM]; /* obs NULL on a class that always writes one (vectors) */
    float *out = obs ? obs : (env->cls->observe ? NULL : scratch);
    env->cls->step(env->state, &env->rng, action, out, &result->reward, &terminated);
    if (env->action_log && !out) /* the replay check compares the last observation */
        env->cls->observe(env->state, env->last_obs);
    else if (env->action_log)
        memcpy(env->last_obs, out, sizeof(float) * (size_t)s->obs_dim);
    env->elapsed++;
    result->terminated = terminated;
    result->truncated = s->max_episode_steps > 0 && env->elapsed >= s->max_episode_steps;
    env->episode_over = result->terminated || result->truncated;
    return PPO_ENV_OK;
}

int ppo_env_step_repeat(ppo_env *env, const float *action, int repeat, float *obs, ppo_step_result *result,
                        int *steps)
{
    if (repeat < 1)
        return PPO_ENV_EINVAL;
    double reward = 0.0; /* float32 partial sums would differ from Python's float sum of the rewards */
    int k = 0, rc = PPO_ENV_OK;
    ppo_step_result r = {0.0f, false, false};
    while (k < repeat) {
        /* draw only the picture someone reads: the last step's; an episode that ends earlier gets
         * its picture from observe */
        const bool last = k + 1 >= repeat;
        rc = ppo_env_step(env, action, last || !env->cls->observe ? obs : NULL, &r);
        if (rc != PPO_ENV_OK)
            break; /* only the first step can fail: the action is the same, the episode not over */
        k++;
        reward += r.reward;
        if (r.terminated || r.truncated) {
            if (!last && env->cls->observe)
                env->cls->observe(env->state, obs);
            break;
        }
    }
    result->reward = (float)reward;
    result->terminated = r.terminated;
    result->truncated = r.truncated;
    if (steps)
        *steps = k;
    return k > 0 ? PPO_ENV_OK : rc;
}

int ppo_env_elapsed_steps(const ppo_env *env) { return env->elapsed; }

void ppo_env_render_state(const ppo_env *env, float *out)
{
    if (env->cls->render_state)
        env->cls->render_state(env->state, out);
}

int ppo_env_count(void) { return env_registry_count; }

const char *ppo_env_id_at(int i) { return (i >= 0 && i < env_registry_count) ? env_registry[i]->id : NULL; }

/* Snapshot layout of a plain-state class: the generic fields, then the class state bytes. */
typedef struct {
    rng_t rng;
    int elapsed;
    bool episode_over, was_reset;
} env_generic_state;

/* Of a replayed class: the generic fields, what the replay starts from and must arrive at, then the
 * actions, max_episode_steps x action_dim floats, unused rows zero. A vector env's last observation is
 * in last_obs; an image env's (obs_dim floats) follows the actions, last_obs staying zero. */
typedef struct {
    env_generic_state generic;
    rng_t reset_rng;
    float last_obs[PPO_ENV_MAX_OBS_DIM];
} env_replay_state;

static size_t env_log_bytes(const ppo_env *env)
{
    return sizeof(float) * (size_t)env->spec.max_episode_steps * (size_t)env->spec.action_dim;
}

static bool env_obs_in_header(const ppo_env *env) { return env->spec.obs_dim <= PPO_ENV_MAX_OBS_DIM; }

static size_t env_obs_tail_bytes(const ppo_env *env)
{
    return env_obs_in_header(env) ? 0 : sizeof(float) * (size_t)env->spec.obs_dim;
}

size_t env_snapshot_size(const ppo_env *env)
{
    if (env->cls->plain_state)
        return sizeof(env_generic_state) + env->cls->state_size;
    return env->action_log ? sizeof(env_replay_state) + env_log_bytes(env) + env_obs_tail_bytes(env) : 0;
}

void env_snapshot(const ppo_env *env, void *buf)
{
    if (env->cls->plain_state) {
        env_generic_state g;
        memset(&g, 0, sizeof g); /* padding too: equal states give equal bytes */
        g.rng = env->rng;
        g.elapsed = env->elapsed;
        g.episode_over = env->episode_over;
        g.was_reset = env->was_reset;
        memcpy(buf, &g, sizeof g);
        memcpy((char *)buf + sizeof g, env->state, env->cls->state_size);
        return;
    }
    env_replay_state h;
    memset(&h, 0, sizeof h); /* padding too: equal states give equal bytes */
    h.generic.rng = env->rng;
    h.generic.elapsed = env->elapsed;
    h.generic.episode_over = env->episode_over;
    h.generic.was_reset = env->was_reset;
    h.reset_rng = env->reset_rng;
    if (env_obs_in_header(env))
        memcpy(h.last_obs, env->last_obs, sizeof(float) * (size_t)env->spec.obs_dim);
    memcpy(buf, &h, sizeof h);
    char *actions = (char *)buf + sizeof h;
    const size_t used = sizeof(float) * (size_t)env->elapsed * (size_t)env->spec.action_dim;
    memcpy(actions, env->action_log, used);
    memset(actions + used, 0, env_log_bytes(env) - used);
    memcpy(actions + env_log_bytes(env), env->last_obs, env_obs_tail_bytes(env));
}

/* Checks a snapshot's generic fields before any is copied into the env: the flags must be bytes 0 or 1
 * (loading another value into a bool is undefined), the step counter within the time limit, the RNG
 * not the all-zero state xoshiro never leaves. Snapshots come from checkpoint files. */
static bool generic_state_valid(const ppo_env *env, const unsigned char *g)
{
    const unsigned char over = g[offsetof(env_generic_state, episode_over)];
    const unsigned char reset = g[offsetof(env_generic_state, was_reset)];
    int elapsed;
    rng_t rng;
    memcpy(&elapsed, g + offsetof(env_generic_state, elapsed), sizeof elapsed);
    memcpy(&rng, g + offsetof(env_generic_state, rng), sizeof rng);
    const int limit = env->spec.max_episode_steps > 0 ? env->spec.max_episode_steps : INT32_MAX;
    return over <= 1 && reset <= 1 && elapsed >= 0 && elapsed <= limit && (rng.s[0] | rng.s[1] | rng.s[2] | rng.s[3]);
}

int env_restore(ppo_env *env, const void *buf)
{
    if (!generic_state_valid(env, buf))
        return -1;
    if (env->cls->plain_state) {
        env_generic_state g;
        memcpy(&g, buf, sizeof g);
        env->rng = g.rng;
        env->elapsed = g.elapsed;
        env->episode_over = g.episode_over;
        env->was_reset = g.was_reset;
        memcpy(env->state, (const char *)buf + sizeof g, env->cls->state_size);
        /* the state's values as the class describes them (for classic control: the state itself) must be
         * finite; the caller discards the env when this fails */
        float scene[64];
        if (env->cls->render_state && env->spec.render_dim > 0 && env->spec.render_dim <= 64) {
            env->cls->render_state(env->state, scene);
            for (int i = 0; i < env->spec.render_dim; i++)
                if (!isfinite(scene[i]))
                    return -1;
        }
        return 0;
    }
    env_replay_state h; /* its generic fields come first, checked above */
    memcpy(&h, buf, sizeof h);
    if (h.generic.was_reset && !(h.reset_rng.s[0] | h.reset_rng.s[1] | h.reset_rng.s[2] | h.reset_rng.s[3]))
        return -1;
    const char *actions = (const char *)buf + sizeof h;
    if (!h.generic.was_reset) { /* never reset: nothing to replay */
        env->rng = h.generic.rng;
        env->elapsed = 0;
        env->episode_over = env->was_reset = false;
        return 0;
    }
    const size_t dim = (size_t)env->spec.action_dim;
    float action[PPO_ENV_MAX_ACTION_DIM];
    ppo_step_result r;
    env->rng = h.reset_rng;
    ppo_env_reset(env, env->replay_obs);
    for (int i = 0; i < h.generic.elapsed; i++) {
        memcpy(action, actions + sizeof(float) * (size_t)i * dim, sizeof(float) * dim);
        if (ppo_env_step(env, action, env->replay_obs, &r) != PPO_ENV_OK)
            return -1;
    }
    /* the replay must arrive where the run was: the same RNG words, observation and flags */
    const void *saved_obs = env_obs_in_header(env) ? (const void *)h.last_obs : actions + env_log_bytes(env);
    const bool same = !memcmp(&env->rng, &h.generic.rng, sizeof env->rng) &&
                      env->episode_over == h.generic.episode_over &&
                      !memcmp(env->last_obs, saved_obs, sizeof(float) * (size_t)env->spec.obs_dim);
    return same ? 0 : -1;
}

int env_spec_require_vector(const ppo_env_spec *spec, const char *what, char *err, size_t err_len)
{
    if (spec->obs_kind == PPO_OBS_VECTOR && spec->obs_dim <= PPO_ENV_MAX_OBS_DIM)
        return 0;
    if (err && err_len)
        snprintf(err, err_len, "%s has image observations (%dx%dx%d); %s on pixels needs the conv policy (--net cnn)",
                 spec->id, spec->obs_height, spec->obs_width, spec->obs_channels, what);
    return -1;
}

void *env_state(ppo_env *env) { return env->state; }

const env_class *env_get_class(const ppo_env *env) { return env->cls; }
