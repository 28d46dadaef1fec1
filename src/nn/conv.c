/* conv: oneDNN convolution primitives (ReLU fused as a post-op) over OIHW weights in the flat buffer,
 * reordered into the kernels' formats each call; the uint8 pixel loader; orthogonal init. */
#include "nn/conv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int nn_conv_validate(const nn_conv *c, char *err, size_t err_len)
{
    if (c->in_channels < 1 || c->in_height < 1 || c->in_width < 1) {
        snprintf(err, err_len, "conv input %dx%dx%d: every size must be positive", c->in_channels,
                 c->in_height, c->in_width);
        return -1;
    }
    if (c->n_layers < 1 || c->n_layers > NN_CONV_MAX_LAYERS) {
        snprintf(err, err_len, "a conv stack needs 1 to %d layers, got %d", NN_CONV_MAX_LAYERS, c->n_layers);
        return -1;
    }
    int h = c->in_height, w = c->in_width;
    for (int l = 0; l < c->n_layers; l++) {
        const nn_conv_layer *L = &c->layers[l];
        if (L->out_channels < 1 || L->kernel < 1 || L->stride < 1 || L->padding < 0) {
            snprintf(err, err_len, "conv layer %d: channels %d, kernel %d, stride %d, padding %d", l,
                     L->out_channels, L->kernel, L->stride, L->padding);
            return -1;
        }
        if (h + 2 * L->padding < L->kernel || w + 2 * L->padding < L->kernel) {
            snprintf(err, err_len, "conv layer %d: a %dx%d kernel does not fit its %dx%d input (padding %d)", l,
                     L->kernel, L->kernel, h, w, L->padding);
            return -1;
        }
        h = (h + 2 * L->padding - L->kernel) / L->stride + 1;
        w = (w + 2 * L->padding - L->kernel) / L->stride + 1;
    }
    return 0;
}

void nn_conv_dims(const nn_conv *c, int layer, int *channels, int *height, int *width)
{
    int ch = c->in_channels, h = c->in_height, w = c->in_width;
    for (int l = 0; l <= layer; l++) {
        const nn_conv_layer *L = &c->layers[l];
        ch = L->out_channels;
        h = (h + 2 * L->padding - L->kernel) / L->stride + 1;
        w = (w + 2 * L->padding - L->kernel) / L->stride + 1;
    }
    *channels = ch;
    *height = h;
    *width = w;
}

int nn_conv_output_size(const nn_conv *c)
{
    int ch, h, w;
    nn_conv_dims(c, c->n_layers - 1, &ch, &h, &w);
    return ch * h * w;
}

static size_t layer_weights(const nn_conv *c, int l)
{
    int in, h, w;
    nn_conv_dims(c, l - 1, &in, &h, &w);
    const nn_conv_layer *L = &c->layers[l];
    return (size_t)L->out_channels * (size_t)in * (size_t)L->kernel * (size_t)L->kernel;
}

size_t nn_conv_param_count(const nn_conv *c)
{
    size_t n = 0;
    for (int l = 0; l < c->n_layers; l++)
        n += layer_weights(c, l) + (size_t)c->layers[l].out_channels;
    return n;
}

size_t nn_conv_weight_offset(const nn_conv *c, int layer)
{
    size_t off = c->param_offset;
    for (int l = 0; l < layer; l++)
        off += layer_weights(c, l) + (size_t)c->layers[l].out_channels;
    return off;
}

size_t nn_conv_bias_offset(const nn_conv *c, int layer)
{
    return nn_conv_weight_offset(c, layer) + layer_weights(c, layer);
}

double nn_conv_macs(const nn_conv *c)
{
    double macs = 0;
    for (int l = 0; l < c->n_layers; l++) {
        int ch, h, w;
        nn_conv_dims(c, l, &ch, &h, &w);
        macs += (double)h * w * (double)layer_weights(c, l);
    }
    return macs;
}

