/* The SIMD kernels take shortcuts (contiguous windows instead of gathers, a
 * y-fastest copy for rays along x, vector read-modify-writes in the adjoint)
 * only when they give the scalar kernel's bits. This test runs both on
 * scans where each shortcut applies and where it does not: rays sparser
 * and denser than voxels, views at 0, 40 and 90 degrees, steep cones,
 * volumes smaller than the detector's shadow, and a block of views and a
 * z-slab. */
#include "check.h"

typedef struct scan {
    int64_t n[3];   /* nz, ny, nx */
    int64_t det[2]; /* rows, cols */
    double pixel_mm, sdd_mm;
    int64_t views;
    double first_angle;
} scan;

static void compare(const scan *sc)
{
    cbct_geometry g = {0};
    g.vol = (cbct_volume_geom){.shape = {sc->n[0], sc->n[1], sc->n[2]},
                               .voxel_size = {1, 1, 1}};
    cbct_circular c = {.n_views = sc->views, .first_angle_rad = sc->first_angle,
                       .arc_rad = 2 * M_PI, .sod_mm = 0.5 * sc->sdd_mm, .sdd_mm = sc->sdd_mm,
                       .det_rows = sc->det[0], .det_cols = sc->det[1],
                       .pixel_mm = {sc->pixel_mm, sc->pixel_mm}};
    CHECK_OK(cbct_geometry_circular(&c, &g));
    int64_t nv = sc->n[0] * sc->n[1] * sc->n[2], np = sc->views * sc->det[0] * sc->det[1];
    float *x = malloc(nv * sizeof(float)), *y = malloc(np * sizeof(float));
    float *ax[2], *aty[2];
    unsigned long long seed = 7;
    for (int64_t i = 0; i < nv; i++)
        x[i] = check_random(&seed);
    for (int64_t i = 0; i < np; i++)
        y[i] = check_random(&seed);
    for (int k = 0; k < 2; k++) {
        cbct_projector_opts opts = {.kernel = k ? CBCT_KERNEL_FAST_SCALAR : CBCT_KERNEL_FAST};
        cbct_projector *p = NULL;
        ax[k] = malloc(np * sizeof(float));
        aty[k] = malloc(nv * sizeof(float));
        CHECK_OK(cbct_projector_create(&g, &opts, &p));
        CHECK_OK(cbct_project(p, x, ax[k]));
        CHECK_OK(cbct_backproject(p, y, aty[k]));
        /* A block: views 1..2 and an odd slab in the middle. */
        int64_t z0 = sc->n[0] / 3, nz = sc->n[0] / 2 + 1;
        cbct_block b = {.view0 = 1, .n_views = 2, .z0 = z0, .nz = nz};
        int64_t plane = sc->n[1] * sc->n[2], view_size = sc->det[0] * sc->det[1];
        CHECK_OK(cbct_project_block(p, b, x + z0 * plane, ax[k] + view_size, 1));
        CHECK_OK(cbct_backproject_block(p, b, y + view_size, aty[k] + z0 * plane, 1));
        cbct_projector_destroy(p);
    }
    CHECK_MSG(memcmp(ax[0], ax[1], np * sizeof(float)) == 0,
              "forward: SIMD and scalar differ (scan %lldx%lldx%lld, det %lld, angle %.2f)",
              (long long)sc->n[0], (long long)sc->n[1], (long long)sc->n[2],
              (long long)sc->det[1], sc->first_angle);
    CHECK_MSG(memcmp(aty[0], aty[1], nv * sizeof(float)) == 0,
              "adjoint: SIMD and scalar differ (scan %lldx%lldx%lld, det %lld, angle %.2f)",
              (long long)sc->n[0], (long long)sc->n[1], (long long)sc->n[2],
              (long long)sc->det[1], sc->first_angle);
    for (int k = 0; k < 2; k++) {
        free(ax[k]);
        free(aty[k]);
    }
    free(x);
    free(y);
    cbct_geometry_destroy(&g);
}

int main(void)
{
    const double angles[] = {0.0, 0.7, M_PI / 2, 2.5};
    for (int a = 0; a < 4; a++) {
        /* Rays sparser than voxels (1.2 voxels apart at the centre). */
        scan sparse = {{40, 48, 56}, {40, 56}, 2.4, 200, 3, angles[a]};
        compare(&sparse);
        /* Rays denser than voxels (0.4 voxels apart). */
        scan dense = {{24, 30, 36}, {72, 96}, 0.8, 200, 3, angles[a]};
        compare(&dense);
        /* A steep cone: rows straddle several slices across 16 columns. */
        scan steep = {{48, 40, 40}, {64, 48}, 2.0, 90, 3, angles[a]};
        compare(&steep);
    }
    CHECK(cbct_mem_current() == 0);
    return check_summary("test_projector_simd");
}
