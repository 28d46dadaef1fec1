/* Public environment API: make a Gymnasium task by id, reset it, step it.
 *
 * Every environment ppo ships (classic control and Box2D) implements this API, and the trainer
 * uses nothing else, so a user's own C program sees exactly what the trainer sees.
 * One ppo_env is not thread-safe; distinct envs may be stepped concurrently from different threads.
 *
 *     char err[256];
 *     ppo_env *env = ppo_env_make("CartPole-v1", NULL, err, sizeof err);
 *     if (!env) { fprintf(stderr, "%s\n", err); return 1; }
 *     const ppo_env_spec *spec = ppo_env_get_spec(env);
 *     float obs[PPO_ENV_MAX_OBS_DIM]; // vector envs; size an image env's buffer from spec->obs_dim
 *     ppo_env_seed(env, 42);
 *     ppo_env_reset(env, obs);
 *     ppo_step_result r;
 *     do { float a = 1.0f; ppo_env_step(env, &a, obs, &r); } while (!r.terminated && !r.truncated);
 *     ppo_env_free(env);
 */
#ifndef PPO_ENV_H
#define PPO_ENV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define PPO_ENV_MAX_OBS_DIM 32 /* vector observations; images are larger (obs_kind) */
#define PPO_ENV_MAX_ACTION_DIM 8

typedef struct ppo_env ppo_env;

typedef enum { PPO_ACTION_DISCRETE = 0, PPO_ACTION_CONTINUOUS = 1 } ppo_action_kind;

/* A vector observation is obs_dim floats with per-component bounds (at most PPO_ENV_MAX_OBS_DIM);
 * an image (CarRacing-v3) is obs_height x obs_width x obs_channels pixel values 0..255 as floats,
 * row-major, top row first, channels last (Gymnasium's array), obs_dim of them. */
typedef enum { PPO_OBS_VECTOR = 0, PPO_OBS_IMAGE = 1 } ppo_obs_kind;

/* What an environment looks like from outside; constant for the env's lifetime. */
typedef struct {
    const char *id;              /* Gymnasium id, e.g. "CartPole-v1" */
    int obs_dim;                 /* length of an observation row */
    ppo_obs_kind obs_kind;
    int obs_height, obs_width, obs_channels; /* images only; 0 for vector observations */
    /* Vector observations only (obs_dim <= PPO_ENV_MAX_OBS_DIM): observation-space bounds
     * (+-INFINITY when unbounded). Zero for images, whose values are 0..255. */
    float obs_low[PPO_ENV_MAX_OBS_DIM];
    float obs_high[PPO_ENV_MAX_OBS_DIM];
    ppo_action_kind action_kind;
    int action_count;            /* discrete: number of actions; continuous: 0 */
    int action_dim;              /* floats per action: 1 for discrete, the box's size for continuous */
    float action_low[PPO_ENV_MAX_ACTION_DIM];  /* continuous bounds; the env clips to them */
    float action_high[PPO_ENV_MAX_ACTION_DIM];
    int max_episode_steps;       /* Gymnasium's TimeLimit; 0 means none */
    bool has_reward_threshold;   /* Pendulum-v1 has none */
    double reward_threshold;
    int render_dim;              /* floats in one step's render state (ppo_env_render_state) */
} ppo_env_spec;

/* What one step produced. */
typedef struct {
    float reward;
    bool terminated;  /* the MDP ended (goal, crash, fall): do not bootstrap */
    bool truncated;   /* the time limit cut the episode: bootstrap from the observation */
} ppo_step_result;

/* Return codes of the calls below. */
enum { PPO_ENV_OK = 0, PPO_ENV_EINVAL = -1, PPO_ENV_ENOMEM = -2, PPO_ENV_ESTATE = -3 };

/* Makes the env named `id` with comma-separated key=value `options` (NULL or "" for the defaults),
 * e.g. ppo_env_make("LunarLander-v3", "continuous=1,enable_wind=1", err, sizeof err).
 * On failure returns NULL and writes a one-line reason into err. */
ppo_env *ppo_env_make(const char *id, const char *options, char *err, size_t err_len);
void ppo_env_free(ppo_env *env);

const ppo_env_spec *ppo_env_get_spec(const ppo_env *env);

/* Re-seeds the env's own random generator; like Gymnasium's reset(seed=s), later resets continue
 * that stream. An env that was never seeded behaves as if seeded with 0. */
void ppo_env_seed(ppo_env *env, uint64_t seed);

/* Starts a new episode and writes obs_dim floats into obs (for an image env, e.g. CarRacing-v3's
 * 96 x 96 x 3 = 27648, more than PPO_ENV_MAX_OBS_DIM: size the buffer from the spec). */
void ppo_env_reset(ppo_env *env, float *obs);

/* Applies `action` (action_dim floats; a discrete index is passed as its float value) and writes the
 * next observation. Returns PPO_ENV_EINVAL for a discrete index out of range or not integral (nothing
 * changes then), PPO_ENV_ESTATE when the episode already ended and no reset came. Continuous actions
 * are clipped to the bounds as Gymnasium does; NaN components count as invalid.
 * obs may be NULL when nobody reads this step's observation; an image env then skips drawing it. */
int ppo_env_step(ppo_env *env, const float *action, float *obs, ppo_step_result *result);

/* Frame skipping (rl-baselines3-zoo's FrameSkip wrapper; Atari's action repeat without the max over
 * frames): applies `action` up to `repeat` >= 1 times, stopping when the episode ends. result holds the
 * sum of the rewards and the last step's flags, obs the last step's observation (an image env draws
 * no other), *steps (may be NULL) the steps taken. Return codes as ppo_env_step's first step, and
 * PPO_ENV_EINVAL for repeat < 1 (nothing changes then). */
int ppo_env_step_repeat(ppo_env *env, const float *action, int repeat, float *obs, ppo_step_result *result,
                        int *steps);

/* Steps taken in the current episode. */
int ppo_env_elapsed_steps(const ppo_env *env);

/* Writes render_dim floats describing the current scene (positions, angles, flags), enough for the
 * analysis tools to draw it; the layout per env is documented in docs/render-state.md. */
void ppo_env_render_state(const ppo_env *env, float *out);

/* Registry: the number of env ids, and the id at index i (0 <= i < count). */
int ppo_env_count(void);
const char *ppo_env_id_at(int i);

#ifdef __cplusplus
}
#endif
#endif
