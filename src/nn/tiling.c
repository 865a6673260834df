/* The patch grid of the denoiser: where each patch's window lies, reading
 * windows out of the volume (mirrored beyond its border) and writing the
 * denoised centres back, and the loop that does it batch by batch.
 *
 * What the reference does (deepinv, deepinv/distributed/strategies/utils.py,
 * tiling_splitting_strategy, and TilingStrategy in
 * deepinv/distributed/strategies/distributed_strategies.py):
 * - the whole signal is padded by `overlap` on each side with
 *   torch.nn.functional.pad, mode "reflect" by default (the benchmark's PnP
 *   solver passes no pad_mode); when reflect fails (an overlap >= the size
 *   of an axis) it falls back to zero padding of the whole signal;
 * - window starts in the padded signal are 0, s, 2s, ... (s = patch) while
 *   start + window < padded size, and the last start is then forced to
 *   padded size - window: a full window shifted back, never a smaller one;
 * - the crop of window j skips max(0, start[j-1] + patch - start[j])
 *   voxels already written by the previous window (its "trim"), so the
 *   written regions tile the signal exactly once;
 * - an axis no larger than the patch raises an error there (after
 *   shrinking the patch when patch > size); here the patch becomes the
 *   axis size, one patch covers it, and the mirroring is folded as often as
 *   needed, which equals "reflect" wherever that is defined. */
#include <stdint.h>
#include <string.h>

#include "nn/tiling.h"

static const char *const axis_names[3] = {"z", "y", "x"};

cbct_status cbct_patch_grid_init(const int64_t shape[3], const int64_t patch[3],
                                 const int64_t overlap[3], cbct_patch_grid *grid)
{
    memset(grid, 0, sizeof *grid);
    int64_t window_voxels = 1, n_patches = 1;
    for (int a = 0; a < 3; a++) {
        if (shape[a] < 1)
            return cbct_error(CBCT_ERR_ARG, "tiling: volume size along %s is %lld: expected >= 1",
                              axis_names[a], (long long)shape[a]);
        if (patch[a] < 1)
            return cbct_error(CBCT_ERR_ARG, "tiling: patch size along %s is %lld: expected >= 1",
                              axis_names[a], (long long)patch[a]);
        if (overlap[a] < 0)
            return cbct_error(CBCT_ERR_ARG, "tiling: overlap along %s is %lld: expected >= 0",
                              axis_names[a], (long long)overlap[a]);
        grid->shape[a] = shape[a];
        grid->patch[a] = patch[a] < shape[a] ? patch[a] : shape[a];
        /* A window of more than 2^31 voxels along one axis cannot be a
         * network input; the bound keeps the products below from overflowing. */
        if (overlap[a] > ((int64_t)1 << 31))
            return cbct_error(CBCT_ERR_ARG, "tiling: overlap along %s is %lld: expected at most "
                              "2^31", axis_names[a], (long long)overlap[a]);
        grid->overlap[a] = overlap[a];
        grid->window[a] = grid->patch[a] + 2 * overlap[a];
        grid->count[a] = (shape[a] + grid->patch[a] - 1) / grid->patch[a];
        if (window_voxels > INT64_MAX / 4 / grid->window[a])
            return cbct_error(CBCT_ERR_ARG, "tiling: a window of %lld x %lld x %lld voxels is "
                              "too large", (long long)(patch[0] + 2 * overlap[0]),
                              (long long)(patch[1] + 2 * overlap[1]),
                              (long long)(patch[2] + 2 * overlap[2]));
        window_voxels *= grid->window[a];
        n_patches *= grid->count[a]; /* <= voxels of the volume */
    }
    grid->n_patches = n_patches;
    return CBCT_OK;
}

int64_t cbct_patch_grid_window_voxels(const cbct_patch_grid *grid)
{
    return grid->window[0] * grid->window[1] * grid->window[2];
}