int nn_conv_preset(nn_conv *c, const char *name, int channels, int height, int width, size_t param_offset,
                   int *dense_width, char *err, size_t err_len)
{
    memset(c, 0, sizeof *c);
    c->in_channels = channels;
    c->in_height = height;
    c->in_width = width;
    c->param_offset = param_offset;
    if (!strcmp(name, "nature")) {
        c->n_layers = 3;
        c->layers[0] = (nn_conv_layer){32, 8, 4, 0};
        c->layers[1] = (nn_conv_layer){64, 4, 2, 0};
        c->layers[2] = (nn_conv_layer){64, 3, 1, 0};
        *dense_width = 512;
    } else if (!strcmp(name, "small")) {
        c->n_layers = 2;
        c->layers[0] = (nn_conv_layer){16, 8, 4, 0};
        c->layers[1] = (nn_conv_layer){32, 4, 2, 0};
        *dense_width = 256;
    } else {
        snprintf(err, err_len, "unknown conv shape '%s' (nature, small)", name);
        return -1;
    }
    return nn_conv_validate(c, err, err_len);
}

int nn_conv_init_orthogonal(const nn_conv *c, float *params, double gain, rng_t *rng)
{
    for (int l = 0; l < c->n_layers; l++) {
        const int out = c->layers[l].out_channels;
        if (nn_init_orthogonal(params + nn_conv_weight_offset(c, l), out, (int)(layer_weights(c, l) / (size_t)out),
                               gain, rng))
            return -1;
        memset(params + nn_conv_bias_offset(c, l), 0, sizeof(float) * (size_t)out);
    }
    return 0;
}

/* ---- passes ---- */

typedef struct {
    nn_conv_pass *p;
    dnnl_primitive_attr_t attr; /* user scratchpad */
    dnnl_memory_t scratch_users[2 * NN_CONV_MAX_STEPS];
    int n_scratch_users;
    size_t scratch_size;
} builder;

static dnnl_memory_t new_mem(builder *b, const dnnl_memory_desc_t *md, void *handle)
{
    nn_conv_pass *p = b->p;
    dnnl_memory_t m = NULL;
    if (p->n_mems == (int)(sizeof p->mems / sizeof p->mems[0]) ||
        dnnl_memory_create(&m, md, nn_ctx_engine(p->ctx), handle) != dnnl_success)
        return NULL;
    p->mems[p->n_mems++] = m;
    if (handle == DNNL_MEMORY_ALLOCATE) { /* zeroed, so blocked formats' padding reads as 0 */
        void *ptr = NULL;
        dnnl_memory_get_data_handle(m, &ptr);
        memset(ptr, 0, dnnl_memory_desc_get_size(md));
    }
    return m;
}

static float *mem_ptr(dnnl_memory_t m)
{
    void *ptr = NULL;
    dnnl_memory_get_data_handle(m, &ptr);
    return ptr;
}

static const dnnl_memory_desc_t *pd_md(const_dnnl_primitive_desc_t pd, dnnl_query_t what)
{
    return dnnl_primitive_desc_query_md(pd, what, 0);
}

/* Appends a step running pd's primitive with the given (arg, memory) pairs (and a scratchpad). */
static int add_step(builder *b, nn_conv_step *list, int *n, nn_conv_step_kind kind, int layer,
                    const_dnnl_primitive_desc_t pd, int nargs, const dnnl_exec_arg_t *args)
{
    if (*n == NN_CONV_MAX_STEPS)
        return -1;
    nn_conv_step *s = &list[*n];
    memset(s, 0, sizeof *s);
    s->kind = kind;
    s->layer = layer;
    const char *impl = NULL;
    if (dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &impl) == dnnl_success && impl)
        snprintf(s->impl, sizeof s->impl, "%s", impl);
    if (dnnl_primitive_create(&s->exec.prim, pd) != dnnl_success)
        return -1;
    (*n)++; /* counted now so that destroy frees the primitive on a later failure */
    for (int i = 0; i < nargs; i++)
        s->exec.args[s->exec.nargs++] = args[i];
    const dnnl_memory_desc_t *smd = pd_md(pd, dnnl_query_scratchpad_md);
    const size_t size = smd ? dnnl_memory_desc_get_size(smd) : 0;
    if (size > 0) {
        dnnl_memory_t sm = new_mem(b, smd, DNNL_MEMORY_NONE);
        if (!sm)
            return -1;
        b->scratch_users[b->n_scratch_users++] = sm;
        if (size > b->scratch_size)
            b->scratch_size = size;
        s->exec.args[s->exec.nargs++] = (dnnl_exec_arg_t){DNNL_ARG_SCRATCHPAD, sm};
    }
    return 0;
}

