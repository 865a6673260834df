/* ASTRA geometry dictionaries (JSON) to cbct geometries: `cone` (angles
 * and distances, converted as ASTRA converts them to vectors), `cone_vec`
 * (the vectors as they are) and `vol_geom` (grid and window). */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cbct/io.h"

#define ASTRA_JSON_MAX_BYTES ((size_t)256 << 20)

static cbct_status number(const cJSON *obj, const char *key, const char *name, double *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble))
        return cbct_error(CBCT_ERR_FORMAT, "%s: key '%s' %s: expected a finite number", name,
                          key, v ? "is not a finite number" : "is missing");
    *out = v->valuedouble;
    return CBCT_OK;
}

static cbct_status count(const cJSON *obj, const char *key, const char *name, int64_t *out)
{
    double v = 0;
    cbct_status s = number(obj, key, name, &v);
    if (!s && (v < 1 || v > 1e9 || v != floor(v)))
        s = cbct_error(CBCT_ERR_FORMAT, "%s: %s = %g: expected a whole number >= 1", name, key, v);
    if (!s)
        *out = (int64_t)v;
    return s;
}

static cbct_status cone_views(const cJSON *pg, const char *name, cbct_geometry *g)
{
    double dx = 0, dy = 0, dso = 0, dod = 0;
    cbct_status s = number(pg, "DetectorSpacingX", name, &dx);
    if (!s)
        s = number(pg, "DetectorSpacingY", name, &dy);
    if (!s)
        s = number(pg, "DistanceOriginSource", name, &dso);
    if (!s)
        s = number(pg, "DistanceOriginDetector", name, &dod);
    if (s)
        return s;
    const cJSON *angles = cJSON_GetObjectItemCaseSensitive(pg, "ProjectionAngles");
    int n = cJSON_IsArray(angles) ? cJSON_GetArraySize(angles) : cJSON_IsNumber(angles) ? 1 : 0;
    if (n < 1)
        return cbct_error(CBCT_ERR_FORMAT, "%s: 'ProjectionAngles' is %s: expected a list of "
                          "angles in radians", name, angles ? "empty or not a list" : "missing");
    if ((s = cbct_geometry_alloc_views(g, n)))
        return s;
    for (int i = 0; i < n; i++) {
        const cJSON *a = cJSON_IsArray(angles) ? cJSON_GetArrayItem(angles, i) : angles;
        if (!cJSON_IsNumber(a) || !isfinite(a->valuedouble))
            return cbct_error(CBCT_ERR_FORMAT, "%s: ProjectionAngles[%d] is not a finite number",
                              name, i);
        double sa = sin(a->valuedouble), ca = cos(a->valuedouble);
        cbct_view *v = &g->views[i];
        /* ASTRA's cone -> cone_vec (as cbct_geometry_circular). */
        v->src[0] = sa * dso, v->src[1] = -ca * dso, v->src[2] = 0;
        v->det[0] = -sa * dod, v->det[1] = ca * dod, v->det[2] = 0;
        v->u[0] = ca * dx, v->u[1] = sa * dx, v->u[2] = 0;
        v->v[0] = 0, v->v[1] = 0, v->v[2] = dy;
    }
    return CBCT_OK;
}

static cbct_status vec_views(const cJSON *pg, const char *name, cbct_geometry *g)
{
    const cJSON *vectors = cJSON_GetObjectItemCaseSensitive(pg, "Vectors");
    int n = cJSON_IsArray(vectors) ? cJSON_GetArraySize(vectors) : 0;
    if (n < 1)
        return cbct_error(CBCT_ERR_FORMAT, "%s: 'Vectors' is %s: expected one row of 12 numbers "
                          "per view", name, vectors ? "empty or not a list" : "missing");
    cbct_status s = cbct_geometry_alloc_views(g, n);
    for (int i = 0; !s && i < n; i++) {
        const cJSON *row = cJSON_GetArrayItem(vectors, i);
        if (!cJSON_IsArray(row) || cJSON_GetArraySize(row) != 12)
            return cbct_error(CBCT_ERR_FORMAT, "%s: Vectors[%d] is not a row of 12 numbers "
                              "(source, detector centre, u, v)", name, i);
        double *out[4] = {g->views[i].src, g->views[i].det, g->views[i].u, g->views[i].v};
        for (int k = 0; k < 12; k++) {
            const cJSON *x = cJSON_GetArrayItem(row, k);
            if (!cJSON_IsNumber(x) || !isfinite(x->valuedouble))
                return cbct_error(CBCT_ERR_FORMAT, "%s: Vectors[%d][%d] is not a finite number",
                                  name, i, k);
            out[k / 3][k % 3] = x->valuedouble;
        }
    }
    return s;
}

