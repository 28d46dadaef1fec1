/* The plain-C dense layers: forward and backward, the AVX2 and portable versions give the same bits; a
 * row's outputs are the same bits alone or at any place in any batch; the forward is within float
 * rounding of a double-precision reference; and plain passes agree with oneDNN's on the same
 * parameters to float rounding, forward (inference) and backward (a small training pass). */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "nn/mlp.h"

static uint64_t state = 0x9e3779b97f4a7c15ull;

static float uniform(void) /* in [-1, 1), with exact zeros and negative zeros now and then */
{
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    const uint32_t u = (uint32_t)(state >> 32);
    if (u % 61 == 0)
        return u % 2 ? -0.0f : 0.0f;
    return (float)((double)u / 2147483648.0 - 1.0);
}

static void fill(float *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        v[i] = uniform();
}

typedef void dense_fn(const float *, const float *, const float *, float *, int, int, int);

static void check_shape(int in, int out, int rows, bool avx2)
{
    const size_t nx = (size_t)rows * in, ny = (size_t)rows * out;
    float *x = malloc(sizeof(float) * nx), *w = malloc(sizeof(float) * (size_t)out * in), *b = malloc(sizeof(float) * out);
    float *y = malloc(sizeof(float) * ny), *y2 = malloc(sizeof(float) * ny), *one = malloc(sizeof(float) * out);
    fill(x, nx);
    fill(w, (size_t)out * in);
    fill(b, (size_t)out);
    nn_dense_rows(x, w, b, y, rows, in, out);
    for (int r = 0; r < rows; r++)
        for (int o = 0; o < out; o++) { /* the reference: a double sum, and a bound on float rounding */
            double ref = b[o], mag = fabs(b[o]);
            for (int k = 0; k < in; k++) {
                ref += (double)x[(size_t)r * in + k] * w[(size_t)o * in + k];
                mag += fabs((double)x[(size_t)r * in + k] * w[(size_t)o * in + k]);
            }
            const double got = y[(size_t)r * out + o];
            CHECK(fabs(got - ref) <= 2 * (in + 2) * 6e-8 * mag + 1e-30, "in %d out %d row %d output %d: %.9g, "
                  "double reference %.9g", in, out, r, o, got, ref);
        }
    dense_fn *versions[2] = {nn_dense_rows, nn_dense_rows_avx2};
    for (int v = 0; v < (avx2 ? 2 : 1); v++) {
        versions[v](x, w, b, y2, rows, in, out);
        CHECK(!memcmp(y, y2, sizeof(float) * ny), "in %d out %d rows %d: the AVX2 version's bits differ", in, out, rows);
        for (int r = 0; r < rows; r++) { /* the row alone: the same bits as at place r of the batch */
            versions[v](x + (size_t)r * in, w, b, one, 1, in, out);
            CHECK(!memcmp(one, y + (size_t)r * out, sizeof(float) * out), "in %d out %d: row %d of %d alone "
                  "differs (%s)", in, out, r, rows, v ? "AVX2" : "portable");
        }
    }
    /* the backward: dw, db and dx, both versions the same bits, dw and dx near a double reference */
    float *dy = malloc(sizeof(float) * ny), *dw[2], *db[2], *dx[2];
    fill(dy, ny);
    for (int v = 0; v < 2; v++) {
        dw[v] = malloc(sizeof(float) * (size_t)out * in), db[v] = malloc(sizeof(float) * out);
        dx[v] = malloc(sizeof(float) * nx);
    }
    nn_dense_backward(x, w, dy, dw[0], db[0], dx[0], rows, in, out);
    if (avx2) {
        nn_dense_backward_avx2(x, w, dy, dw[1], db[1], dx[1], rows, in, out);
        CHECK(!memcmp(dw[0], dw[1], sizeof(float) * (size_t)out * in) && !memcmp(db[0], db[1], sizeof(float) * out) &&
              !memcmp(dx[0], dx[1], sizeof(float) * nx), "in %d out %d rows %d: the AVX2 backward's bits differ",
              in, out, rows);
    }
    for (int o = 0; o < out; o++)
        for (int k = 0; k < in; k++) {
            double ref = 0, mag = 0;
            for (int r = 0; r < rows; r++) {
                ref += (double)dy[(size_t)r * out + o] * x[(size_t)r * in + k];
                mag += fabs((double)dy[(size_t)r * out + o] * x[(size_t)r * in + k]);
            }
            CHECK(fabs(dw[0][(size_t)o * in + k] - ref) <= 2 * (rows + 1) * 6e-8 * mag + 1e-30,
                  "in %d out %d rows %d: dw[%d][%d] %.9g, reference %.9g", in, out, rows, o, k,
                  (double)dw[0][(size_t)o * in + k], ref);
        }
    for (int r = 0; r < rows; r++)
        for (int k = 0; k < in; k++) {
            double ref = 0, mag = 0;
            for (int o = 0; o < out; o++) {
                ref += (double)dy[(size_t)r * out + o] * w[(size_t)o * in + k];
                mag += fabs((double)dy[(size_t)r * out + o] * w[(size_t)o * in + k]);
            }
            CHECK(fabs(dx[0][(size_t)r * in + k] - ref) <= 2 * (out + 1) * 6e-8 * mag + 1e-30,
                  "in %d out %d rows %d: dx[%d][%d] %.9g, reference %.9g", in, out, rows, r, k,
                  (double)dx[0][(size_t)r * in + k], ref);
        }
    for (int v = 0; v < 2; v++)
        free(dw[v]), free(db[v]), free(dx[v]);
    free(dy);
    free(x), free(w), free(b), free(y), free(y2), free(one);
}

