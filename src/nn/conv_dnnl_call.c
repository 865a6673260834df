/* The oneDNN primitives of one slab shape (see conv_dnnl.h): reorders of
 * the plain input slices and weights to the layouts oneDNN picks, the
 * convolution (or transposed convolution), and the reorder back to the
 * plain output, with a sum post-op when the op accumulates. Every
 * primitive uses the caller's scratch as its scratchpad (user mode), so
 * that oneDNN allocates nothing behind the tracked allocator's back.
 * oneDNN's primitive cache makes the second creation of a shape cheap. */
#ifdef CBCT_HAVE_DNNL
#include <string.h>

#include "nn/conv_dnnl.h"

static size_t round64(size_t bytes)
{
    return (bytes + 63) / 64 * 64; /* every buffer starts on a cache line */
}

/* `count` slices (along `axis`) of one sample of a plain tensor of
 * `full` dims, with the tensor's own strides. */
static int plain_view(dnnl_memory_desc_t *md, const int64_t full[5], int axis, int64_t count)
{
    dnnl_dims_t dims = {1, full[1], full[2], full[3], full[4]}, strides;
    dims[axis] = count;
    strides[4] = 1;
    for (int i = 3; i >= 0; i--)
        strides[i] = strides[i + 1] * full[i + 1];
    return dnnl_memory_desc_init_by_strides(md, 5, dims, dnnl_f32, strides) != dnnl_success;
}

static int any_layout(dnnl_memory_desc_t *md, const dnnl_memory_desc_t *like)
{
    return dnnl_memory_desc_init_by_tag(md, 5, like->dims, dnnl_f32, dnnl_format_tag_any) !=
           dnnl_success;
}

/* Creates `prim` from `pd` (then destroyed) and widens *pad_bytes to its
 * scratchpad. */
static int create(dnnl_primitive_t *prim, dnnl_primitive_desc_t pd, size_t *pad_bytes)
{
    const dnnl_memory_desc_t *pad = dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0);
    size_t bytes = pad ? round64(dnnl_memory_desc_get_size(pad)) : 0;
    *pad_bytes = bytes > *pad_bytes ? bytes : *pad_bytes;
    dnnl_status_t status = dnnl_primitive_create(prim, pd);
    dnnl_primitive_desc_destroy(pd);
    return status != dnnl_success;
}

static int reorder(dnnl_primitive_t *prim, const dnnl_memory_desc_t *from,
                   const dnnl_memory_desc_t *to, dnnl_engine_t engine,
                   const_dnnl_primitive_attr_t attr, size_t *pad_bytes)
{
    dnnl_primitive_desc_t pd;
    if (dnnl_reorder_primitive_desc_create(&pd, from, engine, to, engine, attr) != dnnl_success)
        return 1;
    return create(prim, pd, pad_bytes);
}

/* The convolution's descriptor with oneDNN free to choose the layouts. */
static int compute_pd(const cbct_dnnl_plan *p, const cbct_dnnl_slab *s, cbct_dnnl_call *c,
                      const_dnnl_primitive_attr_t attr, dnnl_primitive_desc_t *pd)
{
    dnnl_memory_desc_t src, dst, weights;
    if (any_layout(&src, &c->src_plain) || any_layout(&dst, &c->dst_plain) ||
        any_layout(&weights, &c->weights_plain))
        return 1;
    const int conv3 = p->op == CBCT_NN_OP_CONV3, slab_dim = p->axis - 2; /* in (d, h, w) */
    dnnl_dims_t strides = {1, 1, 1}, pad_l = {0, 0, 0}, pad_r = {0, 0, 0};
    if (conv3) {
        pad_l[0] = pad_r[0] = p->k_d / 2, pad_l[1] = pad_r[1] = pad_l[2] = pad_r[2] = 1;
    } else {
        strides[0] = p->k_d, strides[1] = strides[2] = 2;
    }
    pad_l[slab_dim] = s->pad_l, pad_r[slab_dim] = s->pad_r;
    dnnl_status_t status;
    if (p->op == CBCT_NN_OP_UP2) {
        dnnl_deconvolution_desc_t desc;
        status = dnnl_deconvolution_forward_desc_init(&desc, dnnl_forward_inference,
                                                      dnnl_deconvolution_direct, &src, &weights,
                                                      NULL, &dst, strides, pad_l, pad_r);
        if (status == dnnl_success)
            status = dnnl_primitive_desc_create(pd, &desc, attr, p->engine, NULL);
    } else {
        dnnl_convolution_desc_t desc;
        status = dnnl_convolution_forward_desc_init(&desc, dnnl_forward_inference,
                                                    dnnl_convolution_direct, &src, &weights,
                                                    NULL, &dst, strides, pad_l, pad_r);
        if (status == dnnl_success)
            status = dnnl_primitive_desc_create(pd, &desc, attr, p->engine, NULL);
    }
    return status != dnnl_success;
}

