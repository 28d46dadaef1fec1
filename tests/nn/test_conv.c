/* Conv stack checks: forward against a naive double-precision convolution written here (small shapes
 * with padding, and the Nature CNN on 96x96x3, both layouts); the gradient of conv stack + dense head
 * + a squared-error loss against central finite differences for every weight, bias and input value;
 * 1 vs 2 OpenMP threads; repeated calls bit-identical; the uint8 loader; orthogonal init. */
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "nn/conv.h"
#include "util/rng.h"

/* One sample's forward in double: in (C, H, W) -> out (C', H', W') of the last layer, ReLU after each. */
static void ref_forward(const nn_conv *c, const double *params, const double *in, double *out)
{
    int C, H, W;
    nn_conv_dims(c, -1, &C, &H, &W);
    double *cur = malloc(sizeof(double) * (size_t)(C * H * W));
    memcpy(cur, in, sizeof(double) * (size_t)(C * H * W));
    for (int l = 0; l < c->n_layers; l++) {
        const nn_conv_layer *L = &c->layers[l];
        int O, OH, OW;
        nn_conv_dims(c, l, &O, &OH, &OW);
        const double *w = params + nn_conv_weight_offset(c, l), *b = params + nn_conv_bias_offset(c, l);
        double *next = malloc(sizeof(double) * (size_t)(O * OH * OW));
        for (int o = 0; o < O; o++)
            for (int y = 0; y < OH; y++)
                for (int x = 0; x < OW; x++) {
                    double s = b[o];
                    for (int i = 0; i < C; i++)
                        for (int ky = 0; ky < L->kernel; ky++)
                            for (int kx = 0; kx < L->kernel; kx++) {
                                const int iy = y * L->stride - L->padding + ky, ix = x * L->stride - L->padding + kx;
                                if (iy < 0 || iy >= H || ix < 0 || ix >= W)
                                    continue;
                                s += w[((o * C + i) * L->kernel + ky) * L->kernel + kx] * cur[(i * H + iy) * W + ix];
                            }
                    next[(o * OH + y) * OW + x] = s > 0 ? s : 0;
                }
        free(cur);
        cur = next;
        C = O;
        H = OH;
        W = OW;
    }
    memcpy(out, cur, sizeof(double) * (size_t)(C * H * W));
    free(cur);
}

static nn_conv small_shape(void)
{
    nn_conv c = {.in_channels = 3, .in_height = 12, .in_width = 12, .n_layers = 2};
    c.layers[0] = (nn_conv_layer){4, 4, 2, 1}; /* 12 -> 6 */
    c.layers[1] = (nn_conv_layer){6, 3, 1, 0}; /* 6 -> 4 */
    return c;
}

static void random_params(const nn_conv *c, float *params, rng_t *rng)
{
    CHECK(nn_conv_init_orthogonal(c, params, sqrt(2.0), rng) == 0, "orthogonal init");
    for (size_t i = c->param_offset; i < c->param_offset + nn_conv_param_count(c); i++)
        params[i] += (float)(0.1 * rng_normal(rng)); /* non-zero biases too */
}

