/* The x direction of the F(4, 3) Winograd transforms (src/nn/conv_winograd.c)
 * on one row of the volume: tile t covers outputs x = 4 t .. 4 t + 3 and
 * reads inputs x = 4 t - 1 .. 4 t + 4 (zero outside [0, w)), so the row is
 * split by x modulo 4 on the way in and interleaved again on the way out.
 *
 * Two versions of each, equal to the bit (the same operations in the same
 * order; tests/test_nn_winograd_x.c compares them on every tail):
 *   - portable C: the row is copied with its zero borders and split into
 *     four arrays, then transformed by loops the compiler vectorises;
 *   - AVX-512: 16 tiles at a time straight from the row, masked loads for
 *     the borders, the split and the interleave by two rounds of
 *     vpermt2ps in registers (no copy, no split arrays).
 * On Zen 5 the AVX-512 version made the 16 -> 16 channel layer 1.2x faster
 * (the split and the copy took a fifth of its time). */
#ifndef CBCT_NN_WINOGRAD_X_H
#define CBCT_NN_WINOGRAD_X_H

#include <stdint.h>
#include <string.h>

#ifdef __AVX512F__
#include <immintrin.h>
#endif

/* F(4, 3) input transform B^T d of six values, n at a time. */
static inline void winograd_input_1d_yx(const float *restrict d0, const float *restrict d1,
                                        const float *restrict d2, const float *restrict d3,
                                        const float *restrict d4, const float *restrict d5,
                                        float *restrict o0, float *restrict o1,
                                        float *restrict o2, float *restrict o3,
                                        float *restrict o4, float *restrict o5, int64_t n)
{
    for (int64_t i = 0; i < n; i++) {
        const float a = d4[i] - 4.0f * d2[i], b = d3[i] - 4.0f * d1[i];
        const float c = d4[i] - d2[i], e = 2.0f * (d3[i] - d1[i]);
        o0[i] = 4.0f * d0[i] - 5.0f * d2[i] + d4[i];
        o1[i] = a + b;
        o2[i] = a - b;
        o3[i] = c + e;
        o4[i] = c - e;
        o5[i] = 4.0f * d1[i] - 5.0f * d3[i] + d5[i];
    }
}

/* F(4, 3) output transform A^T m of six values, n at a time. */
static inline void winograd_output_1d_yx(const float *restrict m0, const float *restrict m1,
                                         const float *restrict m2, const float *restrict m3,
                                         const float *restrict m4, const float *restrict m5,
                                         float *restrict y0, float *restrict y1,
                                         float *restrict y2, float *restrict y3, int64_t n)
{
    for (int64_t i = 0; i < n; i++) {
        const float sum12 = m1[i] + m2[i], dif12 = m1[i] - m2[i];
        const float sum34 = m3[i] + m4[i], dif34 = m3[i] - m4[i];
        y0[i] = m0[i] + sum12 + sum34;
        y1[i] = dif12 + 2.0f * dif34;
        y2[i] = sum12 + 4.0f * sum34;
        y3[i] = dif12 + 8.0f * dif34 + m5[i];
    }
}

/* Floats of work space the portable versions need for rows of tw tiles. */
static inline int64_t winograd_x_work_floats(int64_t tw)
{
    return 8 * (tw + 1);
}

/* o + k o_step, k = 0 .. 5 (o_step >= tw): B^T along x of the row (w
 * floats) for tiles 0 .. tw - 1 (4 tw >= w). */
static inline void winograd_input_x_portable(const float *row, int64_t w, int64_t tw,
                                             float *restrict o, int64_t o_step,
                                             float *restrict work)
{
    const int64_t n = tw + 1;
    float *padded = work;         /* x = -1 .. 4 tw + 2 */
    float *phase = work + 4 * n;  /* [q][t] = x 4 t + q - 1 */
    padded[0] = 0.0f;
    memcpy(padded + 1, row, (size_t)w * sizeof(float));
    for (int64_t x = w + 1; x < 4 * n; x++)
        padded[x] = 0.0f;
    for (int64_t t = 0; t < n; t++)
        for (int q = 0; q < 4; q++)
            phase[q * n + t] = padded[4 * t + q];
    winograd_input_1d_yx(phase, phase + n, phase + 2 * n, phase + 3 * n, phase + 1, phase + n + 1,
                         o, o + o_step, o + 2 * o_step, o + 3 * o_step, o + 4 * o_step,
                         o + 5 * o_step, tw);
}

