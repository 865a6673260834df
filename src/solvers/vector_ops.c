/* Deterministic vector arithmetic for the solvers. Reductions add partial
 * sums of fixed-size chunks in chunk order, so results are bit-identical
 * for any number of threads. */
#include <math.h>

#include "solvers/solver_internal.h"

/* Elements per partial sum: large enough to amortise the loop, small
 * enough that 1e9-voxel volumes need only ~250k partials. */
#define CHUNK 4096
/* Partials kept on the stack; longer vectors are summed in rounds. */
#define MAX_PARTIALS 1024

typedef double (*chunk_fn)(const float *a, const float *b, int64_t begin, int64_t end);

static double dot_chunk(const float *a, const float *b, int64_t begin, int64_t end)
{
    double s = 0.0;
    for (int64_t i = begin; i < end; i++)
        s += (double)a[i] * (double)b[i];
    return s;
}

static double dist_chunk(const float *a, const float *b, int64_t begin, int64_t end)
{
    double s = 0.0;
    for (int64_t i = begin; i < end; i++) {
        double d = (double)a[i] - (double)b[i];
        s += d * d;
    }
    return s;
}

static double chunked_sum(const float *a, const float *b, int64_t n, chunk_fn fn)
{
    double partial[MAX_PARTIALS];
    double total = 0.0;
    int64_t n_chunks = (n + CHUNK - 1) / CHUNK;
    for (int64_t round = 0; round < n_chunks; round += MAX_PARTIALS) {
        int64_t count = n_chunks - round < MAX_PARTIALS ? n_chunks - round : MAX_PARTIALS;
#pragma omp parallel for schedule(static) if (count > 16)
        for (int64_t c = 0; c < count; c++) {
            int64_t begin = (round + c) * CHUNK;
            int64_t end = begin + CHUNK < n ? begin + CHUNK : n;
            partial[c] = fn(a, b, begin, end);
        }
        for (int64_t c = 0; c < count; c++)
            total += partial[c];
    }
    return total;
}

double cbct_vec_dot(const float *a, const float *b, int64_t n)
{
    return chunked_sum(a, b, n, dot_chunk);
}

double cbct_vec_dist_sq(const float *a, const float *b, int64_t n)
{
    return chunked_sum(a, b, n, dist_chunk);
}

void cbct_vec_axpy(float *y, double alpha, const float *x, int64_t n)
{
    float a = (float)alpha;
#pragma omp parallel for schedule(static) if (n > CBCT_SOLVER_PAR_MIN)
    for (int64_t i = 0; i < n; i++)
        y[i] += a * x[i];
}

void cbct_vec_clamp_min(float *x, float lo, int64_t n)
{
#pragma omp parallel for schedule(static) if (n > CBCT_SOLVER_PAR_MIN)
    for (int64_t i = 0; i < n; i++)
        if (x[i] < lo)
            x[i] = lo;
}
