/* Reading the geometry JSON (include/cbct/geometry.h, docs/geometry.md):
 * a volume, a detector, and either ASTRA cone_vec "vectors" or a
 * "circular" scan. Every error names the file and the key, and shows the
 * value found; unknown keys are errors (a typo must not be ignored). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cbct/geometry.h"
#include "cbct/io.h"

/* A geometry file of 200 000 views is about 60 MiB; larger is a mistake. */
#define GEOMETRY_JSON_MAX_BYTES ((size_t)256 << 20)
/* Most views of a "circular" scan: as many as the largest "vectors" file
 * holds (about 800 000), so that a 100-byte file cannot ask for gigabytes
 * of view vectors (found by fuzzing: "views": 1e9 allocated 96 GB). */
#define MAX_CIRCULAR_VIEWS 1000000
/* Integers must be exact in a double. */
#define MAX_EXACT_INTEGER 9007199254740992.0 /* 2^53 */
/* Characters of a value shown in a message. */
#define SHOWN_CHARS 60

/* Degrees to radians: angle_rad = angle_deg * (pi / 180). */
static const double DEG_TO_RAD = 3.14159265358979323846 / 180.0;

/* The JSON text of `item`, shortened, for "got ..." in messages. */
static const char *shown(const cJSON *item, char *buf, size_t cap)
{
    if (!item) {
        snprintf(buf, cap, "nothing");
        return buf;
    }
    char *text = cJSON_PrintUnformatted(item);
    if (!text) {
        snprintf(buf, cap, "(a value that cannot be printed)");
        return buf;
    }
    if (strlen(text) > SHOWN_CHARS && cap > SHOWN_CHARS + 4)
        snprintf(buf, cap, "%.*s...", SHOWN_CHARS, text);
    else
        snprintf(buf, cap, "%s", text);
    free(text);
    return buf;
}

static cbct_status type_error(const char *name, const char *key, const char *expected,
                              const cJSON *item)
{
    char got[SHOWN_CHARS + 8];
    return cbct_error(CBCT_ERR_FORMAT, "%s: \"%s\" must be %s, got %s", name, key, expected,
                      shown(item, got, sizeof got));
}

/* Every member of `obj` must be one of `allowed`, and appear once. */
static cbct_status check_keys(const char *name, const char *prefix, const cJSON *obj,
                              const char *const *allowed, int n_allowed)
{
    for (const cJSON *child = obj->child; child; child = child->next) {
        int known = 0;
        for (int i = 0; i < n_allowed && !known; i++)
            known = strcmp(child->string, allowed[i]) == 0;
        if (!known) {
            char list[160] = "";
            for (int i = 0; i < n_allowed; i++)
                snprintf(list + strlen(list), sizeof list - strlen(list), "%s\"%s\"",
                         i ? ", " : "", allowed[i]);
            return cbct_error(CBCT_ERR_FORMAT, "%s: unknown key \"%s%s%.60s\" (expected %s)",
                              name, prefix, *prefix ? "." : "", child->string, list);
        }
        if (cJSON_GetObjectItemCaseSensitive(obj, child->string) != child)
            return cbct_error(CBCT_ERR_FORMAT, "%s: key \"%s%s%s\" appears twice", name, prefix,
                              *prefix ? "." : "", child->string);
    }
    return CBCT_OK;
}

static cbct_status get_object(const char *name, const char *key, const cJSON *parent,
                              const cJSON **out)
{
    const char *dot = strrchr(key, '.');
    *out = cJSON_GetObjectItemCaseSensitive(parent, dot ? dot + 1 : key);
    if (!*out)
        return cbct_error(CBCT_ERR_FORMAT, "%s: missing \"%s\"", name, key);
    if (!cJSON_IsObject(*out))
        return type_error(name, key, "an object", *out);
    return CBCT_OK;
}

/* A positive integer (exact in a double). */
static cbct_status get_count(const char *name, const char *key, const cJSON *item,
                             int64_t *out)
{
    if (!item)
        return cbct_error(CBCT_ERR_FORMAT, "%s: missing \"%s\"", name, key);
    double v = cJSON_IsNumber(item) ? item->valuedouble : 0;
    if (!(v >= 1 && v <= MAX_EXACT_INTEGER && v == floor(v)))
        return type_error(name, key, "a positive integer", item);
    *out = (int64_t)v;
    return CBCT_OK;
}

/* A number; `positive`: > 0 as well. Finite in every case. */
static int number_ok(const cJSON *item, int positive)
{
    if (!cJSON_IsNumber(item) || !isfinite(item->valuedouble))
        return 0;
    return !positive || item->valuedouble > 0;
}