static int add_reorder(builder *b, nn_conv_step *list, int *n, nn_conv_step_kind kind, int layer,
                       dnnl_memory_t from, dnnl_memory_t to)
{
    const dnnl_memory_desc_t *from_md, *to_md;
    dnnl_memory_get_memory_desc(from, &from_md);
    dnnl_memory_get_memory_desc(to, &to_md);
    dnnl_engine_t eng = nn_ctx_engine(b->p->ctx);
    dnnl_primitive_desc_t pd = NULL;
    if (dnnl_reorder_primitive_desc_create(&pd, from_md, eng, to_md, eng, b->attr) != dnnl_success)
        return -1;
    const dnnl_exec_arg_t args[2] = {{DNNL_ARG_FROM, from}, {DNNL_ARG_TO, to}};
    const int rc = add_step(b, list, n, kind, layer, pd, 2, args);
    dnnl_primitive_desc_destroy(pd);
    return rc;
}

static void add_relu_bwd(nn_conv_step *list, int *n, int layer, const float *y, float *dy, size_t count)
{
    nn_conv_step *s = &list[(*n)++];
    memset(s, 0, sizeof *s);
    s->kind = NN_CONV_STEP_RELU_BWD;
    s->layer = layer;
    s->y = y;
    s->dy = dy;
    s->n = count;
    snprintf(s->impl, sizeof s->impl, "nn_act");
}

#define TRY(call, what)                                                                            \
    do {                                                                                           \
        if ((call) != 0) {                                                                         \
            snprintf(err, err_len, "oneDNN: %s failed for conv layer %d (batch %d)", what, l, batch); \
            goto fail;                                                                             \
        }                                                                                          \
    } while (0)
#define TRY_MEM(var, expr)                                                                         \
    do {                                                                                           \
        if (!((var) = (expr))) {                                                                   \
            snprintf(err, err_len, "oneDNN: out of memory for conv layer %d (batch %d)", l, batch); \
            goto fail;                                                                             \
        }                                                                                          \
    } while (0)

