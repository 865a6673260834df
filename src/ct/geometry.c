/* Cone-beam geometry: circular scans to vectors, validation, coordinate
 * transforms and per-view projection matrices (docs/geometry.md). */
#include <math.h>
#include <string.h>

#include "cbct/geometry.h"
#include "ct/vec3.h"

cbct_status cbct_geometry_alloc_views(cbct_geometry *g, int64_t n_views)
{
    g->views = NULL;
    g->n_views = 0;
    if (n_views <= 0)
        return cbct_error(CBCT_ERR_GEOMETRY, "geometry has %lld views: expected at least 1",
                          (long long)n_views);
    g->views = cbct_calloc((size_t)n_views, sizeof(cbct_view), "geometry views");
    if (!g->views)
        return CBCT_ERR_MEMORY;
    g->n_views = n_views;
    return CBCT_OK;
}

void cbct_geometry_destroy(cbct_geometry *g)
{
    if (!g)
        return;
    cbct_free(g->views);
    g->views = NULL;
    g->n_views = 0;
}

cbct_status cbct_geometry_copy(const cbct_geometry *src, cbct_geometry *dst)
{
    return cbct_geometry_subset(src, 0, src->n_views, dst);
}

cbct_status cbct_geometry_subset(const cbct_geometry *g, int64_t first, int64_t count,
                                 cbct_geometry *out)
{
    if (first < 0 || count <= 0 || first + count > g->n_views)
        return cbct_error(CBCT_ERR_ARG, "views [%lld, %lld) are outside the geometry's %lld views",
                          (long long)first, (long long)(first + count), (long long)g->n_views);
    *out = *g;
    cbct_status s = cbct_geometry_alloc_views(out, count);
    if (s)
        return s;
    memcpy(out->views, g->views + first, (size_t)count * sizeof(cbct_view));
    return CBCT_OK;
}

cbct_status cbct_geometry_circular(const cbct_circular *c, cbct_geometry *out)
{
    if (c->n_views <= 0)
        return cbct_error(CBCT_ERR_GEOMETRY, "circular scan: %lld views, expected at least 1",
                          (long long)c->n_views);
    if (!(c->sod_mm > 0) || !(c->sdd_mm > c->sod_mm))
        return cbct_error(CBCT_ERR_GEOMETRY,
                          "circular scan: source-origin distance %g mm and source-detector "
                          "distance %g mm: expected 0 < sod < sdd", c->sod_mm, c->sdd_mm);
    if (c->det_rows <= 0 || c->det_cols <= 0)
        return cbct_error(CBCT_ERR_GEOMETRY, "circular scan: detector %lld x %lld pixels, "
                          "expected positive sizes", (long long)c->det_rows, (long long)c->det_cols);
    if (!(c->pixel_mm[0] > 0) || !(c->pixel_mm[1] > 0))
        return cbct_error(CBCT_ERR_GEOMETRY, "circular scan: pixel size %g x %g mm, expected "
                          "positive", c->pixel_mm[0], c->pixel_mm[1]);
    if (!isfinite(c->arc_rad) || c->arc_rad == 0 || !isfinite(c->first_angle_rad))
        return cbct_error(CBCT_ERR_GEOMETRY, "circular scan: arc %g rad, first angle %g rad: "
                          "expected finite, non-zero arc", c->arc_rad, c->first_angle_rad);
    cbct_status s = cbct_geometry_alloc_views(out, c->n_views);
    if (s)
        return s;
    out->det_rows = c->det_rows;
    out->det_cols = c->det_cols;
    double odd = c->sdd_mm - c->sod_mm; /* origin to detector */
    for (int64_t i = 0; i < c->n_views; i++) {
        double a = c->first_angle_rad + c->arc_rad * (double)i / (double)c->n_views;
        double sa = sin(a), ca = cos(a);
        cbct_view *w = &out->views[i];
        /* ASTRA's cone -> cone_vec conversion. */
        w->src[0] = sa * c->sod_mm;
        w->src[1] = -ca * c->sod_mm;
        w->src[2] = 0;
        w->u[0] = ca * c->pixel_mm[1];
        w->u[1] = sa * c->pixel_mm[1];
        w->u[2] = 0;
        w->v[0] = 0;
        w->v[1] = 0;
        w->v[2] = c->pixel_mm[0];
        /* Detector offsets move the centre along the unit u and v directions. */
        w->det[0] = -sa * odd + ca * c->det_offset_mm[1];
        w->det[1] = ca * odd + sa * c->det_offset_mm[1];
        w->det[2] = c->det_offset_mm[0];
    }
    return CBCT_OK;
}

