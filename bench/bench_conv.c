/* bench_conv: time per sample of the pixel feature extractors (nn/conv.h stack + its Linear + ReLU
 * layer) — forward (inference pass), and forward + backward (training pass) — for the "nature" and
 * "small" shapes at several batch sizes and thread counts, then where the time goes step by step
 * (weight reorders, data reorders, convolutions, ReLU backward, dense). Prints figures; not a test.
 * Usage: bench_conv [seconds per measurement, default 0.2]
 *        bench_conv profile SHAPE C H W BATCH [nhwc]   (one step-by-step profile only) */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nn/conv.h"

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

typedef struct {
    nn_conv conv;
    nn_mlp dense;
    float *params, *grads;
    uint8_t *obs;
    nn_conv_pass cp;
    nn_pass dp;
} extractor;

static int extractor_init(extractor *e, nn_ctx *ctx, const char *shape, int C, int H, int W, int batch, bool training,
                          nn_conv_layout layout)
{
    char err[256];
    int dense = 0;
    memset(e, 0, sizeof *e);
    if (nn_conv_preset(&e->conv, shape, C, H, W, 0, &dense, err, sizeof err))
        goto fail;
    e->dense = (nn_mlp){.n_layers = 1, .sizes = {nn_conv_output_size(&e->conv), dense}, .act = NN_RELU,
                        .act_on_output = true, .param_offset = nn_conv_param_count(&e->conv)};
    const size_t n = nn_conv_param_count(&e->conv) + nn_mlp_param_count(&e->dense);
    e->params = calloc(n, sizeof(float));
    e->grads = calloc(n, sizeof(float));
    e->obs = malloc((size_t)batch * (size_t)(C * H * W));
    rng_t rng;
    rng_seed(&rng, 1);
    nn_conv_init_orthogonal(&e->conv, e->params, 1.4142135623730951, &rng);
    nn_mlp_init_orthogonal(&e->dense, e->params, 1.4142135623730951, 1.4142135623730951, &rng);
    for (size_t i = 0; i < (size_t)batch * (size_t)(C * H * W); i++)
        e->obs[i] = (uint8_t)(rng_next(&rng) >> 56);
    if (nn_conv_pass_init(&e->cp, ctx, &e->conv, batch, training, false, layout, e->params, e->grads, err, sizeof err) ||
        nn_pass_init(&e->dp, ctx, &e->dense, batch, training, e->params, e->grads, e->cp.output, err, sizeof err))
        goto fail;
    nn_conv_pass_load_u8(&e->cp, e->obs, NULL);
    return 0;
fail:
    fprintf(stderr, "bench_conv: %s\n", err);
    return -1;
}

static void extractor_free(extractor *e)
{
    nn_pass_destroy(&e->dp);
    nn_conv_pass_destroy(&e->cp);
    free(e->params);
    free(e->grads);
    free(e->obs);
}

static void step(extractor *e, bool backward)
{
    nn_conv_pass_forward(&e->cp);
    nn_pass_forward(&e->dp);
    if (backward) {
        const size_t n = (size_t)e->cp.batch * (size_t)e->dense.sizes[1];
        float *d = nn_pass_output_diff(&e->dp);
        for (size_t i = 0; i < n; i++)
            d[i] = 1e-3f * (float)(i % 7);
        nn_pass_backward(&e->dp, true);
        memcpy(e->cp.output_diff, e->dp.diff_input, sizeof(float) * (size_t)e->cp.batch * (size_t)e->dense.sizes[0]);
        nn_conv_pass_backward(&e->cp);
    }
}

/* Microseconds per sample: repeat until min_s has passed (at least 3 calls after one warm-up). */
static double time_per_sample(extractor *e, bool backward, double min_s)
{
    step(e, backward);
    int reps = 0;
    const double t0 = now();
    double t;
    do {
        step(e, backward);
        reps++;
        t = now() - t0;
    } while (t < min_s || reps < 3);
    return 1e6 * t / reps / e->cp.batch;
}