/* Forward of a pass against ref_forward on random input in [0, 1). */
static void check_forward(const char *name, const nn_conv *c, int batch, nn_conv_layout layout, bool training)
{
    char err[256];
    nn_ctx *ctx = nn_ctx_create(err, sizeof err);
    CHECK(ctx, "%s", err);
    float *params = calloc(nn_conv_param_count(c), sizeof(float));
    float *grads = calloc(nn_conv_param_count(c), sizeof(float));
    rng_t rng;
    rng_seed(&rng, 3);
    random_params(c, params, &rng);
    nn_conv_pass p;
    CHECK(nn_conv_pass_init(&p, ctx, c, batch, training, false, layout, params, grads, err, sizeof err) == 0, "%s", err);
    const int C = c->in_channels, H = c->in_height, W = c->in_width, n_out = nn_conv_output_size(c);
    double *in = malloc(sizeof(double) * (size_t)(C * H * W)), *ref = malloc(sizeof(double) * (size_t)n_out);
    double *all_in = malloc(sizeof(double) * (size_t)(batch * C * H * W));
    for (int n = 0; n < batch; n++)
        for (int ch = 0; ch < C; ch++)
            for (int y = 0; y < H; y++)
                for (int x = 0; x < W; x++) {
                    const float v = (float)rng_uniform(&rng);
                    p.input[nn_conv_pass_input_index(&p, n, ch, y, x)] = v;
                    all_in[((n * C + ch) * H + y) * W + x] = v;
                }
    nn_conv_pass_forward(&p);
    double *dparams = malloc(sizeof(double) * nn_conv_param_count(c));
    for (size_t i = 0; i < nn_conv_param_count(c); i++)
        dparams[i] = params[i];
    double worst = 0;
    int positive = 0;
    for (int n = 0; n < batch; n++) {
        memcpy(in, all_in + (size_t)n * C * H * W, sizeof(double) * (size_t)(C * H * W));
        ref_forward(c, dparams, in, ref);
        for (int k = 0; k < n_out; k++) {
            const double got = p.output[(size_t)n * n_out + k], e = fabs(got - ref[k]);
            worst = fmax(worst, e / (1.0 + fabs(ref[k])));
            positive += ref[k] > 0;
        }
    }
    CHECK(worst < 1e-5, "%s: forward differs from the naive convolution by %.3g", name, worst);
    CHECK(positive > batch * n_out / 5, "%s: only %d of %d outputs positive", name, positive, batch * n_out);
    printf("%-44s forward vs naive: worst rel. error %.2e (%d outputs, %d positive)\n", name, worst, batch * n_out,
           positive);
    nn_conv_pass_destroy(&p);
    nn_ctx_free(ctx);
    free(dparams);
    free(in);
    free(ref);
    free(all_in);
    free(params);
    free(grads);
}

/* conv stack -> dense head (8 relu, 2 linear) -> 0.5 * sum (y - t)^2 */
typedef struct {
    nn_conv conv;
    nn_mlp head;
    size_t n_params;
    float *params, *grads;
    nn_ctx *ctx;
    nn_conv_pass cp;
    nn_pass hp;
    float *target;
} net;

static void net_init(net *f, int batch, nn_conv_layout layout, uint64_t seed)
{
    char err[256];
    memset(f, 0, sizeof *f);
    f->conv = small_shape();
    const size_t nc = nn_conv_param_count(&f->conv);
    f->head = (nn_mlp){.n_layers = 2, .sizes = {nn_conv_output_size(&f->conv), 8, 2}, .act = NN_RELU,
                       .act_on_output = false, .param_offset = nc};
    f->n_params = nc + nn_mlp_param_count(&f->head);
    f->params = calloc(f->n_params, sizeof(float));
    f->grads = calloc(f->n_params, sizeof(float));
    rng_t rng;
    rng_seed(&rng, seed);
    random_params(&f->conv, f->params, &rng);
    nn_mlp_init_orthogonal(&f->head, f->params, sqrt(2.0), 1.0, &rng);
    for (size_t i = nc; i < f->n_params; i++)
        f->params[i] += (float)(0.1 * rng_normal(&rng));
    f->ctx = nn_ctx_create(err, sizeof err);
    CHECK(f->ctx, "%s", err);
    CHECK(nn_conv_pass_init(&f->cp, f->ctx, &f->conv, batch, true, true, layout, f->params, f->grads, err, sizeof err) == 0,
          "%s", err);
    CHECK(nn_pass_init(&f->hp, f->ctx, &f->head, batch, true, f->params, f->grads, f->cp.output, err, sizeof err) == 0,
          "%s", err);
    const size_t n_in = (size_t)batch * (size_t)(f->conv.in_channels * f->conv.in_height * f->conv.in_width);
    for (size_t i = 0; i < n_in; i++)
        f->cp.input[i] = (float)rng_uniform(&rng);
    f->target = malloc(sizeof(float) * (size_t)batch * 2);
    for (int i = 0; i < batch * 2; i++)
        f->target[i] = (float)rng_normal(&rng);
}

static void net_free(net *f)
{
    nn_pass_destroy(&f->hp);
    nn_conv_pass_destroy(&f->cp);
    nn_ctx_free(f->ctx);
    free(f->params);
    free(f->grads);
    free(f->target);
}

