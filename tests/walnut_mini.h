/* A miniature Walnut dataset in the real layout (docs/walnut.md), made from
 * the walnut-like phantom: Walnut1/Projections/tubeV2/ with a cone_vec
 * geometry file (N views over a full turn and a last row repeating the
 * first), uint16 images stored as the scanner does (projection flipped
 * up-down and transposed back: image scan_{N-1-i} for geometry row i),
 * dark and two flat fields, Gaussian-approximated Poisson noise, and
 * Reconstructions/full_AGD_50_%06d.tiff holding the phantom. The detector
 * is not square and shifted sideways, so that a wrong flip or transpose
 * cannot go unnoticed. Generated in well under a second. */
#ifndef CBCT_TESTS_WALNUT_MINI_H
#define CBCT_TESTS_WALNUT_MINI_H

#include "check.h"

enum {
    MINI_N = 40,          /* phantom: 40^3 voxels ... */
    MINI_VIEWS = 120,     /* views over the full turn (the real data: 1200) */
    MINI_ROWS = 56,       /* detector rows after flip + transpose ... */
    MINI_COLS = 48        /* ... and columns: stored images are 48 x 56 */
};
#define MINI_VOXEL_MM 0.5
#define MINI_SOD_MM 66.0  /* about the real scanner's distances */
#define MINI_SDD_MM 199.0
#define MINI_PIXEL_MM 1.5
/* The detector is shifted 3 pixels along u and v: a flip of either axis
 * then misplaces every ray by 6 pixels. */
#define MINI_SHIFT_MM (3.0 * MINI_PIXEL_MM)
#define MINI_FLAT_COUNTS 20000.0
#define MINI_DARK_COUNTS 120.0
#define MINI_SEED 2024

