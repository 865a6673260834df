/* AVX-512 Joseph kernels for one detector row: 16 neighbouring rays traced
 * together, one lane each. Neighbouring rays touch neighbouring voxels, so
 * a step of 16 rays shares cache lines and keeps many memory requests in
 * flight.
 *
 * Each lane performs exactly the scalar path's operations (sample k at
 * fb0 + k db, bilinear weights from the same expressions, missing
 * neighbours read as zero or skipped), so the results are bit-identical to
 * fast_ray_sum / the scalar scatter:
 * - forward: a lane's running sum in k order; samples outside the lane's
 *   own range are masked out;
 * - adjoint: the writes of one step k go out lane by lane in column order.
 *   A voxel lies in one plane k of the dominant axis, so it receives its
 *   contributions in the same (row, column) order as ray after ray. */
#include "cpu/joseph_fast.h"

#ifdef __AVX512F__
#include <immintrin.h>

enum { LANES = 16 };

/* The rays of one group of columns, as vectors. */
typedef struct lane_group {
    int n;      /* columns in the group (<= LANES) */
    int axis;   /* the shared dominant axis, -1 when no ray is valid */
    int64_t k_min, k_max;
    const fast_ray *first; /* a valid ray: strides and bounds are shared */
    __m512 fb0, db, fc0, dc, step;
    __m512i k_first, k_last;
} lane_group;

/* Returns 0 when the valid rays do not share a dominant axis. */
static int group_setup(const fast_ray *rays, const int *valid, int n, lane_group *g)
{
    float fb0[LANES] = {0}, db[LANES] = {0}, fc0[LANES] = {0}, dc[LANES] = {0};
    float step[LANES] = {0};
    int32_t kf[LANES], kl[LANES];
    g->n = n;
    g->axis = -1;
    g->k_min = INT64_MAX;
    g->k_max = INT64_MIN;
    g->first = NULL;
    for (int l = 0; l < LANES; l++) {
        kf[l] = 1; /* an empty range for lanes without a ray */
        kl[l] = 0;
        if (l >= n || !valid[l])
            continue;
        const fast_ray *r = &rays[l];
        if (g->axis >= 0 && r->axis_a != g->axis)
            return 0;
        g->axis = r->axis_a;
        if (!g->first)
            g->first = r;
        fb0[l] = r->fb0;
        db[l] = r->db;
        fc0[l] = r->fc0;
        dc[l] = r->dc;
        step[l] = r->step_mm;
        kf[l] = (int32_t)r->k_first;
        kl[l] = (int32_t)r->k_last;
        g->k_min = r->k_first < g->k_min ? r->k_first : g->k_min;
        g->k_max = r->k_last > g->k_max ? r->k_last : g->k_max;
    }
    g->fb0 = _mm512_loadu_ps(fb0);
    g->db = _mm512_loadu_ps(db);
    g->fc0 = _mm512_loadu_ps(fc0);
    g->dc = _mm512_loadu_ps(dc);
    g->step = _mm512_loadu_ps(step);
    g->k_first = _mm512_loadu_si512(kf);
    g->k_last = _mm512_loadu_si512(kl);
    return 1;
}

/* Mask of lanes whose index i lies in [lo, hi). */
static inline __mmask16 in_range(__m512i i, int32_t lo, int32_t hi)
{
    return _mm512_cmpge_epi32_mask(i, _mm512_set1_epi32(lo)) &
           _mm512_cmplt_epi32_mask(i, _mm512_set1_epi32(hi));
}

/* Sample k of every lane: offsets of the four neighbours (b, c), (b+1, c),
 * (b, c+1), (b+1, c+1), their masks and the weights wb, wc. */
typedef struct lane_sample {
    __m512i idx[4];
    __mmask16 mask[4];
    __mmask16 active; /* lanes whose ray has sample k */
    __m512i ib, ic;
    __m512 wb, wc;
} lane_sample;