static double net_loss(net *f, bool backward)
{
    nn_conv_pass_forward(&f->cp);
    nn_pass_forward(&f->hp);
    const float *y = nn_pass_output(&f->hp);
    float *dy = nn_pass_output_diff(&f->hp);
    double loss = 0;
    for (int i = 0; i < f->cp.batch * 2; i++) {
        const double d = (double)y[i] - f->target[i];
        loss += 0.5 * d * d;
        dy[i] = (float)d;
    }
    if (backward) {
        nn_pass_backward(&f->hp, true);
        memcpy(f->cp.output_diff, f->hp.diff_input, sizeof(float) * (size_t)f->cp.batch * (size_t)f->head.sizes[0]);
        nn_conv_pass_backward(&f->cp);
    }
    return loss;
}

/* The same network and loss in double from the naive convolution: P (n_params), X (batch, C, H, W). */
static double ref_loss(const net *f, const double *P, const double *X)
{
    const int n_feat = nn_conv_output_size(&f->conv), chw = 3 * 12 * 12;
    double *a = malloc(sizeof(double) * (size_t)n_feat), *next = malloc(sizeof(double) * (size_t)n_feat);
    double loss = 0;
    for (int n = 0; n < f->cp.batch; n++) {
        ref_forward(&f->conv, P, X + (size_t)n * chw, a);
        for (int l = 0; l < f->head.n_layers; l++) {
            const int in = f->head.sizes[l], out = f->head.sizes[l + 1];
            const double *w = P + nn_mlp_weight_offset(&f->head, l), *b = P + nn_mlp_bias_offset(&f->head, l);
            for (int o = 0; o < out; o++) {
                double z = b[o];
                for (int i = 0; i < in; i++)
                    z += w[o * in + i] * a[i];
                next[o] = l + 1 < f->head.n_layers && z < 0 ? 0 : z;
            }
            memcpy(a, next, sizeof(double) * (size_t)out);
        }
        for (int k = 0; k < 2; k++)
            loss += 0.5 * (a[k] - f->target[n * 2 + k]) * (a[k] - f->target[n * 2 + k]);
    }
    free(a);
    free(next);
    return loss;
}

typedef struct {
    double worst;
    int compared, kinks;
} fd_stats;

/* Central difference of ref_loss in *x (h = 1e-6, so ReLU kinks are rare and detected when one-sided
 * slopes disagree) against the analytic float gradient. */
static void fd_one(const net *f, double *P, double *X, double *x, double analytic, double base, fd_stats *st,
                   const char *what, size_t idx)
{
    const double keep = *x, h = 1e-6;
    *x = keep + h;
    const double up = ref_loss(f, P, X);
    *x = keep - h;
    const double down = ref_loss(f, P, X);
    *x = keep;
    const double right = (up - base) / h, left = (base - down) / h;
    if (fabs(right - left) > 1e-3 * fmax(fabs(right), fabs(left)) + 1e-6) {
        st->kinks++;
        return;
    }
    const double numeric = (up - down) / (2.0 * h), e = fabs(numeric - analytic);
    const double rel = e / fmax(1e-3, fabs(numeric) + fabs(analytic));
    st->worst = fmax(st->worst, rel);
    st->compared++;
    CHECK(rel < 1e-4 || e < 1e-6, "%s %zu: analytic %.7g numeric %.7g", what, idx, analytic, numeric);
}

/* The oneDNN gradient (conv stack + dense head) against central differences of the loss; the
 * differences are taken on the double-precision naive network (whose forward check_forward compares
 * with oneDNN's), because float32 differences are too noisy to tell a wrong index from rounding. */
