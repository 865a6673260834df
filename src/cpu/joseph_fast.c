/* The fast Joseph kernels: single precision along the ray, the samples whose
 * four neighbours are all inside the slab handled without bounds checks,
 * only the rays inside a slab's shadow visited, OpenMP threads.
 *
 * Determinism: the forward kernel computes each ray entirely in one thread;
 * the adjoint gives each thread whole z-chunks of the volume to write, and
 * every chunk visits the views, rows and columns in the same order, so each
 * voxel receives its contributions in one fixed order for any number of
 * threads. */
#include <math.h>
#include <string.h>

#include <omp.h>

#include "cpu/joseph_fast.h"

/* Margin (voxels) that keeps a single-precision index clear of the edges of
 * the interior region: the index fb0 + k db is at most about twice the
 * volume's extent n, so its rounding error is below 2 n 2^-24 ~ 1.2e-7 n;
 * the margin is ten times that, and at least 1e-3. */
#define INTERIOR_MARGIN_MIN 1e-3
#define INTERIOR_MARGIN_PER_VOXEL 1.2e-6

int fast_ray_setup(const joseph_view *jv, const joseph_slab *slab, int64_t row, int64_t col,
                   fast_ray *fr)
{
    joseph_ray ray;
    if (!joseph_ray_setup(jv, slab, (double)row, (double)col, &ray))
        return 0;
    fr->axis_a = ray.axis_a;
    fr->fb0 = (float)ray.fb0;
    fr->db = (float)ray.db;
    fr->fc0 = (float)ray.fc0;
    fr->dc = (float)ray.dc;
    fr->step_mm = (float)ray.step_mm;
    fr->stride_a = slab->stride[ray.axis_a];
    fr->stride_b = slab->stride[ray.axis_b];
    fr->stride_c = slab->stride[ray.axis_c];
    fr->z_offset = slab->z_offset;
    fr->lo_b = (int32_t)slab->lo[ray.axis_b];
    fr->hi_b = (int32_t)slab->hi[ray.axis_b];
    fr->lo_c = (int32_t)slab->lo[ray.axis_c];
    fr->hi_c = (int32_t)slab->hi[ray.axis_c];
    fr->k_first = ray.k_first;
    fr->k_last = ray.k_last;
    /* Interior: lo <= f < hi - 1 on both axes, so neighbours f and f + 1 exist. */
    double extent = (double)(slab->hi[1] > slab->hi[2] ? slab->hi[1] : slab->hi[2]);
    extent = (double)slab->hi[0] > extent ? (double)slab->hi[0] : extent;
    double margin = fmax(INTERIOR_MARGIN_MIN, INTERIOR_MARGIN_PER_VOXEL * extent);
    double k0 = (double)ray.k_first, k1 = (double)ray.k_last;
    joseph_clip(ray.fb0, ray.db, fr->lo_b + margin, fr->hi_b - 1 - margin, &k0, &k1);
    joseph_clip(ray.fc0, ray.dc, fr->lo_c + margin, fr->hi_c - 1 - margin, &k0, &k1);
    if (k0 > k1) {
        fr->ki0 = ray.k_last + 1;
        fr->ki1 = ray.k_last;
    } else {
        /* Strictly inside the clipped interval, so rounding cannot leave it. */
        fr->ki0 = (int64_t)ceil(k0);
        fr->ki1 = (int64_t)floor(k1);
        if (fr->ki0 > fr->ki1) {
            fr->ki0 = ray.k_last + 1;
            fr->ki1 = ray.k_last;
        }
    }
    return 1;
}

/* Value of voxel (jb, jc) of a plane, zero outside the slab. */
static inline float voxel_or_zero(const float *plane, const fast_ray *fr, int32_t jb,
                                  int32_t jc)
{
    if (jb < fr->lo_b || jb >= fr->hi_b || jc < fr->lo_c || jc >= fr->hi_c)
        return 0.0f;
    return plane[jb * fr->stride_b + jc * fr->stride_c];
}

/* The interior formulas with missing neighbours read as zero / skipped, so
 * that a sample gives the same bits whichever path (and slab) computes it. */