static const char *kind_name(nn_conv_step_kind k)
{
    switch (k) {
    case NN_CONV_STEP_REORDER_WEIGHTS: return "reorder weights";
    case NN_CONV_STEP_REORDER_DATA: return "reorder data";
    case NN_CONV_STEP_CONV: return "conv fwd+relu";
    case NN_CONV_STEP_CONV_BWD_WEIGHTS: return "conv bwd weights";
    case NN_CONV_STEP_CONV_BWD_DATA: return "conv bwd data";
    case NN_CONV_STEP_RELU_BWD: return "relu bwd";
    }
    return "?";
}

/* Each step of one training forward + backward timed alone (median-free mean over reps). */
static void profile(nn_ctx *ctx, const char *shape, int C, int H, int W, int batch, nn_conv_layout layout, int reps)
{
    extractor e;
    if (extractor_init(&e, ctx, shape, C, H, W, batch, true, layout))
        return;
    step(&e, true);
    double tf[NN_CONV_MAX_STEPS] = {0}, tb[NN_CONV_MAX_STEPS] = {0}, tload = 0, tdense = 0;
    for (int r = 0; r < reps; r++) {
        double t = now();
        nn_conv_pass_load_u8(&e.cp, e.obs, NULL);
        tload += now() - t;
        for (int i = 0; i < e.cp.n_fwd; i++) {
            t = now();
            nn_conv_step_run(&e.cp, &e.cp.fwd[i]);
            tf[i] += now() - t;
        }
        t = now();
        nn_pass_forward(&e.dp);
        nn_pass_backward(&e.dp, true);
        tdense += now() - t;
        memcpy(e.cp.output_diff, e.dp.diff_input, sizeof(float) * (size_t)batch * (size_t)e.dense.sizes[0]);
        for (int i = 0; i < e.cp.n_bwd; i++) {
            t = now();
            nn_conv_step_run(&e.cp, &e.cp.bwd[i]);
            tb[i] += now() - t;
        }
    }
    double total = tload + tdense;
    for (int i = 0; i < e.cp.n_fwd; i++)
        total += tf[i];
    for (int i = 0; i < e.cp.n_bwd; i++)
        total += tb[i];
    printf("\nprofile: %s %dx%dx%d, batch %d, %d thread(s), layout %s: %.0f us per call (%.1f us/sample)\n", shape, C, H,
           W, batch, omp_get_max_threads(), layout == NN_CONV_LAYOUT_NHWC ? "nhwc" : "blocked", 1e6 * total / reps,
           1e6 * total / reps / batch);
    printf("  %-6s %-18s %-5s %-26s %10s %6s\n", "pass", "step", "layer", "oneDNN impl", "us/call", "share");
    printf("  %-6s %-18s %-5s %-26s %10.1f %5.1f%%\n", "fwd", "load uint8", "-", "C/OpenMP", 1e6 * tload / reps,
           100 * tload / total);
    for (int i = 0; i < e.cp.n_fwd; i++)
        printf("  %-6s %-18s %-5d %-26s %10.1f %5.1f%%\n", "fwd", kind_name(e.cp.fwd[i].kind), e.cp.fwd[i].layer,
               e.cp.fwd[i].impl, 1e6 * tf[i] / reps, 100 * tf[i] / total);
    printf("  %-6s %-18s %-5s %-26s %10.1f %5.1f%%\n", "both", "dense (nn_mlp)", "-", "inner product", 1e6 * tdense / reps,
           100 * tdense / total);
    for (int i = 0; i < e.cp.n_bwd; i++)
        printf("  %-6s %-18s %-5d %-26s %10.1f %5.1f%%\n", "bwd", kind_name(e.cp.bwd[i].kind), e.cp.bwd[i].layer,
               e.cp.bwd[i].impl, 1e6 * tb[i] / reps, 100 * tb[i] / total);
    extractor_free(&e);
}

