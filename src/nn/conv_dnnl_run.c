/* Execution of a oneDNN plan (conv_dnnl.h) and the kernel table: for each
 * sample and slab, reorder the input slices, convolve, reorder back. The
 * scratch holds, in this order, the blocked weights, input slab, output
 * slab and the primitives' scratchpad. */
#ifdef CBCT_HAVE_DNNL
#include <omp.h>

#include "nn/conv_dnnl.h"
#include "nn/conv_gemm.h"

/* Enough for oneDNN with or without accumulation on `threads` threads
 * (its scratchpad grows with them), and for the fallback. Plans read the
 * thread count from OpenMP, which is set here for the call's duration. */
static size_t scratch_for(cbct_nn_op op, const cbct_nn_tensor *in, int64_t c_out, int k_d,
                          int threads)
{
    const int saved = omp_get_max_threads();
    omp_set_num_threads(threads);
    size_t bytes = cbct_nn_kernels_gemm.scratch_bytes(op, in, c_out, k_d);
    for (int accumulate = 0; accumulate <= (op == CBCT_NN_OP_CONV3); accumulate++) {
        cbct_dnnl_plan plan;
        if (cbct_dnnl_plan_make(&plan, op, in, c_out, k_d, accumulate))
            continue;
        size_t plan_bytes = cbct_dnnl_plan_scratch(&plan);
        bytes = plan_bytes > bytes ? plan_bytes : bytes;
        cbct_dnnl_plan_release(&plan);
    }
    omp_set_num_threads(saved);
    return bytes;
}

/* Sized for one thread per processor, so that the caller may change the
 * thread count after sizing (run() uses at most that many). */
static size_t scratch_dnnl(cbct_nn_op op, const cbct_nn_tensor *in, int64_t c_out, int k_d)
{
    return scratch_for(op, in, c_out, k_d, omp_get_num_procs());
}

typedef struct {
    dnnl_stream_t stream;
    dnnl_memory_t pad; /* the scratchpad, shared by every primitive */
} exec_state;

static int exec(exec_state *e, dnnl_primitive_t prim, int n_args, dnnl_exec_arg_t *args)
{
    args[n_args] = (dnnl_exec_arg_t){DNNL_ARG_SCRATCHPAD, e->pad};
    return dnnl_primitive_execute(prim, e->stream, n_args + 1, args) != dnnl_success;
}

/* from -> to through `prim`; both wrap caller memory. */
static int reorder(exec_state *e, dnnl_primitive_t prim, const cbct_dnnl_plan *p,
                   const dnnl_memory_desc_t *from_md, const void *from,
                   const dnnl_memory_desc_t *to_md, void *to)
{
    dnnl_memory_t a = NULL, b = NULL;
    int failed = dnnl_memory_create(&a, from_md, p->engine, (void *)from) != dnnl_success ||
                 dnnl_memory_create(&b, to_md, p->engine, to) != dnnl_success;
    if (!failed) {
        dnnl_exec_arg_t args[3] = {{DNNL_ARG_FROM, a}, {DNNL_ARG_TO, b}};
        failed = exec(e, prim, 2, args);
    }
    dnnl_memory_destroy(a);
    dnnl_memory_destroy(b);
    return failed;
}

static int compute(exec_state *e, const cbct_dnnl_plan *p, const cbct_dnnl_call *c, char *src,
                   char *weights, char *dst)
{
    dnnl_memory_t m[3] = {NULL, NULL, NULL};
    int failed = dnnl_memory_create(&m[0], &c->src, p->engine, src) != dnnl_success ||
                 dnnl_memory_create(&m[1], &c->weights, p->engine, weights) != dnnl_success ||
                 dnnl_memory_create(&m[2], &c->dst, p->engine, dst) != dnnl_success;
    if (!failed) {
        dnnl_exec_arg_t args[4] = {
            {DNNL_ARG_SRC, m[0]}, {DNNL_ARG_WEIGHTS, m[1]}, {DNNL_ARG_DST, m[2]}};
        failed = exec(e, c->compute, 3, args);
    }
    for (int i = 0; i < 3; i++)
        dnnl_memory_destroy(m[i]);
    return failed;
}

static int run_slabs(exec_state *e, const cbct_dnnl_plan *p, const float *in,
                     const float *weight, float *out, char *scratch)
{
    size_t weights_bytes = 0, src_bytes = 0;
    for (int i = 0; i < p->n_calls; i++) {
        weights_bytes = p->calls[i].weights_bytes > weights_bytes ? p->calls[i].weights_bytes
                                                                  : weights_bytes;
        src_bytes = p->calls[i].src_bytes > src_bytes ? p->calls[i].src_bytes : src_bytes;
    }
    char *weights = scratch, *src = scratch + weights_bytes, *dst = src + src_bytes;
    int64_t in_slice = 1, out_slice = 1; /* floats per slice on the slab axis */
    for (int i = p->axis + 1; i < 5; i++)
        in_slice *= p->in_dims[i], out_slice *= p->out_dims[i];
    const int64_t in_sample = in_slice * p->in_dims[1] * p->in_dims[p->axis];
    const int64_t out_sample = out_slice * p->out_dims[1] * p->out_dims[p->axis];
    const int64_t slabs = (p->grid + p->thickness - 1) / p->thickness;
    const cbct_dnnl_call *loaded = NULL; /* whose weight layout `weights` holds */
    for (int64_t b = 0; b < p->in_dims[0]; b++) {
        for (int64_t i = 0; i < slabs; i++) {
            const cbct_dnnl_slab s = cbct_dnnl_slab_get(p, i);
            const cbct_dnnl_call *c = cbct_dnnl_call_for(p, &s);
            if (!c)
                return 1;
            if (!loaded || !dnnl_memory_desc_equal(&loaded->weights, &c->weights)) {
                if (reorder(e, c->to_weights, p, &c->weights_plain, weight, &c->weights, weights))
                    return 1;
                loaded = c;
            }
            const float *in_slab = in + b * in_sample + s.in_start * in_slice;
            float *out_slab = out + b * out_sample + s.out_start * out_slice;
            if (reorder(e, c->to_src, p, &c->src_plain, in_slab, &c->src, src) ||
                compute(e, p, c, src, weights, dst) ||
                reorder(e, c->from_dst, p, &c->dst, dst, &c->dst_plain, out_slab))
                return 1;
        }
    }
    return 0;
}