static inline void sample_lanes(const lane_group *g, int64_t k, lane_sample *s)
{
    const fast_ray *r = g->first;
    const __m512i v_k = _mm512_set1_epi32((int32_t)k);
    __mmask16 active = _mm512_cmpge_epi32_mask(v_k, g->k_first) &
                       _mm512_cmple_epi32_mask(v_k, g->k_last);
    const __m512 kk = _mm512_set1_ps((float)k);
    __m512 fb = _mm512_add_ps(g->fb0, _mm512_mul_ps(kk, g->db));
    __m512 fc = _mm512_add_ps(g->fc0, _mm512_mul_ps(kk, g->dc));
    __m512 fbf = _mm512_roundscale_ps(fb, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC);
    __m512 fcf = _mm512_roundscale_ps(fc, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC);
    s->wb = _mm512_sub_ps(fb, fbf);
    s->wc = _mm512_sub_ps(fc, fcf);
    __m512i ib = _mm512_cvttps_epi32(fbf), ic = _mm512_cvttps_epi32(fcf);
    const __m512i one = _mm512_set1_epi32(1);
    __mmask16 b0 = in_range(ib, r->lo_b, r->hi_b);
    __mmask16 b1 = in_range(_mm512_add_epi32(ib, one), r->lo_b, r->hi_b);
    __mmask16 c0 = in_range(ic, r->lo_c, r->hi_c);
    __mmask16 c1 = in_range(_mm512_add_epi32(ic, one), r->lo_c, r->hi_c);
    const __m512i stride_b = _mm512_set1_epi32((int32_t)r->stride_b);
    const __m512i stride_c = _mm512_set1_epi32((int32_t)r->stride_c);
    /* Offset of voxel (k, ib, ic) from the slab start, in floats. */
    __m512i base = _mm512_set1_epi32((int32_t)(k * r->stride_a - r->z_offset));
    s->idx[0] = _mm512_add_epi32(base, _mm512_add_epi32(_mm512_mullo_epi32(ib, stride_b),
                                                        _mm512_mullo_epi32(ic, stride_c)));
    s->idx[1] = _mm512_add_epi32(s->idx[0], stride_b);
    s->idx[2] = _mm512_add_epi32(s->idx[0], stride_c);
    s->idx[3] = _mm512_add_epi32(s->idx[1], stride_c);
    s->active = active;
    s->ib = ib;
    s->ic = ic;
    s->mask[0] = active & b0 & c0;
    s->mask[1] = active & b1 & c0;
    s->mask[2] = active & b0 & c1;
    s->mask[3] = active & b1 & c1;
}

/* Width (floats) of the window two 16-float loads cover. */
enum { WINDOW = 2 * LANES };

/* Most b rows the window path reads for one step (lanes of a detector row
 * straddle a few slices where the cone is steep); beyond, gathers. */
enum { MAX_WINDOW_ROWS = 6 };

/* The four neighbours of every lane from contiguous loads instead of
 * gathers, when the c axis is contiguous in memory, the active lanes' b
 * indices span a few rows and their c indices fit one window: two 16-float
 * loads per b row, rearranged by permutes, each lane taking its own pair of
 * rows. Out-of-slab positions load as zero (masked loads), as in the gather
 * path. Returns 0 when it does not apply. */
static inline int window_neighbours(const lane_group *g, const lane_sample *s, int64_t k,
                                    const float *vol, __m512 p[4])
{
    const fast_ray *r = g->first;
    if (r->stride_c != 1 || !s->active)
        return 0;
    int32_t ib_min = _mm512_mask_reduce_min_epi32(s->active, s->ib);
    int32_t n_rows = _mm512_mask_reduce_max_epi32(s->active, s->ib) - ib_min + 2;
    if (n_rows > MAX_WINDOW_ROWS)
        return 0;
    int32_t c_min = _mm512_mask_reduce_min_epi32(s->active, s->ic);
    int32_t c_max = _mm512_mask_reduce_max_epi32(s->active, s->ic);
    if (c_max + 1 - c_min >= WINDOW)
        return 0;
    /* Window positions c_min + j that lie inside the slab along c. */
    int32_t j0 = r->lo_c - c_min, j1 = r->hi_c - c_min;
    j0 = j0 < 0 ? 0 : j0;
    j1 = j1 > WINDOW ? WINDOW : j1;
    uint32_t valid = j1 > j0 ? (uint32_t)(((uint64_t)1 << j1) - ((uint64_t)1 << j0)) : 0;
    const __m512i rel = _mm512_sub_epi32(s->ic, _mm512_set1_epi32(c_min));
    const __m512i rel1 = _mm512_add_epi32(rel, _mm512_set1_epi32(1));
    for (int q = 0; q < 4; q++)
        p[q] = _mm512_setzero_ps();
    for (int32_t row = 0; row < n_rows; row++) {
        int32_t jb = ib_min + row;
        if (jb < r->lo_b || jb >= r->hi_b)
            continue; /* outside the slab: zero */
        /* Offset of (k, jb, c_min); masked lanes of the loads are not read. */
        int64_t offset = k * r->stride_a + (int64_t)jb * r->stride_b - r->z_offset + c_min;
        __m512 lo = _mm512_maskz_loadu_ps((__mmask16)valid, vol + offset);
        __m512 hi = _mm512_maskz_loadu_ps((__mmask16)(valid >> LANES), vol + offset + LANES);
        __m512 at_c = _mm512_permutex2var_ps(lo, rel, hi);
        __m512 at_c1 = _mm512_permutex2var_ps(lo, rel1, hi);
        /* Row jb is b for lanes with ib == jb, and b + 1 for ib == jb - 1. */
        __mmask16 is_b = _mm512_cmpeq_epi32_mask(s->ib, _mm512_set1_epi32(jb));
        __mmask16 is_b1 = _mm512_cmpeq_epi32_mask(s->ib, _mm512_set1_epi32(jb - 1));
        p[0] = _mm512_mask_mov_ps(p[0], is_b, at_c);   /* (b, c) */
        p[2] = _mm512_mask_mov_ps(p[2], is_b, at_c1);  /* (b, c + 1) */
        p[1] = _mm512_mask_mov_ps(p[1], is_b1, at_c);  /* (b + 1, c) */
        p[3] = _mm512_mask_mov_ps(p[3], is_b1, at_c1); /* (b + 1, c + 1) */
    }
    return 1;
}

