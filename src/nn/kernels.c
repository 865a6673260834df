/* Which kernel table a network uses. FAST is the fastest table measured
 * (bench/bench_drunet.c) whose results are bit-identical for any thread
 * count (tests/test_nn_kernels_fast.c): Winograd on OpenBLAS for the 3D
 * 3x3x3 layers, DIRECT for the rest. DIRECT is oneDNN for conv3 with
 * OpenBLAS for the rest when built with oneDNN, else im2col + OpenBLAS. */
#include "nn/kernels.h"

const cbct_nn_kernels *cbct_nn_kernels_get(cbct_nn_kernel which)
{
    switch (which) {
    case CBCT_NN_KERNEL_REFERENCE: return &cbct_nn_kernels_reference;
    case CBCT_NN_KERNEL_FAST:
        return &cbct_nn_kernels_winograd;
    case CBCT_NN_KERNEL_DIRECT:
#ifdef CBCT_HAVE_DNNL
        return &cbct_nn_kernels_dnnl;
#else
        return &cbct_nn_kernels_gemm;
#endif
    }
    return &cbct_nn_kernels_reference;
}
