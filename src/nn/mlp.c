/* mlp: a dense stack's passes: oneDNN inner-product primitives, or plain-C layers for small passes;
 * nn/activation.c between the layers; orthogonal init. */
#include "nn/mlp.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NN_MAX_SCRATCH_USERS 256
/* When a pass runs in plain C (nn_dense_rows, nn_dense_backward) rather than oneDNN, by its multiply-adds.
 * oneDNN costs ~15 us per minibatch in calls and ~1.1 us per row of LunarLander's 64x64 nets, plain C
 * nothing and ~1.4 us (2-core EPYC VM; 1.8 before the backward summed eight registers side by side):
 * training passes of up to 5 x 2^14 multiply-adds (16 such rows) run plain. Gradient per minibatch,
 * oneDNN against plain: 16 rows 26.5-26.6 us against 21.7-22.4, 24 rows alike (34.0-35.7, 33.7-36.3),
 * 64 rows 74-78 against 88. Inference runs plain for nets of up to 2^14 per row (64x64: 4,864) at any batch, so a row's
 * result never depends on its batch there; wider nets (256x256 at 64 rows: 9.0 -> 12.5 ms per update
 * plain) keep oneDNN. */
#define NN_PLAIN_TRAIN_MACS (5LL << 14)
#define NN_PLAIN_INFER_MACS_PER_ROW (1LL << 14)

struct nn_ctx {
    dnnl_engine_t engine;
    dnnl_stream_t stream;
    void *scratch; /* one user-mode scratchpad shared by every primitive (they never run at once) */
    size_t scratch_size;
    dnnl_memory_t scratch_users[NN_MAX_SCRATCH_USERS];
    int n_scratch_users;
};

size_t nn_mlp_param_count(const nn_mlp *m)
{
    size_t n = 0;
    for (int l = 0; l < m->n_layers; l++)
        n += (size_t)m->sizes[l + 1] * ((size_t)m->sizes[l] + 1);
    return n;
}

size_t nn_mlp_weight_offset(const nn_mlp *m, int layer)
{
    size_t off = m->param_offset;
    for (int l = 0; l < layer; l++)
        off += (size_t)m->sizes[l + 1] * ((size_t)m->sizes[l] + 1);
    return off;
}

size_t nn_mlp_bias_offset(const nn_mlp *m, int layer)
{
    return nn_mlp_weight_offset(m, layer) + (size_t)m->sizes[layer + 1] * (size_t)m->sizes[layer];
}

const char *nn_cpu_isa(void)
{
    switch (dnnl_get_effective_cpu_isa()) {
    case dnnl_cpu_isa_sse41: return "sse41";
    case dnnl_cpu_isa_avx: return "avx";
    case dnnl_cpu_isa_avx2: return "avx2";
    case dnnl_cpu_isa_avx2_vnni: return "avx2_vnni";
    case dnnl_cpu_isa_avx512_mic: return "avx512_mic";
    case dnnl_cpu_isa_avx512_mic_4ops: return "avx512_mic_4ops";
    case dnnl_cpu_isa_avx512_core: return "avx512_core";
    case dnnl_cpu_isa_avx512_core_vnni: return "avx512_core_vnni";
    case dnnl_cpu_isa_avx512_core_bf16: return "avx512_core_bf16";
    case dnnl_cpu_isa_avx512_core_amx: return "avx512_core_amx";
    default: return "other";
    }
}

nn_ctx *nn_ctx_create(char *err, size_t err_len)
{
    /* The same kernels on every x86 machine with AVX2 or more: AVX-512 kernels sum in another order, so
     * a seed would train differently there (MountainCar-v0 seed 1: -115.35 instead of -100.87). For
     * these layer sizes they are only 3-10% faster (training steps/s, LunarLander-v3 71k vs 69k,
     * CartPole-v1 150k vs 134k). The user's ONEDNN_MAX_CPU_ISA decides instead when set and not empty.
     * Only the first call in a process takes effect. */
    const char *isa = getenv("ONEDNN_MAX_CPU_ISA"), *old_isa = getenv("DNNL_MAX_CPU_ISA");
    if ((!isa || !*isa) && (!old_isa || !*old_isa))
        (void)dnnl_set_max_cpu_isa(dnnl_cpu_isa_avx2);
    nn_ctx *c = calloc(1, sizeof *c);
    if (!c) {
        snprintf(err, err_len, "out of memory creating the oneDNN context");
        return NULL;
    }
    if (dnnl_engine_create(&c->engine, dnnl_cpu, 0) != dnnl_success ||
        dnnl_stream_create(&c->stream, c->engine, dnnl_stream_default_flags) != dnnl_success) {
        snprintf(err, err_len, "oneDNN: cannot create a CPU engine and stream");
        nn_ctx_free(c);
        return NULL;
    }
    return c;
}

