/* Activations of the denoiser: a batch of multi-channel volumes stored
 * (n, c, d, h, w), w fastest; 2D networks use d = 1. Not part of the
 * public API. */
#ifndef CBCT_NN_TENSOR_H
#define CBCT_NN_TENSOR_H

#include <stddef.h>
#include <stdint.h>

typedef struct cbct_nn_tensor {
    int64_t n, c, d, h, w;
    float *data; /* tracked allocation, or the caller's buffer */
} cbct_nn_tensor;

static inline int64_t cbct_nn_spatial(const cbct_nn_tensor *t)
{
    return t->d * t->h * t->w;
}

static inline int64_t cbct_nn_numel(const cbct_nn_tensor *t)
{
    return t->n * t->c * cbct_nn_spatial(t);
}

/* The volume of channel `c` of sample `b`. */
static inline float *cbct_nn_channel(const cbct_nn_tensor *t, int64_t b, int64_t c)
{
    return t->data + (b * t->c + c) * cbct_nn_spatial(t);
}

#endif