int nn_conv_pass_init(nn_conv_pass *p, nn_ctx *ctx, const nn_conv *c, int batch, bool training,
                      bool want_input_diff, nn_conv_layout layout, float *params, float *grads, char *err,
                      size_t err_len)
{
    memset(p, 0, sizeof *p);
    if (nn_conv_validate(c, err, err_len))
        return -1;
    p->conv = c;
    p->ctx = ctx;
    p->batch = batch;
    p->training = training;
    p->want_input_diff = training && want_input_diff;
    p->input_nhwc = layout == NN_CONV_LAYOUT_NHWC;
    const int L = c->n_layers;
    const dnnl_format_tag_t act_tag = p->input_nhwc ? dnnl_nhwc : dnnl_format_tag_any;
    builder b = {.p = p};
    dnnl_primitive_attr_t attr_fwd = NULL;
    dnnl_post_ops_t relu = NULL;
    dnnl_primitive_desc_t fwd_pd[NN_CONV_MAX_LAYERS] = {0}, pd = NULL;
    dnnl_memory_desc_t src_md[NN_CONV_MAX_LAYERS], dst_md[NN_CONV_MAX_LAYERS];
    dnnl_memory_t src[NN_CONV_MAX_LAYERS], dst[NN_CONV_MAX_LAYERS], wk[NN_CONV_MAX_LAYERS];
    dnnl_memory_t wuser[NN_CONV_MAX_LAYERS], dact[NN_CONV_MAX_LAYERS];
    dnnl_memory_desc_t w_user_md[NN_CONV_MAX_LAYERS], w_any_md[NN_CONV_MAX_LAYERS], b_md[NN_CONV_MAX_LAYERS];
    dnnl_dims_t strides[NN_CONV_MAX_LAYERS], pads[NN_CONV_MAX_LAYERS];
    dnnl_memory_t out_mem = NULL;
    int l = -1;
    TRY(dnnl_primitive_attr_create(&b.attr), "attr");
    TRY(dnnl_primitive_attr_set_scratchpad_mode(b.attr, dnnl_scratchpad_mode_user), "scratchpad mode");
    TRY(dnnl_primitive_attr_clone(&attr_fwd, b.attr), "attr");
    TRY(dnnl_post_ops_create(&relu), "post-ops");
    TRY(dnnl_post_ops_append_eltwise(relu, 1.0f, dnnl_eltwise_relu, 0.0f, 0.0f), "relu post-op");
    TRY(dnnl_primitive_attr_set_post_ops(attr_fwd, relu), "post-ops");

    /* the input: a plain layout the first conv reads directly, so the loader writes it in place */
    TRY(dnnl_memory_desc_init_by_tag(&src_md[0], 4,
                                     (dnnl_dims_t){batch, c->in_channels, c->in_height, c->in_width}, dnnl_f32,
                                     p->input_nhwc ? dnnl_nhwc : dnnl_nchw), "input md");
    TRY_MEM(src[0], new_mem(&b, &src_md[0], DNNL_MEMORY_ALLOCATE));
    p->input = mem_ptr(src[0]);

    const dnnl_prop_kind_t prop = training ? dnnl_forward_training : dnnl_forward_inference;
    for (l = 0; l < L; l++) {
        const nn_conv_layer *cl = &c->layers[l];
        int in_c, oc, oh, ow, ih, iw;
        nn_conv_dims(c, l - 1, &in_c, &ih, &iw);
        nn_conv_dims(c, l, &oc, &oh, &ow);
        const dnnl_dims_t wdims = {oc, in_c, cl->kernel, cl->kernel};
        strides[l][0] = strides[l][1] = cl->stride;
        pads[l][0] = pads[l][1] = cl->padding;
        dnnl_memory_desc_t dst_any;
        TRY(dnnl_memory_desc_init_by_tag(&w_user_md[l], 4, wdims, dnnl_f32, dnnl_oihw), "weights md");
        TRY(dnnl_memory_desc_init_by_tag(&w_any_md[l], 4, wdims, dnnl_f32, dnnl_format_tag_any), "weights md");
        TRY(dnnl_memory_desc_init_by_tag(&b_md[l], 1, (dnnl_dims_t){oc}, dnnl_f32, dnnl_a), "bias md");
        TRY(dnnl_memory_desc_init_by_tag(&dst_any, 4, (dnnl_dims_t){batch, oc, oh, ow}, dnnl_f32, act_tag), "dst md");
        dnnl_convolution_desc_t cd;
        TRY(dnnl_convolution_forward_desc_init(&cd, prop, dnnl_convolution_direct, &src_md[l], &w_any_md[l], &b_md[l],
                                               &dst_any, strides[l], pads[l], pads[l]), "conv fwd desc");
        TRY(dnnl_primitive_desc_create(&fwd_pd[l], &cd, attr_fwd, nn_ctx_engine(ctx), NULL), "conv fwd pd");
        dst_md[l] = *pd_md(fwd_pd[l], dnnl_query_dst_md);
        const dnnl_memory_desc_t *wk_md = pd_md(fwd_pd[l], dnnl_query_weights_md);
        dnnl_memory_t bias;
        TRY_MEM(wuser[l], new_mem(&b, &w_user_md[l], params + nn_conv_weight_offset(c, l)));
        TRY_MEM(bias, new_mem(&b, &b_md[l], params + nn_conv_bias_offset(c, l)));
        TRY_MEM(dst[l], new_mem(&b, &dst_md[l], DNNL_MEMORY_ALLOCATE));
        if (dnnl_memory_desc_equal(wk_md, &w_user_md[l])) {
            wk[l] = wuser[l];
        } else {
            TRY_MEM(wk[l], new_mem(&b, wk_md, DNNL_MEMORY_ALLOCATE));
            TRY(add_reorder(&b, p->fwd, &p->n_fwd, NN_CONV_STEP_REORDER_WEIGHTS, l, wuser[l], wk[l]), "weights reorder");
        }
        const dnnl_exec_arg_t args[4] = {
            {DNNL_ARG_SRC, src[l]}, {DNNL_ARG_WEIGHTS, wk[l]}, {DNNL_ARG_BIAS, bias}, {DNNL_ARG_DST, dst[l]}};
        TRY(add_step(&b, p->fwd, &p->n_fwd, NN_CONV_STEP_CONV, l, fwd_pd[l], 4, args), "conv fwd primitive");
        if (l + 1 < L) {
            src_md[l + 1] = dst_md[l];
            src[l + 1] = dst[l];
        }
    }
    l = L - 1;
    {
        int oc, oh, ow;
        nn_conv_dims(c, l, &oc, &oh, &ow);
        dnnl_memory_desc_t out_md;
        TRY(dnnl_memory_desc_init_by_tag(&out_md, 4, (dnnl_dims_t){batch, oc, oh, ow}, dnnl_f32, dnnl_nchw), "output md");
        TRY_MEM(out_mem, new_mem(&b, &out_md, DNNL_MEMORY_ALLOCATE));
        TRY(add_reorder(&b, p->fwd, &p->n_fwd, NN_CONV_STEP_REORDER_DATA, l, dst[l], out_mem), "output reorder");
        p->output = mem_ptr(out_mem);
        if (training) {
            dnnl_memory_t out_diff;
            TRY_MEM(out_diff, new_mem(&b, &out_md, DNNL_MEMORY_ALLOCATE));
            p->output_diff = mem_ptr(out_diff);
            /* the last ReLU's derivative on the plain arrays, then into the kernels' layout */
            add_relu_bwd(p->bwd, &p->n_bwd, l, p->output, p->output_diff, (size_t)batch * (size_t)(oc * oh * ow));
            TRY_MEM(dact[l], new_mem(&b, &dst_md[l], DNNL_MEMORY_ALLOCATE));
            TRY(add_reorder(&b, p->bwd, &p->n_bwd, NN_CONV_STEP_REORDER_DATA, l, out_diff, dact[l]), "output diff reorder");
        }
    }
    for (l = L - 1; training && l >= 0; l--) {
        dnnl_convolution_desc_t cd;
        TRY(dnnl_convolution_backward_weights_desc_init(&cd, dnnl_convolution_direct, &src_md[l], &w_any_md[l], &b_md[l],
                                                        &dst_md[l], strides[l], pads[l], pads[l]), "conv bwd-weights desc");
        TRY(dnnl_primitive_desc_create(&pd, &cd, b.attr, nn_ctx_engine(ctx), fwd_pd[l]), "conv bwd-weights pd");
        const dnnl_memory_desc_t *dwk_md = pd_md(pd, dnnl_query_diff_weights_md);
        dnnl_memory_t dw_user, dbias, dwk;
        TRY_MEM(dw_user, new_mem(&b, &w_user_md[l], grads + nn_conv_weight_offset(c, l)));
        TRY_MEM(dbias, new_mem(&b, &b_md[l], grads + nn_conv_bias_offset(c, l)));
        const bool dw_direct = dnnl_memory_desc_equal(dwk_md, &w_user_md[l]);
        if (dw_direct)
            dwk = dw_user;
        else
            TRY_MEM(dwk, new_mem(&b, dwk_md, DNNL_MEMORY_ALLOCATE));
        const dnnl_exec_arg_t wargs[4] = {
            {DNNL_ARG_SRC, src[l]}, {DNNL_ARG_DIFF_DST, dact[l]}, {DNNL_ARG_DIFF_WEIGHTS, dwk}, {DNNL_ARG_DIFF_BIAS, dbias}};
        TRY(add_step(&b, p->bwd, &p->n_bwd, NN_CONV_STEP_CONV_BWD_WEIGHTS, l, pd, 4, wargs), "conv bwd-weights primitive");
        dnnl_primitive_desc_destroy(pd);
        pd = NULL;
        if (!dw_direct)
            TRY(add_reorder(&b, p->bwd, &p->n_bwd, NN_CONV_STEP_REORDER_WEIGHTS, l, dwk, dw_user), "weights diff reorder");
        if (l == 0 && !p->want_input_diff)
            break;
        /* d loss / d src: the previous layer's activation diff (in its layout), or the input diff */
        dnnl_memory_t dsrc;
        TRY_MEM(dsrc, new_mem(&b, &src_md[l], DNNL_MEMORY_ALLOCATE));
        if (l > 0)
            dact[l - 1] = dsrc;
        TRY(dnnl_convolution_backward_data_desc_init(&cd, dnnl_convolution_direct, &src_md[l], &w_any_md[l], &dst_md[l],
                                                     strides[l], pads[l], pads[l]), "conv bwd-data desc");
        TRY(dnnl_primitive_desc_create(&pd, &cd, b.attr, nn_ctx_engine(ctx), fwd_pd[l]), "conv bwd-data pd");
        const dnnl_memory_desc_t *wd_md = pd_md(pd, dnnl_query_weights_md), *wk_md;
        dnnl_memory_get_memory_desc(wk[l], &wk_md);
        dnnl_memory_t wd = wk[l]; /* the forward's reordered weights when the formats agree */
        if (!dnnl_memory_desc_equal(wd_md, wk_md)) {
            if (dnnl_memory_desc_equal(wd_md, &w_user_md[l]))
                wd = wuser[l];
            else {
                TRY_MEM(wd, new_mem(&b, wd_md, DNNL_MEMORY_ALLOCATE));
                TRY(add_reorder(&b, p->bwd, &p->n_bwd, NN_CONV_STEP_REORDER_WEIGHTS, l, wuser[l], wd), "weights reorder");
            }
        }
        const dnnl_exec_arg_t dargs[3] = {{DNNL_ARG_DIFF_DST, dact[l]}, {DNNL_ARG_WEIGHTS, wd}, {DNNL_ARG_DIFF_SRC, dsrc}};
        TRY(add_step(&b, p->bwd, &p->n_bwd, NN_CONV_STEP_CONV_BWD_DATA, l, pd, 3, dargs), "conv bwd-data primitive");
        dnnl_primitive_desc_destroy(pd);
        pd = NULL;
        if (l > 0)
            add_relu_bwd(p->bwd, &p->n_bwd, l - 1, mem_ptr(dst[l - 1]), mem_ptr(dsrc),
                         dnnl_memory_desc_get_size(&dst_md[l - 1]) / sizeof(float));
        else
            p->input_diff = mem_ptr(dsrc);
    }
    l = L - 1;
    if (b.scratch_size > 0) {
        if (posix_memalign(&p->scratch, 64, b.scratch_size)) {
            p->scratch = NULL;
            snprintf(err, err_len, "out of memory for a %zu-byte conv scratchpad", b.scratch_size);
            goto fail;
        }
        for (int i = 0; i < b.n_scratch_users; i++)
            TRY(dnnl_memory_set_data_handle(b.scratch_users[i], p->scratch), "scratchpad");
    }
    for (int i = 0; i < L; i++)
        dnnl_primitive_desc_destroy(fwd_pd[i]);
    dnnl_post_ops_destroy(relu);
    dnnl_primitive_attr_destroy(attr_fwd);
    dnnl_primitive_attr_destroy(b.attr);
    return 0;
fail:
    if (pd)
        dnnl_primitive_desc_destroy(pd);
    for (int i = 0; i < L; i++)
        if (fwd_pd[i])
            dnnl_primitive_desc_destroy(fwd_pd[i]);
    if (relu)
        dnnl_post_ops_destroy(relu);
    if (attr_fwd)
        dnnl_primitive_attr_destroy(attr_fwd);
    if (b.attr)
        dnnl_primitive_attr_destroy(b.attr);
    nn_conv_pass_destroy(p);
    return -1;
}