static void trace_group(const lane_group *g, const float *vol, float *out, int accumulate)
{
    const __m512 zero = _mm512_setzero_ps();
    __m512 sum = _mm512_setzero_ps();
    for (int64_t k = g->k_min; k <= g->k_max; k++) {
        lane_sample s;
        sample_lanes(g, k, &s);
        __m512 p[4];
        if (!window_neighbours(g, &s, k, vol, p)) {
            for (int q = 0; q < 4; q++)
                p[q] = _mm512_mask_i32gather_ps(zero, s.mask[q], s.idx[q], vol, 4);
        }
        __m512 p00 = p[0], p01 = p[1], p10 = p[2], p11 = p[3];
        __m512 lo = _mm512_add_ps(p00, _mm512_mul_ps(s.wb, _mm512_sub_ps(p01, p00)));
        __m512 hi = _mm512_add_ps(p10, _mm512_mul_ps(s.wb, _mm512_sub_ps(p11, p10)));
        __m512 value = _mm512_add_ps(lo, _mm512_mul_ps(s.wc, _mm512_sub_ps(hi, lo)));
        /* Only lanes whose ray has sample k add, as the scalar path does. */
        sum = _mm512_mask_add_ps(sum, s.active, sum, value);
    }
    float result[LANES];
    _mm512_storeu_ps(result, _mm512_mul_ps(sum, g->step));
    for (int l = 0; l < g->n; l++)
        out[l] = accumulate ? out[l] + result[l] : result[l];
}

/* Places the values of the `lanes` at window positions `positions` (a
 * 32-bit mask with one bit per lane): position order is lane order, or
 * reverse lane order when `reverse`. out[0] covers positions 0..15,
 * out[1] 16..31. */
static inline void place(__mmask16 lanes, uint32_t positions, __m512 values, int reverse,
                         __m512 out[2])
{
    __m512 packed = _mm512_maskz_compress_ps(lanes, values);
    if (reverse) {
        int last = __builtin_popcount(lanes) - 1;
        __m512i flip = _mm512_sub_epi32(_mm512_set1_epi32(last),
                                        _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11,
                                                          12, 13, 14, 15));
        packed = _mm512_permutexvar_ps(_mm512_and_si512(flip, _mm512_set1_epi32(15)), packed);
    }
    int in_low = __builtin_popcount(positions & 0xffffu);
    __m512i shift = _mm512_add_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11,
                                                       12, 13, 14, 15),
                                     _mm512_set1_epi32(in_low));
    out[0] = _mm512_maskz_expand_ps((__mmask16)positions, packed);
    out[1] = _mm512_maskz_expand_ps((__mmask16)(positions >> LANES),
                                    _mm512_permutexvar_ps(shift, packed));
}

/* The writes of one step as two vector read-modify-writes per b row, when
 * the c axis is contiguous, all active lanes share one b index and their c
 * indices strictly increase (or decrease) with the lane and fit a window.
 * Then a voxel receives at most one "c" and one "c + 1" contribution per
 * row, from two lanes whose order is known, and adding the two placed
 * vectors in that order gives exactly the scalar path's sums. */