void cbct_patch_grid_box(const cbct_patch_grid *grid, int64_t index, cbct_patch_box *box)
{
    int64_t k[3];
    k[2] = index % grid->count[2];
    k[1] = index / grid->count[2] % grid->count[1];
    k[0] = index / (grid->count[2] * grid->count[1]);
    for (int a = 0; a < 3; a++) {
        int64_t p = grid->patch[a], size = grid->shape[a];
        /* The last patch is shifted back to end on the last voxel. */
        int64_t start = k[a] == grid->count[a] - 1 ? size - p : k[a] * p;
        box->window0[a] = start - grid->overlap[a];
        box->write0[a] = k[a] * p;
        box->write1[a] = (k[a] + 1) * p < size ? (k[a] + 1) * p : size;
    }
}

int64_t cbct_reflect_index(int64_t i, int64_t size)
{
    if (i >= 0 && i < size)
        return i;
    if (size == 1)
        return 0;
    int64_t period = 2 * (size - 1);
    int64_t m = i % period;
    if (m < 0)
        m += period;
    return m < size ? m : period - m;
}

void cbct_tiling_extract(const cbct_patch_grid *grid, const float *volume, int64_t first,
                         int64_t step, int64_t n, float *windows)
{
    const int64_t wd = grid->window[0], wh = grid->window[1], ww = grid->window[2];
    const int64_t nz = grid->shape[0], ny = grid->shape[1], nx = grid->shape[2];
    const int64_t rows = n * wd * wh;
#pragma omp parallel for schedule(static)
    for (int64_t r = 0; r < rows; r++) {
        int64_t j = r / (wd * wh), z = r / wh % wd, y = r % wh;
        cbct_patch_box box;
        cbct_patch_grid_box(grid, first + j * step, &box);
        int64_t vz = cbct_reflect_index(box.window0[0] + z, nz) - grid->in_z0;
        int64_t vy = cbct_reflect_index(box.window0[1] + y, ny);
        const float *src = volume + ((size_t)vz * (size_t)ny + (size_t)vy) * (size_t)nx;
        float *dst = windows + (size_t)r * (size_t)ww;
        int64_t x0 = box.window0[2];
        /* Window positions [inside0, inside1) read the volume directly. */
        int64_t inside0 = x0 < 0 ? -x0 : 0;
        int64_t inside1 = nx - x0 < ww ? nx - x0 : ww;
        if (inside0 > ww)
            inside0 = ww;
        if (inside1 < inside0)
            inside1 = inside0;
        for (int64_t x = 0; x < inside0; x++)
            dst[x] = src[cbct_reflect_index(x0 + x, nx)];
        if (inside1 > inside0)
            memcpy(dst + inside0, src + x0 + inside0,
                   (size_t)(inside1 - inside0) * sizeof(float));
        for (int64_t x = inside1; x < ww; x++)
            dst[x] = src[cbct_reflect_index(x0 + x, nx)];
    }
}

void cbct_tiling_write_centres(const cbct_patch_grid *grid, const float *windows,
                               int64_t first, int64_t step, int64_t n, float *out)
{
    const int64_t wh = grid->window[1], ww = grid->window[2];
    const int64_t ny = grid->shape[1], nx = grid->shape[2];
    const size_t window_voxels = (size_t)cbct_patch_grid_window_voxels(grid);
    for (int64_t j = 0; j < n; j++) {
        cbct_patch_box b;
        cbct_patch_grid_box(grid, first + j * step, &b);
        const float *window = windows + (size_t)j * window_voxels;
        int64_t dy = b.write1[1] - b.write0[1];
        int64_t rows = (b.write1[0] - b.write0[0]) * dy;
        size_t row_bytes = (size_t)(b.write1[2] - b.write0[2]) * sizeof(float);
#pragma omp parallel for schedule(static)
        for (int64_t r = 0; r < rows; r++) {
            int64_t z = b.write0[0] + r / dy, y = b.write0[1] + r % dy;
            const float *src = window + ((size_t)(z - b.window0[0]) * (size_t)wh +
                                         (size_t)(y - b.window0[1])) * (size_t)ww +
                               (size_t)(b.write0[2] - b.window0[2]);
            memcpy(out + ((size_t)(z - grid->out_z0) * (size_t)ny + (size_t)y) * (size_t)nx +
                       (size_t)b.write0[2],
                   src, row_bytes);
        }
    }
}

/* Bytes of one batch buffer, as cbct_alloc counts them (with its 64-byte
 * block header); 0 when the size overflows. */