void nn_ctx_free(nn_ctx *c)
{
    if (!c)
        return;
    if (c->stream)
        dnnl_stream_destroy(c->stream);
    if (c->engine)
        dnnl_engine_destroy(c->engine);
    free(c->scratch);
    free(c);
}

dnnl_engine_t nn_ctx_engine(const nn_ctx *c) { return c->engine; }
dnnl_stream_t nn_ctx_stream(const nn_ctx *c) { return c->stream; }

/* Makes a user-mode scratchpad memory for pd (NULL when it needs none), growing the shared buffer. */
static int scratch_for(nn_pass *p, const_dnnl_primitive_desc_t pd, dnnl_memory_t *out)
{
    nn_ctx *c = p->ctx;
    *out = NULL;
    const dnnl_memory_desc_t *md = dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0);
    size_t size = md ? dnnl_memory_desc_get_size(md) : 0;
    if (size == 0)
        return 0;
    if (c->n_scratch_users == NN_MAX_SCRATCH_USERS)
        return -1;
    if (size > c->scratch_size) {
        void *grown = NULL;
        if (posix_memalign(&grown, 64, size))
            return -1;
        free(c->scratch);
        c->scratch = grown;
        c->scratch_size = size;
        for (int i = 0; i < c->n_scratch_users; i++)
            dnnl_memory_set_data_handle(c->scratch_users[i], c->scratch);
    }
    if (dnnl_memory_create(out, md, c->engine, c->scratch) != dnnl_success)
        return -1;
    c->scratch_users[c->n_scratch_users++] = *out;
    p->mems[p->n_mems++] = *out;
    return 0;
}

static float *alloc_floats(size_t n)
{
    void *p = NULL;
    if (posix_memalign(&p, 64, (n ? n : 1) * sizeof(float)))
        return NULL;
    memset(p, 0, (n ? n : 1) * sizeof(float));
    return p;
}

#define TRY(call, what)                                                                            \
    do {                                                                                           \
        dnnl_status_t st_ = (call);                                                                \
        if (st_ != dnnl_success) {                                                                 \
            snprintf(err, err_len, "oneDNN: %s failed (status %d) for a %dx%d layer", what,       \
                     (int)st_, m->sizes[l], m->sizes[l + 1]);                                      \
            goto fail;                                                                             \
        }                                                                                          \
    } while (0)

static dnnl_memory_t pass_mem(nn_pass *p, const dnnl_memory_desc_t *md, void *ptr)
{
    dnnl_memory_t mem = NULL;
    if (dnnl_memory_create(&mem, md, p->ctx->engine, ptr) != dnnl_success)
        return NULL;
    p->mems[p->n_mems++] = mem;
    return mem;
}

static void exec_add(nn_exec *e, int arg, dnnl_memory_t mem)
{
    e->args[e->nargs].arg = arg;
    e->args[e->nargs].memory = mem;
    e->nargs++;
}