static cbct_status get_number(const char *name, const char *key, const cJSON *item,
                              int positive, double *out)
{
    if (!item)
        return cbct_error(CBCT_ERR_FORMAT, "%s: missing \"%s\"", name, key);
    if (!number_ok(item, positive))
        return type_error(name, key, positive ? "a positive number" : "a number", item);
    *out = item->valuedouble;
    return CBCT_OK;
}

/* An array of exactly `n` numbers. */
static cbct_status get_numbers(const char *name, const char *key, const cJSON *item, int n,
                               int positive, double *out)
{
    if (!item)
        return cbct_error(CBCT_ERR_FORMAT, "%s: missing \"%s\"", name, key);
    char expected[64];
    snprintf(expected, sizeof expected, "an array of %d %s numbers", n,
             positive ? "positive" : "finite");
    if (!cJSON_IsArray(item) || cJSON_GetArraySize(item) != n)
        return type_error(name, key, expected, item);
    int i = 0;
    for (const cJSON *e = item->child; e; e = e->next, i++) {
        if (!number_ok(e, positive))
            return type_error(name, key, expected, item);
        out[i] = e->valuedouble;
    }
    return CBCT_OK;
}

static cbct_status parse_volume(const char *name, const cJSON *root, cbct_volume_geom *vol)
{
    static const char *const keys[] = {"shape", "voxel_size", "origin"};
    const cJSON *obj;
    cbct_status s = get_object(name, "volume", root, &obj);
    if (s || (s = check_keys(name, "volume", obj, keys, 3)))
        return s;
    const cJSON *shape = cJSON_GetObjectItemCaseSensitive(obj, "shape");
    if (!shape)
        return cbct_error(CBCT_ERR_FORMAT, "%s: missing \"volume.shape\"", name);
    if (!cJSON_IsArray(shape) || cJSON_GetArraySize(shape) != 3)
        return type_error(name, "volume.shape", "an array of 3 positive integers", shape);
    int i = 0;
    for (const cJSON *e = shape->child; e; e = e->next, i++)
        if (get_count(name, "volume.shape", e, &vol->shape[i]))
            return type_error(name, "volume.shape", "an array of 3 positive integers", shape);
    if ((s = get_numbers(name, "volume.voxel_size", cJSON_GetObjectItemCaseSensitive(obj,
                         "voxel_size"), 3, 1, vol->voxel_size)))
        return s;
    const cJSON *origin = cJSON_GetObjectItemCaseSensitive(obj, "origin");
    for (i = 0; i < 3; i++)
        vol->origin[i] = 0;
    if (origin)
        return get_numbers(name, "volume.origin", origin, 3, 0, vol->origin);
    return CBCT_OK;
}

static cbct_status parse_detector(const char *name, const cJSON *root, cbct_geometry *g)
{
    static const char *const keys[] = {"rows", "cols"};
    const cJSON *obj;
    cbct_status s = get_object(name, "detector", root, &obj);
    if (s || (s = check_keys(name, "detector", obj, keys, 2)))
        return s;
    if ((s = get_count(name, "detector.rows", cJSON_GetObjectItemCaseSensitive(obj, "rows"),
                       &g->det_rows)))
        return s;
    return get_count(name, "detector.cols", cJSON_GetObjectItemCaseSensitive(obj, "cols"),
                     &g->det_cols);
}

static cbct_status parse_vectors(const char *name, const cJSON *vectors, cbct_geometry *g)
{
    if (!cJSON_IsArray(vectors) || !vectors->child)
        return type_error(name, "vectors", "a non-empty array of views (12 numbers each)",
                          vectors);
    cbct_status s = cbct_geometry_alloc_views(g, cJSON_GetArraySize(vectors));
    if (s)
        return cbct_error_prefix(s, "%s", name);
    int64_t i = 0;
    for (const cJSON *row = vectors->child; row; row = row->next, i++) {
        char key[48];
        snprintf(key, sizeof key, "vectors[%lld]", (long long)i);
        double x[12]; /* ASTRA order: src, det, u, v */
        if ((s = get_numbers(name, key, row, 12, 0, x)))
            return s;
        cbct_view *w = &g->views[i];
        for (int k = 0; k < 3; k++) {
            w->src[k] = x[k];
            w->det[k] = x[3 + k];
            w->u[k] = x[6 + k];
            w->v[k] = x[9 + k];
        }
    }
    return CBCT_OK;
}

