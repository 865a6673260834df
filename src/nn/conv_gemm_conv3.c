/* 3x3(x3) convolution, stride 1, zero padding 1, as GEMMs: for one block of
 * output rows, im2col gathers the receptive field of every output position
 * (a column of input channels x taps), and
 *     tile (c_out x positions) = weight (c_out x c_in taps) * col,
 * summed over chunks of input channels so that col stays about 1.7 MiB.
 * PyTorch's weight layout (c_out, c_in, k_d, 3, 3) is already the GEMM's A
 * in row-major order: no reordering of the weights. */
#include <string.h>

#include "nn/conv_gemm.h"

/* col row (ic, kz, ky, kx) holds, for each position (y, x) of the block,
 * the input voxel (z + kz - pad_d, y + ky - 1, x + kx - 1) of channel
 * ic0 + ic, zero outside the volume. */
static void im2col3(const cbct_nn_tensor *in, const cbct_gemm_task *t, int k_d,
                    int64_t w_out, int64_t ic0, int64_t channels, float *restrict col)
{
    (void)w_out; /* the same as in->w: stride 1 */
    const int64_t d = in->d, h = in->h, w = in->w, positions = t->columns;
    const int pad_d = k_d / 2;
    const size_t row_bytes = (size_t)w * sizeof(float);
    for (int64_t ic = 0; ic < channels; ic++) {
        const float *plane = cbct_nn_channel(in, t->b, ic0 + ic);
        for (int kz = 0; kz < k_d; kz++) {
            const int64_t zz = t->z + kz - pad_d;
            for (int ky = 0; ky < 3; ky++) {
                float *kx0 = col + ((ic * k_d + kz) * 3 + ky) * 3 * positions;
                for (int64_t r = 0; r < t->rows; r++) {
                    const int64_t yy = t->y0 + r + ky - 1;
                    float *d0 = kx0 + r * w, *d1 = d0 + positions, *d2 = d1 + positions;
                    if (zz < 0 || zz >= d || yy < 0 || yy >= h) {
                        memset(d0, 0, row_bytes);
                        memset(d1, 0, row_bytes);
                        memset(d2, 0, row_bytes);
                        continue;
                    }
                    const float *src = plane + (zz * h + yy) * w;
                    d0[0] = 0.0f;
                    memcpy(d0 + 1, src, row_bytes - sizeof(float));
                    memcpy(d1, src, row_bytes);
                    memcpy(d2, src + 1, row_bytes - sizeof(float));
                    d2[w - 1] = 0.0f;
                }
            }
        }
    }
}

size_t cbct_gemm_conv3_scratch_floats(const cbct_nn_tensor *in, int64_t c_out, int k_d)
{
    const cbct_gemm_plan plan = cbct_gemm_plan_make(in->n, in->d, in->h, in->w, c_out);
    return cbct_gemm_im2col_scratch_floats(&plan, in->c, (int64_t)k_d * 9);
}

void cbct_gemm_conv3(const cbct_nn_tensor *in, const float *weight, int k_d,
                     cbct_nn_tensor *out, int accumulate, float *scratch)
{
    const cbct_gemm_plan plan = cbct_gemm_plan_make(out->n, out->d, out->h, out->w, out->c);
    cbct_gemm_im2col_run(&plan, in, weight, k_d, (int64_t)k_d * 9, im2col3, out, accumulate,
                         scratch);
}