int nn_pass_init(nn_pass *p, nn_ctx *ctx, const nn_mlp *m, int batch, bool training, float *params,
                 float *grads, float *input, char *err, size_t err_len)
{
    memset(p, 0, sizeof *p);
    p->mlp = m;
    p->ctx = ctx;
    p->batch = batch;
    p->training = training;
    p->params = params;
    p->grads = grads;
    long long macs = 0; /* per row */
    for (int l = 0; l < m->n_layers; l++)
        macs += (long long)m->sizes[l] * m->sizes[l + 1];
    p->plain = training ? (long long)batch * macs <= NN_PLAIN_TRAIN_MACS : macs <= NN_PLAIN_INFER_MACS_PER_ROW;
    p->dense = nn_dense_has_avx2() ? nn_dense_rows_avx2 : nn_dense_rows;
    p->dense_backward = nn_dense_has_avx2() ? nn_dense_backward_avx2 : nn_dense_backward;
    p->owns_input = input == NULL;
    p->input = input ? input : alloc_floats((size_t)batch * (size_t)m->sizes[0]);
    int l = 0;
    dnnl_primitive_attr_t attr = NULL, attr_bwd = NULL;
    dnnl_primitive_desc_t pd = NULL, pd_hint = NULL, pd2 = NULL;
    if (!p->input)
        goto oom;
    if (training && !(p->diff_input = alloc_floats((size_t)batch * (size_t)m->sizes[0])))
        goto oom;
    for (l = 0; l < m->n_layers; l++) {
        size_t n = (size_t)batch * (size_t)m->sizes[l + 1];
        if (!(p->out[l] = alloc_floats(n)) || (training && !(p->diff[l] = alloc_floats(n))))
            goto oom;
    }
    for (l = 0; l < m->n_layers; l++)
        p->has_act[l] = l < m->n_layers - 1 || m->act_on_output;
    if (p->plain)
        return 0; /* plain C (nn_pass_forward, nn_pass_backward): no primitives */
    const dnnl_prop_kind_t prop = training ? dnnl_forward_training : dnnl_forward_inference;
    for (l = 0; l < m->n_layers; l++) {
        const int in = m->sizes[l], out = m->sizes[l + 1];
        dnnl_memory_desc_t src_md, w_md, b_md, dst_md;
        TRY(dnnl_memory_desc_init_by_tag(&src_md, 2, (dnnl_dims_t){batch, in}, dnnl_f32, dnnl_ab), "src md");
        TRY(dnnl_memory_desc_init_by_tag(&w_md, 2, (dnnl_dims_t){out, in}, dnnl_f32, dnnl_ab), "weights md");
        TRY(dnnl_memory_desc_init_by_tag(&b_md, 1, (dnnl_dims_t){out}, dnnl_f32, dnnl_a), "bias md");
        TRY(dnnl_memory_desc_init_by_tag(&dst_md, 2, (dnnl_dims_t){batch, out}, dnnl_f32, dnnl_ab), "dst md");
        float *src_ptr = l == 0 ? p->input : p->out[l - 1];
        dnnl_memory_t src = pass_mem(p, &src_md, src_ptr);
        dnnl_memory_t w = pass_mem(p, &w_md, params + nn_mlp_weight_offset(m, l));
        dnnl_memory_t b = pass_mem(p, &b_md, params + nn_mlp_bias_offset(m, l));
        dnnl_memory_t dst = pass_mem(p, &dst_md, p->out[l]);
        if (!src || !w || !b || !dst)
            goto oom;

        /* forward: inner product, then the activation in place (the gemm inner product applies an
         * eltwise post-op through a slow path: measured 3-10x slower here) */
        TRY(dnnl_primitive_attr_create(&attr), "attr");
        TRY(dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user), "scratchpad mode");
        dnnl_inner_product_desc_t ipd;
        TRY(dnnl_inner_product_forward_desc_init(&ipd, prop, &src_md, &w_md, &b_md, &dst_md), "ip fwd desc");
        TRY(dnnl_primitive_desc_create(&pd_hint, &ipd, attr, ctx->engine, NULL), "ip fwd pd");
        TRY(dnnl_primitive_create(&p->fwd[l].prim, pd_hint), "ip fwd primitive");
        exec_add(&p->fwd[l], DNNL_ARG_SRC, src);
        exec_add(&p->fwd[l], DNNL_ARG_WEIGHTS, w);
        exec_add(&p->fwd[l], DNNL_ARG_BIAS, b);
        exec_add(&p->fwd[l], DNNL_ARG_DST, dst);
        dnnl_memory_t sp;
        if (scratch_for(p, pd_hint, &sp))
            goto oom;
        if (sp)
            exec_add(&p->fwd[l], DNNL_ARG_SCRATCHPAD, sp);
        if (training) {
            /* the backward primitives take their own attr (user scratchpad) */
            TRY(dnnl_primitive_attr_create(&attr_bwd), "attr");
            TRY(dnnl_primitive_attr_set_scratchpad_mode(attr_bwd, dnnl_scratchpad_mode_user), "scratchpad mode");
            dnnl_memory_t ddst = pass_mem(p, &dst_md, p->diff[l]);
            if (!ddst)
                goto oom;
            dnnl_memory_t dw = pass_mem(p, &w_md, grads + nn_mlp_weight_offset(m, l));
            dnnl_memory_t db = pass_mem(p, &b_md, grads + nn_mlp_bias_offset(m, l));
            dnnl_memory_t dsrc = pass_mem(p, &src_md, l == 0 ? p->diff_input : p->diff[l - 1]);
            if (!dw || !db || !dsrc)
                goto oom;
            dnnl_inner_product_desc_t bw, bd;
            TRY(dnnl_inner_product_backward_weights_desc_init(&bw, &src_md, &w_md, &b_md, &dst_md), "ip bwd-weights desc");
            TRY(dnnl_primitive_desc_create(&pd, &bw, attr_bwd, ctx->engine, pd_hint), "ip bwd-weights pd");
            TRY(dnnl_primitive_create(&p->bwd_w[l].prim, pd), "ip bwd-weights primitive");
            exec_add(&p->bwd_w[l], DNNL_ARG_SRC, src);
            exec_add(&p->bwd_w[l], DNNL_ARG_DIFF_DST, ddst);
            exec_add(&p->bwd_w[l], DNNL_ARG_DIFF_WEIGHTS, dw);
            exec_add(&p->bwd_w[l], DNNL_ARG_DIFF_BIAS, db);
            if (scratch_for(p, pd, &sp))
                goto oom;
            if (sp)
                exec_add(&p->bwd_w[l], DNNL_ARG_SCRATCHPAD, sp);
            TRY(dnnl_inner_product_backward_data_desc_init(&bd, &src_md, &w_md, &dst_md), "ip bwd-data desc");
            TRY(dnnl_primitive_desc_create(&pd2, &bd, attr_bwd, ctx->engine, pd_hint), "ip bwd-data pd");
            TRY(dnnl_primitive_create(&p->bwd_d[l].prim, pd2), "ip bwd-data primitive");
            exec_add(&p->bwd_d[l], DNNL_ARG_DIFF_DST, ddst);
            exec_add(&p->bwd_d[l], DNNL_ARG_WEIGHTS, w);
            exec_add(&p->bwd_d[l], DNNL_ARG_DIFF_SRC, dsrc);
            if (scratch_for(p, pd2, &sp))
                goto oom;
            if (sp)
                exec_add(&p->bwd_d[l], DNNL_ARG_SCRATCHPAD, sp);
            dnnl_primitive_desc_destroy(pd);
            dnnl_primitive_desc_destroy(pd2);
            pd = pd2 = NULL;
            dnnl_primitive_attr_destroy(attr_bwd);
            attr_bwd = NULL;
        }
        dnnl_primitive_desc_destroy(pd_hint);
        pd_hint = NULL;
        dnnl_primitive_attr_destroy(attr);
        attr = NULL;
    }
    return 0;
