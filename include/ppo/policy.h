/* Public policy API: load a policy that `ppo` trained and compute its actions, to embed the trained
 * controller in a C program.
 *
 * Reads the `.policy.h5` a run saves (or a `.ckpt.h5` training checkpoint: its policy part), with the
 * observation statistics it was trained with, through the same validated readers as `ppo eval`, and
 * runs the same network code: greedy actions are those `ppo eval` takes for the same observations.
 * One ppo_policy is not thread-safe (it owns the network's scratch buffers); distinct policies, even
 * loaded from the same file, may act concurrently from different threads. No global state of its own;
 * like `ppo`, the first load caps oneDNN's kernels at AVX2 for the process (unless ONEDNN_MAX_CPU_ISA is
 * set), since kernels of other instruction sets round differently and would not reproduce ppo eval.
 * Vector observations only: a conv policy trained on an image env (CarRacing-v3, `net` = cnn in the
 * file) is refused by ppo_policy_load with a message; `ppo eval` runs those.
 *
 *     char err[512];
 *     ppo_policy *pol = ppo_policy_load("runs/run.policy.h5", err, sizeof err);
 *     if (!pol) { fprintf(stderr, "%s\n", err); return 1; }
 *     const ppo_policy_info *info = ppo_policy_get_info(pol);
 *     ppo_env *env = ppo_env_make(info->env_id, info->env_options, err, sizeof err);
 *     float obs[PPO_ENV_MAX_OBS_DIM], action[PPO_ENV_MAX_ACTION_DIM];
 *     ppo_env_reset(env, obs);
 *     ppo_policy_act(pol, obs, 1, info->obs_dim, PPO_POLICY_GREEDY, NULL, action, NULL, err, sizeof err);
 *     ...
 *     ppo_policy_free(pol);
 *
 * examples/run_policy.c (also in README.md) is a whole program. */
#ifndef PPO_POLICY_H
#define PPO_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "env.h" /* ppo/env.h, beside this header */

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ppo_policy ppo_policy;

/* What a loaded policy acts on and produces; constant for the policy's lifetime. */
typedef struct {
    const char *env_id;          /* the env it was trained on, e.g. "CartPole-v1" */
    const char *env_options;     /* that env's options ("" for the defaults), for ppo_env_make */
    int obs_dim;                 /* floats per observation row */
    ppo_action_kind action_kind;
    int action_count;            /* discrete: number of actions; continuous: 0 */
    int action_dim;              /* floats per action row: 1 for discrete (the index as a float) */
    bool normalizes_obs;         /* observations go through the run's running mean/std (and clip) first */
    long long global_step;       /* env steps the policy was trained for */
    const char *run_id;          /* the run that wrote the file ("" in files from before run ids) */
    int frame_skip;              /* env steps per action it was trained with: step the env with
                                    ppo_env_step_repeat(env, action, frame_skip, ...); 1: every step */
} ppo_policy_info;

/* How ppo_policy_act picks an action. */
typedef enum {
    PPO_POLICY_GREEDY = 0, /* argmax of the logits / the Gaussian's mean: what `ppo eval` does */
    PPO_POLICY_SAMPLE = 1, /* a draw from the policy's distribution, from the caller's ppo_rng */
} ppo_policy_mode;

/* A caller-owned random stream for PPO_POLICY_SAMPLE (xoshiro256**): the same seed and the same calls
 * give the same actions. Copy it to replay a stream. */
typedef struct {
    uint64_t s[4];
} ppo_rng;

void ppo_rng_seed(ppo_rng *rng, uint64_t seed);

/* Return codes of ppo_policy_act. */
enum { PPO_POLICY_OK = 0, PPO_POLICY_EINVAL = -1, PPO_POLICY_ENOMEM = -2, PPO_POLICY_EBADPOLICY = -3 };

/* Loads the policy in the HDF5 file at path (a `.policy.h5`, or a `.ckpt.h5`). Everything is checked
 * before use (format, version, the env exists in this build, network shape, parameter count, finite
 * parameters and statistics). On failure returns NULL and writes a one-line reason naming the file and
 * the object into err, e.g. "checkpoint x.h5: not a ppo policy checkpoint (attribute 'format' of /:
 * missing)". */
ppo_policy *ppo_policy_load(const char *path, char *err, size_t err_len);
void ppo_policy_free(ppo_policy *policy);

const ppo_policy_info *ppo_policy_get_info(const ppo_policy *policy);

/* Computes actions for n observation rows obs (n, obs_dim), with obs_dim the caller's row length (it
 * must equal the policy's: a mismatch is refused, not misread). actions receives (n, action_dim) floats
 * ready for ppo_env_step; values, when not NULL, (n,) value estimates (the critic's, in the units the
 * run trained it in: scaled returns when the run used --norm-reward). Rows are independent; in
 * PPO_POLICY_SAMPLE mode row i draws from rng after row i-1 (rng is required then, ignored otherwise).
 * The first call with a new n builds the network for that batch size; later calls with the same n do not
 * allocate. Returns PPO_POLICY_OK, or with a one-line reason in err: PPO_POLICY_EINVAL (bad arguments,
 * non-finite observations; nothing written), PPO_POLICY_ENOMEM, PPO_POLICY_EBADPOLICY (the network
 * produced a non-finite output). */
int ppo_policy_act(ppo_policy *policy, const float *obs, int n, int obs_dim, ppo_policy_mode mode, ppo_rng *rng,
                   float *actions, float *values, char *err, size_t err_len);

#ifdef __cplusplus
}
#endif
#endif
