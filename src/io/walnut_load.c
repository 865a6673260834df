/* Loading one orbit of the Walnut dataset: geometry rows, dark and flat
 * fields, the projections in the reference scripts' order and orientation,
 * line integrals, and the reference reconstruction as ground truth. The
 * conventions and their sources are in docs/walnut.md. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cbct/geometry.h"
#include "cbct/io.h"

/* A .geom file of 1201 rows is about 300 KB; refuse anything absurd. */
#define GEOM_MAX_BYTES ((size_t)64 << 20)
#define NAME_CAP (CBCT_MHA_PATH_MAX + 64)

typedef struct walnut_images {
    char folder[NAME_CAP];
    int64_t rows, cols;      /* stored image size (H, W) */
    float *dark, *flat, *image;
} walnut_images;

/* Reads the single-page image `name` of the orbit folder into `dst`
 * (NULL: only learn the size, for the first image). */
static cbct_status read_image(walnut_images *w, const char *name, float **dst)
{
    char path[NAME_CAP + 32];
    snprintf(path, sizeof path, "%s/%s", w->folder, name);
    cbct_tiff_header *h = cbct_alloc(sizeof *h, "TIFF header");
    if (!h)
        return cbct_error_prefix(CBCT_ERR_MEMORY, "reading '%s'", path);
    cbct_status s = cbct_tiff_read_header(path, h);
    if (!s && h->shape[0] != 1)
        s = cbct_error(CBCT_ERR_FORMAT, "'%s' has %lld pages: expected one projection image",
                       path, (long long)h->shape[0]);
    if (!s && w->rows == 0) { /* the first image fixes the size */
        w->rows = h->shape[1];
        w->cols = h->shape[2];
    }
    if (!s && (h->shape[1] != w->rows || h->shape[2] != w->cols))
        s = cbct_error(CBCT_ERR_FORMAT, "'%s' is %lld x %lld pixels, the dark field %lld x %lld: "
                       "expected every image of the orbit alike", path, (long long)h->shape[1],
                       (long long)h->shape[2], (long long)w->rows, (long long)w->cols);
    if (!s && !*dst && !(*dst = cbct_alloc((size_t)w->rows * (size_t)w->cols * sizeof(float),
                                           "Walnut image")))
        s = cbct_error_prefix(CBCT_ERR_MEMORY, "reading '%s'", path);
    if (!s)
        s = cbct_tiff_read_slices(h, 0, 1, *dst);
    cbct_free(h);
    return s;
}

static cbct_status read_fields(walnut_images *w)
{
    cbct_status s = read_image(w, "di000000.tif", &w->dark);
    if (!s)
        s = read_image(w, "io000000.tif", &w->flat);
    if (!s)
        s = read_image(w, "io000001.tif", &w->image);
    size_t n = (size_t)w->rows * (size_t)w->cols;
    for (size_t i = 0; !s && i < n; i++) /* the two flats, taken before and after: averaged */
        w->flat[i] = 0.5f * (w->flat[i] + w->image[i]);
    return s;
}

/* Line integrals of the image in w->image into one projection: flip up-down
 * then transpose, so projection (r, c) is stored pixel (H - 1 - c, r). */
static int64_t to_line_integrals(const walnut_images *w, float *view)
{
    int64_t clamped = 0, H = w->rows, W = w->cols;
    for (int64_t sr = 0; sr < H; sr++)
        for (int64_t sc = 0; sc < W; sc++) {
            size_t i = (size_t)sr * (size_t)W + (size_t)sc;
            double ratio = ((double)w->image[i] - w->dark[i]) / ((double)w->flat[i] - w->dark[i]);
            if (!(ratio > 0) || !isfinite(ratio)) {
                ratio = CBCT_WALNUT_MIN_RATIO;
                clamped++;
            }
            int64_t r = sc, c = H - 1 - sr;
            view[(size_t)r * (size_t)H + (size_t)c] = (float)-log(ratio);
        }
    return clamped;
}

