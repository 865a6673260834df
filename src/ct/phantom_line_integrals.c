/* Exact line integrals of ellipsoid phantoms: in the frame where an
 * ellipsoid is the unit sphere, a ray meets it on an interval of its
 * parameter found from a quadratic; the chord length in mm is that
 * interval times the ray's length. */
#include <math.h>

#include "ct/phantom_internal.h"
#include "ct/vec3.h"

/* Length (mm) of the part of the segment src + t (dst - src), t in [0, 1],
 * inside the ellipsoid. */
static double chord_mm(const phantom_frame *f, const double src[3], const double dir[3],
                       double dir_len_mm)
{
    double rel[3], p[3], d[3];
    vec3_sub(src, f->centre, rel);
    phantom_frame_apply(f, rel, p);
    phantom_frame_apply(f, dir, d);
    double dd = vec3_dot(d, d);
    if (!(dd > 0))
        return 0;
    /* Closest approach to the sphere's centre, computed directly rather
     * than from b^2 - 4ac, which cancels badly for far sources. */
    double t_mid = -vec3_dot(p, d) / dd;
    double q[3] = {p[0] + t_mid * d[0], p[1] + t_mid * d[1], p[2] + t_mid * d[2]};
    double miss2 = vec3_dot(q, q);
    if (miss2 >= 1.0)
        return 0;
    double half = sqrt((1.0 - miss2) / dd);
    double t0 = t_mid - half, t1 = t_mid + half;
    if (t0 < 0)
        t0 = 0;
    if (t1 > 1)
        t1 = 1;
    return t1 > t0 ? (t1 - t0) * dir_len_mm : 0;
}

double cbct_ellipsoid_chord_mm(const cbct_ellipsoid *e, const double from[3], const double to[3])
{
    phantom_frame f = phantom_frame_of(e);
    double dir[3];
    vec3_sub(to, from, dir);
    return chord_mm(&f, from, dir, vec3_norm(dir));
}

cbct_status cbct_phantom_line_integrals(const cbct_ellipsoid *e, int n, const cbct_geometry *g,
                                        float *proj)
{
    if (!g || !proj)
        return cbct_error(CBCT_ERR_ARG, "line integrals: %s is NULL",
                          !g ? "geometry" : "output projection stack");
    if (g->det_rows <= 0 || g->det_cols <= 0 || g->n_views <= 0 || !g->views)
        return cbct_error(CBCT_ERR_GEOMETRY, "line integrals: detector %lld x %lld pixels, "
                          "%lld views: expected positive sizes and a view list",
                          (long long)g->det_rows, (long long)g->det_cols, (long long)g->n_views);
    cbct_status st = cbct_phantom_validate(e, n);
    if (st)
        return st;
    phantom_frame *frames =
        cbct_alloc((size_t)(n > 0 ? n : 1) * sizeof(phantom_frame), "line integral frames");
    if (!frames)
        return CBCT_ERR_MEMORY;
    for (int i = 0; i < n; i++)
        frames[i] = phantom_frame_of(&e[i]);

    const int64_t rows = g->det_rows, cols = g->det_cols;
    const int64_t n_lines = g->n_views * rows; /* one detector row of one view */
#pragma omp parallel for schedule(dynamic, 4)
    for (int64_t line = 0; line < n_lines; line++) {
        int64_t view = line / rows, row = line % rows;
        const double *src = g->views[view].src;
        float *out = proj + (size_t)line * (size_t)cols;
        for (int64_t col = 0; col < cols; col++) {
            double pixel[3], dir[3];
            cbct_pixel_to_world(g, view, (double)row, (double)col, pixel);
            vec3_sub(pixel, src, dir);
            double len = vec3_norm(dir);
            double sum = 0; /* 1/mm * mm: dimensionless */
            for (int i = 0; i < n; i++)
                sum += e[i].value * chord_mm(&frames[i], src, dir, len);
            out[col] = (float)sum;
        }
    }
    cbct_free(frames);
    return CBCT_OK;
}