static float sample_checked(const float *vol, const fast_ray *fr, int64_t k)
{
    SAMPLE_COORDS(fr, k, ib, ic, wb, wc);
    const float *plane = vol + (k * fr->stride_a - fr->z_offset);
    float p00 = voxel_or_zero(plane, fr, ib, ic), p01 = voxel_or_zero(plane, fr, ib + 1, ic);
    float p10 = voxel_or_zero(plane, fr, ib, ic + 1);
    float p11 = voxel_or_zero(plane, fr, ib + 1, ic + 1);
    float lo = p00 + wb * (p01 - p00);
    float hi = p10 + wb * (p11 - p10);
    return lo + wc * (hi - lo);
}

static void scatter_checked(float *vol, const fast_ray *fr, int64_t k, float value)
{
    SAMPLE_COORDS(fr, k, ib, ic, wb, wc);
    float *plane = vol + (k * fr->stride_a - fr->z_offset);
    float vb = wb * value, va = value - vb;
    float w[2][2] = {{va - wc * va, wc * va}, {vb - wc * vb, wc * vb}}; /* [db][dc] */
    for (int nb = 0; nb < 2; nb++) {
        int32_t jb = ib + nb;
        if (jb < fr->lo_b || jb >= fr->hi_b)
            continue;
        for (int nc = 0; nc < 2; nc++) {
            int32_t jc = ic + nc;
            if (jc < fr->lo_c || jc >= fr->hi_c)
                continue;
            plane[jb * fr->stride_b + jc * fr->stride_c] += w[nb][nc];
        }
    }
}

float fast_ray_sum(const float *vol, const fast_ray *fr)
{
    float sum = 0;
    int64_t k = fr->k_first;
    for (; k < fr->ki0; k++)
        sum += sample_checked(vol, fr, k);
    const int64_t sb = fr->stride_b, sc = fr->stride_c, sa = fr->stride_a;
    for (; k <= fr->ki1; k++) {
        SAMPLE_COORDS(fr, k, ib, ic, wb, wc);
        const float *p = vol + (k * sa + ib * sb + ic * sc - fr->z_offset);
        float lo = p[0] + wb * (p[sb] - p[0]);
        float hi = p[sc] + wb * (p[sc + sb] - p[sc]);
        sum += lo + wc * (hi - lo);
    }
    for (; k <= fr->k_last; k++)
        sum += sample_checked(vol, fr, k);
    return sum * fr->step_mm;
}

void fast_ray_scatter(float *vol, const fast_ray *fr, float value)
{
    value *= fr->step_mm;
    int64_t k = fr->k_first;
    for (; k < fr->ki0; k++)
        scatter_checked(vol, fr, k, value);
    const int64_t sb = fr->stride_b, sc = fr->stride_c, sa = fr->stride_a;
    for (; k <= fr->ki1; k++) {
        SAMPLE_COORDS(fr, k, ib, ic, wb, wc);
        float *p = vol + (k * sa + ib * sb + ic * sc - fr->z_offset);
        float vb = wb * value, va = value - vb; /* (1 - wb) v and wb v */
        p[0] += va - wc * va;
        p[sb] += vb - wc * vb;
        p[sc] += wc * va;
        p[sc + sb] += wc * vb;
    }
    for (; k <= fr->k_last; k++)
        scatter_checked(vol, fr, k, value);
}

/* Slices per forward sub-slab: about JOSEPH_FORWARD_SLAB_BYTES of volume,
 * so that the voxels every view reads stay in the core's cache while all
 * views are traced through them (the volume is read from memory once, not
 * once per view). */
static int64_t forward_slab_slices(const joseph_slab *slab)
{
    int64_t plane_bytes = slab->stride[0] * (int64_t)sizeof(float);
    int64_t slices = JOSEPH_FORWARD_SLAB_BYTES / (plane_bytes > 0 ? plane_bytes : 1);
    return slices < 1 ? 1 : slices;
}

/* out (nx x ny) = in (ny x nx) transposed, in cache-sized tiles. */
static void transpose_plane(const float *in, int64_t ny, int64_t nx, float *out)
{
    enum { TILE = 32 }; /* 4 KiB of floats per tile side pair */
    for (int64_t y0 = 0; y0 < ny; y0 += TILE)
        for (int64_t x0 = 0; x0 < nx; x0 += TILE)
            for (int64_t y = y0; y < y0 + TILE && y < ny; y++)
                for (int64_t x = x0; x < x0 + TILE && x < nx; x++)
                    out[x * ny + y] = in[y * nx + x];
}