static double mini_gauss(unsigned long long *state)
{
    double u1 = 0.5 * (check_random(state) + 1.0) + 1e-12;
    double u2 = 0.5 * (check_random(state) + 1.0);
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

/* Poisson(lambda) counts, Gaussian approximation (lambda >= 100 here),
 * rounded and kept in the uint16 range. */
static float mini_counts(double lambda, unsigned long long *state)
{
    double v = floor(lambda + sqrt(lambda) * mini_gauss(state) + 0.5);
    return (float)(v < 0 ? 0 : v > 65535 ? 65535 : v);
}

/* Stores projection view (R x C) as the scanner's image (C x R):
 * image[sr][sc] = view[sc][C - 1 - sr] (the inverse of flip-then-transpose). */
static void mini_store(const float *view, float *image)
{
    for (int sr = 0; sr < MINI_COLS; sr++)
        for (int sc = 0; sc < MINI_ROWS; sc++)
            image[sr * MINI_ROWS + sc] = view[sc * MINI_COLS + (MINI_COLS - 1 - sr)];
}

static cbct_status mini_write_image(const char *folder, const char *name, const float *image)
{
    char path[2048];
    snprintf(path, sizeof path, "%s/%s", folder, name);
    cbct_array a = {.shape = {1, MINI_COLS, MINI_ROWS}, .spacing = {1, 1, 1},
                    .data = (float *)image};
    return cbct_tiff_write(path, &a, CBCT_MET_USHORT);
}

/* The geometry the dataset is made with (volume: the phantom's grid). */
static cbct_status mini_geometry(cbct_geometry *g)
{
    memset(g, 0, sizeof *g);
    cbct_circular c = {.n_views = MINI_VIEWS, .first_angle_rad = 0.3, .arc_rad = 6.283185307179586,
                       .sod_mm = MINI_SOD_MM, .sdd_mm = MINI_SDD_MM, .det_rows = MINI_ROWS,
                       .det_cols = MINI_COLS, .pixel_mm = {MINI_PIXEL_MM, MINI_PIXEL_MM},
                       .det_offset_mm = {MINI_SHIFT_MM, MINI_SHIFT_MM}};
    cbct_status s = cbct_geometry_circular(&c, g);
    for (int i = 0; i < 3; i++) {
        g->vol.shape[i] = MINI_N;
        g->vol.voxel_size[i] = MINI_VOXEL_MM;
        g->vol.origin[i] = 0;
    }
    return s;
}

/* Writes the dataset under root/Walnut1; the phantom goes to `truth`. */
static cbct_status mini_make(const char *root, float *truth)
{
    char walnut[1024], folder[1200], path[1400];
    snprintf(walnut, sizeof walnut, "%s/Walnut1", root);
    snprintf(folder, sizeof folder, "%s/Projections/tubeV2", walnut);
    mkdir(root, 0755);
    mkdir(walnut, 0755);
    snprintf(path, sizeof path, "%s/Projections", walnut);
    mkdir(path, 0755);
    mkdir(folder, 0755);
    snprintf(path, sizeof path, "%s/Reconstructions", walnut);
    mkdir(path, 0755);
    cbct_geometry g;
    cbct_status s = mini_geometry(&g);
    if (!s)
        s = cbct_phantom_walnut(&g.vol, MINI_SEED, truth);
    /* The reference reconstruction: the phantom, one slice per file. */
    snprintf(path, sizeof path, "%s/Reconstructions/full_AGD_50_%%06d.tiff", walnut);
    cbct_array t = {.shape = {MINI_N, MINI_N, MINI_N},
                    .spacing = {MINI_VOXEL_MM, MINI_VOXEL_MM, MINI_VOXEL_MM}, .data = truth};
    if (!s)
        s = cbct_tiff_write(path, &t, CBCT_MET_FLOAT);
    /* Geometry file: N rows and the first again. */
    snprintf(path, sizeof path, "%s/scan_geom_corrected.geom", folder);
    FILE *f = s ? NULL : fopen(path, "w");
    for (int64_t i = 0; f && i <= MINI_VIEWS; i++) {
        const cbct_view *v = &g.views[i % MINI_VIEWS];
        const double *n[4] = {v->src, v->det, v->u, v->v};
        for (int k = 0; k < 12; k++)
            fprintf(f, "%.17g%c", n[k / 3][k % 3], k == 11 ? '\n' : ' ');
    }
    if (f)
        fclose(f);
    float *proj = calloc((size_t)MINI_VIEWS * MINI_ROWS * MINI_COLS, sizeof(float));
    float image[MINI_ROWS * MINI_COLS], field[MINI_ROWS * MINI_COLS];
    cbct_projector *p = NULL;
    if (!s)
        s = cbct_projector_create(&g, NULL, &p);
    if (!s)
        s = cbct_project(p, truth, proj);
    cbct_projector_destroy(p);
    unsigned long long state = MINI_SEED;
    for (int i = 0; i < MINI_ROWS * MINI_COLS; i++)
        field[i] = mini_counts(MINI_DARK_COUNTS, &state);
    if (!s)
        s = mini_write_image(folder, "di000000.tif", field);
    for (int k = 0; !s && k < 2; k++) {
        for (int i = 0; i < MINI_ROWS * MINI_COLS; i++)
            field[i] = mini_counts(MINI_DARK_COUNTS + MINI_FLAT_COUNTS, &state);
        s = mini_write_image(folder, k ? "io000001.tif" : "io000000.tif", field);
    }
    float view[MINI_ROWS * MINI_COLS];
    for (int64_t i = 0; !s && i < MINI_VIEWS; i++) {
        for (int k = 0; k < MINI_ROWS * MINI_COLS; k++)
            view[k] = mini_counts(MINI_DARK_COUNTS + MINI_FLAT_COUNTS *
                                  exp(-proj[i * MINI_ROWS * MINI_COLS + k]), &state);
        mini_store(view, image);
        char name[64];
        snprintf(name, sizeof name, "scan_%06lld.tif", (long long)(MINI_VIEWS - 1 - i));
        s = mini_write_image(folder, name, image);
    }
    free(proj);
    cbct_geometry_destroy(&g);
    return s;
}

#endif
