/* Stride-2 down- and up-sampling of DRUNet as GEMMs. Neither kernel
 * overlaps its neighbours, so both are plain matrix products:
 *   down: each output voxel sees one 2x2(x2) block of the input; im2col of
 *         the blocks, then tile (c_out x positions) = weight * col, with
 *         PyTorch's (c_out, c_in, k_d, 2, 2) weights as A as they are;
 *   up:   each input voxel spreads to one 2x2(x2) block of the output;
 *         tile (c_out taps x positions) = weight^T * input, PyTorch's
 *         (c_in, c_out, k_d, 2, 2) weights read transposed, then the tile
 *         is scattered to the blocks (no sums across tasks). */
#include <cblas.h>
#include <omp.h>
#include <string.h>

#include "nn/conv_gemm.h"

/* col row (ic, a, by, bx), position (y, x) of the block: input voxel
 * (k_d z + a, 2y + by, 2x + bx) of channel ic0 + ic. */
static void im2col_down(const cbct_nn_tensor *in, const cbct_gemm_task *t, int k_d,
                        int64_t w_out, int64_t ic0, int64_t channels, float *restrict col)
{
    const int64_t h = in->h, w = in->w, positions = t->columns;
    for (int64_t ic = 0; ic < channels; ic++) {
        const float *plane = cbct_nn_channel(in, t->b, ic0 + ic);
        for (int a = 0; a < k_d; a++) {
            for (int by = 0; by < 2; by++) {
                float *bx0 = col + ((ic * k_d + a) * 2 + by) * 2 * positions;
                for (int64_t r = 0; r < t->rows; r++) {
                    const float *restrict src =
                        plane + ((t->z * k_d + a) * h + 2 * (t->y0 + r) + by) * w;
                    float *restrict c0 = bx0 + r * w_out, *restrict c1 = c0 + positions;
                    for (int64_t x = 0; x < w_out; x++) {
                        c0[x] = src[2 * x];
                        c1[x] = src[2 * x + 1];
                    }
                }
            }
        }
    }
}

static cbct_gemm_plan down_plan(const cbct_nn_tensor *in, int64_t c_out, int k_d)
{
    return cbct_gemm_plan_make(in->n, in->d / k_d, in->h / 2, in->w / 2, c_out);
}

size_t cbct_gemm_down2_scratch_floats(const cbct_nn_tensor *in, int64_t c_out, int k_d)
{
    const cbct_gemm_plan plan = down_plan(in, c_out, k_d);
    return cbct_gemm_im2col_scratch_floats(&plan, in->c, (int64_t)k_d * 4);
}

void cbct_gemm_down2(const cbct_nn_tensor *in, const float *weight, int k_d,
                     cbct_nn_tensor *out, float *scratch)
{
    const cbct_gemm_plan plan = down_plan(in, out->c, k_d);
    cbct_gemm_im2col_run(&plan, in, weight, k_d, (int64_t)k_d * 4, im2col_down, out, 0, scratch);
}

/* The block's rows of channels [ic0, ic0 + channels) side by side: a copy
 * rather than a strided B, whose stride (a whole channel, often a multiple
 * of 4 KiB) would make the GEMM's reads collide in the cache. */
static void gather_rows(const cbct_nn_tensor *in, const cbct_gemm_task *t, int64_t ic0,
                        int64_t channels, float *restrict col)
{
    for (int64_t ic = 0; ic < channels; ic++)
        memcpy(col + ic * t->columns,
               cbct_nn_channel(in, t->b, ic0 + ic) + (t->z * in->h + t->y0) * in->w,
               (size_t)t->columns * sizeof(float));
}

/* Tile row (oc, a, by, bx), position (y, x) goes to output voxel
 * (k_d z + a, 2y + by, 2x + bx) of channel oc0 + oc. */
static void scatter_up(const float *tile, const cbct_gemm_task *t, int k_d, int64_t w,
                       cbct_nn_tensor *out)
{
    const int64_t positions = t->columns;
    for (int64_t oc = 0; oc < t->oc_count; oc++) {
        float *plane = cbct_nn_channel(out, t->b, t->oc0 + oc);
        for (int a = 0; a < k_d; a++) {
            for (int by = 0; by < 2; by++) {
                const float *bx0 = tile + ((oc * k_d + a) * 2 + by) * 2 * positions;
                for (int64_t r = 0; r < t->rows; r++) {
                    float *restrict dst =
                        plane + ((t->z * k_d + a) * out->h + 2 * (t->y0 + r) + by) * out->w;
                    const float *restrict t0 = bx0 + r * w, *restrict t1 = t0 + positions;
                    for (int64_t x = 0; x < w; x++) {
                        dst[2 * x] = t0[x];
                        dst[2 * x + 1] = t1[x];
                    }
                }
            }
        }
    }
}

size_t cbct_gemm_up2_scratch_floats(const cbct_nn_tensor *in, int64_t c_out, int k_d)
{
    const int64_t taps = (int64_t)k_d * 4;
    const cbct_gemm_plan plan = cbct_gemm_plan_make(in->n, in->d, in->h, in->w, c_out);
    const int64_t chunk = cbct_gemm_chunk_channels(in->c, 1);
    return (size_t)cbct_gemm_slots(&plan) *
           (size_t)((chunk + plan.group_size * taps) * plan.columns);
}

void cbct_gemm_up2(const cbct_nn_tensor *in, const float *weight, int k_d,
                   cbct_nn_tensor *out, float *scratch)
{
    const int64_t c_in = in->c, c_out = out->c, taps = (int64_t)k_d * 4;
    const cbct_gemm_plan plan = cbct_gemm_plan_make(in->n, in->d, in->h, in->w, c_out);
    const int64_t chunk = cbct_gemm_chunk_channels(c_in, 1);
    const int64_t slot = (chunk + plan.group_size * taps) * plan.columns;
    cbct_gemm_single_threaded_blas();
#pragma omp parallel num_threads(cbct_gemm_threads(&plan))
    {
        float *col = scratch + slot * omp_get_thread_num();
        float *tile = col + chunk * plan.columns;
#pragma omp for schedule(dynamic)
        for (int64_t i = 0; i < plan.tasks; i++) {
            const cbct_gemm_task t = cbct_gemm_task_get(&plan, c_out, i);
            for (int64_t ic0 = 0; ic0 < c_in; ic0 += chunk) {
                const int64_t channels = c_in - ic0 < chunk ? c_in - ic0 : chunk;
                gather_rows(in, &t, ic0, channels, col);
                cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)(t.oc_count * taps),
                            (int)t.columns, (int)channels, 1.0f,
                            weight + ic0 * c_out * taps + t.oc0 * taps, (int)(c_out * taps),
                            col, (int)t.columns, ic0 == 0 ? 0.0f : 1.0f, tile,
                            (int)t.columns);
            }
            scatter_up(tile, &t, k_d, in->w, out);
        }
    }
}