static void check_gradients(const char *name, nn_conv_layout layout)
{
    net f;
    const int batch = 2, C = 3, H = 12, W = 12;
    net_init(&f, batch, layout, 11);
    const double loss = net_loss(&f, true);
    double *P = malloc(sizeof(double) * f.n_params), *X = malloc(sizeof(double) * (size_t)(batch * C * H * W));
    double *dX = malloc(sizeof(double) * (size_t)(batch * C * H * W));
    for (size_t i = 0; i < f.n_params; i++)
        P[i] = f.params[i];
    for (int n = 0; n < batch; n++)
        for (int ch = 0; ch < C; ch++)
            for (int y = 0; y < H; y++)
                for (int x = 0; x < W; x++) {
                    const size_t k = nn_conv_pass_input_index(&f.cp, n, ch, y, x);
                    X[((n * C + ch) * H + y) * W + x] = f.cp.input[k];
                    dX[((n * C + ch) * H + y) * W + x] = f.cp.input_diff[k];
                }
    const double base = ref_loss(&f, P, X);
    CHECK(fabs(base - loss) < 1e-5 * fabs(base), "%s: loss %.9g, reference %.9g", name, loss, base);
    fd_stats w = {0}, b = {0}, d = {0}, in = {0};
    for (int l = 0; l < f.conv.n_layers; l++) {
        for (size_t i = nn_conv_weight_offset(&f.conv, l); i < nn_conv_bias_offset(&f.conv, l); i++)
            fd_one(&f, P, X, &P[i], f.grads[i], base, &w, "conv weight", i);
        const size_t b0 = nn_conv_bias_offset(&f.conv, l);
        for (size_t i = b0; i < b0 + (size_t)f.conv.layers[l].out_channels; i++)
            fd_one(&f, P, X, &P[i], f.grads[i], base, &b, "conv bias", i);
    }
    for (size_t i = nn_conv_param_count(&f.conv); i < f.n_params; i++)
        fd_one(&f, P, X, &P[i], f.grads[i], base, &d, "dense param", i);
    for (size_t i = 0; i < (size_t)(batch * C * H * W); i++)
        fd_one(&f, P, X, &X[i], dX[i], base, &in, "input", i);
    const fd_stats *all[4] = {&w, &b, &d, &in};
    const char *names[4] = {"conv weights", "conv biases", "dense params", "inputs"};
    for (int k = 0; k < 4; k++) {
        CHECK(all[k]->compared > 0 && all[k]->kinks <= (all[k]->compared + all[k]->kinks) / 20,
              "%s %s: %d compared, %d on a kink", name, names[k], all[k]->compared, all[k]->kinks);
        printf("%-44s %-13s %4d compared (%d on a kink), worst rel. error %.2e\n", name, names[k], all[k]->compared,
               all[k]->kinks, all[k]->worst);
    }
    free(P);
    free(X);
    free(dX);
    net_free(&f);
}

/* Same results with 1 and 2 threads (up to rounding), and bit-identical on repeated calls. */
static void check_threads_and_reuse(nn_conv_layout layout)
{
    net f1, f2;
    const int batch = 8;
    omp_set_num_threads(1);
    net_init(&f1, batch, layout, 5);
    const double l1 = net_loss(&f1, true);
    omp_set_num_threads(2);
    net_init(&f2, batch, layout, 5);
    const double l2 = net_loss(&f2, true);
    double worst = 0, scale = 0;
    for (size_t i = 0; i < f1.n_params; i++) {
        worst = fmax(worst, fabs((double)f1.grads[i] - f2.grads[i]));
        scale = fmax(scale, fabs((double)f1.grads[i]));
    }
    const size_t n_in = (size_t)batch * 3 * 12 * 12;
    double worst_in = 0;
    for (size_t i = 0; i < n_in; i++)
        worst_in = fmax(worst_in, fabs((double)f1.cp.input_diff[i] - f2.cp.input_diff[i]));
    CHECK(fabs(l1 - l2) <= 1e-6 * fabs(l1), "loss 1 vs 2 threads: %.9g vs %.9g", l1, l2);
    CHECK(worst <= 1e-5 * scale, "gradients 1 vs 2 threads differ by %.3g (largest %.3g)", worst, scale);
    CHECK(worst_in <= 1e-5 * scale, "input gradients 1 vs 2 threads differ by %.3g", worst_in);
    printf("layout %-5s 1 vs 2 threads: loss %.9g vs %.9g, worst gradient difference %.2e (largest %.2e)\n",
           layout == NN_CONV_LAYOUT_NHWC ? "nhwc" : "any", l1, l2, worst, scale);
    /* reuse: three more calls on the same pass give the same bits */
    float *first = malloc(sizeof(float) * f2.n_params);
    memcpy(first, f2.grads, sizeof(float) * f2.n_params);
    int same = 1;
    for (int r = 0; r < 3; r++) {
        memset(f2.grads, 0xff, sizeof(float) * f2.n_params); /* NaNs: every gradient must be rewritten */
        same &= net_loss(&f2, true) == l2 && !memcmp(first, f2.grads, sizeof(float) * f2.n_params);
    }
    CHECK(same, "repeated forward/backward on one pass differ");
    free(first);
    net_free(&f1);
    net_free(&f2);
    omp_set_num_threads(1);
}

