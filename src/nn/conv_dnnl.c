/* DRUNet kernels on oneDNN (when built with it): the slab plan, the ops
 * and the table. See conv_dnnl.h for the layout of the work.
 *
 * Whenever oneDNN cannot build a primitive (an old CPU, a shape it does
 * not take), the op runs the im2col + OpenBLAS kernel instead; the scratch
 * is large enough for both. oneDNN documents bit-identical results for a
 * fixed environment only, not across thread counts: its forward
 * convolutions partition outputs, and gave the same bits for 1 to 16
 * threads on Zen 4 (oneDNN 2.6, brgconv); tests/test_nn_kernels_fast.c
 * checks 1, 2 and 3 threads on every build. */
#ifdef CBCT_HAVE_DNNL
#include <string.h>

#include "nn/conv_dnnl.h"
#include "nn/conv_gemm.h"

static int64_t min64(int64_t a, int64_t b)
{
    return a < b ? a : b;
}

/* Grid slices to one input (down2) or output (up2) slice ratio. */
static int64_t slab_step(const cbct_dnnl_plan *p)
{
    return p->op == CBCT_NN_OP_CONV3 ? 1 : p->axis == 2 ? p->k_d : 2;
}

cbct_dnnl_slab cbct_dnnl_slab_get(const cbct_dnnl_plan *p, int64_t index)
{
    const int64_t g0 = index * p->thickness, g1 = min64(g0 + p->thickness, p->grid);
    const int64_t step = slab_step(p);
    cbct_dnnl_slab s = {g0, g1 - g0, g0, g1 - g0, 0, 0};
    if (p->op == CBCT_NN_OP_CONV3) { /* the halo: p slices on each side, or padding */
        const int64_t halo = p->axis == 2 ? p->k_d / 2 : 1;
        const int64_t end = min64(g1 + halo, p->in_dims[p->axis]);
        s.in_start = g0 > halo ? g0 - halo : 0;
        s.in_count = end - s.in_start;
        s.pad_l = halo - (g0 - s.in_start);
        s.pad_r = g1 + halo - end;
    } else if (p->op == CBCT_NN_OP_DOWN2) {
        s.in_start = g0 * step, s.in_count = (g1 - g0) * step;
    } else {
        s.out_start = g0 * step, s.out_count = (g1 - g0) * step;
    }
    return s;
}

static int same_shape(const cbct_dnnl_slab *a, const cbct_dnnl_slab *b)
{
    return a->in_count == b->in_count && a->out_count == b->out_count &&
           a->pad_l == b->pad_l && a->pad_r == b->pad_r;
}

const cbct_dnnl_call *cbct_dnnl_call_for(const cbct_dnnl_plan *p, const cbct_dnnl_slab *s)
{
    for (int i = 0; i < p->n_calls; i++)
        if (same_shape(&p->calls[i].shape, s))
            return &p->calls[i];
    return NULL;
}

static int64_t slab_count(const cbct_dnnl_plan *p)
{
    return (p->grid + p->thickness - 1) / p->thickness;
}

int cbct_dnnl_plan_make(cbct_dnnl_plan *p, cbct_nn_op op, const cbct_nn_tensor *in,
                        int64_t c_out, int k_d, int accumulate)
{
    memset(p, 0, sizeof *p);
    p->op = op, p->k_d = k_d, p->accumulate = accumulate;
    p->axis = k_d > 1 ? 2 : 3;
    const int64_t in_dims[5] = {in->n, in->c, in->d, in->h, in->w};
    memcpy(p->in_dims, in_dims, sizeof in_dims);
    memcpy(p->out_dims, in_dims, sizeof in_dims);
    p->out_dims[1] = c_out;
    for (int i = 2; i < 5; i++) {
        const int64_t factor = i == 2 ? k_d : 2;
        if (op == CBCT_NN_OP_DOWN2)
            p->out_dims[i] = in_dims[i] / factor;
        else if (op == CBCT_NN_OP_UP2)
            p->out_dims[i] = in_dims[i] * factor;
    }
    p->grid = op == CBCT_NN_OP_UP2 ? in_dims[p->axis] : p->out_dims[p->axis];
    /* Blocked bytes per grid slice, input and output. */
    int64_t in_plane = 4 * in_dims[1], out_plane = 4 * c_out;
    for (int i = 2; i < 5; i++)
        if (i != p->axis)
            in_plane *= in_dims[i], out_plane *= p->out_dims[i];
    const int64_t per_slice = in_plane * (op == CBCT_NN_OP_DOWN2 ? slab_step(p) : 1) +
                              out_plane * (op == CBCT_NN_OP_UP2 ? slab_step(p) : 1);
    p->thickness = CBCT_DNNL_SLAB_BYTES / per_slice;
    p->thickness = p->thickness < 1 ? 1 : min64(p->thickness, p->grid);
    if (dnnl_engine_create(&p->engine, dnnl_cpu, 0) != dnnl_success)
        return 1;
    for (int64_t i = 0; i < slab_count(p); i++) {
        const cbct_dnnl_slab s = cbct_dnnl_slab_get(p, i);
        if (cbct_dnnl_call_for(p, &s))
            continue;
        if (p->n_calls == CBCT_DNNL_MAX_SHAPES ||
            cbct_dnnl_call_make(p, &s, &p->calls[p->n_calls])) {
            cbct_dnnl_plan_release(p);
            return 1;
        }
        p->n_calls++;
    }
    return 0;
}

void cbct_dnnl_plan_release(cbct_dnnl_plan *p)
{
    for (int i = 0; i < p->n_calls; i++)
        cbct_dnnl_call_release(&p->calls[i]);
    p->n_calls = 0;
    if (p->engine)
        dnnl_engine_destroy(p->engine);
    p->engine = NULL;
}

size_t cbct_dnnl_plan_scratch(const cbct_dnnl_plan *p)
{
    size_t weights = 0, src = 0, dst = 0, pad = 0;
    for (int i = 0; i < p->n_calls; i++) {
        const cbct_dnnl_call *c = &p->calls[i];
        weights = c->weights_bytes > weights ? c->weights_bytes : weights;
        src = c->src_bytes > src ? c->src_bytes : src;
        dst = c->dst_bytes > dst ? c->dst_bytes : dst;
        pad = c->pad_bytes > pad ? c->pad_bytes : pad;
    }
    return weights + src + dst + pad;
}
#endif