static cbct_status read_geometry(const char *folder, double **rows, int64_t *n_rows)
{
    char path[NAME_CAP + 32];
    snprintf(path, sizeof path, "%s/scan_geom_corrected.geom", folder);
    char *text;
    size_t len;
    cbct_status s = cbct_read_text_file(path, GEOM_MAX_BYTES, &text, &len);
    if (s)
        return s;
    s = cbct_walnut_parse_geom(text, len, path, rows, n_rows);
    free(text);
    if (!s && *n_rows < 2) {
        cbct_free(*rows);
        *rows = NULL;
        s = cbct_error(CBCT_ERR_FORMAT, "'%s' has %lld row: expected one per view and a last "
                       "one repeating the first angle", path, (long long)*n_rows);
    }
    return s;
}

static cbct_status check_options(const cbct_walnut_options *o)
{
    if (!o || !o->path || !*o->path)
        return cbct_error(CBCT_ERR_ARG, "Walnut loader: no dataset folder given");
    if (strlen(o->path) > CBCT_MHA_PATH_MAX - 64)
        return cbct_error(CBCT_ERR_ARG, "Walnut folder name is too long");
    if (o->orbit < 1 || o->orbit > 3)
        return cbct_error(CBCT_ERR_ARG, "Walnut orbit %d: expected 1, 2 or 3 (tubeV1..3)",
                          o->orbit);
    if (o->num_projections < 0 || o->voxel_size_mm < 0 || !isfinite(o->voxel_size_mm))
        return cbct_error(CBCT_ERR_ARG, "Walnut loader: %lld projections, voxel %g mm: expected "
                          "counts >= 0 and a positive voxel size", (long long)o->num_projections,
                          o->voxel_size_mm);
    for (int i = 0; i < 3; i++)
        if (o->volume_shape[i] < 0)
            return cbct_error(CBCT_ERR_ARG, "Walnut loader: negative volume size");
    return CBCT_OK;
}

static void fill_geometry(const cbct_walnut_options *o, const double *rows, int64_t n_avail,
                          const walnut_images *w, cbct_geometry *g)
{
    g->det_rows = w->cols; /* transposed: stored columns become detector rows */
    g->det_cols = w->rows;
    for (int64_t k = 0; k < g->n_views; k++) {
        const double *r = rows + 12 * cbct_walnut_view_row(k, g->n_views, n_avail);
        cbct_view *v = &g->views[k];
        memcpy(v->src, r, sizeof v->src);
        memcpy(v->det, r + 3, sizeof v->det);
        memcpy(v->u, r + 6, sizeof v->u);
        memcpy(v->v, r + 9, sizeof v->v);
    }
    int given = o->volume_shape[0] > 0 && o->volume_shape[1] > 0 && o->volume_shape[2] > 0;
    double voxel = o->voxel_size_mm > 0 ? o->voxel_size_mm : CBCT_WALNUT_VOXEL_MM;
    for (int i = 0; i < 3; i++) {
        g->vol.shape[i] = given ? o->volume_shape[i] : CBCT_WALNUT_VOLUME_VOXELS;
        g->vol.voxel_size[i] = voxel;
        g->vol.origin[i] = 0.0;
    }
}

/* The reference reconstruction, when there and of the volume's shape. */
static cbct_status read_truth(const cbct_walnut_options *o, const cbct_geometry *g,
                              cbct_array *truth, cbct_walnut_report *r)
{
    char pattern[NAME_CAP], first[NAME_CAP + 16];
    snprintf(pattern, sizeof pattern, "%s/Reconstructions/full_AGD_50_%%06d.tiff", o->path);
    snprintf(first, sizeof first, "%s/Reconstructions/full_AGD_50_000000.tiff", o->path);
    if (access(first, F_OK) != 0) {
        cbct_log(CBCT_LOG_INFO, "no reference reconstruction in %s/Reconstructions: no ground "
                 "truth", o->path);
        return CBCT_OK;
    }
    cbct_status s = cbct_tiff_read(pattern, truth);
    if (s)
        return s;
    if (memcmp(truth->shape, g->vol.shape, sizeof truth->shape) != 0) {
        cbct_log(CBCT_LOG_WARN, "%s is %lld x %lld x %lld, the volume %lld x %lld x %lld: not "
                 "used as ground truth", pattern, (long long)truth->shape[0],
                 (long long)truth->shape[1], (long long)truth->shape[2],
                 (long long)g->vol.shape[0], (long long)g->vol.shape[1],
                 (long long)g->vol.shape[2]);
        cbct_array_destroy(truth);
        return CBCT_OK;
    }
    for (int i = 0; i < 3; i++) {
        truth->spacing[i] = g->vol.voxel_size[i];
        truth->origin[i] = g->vol.origin[i];
    }
    r->truth_found = 1;
    return CBCT_OK;
}

