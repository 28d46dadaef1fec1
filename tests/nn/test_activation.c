/* The C activations against libm: tanh within 3 float ulps over [-12, 12] and at the edges of its
 * branches, NaN propagated, odd symmetry; relu and both derivatives exact. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "nn/activation.h"


static double ulps(float got, float want)
{
    float ulp = nextafterf(fabsf(want), INFINITY) - fabsf(want);
    return fabs((double)got - (double)want) / ulp;
}

int main(void)
{
    enum { N = 2000001 };
    float *x = malloc(sizeof(float) * N), *y = malloc(sizeof(float) * N);
    for (int i = 0; i <= N / 2; i++) { /* symmetric, so x[N - 1 - i] == -x[i] exactly */
        x[i] = -12.0f + 24.0f * (float)i / (float)(N - 1);
        x[N - 1 - i] = -x[i];
    }
    memcpy(y, x, sizeof(float) * N);
    nn_act_forward(NN_TANH, y, N); /* several OpenMP chunks */
    double worst = 0;
    int not_odd = 0;
    for (int i = 0; i < N; i++) {
        double u = ulps(y[i], tanhf(x[i]));
        worst = u > worst ? u : worst;
        not_odd += y[i] != -y[N - 1 - i];
    }
    CHECK(not_odd == 0, "tanh(-x) != -tanh(x) at %d points", not_odd);
    printf("tanh: worst %.2f ulps over %d points in [-12, 12]\n", worst, N);
    CHECK(worst <= 3.0, "tanh off by %.2f ulps", worst);

    float edge[] = {0.0f, 1e-30f, 1e-7f, 0.2499999f, 0.25f, 0.2500001f, 8.999999f, 9.0f, 9.000001f, 50.0f,
                    1e30f, INFINITY};
    for (size_t k = 0; k < sizeof edge / sizeof edge[0]; k++)
        for (int s = -1; s <= 1; s += 2) {
            float v = s * edge[k], t = v;
            nn_act_forward(NN_TANH, &t, 1);
            CHECK(ulps(t, tanhf(v)) <= 3.0, "tanh(%g) = %.9g, libm %.9g", (double)v, (double)t, (double)tanhf(v));
        }
    float nan = NAN;
    nn_act_forward(NN_TANH, &nan, 1);
    CHECK(isnan(nan), "tanh(NaN) = %g, not NaN", (double)nan);

    float r[5] = {-2.0f, -0.0f, 0.0f, 1e-20f, 3.5f}, want_r[5] = {0, 0, 0, 1e-20f, 3.5f};
    nn_act_forward(NN_RELU, r, 5);
    for (int i = 0; i < 5; i++)
        CHECK(r[i] == want_r[i], "relu[%d] = %g", i, (double)r[i]);

    float out[3] = {0.5f, -0.25f, 0.0f}, d[3] = {2.0f, 4.0f, 1.0f};
    nn_act_backward(NN_TANH, out, d, 3);
    CHECK(d[0] == 2.0f * 0.75f && d[1] == 4.0f * (1.0f - 0.0625f) && d[2] == 1.0f, "tanh backward %g %g %g", (double)d[0], (double)d[1], (double)d[2]);
    float rout[3] = {0.5f, 0.0f, 2.0f}, rd[3] = {2.0f, 4.0f, -1.0f};
    nn_act_backward(NN_RELU, rout, rd, 3);
    CHECK(rd[0] == 2.0f && rd[1] == 0.0f && rd[2] == -1.0f, "relu backward %g %g %g", (double)rd[0], (double)rd[1], (double)rd[2]);
    free(x);
    free(y);
    return CHECK_DONE();
}
