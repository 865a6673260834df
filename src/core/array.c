/* 3D float arrays with spacing and origin, data from the tracked allocator. */
#include <math.h>
#include <string.h>
#include <time.h>

#include <omp.h>

#include "cbct/core.h"

static cbct_status array_alloc(cbct_array *out, int64_t n0, int64_t n1, int64_t n2,
                               const char *what, int zero)
{
    memset(out, 0, sizeof *out);
    if (n0 <= 0 || n1 <= 0 || n2 <= 0)
        return cbct_error(CBCT_ERR_ARG, "%s: shape %lld x %lld x %lld has a non-positive size",
                          what ? what : "array", (long long)n0, (long long)n1, (long long)n2);
    if (n0 > INT64_MAX / n1 || n0 * n1 > INT64_MAX / n2 / (int64_t)sizeof(float))
        return cbct_error(CBCT_ERR_ARG, "%s: shape %lld x %lld x %lld is too large",
                          what ? what : "array", (long long)n0, (long long)n1, (long long)n2);
    size_t count = (size_t)n0 * (size_t)n1 * (size_t)n2;
    out->data = zero ? cbct_calloc(count, sizeof(float), what)
                     : cbct_alloc(count * sizeof(float), what);
    if (!out->data)
        return CBCT_ERR_MEMORY;
    out->shape[0] = n0;
    out->shape[1] = n1;
    out->shape[2] = n2;
    for (int i = 0; i < 3; i++)
        out->spacing[i] = 1.0;
    return CBCT_OK;
}

cbct_status cbct_array_create(cbct_array *out, int64_t n0, int64_t n1, int64_t n2,
                              const char *what)
{
    return array_alloc(out, n0, n1, n2, what, 0);
}

cbct_status cbct_array_zeros(cbct_array *out, int64_t n0, int64_t n1, int64_t n2,
                             const char *what)
{
    return array_alloc(out, n0, n1, n2, what, 1);
}

void cbct_array_destroy(cbct_array *a)
{
    if (!a)
        return;
    cbct_free(a->data);
    memset(a, 0, sizeof *a);
}

int64_t cbct_array_numel(const cbct_array *a)
{
    return a->shape[0] * a->shape[1] * a->shape[2];
}

cbct_status cbct_check_finite(const float *data, int64_t n, const char *what)
{
    int64_t first_bad = -1;
    for (int64_t i = 0; i < n; i++) {
        if (!isfinite(data[i])) {
            first_bad = i;
            break;
        }
    }
    if (first_bad >= 0)
        return cbct_error(CBCT_ERR_NUMERIC, "%s: non-finite value (%g) at flat index %lld",
                          what, (double)data[first_bad], (long long)first_bad);
    return CBCT_OK;
}

void cbct_set_threads(int n_threads)
{
    if (n_threads > 0)
        omp_set_num_threads(n_threads);
}

int cbct_threads(void) { return omp_get_max_threads(); }

double cbct_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}
