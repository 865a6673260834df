/* Sizes that DRUNet cannot take directly (three stride-2 levels need
 * multiples of 8) are padded and cropped as deepinv's DRUNet.forward does:
 *
 *   - if every spatial size (h, w in 2D; d, h, w in 3D) is a multiple of 8
 *     and at least 32, the network runs on the input as it is;
 *   - otherwise each spatial size is padded at its end (bottom, right,
 *     back) to the next multiple of 16 by replicating the last slice
 *     (torch.nn.ReplicationPad), the network runs, and the output is
 *     cropped back (deepinv's test_pad(model, x, modulo=16)).
 *
 * The noise-level channel is constant, so padding it gives sigma again.
 * One difference: for 2D images with h, w >= 32 that are not multiples of
 * 8, deepinv splits the image in four overlapping quarters
 * (test_onesplit), which fails for most such sizes in PyTorch; here they
 * are padded like every other size (what deepinv does in training mode).
 * In 3D deepinv has no such split and refuses these sizes. */
#include <string.h>

#include "nn/drunet_internal.h"
#include "nn/tensor.h"

/* Three stride-2 levels: sizes must divide by 2^3. */
#define DRUNET_DIVISOR 8
/* deepinv's test_pad pads to multiples of 16 (modulo=16). */
#define DRUNET_PAD_MODULO 16
/* Below this size deepinv pads even multiples of 8. */
#define DRUNET_MIN_UNPADDED 32

static int64_t round_up(int64_t v, int64_t m) { return (v + m - 1) / m * m; }

void cbct_drunet_padded_shape(const cbct_drunet *net, int64_t d, int64_t h, int64_t w,
                              int64_t padded[3])
{
    int dims = net ? net->config.dims : 3;
    int64_t sizes[3] = {d, h, w};
    int safe = 1;
    for (int i = 3 - dims; i < 3; i++)
        if (sizes[i] % DRUNET_DIVISOR != 0 || sizes[i] < DRUNET_MIN_UNPADDED)
            safe = 0;
    for (int i = 0; i < 3; i++)
        padded[i] = (safe || i < 3 - dims) ? sizes[i] : round_up(sizes[i], DRUNET_PAD_MODULO);
}

void cbct_nn_fill_input(const float *in, int64_t in_channels, int64_t d, int64_t h, int64_t w,
                        float sigma, cbct_nn_tensor *x0)
{
    const int64_t rows = x0->n * x0->c * x0->d * x0->h;
#pragma omp parallel for schedule(static)
    for (int64_t row = 0; row < rows; row++) {
        const int64_t y = row % x0->h, z = row / x0->h % x0->d;
        const int64_t c = row / (x0->h * x0->d) % x0->c, b = row / (x0->h * x0->d * x0->c);
        float *dst = cbct_nn_channel(x0, b, c) + (z * x0->h + y) * x0->w;
        if (c == in_channels) { /* the noise-level map */
            for (int64_t x = 0; x < x0->w; x++)
                dst[x] = sigma;
            continue;
        }
        const int64_t zs = z < d ? z : d - 1, ys = y < h ? y : h - 1; /* replicate */
        const float *src = in + (((b * in_channels + c) * d + zs) * h + ys) * w;
        memcpy(dst, src, (size_t)w * sizeof *dst);
        for (int64_t x = w; x < x0->w; x++)
            dst[x] = src[w - 1];
    }
}

void cbct_nn_crop_output(const cbct_nn_tensor *padded, int64_t d, int64_t h, int64_t w,
                         float *out)
{
    const int64_t rows = padded->n * padded->c * d * h;
#pragma omp parallel for schedule(static)
    for (int64_t row = 0; row < rows; row++) {
        const int64_t y = row % h, z = row / h % d, c = row / (h * d) % padded->c;
        const int64_t b = row / (h * d * padded->c);
        const float *src = cbct_nn_channel(padded, b, c) + (z * padded->h + y) * padded->w;
        memcpy(out + row * w, src, (size_t)w * sizeof *out);
    }
}
