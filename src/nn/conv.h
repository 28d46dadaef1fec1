/* conv: convolution stacks on oneDNN for pixel observations (each layer conv + ReLU, output flattened).
 * Like nn/mlp.h, a shape (nn_conv) is a constant description whose parameters live at an offset in a
 * caller-owned flat buffer, in PyTorch's layout: per layer, weights (out, in, kh, kw) then bias (out);
 * a pass (nn_conv_pass) holds every oneDNN primitive and buffer for one batch size, created once.
 * The dense part after the flatten is not here: it is an nn_mlp whose input is the pass's output
 * (NatureCNN's Linear 512 + ReLU is an nn_mlp with act_on_output). Not thread-safe: one pass is
 * executed by one caller at a time (oneDNN and the pixel loader use OpenMP threads inside). */
#ifndef PPO_NN_CONV_H
#define PPO_NN_CONV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <oneapi/dnnl/dnnl.h>

#include "nn/mlp.h"

#define NN_CONV_MAX_LAYERS 6

typedef struct {
    int out_channels, kernel, stride, padding; /* square kernels, same padding on every side */
} nn_conv_layer;

typedef struct {
    int in_channels, in_height, in_width; /* one observation, (C, H, W) */
    int n_layers;
    nn_conv_layer layers[NN_CONV_MAX_LAYERS];
    size_t param_offset; /* first float of this stack in the flat parameter buffer */
} nn_conv;

/* Checks every layer's output is at least 1x1 and the sizes are positive. Returns 0 or -1 with err. */
int nn_conv_validate(const nn_conv *c, char *err, size_t err_len);
/* Output (channels, height, width) of layer `layer` (layer -1: the input). */
void nn_conv_dims(const nn_conv *c, int layer, int *channels, int *height, int *width);
/* Floats per sample of the flattened output, in PyTorch's (C, H, W) order: the dense head's input. */
int nn_conv_output_size(const nn_conv *c);

/* Per layer l: weights (out, in, k, k) row-major (OIHW), then bias (out). */
size_t nn_conv_param_count(const nn_conv *c);
size_t nn_conv_weight_offset(const nn_conv *c, int layer); /* absolute, in the flat buffer */
size_t nn_conv_bias_offset(const nn_conv *c, int layer);

/* Named shapes for an input of (channels, height, width) at param_offset; *dense_width gets the width
 * of the Linear + ReLU layer that follows the flatten in that design.
 *  "nature": Mnih et al. 2015 (Nature 518, "Methods: model architecture"), SB3's NatureCNN and CleanRL's
 *            ppo_atari: 32 8x8 s4, 64 4x4 s2, 64 3x3 s1, Linear 512.
 *  "small":  Mnih et al. 2013 (arXiv:1312.5602, section 5): 16 8x8 s4, 32 4x4 s2, Linear 256. For CPUs:
 *            on 96x96x3, 2.44M conv multiply-adds per sample instead of 8.89M (nn_conv_macs) and a
 *            3200x256 dense layer instead of 4096x512: 2.4x less time per sample forward, 3x
 *            forward + backward (bench_conv, 1 thread, batch 64-256: 112-123 vs 282-292 us, 293 vs
 *            860-908 us, on a machine shared with other jobs).
 *  No padding in either.
 * Returns 0, or -1 with err for an unknown name or an input too small for the shape. */
int nn_conv_preset(nn_conv *c, const char *name, int channels, int height, int width, size_t param_offset,
                   int *dense_width, char *err, size_t err_len);

/* Multiply-adds of one sample's forward pass (for benchmarks and cost estimates). */
double nn_conv_macs(const nn_conv *c);

/* Orthogonal init as CleanRL's layer_init / SB3: each weight viewed as (out, in*k*k) is a random
 * orthogonal matrix times gain (torch.nn.init.orthogonal_), biases zero. Returns 0 or -1 (out of memory). */
int nn_conv_init_orthogonal(const nn_conv *c, float *params, double gain, rng_t *rng);

/* Memory layout of the activations inside a pass. NHWC (channels-last everywhere) is the default:
 * oneDNN 2.6 has AVX2 jit kernels for every step of both presets on 3- and 4-channel input. BLOCKED
 * lets oneDNN choose (nChw8c) after an NCHW input: as fast for 3 channels (bench_conv), but its
 * backward-weights for a 4-channel NCHW first layer is the reference kernel (~700 ms per batch of 8,
 * 84x84x4); kept for comparison. */
typedef enum { NN_CONV_LAYOUT_NHWC = 0, NN_CONV_LAYOUT_BLOCKED = 1 } nn_conv_layout;

