/* Reference FDK back-projection: for every voxel and view, project the
 * voxel centre with the view's matrix (double precision), interpolate the
 * filtered projection bilinearly (zero outside the detector) and add it with
 * the distance weight 1 / w^2. Slow and obvious: the fast kernel is tested
 * against it. */
#include <math.h>

#include "cpu/fdk_kernels.h"

/* Filtered value at integer pixel (row, col), zero off the detector. */
static double pixel_or_zero(const float *view, int64_t rows, int64_t cols, int64_t row,
                            int64_t col)
{
    if (row < 0 || row >= rows || col < 0 || col >= cols)
        return 0.0;
    return view[row * cols + col];
}

static double bilinear(const float *view, int64_t rows, int64_t cols, double row, double col)
{
    double row_floor = floor(row), col_floor = floor(col);
    int64_t r = (int64_t)row_floor, c = (int64_t)col_floor;
    double ar = row - row_floor, ac = col - col_floor;
    double top = (1 - ac) * pixel_or_zero(view, rows, cols, r, c) +
                 ac * pixel_or_zero(view, rows, cols, r, c + 1);
    double bottom = (1 - ac) * pixel_or_zero(view, rows, cols, r + 1, c) +
                    ac * pixel_or_zero(view, rows, cols, r + 1, c + 1);
    return (1 - ar) * top + ar * bottom;
}

cbct_status cbct_fdk_backproject_reference(const cbct_fdk_bp_task *t)
{
    const cbct_volume_geom *vg = t->vol;
    int64_t ny = vg->shape[1], nx = vg->shape[2];
    int64_t rows = t->det_rows, cols = t->det_cols;
#pragma omp parallel for schedule(static)
    for (int64_t line = 0; line < t->nz * ny; line++) {
        int64_t iz = t->z0 + line / ny, iy = line % ny;
        float *out = t->slab + line * nx;
        for (int64_t ix = 0; ix < nx; ix++) {
            double p[3];
            cbct_voxel_to_world(vg, (double)iz, (double)iy, (double)ix, p);
            for (int64_t v = 0; v < t->n_views; v++) {
                const double(*m)[4] = t->views[v].m;
                double nu = m[0][0] * p[0] + m[0][1] * p[1] + m[0][2] * p[2] + m[0][3];
                double nv = m[1][0] * p[0] + m[1][1] * p[1] + m[1][2] * p[2] + m[1][3];
                double w = m[2][0] * p[0] + m[2][1] * p[1] + m[2][2] * p[2] + m[2][3];
                if (!(w > CBCT_FDK_MIN_DEPTH))
                    continue;
                double col = nu / w, row = nv / w;
                /* Off the detector by a pixel or more: bilinear gives 0. */
                if (col <= -1 || col >= (double)cols || row <= -1 || row >= (double)rows)
                    continue;
                const float *view = t->proj + v * rows * cols;
                out[ix] += (float)(bilinear(view, rows, cols, row, col) / (w * w));
            }
        }
    }
    return CBCT_OK;
}
