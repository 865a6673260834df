/* FDK of a uniform ball: the value in its centre is mu (units 1/mm, scale
 * of filter and weights), the outside is empty, and the result does not
 * depend on how many views are filtered per batch (memory budget). */
#include "test_fdk_util.h"

#define MU 0.02 /* 1/mm */

/* Mean of the voxels within `radius_mm` of the world origin. */
static double mean_near_centre(const cbct_volume_geom *vg, const float *vol, double radius_mm)
{
    int64_t nz = vg->shape[0], ny = vg->shape[1], nx = vg->shape[2];
    double sum = 0;
    int64_t count = 0;
    for (int64_t iz = 0; iz < nz; iz++)
        for (int64_t iy = 0; iy < ny; iy++)
            for (int64_t ix = 0; ix < nx; ix++) {
                double p[3];
                cbct_voxel_to_world(vg, (double)iz, (double)iy, (double)ix, p);
                if (p[0] * p[0] + p[1] * p[1] + p[2] * p[2] < radius_mm * radius_mm) {
                    sum += vol[(iz * ny + iy) * nx + ix];
                    count++;
                }
            }
    return count ? sum / (double)count : 0;
}

int main(void)
{
    /* 64^3 volume, 180 views over a full turn, 96 x 96 detector of 1.6 mm
     * pixels (0.8 mm at the axis): the fitted volume is about 0.77 mm voxels. */
    cbct_geometry g;
    CHECK_OK(fdk_test_circular(180, 2 * FDK_TEST_PI, 96, 96, 1.6, 64, &g));
    double side_mm = (double)g.vol.shape[2] * g.vol.voxel_size[2];
    double radius_mm = 0.35 * side_mm;
    cbct_ellipsoid ball = {{0, 0, 0}, {radius_mm, radius_mm, radius_mm}, 0, MU};

    float *proj = fdk_test_project(&ball, 1, &g);
    int64_t n_vox = fdk_test_volume_size(&g);
    float *vol = cbct_alloc((size_t)n_vox * sizeof(float), "volume");
    CHECK(proj && vol);
    if (!proj || !vol)
        return check_summary("test_fdk_ball");
    CHECK_OK(cbct_fdk_reconstruct(&g, NULL, proj, vol));

    /* The 8 voxels around the centre, and a small sphere about it. */
    int64_t nx = g.vol.shape[2], ny = g.vol.shape[1], c = nx / 2;
    double centre8 = 0;
    for (int64_t dz = -1; dz <= 0; dz++)
        for (int64_t dy = -1; dy <= 0; dy++)
            for (int64_t dx = -1; dx <= 0; dx++)
                centre8 += vol[((c + dz) * ny + (c + dy)) * nx + (c + dx)] / 8.0;
    printf("ball centre %.6f /mm (mu %.3f), mean in r/3 %.6f\n", centre8, MU,
           mean_near_centre(&g.vol, vol, radius_mm / 3));
    CHECK_NEAR(centre8, MU, 0.02 * MU);
    CHECK_NEAR(mean_near_centre(&g.vol, vol, radius_mm / 3), MU, 0.02 * MU);
    /* Outside the ball (a corner of the mid-plane, 1.3 radii out): empty. */
    int64_t corner = (c * ny + (ny - 4)) * nx + (nx - 4);
    CHECK_NEAR(vol[corner], 0.0, 0.05 * MU);

    /* A tight budget forces small view batches and back-projection chunks:
     * the same bits (each voxel adds the views in the same order). */
    float *vol_small = cbct_alloc((size_t)n_vox * sizeof(float), "volume, small batches");
    CHECK(vol_small != NULL);
    if (vol_small) {
        size_t view_bytes = (size_t)(g.det_rows * g.det_cols) * sizeof(float);
        cbct_mem_set_budget(cbct_mem_current() + 16 * view_bytes);
        CHECK_OK(cbct_fdk_reconstruct(&g, NULL, proj, vol_small));
        cbct_mem_set_budget(0);
        CHECK(memcmp(vol, vol_small, (size_t)n_vox * sizeof(float)) == 0);
        /* And a budget too small for one view fails cleanly. */
        cbct_mem_set_budget(cbct_mem_current() + view_bytes / 2);
        CHECK_FAILS(cbct_fdk_reconstruct(&g, NULL, proj, vol_small), CBCT_ERR_MEMORY, "budget");
        cbct_mem_set_budget(0);
    }
    cbct_free(vol_small);
    cbct_free(vol);
    cbct_free(proj);
    cbct_geometry_destroy(&g);
    CHECK(cbct_mem_current() == 0);
    return check_summary("test_fdk_ball");
}
