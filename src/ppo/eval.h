/* eval: runs a policy for whole episodes on fresh seeds and reports the returns. Not collective. */
#ifndef PPO_PPO_EVAL_H
#define PPO_PPO_EVAL_H

#include <stdbool.h>
#include <stddef.h>

#include "nn/policy.h"
#include "ppo/normalizer.h"

typedef struct {
    int episodes;
    double mean, std, min, max;
    double solved_fraction; /* episodes with return >= the env's threshold (NaN when it has none) */
    double mean_length;
} eval_result;

/* Runs `episodes` episodes of env `id`/`options`, episode e seeded with seed + e, all stepped as one
 * batch through the network. deterministic: greedy (argmax / Gaussian mean). returns may be NULL or
 * an (episodes,) array to receive each return. obs_norm: the training run's observation statistics
 * (NULL when it did not normalise), applied with clip_obs. Returns 0, or -1 with err, or -2 with err
 * when the policy produced an invalid action (NaN/Inf out of finite parameters: a bad policy, not a
 * failure of the run). */
int eval_policy(const policy_model *pm, const float *params, const running_stats *obs_norm, double clip_obs,
                const char *id, const char *options, int episodes, unsigned long long seed, bool deterministic,
                double *returns, eval_result *out, char *err, size_t err_len);

#endif
