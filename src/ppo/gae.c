/* gae: backward recursion A_t = delta_t + gamma*lambda*A_{t+1}, cut at episode ends. */
#include "ppo/gae.h"

void ppo_gae(int T, int N, const float *rewards, const float *values, const uint8_t *terminated,
             const uint8_t *truncated, const float *bootstrap_values, const float *last_values,
             double gamma, double lambda, float *advantages, float *returns)
{
    for (int n = 0; n < N; n++) {
        double next_adv = 0.0;
        for (int t = T - 1; t >= 0; t--) {
            const int i = t * N + n;
            double next_value;
            bool ended = terminated[i] || truncated[i];
            if (terminated[i])
                next_value = 0.0;
            else if (truncated[i])
                next_value = bootstrap_values[i];
            else
                next_value = t == T - 1 ? last_values[n] : values[i + N];
            if (ended)
                next_adv = 0.0;
            double delta = rewards[i] + gamma * next_value - values[i];
            double adv = delta + gamma * lambda * next_adv;
            advantages[i] = (float)adv;
            returns[i] = (float)(adv + values[i]);
            next_adv = adv;
        }
    }
}
