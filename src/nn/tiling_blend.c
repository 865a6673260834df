/* Linear blending of overlapping denoised windows (an option beyond the
 * reference, which writes the centres only).
 *
 * Along one axis, window position j of a window with overlap o and patch p
 * has the raw weight 1 on the patch [o, o + p) and 1 - t / (o + 1) at t
 * voxels beyond it, so the weight falls linearly towards the window's
 * edge without reaching 0 inside it; positions beyond the volume weigh 0.
 * The weights are divided by their sum over the axis' patches at each
 * voxel. A window's weight is the product of its three axes' weights;
 * since the patch grid is the product of the axes' patch lists, the
 * products sum to 1 at every voxel, and a constant volume stays constant
 * (up to float rounding). Every voxel lies in some patch, where the raw
 * weight is 1, so no sum is 0. */
#include <string.h>

#include "nn/tiling.h"

static size_t axis_floats(const cbct_patch_grid *grid, int a)
{
    return (size_t)grid->count[a] * (size_t)grid->window[a];
}

size_t cbct_blend_weights_bytes(const cbct_patch_grid *grid)
{
    const size_t header = 64; /* CBCT_ALIGN in src/core/alloc.c */
    size_t bytes = 0;
    for (int a = 0; a < 3; a++)
        bytes += axis_floats(grid, a) * sizeof(float) + header;
    return bytes;
}

/* Raw weight of window position j (see the top of the file). */
static double raw_weight(int64_t j, int64_t patch, int64_t overlap)
{
    int64_t beyond = j < overlap ? overlap - j : j - (overlap + patch - 1);
    if (beyond <= 0)
        return 1.0;
    return 1.0 - (double)beyond / (double)(overlap + 1);
}

/* Fills `weight` (count x window) for one axis; `sum` has `size` scratch
 * doubles. */
static void axis_weights(int64_t size, int64_t patch, int64_t overlap, int64_t count,
                         double *sum, float *weight)
{
    int64_t window = patch + 2 * overlap;
    for (int64_t v = 0; v < size; v++)
        sum[v] = 0.0;
    /* Twice over the patches: sum the raw weights, then normalise. */
    for (int pass = 0; pass < 2; pass++)
        for (int64_t k = 0; k < count; k++) {
            int64_t start = k == count - 1 ? size - patch : k * patch;
            for (int64_t j = 0; j < window; j++) {
                int64_t v = start - overlap + j;
                double w = v >= 0 && v < size ? raw_weight(j, patch, overlap) : 0.0;
                if (pass == 0)
                    sum[v >= 0 && v < size ? v : 0] += w;
                else
                    weight[k * window + j] = w > 0.0 ? (float)(w / sum[v]) : 0.0f;
            }
        }
}

cbct_status cbct_blend_weights_create(const cbct_patch_grid *grid, cbct_blend_weights *w)
{
    memset(w, 0, sizeof *w);
    int64_t longest = grid->shape[0];
    for (int a = 1; a < 3; a++)
        longest = grid->shape[a] > longest ? grid->shape[a] : longest;
    double *sum = cbct_alloc((size_t)longest * sizeof(double), "blending weight sums");
    if (!sum)
        return CBCT_ERR_MEMORY;
    for (int a = 0; a < 3; a++) {
        w->weight[a] = cbct_alloc(axis_floats(grid, a) * sizeof(float), "blending weights");
        if (!w->weight[a]) {
            cbct_free(sum);
            cbct_blend_weights_destroy(w);
            return CBCT_ERR_MEMORY;
        }
        axis_weights(grid->shape[a], grid->patch[a], grid->overlap[a], grid->count[a], sum,
                     w->weight[a]);
    }
    cbct_free(sum);
    return CBCT_OK;
}

void cbct_blend_weights_destroy(cbct_blend_weights *w)
{
    for (int a = 0; a < 3; a++) {
        cbct_free(w->weight[a]);
        w->weight[a] = NULL;
    }
}

void cbct_tiling_blend(const cbct_patch_grid *grid, const cbct_blend_weights *w,
                       const float *windows, int64_t first, int64_t step, int64_t n,
                       float *out)
{
    const int64_t wd = grid->window[0], wh = grid->window[1], ww = grid->window[2];
    const int64_t ny = grid->shape[1], nx = grid->shape[2];
    const size_t window_voxels = (size_t)cbct_patch_grid_window_voxels(grid);
    /* Windows overlap: one after the other, in patch order, so that every
     * voxel adds its contributions in the same order for any thread count;
     * threads share the rows of one window. */
    for (int64_t j = 0; j < n; j++) {
        int64_t index = first + j * step;
        cbct_patch_box b;
        cbct_patch_grid_box(grid, index, &b);
        int64_t k[3] = {index / (grid->count[2] * grid->count[1]),
                        index / grid->count[2] % grid->count[1], index % grid->count[2]};
        const float *wz = w->weight[0] + k[0] * wd;
        const float *wy = w->weight[1] + k[1] * wh;
        const float *wx = w->weight[2] + k[2] * ww;
        const float *window = windows + (size_t)j * window_voxels;
        /* Window positions inside the volume along each axis: [lo, hi). */
        int64_t lo[3], hi[3];
        for (int a = 0; a < 3; a++) {
            lo[a] = b.window0[a] < 0 ? -b.window0[a] : 0;
            hi[a] = grid->shape[a] - b.window0[a] < grid->window[a]
                        ? grid->shape[a] - b.window0[a] : grid->window[a];
        }
        int64_t dy = hi[1] - lo[1];
        int64_t rows = (hi[0] - lo[0]) * dy;
#pragma omp parallel for schedule(static)
        for (int64_t r = 0; r < rows; r++) {
            int64_t z = lo[0] + r / dy, y = lo[1] + r % dy;
            float wzy = wz[z] * wy[y];
            const float *src = window + ((size_t)z * (size_t)wh + (size_t)y) * (size_t)ww;
            float *dst = out + ((size_t)(b.window0[0] + z) * (size_t)ny +
                                (size_t)(b.window0[1] + y)) * (size_t)nx;
            for (int64_t x = lo[2]; x < hi[2]; x++)
                dst[b.window0[2] + x] += wzy * wx[x] * src[x];
        }
    }
}
