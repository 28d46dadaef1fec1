/* adam: bias-corrected moments, as torch.optim.Adam (eps added to sqrt(v_hat)). */
#include "ppo/adam.h"

#include <math.h>
#include <stdlib.h>

int adam_init(adam_state *a, size_t n, double beta1, double beta2, double eps)
{
    a->n = n;
    a->m = calloc(n ? n : 1, sizeof(float));
    a->v = calloc(n ? n : 1, sizeof(float));
    a->step = 0;
    a->beta1 = beta1;
    a->beta2 = beta2;
    a->eps = eps;
    return a->m && a->v ? 0 : -1;
}

void adam_free(adam_state *a)
{
    free(a->m);
    free(a->v);
    a->m = a->v = NULL;
}

void adam_step(adam_state *a, float *params, const float *grads, size_t split, double lr_policy,
               double lr_critic)
{
    a->step++;
    const double c1 = 1.0 - pow(a->beta1, (double)a->step);
    const double c2 = 1.0 - pow(a->beta2, (double)a->step);
    const float b1 = (float)a->beta1, b2 = (float)a->beta2;
    for (size_t i = 0; i < a->n; i++) {
        const float g = grads[i];
        a->m[i] = b1 * a->m[i] + (1.0f - b1) * g;
        a->v[i] = b2 * a->v[i] + (1.0f - b2) * g * g;
        const double lr = i < split ? lr_policy : lr_critic;
        const double m_hat = a->m[i] / c1, v_hat = a->v[i] / c2;
        params[i] -= (float)(lr * m_hat / (sqrt(v_hat) + a->eps));
    }
}
