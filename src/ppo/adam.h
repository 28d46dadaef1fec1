/* adam: the optimizer over one flat parameter buffer, with one learning rate for the policy range
 * [0, split) and another for the critic range [split, n): Adam (Kingma & Ba 2015), or RMSprop as
 * torch.optim.RMSprop computes it (Stable-Baselines3's A2C optimizer). */
#ifndef PPO_PPO_ADAM_H
#define PPO_PPO_ADAM_H

#include <stdbool.h>
#include <stddef.h>

typedef struct {
    size_t n;
    float *m, *v; /* (n,) first and second moments, owned; RMSprop keeps its square average in v, m stays 0 */
    long step;
    double beta1, beta2, eps; /* RMSprop: beta2 is its alpha (smoothing), beta1 unused */
    bool rmsprop;
} adam_state;

int adam_init(adam_state *a, size_t n, double beta1, double beta2, double eps);
/* RMSprop without momentum or centering (torch.optim.RMSprop's defaults): per step
 * v = alpha v + (1 - alpha) g^2,  p -= lr g / (sqrt(v) + eps). The state is the same buffers. */
int adam_init_rmsprop(adam_state *a, size_t n, double alpha, double eps);
void adam_free(adam_state *a);
void adam_step(adam_state *a, float *params, const float *grads, size_t split, double lr_policy,
               double lr_critic);

/* One step in parts, for threads that each update a range: adam_begin counts the step and fixes its
 * coefficients; adam_apply updates [lo, hi) (disjoint ranges may run at once). adam_step = both. */
typedef struct {
    float b1, b2, eps_hat, k[2]; /* k: the policy's and the critic's step factor */
    size_t split;
    bool rmsprop;
} adam_coef;
adam_coef adam_begin(adam_state *a, size_t split, double lr_policy, double lr_critic);
void adam_apply(adam_state *a, const adam_coef *c, float *params, const float *grads, size_t lo, size_t hi);

#endif
