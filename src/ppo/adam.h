/* adam: Adam (Kingma & Ba 2015) over one flat parameter buffer, with one learning rate for the
 * policy range [0, split) and another for the critic range [split, n). */
#ifndef PPO_PPO_ADAM_H
#define PPO_PPO_ADAM_H

#include <stddef.h>

typedef struct {
    size_t n;
    float *m, *v; /* (n,) first and second moments, owned */
    long step;
    double beta1, beta2, eps;
} adam_state;

int adam_init(adam_state *a, size_t n, double beta1, double beta2, double eps);
void adam_free(adam_state *a);
void adam_step(adam_state *a, float *params, const float *grads, size_t split, double lr_policy,
               double lr_critic);

/* One step in parts, for threads that each update a range: adam_begin counts the step and fixes its
 * coefficients; adam_apply updates [lo, hi) (disjoint ranges may run at once). adam_step = both. */
typedef struct {
    float b1, b2, eps_hat, k[2]; /* k: the policy's and the critic's step factor */
    size_t split;
} adam_coef;
adam_coef adam_begin(adam_state *a, size_t split, double lr_policy, double lr_critic);
void adam_apply(adam_state *a, const adam_coef *c, float *params, const float *grads, size_t lo, size_t hi);

#endif