cbct_status cbct_geometry_validate(const cbct_geometry *g)
{
    const cbct_volume_geom *vg = &g->vol;
    static const char *axis[3] = {"z", "y", "x"};
    for (int i = 0; i < 3; i++) {
        if (vg->shape[i] <= 0)
            return cbct_error(CBCT_ERR_GEOMETRY, "volume shape %s = %lld: expected a positive "
                              "number of voxels", axis[i], (long long)vg->shape[i]);
        if (!(vg->voxel_size[i] > 0) || !isfinite(vg->voxel_size[i]))
            return cbct_error(CBCT_ERR_GEOMETRY, "volume voxel_size %s = %g mm: expected a "
                              "positive finite size", axis[i], vg->voxel_size[i]);
        if (!isfinite(vg->origin[i]))
            return cbct_error(CBCT_ERR_GEOMETRY, "volume origin %s = %g: expected finite",
                              axis[i], vg->origin[i]);
    }
    if (g->det_rows <= 0 || g->det_cols <= 0)
        return cbct_error(CBCT_ERR_GEOMETRY, "detector %lld rows x %lld cols: expected positive",
                          (long long)g->det_rows, (long long)g->det_cols);
    if (g->n_views <= 0 || !g->views)
        return cbct_error(CBCT_ERR_GEOMETRY, "geometry has %lld views: expected at least 1",
                          (long long)g->n_views);
    for (int64_t i = 0; i < g->n_views; i++) {
        const cbct_view *w = &g->views[i];
        const double *all = w->src;
        for (int k = 0; k < 12; k++)
            if (!isfinite(all[k]))
                return cbct_error(CBCT_ERR_GEOMETRY, "view %lld: vector element %d is %g: "
                                  "expected finite", (long long)i, k, all[k]);
        double n[3];
        vec3_cross(w->u, w->v, n);
        double lu = vec3_norm(w->u), lv = vec3_norm(w->v), ln = vec3_norm(n);
        if (lu == 0 || lv == 0)
            return cbct_error(CBCT_ERR_GEOMETRY, "view %lld: detector step %s has zero length",
                              (long long)i, lu == 0 ? "u" : "v");
        /* sin of the angle between u and v; 1e-6 rad would be a broken file. */
        if (ln < 1e-6 * lu * lv)
            return cbct_error(CBCT_ERR_GEOMETRY, "view %lld: detector steps u and v are "
                              "parallel (degenerate detector)", (long long)i);
        double sd[3];
        vec3_sub(w->det, w->src, sd);
        double dist = fabs(vec3_dot(sd, n)) / ln;
        if (!(dist > 1e-9 * (vec3_norm(sd) + lu + lv)))
            return cbct_error(CBCT_ERR_GEOMETRY, "view %lld: the source lies on the detector "
                              "plane", (long long)i);
    }
    return CBCT_OK;
}

void cbct_voxel_to_world(const cbct_volume_geom *vg, double iz, double iy, double ix,
                         double world[3])
{
    double idx[3] = {iz, iy, ix};
    for (int a = 0; a < 3; a++) /* a: z, y, x -> world index 2 - a */
        world[2 - a] = (idx[a] - 0.5 * (double)vg->shape[a] + 0.5) * vg->voxel_size[a] +
                       vg->origin[a];
}

void cbct_world_to_voxel(const cbct_volume_geom *vg, const double world[3], double index[3])
{
    for (int a = 0; a < 3; a++)
        index[a] = (world[2 - a] - vg->origin[a]) / vg->voxel_size[a] +
                   0.5 * (double)vg->shape[a] - 0.5;
}

void cbct_pixel_to_world(const cbct_geometry *g, int64_t view, double row, double col,
                         double world[3])
{
    const cbct_view *w = &g->views[view];
    double cu = col - 0.5 * (double)g->det_cols + 0.5;
    double cv = row - 0.5 * (double)g->det_rows + 0.5;
    for (int k = 0; k < 3; k++)
        world[k] = w->det[k] + cu * w->u[k] + cv * w->v[k];
}

