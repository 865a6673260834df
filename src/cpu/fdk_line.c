/* The innermost FDK back-projection loop: one view added to a run of
 * voxels along x. Coordinates come shifted by +1 (so that they are
 * non-negative, truncation is floor, and the clamped extremes 0 and end
 * read the zero border of the padded view).
 *
 * With AVX-512, 16 voxels at a time. Their detector footprint is usually a
 * few rows by at most 31 columns (column and row are monotonic along a
 * line, so lanes 0 and 15 bound it): the four bilinear neighbours are then
 * picked out of two 16-float loads per row with in-register permutes, which
 * is several times cheaper than hardware gathers; other footprints use
 * gathers. Both give the same values, and every voxel's arithmetic depends
 * only on its own x: results do not depend on how lines are blocked. */
#include <math.h>
#include <stdlib.h>

#include "cpu/fdk_kernels.h"

#ifdef __AVX512F__
#include <immintrin.h>
#endif

/* a * b + c rounded once where the CPU has FMA (as the vector code does);
 * without it, fmaf would be a slow software routine. */
static inline float mul_add(float a, float b, float c)
{
#ifdef __FMA__
    return fmaf(a, b, c);
#else
    return a * b + c;
#endif
}

static void add_view_portable(const cbct_fdk_line_view *lv, int64_t lo, int64_t hi,
                              const float *restrict view, float *restrict line)
{
    int pitch = lv->pitch;
    for (int64_t ix = lo; ix < hi; ix++) {
        float x = (float)ix;
        float inv_w = 1.0f / mul_add(x, lv->dw, lv->w0);
        float col = mul_add(x, lv->dnu, lv->nu0) * inv_w;
        float row = mul_add(x, lv->dnv, lv->nv0) * inv_w;
        col = col > 0.0f ? col : 0.0f;
        col = col < lv->col_end ? col : lv->col_end;
        row = row > 0.0f ? row : 0.0f;
        row = row < lv->row_end ? row : lv->row_end;
        int ic = (int)col, ir = (int)row;
        float ac = col - (float)ic, ar = row - (float)ir;
        int idx = ir * pitch + ic;
        float p00 = view[idx], p01 = view[idx + 1];
        float p10 = view[idx + pitch], p11 = view[idx + pitch + 1];
        float top = mul_add(ac, p01 - p00, p00);
        float bottom = mul_add(ac, p11 - p10, p10);
        line[ix] = mul_add(mul_add(ar, bottom - top, top), inv_w * inv_w, line[ix]);
    }
}

#ifdef __AVX512F__

/* Lane 0 and lane 15 of an integer vector. */
static inline int first_lane(__m512i v) { return _mm_cvtsi128_si32(_mm512_castsi512_si128(v)); }
static inline int last_lane(__m512i v)
{
    return _mm_extract_epi32(_mm512_extracti32x4_epi32(v, 3), 3);
}

/* Widest footprint fetched with permutes: 32 floats per row load pair, and
 * the right neighbour must be among them; lanes on up to 4 distinct rows. */
#define PERMUTE_MAX_COL_SPAN 30
#define PERMUTE_MAX_ROW_SPAN 3

typedef struct corners {
    __m512 p00, p01, p10, p11;
} corners;

/* Pixels `local` and `local` + 1 of the 32 floats from `src`. */
static inline void pick_pair(const float *src, __m512i local, __m512i local_right, __m512 *here,
                             __m512 *next)
{
    __m512 left16 = _mm512_loadu_ps(src), right16 = _mm512_loadu_ps(src + 16);
    *here = _mm512_permutex2var_ps(left16, local, right16);
    *next = _mm512_permutex2var_ps(left16, local_right, right16);
}

/* local: column minus col_min, in [0, PERMUTE_MAX_COL_SPAN] for all lanes;
 * ir in [row_min, row_min + row_span]. Starts from every lane on row_min
 * and moves the lanes on each further row to that row's pixels. */
static inline corners fetch_permute(const float *view, int pitch, __m512i local, __m512i ir,
                                    int col_min, int row_min, int row_span)
{
    __m512i local_right = _mm512_add_epi32(local, _mm512_set1_epi32(1));
    const float *src = view + (int64_t)row_min * pitch + col_min;
    corners c;
    pick_pair(src, local, local_right, &c.p00, &c.p01);
    pick_pair(src + pitch, local, local_right, &c.p10, &c.p11);
    __m512 here = c.p10, next = c.p11; /* row_min + k */
    for (int k = 1; k <= row_span; k++) {
        __mmask16 on_row = _mm512_cmpeq_epi32_mask(ir, _mm512_set1_epi32(row_min + k));
        c.p00 = _mm512_mask_mov_ps(c.p00, on_row, here);
        c.p01 = _mm512_mask_mov_ps(c.p01, on_row, next);
        pick_pair(src + (int64_t)(k + 1) * pitch, local, local_right, &here, &next);
        c.p10 = _mm512_mask_mov_ps(c.p10, on_row, here);
        c.p11 = _mm512_mask_mov_ps(c.p11, on_row, next);
    }
    return c;
}

