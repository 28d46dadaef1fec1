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

#endif
