/* The plain-C dense layer of inference passes: the AVX2 and portable versions give the same bits; a
 * row's outputs are the same bits alone or at any place in any batch; both are within float rounding
 * of a double-precision reference; and an inference pass (plain C) agrees with a training pass
 * (oneDNN) on the same parameters to float rounding. */
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
    free(x), free(w), free(b), free(y), free(y2), free(one);
}

/* An inference pass (plain C) against a training pass (oneDNN) over the same parameters. */
static void check_passes(void)
{
    nn_mlp m = {.n_layers = 3, .sizes = {8, 64, 64, 5}, .act = NN_TANH, .act_on_output = false};
    const size_t n = nn_mlp_param_count(&m);
    float *params = malloc(sizeof(float) * n), *grads = calloc(n, sizeof(float));
    fill(params, n);
    char err[256];
    nn_ctx *ctx = nn_ctx_create(err, sizeof err);
    nn_pass infer, train;
    enum { B = 13 };
    if (!ctx || nn_pass_init(&infer, ctx, &m, B, false, params, NULL, NULL, err, sizeof err) ||
        nn_pass_init(&train, ctx, &m, B, true, params, grads, NULL, err, sizeof err)) {
        CHECK(0, "building the passes: %s", err);
        exit(1);
    }
    fill(infer.input, (size_t)B * 8);
    memcpy(train.input, infer.input, sizeof(float) * B * 8);
    nn_pass_forward(&infer);
    nn_pass_forward(&train);
    double worst = 0;
    for (int i = 0; i < B * 5; i++) {
        const double d = fabs((double)nn_pass_output(&infer)[i] - nn_pass_output(&train)[i]);
        worst = d > worst ? d : worst;
    }
    printf("inference pass vs oneDNN training pass, 8-64-64-5 tanh, %d rows: largest difference %.3g\n", B, worst);
    CHECK(worst < 1e-5, "the inference pass is %.3g from oneDNN's forward", worst);
    nn_pass_destroy(&infer);
    nn_pass_destroy(&train);
    nn_ctx_free(ctx);
    free(params), free(grads);
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
    printf("dense rows: %d shapes, portable%s\n", shapes, avx2 ? " and AVX2 bit for bit, every row as alone" : "");
    check_passes();
    return CHECK_DONE();
}