/* Adds the rays of one view through one sub-slab to the view's projection. */
static void project_view_slab(const cbct_geometry *g, const joseph_view *jv,
                              const joseph_slab *sub, const float *sub_data,
                              const float *sub_yx, float *view_proj, int use_simd)
{
    const int64_t cols = g->det_cols;
    int64_t r0, r1, c0, c1;
    joseph_shadow(g, jv, sub, &r0, &r1, &c0, &c1);
    for (int64_t r = r0; r <= r1; r++) {
        float *out = view_proj + r * cols;
        if (use_simd &&
            joseph_row_sum_avx512(jv, sub, sub_data, sub_yx, r, c0, c1, out + c0, 1))
            continue;
        for (int64_t c = c0; c <= c1; c++) {
            fast_ray fr;
            if (fast_ray_setup(jv, sub, r, c, &fr))
                out[c] += fast_ray_sum(sub_data, &fr);
        }
    }
}

static void fast_project(const cbct_geometry *g, const joseph_view *views, cbct_block b,
                         const float *slab_data, float *proj, int accumulate, int use_simd)
{
    joseph_slab slab;
    joseph_slab_setup(g, b.z0, b.nz, &slab);
    const int64_t view_size = g->det_rows * g->det_cols;
    if (!accumulate)
        memset(proj, 0, (size_t)(b.n_views * view_size) * sizeof(float));
    /* Sub-slabs in a fixed order; within one, each thread owns whole views,
     * so every ray's partial sums are added in the same order for any
     * number of threads. */
    const int64_t step = forward_slab_slices(&slab);
    const int64_t ny = slab.hi[1], nx = slab.hi[2];
    /* The SIMD path reads rays along x from a copy with y fastest; without
     * the memory for it, it reads the slab itself (slower, same bits). */
    float *sub_yx = use_simd ? cbct_alloc((size_t)(step * ny * nx) * sizeof(float),
                                          "projector slab copy (y fastest)")
                             : NULL;
    if (use_simd && !sub_yx)
        cbct_clear_error();
    for (int64_t s0 = 0; s0 < b.nz; s0 += step) {
        int64_t ns = b.nz - s0 < step ? b.nz - s0 : step;
        joseph_slab sub;
        joseph_slab_setup(g, b.z0 + s0, ns, &sub);
        const float *sub_data = slab_data + s0 * slab.stride[0];
        if (sub_yx) {
#pragma omp parallel for schedule(static)
            for (int64_t z = 0; z < ns; z++)
                transpose_plane(sub_data + z * ny * nx, ny, nx, sub_yx + z * ny * nx);
        }
#pragma omp parallel for schedule(dynamic, 1)
        for (int64_t view = 0; view < b.n_views; view++)
            project_view_slab(g, &views[view], &sub, sub_data, sub_yx, proj + view * view_size,
                              use_simd);
    }
    cbct_free(sub_yx);
}

/* chunk (z, y, x) += copy (z, x, y). */
static void add_yx_copy(float *chunk, const float *yx, int64_t nz, int64_t ny, int64_t nx)
{
    for (int64_t z = 0; z < nz; z++) {
        const float *in = yx + z * ny * nx;
        float *out = chunk + z * ny * nx;
        for (int64_t x = 0; x < nx; x++)
            for (int64_t y = 0; y < ny; y++)
                out[y * nx + x] += in[x * ny + y];
    }
}

/* The adjoint of one z-chunk: every view, row and column in a fixed order.
 * Rays along x write a y-fastest copy of the chunk (zeroed here, added to
 * the chunk at the end), where neighbouring rays touch neighbouring floats;
 * both kernels do the same, so they keep giving the same bits. */
