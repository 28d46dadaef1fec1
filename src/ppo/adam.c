/* adam: bias-corrected moments, as torch.optim.Adam (eps added to sqrt(v_hat)); RMSprop as
 * torch.optim.RMSprop (eps added to sqrt(v), no bias correction). */
#include "ppo/adam.h"

#include <math.h>
#include <stdlib.h>

#include "util/simd.h"

int adam_init(adam_state *a, size_t n, double beta1, double beta2, double eps)
{
    a->n = n;
    a->m = calloc(n ? n : 1, sizeof(float));
    a->v = calloc(n ? n : 1, sizeof(float));
    a->step = 0;
    a->beta1 = beta1;
    a->beta2 = beta2;
    a->eps = eps;
    a->rmsprop = false;
    return a->m && a->v ? 0 : -1;
}

int adam_init_rmsprop(adam_state *a, size_t n, double alpha, double eps)
{
    const int rc = adam_init(a, n, 0.0, alpha, eps);
    a->rmsprop = true;
    return rc;
}

void adam_free(adam_state *a)
{
    free(a->m);
    free(a->v);
    a->m = a->v = NULL;
}

adam_coef adam_begin(adam_state *a, size_t split, double lr_policy, double lr_critic)
{
    a->step++;
    if (a->rmsprop)
        return (adam_coef){
            .b2 = (float)a->beta2,
            .eps_hat = (float)a->eps,
            .k = {(float)lr_policy, (float)lr_critic},
            .split = split < a->n ? split : a->n,
            .rmsprop = true,
        };
    const double c1 = 1.0 - pow(a->beta1, (double)a->step);
    const double c2 = 1.0 - pow(a->beta2, (double)a->step);
    /* p -= lr * (m / c1) / (sqrt(v / c2) + eps), rewritten as p -= k * m / (sqrt(v) + eps * sqrt(c2))
     * with k = lr * sqrt(c2) / c1, so the loop is plain float arithmetic the compiler vectorises */
    return (adam_coef){
        .b1 = (float)a->beta1,
        .b2 = (float)a->beta2,
        .eps_hat = (float)(a->eps * sqrt(c2)),
        .k = {(float)(lr_policy * sqrt(c2) / c1), (float)(lr_critic * sqrt(c2) / c1)},
        .split = split < a->n ? split : a->n,
    };
}

PPO_SIMD_CLONES void adam_apply(adam_state *a, const adam_coef *c, float *params, const float *grads, size_t lo, size_t hi)
{
    const size_t ranges[2][2] = {{lo, hi < c->split ? hi : c->split}, {lo > c->split ? lo : c->split, hi}};
    const float b1 = c->b1, b2 = c->b2, eps_hat = c->eps_hat;
    for (int r = 0; r < 2; r++) {
        const float k = c->k[r];
        float *restrict m = a->m, *restrict v = a->v, *restrict p = params;
        const float *restrict g = grads;
        if (c->rmsprop) {
            for (size_t i = ranges[r][0]; i < ranges[r][1]; i++) {
                v[i] = b2 * v[i] + (1.0f - b2) * g[i] * g[i];
                p[i] -= k * g[i] / (sqrtf(v[i]) + eps_hat);
            }
            continue;
        }
        for (size_t i = ranges[r][0]; i < ranges[r][1]; i++) {
            m[i] = b1 * m[i] + (1.0f - b1) * g[i];
            v[i] = b2 * v[i] + (1.0f - b2) * g[i] * g[i];
            p[i] -= k * m[i] / (sqrtf(v[i]) + eps_hat);
        }
    }
}

void adam_step(adam_state *a, float *params, const float *grads, size_t split, double lr_policy,
               double lr_critic)
{
    const adam_coef c = adam_begin(a, split, lr_policy, lr_critic);
    adam_apply(a, &c, params, grads, 0, a->n);
}