static size_t batch_buffer_bytes(const cbct_patch_grid *grid, int64_t batch)
{
    size_t window_bytes = (size_t)cbct_patch_grid_window_voxels(grid) * sizeof(float);
    const size_t header = 64; /* CBCT_ALIGN in src/core/alloc.c */
    if ((size_t)batch > (SIZE_MAX - header) / window_bytes)
        return 0;
    return (size_t)batch * window_bytes + header;
}

size_t cbct_tiling_run_bytes(const cbct_patch_grid *grid, int blend, int64_t batch)
{
    if (batch > grid->n_patches)
        batch = grid->n_patches;
    size_t buffer = batch_buffer_bytes(grid, batch);
    if (buffer == 0 || buffer > SIZE_MAX / 4)
        return SIZE_MAX;
    return 2 * buffer + (blend ? cbct_blend_weights_bytes(grid) : 0);
}

cbct_status cbct_tiling_run_part(const cbct_patch_grid *grid, const float *volume, int blend,
                                 int64_t batch, cbct_batch_denoiser_fn fn, void *context,
                                 float *out, int64_t first, int64_t step, int64_t count)
{
    if (batch < 1)
        return cbct_error(CBCT_ERR_ARG, "tiling: batch of %lld windows: expected >= 1",
                          (long long)batch);
    if (count < 1)
        return CBCT_OK;
    if (batch > count)
        batch = count;
    if (volume == out)
        return cbct_error(CBCT_ERR_ARG, "tiling: the output must not be the input volume "
                          "(windows overlap: the volume is read after parts are written)");
    size_t bytes = batch_buffer_bytes(grid, batch);
    if (bytes == 0)
        return cbct_error(CBCT_ERR_MEMORY, "tiling: a batch of %lld windows overflows the "
                          "address space", (long long)batch);
    bytes -= 64; /* the allocator's header, counted by batch_buffer_bytes */
    cbct_blend_weights weights;
    memset(&weights, 0, sizeof weights);
    float *in = cbct_alloc(bytes, "denoiser input windows");
    float *den = in ? cbct_alloc(bytes, "denoiser output windows") : NULL;
    cbct_status s = den ? CBCT_OK : CBCT_ERR_MEMORY;
    if (s == CBCT_OK && blend)
        s = cbct_blend_weights_create(grid, &weights);
    const int64_t *w = grid->window;
    for (int64_t done = 0; s == CBCT_OK && done < count; done += batch) {
        int64_t n = count - done < batch ? count - done : batch;
        int64_t patch = first + done * step;
        cbct_tiling_extract(grid, volume, patch, step, n, in);
        s = fn(context, in, n, w[0], w[1], w[2], den);
        if (s != CBCT_OK)
            break;
        if (blend)
            cbct_tiling_blend(grid, &weights, den, patch, step, n, out);
        else
            cbct_tiling_write_centres(grid, den, patch, step, n, out);
        cbct_progress("denoise", done + n, count);
    }
    cbct_blend_weights_destroy(&weights);
    cbct_free(den);
    cbct_free(in);
    return s;
}

cbct_status cbct_tiling_run(const cbct_patch_grid *grid, const float *volume, int blend,
                            int64_t batch, cbct_batch_denoiser_fn fn, void *context,
                            float *out)
{
    if (blend && volume != out)
        memset(out, 0, (size_t)grid->shape[0] * (size_t)grid->shape[1] *
                           (size_t)grid->shape[2] * sizeof(float));
    return cbct_tiling_run_part(grid, volume, blend, batch, fn, context, out, 0, 1,
                                grid->n_patches);
}

void cbct_tiling_rows_read(const cbct_patch_grid *grid, int64_t first, int64_t step,
                           int64_t count, int64_t *z0, int64_t *z1)
{
    int64_t lo = grid->shape[0], hi = 0;
    for (int64_t j = 0; j < count; j++) {
        cbct_patch_box b;
        cbct_patch_grid_box(grid, first + j * step, &b);
        for (int64_t z = b.window0[0]; z < b.window0[0] + grid->window[0]; z++) {
            int64_t row = cbct_reflect_index(z, grid->shape[0]);
            lo = row < lo ? row : lo;
            hi = row + 1 > hi ? row + 1 : hi;
        }
    }
    *z0 = count > 0 ? lo : 0;
    *z1 = count > 0 ? hi : 0;
}
