/* The convolution kernels of DRUNet behind one table of function pointers
 * (as ggml's backends), so that faster implementations (im2col + BLAS,
 * oneDNN, CUDA) plug in without touching the network code.
 *
 * Shapes. 3D networks: convolutions 3x3x3 (k_d = 3, zero padding 1 on every
 * side), down- and up-sampling 2x2x2 with stride 2 (k_d = 2). 2D networks
 * run the same kernels with d = 1 and k_d = 1 (3x3 and 2x2 kernels, stride 1
 * along d). Weights are in PyTorch's layouts:
 *   convolution            (c_out, c_in, k_d, kh, kw)
 *   transposed convolution (c_in, c_out, k_d, kh, kw)   <- in before out.
 *
 * Contract for every implementation:
 *   - out is allocated by the caller with the right shape, never aliases in;
 *   - results are bit-identical for any number of threads (partition the
 *     outputs, never split a sum between threads);
 *   - scratch holds scratch_bytes(...) bytes (from the tracked allocator,
 *     counted in the peak model); NULL when that is 0. */
#ifndef CBCT_NN_KERNELS_H
#define CBCT_NN_KERNELS_H

#include "cbct/denoiser.h"
#include "nn/tensor.h"

typedef enum {
    CBCT_NN_OP_CONV3 = 0, /* 3x3(x3), stride 1, zero padding 1 */
    CBCT_NN_OP_DOWN2,     /* 2x2(x2), stride 2, no padding */
    CBCT_NN_OP_UP2        /* transposed 2x2(x2), stride 2 */
} cbct_nn_op;

typedef struct cbct_nn_kernels {
    const char *name;
    /* out = conv(in), or out += conv(in) when `accumulate` (the residual
     * add of a ResBlock done in place). out: (n, c_out, d, h, w). */
    void (*conv3)(const cbct_nn_tensor *in, const float *weight, int k_d, cbct_nn_tensor *out,
                  int accumulate, float *scratch);
    /* out (n, c_out, d / k_d, h / 2, w / 2) = strided conv(in). */
    void (*down2)(const cbct_nn_tensor *in, const float *weight, int k_d, cbct_nn_tensor *out,
                  float *scratch);
    /* out (n, c_out, d * k_d, h * 2, w * 2) = transposed conv(in). */
    void (*up2)(const cbct_nn_tensor *in, const float *weight, int k_d, cbct_nn_tensor *out,
                float *scratch);
    void (*relu)(cbct_nn_tensor *x);                        /* x = max(x, 0) */
    void (*add)(cbct_nn_tensor *x, const cbct_nn_tensor *y); /* x += y */
    /* Bytes of scratch that `op` needs for this input and c_out. */
    size_t (*scratch_bytes)(cbct_nn_op op, const cbct_nn_tensor *in, int64_t c_out, int k_d);
    /* Optional (NULL in tables without it; Winograd has it): conv3 of some
     * slices, for the layers where slices_apply() says so, with weights
     * prepared once by prepare_weights (prepared_floats floats); lets a
     * ResBlock run slab by slab (src/nn/drunet_forward.c). `in` holds
     * slices [in_z0, in_z0 + in->d) of a volume `depth` slices deep (zero
     * padding outside [0, depth) only; every other slice that output slices
     * [z_begin, z_end) need must be in `in`), `out` holds slices [out_z0,
     * out_z0 + out->d); output slices [z_begin, z_end) are written (added,
     * when `accumulate`). z_begin must be even: the values are then
     * bit-identical to the whole-tensor conv3's. Scratch: scratch_bytes of
     * the whole volume's shape (enough for any part). */
    void (*conv3_slices)(const cbct_nn_tensor *in, int64_t in_z0, int64_t depth,
                         const float *prepared, cbct_nn_tensor *out, int64_t out_z0,
                         int64_t z_begin, int64_t z_end, int accumulate, float *scratch);
    int (*slices_apply)(const cbct_nn_tensor *in, int64_t c_out, int k_d);
    size_t (*prepared_floats)(int64_t c_in, int64_t c_out);
    void (*prepare_weights)(const float *weight, int64_t c_in, int64_t c_out, float *prepared);
} cbct_nn_kernels;

/* The element-wise ops every table shares (src/nn/elementwise.c): memory
 * bound, each element independent, so any split between threads is exact. */
void cbct_nn_relu(cbct_nn_tensor *x);                        /* x = max(x, 0) */
void cbct_nn_add(cbct_nn_tensor *x, const cbct_nn_tensor *y); /* x += y */
/* x = max(x, 0) on slices [z0, z1) of every sample and channel. */
void cbct_nn_relu_slices(cbct_nn_tensor *x, int64_t z0, int64_t z1);

/* conv3 to one output channel, rows summed directly (src/nn/conv_single.c):
 * the FAST table's tail layer. Scratch: a block of 8 rows of floats per
 * processor (cbct_nn_conv3_to_one_scratch_bytes). */
void cbct_nn_conv3_to_one(const cbct_nn_tensor *in, const float *weight, int k_d,
                          cbct_nn_tensor *out, int accumulate, float *scratch);
size_t cbct_nn_conv3_to_one_scratch_bytes(const cbct_nn_tensor *in);

/* The table for a choice; CBCT_NN_KERNEL_FAST is the fastest available. */
const cbct_nn_kernels *cbct_nn_kernels_get(cbct_nn_kernel which);

/* The plain loops (src/nn/conv_ref.c), the yardstick of the tests. */
extern const cbct_nn_kernels cbct_nn_kernels_reference;
/* im2col + single-threaded OpenBLAS sgemm per task, tasks in parallel
 * (src/nn/conv_gemm*.c): the DIRECT choice without oneDNN. */
extern const cbct_nn_kernels cbct_nn_kernels_gemm;
/* conv3 by Winograd F(2x4x4, 3x3x3) on OpenBLAS (src/nn/conv_winograd.c)
 * where it applies and is faster (3D, 16 x 16 to 128 x 128 channel pairs),
 * cbct_nn_conv3_to_one for one output channel, the DIRECT table (oneDNN or
 * im2col) for the rest. */
extern const cbct_nn_kernels cbct_nn_kernels_winograd;
#ifdef CBCT_HAVE_DNNL
/* Built with -DCBCT_DNNL=ON (src/nn/conv_dnnl*.c): conv3 on oneDNN over
 * channel-blocked slabs, down2 and up2 on the gemm kernels, which are
 * faster there: the DIRECT choice. `_all` runs every op on oneDNN (for the
 * benchmark and the tests). Both fall back to the gemm kernels where
 * oneDNN cannot build a primitive. */
extern const cbct_nn_kernels cbct_nn_kernels_dnnl;
extern const cbct_nn_kernels cbct_nn_kernels_dnnl_all;
#endif

#endif