static inline corners fetch_gather(const float *view, int pitch, __m512i ic, __m512i ir)
{
    __m512i idx = _mm512_add_epi32(_mm512_mullo_epi32(ir, _mm512_set1_epi32(pitch)), ic);
    corners c;
    c.p00 = _mm512_i32gather_ps(idx, view, 4);
    c.p01 = _mm512_i32gather_ps(idx, view + 1, 4);
    c.p10 = _mm512_i32gather_ps(idx, view + pitch, 4);
    c.p11 = _mm512_i32gather_ps(idx, view + pitch + 1, 4);
    return c;
}

static void add_view_avx512(const cbct_fdk_line_view *lv, int64_t lo, int64_t hi,
                            const float *view, float *line)
{
    const __m512 lane = _mm512_setr_ps(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    const __m512 zero = _mm512_setzero_ps(), one = _mm512_set1_ps(1.0f);
    const __m512 sixteen = _mm512_set1_ps(16.0f);
    const __m512 col_end = _mm512_set1_ps(lv->col_end), row_end = _mm512_set1_ps(lv->row_end);
    const __m512 nu0 = _mm512_set1_ps(lv->nu0), dnu = _mm512_set1_ps(lv->dnu);
    const __m512 nv0 = _mm512_set1_ps(lv->nv0), dnv = _mm512_set1_ps(lv->dnv);
    const __m512 w0 = _mm512_set1_ps(lv->w0), dw = _mm512_set1_ps(lv->dw);
    const __m512 last_x = _mm512_set1_ps((float)(hi - 1));
    int pitch = lv->pitch;
    /* Voxel indices as floats (exact below 2^24). */
    __m512 x_next = _mm512_add_ps(_mm512_set1_ps((float)lo), lane);
    for (int64_t start = lo; start < hi; start += 16) {
        /* Lanes past the end repeat the last voxel (valid, monotonic) and
         * are not stored. */
        __mmask16 keep = hi - start >= 16 ? 0xFFFF : (__mmask16)((1u << (hi - start)) - 1);
        __m512 x = _mm512_min_ps(x_next, last_x);
        x_next = _mm512_add_ps(x_next, sixteen);
        __m512 inv_w = _mm512_div_ps(one, _mm512_fmadd_ps(x, dw, w0));
        __m512 col = _mm512_mul_ps(_mm512_fmadd_ps(x, dnu, nu0), inv_w);
        __m512 row = _mm512_mul_ps(_mm512_fmadd_ps(x, dnv, nv0), inv_w);
        col = _mm512_min_ps(_mm512_max_ps(col, zero), col_end);
        row = _mm512_min_ps(_mm512_max_ps(row, zero), row_end);
        __m512i ic = _mm512_cvttps_epi32(col), ir = _mm512_cvttps_epi32(row);
        __m512 ac = _mm512_sub_ps(col, _mm512_cvtepi32_ps(ic));
        __m512 ar = _mm512_sub_ps(row, _mm512_cvtepi32_ps(ir));
        int c_first = first_lane(ic), c_last = last_lane(ic);
        int r_first = first_lane(ir), r_last = last_lane(ir);
        int col_min = c_first < c_last ? c_first : c_last;
        int row_min = r_first < r_last ? r_first : r_last;
        int row_span = abs(r_last - r_first);
        /* Float rounding can bend monotonicity by an ulp: check every lane
         * (unsigned compares also catch lanes below the minimum). */
        __m512i col_local = _mm512_sub_epi32(ic, _mm512_set1_epi32(col_min));
        __m512i row_local = _mm512_sub_epi32(ir, _mm512_set1_epi32(row_min));
        __mmask16 outside =
            _mm512_cmpgt_epu32_mask(col_local, _mm512_set1_epi32(PERMUTE_MAX_COL_SPAN)) |
            _mm512_cmpgt_epu32_mask(row_local, _mm512_set1_epi32(row_span));
        corners c = outside == 0 && row_span <= PERMUTE_MAX_ROW_SPAN
                        ? fetch_permute(view, pitch, col_local, ir, col_min, row_min, row_span)
                        : fetch_gather(view, pitch, ic, ir);
        __m512 top = _mm512_fmadd_ps(ac, _mm512_sub_ps(c.p01, c.p00), c.p00);
        __m512 bottom = _mm512_fmadd_ps(ac, _mm512_sub_ps(c.p11, c.p10), c.p10);
        __m512 value = _mm512_fmadd_ps(ar, _mm512_sub_ps(bottom, top), top);
        __m512 old = _mm512_maskz_loadu_ps(keep, line + start);
        __m512 sum = _mm512_fmadd_ps(value, _mm512_mul_ps(inv_w, inv_w), old);
        _mm512_mask_storeu_ps(line + start, keep, sum);
    }
}
#endif

void cbct_fdk_add_view_to_line(const cbct_fdk_line_view *lv, int64_t lo, int64_t hi,
                               const float *view, float *line)
{
#ifdef __AVX512F__
    add_view_avx512(lv, lo, hi, view, line);
#else
    add_view_portable(lv, lo, hi, view, line);
#endif
}

void cbct_fdk_add_view_to_line_portable(const cbct_fdk_line_view *lv, int64_t lo, int64_t hi,
                                        const float *view, float *line)
{
    add_view_portable(lv, lo, hi, view, line);
}