/* 0 when oneDNN did the op; otherwise nothing was written... */
static int run_planned(cbct_nn_op op, const cbct_nn_tensor *in, const float *weight, int k_d,
                       cbct_nn_tensor *out, int accumulate, float *scratch)
{
    cbct_dnnl_plan plan;
    if (cbct_dnnl_plan_make(&plan, op, in, out->c, k_d, accumulate))
        return 1;
    size_t plan_bytes = cbct_dnnl_plan_scratch(&plan), pad_bytes = 0;
    if (omp_get_max_threads() < omp_get_num_procs() &&
        plan_bytes > scratch_for(op, in, out->c, k_d, omp_get_num_procs())) {
        cbct_dnnl_plan_release(&plan); /* more than the caller has: never seen */
        return 1;
    }
    for (int i = 0; i < plan.n_calls; i++)
        pad_bytes = plan.calls[i].pad_bytes > pad_bytes ? plan.calls[i].pad_bytes : pad_bytes;
    char *pad = (char *)scratch + plan_bytes - pad_bytes;
    dnnl_memory_desc_t pad_md;
    const dnnl_dims_t pad_dims = {pad_bytes > 0 ? (int64_t)pad_bytes : 1};
    exec_state e = {NULL, NULL};
    int failed = dnnl_memory_desc_init_by_tag(&pad_md, 1, pad_dims, dnnl_u8, dnnl_a) ||
                 dnnl_stream_create(&e.stream, plan.engine, dnnl_stream_default_flags) ||
                 dnnl_memory_create(&e.pad, &pad_md, plan.engine, pad);
    /* ...or, if oneDNN fails while executing, possibly part of it: not
     * seen with primitives that exist and a scratchpad that is ours. */
    if (!failed)
        failed = run_slabs(&e, &plan, in->data, weight, out->data, (char *)scratch) ||
                 dnnl_stream_wait(e.stream) != dnnl_success;
    dnnl_memory_destroy(e.pad);
    if (e.stream)
        dnnl_stream_destroy(e.stream);
    cbct_dnnl_plan_release(&plan);
    return failed;
}

/* More threads than processors only slow oneDNN down, and its scratchpad
 * was sized for one per processor. */
static int run(cbct_nn_op op, const cbct_nn_tensor *in, const float *weight, int k_d,
               cbct_nn_tensor *out, int accumulate, float *scratch)
{
    const int saved = omp_get_max_threads();
    if (saved > omp_get_num_procs())
        omp_set_num_threads(omp_get_num_procs());
    int failed = run_planned(op, in, weight, k_d, out, accumulate, scratch);
    omp_set_num_threads(saved);
    return failed;
}

static void conv3_dnnl(const cbct_nn_tensor *in, const float *weight, int k_d,
                       cbct_nn_tensor *out, int accumulate, float *scratch)
{
    if (run(CBCT_NN_OP_CONV3, in, weight, k_d, out, accumulate, scratch))
        cbct_gemm_conv3(in, weight, k_d, out, accumulate, scratch);
}

static void down2_dnnl(const cbct_nn_tensor *in, const float *weight, int k_d,
                       cbct_nn_tensor *out, float *scratch)
{
    if (run(CBCT_NN_OP_DOWN2, in, weight, k_d, out, 0, scratch))
        cbct_gemm_down2(in, weight, k_d, out, scratch);
}

static void up2_dnnl(const cbct_nn_tensor *in, const float *weight, int k_d,
                     cbct_nn_tensor *out, float *scratch)
{
    if (run(CBCT_NN_OP_UP2, in, weight, k_d, out, 0, scratch))
        cbct_gemm_up2(in, weight, k_d, out, scratch);
}


/* oneDNN where it wins, OpenBLAS elsewhere. Measured on Zen 4 (bench/
 * bench_drunet.c, 2 threads): conv3 64->64 on 8x128x128 213 GFLOP/s
 * against 162 for im2col + OpenBLAS; down2 128 against 163, up2 109
 * against 165 (oneDNN's strided kernels are not brgemm-based in 2.6). */
static size_t scratch_mixed(cbct_nn_op op, const cbct_nn_tensor *in, int64_t c_out, int k_d)
{
    return op == CBCT_NN_OP_CONV3 ? scratch_dnnl(op, in, c_out, k_d)
                                  : cbct_nn_kernels_gemm.scratch_bytes(op, in, c_out, k_d);
}

const cbct_nn_kernels cbct_nn_kernels_dnnl = {
    .name = "onednn+openblas",
    .conv3 = conv3_dnnl,
    .down2 = cbct_gemm_down2,
    .up2 = cbct_gemm_up2,
    .relu = cbct_nn_relu,
    .add = cbct_nn_add,
    .scratch_bytes = scratch_mixed,
};

const cbct_nn_kernels cbct_nn_kernels_dnnl_all = {
    .name = "onednn",
    .conv3 = conv3_dnnl,
    .down2 = down2_dnnl,
    .up2 = up2_dnnl,
    .relu = cbct_nn_relu,
    .add = cbct_nn_add,
    .scratch_bytes = scratch_dnnl,
};
#endif