cbct_status cbct_view_projection_matrix(const cbct_geometry *g, int64_t view, double m[3][4])
{
    const cbct_view *w = &g->views[view];
    double n[3], sd[3];
    vec3_cross(w->u, w->v, n);
    double ln = vec3_norm(n);
    if (ln == 0)
        return cbct_error(CBCT_ERR_GEOMETRY, "view %lld: degenerate detector", (long long)view);
    vec3_scale(n, 1.0 / ln, n);
    vec3_sub(w->det, w->src, sd);
    double dist = vec3_dot(sd, n); /* source to detector plane, signed */
    if (dist < 0) {
        vec3_scale(n, -1, n);
        dist = -dist;
    }
    if (dist == 0)
        return cbct_error(CBCT_ERR_GEOMETRY, "view %lld: source on the detector plane",
                          (long long)view);
    /* Dual basis: a* . u = 1, a* . v = 0, a* . n = 0 (and b* likewise). */
    double vxn[3], nxu[3], ua[3], vb[3];
    vec3_cross(w->v, n, vxn);
    vec3_cross(n, w->u, nxu);
    vec3_scale(vxn, 1.0 / vec3_dot(w->u, vxn), ua);
    vec3_scale(nxu, 1.0 / vec3_dot(w->v, nxu), vb);
    /* p = s + (dist / depth) (x - s); col = (p - d).ua + cols/2 - 0.5; so
     * col * depth = dist (x - s).ua + (cols/2 - 0.5 - (d - s).ua) depth. */
    double col0 = 0.5 * (double)g->det_cols - 0.5 - vec3_dot(sd, ua);
    double row0 = 0.5 * (double)g->det_rows - 0.5 - vec3_dot(sd, vb);
    for (int k = 0; k < 3; k++) {
        m[0][k] = dist * ua[k] + col0 * n[k];
        m[1][k] = dist * vb[k] + row0 * n[k];
        m[2][k] = n[k];
    }
    m[0][3] = -vec3_dot(m[0], w->src);
    m[1][3] = -vec3_dot(m[1], w->src);
    m[2][3] = -vec3_dot(n, w->src);
    return CBCT_OK;
}

cbct_status cbct_volume_geom_fit(const cbct_geometry *g, int64_t nz, int64_t ny, int64_t nx,
                                 cbct_volume_geom *out)
{
    if (nz <= 0 || ny <= 0 || nx <= 0)
        return cbct_error(CBCT_ERR_ARG, "volume shape %lld x %lld x %lld: expected positive",
                          (long long)nz, (long long)ny, (long long)nx);
    /* For every view: the pixel the origin projects to, how far the detector
     * reaches from it on each side (offset detectors reach less on one
     * side), scaled back to the origin by the magnification. */
    double half_u = INFINITY, half_v = INFINITY, sod = 0;
    for (int64_t i = 0; i < g->n_views; i++) {
        double m[3][4];
        cbct_status s = cbct_view_projection_matrix(g, i, m);
        if (s)
            return s;
        const cbct_view *w = &g->views[i];
        double depth = m[2][3]; /* of the origin, along the detector normal (mm) */
        double n[3] = {m[2][0], m[2][1], m[2][2]}, sd[3];
        vec3_sub(w->det, w->src, sd);
        double sdd = vec3_dot(sd, n);
        if (!(depth > 0) || !(sdd > depth))
            return cbct_error(CBCT_ERR_GEOMETRY, "view %lld: the origin is not between the "
                              "source and the detector", (long long)i);
        double col0 = m[0][3] / depth, row0 = m[1][3] / depth;
        double cols_free = fmin(col0 + 0.5, (double)g->det_cols - 0.5 - col0);
        double rows_free = fmin(row0 + 0.5, (double)g->det_rows - 0.5 - row0);
        half_u = fmin(half_u, cols_free * vec3_norm(w->u) * depth / sdd);
        half_v = fmin(half_v, rows_free * vec3_norm(w->v) * depth / sdd);
        sod = fmax(sod, depth);
    }
    if (!(half_u > 0) || !(half_v > 0))
        return cbct_error(CBCT_ERR_GEOMETRY, "the detector does not see the origin in every "
                          "view: cannot fit a volume");
    /* The in-plane circle of radius r is inside the fan when
     * r = sod * sin(atan(half_u / sod)). */
    double radius = sod * sin(atan(half_u / sod));
    double side_xy = radius * sqrt(2.0); /* square inscribed in the circle */
    double voxel_xy = side_xy / (double)(nx > ny ? nx : ny);
    /* Along z: keep the box inside the cone at its face nearest the source. */
    double half_z = half_v * (sod - radius) / sod;
    double voxel_z = 2.0 * half_z / (double)nz;
    out->shape[0] = nz;
    out->shape[1] = ny;
    out->shape[2] = nx;
    out->voxel_size[0] = voxel_z;
    out->voxel_size[1] = voxel_xy;
    out->voxel_size[2] = voxel_xy;
    out->origin[0] = out->origin[1] = out->origin[2] = 0;
    return CBCT_OK;
}
