/* 3x3(x3) convolution (stride 1, zero padding 1) to a single output
 * channel: DRUNet's tail (c0 -> 1). oneDNN's and im2col's GEMM shapes are
 * at their worst here (one output row of the GEMM: 11-17 GFLOP/s on
 * 16 x 256 x 256 with 16 channels, 12% of the shipped net's time at batch
 * 4), so each output row is summed directly: for every input channel and
 * every (z, y) tap of the kernel, the 3-tap correlation along x of one input
 * row is added to a row of accumulators, a loop the compiler vectorises
 * over x. Each output row is always summed in the same order (channel,
 * z tap, y tap): the same bits for any thread count. */
#include <omp.h>
#include <string.h>

#include "nn/kernels.h"

/* acc[x] += w0 row[x - 1] + w1 row[x] + w2 row[x + 1], zero outside [0, n).
 * The reference loops (src/nn/conv_ref.c, row_taps3) have their own copy on
 * purpose: they are the yardstick this kernel is tested against. */
static void add_row_taps(float *restrict acc, const float *restrict row, const float *w,
                         int64_t n)
{
    const float w0 = w[0], w1 = w[1], w2 = w[2];
    if (n == 1) {
        acc[0] += w1 * row[0];
        return;
    }
    acc[0] += w1 * row[0] + w2 * row[1];
    for (int64_t x = 1; x < n - 1; x++)
        acc[x] += w0 * row[x - 1] + w1 * row[x] + w2 * row[x + 1];
    acc[n - 1] += w0 * row[n - 2] + w1 * row[n - 1];
}

/* Output rows summed together: their accumulators (ROWS x w floats, 8 KiB
 * at w = 256) stay in L1 while every input plane's ROWS + 2 rows stream
 * past once, in order. (Summing one output row at a time read its 9 c_in
 * input rows from planes a power of two apart, which share cache sets:
 * 3x slower.) */
#define ROWS 8

size_t cbct_nn_conv3_to_one_scratch_bytes(const cbct_nn_tensor *in)
{
    return (size_t)omp_get_num_procs() * ROWS * (size_t)in->w * sizeof(float);
}

void cbct_nn_conv3_to_one(const cbct_nn_tensor *in, const float *weight, int k_d,
                          cbct_nn_tensor *out, int accumulate, float *scratch)
{
    const int64_t d = in->d, h = in->h, w = in->w;
    const int64_t blocks = (h + ROWS - 1) / ROWS, tasks = in->n * d * blocks;
    const int64_t z_first = k_d == 3 ? -1 : 0; /* the kernel's first slice, relative */
    int threads = omp_get_max_threads();
    threads = threads < omp_get_num_procs() ? threads : omp_get_num_procs();
#pragma omp parallel num_threads(threads)
    {
        float *acc = scratch + (size_t)omp_get_thread_num() * ROWS * (size_t)w;
#pragma omp for schedule(static)
        for (int64_t task = 0; task < tasks; task++) {
            const int64_t b = task / (d * blocks), z = task / blocks % d;
            const int64_t y0 = task % blocks * ROWS, rows = h - y0 < ROWS ? h - y0 : ROWS;
            memset(acc, 0, (size_t)(rows * w) * sizeof(float));
            for (int64_t c = 0; c < in->c; c++) {
                const float *channel = cbct_nn_channel(in, b, c);
                for (int kz = 0; kz < k_d; kz++) {
                    const int64_t zz = z + z_first + kz;
                    if (zz < 0 || zz >= d)
                        continue;
                    const float *plane = channel + zz * h * w;
                    const float *taps = weight + (c * k_d + kz) * 9;
                    for (int64_t r = 0; r < rows; r++) /* output row y0 + r */
                        for (int ky = 0; ky < 3; ky++) {
                            const int64_t yy = y0 + r - 1 + ky;
                            if (yy >= 0 && yy < h)
                                add_row_taps(acc + r * w, plane + yy * w, taps + ky * 3, w);
                        }
                }
            }
            float *dst = cbct_nn_channel(out, b, 0) + (z * h + y0) * w;
            if (accumulate)
                for (int64_t i = 0; i < rows * w; i++)
                    dst[i] += acc[i];
            else
                memcpy(dst, acc, (size_t)(rows * w) * sizeof(float));
        }
    }
}