static int make(const cbct_dnnl_plan *p, cbct_dnnl_call *c, dnnl_primitive_attr_t plain,
                dnnl_primitive_attr_t out_attr)
{
    const int64_t c_in = p->in_dims[1], c_out = p->out_dims[1];
    const int conv3 = p->op == CBCT_NN_OP_CONV3;
    /* PyTorch's layouts: (out, in, k...) and, transposed, (in, out, k...). */
    dnnl_dims_t weight_dims = {c_out, c_in, p->k_d, conv3 ? 3 : 2, conv3 ? 3 : 2};
    if (plain_view(&c->src_plain, p->in_dims, p->axis, c->shape.in_count) ||
        plain_view(&c->dst_plain, p->out_dims, p->axis, c->shape.out_count) ||
        dnnl_memory_desc_init_by_tag(&c->weights_plain, 5, weight_dims, dnnl_f32,
                                     p->op == CBCT_NN_OP_UP2 ? dnnl_iodhw : dnnl_oidhw))
        return 1;
    dnnl_primitive_desc_t pd;
    if (compute_pd(p, &c->shape, c, plain, &pd))
        return 1;
    c->src = *dnnl_primitive_desc_query_md(pd, dnnl_query_src_md, 0);
    c->dst = *dnnl_primitive_desc_query_md(pd, dnnl_query_dst_md, 0);
    c->weights = *dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0);
    c->src_bytes = round64(dnnl_memory_desc_get_size(&c->src));
    c->dst_bytes = round64(dnnl_memory_desc_get_size(&c->dst));
    c->weights_bytes = round64(dnnl_memory_desc_get_size(&c->weights));
    if (create(&c->compute, pd, &c->pad_bytes))
        return 1;
    return reorder(&c->to_src, &c->src_plain, &c->src, p->engine, plain, &c->pad_bytes) ||
           reorder(&c->to_weights, &c->weights_plain, &c->weights, p->engine, plain,
                   &c->pad_bytes) ||
           reorder(&c->from_dst, &c->dst, &c->dst_plain, p->engine, out_attr, &c->pad_bytes);
}

int cbct_dnnl_call_make(const cbct_dnnl_plan *plan, const cbct_dnnl_slab *slab,
                        cbct_dnnl_call *call)
{
    memset(call, 0, sizeof *call);
    call->shape = *slab;
    dnnl_primitive_attr_t plain = NULL, out_attr = NULL;
    dnnl_post_ops_t sum = NULL;
    int failed = dnnl_primitive_attr_create(&plain) != dnnl_success ||
                 dnnl_primitive_attr_set_scratchpad_mode(plain, dnnl_scratchpad_mode_user) ||
                 dnnl_primitive_attr_clone(&out_attr, plain) != dnnl_success;
    /* out += conv(in): the reorder back adds to what the output holds. */
    if (!failed && plan->accumulate)
        failed = dnnl_post_ops_create(&sum) != dnnl_success ||
                 dnnl_post_ops_append_sum(sum, 1.0f) != dnnl_success ||
                 dnnl_primitive_attr_set_post_ops(out_attr, sum) != dnnl_success;
    if (!failed)
        failed = make(plan, call, plain, out_attr);
    dnnl_post_ops_destroy(sum);
    dnnl_primitive_attr_destroy(out_attr);
    dnnl_primitive_attr_destroy(plain);
    if (failed)
        cbct_dnnl_call_release(call);
    return failed;
}

void cbct_dnnl_call_release(cbct_dnnl_call *call)
{
    dnnl_primitive_t *prims[] = {&call->to_src, &call->to_weights, &call->compute,
                                 &call->from_dst};
    for (int i = 0; i < 4; i++) {
        if (*prims[i])
            dnnl_primitive_destroy(*prims[i]);
        *prims[i] = NULL;
    }
}
#endif
