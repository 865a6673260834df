/* Internal to the oneDNN kernels (src/nn/conv_dnnl*.c), built when CMake
 * finds oneDNN (CBCT_DNNL=ON, defines CBCT_HAVE_DNNL).
 *
 * oneDNN's fast convolutions (brgconv) want channel-blocked layouts, and our
 * tensors are plain (n, c, d, h, w). Each op therefore runs on slabs: for
 * one sample and a few slices of the output (slices along d in 3D, rows
 * along h in 2D), the input slices it needs are reordered to oneDNN's
 * layout, convolved, and reordered back (adding to the output when
 * accumulating). The slabs keep the blocked copies, which live in the
 * caller's scratch, near CBCT_DNNL_SLAB_BYTES instead of the size of
 * whole activations. The cut depends on the shapes only. */
#ifndef CBCT_NN_CONV_DNNL_H
#define CBCT_NN_CONV_DNNL_H

#include <oneapi/dnnl/dnnl.h>

#include "nn/kernels.h"

/* Blocked input + output of one slab, about (at least one grid slice):
 * big enough that reordering the halo slices of a 3x3x3 convolution costs
 * a few percent, small next to one DRUNet activation (64 channels of
 * 16 x 128 x 128 are 64 MiB). */
#define CBCT_DNNL_SLAB_BYTES ((int64_t)32 << 20)
/* Distinct slab shapes of one op: first, middle, last, short last. */
#define CBCT_DNNL_MAX_SHAPES 4

/* Where a slab lies along the slab axis. `grid` is the output for conv3
 * and down2, the input for up2. */
typedef struct {
    int64_t in_start, in_count, out_start, out_count;
    int64_t pad_l, pad_r; /* zero padding on the slab axis */
} cbct_dnnl_slab;

/* The primitives of one slab shape and the bytes of their buffers. */
typedef struct {
    cbct_dnnl_slab shape; /* starts ignored: the key of this call */
    dnnl_primitive_t to_src, to_weights, compute, from_dst;
    dnnl_memory_desc_t src_plain, dst_plain, weights_plain;
    dnnl_memory_desc_t src, dst, weights; /* oneDNN's chosen layouts */
    size_t src_bytes, dst_bytes, weights_bytes, pad_bytes;
} cbct_dnnl_call;

/* One op on one pair of tensors. */
typedef struct {
    cbct_nn_op op;
    int k_d, axis;          /* axis: 2 (d) for 3D kernels, 3 (h) for 2D */
    int accumulate;
    int64_t in_dims[5], out_dims[5];
    int64_t grid, thickness; /* grid slices on the slab axis, per slab */
    dnnl_engine_t engine;
    int n_calls;
    cbct_dnnl_call calls[CBCT_DNNL_MAX_SHAPES];
} cbct_dnnl_plan;

/* Builds the primitives of every slab shape; 0 on success. On failure the
 * plan holds nothing (already released). */
int cbct_dnnl_plan_make(cbct_dnnl_plan *plan, cbct_nn_op op, const cbct_nn_tensor *in,
                        int64_t c_out, int k_d, int accumulate);
void cbct_dnnl_plan_release(cbct_dnnl_plan *plan);
cbct_dnnl_slab cbct_dnnl_slab_get(const cbct_dnnl_plan *plan, int64_t index);
/* The call of the slab's shape; NULL if the plan has none. */
const cbct_dnnl_call *cbct_dnnl_call_for(const cbct_dnnl_plan *plan, const cbct_dnnl_slab *slab);
/* Scratch of the plan: the largest of each buffer over its calls. */
size_t cbct_dnnl_plan_scratch(const cbct_dnnl_plan *plan);

/* Creates the primitives of one slab shape; 0 on success. */
int cbct_dnnl_call_make(const cbct_dnnl_plan *plan, const cbct_dnnl_slab *slab,
                        cbct_dnnl_call *call);
void cbct_dnnl_call_release(cbct_dnnl_call *call);

#endif