/* dst[x] (+)= A^T along x of m + k tw, k = 0 .. 5, for x in [0, w). */
static inline void winograd_output_x_portable(const float *m, int64_t tw, float *restrict dst,
                                              int64_t w, int accumulate, float *restrict work)
{
    winograd_output_1d_yx(m, m + tw, m + 2 * tw, m + 3 * tw, m + 4 * tw, m + 5 * tw, work,
                          work + tw, work + 2 * tw, work + 3 * tw, tw);
    for (int64_t x = 0; x < w; x++) {
        const float value = work[(x % 4) * tw + x / 4];
        dst[x] = accumulate ? dst[x] + value : value;
    }
}

#ifdef __AVX512F__
/* Lanes of a 16-float access at x0 that fall in [0, w). */
static inline __mmask16 winograd_lanes(int64_t x0, int64_t w)
{
    const int64_t lo = x0 < 0 ? -x0 : 0, hi = w - x0 < 16 ? w - x0 : 16;
    if (hi <= lo)
        return 0;
    return (__mmask16)(((1u << hi) - 1u) & ~((1u << lo) - 1u));
}

/* The first n of 16 lanes. */
static inline __mmask16 winograd_first(int64_t n)
{
    return n >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << n) - 1u);
}

static inline void winograd_input_x_avx512(const float *row, int64_t w, int64_t tw,
                                           float *restrict o, int64_t o_step)
{
    const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28,
                                           30);
    const __m512i odd = _mm512_add_epi32(even, _mm512_set1_epi32(1));
    const __m512i next = _mm512_setr_epi32(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16);
    const __m512 four = _mm512_set1_ps(4.0f), five = _mm512_set1_ps(5.0f);
    const __m512 two = _mm512_set1_ps(2.0f);
    for (int64_t t0 = 0; t0 < tw; t0 += 16) {
        const int64_t x0 = 4 * t0 - 1; /* the first input of tile t0 */
        __m512 a[4];
        for (int j = 0; j < 4; j++) {
            const int64_t x = x0 + 16 * j;
            const __mmask16 lanes = winograd_lanes(x, w);
            /* lanes before x = 0 are masked: start the access at the row */
            a[j] = x < 0 ? _mm512_maskz_expandloadu_ps(lanes, row)
                         : _mm512_maskz_loadu_ps(lanes, row + x);
        }
        const __m512 e01 = _mm512_permutex2var_ps(a[0], even, a[1]);
        const __m512 o01 = _mm512_permutex2var_ps(a[0], odd, a[1]);
        const __m512 e23 = _mm512_permutex2var_ps(a[2], even, a[3]);
        const __m512 o23 = _mm512_permutex2var_ps(a[2], odd, a[3]);
        const __m512 d0 = _mm512_permutex2var_ps(e01, even, e23); /* x = 4 t - 1 */
        const __m512 d1 = _mm512_permutex2var_ps(o01, even, o23); /* 4 t */
        const __m512 d2 = _mm512_permutex2var_ps(e01, odd, e23);  /* 4 t + 1 */
        const __m512 d3 = _mm512_permutex2var_ps(o01, odd, o23);  /* 4 t + 2 */
        const float after0 = x0 + 64 < w ? row[x0 + 64] : 0.0f;
        const float after1 = x0 + 65 < w ? row[x0 + 65] : 0.0f;
        const __m512 d4 = _mm512_permutex2var_ps(d0, next, _mm512_set1_ps(after0)); /* 4 t + 3 */
        const __m512 d5 = _mm512_permutex2var_ps(d1, next, _mm512_set1_ps(after1)); /* 4 t + 4 */
        /* the portable loop's operations, in its order */
        const __m512 a_ = _mm512_sub_ps(d4, _mm512_mul_ps(four, d2));
        const __m512 b_ = _mm512_sub_ps(d3, _mm512_mul_ps(four, d1));
        const __m512 c_ = _mm512_sub_ps(d4, d2);
        const __m512 e_ = _mm512_mul_ps(two, _mm512_sub_ps(d3, d1));
        const __m512 r0 = _mm512_add_ps(
            _mm512_sub_ps(_mm512_mul_ps(four, d0), _mm512_mul_ps(five, d2)), d4);
        const __m512 r5 = _mm512_add_ps(
            _mm512_sub_ps(_mm512_mul_ps(four, d1), _mm512_mul_ps(five, d3)), d5);
        const __mmask16 keep = winograd_first(tw - t0);
        _mm512_mask_storeu_ps(o + t0, keep, r0);
        _mm512_mask_storeu_ps(o + o_step + t0, keep, _mm512_add_ps(a_, b_));
        _mm512_mask_storeu_ps(o + 2 * o_step + t0, keep, _mm512_sub_ps(a_, b_));
        _mm512_mask_storeu_ps(o + 3 * o_step + t0, keep, _mm512_add_ps(c_, e_));
        _mm512_mask_storeu_ps(o + 4 * o_step + t0, keep, _mm512_sub_ps(c_, e_));
        _mm512_mask_storeu_ps(o + 5 * o_step + t0, keep, r5);
    }
}

