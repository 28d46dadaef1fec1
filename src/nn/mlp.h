/* mlp: dense layer stacks. A shape (nn_mlp) is a constant description whose parameters live in a
 * caller-owned flat buffer; a pass (nn_pass) holds the activation buffers for one batch size and, for
 * training, the oneDNN inner-product primitives (the nonlinearities are nn/activation.c's loops),
 * created once and reused for every forward/backward call. Small passes run in plain C instead (every
 * inference pass of a net of up to 2^14 multiply-adds per row, training passes of up to 5 x 2^14 in all):
 * no primitive overhead for a few rows, and an inference row's outputs do not depend on the batch or
 * the row's place in it.
 * Not thread-safe: one pass is executed by one caller at a time (oneDNN threads inside). */
#ifndef PPO_NN_MLP_H
#define PPO_NN_MLP_H

#include <stdbool.h>
#include <stddef.h>

#include <oneapi/dnnl/dnnl.h>

#include "nn/activation.h"
#include "util/rng.h"

#define NN_MAX_LAYERS 8

typedef struct {
    int n_layers;
    int sizes[NN_MAX_LAYERS + 1]; /* sizes[0] = input width, sizes[n_layers] = output width */
    nn_activation act;
    bool act_on_output;  /* a shared trunk ends in an activation; heads do not */
    size_t param_offset; /* first float of this MLP in the flat parameter buffer */
} nn_mlp;

/* Per layer l: weights (sizes[l+1], sizes[l]) row-major, then bias (sizes[l+1]). */
size_t nn_mlp_param_count(const nn_mlp *m);
size_t nn_mlp_weight_offset(const nn_mlp *m, int layer); /* absolute, in the flat buffer */
size_t nn_mlp_bias_offset(const nn_mlp *m, int layer);

/* One oneDNN engine + stream and a scratchpad shared by all passes (grown only while passes are
 * built). Destroy every pass before the context. */
typedef struct nn_ctx nn_ctx;
nn_ctx *nn_ctx_create(char *err, size_t err_len);
void nn_ctx_free(nn_ctx *ctx);
/* The context's engine and stream, for other layer kinds (nn/conv.c) that build their own primitives. */
dnnl_engine_t nn_ctx_engine(const nn_ctx *ctx);
dnnl_stream_t nn_ctx_stream(const nn_ctx *ctx);

/* The instruction set oneDNN's kernels use ("avx2", "avx512_core", ...). nn_ctx_create caps it at AVX2
 * unless the ONEDNN_MAX_CPU_ISA environment variable says otherwise: kernels of different ISAs round
 * differently, so runs with the same seed agree bit for bit only between machines where this is the same. */
const char *nn_cpu_isa(void);

typedef struct {
    dnnl_primitive_t prim;
    int nargs;
    dnnl_exec_arg_t args[8];
} nn_exec;

typedef struct {
    const nn_mlp *mlp;
    nn_ctx *ctx;
    int batch;
    bool training;
    float *input;                   /* (batch, sizes[0]); owned unless given at creation */
    bool owns_input;
    float *out[NN_MAX_LAYERS];      /* (batch, sizes[l+1]) layer outputs after activation */
    float *diff[NN_MAX_LAYERS];     /* (batch, sizes[l+1]) d loss / d out[l]; training only */
    float *diff_input;              /* (batch, sizes[0]) d loss / d input; training only */
    nn_exec fwd[NN_MAX_LAYERS];
    bool has_act[NN_MAX_LAYERS];    /* the layer's output goes through mlp->act */
    nn_exec bwd_w[NN_MAX_LAYERS];
    nn_exec bwd_d[NN_MAX_LAYERS];
    dnnl_memory_t mems[12 * NN_MAX_LAYERS];
    int n_mems;
    bool plain;                     /* layers in plain C (every inference pass; training passes of few rows) */
    const float *params;            /* the flat buffer the weights are read from */
    float *grads;                   /* plain training passes: the flat gradient buffer */
    void (*dense)(const float *x, const float *w, const float *b, float *y, int rows, int in, int out);
    void (*dense_backward)(const float *x, const float *w, const float *dy, float *dw, float *db, float *dx,
                           int rows, int in, int out); /* plain layers: AVX2 or portable, the same bits */
} nn_pass;

/* Builds the primitives for `batch` rows. params/grads are the flat buffers (grads may be NULL when
 * !training). input: an external (batch, sizes[0]) buffer to read from, or NULL to own one.
 * Returns 0, or -1 with a message in err. */
int nn_pass_init(nn_pass *p, nn_ctx *ctx, const nn_mlp *m, int batch, bool training, float *params,
                 float *grads, float *input, char *err, size_t err_len);
void nn_pass_destroy(nn_pass *p);

/* Output of the last layer: (batch, sizes[n_layers]). */
static inline float *nn_pass_output(const nn_pass *p) { return p->out[p->mlp->n_layers - 1]; }
/* Where the caller writes d loss / d output before nn_pass_backward. */
static inline float *nn_pass_output_diff(const nn_pass *p) { return p->diff[p->mlp->n_layers - 1]; }

void nn_pass_forward(nn_pass *p);

/* y (rows, out) = x (rows, in) W^T + b, W (out, in) row-major: each output the sum of x[k] w[k] as eight
 * partial sums (k mod 8) added in a fixed tree, then b; no FMA. Portable C; the AVX2 version a plain
 * pass picks gives the same bits (tests/nn/test_dense checks both against each other). */
void nn_dense_rows(const float *x, const float *w, const float *b, float *y, int rows, int in, int out);
void nn_dense_rows_avx2(const float *x, const float *w, const float *b, float *y, int rows, int in, int out);
/* The backward of a dense layer over rows x: dw (out, in) = dy^T x and db = the column sums of dy, the
 * rows added in order, overwriting; then, when dx is not NULL, dx (rows, in) = dy W, the outputs added
 * in order; no FMA. The AVX2 version gives the same bits. */
void nn_dense_backward(const float *x, const float *w, const float *dy, float *dw, float *db, float *dx, int rows,
                       int in, int out);
void nn_dense_backward_avx2(const float *x, const float *w, const float *dy, float *dw, float *db, float *dx, int rows,
                            int in, int out);
/* Whether the CPU runs the _avx2 versions. */
bool nn_dense_has_avx2(void);
/* Writes (overwrites) this MLP's slice of the gradient buffer, and diff_input when want_input_diff. */
void nn_pass_backward(nn_pass *p, bool want_input_diff);

/* Orthogonal initialisation (Saxe et al. 2014), as CleanRL's layer_init: each weight matrix is a
 * random orthogonal matrix scaled by gain (hidden gain for all layers, out_gain for the last),
 * biases zero. */
void nn_mlp_init_orthogonal(const nn_mlp *m, float *params, double hidden_gain, double out_gain,
                            rng_t *rng);

/* Fills the row-major (rows, cols) matrix w with a random orthogonal matrix times gain (as
 * torch.nn.init.orthogonal_). Returns 0, or -1 when out of memory. */
int nn_init_orthogonal(float *w, int rows, int cols, double gain, rng_t *rng);

#endif