oom:
    snprintf(err, err_len, "out of memory (or oneDNN memory failure) building a batch-%d pass", batch);
fail:
    if (attr)
        dnnl_primitive_attr_destroy(attr);
    if (attr_bwd)
        dnnl_primitive_attr_destroy(attr_bwd);
    if (pd)
        dnnl_primitive_desc_destroy(pd);
    if (pd2)
        dnnl_primitive_desc_destroy(pd2);
    if (pd_hint)
        dnnl_primitive_desc_destroy(pd_hint);
    nn_pass_destroy(p);
    return -1;
}

void nn_pass_destroy(nn_pass *p)
{
    if (!p->mlp)
        return;
    for (int l = 0; l < NN_MAX_LAYERS; l++) {
        nn_exec *all[3] = {&p->fwd[l], &p->bwd_w[l], &p->bwd_d[l]};
        for (int k = 0; k < 3; k++)
            if (all[k]->prim)
                dnnl_primitive_destroy(all[k]->prim);
        free(p->out[l]);
        free(p->diff[l]);
    }
    for (int i = 0; i < p->n_mems; i++)
        dnnl_memory_destroy(p->mems[i]);
    if (p->owns_input)
        free(p->input);
    free(p->diff_input);
    memset(p, 0, sizeof *p);
}

