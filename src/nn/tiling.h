/* Patch tiling of a volume for the denoiser, as in the reference experiment
 * (deepinv's distributed denoiser, TilingStrategy and
 * tiling_splitting_strategy in deepinv/distributed/strategies/utils.py):
 *
 * - along each axis the volume is cut into patches of `patch` voxels
 *   (min(patch, size) when the volume is thinner than a patch); patch k
 *   starts at k * patch, except the last one, which is shifted back to end
 *   on the volume's last voxel, so that every window of a batch has the
 *   same size;
 * - each patch is extended by `overlap` voxels on every side into a window
 *   of patch + 2 overlap voxels; where a window reaches beyond the volume
 *   the volume is mirrored without repeating the edge voxel (PyTorch's
 *   "reflect" padding: x[-1] = x[1]), folded again as often as needed;
 * - the denoised window's centre is written back, the part already written
 *   by the previous patch along an axis skipped: the written regions
 *   [k patch, min((k + 1) patch, size)) cover every voxel exactly once;
 * - or, with blending, each window contributes over its whole extent inside
 *   the volume with weights that are 1 on the patch, fall linearly over the
 *   overlap, and are normalised so that they sum to 1 at every voxel.
 *
 * Patches are numbered in C order of their grid position (z slowest), as
 * in the reference. The functions take patches `first, first + step, ...`
 * so that the MPI layer can hand patches round-robin to ranks; windows are
 * stored (n, 1, d, h, w), the network's batch layout. */
#ifndef CBCT_NN_TILING_H
#define CBCT_NN_TILING_H

#include "cbct/denoiser.h"

/* The patch grid of one volume. */
typedef struct cbct_patch_grid {
    int64_t shape[3];   /* volume, z y x */
    int64_t patch[3];   /* patch used: min(requested, shape) */
    int64_t overlap[3]; /* added on each side */
    int64_t window[3];  /* patch + 2 overlap: the network's input size */
    int64_t count[3];   /* patches along each axis: ceil(shape / patch) */
    int64_t n_patches;  /* count[0] * count[1] * count[2] */
    /* The arrays the functions below read and write may hold only some z
     * rows of the volume (a rank's slab and halo): the volume row that
     * array row 0 holds. 0 (the whole volume) after cbct_patch_grid_init. */
    int64_t in_z0, out_z0;
} cbct_patch_grid;

/* Where patch i lies, in volume voxels along each axis z y x. */
typedef struct cbct_patch_box {
    int64_t window0[3]; /* first voxel of the window (< 0 beyond the volume) */
    int64_t write0[3];  /* written region [write0, write1): inside the volume */
    int64_t write1[3];
} cbct_patch_box;

/* CBCT_ERR_ARG naming the axis when a shape or patch is < 1 or an overlap
 * < 0. */
cbct_status cbct_patch_grid_init(const int64_t shape[3], const int64_t patch[3],
                                 const int64_t overlap[3], cbct_patch_grid *grid);
void cbct_patch_grid_box(const cbct_patch_grid *grid, int64_t index, cbct_patch_box *box);
/* Voxels of one window. */
int64_t cbct_patch_grid_window_voxels(const cbct_patch_grid *grid);

/* Index of the volume voxel that position i (any integer) reads along an
 * axis of `size` voxels: mirrored at both ends without repeating the edge
 * voxel, periodically, so that any overlap works. */
int64_t cbct_reflect_index(int64_t i, int64_t size);

/* windows (n x window voxels) = the windows of patches first + j step,
 * j < n, read from `volume` (grid->shape, or the rows from grid->in_z0 on
 * that cbct_tiling_rows_read names). */
void cbct_tiling_extract(const cbct_patch_grid *grid, const float *volume, int64_t first,
                         int64_t step, int64_t n, float *windows);
/* Writes the written regions of the denoised windows of patches
 * first + j step into `out` (grid->shape, or rows from grid->out_z0 on
 * that hold the patches' written regions); the rest of `out` is untouched.
 * Written regions of different patches are disjoint. */
