/* gae: generalized advantage estimation (Schulman et al. 2016) over one rank's rollout. */
#ifndef PPO_PPO_GAE_H
#define PPO_PPO_GAE_H

#include <stdbool.h>
#include <stdint.h>

/* All arrays (T, N) row-major except last_values (N,).
 * terminated[t,n]: the episode ended at step t by termination — no bootstrap.
 * truncated[t,n]:  the time limit cut it at step t — bootstrap from bootstrap_values[t,n], the
 *                  critic's value of the final observation (the next row holds a new episode).
 * last_values: V(obs after the last step), used for the step T-1 unless that step ended an episode.
 * Writes advantages and returns (= advantages + values). */
void ppo_gae(int T, int N, const float *rewards, const float *values, const uint8_t *terminated,
             const uint8_t *truncated, const float *bootstrap_values, const float *last_values,
             double gamma, double lambda, float *advantages, float *returns);

#endif