static void run(nn_ctx *c, const nn_exec *e)
{
    dnnl_primitive_execute(e->prim, c->stream, e->nargs, e->args);
}

/* The tree that adds a dot product's eight partial sums; _mm256 lanes in the AVX2 version. */
static inline float sum8(const float a[8])
{
    return ((a[0] + a[4]) + (a[2] + a[6])) + ((a[1] + a[5]) + (a[3] + a[7]));
}

void nn_dense_rows(const float *x, const float *w, const float *b, float *y, int rows, int in, int out)
{
    const int full = in / 8 * 8;
    for (int r = 0; r < rows; r++) {
        const float *xr = x + (size_t)r * (size_t)in;
        for (int o = 0; o < out; o++) {
            const float *wo = w + (size_t)o * (size_t)in;
            float acc[8] = {0};
            for (int k = 0; k < full; k += 8)
                for (int j = 0; j < 8; j++)
                    acc[j] += xr[k + j] * wo[k + j];
            if (full < in) /* the AVX2 version adds a masked product, +0, in the lanes past the end */
                for (int j = 0; j < 8; j++)
                    acc[j] += full + j < in ? xr[full + j] * wo[full + j] : 0.0f;
            y[(size_t)r * (size_t)out + (size_t)o] = sum8(acc) + b[o];
        }
    }
}

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

__attribute__((target("avx2"))) static inline float sum8_avx(__m256 a)
{
    const __m128 s = _mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1)); /* a0+a4 .. a3+a7 */
    const __m128 t = _mm_add_ps(s, _mm_movehl_ps(s, s));                                  /* (a0+a4)+(a2+a6), (a1+a5)+(a3+a7) */
    return _mm_cvtss_f32(_mm_add_ss(t, _mm_shuffle_ps(t, t, 1)));
}

#define DENSE4_STEP(LOAD)                                                                           \
    do {                                                                                            \
        const __m256 v0 = LOAD(w0 + k), v1 = LOAD(w1 + k), v2 = LOAD(w2 + k), v3 = LOAD(w3 + k);    \
        const __m256 p = LOAD(x0 + k);                                                              \
        a0 = _mm256_add_ps(a0, _mm256_mul_ps(p, v0));                                               \
        a1 = _mm256_add_ps(a1, _mm256_mul_ps(p, v1));                                               \
        a2 = _mm256_add_ps(a2, _mm256_mul_ps(p, v2));                                               \
        a3 = _mm256_add_ps(a3, _mm256_mul_ps(p, v3));                                               \
        if (x1) {                                                                                   \
            const __m256 q = LOAD(x1 + k);                                                          \
            c0 = _mm256_add_ps(c0, _mm256_mul_ps(q, v0));                                           \
            c1 = _mm256_add_ps(c1, _mm256_mul_ps(q, v1));                                           \
            c2 = _mm256_add_ps(c2, _mm256_mul_ps(q, v2));                                           \
            c3 = _mm256_add_ps(c3, _mm256_mul_ps(q, v3));                                           \
        }                                                                                           \
    } while (0)
#define LOAD_FULL(ptr) _mm256_loadu_ps(ptr)
#define LOAD_TAIL(ptr) _mm256_maskload_ps(ptr, tail)

