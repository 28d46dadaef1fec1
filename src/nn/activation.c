/* activation: vectorisable tanh and relu (forward from the input, backward from the output). */
#include "nn/activation.h"

#include <stdint.h>
#include <string.h>

#include "util/simd.h"

int nn_activation_parse(const char *name, nn_activation *out)
{
    if (!strcmp(name, "tanh"))
        *out = NN_TANH;
    else if (!strcmp(name, "relu"))
        *out = NN_RELU;
    else
        return -1;
    return 0;
}

/* tanh(x) for one value, written without branches or calls so the loops below vectorise.
 * |x| < 0.25: the odd Taylor series to x^11 (next term < 6e-11 relative).
 * otherwise: (1 - e) / (1 + e) with e = exp(-2|x|) <= exp(-0.5), so 1 - e does not cancel.
 * exp(t), t in [-18, -0.5]: t = k ln2 + r with |r| <= ln2/2, exp(r) by its Taylor series to r^7
 * (next term < 5e-9 relative), 2^k built in the exponent bits. |x| >= 9 gives +-1 in float anyway. */
static inline float tanh_one(float x)
{
    const float ax = x < 0 ? -x : x;
    const float s = x * x;
    const float small = x * (1.0f + s * (-1.0f / 3 + s * (2.0f / 15 + s * (-17.0f / 315 +
                             s * (62.0f / 2835 + s * (-1382.0f / 155925))))));
    const float t = -2.0f * (ax > 9.0f ? 9.0f : ax); /* NaN stays NaN */
    const float shifter = 12582912.0f; /* 1.5 * 2^23: adding it rounds to an integer */
    const float k = (t * 1.44269504f + shifter) - shifter;
    const float r = (t - k * 0.693145752f) - k * 1.42860677e-6f; /* ln2 split in two for exactness */
    const float p = 1.0f + r * (1.0f + r * (0.5f + r * (1.0f / 6 + r * (1.0f / 24 + r * (1.0f / 120 +
                    r * (1.0f / 720 + r * (1.0f / 5040)))))));
    const float k_finite = k == k ? k : 0.0f; /* NaN x: no undefined float-to-int conversion; r carries the NaN */
    const int32_t bits = ((int32_t)k_finite + 127) << 23;
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    const float e = p * scale;
    const float big = (1.0f - e) / (1.0f + e);
    const float signed_big = x < 0 ? -big : big;
    return ax < 0.25f ? small : signed_big;
}

PPO_SIMD_CLONES static void tanh_forward(float *restrict x, size_t n)
{
#pragma omp simd
    for (size_t i = 0; i < n; i++)
        x[i] = tanh_one(x[i]);
}

PPO_SIMD_CLONES static void relu_forward(float *restrict x, size_t n)
{
#pragma omp simd
    for (size_t i = 0; i < n; i++)
        x[i] = x[i] > 0 ? x[i] : 0.0f;
}

PPO_SIMD_CLONES static void tanh_backward(const float *restrict y, float *restrict dy, size_t n)
{
#pragma omp simd
    for (size_t i = 0; i < n; i++)
        dy[i] *= 1.0f - y[i] * y[i];
}

PPO_SIMD_CLONES static void relu_backward(const float *restrict y, float *restrict dy, size_t n)
{
#pragma omp simd
    for (size_t i = 0; i < n; i++)
        dy[i] = y[i] > 0 ? dy[i] : 0.0f;
}

/* Chunks for OpenMP only when there is enough work: a parallel region costs more than a small call. */
enum { ACT_CHUNK = 1 << 15 };

static void act_forward(nn_activation a, float *x, size_t n)
{
    if (a == NN_TANH)
        tanh_forward(x, n);
    else
        relu_forward(x, n);
}

static void act_backward(nn_activation a, const float *y, float *dy, size_t n)
{
    if (a == NN_TANH)
        tanh_backward(y, dy, n);
    else
        relu_backward(y, dy, n);
}

/* (A parallel region with if(false) still costs a libgomp team set-up: 2% of a LunarLander run that
 * makes 8 small calls per minibatch, hence the plain call below one chunk.) */
void nn_act_forward(nn_activation a, float *x, size_t n)
{
    const long chunks = (long)((n + ACT_CHUNK - 1) / ACT_CHUNK);
    if (chunks <= 1) {
        act_forward(a, x, n);
        return;
    }
#pragma omp parallel for schedule(static)
    for (long c = 0; c < chunks; c++) {
        size_t lo = (size_t)c * ACT_CHUNK, len = n - lo < ACT_CHUNK ? n - lo : ACT_CHUNK;
        act_forward(a, x + lo, len);
    }
}

void nn_act_backward(nn_activation a, const float *y, float *dy, size_t n)
{
    const long chunks = (long)((n + ACT_CHUNK - 1) / ACT_CHUNK);
    if (chunks <= 1) {
        act_backward(a, y, dy, n);
        return;
    }
#pragma omp parallel for schedule(static)
    for (long c = 0; c < chunks; c++) {
        size_t lo = (size_t)c * ACT_CHUNK, len = n - lo < ACT_CHUNK ? n - lo : ACT_CHUNK;
        act_backward(a, y + lo, dy + lo, len);
    }
}