int main(int argc, char **argv)
{
    char err[256];
    nn_ctx *ctx = nn_ctx_create(err, sizeof err);
    if (!ctx) {
        fprintf(stderr, "bench_conv: %s\n", err);
        return 1;
    }
    if (argc >= 7 && !strcmp(argv[1], "profile")) {
        const int batch = atoi(argv[6]);
        profile(ctx, argv[2], atoi(argv[3]), atoi(argv[4]), atoi(argv[5]), batch,
                argc > 7 && !strcmp(argv[7], "nhwc") ? NN_CONV_LAYOUT_NHWC : NN_CONV_LAYOUT_BLOCKED, batch > 8 ? 3 : 20);
        nn_ctx_free(ctx);
        return 0;
    }
    const double min_s = argc > 1 ? atof(argv[1]) : 0.2;
    printf("bench_conv: oneDNN ISA %s, %d OpenMP thread(s) available; us per sample "
           "(conv stack + Linear + ReLU; fwd = inference pass, fwd+bwd = training pass)\n",
           nn_cpu_isa(), omp_get_max_threads());
    const char *shapes[2] = {"nature", "small"};
    const int inputs[2][3] = {{3, 96, 96}, {4, 84, 84}};
    const int batches[4] = {1, 8, 64, 256};
    printf("%-7s %-9s %-8s %5s %12s %12s\n", "shape", "input", "threads", "batch", "fwd us", "fwd+bwd us");
    for (int s = 0; s < 2; s++)
        for (int in = 0; in < 2; in++)
            for (int th = 1; th <= 2; th++)
                for (int b = 0; b < 4; b++) {
                    omp_set_num_threads(th);
                    const int C = inputs[in][0], H = inputs[in][1], W = inputs[in][2], B = batches[b];
                    extractor inf, tr;
                    if (extractor_init(&inf, ctx, shapes[s], C, H, W, B, false, NN_CONV_LAYOUT_NHWC) ||
                        extractor_init(&tr, ctx, shapes[s], C, H, W, B, true, NN_CONV_LAYOUT_NHWC))
                        return 1;
                    const double f = time_per_sample(&inf, false, min_s), fb = time_per_sample(&tr, true, min_s);
                    printf("%-7s %dx%dx%-3d %-8d %5d %12.1f %12.1f\n", shapes[s], C, H, W, th, B, f, fb);
                    fflush(stdout);
                    extractor_free(&inf);
                    extractor_free(&tr);
                }
    printf("\nlayout: nhwc (default) vs blocked (oneDNN's choice), 1 thread, 96x96x3, us per sample\n");
    omp_set_num_threads(1);
    for (int s = 0; s < 2; s++)
        for (int b = 1; b < 4; b += 2) {
            double r[2][2];
            for (int lay = 0; lay < 2; lay++) {
                extractor inf, tr;
                if (extractor_init(&inf, ctx, shapes[s], 3, 96, 96, batches[b], false, (nn_conv_layout)lay) ||
                    extractor_init(&tr, ctx, shapes[s], 3, 96, 96, batches[b], true, (nn_conv_layout)lay))
                    return 1;
                r[lay][0] = time_per_sample(&inf, false, min_s);
                r[lay][1] = time_per_sample(&tr, true, min_s);
                extractor_free(&inf);
                extractor_free(&tr);
            }
            printf("%-7s batch %3d: fwd %8.1f nhwc %8.1f blocked; fwd+bwd %8.1f nhwc %8.1f blocked\n", shapes[s],
                   batches[b], r[0][0], r[1][0], r[0][1], r[1][1]);
        }
    profile(ctx, "nature", 3, 96, 96, 64, NN_CONV_LAYOUT_NHWC, 10);
    profile(ctx, "nature", 3, 96, 96, 1, NN_CONV_LAYOUT_NHWC, 100);
    profile(ctx, "small", 3, 96, 96, 64, NN_CONV_LAYOUT_NHWC, 10);
    profile(ctx, "nature", 4, 84, 84, 64, NN_CONV_LAYOUT_NHWC, 10);
    nn_ctx_free(ctx);
    return 0;
}