/* One row's outputs o .. o + 3, or two rows' (x1: NULL for one), each weight vector loaded once. */
__attribute__((target("avx2"))) static inline void dense4(const float *x0, const float *x1, const float *w, const float *b,
                                                          float *y0, float *y1, int o, int in, int full, __m256i tail)
{
    const float *w0 = w + (size_t)o * (size_t)in, *w1 = w0 + in, *w2 = w1 + in, *w3 = w2 + in;
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, c0 = a0, c1 = a0, c2 = a0, c3 = a0;
    int k = 0;
    for (; k < full; k += 8)
        DENSE4_STEP(LOAD_FULL);
    if (full < in)
        DENSE4_STEP(LOAD_TAIL);
    y0[o] = sum8_avx(a0) + b[o];
    y0[o + 1] = sum8_avx(a1) + b[o + 1];
    y0[o + 2] = sum8_avx(a2) + b[o + 2];
    y0[o + 3] = sum8_avx(a3) + b[o + 3];
    if (x1) {
        y1[o] = sum8_avx(c0) + b[o];
        y1[o + 1] = sum8_avx(c1) + b[o + 1];
        y1[o + 2] = sum8_avx(c2) + b[o + 2];
        y1[o + 3] = sum8_avx(c3) + b[o + 3];
    }
}