static void check_loader(nn_conv_layout layout)
{
    char err[256];
    nn_conv c = small_shape();
    c.in_channels = 4;
    nn_ctx *ctx = nn_ctx_create(err, sizeof err);
    float *params = calloc(nn_conv_param_count(&c), sizeof(float));
    nn_conv_pass p;
    CHECK(nn_conv_pass_init(&p, ctx, &c, 3, false, false, layout, params, NULL, err, sizeof err) == 0, "%s", err);
    const int row = 12 * 12 * 4;
    uint8_t *obs = malloc((size_t)(5 * row));
    for (int i = 0; i < 5 * row; i++)
        obs[i] = (uint8_t)(i * 37 + 11);
    const int rows[3] = {4, 0, 2};
    omp_set_num_threads(2);
    nn_conv_pass_load_u8(&p, obs, rows);
    omp_set_num_threads(1);
    int bad = 0;
    for (int n = 0; n < 3; n++)
        for (int y = 0; y < 12; y++)
            for (int x = 0; x < 12; x++)
                for (int ch = 0; ch < 4; ch++) {
                    const uint8_t v = obs[(size_t)rows[n] * row + (size_t)((y * 12 + x) * 4 + ch)];
                    bad += p.input[nn_conv_pass_input_index(&p, n, ch, y, x)] != (float)v / 255.0f;
                }
    nn_conv_pass_load_u8(&p, obs, NULL);
    for (int ch = 0; ch < 4; ch++)
        bad += p.input[nn_conv_pass_input_index(&p, 1, ch, 3, 5)] != (float)obs[row + (3 * 12 + 5) * 4 + ch] / 255.0f;
    CHECK(bad == 0, "loader: %d values wrong", bad);
    nn_conv_pass_destroy(&p);
    nn_ctx_free(ctx);
    free(params);
    free(obs);
}

static void check_shapes_and_init(void)
{
    char err[256];
    nn_conv c;
    int dense = 0;
    /* CleanRL's ppo_atari: Linear(64 * 7 * 7, 512) after the Nature convs on 84x84x4 */
    CHECK(nn_conv_preset(&c, "nature", 4, 84, 84, 0, &dense, err, sizeof err) == 0, "%s", err);
    CHECK(nn_conv_output_size(&c) == 3136 && dense == 512, "nature 84x84: %d features", nn_conv_output_size(&c));
    CHECK(nn_conv_preset(&c, "nature", 3, 96, 96, 0, &dense, err, sizeof err) == 0, "%s", err);
    CHECK(nn_conv_output_size(&c) == 64 * 8 * 8, "nature 96x96: %d features", nn_conv_output_size(&c));
    /* DQN 2013 on 84x84x4: 32 * 9 * 9 = 2592 features into 256 units */
    CHECK(nn_conv_preset(&c, "small", 4, 84, 84, 0, &dense, err, sizeof err) == 0, "%s", err);
    CHECK(nn_conv_output_size(&c) == 2592 && dense == 256, "small 84x84: %d features", nn_conv_output_size(&c));
    CHECK(nn_conv_preset(&c, "nature", 3, 30, 30, 0, &dense, err, sizeof err) != 0, "30x30 is too small for nature");
    CHECK(nn_conv_preset(&c, "huge", 3, 96, 96, 0, &dense, err, sizeof err) != 0, "unknown preset accepted");
    /* orthogonal: every layer's (out, in*k*k) weight has orthonormal rows times sqrt(2), biases 0 */
    CHECK(nn_conv_preset(&c, "nature", 3, 96, 96, 5, &dense, err, sizeof err) == 0, "%s", err);
    float *params = calloc(5 + nn_conv_param_count(&c), sizeof(float));
    for (size_t i = 0; i < 5 + nn_conv_param_count(&c); i++)
        params[i] = 7;
    rng_t rng;
    rng_seed(&rng, 1);
    CHECK(nn_conv_init_orthogonal(&c, params, sqrt(2.0), &rng) == 0, "init");
    double worst = 0;
    for (int l = 0; l < c.n_layers; l++) {
        const int out = c.layers[l].out_channels;
        const int cols = (int)((nn_conv_bias_offset(&c, l) - nn_conv_weight_offset(&c, l)) / (size_t)out);
        const float *w = params + nn_conv_weight_offset(&c, l);
        for (int i = 0; i < out; i++)
            for (int j = 0; j < out; j++) {
                double dot = 0;
                for (int k = 0; k < cols; k++)
                    dot += (double)w[i * cols + k] * w[j * cols + k];
                worst = fmax(worst, fabs(dot - (i == j ? 2.0 : 0.0)));
            }
        for (int i = 0; i < out; i++)
            CHECK(params[nn_conv_bias_offset(&c, l) + (size_t)i] == 0, "bias not zero");
    }
    CHECK(params[4] == 7, "init wrote before the offset");
    CHECK(worst < 1e-5, "W W^T differs from 2 I by %.3g", worst);
    printf("nature 96x96x3: %zu conv params, %.2fM MACs/sample; small: ", nn_conv_param_count(&c), nn_conv_macs(&c) / 1e6);
    nn_conv_preset(&c, "small", 3, 96, 96, 0, &dense, err, sizeof err);
    printf("%zu conv params, %.2fM MACs/sample; W W^T - 2I worst %.2e\n", nn_conv_param_count(&c), nn_conv_macs(&c) / 1e6,
           worst);
    free(params);
}

