/* Fast FDK back-projection. Views are copied, a chunk at a time, into a
 * zero-bordered buffer so that bilinear interpolation needs no bounds
 * checks. Threads share out the (z, y) lines of the slab; along a line the
 * projected coordinates are ratios of linear functions of x, evaluated
 * directly from the line's start and step (no drift) in single precision by
 * the vectorised loop of fdk_line.c, only over the voxels that can see the
 * detector. Each voxel adds its views in order, whatever the thread count:
 * bit-identical results. */
#include <math.h>
#include <string.h>

#include "cpu/fdk_kernels.h"

/* Views per padded chunk: enough to amortise the parallel region and the
 * copy, small enough (a few MB) to stay out of the memory budget's way. */
#define CHUNK_VIEWS 16
/* Zero border of the padded views: one pixel before the first row and
 * column, two after the last (clamped coordinates reach index cols + 1). */
#define PAD_BEFORE 1
#define PAD_TOTAL 3
/* Voxels kept on each side of the range computed for a line, so that
 * rounding cannot drop a voxel that sees the detector's edge. */
#define RANGE_MARGIN 1.0

typedef struct padded_views {
    int64_t rows, cols;  /* padded sizes */
    int64_t view_stride; /* floats per padded view */
    float *data;
} padded_views;

/* Restricts [lo, hi) to the integers ix with alpha + beta ix > 0, widened
 * by `margin` voxels when the constraint is only an optimisation. */
static void keep_positive(double alpha, double beta, double margin, double *lo, double *hi)
{
    if (beta == 0) {
        if (!(alpha > 0))
            *hi = *lo;
        return;
    }
    double root = -alpha / beta;
    if (beta > 0) {
        double first = floor(root) + 1 - margin;
        if (first > *lo)
            *lo = first;
    } else {
        double end = ceil(root) + margin;
        if (end < *hi)
            *hi = end;
    }
}

/* Start and step (per voxel along x) of (col w, row w, w) on one line. */
typedef struct line_affine {
    double start[3], step[3];
} line_affine;

static line_affine line_affine_for(const cbct_fdk_bp_view *view, const double first_voxel[3],
                                   double dx)
{
    line_affine a;
    for (int k = 0; k < 3; k++) {
        const double *m = view->m[k];
        a.start[k] = m[0] * first_voxel[0] + m[1] * first_voxel[1] + m[2] * first_voxel[2] + m[3];
        a.step[k] = m[0] * dx;
    }
    return a;
}

/* Range [lo, hi) of x indices of the line that can see the detector. */
static void line_range(const line_affine *a, int64_t rows, int64_t cols, int64_t nx,
                       int64_t *lo_out, int64_t *hi_out)
{
    double lo = 0, hi = (double)nx;
    const double *s = a->start, *d = a->step;
    keep_positive(s[2] - CBCT_FDK_MIN_DEPTH, d[2], 0, &lo, &hi);         /* in front */
    keep_positive(s[0] + s[2], d[0] + d[2], RANGE_MARGIN, &lo, &hi);    /* col > -1 */
    keep_positive((double)cols * s[2] - s[0], (double)cols * d[2] - d[0], RANGE_MARGIN, &lo,
                  &hi);                                                  /* col < cols */
    keep_positive(s[1] + s[2], d[1] + d[2], RANGE_MARGIN, &lo, &hi);    /* row > -1 */
    keep_positive((double)rows * s[2] - s[1], (double)rows * d[2] - d[1], RANGE_MARGIN, &lo,
                  &hi);                                                  /* row < rows */
    /* Clamp both ends to [0, nx]: the roots can be anywhere. */
    lo = lo < 0 ? 0 : lo > (double)nx ? (double)nx : lo;
    hi = hi < 0 ? 0 : hi > (double)nx ? (double)nx : hi;
    *lo_out = (int64_t)lo;
    *hi_out = hi > lo ? (int64_t)hi : (int64_t)lo;
}

static void copy_into_padded(const float *proj, int64_t rows, int64_t cols, int64_t n_views,
                             padded_views *pad)
{
#pragma omp for schedule(static)
    for (int64_t r = 0; r < n_views * rows; r++) {
        int64_t v = r / rows, row = r % rows;
        float *dst = pad->data + v * pad->view_stride + (row + PAD_BEFORE) * pad->cols + PAD_BEFORE;
        memcpy(dst, proj + r * cols, (size_t)cols * sizeof(float));
    }
}

cbct_status cbct_fdk_backproject_fast(const cbct_fdk_bp_task *t)
{
    const cbct_volume_geom *vg = t->vol;
    int64_t ny = vg->shape[1], nx = vg->shape[2];
    int64_t rows = t->det_rows, cols = t->det_cols;
    padded_views pad = {rows + PAD_TOTAL, cols + PAD_TOTAL, 0, NULL};
    pad.view_stride = pad.rows * pad.cols;
    if (pad.view_stride > INT32_MAX / 2)
        return cbct_error(CBCT_ERR_ARG, "FDK back-projection: detector %lld x %lld pixels is "
                          "too large (at most 2^30 pixels per view)", (long long)rows,
                          (long long)cols);
    int64_t chunk = t->n_views < CHUNK_VIEWS ? t->n_views : CHUNK_VIEWS;
    /* Under a tight memory budget take fewer views per chunk (at least one). */
    size_t view_bytes = (size_t)pad.view_stride * sizeof(float);
    size_t fit = cbct_mem_available() / 2 / view_bytes;
    if ((size_t)chunk > fit)
        chunk = fit > 1 ? (int64_t)fit : 1;
    pad.data = cbct_calloc((size_t)(chunk * pad.view_stride + CBCT_FDK_LINE_SLACK), sizeof(float),
                           "FDK back-projection padded views");
    if (!pad.data)
        return CBCT_ERR_MEMORY;
    int pitch = (int)pad.cols;
    float col_end = (float)(cols + PAD_BEFORE), row_end = (float)(rows + PAD_BEFORE);
    for (int64_t v0 = 0; v0 < t->n_views; v0 += chunk) {
        int64_t n = t->n_views - v0 < chunk ? t->n_views - v0 : chunk;
#pragma omp parallel
        {
            copy_into_padded(t->proj + v0 * rows * cols, rows, cols, n, &pad);
            /* Dynamic: lines cost the same, but the machine is shared. */
#pragma omp for schedule(dynamic, 4)
            for (int64_t line = 0; line < t->nz * ny; line++) {
                int64_t iz = t->z0 + line / ny, iy = line % ny;
                double first_voxel[3];
                cbct_voxel_to_world(vg, (double)iz, (double)iy, 0.0, first_voxel);
                float *out = t->slab + line * nx;
                for (int64_t v = 0; v < n; v++) {
                    line_affine a = line_affine_for(&t->views[v0 + v], first_voxel,
                                                    vg->voxel_size[2]);
                    int64_t lo, hi;
                    line_range(&a, rows, cols, nx, &lo, &hi);
                    /* Shift to padded indices: (col + 1) w = col w + w. */
                    cbct_fdk_line_view lv = {
                        (float)(a.start[0] + a.start[2]), (float)(a.step[0] + a.step[2]),
                        (float)(a.start[1] + a.start[2]), (float)(a.step[1] + a.step[2]),
                        (float)a.start[2], (float)a.step[2], pitch, col_end, row_end};
                    cbct_fdk_add_view_to_line(&lv, lo, hi, pad.data + v * pad.view_stride, out);
                }
            }
        }
    }
    cbct_free(pad.data);
    return CBCT_OK;
}
