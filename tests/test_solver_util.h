/* Small circular cone-beam problems for the solver tests. */
#ifndef TEST_SOLVER_UTIL_H
#define TEST_SOLVER_UTIL_H

#include "cbct/solver.h"
#include "check.h"

/* A full-turn circular scan of `views` views on a rows x cols detector
 * (magnification 2), with an n^3 volume fitted to the field of view. */
static inline cbct_status solver_test_geometry(int64_t n, int64_t views, int64_t rows,
                                               int64_t cols, cbct_geometry *g)
{
    memset(g, 0, sizeof *g);
    cbct_circular c = {.n_views = views, .first_angle_rad = 0.1, .arc_rad = 2 * M_PI,
                       .sod_mm = 200, .sdd_mm = 400, .det_rows = rows, .det_cols = cols,
                       .pixel_mm = {2.0 * 60.0 / (double)rows, 2.0 * 60.0 / (double)cols}};
    cbct_status s = cbct_geometry_circular(&c, g);
    if (s)
        return s;
    return cbct_volume_geom_fit(g, n, n, n, &g->vol);
}

static inline float *solver_test_alloc(int64_t n)
{
    return cbct_calloc((size_t)n, sizeof(float), "test vector");
}

static inline double solver_test_dot(const float *a, const float *b, int64_t n)
{
    double s = 0;
    for (int64_t i = 0; i < n; i++)
        s += (double)a[i] * b[i];
    return s;
}

static inline double solver_test_max_rel_diff(const float *a, const float *b, int64_t n)
{
    double scale = 0, diff = 0;
    for (int64_t i = 0; i < n; i++) {
        scale = fmax(scale, fabs(a[i]));
        diff = fmax(diff, fabs((double)a[i] - b[i]));
    }
    return scale > 0 ? diff / scale : diff;
}

#endif