static void backproject_chunk(const cbct_geometry *g, const joseph_view *views, cbct_block b,
                              const float *proj, const joseph_slab *sub, float *chunk_data,
                              float *yx, int use_simd)
{
    const int64_t rows = g->det_rows, cols = g->det_cols;
    const int64_t nz = sub->hi[0] - sub->lo[0], ny = sub->hi[1], nx = sub->hi[2];
    if (yx)
        memset(yx, 0, (size_t)(nz * ny * nx) * sizeof(float));
    for (int64_t view = 0; view < b.n_views; view++) {
        int64_t r0, r1, c0, c1;
        joseph_shadow(g, &views[view], sub, &r0, &r1, &c0, &c1);
        const float *view_proj = proj + view * rows * cols;
        for (int64_t r = r0; r <= r1; r++) {
            const float *values = view_proj + r * cols;
            if (use_simd && joseph_row_scatter_avx512(&views[view], sub, chunk_data, yx, r, c0,
                                                      c1, values + c0))
                continue;
            for (int64_t c = c0; c <= c1; c++) {
                fast_ray fr;
                if (values[c] == 0 || !fast_ray_setup(&views[view], sub, r, c, &fr))
                    continue;
                if (yx && fr.axis_a == 2) {
                    fast_ray_use_yx(&fr, sub);
                    fast_ray_scatter(yx, &fr, values[c]);
                } else {
                    fast_ray_scatter(chunk_data, &fr, values[c]);
                }
            }
        }
    }
    if (yx)
        add_yx_copy(chunk_data, yx, nz, ny, nx);
}

static void fast_backproject(const cbct_geometry *g, const joseph_view *views, cbct_block b,
                             const float *proj, float *slab_data, int accumulate, int use_simd)
{
    joseph_slab slab;
    joseph_slab_setup(g, b.z0, b.nz, &slab);
    const int64_t n_chunks = (b.nz + JOSEPH_ADJOINT_CHUNK - 1) / JOSEPH_ADJOINT_CHUNK;
    const size_t chunk_bytes = (size_t)(JOSEPH_ADJOINT_CHUNK * slab.stride[0]) * sizeof(float);
    /* Whether the y-fastest copies are used must not depend on the thread
     * count (it changes the order of the sums): all threads get one, or
     * none does. */
    int n_threads = omp_get_max_threads();
    float **copies = cbct_calloc((size_t)n_threads, sizeof(float *), "adjoint chunk copies");
    int have_copies = copies != NULL;
    for (int t = 0; have_copies && t < n_threads; t++) {
        copies[t] = cbct_alloc(chunk_bytes, "adjoint chunk copy (y fastest)");
        have_copies = copies[t] != NULL;
    }
    if (!have_copies)
        cbct_clear_error(); /* slower, and a different (still fixed) order of sums */
#pragma omp parallel for schedule(dynamic, 1)
    for (int64_t chunk = 0; chunk < n_chunks; chunk++) {
        int64_t cz0 = chunk * JOSEPH_ADJOINT_CHUNK;
        int64_t cnz = b.nz - cz0 < JOSEPH_ADJOINT_CHUNK ? b.nz - cz0 : JOSEPH_ADJOINT_CHUNK;
        float *chunk_data = slab_data + cz0 * slab.stride[0];
        if (!accumulate)
            memset(chunk_data, 0, (size_t)cnz * (size_t)slab.stride[0] * sizeof(float));
        joseph_slab sub;
        joseph_slab_setup(g, b.z0 + cz0, cnz, &sub);
        float *yx = have_copies ? copies[omp_get_thread_num()] : NULL;
        backproject_chunk(g, views, b, proj, &sub, chunk_data, yx, use_simd);
    }
    for (int t = 0; copies && t < n_threads; t++)
        cbct_free(copies[t]);
    cbct_free(copies);
}

static void simd_project(const cbct_geometry *g, const joseph_view *views, cbct_block b,
                         const float *slab_data, float *proj, int accumulate)
{
    fast_project(g, views, b, slab_data, proj, accumulate, 1);
}

static void simd_backproject(const cbct_geometry *g, const joseph_view *views, cbct_block b,
                             const float *proj, float *slab_data, int accumulate)
{
    fast_backproject(g, views, b, proj, slab_data, accumulate, 1);
}

static void scalar_project(const cbct_geometry *g, const joseph_view *views, cbct_block b,
                           const float *slab_data, float *proj, int accumulate)
{
    fast_project(g, views, b, slab_data, proj, accumulate, 0);
}

static void scalar_backproject(const cbct_geometry *g, const joseph_view *views, cbct_block b,
                               const float *proj, float *slab_data, int accumulate)
{
    fast_backproject(g, views, b, proj, slab_data, accumulate, 0);
}

const joseph_kernels joseph_fast_kernels = {
    .name = "cpu-fast",
    .project = simd_project,
    .backproject = simd_backproject,
};

const joseph_kernels joseph_fast_scalar_kernels = {
    .name = "cpu-fast-scalar",
    .project = scalar_project,
    .backproject = scalar_backproject,
};
