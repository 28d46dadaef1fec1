/* activation: the hidden-layer nonlinearities, applied in place between oneDNN inner products.
 * Plain C because oneDNN 2.6's jit tanh costs ~4.6 ns per element on this AMD CPU (table gathers),
 * more than the 64x64 inner product it follows; these loops vectorise (AVX2 where the CPU has it):
 * 1.4 ns per element, measured. Compiled with -fno-trapping-math so GCC if-converts the selects. */
#ifndef PPO_NN_ACTIVATION_H
#define PPO_NN_ACTIVATION_H

#include <stddef.h>

typedef enum { NN_TANH = 0, NN_RELU = 1 } nn_activation;

/* "tanh" or "relu" (the option and checkpoint spelling) -> *out; -1 for any other name. */
int nn_activation_parse(const char *name, nn_activation *out);

/* x[i] <- act(x[i]) for n values. tanh: within 3 float ulps of tanhf, NaN
 * propagates (tests/nn/test_activation checks both). */
void nn_act_forward(nn_activation a, float *x, size_t n);

/* dy[i] <- dy[i] * act'(.) computed from the forward output y (tanh: 1 - y^2; relu: y > 0). */
void nn_act_backward(nn_activation a, const float *y, float *dy, size_t n);

#endif