/* One axis of vol_geom: count n, window [lo, hi] (default +-n/2). */
static cbct_status volume_axis(const cJSON *vg, const char *count_key, const char *axis,
                               const char *name, int64_t *n, double *voxel, double *centre)
{
    cbct_status s = count(vg, count_key, name, n);
    if (s)
        return s;
    const cJSON *opt = cJSON_GetObjectItemCaseSensitive(vg, "option");
    char lo_key[16], hi_key[16];
    snprintf(lo_key, sizeof lo_key, "WindowMin%s", axis);
    snprintf(hi_key, sizeof hi_key, "WindowMax%s", axis);
    double lo = -0.5 * (double)*n, hi = 0.5 * (double)*n;
    if (opt && cJSON_GetObjectItemCaseSensitive(opt, lo_key) &&
        ((s = number(opt, lo_key, name, &lo)) || (s = number(opt, hi_key, name, &hi))))
        return s;
    if (!(hi > lo))
        return cbct_error(CBCT_ERR_FORMAT, "%s: vol_geom window %s [%g, %g]: expected min < max",
                          name, axis, lo, hi);
    *voxel = (hi - lo) / (double)*n;
    *centre = 0.5 * (lo + hi);
    return CBCT_OK;
}

static cbct_status parse_root(const cJSON *root, const char *name, cbct_geometry *g)
{
    const cJSON *pg = cJSON_GetObjectItemCaseSensitive(root, "proj_geom");
    const cJSON *vg = cJSON_GetObjectItemCaseSensitive(root, "vol_geom");
    if (!pg)
        pg = root;
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(pg, "type");
    if (!cJSON_IsString(type))
        return cbct_error(CBCT_ERR_FORMAT, "%s: no proj_geom 'type': expected an ASTRA "
                          "geometry ('cone' or 'cone_vec')", name);
    cbct_status s = count(pg, "DetectorRowCount", name, &g->det_rows);
    if (!s)
        s = count(pg, "DetectorColCount", name, &g->det_cols);
    if (s)
        return s;
    if (!strcmp(type->valuestring, "cone"))
        s = cone_views(pg, name, g);
    else if (!strcmp(type->valuestring, "cone_vec"))
        s = vec_views(pg, name, g);
    else
        return cbct_error(CBCT_ERR_FORMAT, "%s: proj_geom type '%s': expected 'cone' or "
                          "'cone_vec' (cbct reconstructs cone-beam scans)", name,
                          type->valuestring);
    if (s)
        return s;
    if (!vg) {
        s = cbct_volume_geom_fit(g, g->det_rows, g->det_cols, g->det_cols, &g->vol);
        cbct_log(CBCT_LOG_INFO, "%s: no vol_geom; the volume is fitted to the field of view", name);
    } else {
        static const char *const keys[3] = {"GridSliceCount", "GridRowCount", "GridColCount"};
        static const char *const axes[3] = {"Z", "Y", "X"};
        for (int i = 0; i < 3 && !s; i++)
            s = volume_axis(vg, keys[i], axes[i], name, &g->vol.shape[i], &g->vol.voxel_size[i],
                            &g->vol.origin[i]);
    }
    return s ? s : cbct_geometry_validate(g);
}

cbct_status cbct_astra_parse_json(const char *text, const char *name, cbct_geometry *out)
{
    memset(out, 0, sizeof *out);
    name = name ? name : "ASTRA geometry";
    cJSON *root = text ? cJSON_Parse(text) : NULL;
    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return cbct_error(CBCT_ERR_FORMAT, "%s: not a JSON object (expected ASTRA's proj_geom "
                          "and vol_geom dictionaries)", name);
    }
    cbct_status s = parse_root(root, name, out);
    cJSON_Delete(root);
    if (s)
        cbct_geometry_destroy(out);
    return s;
}

cbct_status cbct_astra_read_json(const char *path, cbct_geometry *out)
{
    memset(out, 0, sizeof *out);
    char *text;
    cbct_status s = cbct_read_text_file(path, ASTRA_JSON_MAX_BYTES, &text, NULL);
    if (s)
        return s;
    s = cbct_astra_parse_json(text, path, out);
    free(text);
    return s;
}

cbct_status cbct_geometry_read_any_json(const char *path, cbct_geometry *out)
{
    memset(out, 0, sizeof *out);
    char *text;
    cbct_status s = cbct_read_text_file(path, ASTRA_JSON_MAX_BYTES, &text, NULL);
    if (s)
        return s;
    cJSON *root = cJSON_Parse(text);
    int astra = cJSON_IsObject(root) && (cJSON_GetObjectItemCaseSensitive(root, "proj_geom") ||
                                         cJSON_GetObjectItemCaseSensitive(root, "type"));
    cJSON_Delete(root);
    s = astra ? cbct_astra_parse_json(text, path, out) : cbct_geometry_parse_json(text, path, out);
    free(text);
    return s;
}