static cbct_status parse_circular(const char *name, const cJSON *obj, cbct_geometry *g)
{
    static const char *const keys[] = {"views", "sod", "sdd", "pixel", "arc_deg",
                                       "first_angle_deg", "offset"};
    if (!cJSON_IsObject(obj))
        return type_error(name, "circular", "an object", obj);
    cbct_status s = check_keys(name, "circular", obj, keys, 7);
    if (s)
        return s;
    cbct_circular c = {0};
    double arc_deg = 360, first_deg = 0; /* defaults: a full turn from angle 0 */
    const cJSON *arc = cJSON_GetObjectItemCaseSensitive(obj, "arc_deg");
    const cJSON *first = cJSON_GetObjectItemCaseSensitive(obj, "first_angle_deg");
    const cJSON *offset = cJSON_GetObjectItemCaseSensitive(obj, "offset");
    if ((s = get_count(name, "circular.views", cJSON_GetObjectItemCaseSensitive(obj, "views"),
                       &c.n_views)) ||
        (s = get_number(name, "circular.sod", cJSON_GetObjectItemCaseSensitive(obj, "sod"), 1,
                        &c.sod_mm)) ||
        (s = get_number(name, "circular.sdd", cJSON_GetObjectItemCaseSensitive(obj, "sdd"), 1,
                        &c.sdd_mm)) ||
        (s = get_numbers(name, "circular.pixel", cJSON_GetObjectItemCaseSensitive(obj, "pixel"),
                         2, 1, c.pixel_mm)) ||
        (arc && (s = get_number(name, "circular.arc_deg", arc, 0, &arc_deg))) ||
        (first && (s = get_number(name, "circular.first_angle_deg", first, 0, &first_deg))) ||
        (offset && (s = get_numbers(name, "circular.offset", offset, 2, 0, c.det_offset_mm))))
        return s;
    if (c.n_views > MAX_CIRCULAR_VIEWS)
        return cbct_error(CBCT_ERR_FORMAT, "%s: \"circular.views\" must be at most %d, got %lld",
                          name, MAX_CIRCULAR_VIEWS, (long long)c.n_views);
    c.arc_rad = arc_deg * DEG_TO_RAD;
    c.first_angle_rad = first_deg * DEG_TO_RAD;
    c.det_rows = g->det_rows;
    c.det_cols = g->det_cols;
    if ((s = cbct_geometry_circular(&c, g)))
        return cbct_error_prefix(s, "%s: \"circular\"", name);
    return CBCT_OK;
}

/* Line and column (from 1) of `at` in `text`, for syntax errors. */
static void line_column(const char *text, const char *at, int *line, int *column)
{
    *line = 1;
    *column = 1;
    for (const char *p = text; p < at && *p; p++) {
        if (*p == '\n') {
            (*line)++;
            *column = 1;
        } else {
            (*column)++;
        }
    }
}

static cbct_status parse_root(const char *name, const cJSON *root, cbct_geometry *out)
{
    static const char *const keys[] = {"volume", "detector", "vectors", "circular"};
    if (!cJSON_IsObject(root))
        return type_error(name, "(top level)", "an object", root);
    cbct_status s = check_keys(name, "", root, keys, 4);
    if (s || (s = parse_volume(name, root, &out->vol)) || (s = parse_detector(name, root, out)))
        return s;
    const cJSON *vectors = cJSON_GetObjectItemCaseSensitive(root, "vectors");
    const cJSON *circular = cJSON_GetObjectItemCaseSensitive(root, "circular");
    if (!vectors == !circular)
        return cbct_error(CBCT_ERR_FORMAT, "%s: %s: expected exactly one of them", name,
                          vectors ? "both \"vectors\" and \"circular\" are given"
                                  : "neither \"vectors\" nor \"circular\" is given");
    if ((s = vectors ? parse_vectors(name, vectors, out) : parse_circular(name, circular, out)))
        return s;
    if ((s = cbct_geometry_validate(out)))
        return cbct_error_prefix(s, "%s", name);
    return CBCT_OK;
}

cbct_status cbct_geometry_parse_json(const char *text, const char *name, cbct_geometry *out)
{
    memset(out, 0, sizeof *out);
    if (!name)
        name = "geometry";
    if (!text)
        return cbct_error(CBCT_ERR_ARG, "%s: no JSON text", name);
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithOpts(text, &end, 1);
    if (!root) {
        int line, column;
        line_column(text, end ? end : text, &line, &column);
        return cbct_error(CBCT_ERR_FORMAT, "%s: not valid JSON (error at line %d, column %d)",
                          name, line, column);
    }
    cbct_status s = parse_root(name, root, out);
    cJSON_Delete(root);
    if (s)
        cbct_geometry_destroy(out);
    return s;
}

cbct_status cbct_geometry_read_json(const char *path, cbct_geometry *out)
{
    memset(out, 0, sizeof *out);
    char *text;
    cbct_status s = cbct_read_text_file(path, GEOMETRY_JSON_MAX_BYTES, &text, NULL);
    if (s)
        return s;
    s = cbct_geometry_parse_json(text, path, out);
    free(text);
    return s;
}
