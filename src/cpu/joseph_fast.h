/* Single-precision rays of the fast Joseph kernels (scalar and AVX-512
 * paths share this set-up and the sample arithmetic, so they give the same
 * bits). */
#ifndef CBCT_CPU_JOSEPH_FAST_H
#define CBCT_CPU_JOSEPH_FAST_H

#include "cpu/joseph.h"

typedef struct fast_ray {
    int axis_a;              /* dominant axis (0 z, 1 y, 2 x) */
    float fb0, db, fc0, dc, step_mm;
    int64_t stride_a, stride_b, stride_c;
    int64_t z_offset;        /* subtracted from full-volume offsets (slab start) */
    int32_t lo_b, hi_b, lo_c, hi_c; /* valid index ranges [lo, hi) */
    int64_t k_first, k_last; /* all samples */
    int64_t ki0, ki1;        /* interior samples: no bounds checks needed */
} fast_ray;

/* Returns 0 when the ray from the source through pixel (row, col) misses
 * the slab. */
int fast_ray_setup(const joseph_view *jv, const joseph_slab *slab, int64_t row, int64_t col,
                   fast_ray *fr);

/* Points a ray that advances along x at a copy of the slab stored
 * (z, x, y), y fastest: the same voxels with the strides of x and y
 * exchanged, so that neighbouring rays touch neighbouring floats. */
static inline void fast_ray_use_yx(fast_ray *fr, const joseph_slab *slab)
{
    fr->stride_a = slab->hi[1]; /* ny */
    fr->stride_c = 1;
}

/* Line integral of one ray (scalar path). */
float fast_ray_sum(const float *vol, const fast_ray *fr);

/* Adds value times the ray's weights into the slab (scalar path). */
void fast_ray_scatter(float *vol, const fast_ray *fr, float value);

/* Index and weights of sample k, the same arithmetic for every path. */
#define SAMPLE_COORDS(fr, k, ib, ic, wb, wc)                                   \
    float fb_ = (fr)->fb0 + (float)(k) * (fr)->db;                             \
    float fc_ = (fr)->fc0 + (float)(k) * (fr)->dc;                             \
    float fbf_ = floorf(fb_), fcf_ = floorf(fc_);                              \
    int32_t ib = (int32_t)fbf_, ic = (int32_t)fcf_;                            \
    float wb = fb_ - fbf_, wc = fc_ - fcf_

/* AVX-512 tracer of columns [c0, c1] of one detector row: out[c - c0] = ray
 * sum (+= when accumulate). `vol_yx` (optional) is the same slab stored
 * (z, x, y), y fastest, for the rays that advance along x. Returns 0 when it cannot handle the case (no
 * AVX-512 at compile time, or a slab of 2^31 floats or more) so that the
 * caller uses the scalar path. */
int joseph_row_sum_avx512(const joseph_view *jv, const joseph_slab *slab, const float *vol,
                          const float *vol_yx, int64_t row, int64_t c0, int64_t c1, float *out,
                          int accumulate);

/* AVX-512 adjoint of columns [c0, c1] of one row: adds values[c - c0]
 * along each ray into the slab (rays along x into `vol_yx`, the y-fastest
 * copy, when given), in the scalar path's order. Returns 0 when it cannot
 * handle the case. */
int joseph_row_scatter_avx512(const joseph_view *jv, const joseph_slab *slab, float *vol,
                              float *vol_yx, int64_t row, int64_t c0, int64_t c1,
                              const float *values);

#endif