void cbct_tiling_write_centres(const cbct_patch_grid *grid, const float *windows,
                               int64_t first, int64_t step, int64_t n, float *out);

/* Normalised 1D blending weights: along axis a, patch k, window position
 * j: weight[a][k * window[a] + j] (0 beyond the volume). A window's weight
 * at a voxel is the product of its three axes' weights; the weights of all
 * windows sum to 1 at every voxel, because the grid is the product of the
 * three axes' patch lists. */
typedef struct cbct_blend_weights {
    float *weight[3]; /* tracked */
} cbct_blend_weights;

cbct_status cbct_blend_weights_create(const cbct_patch_grid *grid, cbct_blend_weights *w);
void cbct_blend_weights_destroy(cbct_blend_weights *w);
/* Tracked bytes that cbct_blend_weights_create allocates. */
size_t cbct_blend_weights_bytes(const cbct_patch_grid *grid);
/* Adds the weighted windows of patches first + j step to `out`, which
 * must start at zero: after all patches it holds the blended volume. */
void cbct_tiling_blend(const cbct_patch_grid *grid, const cbct_blend_weights *w,
                       const float *windows, int64_t first, int64_t step, int64_t n,
                       float *out);

/* A batch denoiser: out = D(in) for n windows of d x h x w voxels each,
 * (n, 1, d, h, w) in and out. The DRUNet is one; tests use simple filters. */
typedef cbct_status (*cbct_batch_denoiser_fn)(void *context, const float *in, int64_t n,
                                              int64_t d, int64_t h, int64_t w, float *out);

/* Denoises `volume` patch by patch, `batch` windows per call of `fn`:
 * allocates one batch of windows in and one out (tracked), extracts,
 * calls, writes back (centres, or blends when tiling->blend).
 * tiling->max_batch is ignored: `batch` (>= 1) is used, limited to the
 * number of patches. `out` has the volume's shape, is not the volume's
 * buffer, and is fully overwritten. */
cbct_status cbct_tiling_run(const cbct_patch_grid *grid, const float *volume, int blend,
                            int64_t batch, cbct_batch_denoiser_fn fn, void *context,
                            float *out);

/* The same for `count` patches first + j step only, written into `out`
 * (centres; with blend, added to `out`, which the caller zeroes). */
cbct_status cbct_tiling_run_part(const cbct_patch_grid *grid, const float *volume, int blend,
                                 int64_t batch, cbct_batch_denoiser_fn fn, void *context,
                                 float *out, int64_t first, int64_t step, int64_t count);
/* Volume rows [*z0, *z1) that the windows of patches first + j step, j <
 * count, read (mirroring included): what a rank must hold to denoise them. */
void cbct_tiling_rows_read(const cbct_patch_grid *grid, int64_t first, int64_t step,
                           int64_t count, int64_t *z0, int64_t *z1);

/* Tracked bytes cbct_tiling_run allocates with a batch of `batch` windows
 * (the two batch buffers, the blending weights), without the denoiser. */
size_t cbct_tiling_run_bytes(const cbct_patch_grid *grid, int blend, int64_t batch);

/* The memory model of cbct_denoise_volume: predicted peak of the tracked
 * bytes it allocates (the output volume excluded) with a batch of `batch`
 * windows: cbct_tiling_run_bytes + cbct_drunet_peak_bytes. */
size_t cbct_denoise_peak_bytes(const cbct_drunet *net, const cbct_patch_grid *grid, int blend,
                               int64_t batch);

/* The largest batch (<= n_patches) whose predicted peak fits in
 * `available` bytes; CBCT_ERR_MEMORY saying what one window needs when not
 * even a batch of 1 fits. */
cbct_status cbct_denoise_choose_batch(const cbct_drunet *net, const cbct_patch_grid *grid,
                                      int blend, size_t available, int64_t *batch);

#endif