/* Every step of both presets' training passes on 3- and 4-channel input runs a jit kernel in the
 * default layout: a reference kernel is 100x slower (BLOCKED's 4-channel backward weights was). */
static void check_no_reference_kernels(void)
{
    const char *isa = nn_cpu_isa();
    if (strcmp(isa, "avx2") && strncmp(isa, "avx512", 6)) {
        printf("kernel check skipped: oneDNN ISA %s\n", isa);
        return;
    }
    char err[256];
    nn_ctx *ctx = nn_ctx_create(err, sizeof err);
    const char *shapes[2] = {"nature", "small"};
    const int in[3][3] = {{3, 96, 96}, {4, 84, 84}, {12, 96, 96}};
    for (int s = 0; s < 2; s++)
        for (int i = 0; i < 3; i++) {
            nn_conv c;
            int dense;
            CHECK(nn_conv_preset(&c, shapes[s], in[i][0], in[i][1], in[i][2], 0, &dense, err, sizeof err) == 0, "%s", err);
            float *params = calloc(nn_conv_param_count(&c), sizeof(float)), *grads = calloc(nn_conv_param_count(&c), sizeof(float));
            nn_conv_pass p;
            CHECK(nn_conv_pass_init(&p, ctx, &c, 4, true, false, NN_CONV_LAYOUT_NHWC, params, grads, err, sizeof err) == 0,
                  "%s", err);
            for (int k = 0; k < p.n_fwd + p.n_bwd; k++) {
                const nn_conv_step *st = k < p.n_fwd ? &p.fwd[k] : &p.bwd[k - p.n_fwd];
                CHECK(strncmp(st->impl, "ref", 3) != 0, "%s %dx%dx%d: step %d (layer %d) uses %s", shapes[s], in[i][0],
                      in[i][1], in[i][2], k, st->layer, st->impl);
            }
            nn_conv_pass_destroy(&p);
            free(params);
            free(grads);
        }
    nn_ctx_free(ctx);
}

int main(void)
{
    omp_set_num_threads(1);
    check_shapes_and_init();
    nn_conv c = small_shape();
    check_forward("small 3x12x12, blocked, inference", &c, 3, NN_CONV_LAYOUT_BLOCKED, false);
    check_forward("small 3x12x12, nhwc, training", &c, 3, NN_CONV_LAYOUT_NHWC, true);
    char err[256];
    int dense;
    nn_conv nature;
    CHECK(nn_conv_preset(&nature, "nature", 3, 96, 96, 0, &dense, err, sizeof err) == 0, "%s", err);
    check_forward("nature 3x96x96, blocked, training", &nature, 2, NN_CONV_LAYOUT_BLOCKED, true);
    check_forward("nature 3x96x96, nhwc, inference", &nature, 2, NN_CONV_LAYOUT_NHWC, false);
    check_gradients("grad 2x3x12x12, blocked", NN_CONV_LAYOUT_BLOCKED);
    check_gradients("grad 2x3x12x12, nhwc", NN_CONV_LAYOUT_NHWC);
    check_threads_and_reuse(NN_CONV_LAYOUT_BLOCKED);
    check_threads_and_reuse(NN_CONV_LAYOUT_NHWC);
    check_loader(NN_CONV_LAYOUT_BLOCKED);
    check_loader(NN_CONV_LAYOUT_NHWC);
    check_no_reference_kernels();
    return CHECK_DONE();
}
