/* The element-wise ops of DRUNet, shared by every kernel table: loops the
 * compiler vectorises (-O3 -march=native); each element is independent, so
 * any split between threads gives the same bits. */
#include "nn/kernels.h"

void cbct_nn_relu(cbct_nn_tensor *x)
{
    const int64_t n = cbct_nn_numel(x);
    float *restrict v = x->data;
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < n; i++)
        v[i] = v[i] > 0.0f ? v[i] : 0.0f;
}

void cbct_nn_relu_slices(cbct_nn_tensor *x, int64_t z0, int64_t z1)
{
    const int64_t plane = x->h * x->w, count = (z1 - z0) * plane;
#pragma omp parallel for schedule(static)
    for (int64_t bc = 0; bc < x->n * x->c; bc++) {
        float *restrict v = x->data + bc * x->d * plane + z0 * plane;
        for (int64_t i = 0; i < count; i++)
            v[i] = v[i] > 0.0f ? v[i] : 0.0f;
    }
}

void cbct_nn_add(cbct_nn_tensor *x, const cbct_nn_tensor *y)
{
    const int64_t n = cbct_nn_numel(x);
    float *restrict a = x->data;
    const float *restrict b = y->data;
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < n; i++)
        a[i] += b[i];
}
