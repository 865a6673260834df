/* Helpers shared by the FDK tests: circular geometries, phantom
 * projections, masked PSNR and intensity centroids. */
#ifndef CBCT_TESTS_FDK_UTIL_H
#define CBCT_TESTS_FDK_UTIL_H

#include "check.h"

#define FDK_TEST_PI 3.14159265358979323846

/* A circular scan (sod 400 mm, sdd 800 mm unless changed by the caller)
 * with its volume fitted to the field of view. */
static inline cbct_status fdk_test_circular(int64_t n_views, double arc_rad, int64_t det_rows,
                                            int64_t det_cols, double pixel_mm, int64_t n_vox,
                                            cbct_geometry *g)
{
    cbct_circular c = {n_views, 0.0, arc_rad, 400.0, 800.0, det_rows, det_cols,
                       {pixel_mm, pixel_mm}, {0.0, 0.0}};
    memset(g, 0, sizeof *g);
    cbct_status s = cbct_geometry_circular(&c, g);
    if (!s)
        s = cbct_volume_geom_fit(g, n_vox, n_vox, n_vox, &g->vol);
    return s;
}

static inline int64_t fdk_test_volume_size(const cbct_geometry *g)
{
    return g->vol.shape[0] * g->vol.shape[1] * g->vol.shape[2];
}

static inline int64_t fdk_test_proj_size(const cbct_geometry *g)
{
    return g->n_views * g->det_rows * g->det_cols;
}

/* Line integrals of the ellipsoids (tracked allocation, NULL on error). */
static inline float *fdk_test_project(const cbct_ellipsoid *e, int n, const cbct_geometry *g)
{
    float *proj = cbct_alloc((size_t)fdk_test_proj_size(g) * sizeof(float), "test projections");
    if (proj && cbct_phantom_line_integrals(e, n, g, proj)) {
        fprintf(stderr, "line integrals: %s\n", cbct_last_error());
        cbct_free(proj);
        return NULL;
    }
    return proj;
}

/* FDK of the ellipsoids' projections (tracked allocation, NULL on error). */
static inline float *fdk_test_reconstruct(const cbct_ellipsoid *e, int n, const cbct_geometry *g,
                                          const cbct_fdk_opts *opts)
{
    float *proj = fdk_test_project(e, n, g);
    float *vol = cbct_alloc((size_t)fdk_test_volume_size(g) * sizeof(float), "test volume");
    if (!proj || !vol || cbct_fdk_reconstruct(g, opts, proj, vol)) {
        fprintf(stderr, "reconstruct: %s\n", cbct_last_error());
        cbct_free(vol);
        vol = NULL;
    }
    cbct_free(proj);
    return vol;
}

/* PSNR (dB) of `test` against `reference` inside `mask` (via cbct_compare). */
static inline double fdk_test_psnr(const cbct_volume_geom *vg, float *reference, float *test,
                                   const unsigned char *mask)
{
    cbct_array a = {{vg->shape[0], vg->shape[1], vg->shape[2]}, {1, 1, 1}, {0, 0, 0}, reference};
    cbct_array b = a;
    b.data = test;
    cbct_metrics m;
    if (cbct_compare(&a, &b, mask, 0, &m)) {
        fprintf(stderr, "compare: %s\n", cbct_last_error());
        return -1;
    }
    return m.psnr_db;
}

/* Voxels inside the cylinder of `radius_mm` about z and with |z| below
 * `half_z_mm`: away from the edge of the field of view and from the cone
 * beam's incomplete data far from the mid-plane. Caller frees. */
static inline unsigned char *fdk_test_mask(const cbct_volume_geom *vg, double radius_mm,
                                           double half_z_mm)
{
    int64_t nz = vg->shape[0], ny = vg->shape[1], nx = vg->shape[2];
    unsigned char *mask = cbct_alloc((size_t)(nz * ny * nx), "test mask");
    if (!mask)
        return NULL;
    for (int64_t iz = 0; iz < nz; iz++)
        for (int64_t iy = 0; iy < ny; iy++)
            for (int64_t ix = 0; ix < nx; ix++) {
                double p[3];
                cbct_voxel_to_world(vg, (double)iz, (double)iy, (double)ix, p);
                mask[(iz * ny + iy) * nx + ix] =
                    p[0] * p[0] + p[1] * p[1] < radius_mm * radius_mm && fabs(p[2]) < half_z_mm;
            }
    return mask;
}

/* Centroid (iz, iy, ix) of the voxels above `threshold`, weighted by value. */
static inline void fdk_test_centroid(const cbct_volume_geom *vg, const float *vol,
                                     float threshold, double centroid[3])
{
    int64_t nz = vg->shape[0], ny = vg->shape[1], nx = vg->shape[2];
    double sum = 0, acc[3] = {0, 0, 0};
    for (int64_t iz = 0; iz < nz; iz++)
        for (int64_t iy = 0; iy < ny; iy++)
            for (int64_t ix = 0; ix < nx; ix++) {
                float v = vol[(iz * ny + iy) * nx + ix];
                if (v > threshold) {
                    sum += v;
                    acc[0] += v * (double)iz;
                    acc[1] += v * (double)iy;
                    acc[2] += v * (double)ix;
                }
            }
    for (int k = 0; k < 3; k++)
        centroid[k] = sum > 0 ? acc[k] / sum : -1;
}

static inline float fdk_test_max(const float *data, int64_t n)
{
    float m = data[0];
    for (int64_t i = 1; i < n; i++)
        m = data[i] > m ? data[i] : m;
    return m;
}

#endif