/* Two rows and four outputs at a time: each weight vector serves both rows, each row vector four outputs. */
__attribute__((target("avx2"))) void nn_dense_rows_avx2(const float *x, const float *w, const float *b, float *y,
                                                        int rows, int in, int out)
{
    const int full = in / 8 * 8;
    const __m256i tail = _mm256_cmpgt_epi32(_mm256_set1_epi32(in - full), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    for (int r = 0; r < rows; r += 2) {
        const float *x0 = x + (size_t)r * (size_t)in, *x1 = r + 1 < rows ? x0 + in : NULL;
        float *y0 = y + (size_t)r * (size_t)out, *y1 = y0 + out;
        int o = 0;
        for (; o + 4 <= out; o += 4)
            dense4(x0, x1, w, b, y0, y1, o, in, full, tail);
        for (; o < out; o++) {
            const float *wo = w + (size_t)o * (size_t)in;
            for (int i = 0; i < (x1 ? 2 : 1); i++) {
                const float *xr = i ? x1 : x0;
                __m256 a = _mm256_setzero_ps();
                for (int k = 0; k < full; k += 8)
                    a = _mm256_add_ps(a, _mm256_mul_ps(_mm256_loadu_ps(xr + k), _mm256_loadu_ps(wo + k)));
                if (full < in)
                    a = _mm256_add_ps(a, _mm256_mul_ps(_mm256_maskload_ps(xr + full, tail),
                                                       _mm256_maskload_ps(wo + full, tail)));
                (i ? y1 : y0)[o] = sum8_avx(a) + b[o];
            }
        }
    }
}

enum { WR_WIDE = 8 }; /* column vectors summed side by side, so the adds of one do not wait on another's */

/* weighted_rows, eight columns to a register while the rows go by, WR_WIDE registers at a time (one
 * running sum per register: 2.5x faster than one register at a time, and the same additions). */
__attribute__((target("avx2"))) static void weighted_rows_avx2(const float *coef, size_t stride, const float *rows, int n,
                                                               int in, float *out, int full, __m256i tail)
{
    int k = 0;
    for (; k + 8 * WR_WIDE <= full; k += 8 * WR_WIDE) {
        __m256 acc[WR_WIDE];
        for (int j = 0; j < WR_WIDE; j++)
            acc[j] = _mm256_setzero_ps();
        for (int s = 0; s < n; s++) {
            const __m256 c = _mm256_set1_ps(coef[(size_t)s * stride]);
            const float *row = rows + (size_t)s * (size_t)in + k;
            for (int j = 0; j < WR_WIDE; j++)
                acc[j] = _mm256_add_ps(acc[j], _mm256_mul_ps(c, _mm256_loadu_ps(row + 8 * j)));
        }
        for (int j = 0; j < WR_WIDE; j++)
            _mm256_storeu_ps(out + k + 8 * j, acc[j]);
    }
    for (; k < in; k += 8) {
        __m256 acc = _mm256_setzero_ps();
        if (k < full) {
            for (int s = 0; s < n; s++)
                acc = _mm256_add_ps(acc, _mm256_mul_ps(_mm256_set1_ps(coef[(size_t)s * stride]),
                                                       _mm256_loadu_ps(rows + (size_t)s * (size_t)in + k)));
            _mm256_storeu_ps(out + k, acc);
        } else {
            for (int s = 0; s < n; s++)
                acc = _mm256_add_ps(acc, _mm256_mul_ps(_mm256_set1_ps(coef[(size_t)s * stride]),
                                                       _mm256_maskload_ps(rows + (size_t)s * (size_t)in + k, tail)));
            _mm256_maskstore_ps(out + k, tail, acc);
        }
    }
}

__attribute__((target("avx2"))) void nn_dense_backward_avx2(const float *x, const float *w, const float *dy, float *dw,
                                                            float *db, float *dx, int rows, int in, int out)
{
    const int full = in / 8 * 8;
    const __m256i tail = _mm256_cmpgt_epi32(_mm256_set1_epi32(in - full), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    for (int o = 0; o < out; o++) {
        weighted_rows_avx2(dy + o, (size_t)out, x, rows, in, dw + (size_t)o * (size_t)in, full, tail);
        float bias = 0.0f;
        for (int r = 0; r < rows; r++)
            bias += dy[(size_t)r * (size_t)out + (size_t)o];
        db[o] = bias;
    }
    for (int r = 0; dx && r < rows; r++)
        weighted_rows_avx2(dy + (size_t)r * (size_t)out, 1, w, out, in, dx + (size_t)r * (size_t)in, full, tail);
}

bool nn_dense_has_avx2(void) { return __builtin_cpu_supports("avx2"); }
#else
void nn_dense_backward_avx2(const float *x, const float *w, const float *dy, float *dw, float *db, float *dx, int rows,
                            int in, int out)
{
    nn_dense_backward(x, w, dy, dw, db, dx, rows, in, out);
}

void nn_dense_rows_avx2(const float *x, const float *w, const float *b, float *y, int rows, int in, int out)
{
    nn_dense_rows(x, w, b, y, rows, in, out);
}

bool nn_dense_has_avx2(void) { return false; }
#endif

void nn_pass_forward(nn_pass *p)
{
    if (p->plain) {
        const nn_mlp *m = p->mlp;
        for (int l = 0; l < m->n_layers; l++) {
            p->dense(l == 0 ? p->input : p->out[l - 1], p->params + nn_mlp_weight_offset(m, l),
                     p->params + nn_mlp_bias_offset(m, l), p->out[l], p->batch, m->sizes[l], m->sizes[l + 1]);
            if (p->has_act[l])
                nn_act_forward(m->act, p->out[l], (size_t)p->batch * (size_t)m->sizes[l + 1]);
        }
        return;
    }
    for (int l = 0; l < p->mlp->n_layers; l++) {
        run(p->ctx, &p->fwd[l]);
        if (p->has_act[l]) {
            dnnl_stream_wait(p->ctx->stream); /* a no-op on the CPU engine; the order is what matters */
            nn_act_forward(p->mlp->act, p->out[l], (size_t)p->batch * (size_t)p->mlp->sizes[l + 1]);
        }
    }
    dnnl_stream_wait(p->ctx->stream);
}

/* out[k] = sum over s < n, in order, of coef[s * stride] * rows[s][k]: a row of dw (the rows of x
 * weighted by a column of dy) or of dx (the rows of W weighted by a row of dy). */
static void weighted_rows(const float *restrict coef, size_t stride, const float *restrict rows, int n, int in,
                          float *restrict out)
{
    const int full = in / 8 * 8;
    for (int k = 0; k < full; k += 8) {
        float acc[8] = {0};
        for (int s = 0; s < n; s++) {
            const float a = coef[(size_t)s * stride];
            const float *restrict v = rows + (size_t)s * (size_t)in + k;
            for (int j = 0; j < 8; j++)
                acc[j] += a * v[j];
        }
        for (int j = 0; j < 8; j++)
            out[k + j] = acc[j];
    }
    for (int k = full; k < in; k++) {
        float acc = 0.0f;
        for (int s = 0; s < n; s++)
            acc += coef[(size_t)s * stride] * rows[(size_t)s * (size_t)in + k];
        out[k] = acc;
    }
}

void nn_dense_backward(const float *x, const float *w, const float *dy, float *dw, float *db, float *dx, int rows,
                       int in, int out)
{
    for (int o = 0; o < out; o++) {
        weighted_rows(dy + o, (size_t)out, x, rows, in, dw + (size_t)o * (size_t)in);
        float bias = 0.0f;
        for (int r = 0; r < rows; r++)
            bias += dy[(size_t)r * (size_t)out + (size_t)o];
        db[o] = bias;
    }
    for (int r = 0; dx && r < rows; r++)
        weighted_rows(dy + (size_t)r * (size_t)out, 1, w, out, in, dx + (size_t)r * (size_t)in);
}

void nn_pass_backward(nn_pass *p, bool want_input_diff)
{
    if (p->plain) {
        const nn_mlp *m = p->mlp;
        for (int l = m->n_layers - 1; l >= 0; l--) {
            const size_t n = (size_t)p->batch * (size_t)m->sizes[l + 1];
            if (p->has_act[l])
                nn_act_backward(m->act, p->out[l], p->diff[l], n);
            p->dense_backward(l == 0 ? p->input : p->out[l - 1], p->params + nn_mlp_weight_offset(m, l), p->diff[l],
                           p->grads + nn_mlp_weight_offset(m, l), p->grads + nn_mlp_bias_offset(m, l),
                           l > 0 ? p->diff[l - 1] : want_input_diff ? p->diff_input : NULL, p->batch, m->sizes[l],
                           m->sizes[l + 1]);
        }
        return;
    }
    for (int l = p->mlp->n_layers - 1; l >= 0; l--) {
        if (p->has_act[l]) { /* diff[l] <- diff[l] * act'(out[l]) */
            dnnl_stream_wait(p->ctx->stream);
            nn_act_backward(p->mlp->act, p->out[l], p->diff[l], (size_t)p->batch * (size_t)p->mlp->sizes[l + 1]);
        }
        run(p->ctx, &p->bwd_w[l]);
        if (l > 0 || want_input_diff)
            run(p->ctx, &p->bwd_d[l]);
    }
    dnnl_stream_wait(p->ctx->stream);
}

/* Fills the (rows, cols) matrix w with a random orthogonal matrix times gain: QR of a Gaussian
 * matrix by modified Gram-Schmidt over the longer side, signs fixed by R's diagonal (as torch does). */
int nn_init_orthogonal(float *w, int rows, int cols, double gain, rng_t *rng)
{
    const bool tall = rows >= cols; /* orthonormalise the short side's vectors */
    const int nvec = tall ? cols : rows, len = tall ? rows : cols;
    double *q = malloc(sizeof(double) * (size_t)nvec * (size_t)len);
    if (!q)
        return -1;
    for (int i = 0; i < nvec * len; i++)
        q[i] = rng_normal(rng);
    for (int i = 0; i < nvec; i++) {
        double *vi = q + (size_t)i * len;
        for (int j = 0; j < i; j++) {
            const double *vj = q + (size_t)j * len;
            double dot = 0;
            for (int k = 0; k < len; k++)
                dot += vi[k] * vj[k];
            for (int k = 0; k < len; k++)
                vi[k] -= dot * vj[k];
        }
        double norm = 0;
        for (int k = 0; k < len; k++)
            norm += vi[k] * vi[k];
        norm = sqrt(norm);
        for (int k = 0; k < len; k++)
            vi[k] /= norm;
    }
    for (int r = 0; r < rows; r++)
        for (int c = 0; c < cols; c++) {
            /* tall: vectors are columns of w; wide: vectors are rows */
            double v = tall ? q[(size_t)c * len + r] : q[(size_t)r * len + c];
            w[(size_t)r * cols + c] = (float)(gain * v);
        }
    free(q);
    return 0;
}

void nn_mlp_init_orthogonal(const nn_mlp *m, float *params, double hidden_gain, double out_gain,
                            rng_t *rng)
{
    for (int l = 0; l < m->n_layers; l++) {
        double gain = l == m->n_layers - 1 ? out_gain : hidden_gain;
        (void)nn_init_orthogonal(params + nn_mlp_weight_offset(m, l), m->sizes[l + 1], m->sizes[l], gain, rng);
        memset(params + nn_mlp_bias_offset(m, l), 0, sizeof(float) * (size_t)m->sizes[l + 1]);
    }
}