static inline int window_scatter(const lane_group *g, const lane_sample *s, int64_t k,
                                 const __m512 w[4], float *vol)
{
    const fast_ray *r = g->first;
    __mmask16 active = s->active;
    if (r->stride_c != 1 || !active)
        return 0;
    /* One b index for all active lanes (compare with the first one). */
    int32_t ib = _mm512_cvtsi512_si32(_mm512_maskz_compress_epi32(active, s->ib));
    if (_mm512_mask_cmpneq_epi32_mask(active, s->ib, _mm512_set1_epi32(ib)))
        return 0;
    /* Strictly monotonic c over the active lanes, in lane order. */
    int n_active = __builtin_popcount(active);
    __m512i ic = _mm512_maskz_compress_epi32(active, s->ic);
    __m512i next = _mm512_permutexvar_epi32(
        _mm512_setr_epi32(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 15), ic);
    __mmask16 pairs = (__mmask16)((1u << (n_active - 1)) - 1u);
    int increasing = (_mm512_mask_cmpgt_epi32_mask(pairs, next, ic) == pairs);
    int decreasing = (_mm512_mask_cmplt_epi32_mask(pairs, next, ic) == pairs);
    if (!increasing && !decreasing)
        return 0;
    int32_t c_first = _mm512_cvtsi512_si32(ic);
    int32_t c_last = _mm512_cvtsi512_si32(
        _mm512_permutexvar_epi32(_mm512_set1_epi32(n_active - 1), ic));
    int32_t c_min = increasing ? c_first : c_last, c_max = increasing ? c_last : c_first;
    if (c_max + 1 - c_min >= WINDOW)
        return 0;
    const __m512i one = _mm512_set1_epi32(1);
    __m512i rel = _mm512_sub_epi32(s->ic, _mm512_set1_epi32(c_min));
    uint32_t at_c = (uint32_t)_mm512_mask_reduce_or_epi32(active, _mm512_sllv_epi32(one, rel));
    uint32_t at_c1 = at_c << 1;
    /* Window positions inside the slab along c. */
    int32_t j0 = r->lo_c - c_min, j1 = r->hi_c - c_min;
    j0 = j0 < 0 ? 0 : j0;
    j1 = j1 > WINDOW ? WINDOW : j1;
    uint32_t valid = j1 > j0 ? (uint32_t)(((uint64_t)1 << j1) - ((uint64_t)1 << j0)) : 0;
    uint32_t touched = valid & (at_c | at_c1);
    for (int row = 0; row < 2; row++) {
        int32_t jb = ib + row;
        if (jb < r->lo_b || jb >= r->hi_b)
            continue;
        __m512 part_c[2], part_c1[2];
        /* w[0]: (b, c), w[1]: (b + 1, c), w[2]: (b, c + 1), w[3]: (b + 1, c + 1). */
        place(active, at_c, w[row], decreasing, part_c);
        place(active, at_c1, w[row + 2], decreasing, part_c1);
        float *p = vol + (k * r->stride_a + (int64_t)jb * r->stride_b - r->z_offset + c_min);
        for (int half = 0; half < 2; half++) {
            __mmask16 m = (__mmask16)(touched >> (half * LANES));
            if (!m)
                continue;
            __m512 cur = _mm512_maskz_loadu_ps(m, p + half * LANES);
            /* The lower lane's contribution first, as in the scalar path. */
            __m512 first = increasing ? part_c1[half] : part_c[half];
            __m512 second = increasing ? part_c[half] : part_c1[half];
            cur = _mm512_add_ps(_mm512_add_ps(cur, first), second);
            _mm512_mask_storeu_ps(p + half * LANES, m, cur);
        }
    }
    return 1;
}

static void scatter_group(const lane_group *g, const float *values, float *vol)
{
    /* Lanes without a ray have value 0 and empty masks. */
    const __m512 value = _mm512_mul_ps(_mm512_loadu_ps(values), g->step);
    for (int64_t k = g->k_min; k <= g->k_max; k++) {
        lane_sample s;
        sample_lanes(g, k, &s);
        __m512 vb = _mm512_mul_ps(s.wb, value), va = _mm512_sub_ps(value, vb);
        __m512 w[4];
        w[0] = _mm512_sub_ps(va, _mm512_mul_ps(s.wc, va));
        w[1] = _mm512_sub_ps(vb, _mm512_mul_ps(s.wc, vb));
        w[2] = _mm512_mul_ps(s.wc, va);
        w[3] = _mm512_mul_ps(s.wc, vb);
        int32_t idx[4][LANES];
        float weight[4][LANES];
        for (int q = 0; q < 4; q++) {
            _mm512_storeu_si512(idx[q], s.idx[q]);
            _mm512_storeu_ps(weight[q], w[q]);
        }
        if (window_scatter(g, &s, k, w, vol))
            continue;
        for (int l = 0; l < g->n; l++)
            for (int q = 0; q < 4; q++)
                if (s.mask[q] >> l & 1)
                    vol[idx[q][l]] += weight[q][l];
    }
}

