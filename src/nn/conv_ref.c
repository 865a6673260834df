/* Reference kernels of DRUNet: direct loops, one output row at a time.
 *
 * Each thread owns whole output rows (n, c_out, z, y) and accumulates
 * every input channel and tap into that row in a fixed order, so the
 * result does not depend on the number of threads. The row stays in L1
 * while the input rows stream past; x is the contiguous, vectorised loop.
 * Simple enough to be checked by eye against PyTorch's definitions. */
#include <string.h>

#include "nn/kernels.h"

/* acc[x] += w0 * r[x - 1] + w1 * r[x] + w2 * r[x + 1], zero outside [0, w). */
static void row_taps3(float *restrict acc, const float *restrict r, int64_t w, float w0,
                      float w1, float w2)
{
    if (w == 1) {
        acc[0] += w1 * r[0];
        return;
    }
    acc[0] += w1 * r[0] + w2 * r[1];
    for (int64_t x = 1; x < w - 1; x++)
        acc[x] += w0 * r[x - 1] + w1 * r[x] + w2 * r[x + 1];
    acc[w - 1] += w0 * r[w - 2] + w1 * r[w - 1];
}

static void conv3_ref(const cbct_nn_tensor *in, const float *weight, int k_d,
                      cbct_nn_tensor *out, int accumulate, float *scratch)
{
    (void)scratch;
    const int64_t c_in = in->c, c_out = out->c, d = in->d, h = in->h, w = in->w;
    const int pad_d = k_d / 2; /* 1 for 3x3x3, 0 for 3x3 */
    const int64_t rows = out->n * c_out * d * h;
#pragma omp parallel for schedule(static)
    for (int64_t row = 0; row < rows; row++) {
        const int64_t y = row % h, z = row / h % d, oc = row / (h * d) % c_out;
        const int64_t b = row / (h * d * c_out);
        float *acc = cbct_nn_channel(out, b, oc) + (z * h + y) * w;
        if (!accumulate)
            memset(acc, 0, (size_t)w * sizeof *acc);
        for (int64_t ic = 0; ic < c_in; ic++) {
            const float *plane = cbct_nn_channel(in, b, ic);
            const float *taps = weight + (oc * c_in + ic) * k_d * 9;
            for (int kz = 0; kz < k_d; kz++) {
                int64_t zz = z + kz - pad_d;
                if (zz < 0 || zz >= d)
                    continue;
                for (int ky = 0; ky < 3; ky++) {
                    int64_t yy = y + ky - 1;
                    if (yy < 0 || yy >= h)
                        continue;
                    const float *k3 = taps + (kz * 3 + ky) * 3;
                    row_taps3(acc, plane + (zz * h + yy) * w, w, k3[0], k3[1], k3[2]);
                }
            }
        }
    }
}

/* Stride-2 convolution with a 2x2(x2) kernel: output voxel (z, y, x) sees
 * input voxels (k_d z + a, 2y + b, 2x + c). */
static void down2_ref(const cbct_nn_tensor *in, const float *weight, int k_d,
                      cbct_nn_tensor *out, float *scratch)
{
    (void)scratch;
    const int64_t c_in = in->c, c_out = out->c, h = in->h, w = in->w;
    const int64_t d_out = out->d, h_out = out->h, w_out = out->w;
    const int64_t rows = out->n * c_out * d_out * h_out;
#pragma omp parallel for schedule(static)
    for (int64_t row = 0; row < rows; row++) {
        const int64_t y = row % h_out, z = row / h_out % d_out;
        const int64_t oc = row / (h_out * d_out) % c_out, b = row / (h_out * d_out * c_out);
        float *restrict acc = cbct_nn_channel(out, b, oc) + (z * h_out + y) * w_out;
        memset(acc, 0, (size_t)w_out * sizeof *acc);
        for (int64_t ic = 0; ic < c_in; ic++) {
            const float *plane = cbct_nn_channel(in, b, ic);
            const float *taps = weight + (oc * c_in + ic) * k_d * 4;
            for (int a = 0; a < k_d; a++) {
                for (int by = 0; by < 2; by++) {
                    const float *restrict r = plane + ((z * k_d + a) * h + 2 * y + by) * w;
                    const float w0 = taps[(a * 2 + by) * 2], w1 = taps[(a * 2 + by) * 2 + 1];
                    for (int64_t x = 0; x < w_out; x++)
                        acc[x] += w0 * r[2 * x] + w1 * r[2 * x + 1];
                }
            }
        }
    }
}

/* Transposed stride-2 convolution with a 2x2(x2) kernel: input voxel
 * (z, y, x) spreads to output voxels (k_d z + a, 2y + b, 2x + c) with
 * weight (ic, oc, a, b, c); the outputs of different inputs never overlap,
 * so an output row is a sum over input channels of one input row. */
static void up2_ref(const cbct_nn_tensor *in, const float *weight, int k_d,
                    cbct_nn_tensor *out, float *scratch)
{
    (void)scratch;
    const int64_t c_in = in->c, c_out = out->c, h = in->h, w = in->w;
    const int64_t d_out = out->d, h_out = out->h, w_out = out->w;
    const int64_t rows = out->n * c_out * d_out * h_out;
#pragma omp parallel for schedule(static)
    for (int64_t row = 0; row < rows; row++) {
        const int64_t yo = row % h_out, zo = row / h_out % d_out;
        const int64_t oc = row / (h_out * d_out) % c_out, b = row / (h_out * d_out * c_out);
        const int64_t z = zo / k_d, a = zo % k_d, y = yo / 2, by = yo % 2;
        float *restrict acc = cbct_nn_channel(out, b, oc) + (zo * h_out + yo) * w_out;
        memset(acc, 0, (size_t)w_out * sizeof *acc);
        for (int64_t ic = 0; ic < c_in; ic++) {
            const float *restrict r = cbct_nn_channel(in, b, ic) + (z * h + y) * w;
            const float *taps = weight + (((ic * c_out + oc) * k_d + a) * 2 + by) * 2;
            const float w0 = taps[0], w1 = taps[1];
            for (int64_t x = 0; x < w; x++) {
                acc[2 * x] += w0 * r[x];
                acc[2 * x + 1] += w1 * r[x];
            }
        }
    }
}

static size_t scratch_none(cbct_nn_op op, const cbct_nn_tensor *in, int64_t c_out, int k_d)
{
    (void)op, (void)in, (void)c_out, (void)k_d;
    return 0;
}

const cbct_nn_kernels cbct_nn_kernels_reference = {
    .name = "reference",
    .conv3 = conv3_ref,
    .down2 = down2_ref,
    .up2 = up2_ref,
    .relu = cbct_nn_relu,
    .add = cbct_nn_add,
    .scratch_bytes = scratch_none,
};