static inline void winograd_output_x_avx512(const float *m, int64_t tw, float *restrict dst,
                                            int64_t w, int accumulate)
{
    const __m512i lo = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    const __m512i hi = _mm512_add_epi32(lo, _mm512_set1_epi32(8));
    const __m512i pairs_lo = _mm512_setr_epi32(0, 1, 16, 17, 2, 3, 18, 19, 4, 5, 20, 21, 6, 7, 22,
                                               23);
    const __m512i pairs_hi = _mm512_add_epi32(pairs_lo, _mm512_set1_epi32(8));
    const __m512 two = _mm512_set1_ps(2.0f), four = _mm512_set1_ps(4.0f);
    const __m512 eight = _mm512_set1_ps(8.0f);
    for (int64_t t0 = 0; t0 < tw; t0 += 16) {
        const __mmask16 keep = winograd_first(tw - t0);
        __m512 mm[6];
        for (int k = 0; k < 6; k++)
            mm[k] = _mm512_maskz_loadu_ps(keep, m + k * tw + t0);
        const __m512 sum12 = _mm512_add_ps(mm[1], mm[2]), dif12 = _mm512_sub_ps(mm[1], mm[2]);
        const __m512 sum34 = _mm512_add_ps(mm[3], mm[4]), dif34 = _mm512_sub_ps(mm[3], mm[4]);
        const __m512 y0 = _mm512_add_ps(_mm512_add_ps(mm[0], sum12), sum34);
        const __m512 y1 = _mm512_add_ps(dif12, _mm512_mul_ps(two, dif34));
        const __m512 y2 = _mm512_add_ps(sum12, _mm512_mul_ps(four, sum34));
        const __m512 y3 = _mm512_add_ps(_mm512_add_ps(dif12, _mm512_mul_ps(eight, dif34)), mm[5]);
        const __m512 lo01 = _mm512_permutex2var_ps(y0, lo, y1);
        const __m512 hi01 = _mm512_permutex2var_ps(y0, hi, y1);
        const __m512 lo23 = _mm512_permutex2var_ps(y2, lo, y3);
        const __m512 hi23 = _mm512_permutex2var_ps(y2, hi, y3);
        const __m512 out[4] = {_mm512_permutex2var_ps(lo01, pairs_lo, lo23),
                               _mm512_permutex2var_ps(lo01, pairs_hi, lo23),
                               _mm512_permutex2var_ps(hi01, pairs_lo, hi23),
                               _mm512_permutex2var_ps(hi01, pairs_hi, hi23)};
        for (int j = 0; j < 4; j++) {
            const int64_t x = 4 * t0 + 16 * j;
            const __mmask16 lanes = winograd_lanes(x, w);
            if (!lanes)
                break;
            __m512 value = out[j];
            if (accumulate)
                value = _mm512_add_ps(_mm512_maskz_loadu_ps(lanes, dst + x), value);
            _mm512_mask_storeu_ps(dst + x, lanes, value);
        }
    }
}
#endif

/* The versions the kernel runs. `work`: winograd_x_work_floats(tw). */
static inline void winograd_input_x(const float *row, int64_t w, int64_t tw, float *restrict o,
                                    int64_t o_step, float *restrict work)
{
#ifdef __AVX512F__
    (void)work;
    winograd_input_x_avx512(row, w, tw, o, o_step);
#else
    winograd_input_x_portable(row, w, tw, o, o_step, work);
#endif
}

static inline void winograd_output_x(const float *m, int64_t tw, float *restrict dst, int64_t w,
                                     int accumulate, float *restrict work)
{
#ifdef __AVX512F__
    (void)work;
    winograd_output_x_avx512(m, tw, dst, w, accumulate);
#else
    winograd_output_x_portable(m, tw, dst, w, accumulate, work);
#endif
}

#endif