/* Sets up the rays of columns [c, c + n) of a row; lanes whose value is 0
 * (adjoint) or whose ray misses the slab are left out. */
static int setup_rays(const joseph_view *jv, const joseph_slab *slab, int64_t row, int64_t c,
                      int n, const float *values, fast_ray *rays, int *valid)
{
    int any = 0;
    for (int l = 0; l < n; l++) {
        valid[l] = (!values || values[l] != 0) && fast_ray_setup(jv, slab, row, c + l, &rays[l]);
        any |= valid[l];
    }
    return any;
}

/* 32-bit gather offsets: the slab must hold fewer than 2^31 floats. */
static int slab_fits_int32(const joseph_slab *slab)
{
    return (double)(slab->hi[0] - slab->lo[0]) * (double)slab->stride[0] < 2147483647.0;
}

int joseph_row_sum_avx512(const joseph_view *jv, const joseph_slab *slab, const float *vol,
                          const float *vol_yx, int64_t row, int64_t c0, int64_t c1, float *out,
                          int accumulate)
{
    if (!slab_fits_int32(slab))
        return 0;
    fast_ray rays[LANES];
    int valid[LANES];
    for (int64_t c = c0; c <= c1; c += LANES) {
        int n = c1 - c + 1 < LANES ? (int)(c1 - c + 1) : LANES;
        float *group_out = out + (c - c0);
        lane_group g;
        setup_rays(jv, slab, row, c, n, NULL, rays, valid);
        if (group_setup(rays, valid, n, &g)) {
            const float *data = vol;
            if (g.axis == 2 && vol_yx) {
                for (int l = 0; l < n; l++)
                    fast_ray_use_yx(&rays[l], slab);
                data = vol_yx;
            }
            trace_group(&g, data, group_out, accumulate);
            continue;
        }
        for (int l = 0; l < n; l++) { /* mixed dominant axes: rare, scalar */
            float value = valid[l] ? fast_ray_sum(vol, &rays[l]) : 0.0f;
            group_out[l] = accumulate ? group_out[l] + value : value;
        }
    }
    return 1;
}

int joseph_row_scatter_avx512(const joseph_view *jv, const joseph_slab *slab, float *vol,
                              float *vol_yx, int64_t row, int64_t c0, int64_t c1,
                              const float *values)
{
    if (!slab_fits_int32(slab))
        return 0;
    fast_ray rays[LANES];
    int valid[LANES];
    for (int64_t c = c0; c <= c1; c += LANES) {
        int n = c1 - c + 1 < LANES ? (int)(c1 - c + 1) : LANES;
        const float *group_values = values + (c - c0);
        if (!setup_rays(jv, slab, row, c, n, group_values, rays, valid))
            continue;
        float lane_values[LANES] = {0};
        for (int l = 0; l < n; l++)
            lane_values[l] = valid[l] ? group_values[l] : 0.0f;
        /* Rays along x write the y-fastest copy (see fast_backproject). */
        for (int l = 0; l < n; l++)
            if (valid[l] && rays[l].axis_a == 2 && vol_yx)
                fast_ray_use_yx(&rays[l], slab);
        lane_group g;
        if (group_setup(rays, valid, n, &g)) {
            scatter_group(&g, lane_values, g.axis == 2 && vol_yx ? vol_yx : vol);
            continue;
        }
        for (int l = 0; l < n; l++) /* mixed dominant axes: rare, scalar */
            if (valid[l])
                fast_ray_scatter(rays[l].axis_a == 2 && vol_yx ? vol_yx : vol, &rays[l],
                                 group_values[l]);
    }
    return 1;
}

#else

int joseph_row_sum_avx512(const joseph_view *jv, const joseph_slab *slab, const float *vol,
                          const float *vol_yx, int64_t row, int64_t c0, int64_t c1, float *out,
                          int accumulate)
{
    (void)jv, (void)slab, (void)vol, (void)vol_yx, (void)row, (void)c0, (void)c1, (void)out;
    (void)accumulate;
    return 0;
}

int joseph_row_scatter_avx512(const joseph_view *jv, const joseph_slab *slab, float *vol,
                              float *vol_yx, int64_t row, int64_t c0, int64_t c1,
                              const float *values)
{
    (void)jv, (void)slab, (void)vol, (void)vol_yx, (void)row, (void)c0, (void)c1, (void)values;
    return 0;
}

#endif
