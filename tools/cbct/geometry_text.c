/* A readable description of a geometry: what `geometry info` and `info`
 * print. Distances are measured on view 0 along the detector normal. */
#include <math.h>
#include <stdio.h>

#include "cli.h"

static double dot3(const double *a, const double *b) { return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]; }
static double norm3(const double *a) { return sqrt(dot3(a, a)); }

/* Angle (deg, in [0, 360)) of a source position around z, ASTRA's
 * convention: a source at (sin a, -cos a, 0) * sod has angle a. */
static double source_angle_deg(const cbct_view *w)
{
    double a = atan2(w->src[0], -w->src[1]) * 180.0 / CLI_PI;
    return a < 0 ? a + 360.0 : a;
}

/* Sum of the signed steps between consecutive source angles (deg), each
 * wrapped to (-180, 180], so that a full turn is not mistaken for zero. */
static double angle_span_deg(const cbct_geometry *g)
{
    double span = 0;
    for (int64_t i = 1; i < g->n_views; i++) {
        double step = source_angle_deg(&g->views[i]) - source_angle_deg(&g->views[i - 1]);
        step = fmod(step + 540.0, 360.0) - 180.0;
        span += step;
    }
    return span;
}

void cli_print_geometry(const cbct_geometry *g, const char *name, FILE *out)
{
    const cbct_view *w = &g->views[0];
    const cbct_volume_geom *vg = &g->vol;
    double n[3] = {w->u[1] * w->v[2] - w->u[2] * w->v[1], w->u[2] * w->v[0] - w->u[0] * w->v[2],
                   w->u[0] * w->v[1] - w->u[1] * w->v[0]};
    double ln = norm3(n);
    for (int k = 0; k < 3; k++)
        n[k] /= ln;
    double centre[3] = {vg->origin[2], vg->origin[1], vg->origin[0]}; /* x, y, z */
    double sd[3], sc[3];
    for (int k = 0; k < 3; k++) {
        sd[k] = w->det[k] - w->src[k];
        sc[k] = centre[k] - w->src[k];
    }
    double sdd = fabs(dot3(sd, n)), sod = fabs(dot3(sc, n));
    double mag = sdd / sod;
    double pu = norm3(w->u), pv = norm3(w->v);
    double fov_w = (double)g->det_cols * pu / mag, fov_h = (double)g->det_rows * pv / mag;
    /* In-plane radius of the circle every view sees (tangent to the fan). */
    double fov_radius = sod * sin(atan(0.5 * fov_w / sod));
    double ext[3];
    for (int i = 0; i < 3; i++)
        ext[i] = (double)vg->shape[i] * vg->voxel_size[i];
    double corner_radius = 0.5 * sqrt(ext[1] * ext[1] + ext[2] * ext[2]);
    double span = angle_span_deg(g);
    double step = g->n_views > 1 ? span / (double)(g->n_views - 1) : 0;

    fprintf(out, "geometry %s\n", name);
    fprintf(out, "  views            %lld, source angle %.3f deg to %.3f deg (step %.4f deg, "
                 "covers %.2f deg)\n", (long long)g->n_views, source_angle_deg(w),
            source_angle_deg(&g->views[g->n_views - 1]), step, fabs(span + step));
    fprintf(out, "  detector         %lld rows x %lld cols, pixel %g x %g mm (row x col), "
                 "%.2f x %.2f mm\n", (long long)g->det_rows, (long long)g->det_cols, pv, pu,
            (double)g->det_rows * pv, (double)g->det_cols * pu);
    fprintf(out, "  distances        source-centre %.3f mm, source-detector %.3f mm (view 0)\n",
            sod, sdd);
    fprintf(out, "  magnification    %.4f\n", mag);
    fprintf(out, "  field of view    %.2f mm wide x %.2f mm high at the centre, "
                 "in-plane diameter %.2f mm\n", fov_w, fov_h, 2 * fov_radius);
    fprintf(out, "  volume           %lld x %lld x %lld voxels (z, y, x) of %g x %g x %g mm\n",
            (long long)vg->shape[0], (long long)vg->shape[1], (long long)vg->shape[2],
            vg->voxel_size[0], vg->voxel_size[1], vg->voxel_size[2]);
    fprintf(out, "  volume extent    %.2f x %.2f x %.2f mm, centre (x, y, z) = (%g, %g, %g) mm\n",
            ext[0], ext[1], ext[2], centre[0], centre[1], centre[2]);
    /* Corners outside the field of view are normal (the object inside the
     * inscribed cylinder is what counts): say so rather than warn. */
    /* Relative slack: a volume fitted to the FOV touches it, up to rounding. */
    double slack = 1 + 1e-9;
    int whole = corner_radius <= fov_radius * slack && ext[0] <= fov_h * slack;
    int cylinder = 0.5 * (ext[1] < ext[2] ? ext[1] : ext[2]) <= fov_radius * slack &&
                   ext[0] <= fov_h * slack;
    fprintf(out, "  volume in FOV    %s: FOV radius %.2f mm, volume half-width %.2f mm, "
                 "corner radius %.2f mm, height %.2f of %.2f mm\n",
            whole ? "all of it" : cylinder ? "inscribed cylinder, corners outside" : "partly",
            fov_radius, 0.5 * (ext[1] < ext[2] ? ext[1] : ext[2]), corner_radius, ext[0], fov_h);
}