void nn_conv_pass_destroy(nn_conv_pass *p)
{
    for (int i = 0; i < p->n_fwd; i++)
        if (p->fwd[i].exec.prim)
            dnnl_primitive_destroy(p->fwd[i].exec.prim);
    for (int i = 0; i < p->n_bwd; i++)
        if (p->bwd[i].exec.prim)
            dnnl_primitive_destroy(p->bwd[i].exec.prim);
    for (int i = 0; i < p->n_mems; i++)
        dnnl_memory_destroy(p->mems[i]);
    free(p->scratch);
    memset(p, 0, sizeof *p);
}

void nn_conv_pass_load_u8(nn_conv_pass *p, const uint8_t *obs, const int *rows)
{
    const nn_conv *c = p->conv;
    const size_t C = (size_t)c->in_channels, HW = (size_t)c->in_height * (size_t)c->in_width, row = C * HW;
    const bool nhwc = p->input_nhwc;
    float *restrict in = p->input;
    /* x / 255 exactly as torch's obs.float() / 255 (a multiply by 1/255 differs in the last bit) */
    float lut[256];
    for (int v = 0; v < 256; v++)
        lut[v] = (float)v / 255.0f;
    /* one 96x96x3 sample is ~28k values: worth a thread from two samples on */
#pragma omp parallel for schedule(static) if (p->batch > 1)
    for (int i = 0; i < p->batch; i++) {
        const uint8_t *restrict src = obs + (size_t)(rows ? rows[i] : i) * row;
        float *restrict dst = in + (size_t)i * row;
        if (nhwc) {
            for (size_t k = 0; k < row; k++)
                dst[k] = lut[src[k]];
        } else {
            for (size_t ch = 0; ch < C; ch++)
                for (size_t k = 0; k < HW; k++)
                    dst[ch * HW + k] = lut[src[k * C + ch]];
        }
    }
}

void nn_conv_step_run(const nn_conv_pass *p, const nn_conv_step *s)
{
    if (s->kind == NN_CONV_STEP_RELU_BWD)
        nn_act_backward(NN_RELU, s->y, s->dy, s->n);
    else
        dnnl_primitive_execute(s->exec.prim, nn_ctx_stream(p->ctx), s->exec.nargs, s->exec.args);
}

/* The CPU stream runs each primitive to completion before returning, so plain C steps can follow. */
void nn_conv_pass_forward(nn_conv_pass *p)
{
    for (int i = 0; i < p->n_fwd; i++)
        nn_conv_step_run(p, &p->fwd[i]);
    dnnl_stream_wait(nn_ctx_stream(p->ctx));
}

void nn_conv_pass_backward(nn_conv_pass *p)
{
    for (int i = 0; i < p->n_bwd; i++)
        nn_conv_step_run(p, &p->bwd[i]);
    dnnl_stream_wait(nn_ctx_stream(p->ctx));
}