/* Plain passes against oneDNN's over the same parameters: an inference pass's outputs, and a small
 * training pass's gradient (16 rows, the most that run plain for this net) against a 64-row one
 * (oneDNN) whose other rows get a zero output gradient and so add nothing. */
static void check_passes(nn_activation act)
{
    nn_mlp m = {.n_layers = 3, .sizes = {8, 64, 64, 5}, .act = act, .act_on_output = false};
    const size_t n = nn_mlp_param_count(&m);
    float *params = malloc(sizeof(float) * n), *g_small = calloc(n, sizeof(float)), *g_big = calloc(n, sizeof(float));
    fill(params, n);
    char err[256];
    nn_ctx *ctx = nn_ctx_create(err, sizeof err);
    nn_pass infer, small, over, big;
    enum { B = 64, S = 16 };
    if (!ctx || nn_pass_init(&infer, ctx, &m, B, false, params, NULL, NULL, err, sizeof err) ||
        nn_pass_init(&small, ctx, &m, S, true, params, g_small, NULL, err, sizeof err) ||
        nn_pass_init(&over, ctx, &m, S + 1, true, params, g_big, NULL, err, sizeof err) ||
        nn_pass_init(&big, ctx, &m, B, true, params, g_big, NULL, err, sizeof err)) {
        CHECK(0, "building the passes: %s", err);
        exit(1);
    }
    CHECK(infer.plain && small.plain && !over.plain && !big.plain, "plain passes: inference %d, 16-row training %d, "
          "17-row %d, 64-row %d (expected 1, 1, 0, 0)", infer.plain, small.plain, over.plain, big.plain);
    nn_pass_destroy(&over);
    fill(infer.input, (size_t)B * 8);
    memcpy(big.input, infer.input, sizeof(float) * B * 8);
    memcpy(small.input, infer.input, sizeof(float) * S * 8);
    nn_pass_forward(&infer);
    nn_pass_forward(&big);
    nn_pass_forward(&small);
    double worst = 0;
    for (int i = 0; i < B * 5; i++) {
        const double d = fabs((double)nn_pass_output(&infer)[i] - nn_pass_output(&big)[i]);
        worst = d > worst ? d : worst;
    }
    printf("%s: plain inference vs oneDNN forward, 8-64-64-5, %d rows: largest difference %.3g\n",
           act == NN_TANH ? "tanh" : "relu", B, worst);
    CHECK(worst < 1e-5, "the inference pass is %.3g from oneDNN's forward", worst);
    fill(nn_pass_output_diff(&small), (size_t)S * 5);
    memset(nn_pass_output_diff(&big), 0, sizeof(float) * B * 5);
    memcpy(nn_pass_output_diff(&big), nn_pass_output_diff(&small), sizeof(float) * S * 5);
    nn_pass_backward(&small, true);
    nn_pass_backward(&big, true);
    double gmax = 0, gworst = 0, dworst = 0;
    for (size_t i = 0; i < n; i++) {
        gmax = fabs(g_big[i]) > gmax ? fabs(g_big[i]) : gmax;
        gworst = fabs((double)g_small[i] - g_big[i]) > gworst ? fabs((double)g_small[i] - g_big[i]) : gworst;
    }
    for (int i = 0; i < S * 8; i++)
        dworst = fabs((double)small.diff_input[i] - big.diff_input[i]) > dworst ? fabs((double)small.diff_input[i] - big.diff_input[i]) : dworst;
    printf("plain training pass (%d rows) vs oneDNN's: gradient largest difference %.3g (largest entry %.3g), input "
           "gradient %.3g\n", S, gworst, gmax, dworst);
    CHECK(gmax > 0 && gworst < 1e-5 * gmax && dworst < 1e-4, "the plain gradient is %.3g from oneDNN's (input: %.3g)",
          gworst, dworst);
    nn_pass_destroy(&infer);
    nn_pass_destroy(&small);
    nn_pass_destroy(&big);
    nn_ctx_free(ctx);
    free(params), free(g_small), free(g_big);
}

int main(void)
{
    const bool avx2 = nn_dense_has_avx2();
    if (!avx2)
        printf("this CPU has no AVX2: the portable version alone is checked\n");
    const int ins[] = {1, 2, 3, 4, 6, 7, 8, 9, 15, 16, 17, 24, 63, 64, 65, 256, 2592};
    const int outs[] = {1, 2, 3, 4, 5, 7, 8, 64};
    const int rows[] = {1, 2, 3, 7};
    int shapes = 0;
    for (size_t i = 0; i < sizeof ins / sizeof *ins; i++)
        for (size_t o = 0; o < sizeof outs / sizeof *outs; o++)
            for (size_t r = 0; r < sizeof rows / sizeof *rows; r++, shapes++)
                check_shape(ins[i], outs[o], rows[r], avx2);
    printf("dense rows and their backward: %d shapes, portable%s\n", shapes,
           avx2 ? " and AVX2 bit for bit, every forward row as alone" : "");
    check_passes(NN_TANH);
    check_passes(NN_RELU);
    return CHECK_DONE();
}
