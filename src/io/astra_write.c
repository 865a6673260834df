/* cbct geometries to ASTRA geometry dictionaries (JSON): `cone_vec` always,
 * `cone` when the views are those of one circular scan. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cbct/io.h"

/* Relative tolerance for "this view is the cone view of its angle":
 * rounding of the trigonometry, far below any real misalignment. */
#define CONE_TOLERANCE 1e-9

static double norm3(const double a[3])
{
    return sqrt(a[0] * a[0] + a[1] * a[1] + a[2] * a[2]);
}

/* Angle and distances of view 0; each view must match the cone formula. */
static cbct_status cone_parameters(const cbct_geometry *g, double *angles, double p[4])
{
    const cbct_view *v0 = &g->views[0];
    double dso = norm3(v0->src), dod = norm3(v0->det), dx = norm3(v0->u), dy = norm3(v0->v);
    for (int64_t i = 0; i < g->n_views; i++) {
        const cbct_view *v = &g->views[i];
        double a = atan2(v->src[0], -v->src[1]);
        double sa = sin(a), ca = cos(a);
        double want[12] = {sa * dso, -ca * dso, 0, -sa * dod, ca * dod, 0,
                           ca * dx, sa * dx, 0, 0, 0, dy};
        const double *have[4] = {v->src, v->det, v->u, v->v};
        double scale[4] = {dso, dod > 0 ? dod : dso, dx, dy};
        for (int k = 0; k < 12; k++)
            if (fabs(have[k / 3][k % 3] - want[k]) > CONE_TOLERANCE * scale[k / 3])
                return cbct_error(CBCT_ERR_GEOMETRY, "view %lld is not a view of a circular "
                                  "ASTRA 'cone' scan (number %d is %.17g, the cone view of its "
                                  "angle has %.17g): write it as 'cone_vec'", (long long)i, k,
                                  have[k / 3][k % 3], want[k]);
        /* Unwrapped, so that a scan's angles keep increasing (or falling)
         * past +-pi as the caller's did. */
        if (i > 0)
            a += 2.0 * M_PI * floor((angles[i - 1] - a) / (2.0 * M_PI) + 0.5);
        angles[i] = a;
    }
    p[0] = dx, p[1] = dy, p[2] = dso, p[3] = dod;
    return CBCT_OK;
}

/* The shortest of %.15g, %.16g, %.17g that reads back as the same double:
 * cJSON's printer allows an epsilon, cbct's files are exact. */
static const char *exact(double value, char *buf)
{
    for (int digits = 15; digits < 17; digits++) {
        snprintf(buf, 32, "%.*g", digits, value);
        if (strtod(buf, NULL) == value)
            return buf;
    }
    snprintf(buf, 32, "%.17g", value);
    return buf;
}

/* printf into the atomic file (which aborts itself on a failed write). */
static cbct_status emit(cbct_atomic_file *f, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static cbct_status emit(cbct_atomic_file *f, const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof line) {
        cbct_atomic_abort(f);
        return cbct_error(CBCT_ERR_INTERNAL, "ASTRA JSON line longer than %zu bytes",
                          sizeof line);
    }
    return cbct_atomic_write(f, line, (size_t)n);
}

static cbct_status emit_cone(cbct_atomic_file *f, const cbct_geometry *g, const double *angles,
                             const double p[4])
{
    char a[32], b[32];
    cbct_status s = emit(f, "    \"DetectorSpacingX\": %s,\n    \"DetectorSpacingY\": %s,\n",
                         exact(p[0], a), exact(p[1], b));
    if (!s)
        s = emit(f, "    \"DistanceOriginSource\": %s,\n    \"DistanceOriginDetector\": %s,\n"
                 "    \"ProjectionAngles\": [", exact(p[2], a), exact(p[3], b));
    for (int64_t i = 0; !s && i < g->n_views; i++)
        s = emit(f, "%s%s", i ? ", " : "", exact(angles[i], a));
    return s ? s : emit(f, "]\n  },\n");
}

static cbct_status emit_vectors(cbct_atomic_file *f, const cbct_geometry *g)
{
    cbct_status s = emit(f, "    \"Vectors\": [\n");
    for (int64_t i = 0; !s && i < g->n_views; i++) {
        const cbct_view *v = &g->views[i];
        const double *parts[4] = {v->src, v->det, v->u, v->v};
        char n[12][32];
        for (int k = 0; k < 12; k++)
            exact(parts[k / 3][k % 3], n[k]);
        s = emit(f, "      [%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s]%s\n", n[0], n[1],
                 n[2], n[3], n[4], n[5], n[6], n[7], n[8], n[9], n[10], n[11],
                 i + 1 < g->n_views ? "," : "");
    }
    return s ? s : emit(f, "    ]\n  },\n");
}

static cbct_status emit_volume(cbct_atomic_file *f, const cbct_volume_geom *v)
{
    cbct_status s = emit(f, "  \"vol_geom\": {\n    \"GridRowCount\": %lld,\n    \"GridColCount\": "
                         "%lld,\n    \"GridSliceCount\": %lld,\n    \"option\": {\n",
                         (long long)v->shape[1], (long long)v->shape[2], (long long)v->shape[0]);
    static const char *const axes[3] = {"Z", "Y", "X"};
    for (int i = 2; !s && i >= 0; i--) {
        char lo[32], hi[32];
        double half = 0.5 * (double)v->shape[i] * v->voxel_size[i];
        s = emit(f, "      \"WindowMin%s\": %s,\n      \"WindowMax%s\": %s%s\n", axes[i],
                 exact(v->origin[i] - half, lo), axes[i], exact(v->origin[i] + half, hi),
                 i ? "," : "");
    }
    return s ? s : emit(f, "    }\n  }\n}\n");
}

cbct_status cbct_astra_write_json(const char *path, const cbct_geometry *g,
                                  cbct_astra_type type)
{
    cbct_status s = cbct_geometry_validate(g);
    if (s)
        return cbct_error_prefix(s, "cannot write '%s'", path);
    double *angles = NULL, p[4] = {0, 0, 0, 0};
    if (type == CBCT_ASTRA_CONE) {
        if (!(angles = cbct_alloc((size_t)g->n_views * sizeof(double), "ASTRA angles")))
            return cbct_error_prefix(CBCT_ERR_MEMORY, "cannot write '%s'", path);
        if ((s = cone_parameters(g, angles, p))) {
            cbct_free(angles);
            return cbct_error_prefix(s, "cannot write '%s' as ASTRA 'cone'", path);
        }
    }
    cbct_atomic_file f;
    s = cbct_atomic_open(path, &f);
    if (!s)
        s = emit(&f, "{\n  \"proj_geom\": {\n    \"type\": \"%s\",\n    \"DetectorRowCount\": "
                 "%lld,\n    \"DetectorColCount\": %lld,\n",
                 type == CBCT_ASTRA_CONE ? "cone" : "cone_vec", (long long)g->det_rows,
                 (long long)g->det_cols);
    if (!s)
        s = type == CBCT_ASTRA_CONE ? emit_cone(&f, g, angles, p) : emit_vectors(&f, g);
    if (!s)
        s = emit_volume(&f, &g->vol);
    if (!s)
        s = cbct_atomic_commit(&f);
    cbct_free(angles);
    return s;
}