/* What a step of a pass does (for profiles: bench_conv times each step). */
typedef enum {
    NN_CONV_STEP_REORDER_WEIGHTS, /* flat OIHW weights -> the kernel's format, or diff back to OIHW */
    NN_CONV_STEP_REORDER_DATA,    /* activations <-> the flattened (C, H, W) output */
    NN_CONV_STEP_CONV,            /* convolution forward (+ fused ReLU) */
    NN_CONV_STEP_CONV_BWD_WEIGHTS,
    NN_CONV_STEP_CONV_BWD_DATA,
    NN_CONV_STEP_RELU_BWD /* dy *= (y > 0), plain C (nn/activation.c) */
} nn_conv_step_kind;

typedef struct {
    nn_conv_step_kind kind;
    int layer;
    nn_exec exec;   /* oneDNN steps */
    const float *y; /* RELU_BWD: (n,) forward output, any layout */
    float *dy;      /* RELU_BWD: (n,) its gradient, same layout */
    size_t n;
    char impl[32]; /* oneDNN's implementation name ("jit:avx2", "gemm:jit", "ref:any", ...) */
} nn_conv_step;

#define NN_CONV_MAX_STEPS (6 * NN_CONV_MAX_LAYERS + 2)

typedef struct {
    const nn_conv *conv;
    nn_ctx *ctx;
    int batch;
    bool training, want_input_diff;
    bool input_nhwc; /* input / input_diff layout: (batch, H, W, C) when set, else (batch, C, H, W) */
    float *input;      /* (batch, H, W, C) or (batch, C, H, W): the first conv reads it directly */
    float *input_diff; /* d loss / d input, same layout as input; only when built with want_input_diff */
    float *output;      /* (batch, nn_conv_output_size) after the last ReLU, (C, H, W) per sample */
    float *output_diff; /* (batch, nn_conv_output_size): the caller writes d loss / d output; training */
    nn_conv_step fwd[NN_CONV_MAX_STEPS], bwd[NN_CONV_MAX_STEPS];
    int n_fwd, n_bwd;
    dnnl_memory_t mems[16 * NN_CONV_MAX_LAYERS + 8];
    int n_mems;
    void *scratch; /* one user-mode scratchpad for every primitive of this pass (they run one at a time) */
} nn_conv_pass;

/* Builds the primitives for `batch` samples. params/grads: the flat buffers (grads NULL when !training).
 * want_input_diff (training only): also build the gradient with respect to the input (a frozen or
 * pixel input never needs it). Returns 0, or -1 with a message in err. */
int nn_conv_pass_init(nn_conv_pass *p, nn_ctx *ctx, const nn_conv *c, int batch, bool training,
                      bool want_input_diff, nn_conv_layout layout, float *params, float *grads, char *err,
                      size_t err_len);
void nn_conv_pass_destroy(nn_conv_pass *p);

/* Index of input element (n, c, h, w) in p->input (and p->input_diff). */
static inline size_t nn_conv_pass_input_index(const nn_conv_pass *p, int n, int c, int h, int w)
{
    const size_t C = (size_t)p->conv->in_channels, H = (size_t)p->conv->in_height, W = (size_t)p->conv->in_width;
    return p->input_nhwc ? (((size_t)n * H + (size_t)h) * W + (size_t)w) * C + (size_t)c
                         : (((size_t)n * C + (size_t)c) * H + (size_t)h) * W + (size_t)w;
}

/* Fills the input from uint8 observations scaled by 1/255. obs: rows of (H, W, C) bytes (an image as
 * the env renders it, frames stacked on C); sample i is row rows[i], or row i when rows is NULL
 * (a minibatch gathers rollout rows by index). Parallel over samples when there are enough. */
void nn_conv_pass_load_u8(nn_conv_pass *p, const uint8_t *obs, const int *rows);

/* Reorders the weights from the flat buffer (every call: the optimizer may have changed them), runs
 * the convolutions and writes p->output. The reorders cost ~30 us per call for "nature" (bench_conv):
 * ~10% of a batch-1 forward, under 1% from batch 64. */
void nn_conv_pass_forward(nn_conv_pass *p);
/* After nn_conv_pass_forward with the same parameters: from p->output_diff, overwrites this stack's
 * slice of the gradient buffer, and p->input_diff when the pass was built with want_input_diff.
 * p->output_diff is consumed (the ReLU derivative is applied to it in place). */
void nn_conv_pass_backward(nn_conv_pass *p);

/* Runs one step alone (bench_conv's per-step profile; the passes run them in order). */
void nn_conv_step_run(const nn_conv_pass *p, const nn_conv_step *s);

#endif