static cbct_status load_views(const cbct_walnut_options *o, walnut_images *w,
                              cbct_geometry *geom, cbct_array *proj, cbct_walnut_report *r)
{
    double *rows = NULL;
    int64_t n_rows = 0;
    cbct_status s = read_geometry(w->folder, &rows, &n_rows);
    int64_t n_avail = n_rows - 1, count = o->num_projections ? o->num_projections : n_avail;
    r->views_available = n_avail;
    if (!s && count > n_avail)
        s = cbct_error(CBCT_ERR_ARG, "Walnut orbit %s: %lld projections asked, %lld available",
                       w->folder, (long long)count, (long long)n_avail);
    if (!s)
        s = read_fields(w);
    if (!s)
        s = cbct_geometry_alloc_views(geom, count);
    if (!s)
        s = cbct_array_create(proj, count, w->cols, w->rows, "Walnut projections");
    size_t view_size = (size_t)w->rows * (size_t)w->cols;
    for (int64_t k = 0; !s && k < count; k++) {
        char name[32];
        int64_t row = cbct_walnut_view_row(k, count, n_avail);
        snprintf(name, sizeof name, "scan_%06lld.tif", (long long)(n_avail - 1 - row));
        if (!(s = read_image(w, name, &w->image)))
            r->clamped += to_line_integrals(w, proj->data + (size_t)k * view_size);
        cbct_progress("walnut", k + 1, count);
    }
    if (!s) {
        fill_geometry(o, rows, n_avail, w, geom);
        for (int i = 0; i < 3; i++) {
            proj->spacing[i] = 1.0;
            proj->origin[i] = 0.0;
        }
        s = cbct_geometry_validate(geom);
    }
    cbct_free(rows);
    return s;
}

cbct_status cbct_walnut_load(const cbct_walnut_options *o, cbct_geometry *geom,
                             cbct_array *proj, cbct_array *truth, cbct_walnut_report *report)
{
    memset(geom, 0, sizeof *geom);
    memset(proj, 0, sizeof *proj);
    if (truth)
        memset(truth, 0, sizeof *truth);
    cbct_walnut_report local;
    cbct_walnut_report *r = report ? report : &local;
    memset(r, 0, sizeof *r);
    cbct_status s = check_options(o);
    if (s)
        return s;
    walnut_images w;
    memset(&w, 0, sizeof w);
    snprintf(w.folder, sizeof w.folder, "%s/Projections/tubeV%d", o->path, o->orbit);
    s = load_views(o, &w, geom, proj, r);
    r->image_rows = w.rows;
    r->image_cols = w.cols;
    cbct_free(w.dark);
    cbct_free(w.flat);
    cbct_free(w.image);
    if (!s && truth && o->load_truth)
        s = read_truth(o, geom, truth, r);
    if (s) {
        cbct_geometry_destroy(geom);
        cbct_array_destroy(proj);
        if (truth)
            cbct_array_destroy(truth);
        return s;
    }
    if (r->clamped > 0)
        cbct_log(CBCT_LOG_WARN, "%s: %lld pixels had a non-positive (P - D) / (F - D): clamped "
                 "to %g (line integral %.2f)", w.folder, (long long)r->clamped,
                 CBCT_WALNUT_MIN_RATIO, -log(CBCT_WALNUT_MIN_RATIO));
    return CBCT_OK;
}
