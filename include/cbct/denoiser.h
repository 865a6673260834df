/* Learned denoiser: DRUNet (Zhang et al., "Plug-and-Play image restoration
 * with deep denoiser prior") in 2D and 3D, weights in safetensors with the
 * parameter names of the common PyTorch implementation (KAIR / deepinv),
 * and patch tiling of large volumes under a memory budget.
 *
 * Tensors are float32, channels first: (n, c, d, h, w), w fastest; 2D
 * networks use d = 1. The network input is the image plus a constant
 * noise-level channel (sigma); the output is the denoised image. */
#ifndef CBCT_DENOISER_H
#define CBCT_DENOISER_H

#include "cbct/core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* DRUNet architecture. */
typedef struct cbct_drunet_config {
    int dims;             /* 2 or 3 */
    int in_channels;      /* image channels (the noise map is added: +1) */
    int out_channels;     /* image channels out */
    int64_t channels[4];  /* per scale, e.g. 64, 128, 256, 512 */
    int nb;               /* residual blocks per scale, e.g. 4 */
} cbct_drunet_config;

typedef struct cbct_drunet cbct_drunet;

/* Loads a safetensors file; the architecture is read from the tensors'
 * names and shapes (a missing tensor, a wrong shape or a truncated file is
 * an error naming the tensor and the file). */
cbct_status cbct_drunet_load(const char *path, cbct_drunet **out);
/* A network with deterministic pseudo-random weights (tests, benchmarks). */
cbct_status cbct_drunet_create_random(const cbct_drunet_config *config, uint64_t seed,
                                      cbct_drunet **out);
void cbct_drunet_destroy(cbct_drunet *net);
const cbct_drunet_config *cbct_drunet_get_config(const cbct_drunet *net);

/* Which convolution kernels inference uses. */
typedef enum {
    CBCT_NN_KERNEL_FAST = 0,  /* the fastest available (default): Winograd
                                 F(2x4x4, 3x3x3) for the 3D 3x3x3 layers */
    CBCT_NN_KERNEL_REFERENCE, /* plain loops, for tests */
    CBCT_NN_KERNEL_DIRECT     /* direct convolutions only (oneDNN, or im2col +
                                 OpenBLAS): plain summation, as PyTorch */
} cbct_nn_kernel;
void cbct_drunet_set_kernel(cbct_drunet *net, cbct_nn_kernel kernel);

/* out (n x out_channels x d x h x w) = D(in, sigma) for a batch of n
 * patches (n x in_channels x d x h x w). Sizes that are not multiples of 8
 * are padded and cropped as the PyTorch implementation does. Buffers come
 * from the tracked allocator and are freed as soon as they are dead. */
cbct_status cbct_drunet_apply(cbct_drunet *net, const float *in, int64_t n, int64_t d,
                              int64_t h, int64_t w, float sigma, float *out);

/* Predicted peak of tracked bytes that cbct_drunet_apply allocates for
 * this input size (the inputs and outputs themselves not included). */
size_t cbct_drunet_peak_bytes(const cbct_drunet *net, int64_t n, int64_t d, int64_t h,
                              int64_t w);

/* ---- Added with the DRUNet engine (src/nn/drunet_*.c) ------------------ */
/* The spatial size (d, h, w) the network actually runs at for an input of
 * (d, h, w): unchanged when every spatial size (h, w in 2D; d, h, w in 3D)
 * is a multiple of 8 and >= 32; otherwise each is rounded up to a multiple
 * of 16, the input replicated at the far end and the output cropped
 * (deepinv's DRUNet.forward / test_pad). 2D networks keep d. Patches whose
 * sizes need no padding cost no extra memory or time. */
void cbct_drunet_padded_shape(const cbct_drunet *net, int64_t d, int64_t h, int64_t w,
                              int64_t padded[3]);
/* cbct_drunet_apply copies the input before it writes the output: `in` and
 * `out` may be the same buffer (when in_channels == out_channels).
 * cbct_drunet_peak_bytes is exact (the forward pass run without computing)
 * and returns SIZE_MAX for sizes the network refuses. */
/* ---- end of DRUNet engine additions ------------------------------------- */

/* Patch tiling of a volume (nz, ny, nx), as in the reference experiment:
 * the volume is cut into patches of `patch` voxels, each extended by
 * `overlap` on every side (reading beyond the volume as the reference
 * does), denoised `max_batch` patches per network call, and the centres
 * written back (or the overlaps blended linearly when `blend`). */
typedef struct cbct_tiling {
    int64_t patch[3];   /* z, y, x */
    int64_t overlap[3]; /* z, y, x, added on each side */
    int64_t max_batch;  /* patches per call; 0 = the largest that fits the budget */
    int blend;          /* 0: centres only (reference); 1: linear blending */
} cbct_tiling;

cbct_status cbct_denoise_volume(cbct_drunet *net, const cbct_array *volume, float sigma,
                                const cbct_tiling *tiling, cbct_array *out);

/* ---- Parts of a tiled denoising, for distributed runs ------------------- */

/* Patches along z, y, x of the tiling of a volume of `shape` (z y x), and
 * the patch size used (min(patch, shape); 0 in tiling->patch = the shape). */
cbct_status cbct_tiling_patch_counts(const cbct_tiling *tiling, const int64_t shape[3],
                                     int64_t counts[3], int64_t patch_used[3]);
/* Volume rows [*z0, *z1) that the windows of patches first + j step
 * (j < count; C order, z slowest) read, mirroring included. */
cbct_status cbct_tiling_rows_needed(const cbct_tiling *tiling, const int64_t shape[3],
                                    int64_t first, int64_t step, int64_t count, int64_t *z0,
                                    int64_t *z1);

typedef struct cbct_denoise_part {
    int64_t shape[3];           /* the whole volume, z y x */
    int64_t first, step, count; /* patches first + j step, j < count */
    int64_t in_z0;  /* volume row held by row 0 of `in` (it must hold the rows needed) */
    int64_t out_z0; /* volume row held by row 0 of `out` (the patches' written rows) */
} cbct_denoise_part;

/* Denoises some patches of a volume: reads `in`, writes the patches'
 * centres into `out` (existing, other voxels untouched). Centres only (no
 * blending). The same voxels as cbct_denoise_volume gives for the whole
 * volume, bit for bit. */
cbct_status cbct_denoise_volume_part(cbct_drunet *net, const cbct_array *in, float sigma,
                                     const cbct_tiling *tiling, const cbct_denoise_part *part,
                                     cbct_array *out);

#ifdef __cplusplus
}
#endif
#endif
