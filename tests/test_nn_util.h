/* Helpers shared by the DRUNet kernel tests (test_nn_kernels*.c). */
#ifndef TEST_NN_UTIL_H
#define TEST_NN_UTIL_H

#include <math.h>
#include <stdlib.h>

#include "check.h"
#include "nn/kernels.h"

/* `count` floats from check_random (malloc'd; the caller frees them). */
static inline float *nn_test_random_floats(int64_t count, unsigned long long seed)
{
    float *v = malloc((size_t)count * sizeof *v);
    for (int64_t i = 0; i < count; i++)
        v[i] = check_random(&seed);
    return v;
}

/* The element-wise ops of kernel table `k` on random 2 x 3 x 1 x 5 x 7
 * tensors (seeds seed_x, seed_y): add, then relu, both exact. With
 * `no_negative_zero`, relu must also give +0, never -0. */
static inline void nn_test_check_add_relu(const cbct_nn_kernels *k, unsigned long long seed_x,
                                          unsigned long long seed_y, int no_negative_zero)
{
    cbct_nn_tensor x = {2, 3, 1, 5, 7, nn_test_random_floats(210, seed_x)};
    cbct_nn_tensor y = {2, 3, 1, 5, 7, nn_test_random_floats(210, seed_y)};
    float *x0 = nn_test_random_floats(210, seed_x);
    k->add(&x, &y);
    int ok = 1;
    for (int i = 0; i < 210; i++)
        ok &= x.data[i] == x0[i] + y.data[i];
    CHECK_MSG(ok, "%s: add", k->name);
    k->relu(&x);
    for (int i = 0; i < 210; i++)
        ok &= x.data[i] == fmaxf(x0[i] + y.data[i], 0.0f) &&
              !(no_negative_zero && signbit(x.data[i]));
    CHECK_MSG(ok, "%s: relu", k->name);
    free(x.data), free(y.data), free(x0);
}

#endif
