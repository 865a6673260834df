/* Conventions of the FDK back-projection: a small ball off centre on every
 * axis, in a non-cubic volume with different voxel sizes per axis (and, in
 * a second case, a shifted volume origin), must be reconstructed where
 * cbct_world_to_voxel says. A flipped or swapped axis moves the centroid by
 * many voxels. */
#include "test_fdk_util.h"

static void check_ball_at(const double origin_zyx[3], const char *label)
{
    const double ball_xyz[3] = {20.0, -12.0, 8.0}; /* mm */
    cbct_circular c = {120, 0.3, 2 * FDK_TEST_PI, 400.0, 800.0, 96, 128, {1.4, 1.4}, {0, 0}};
    cbct_geometry g = {0};
    CHECK_OK(cbct_geometry_circular(&c, &g));
    cbct_volume_geom vg = {{40, 56, 64}, {1.2, 0.9, 0.8}, {0, 0, 0}};
    for (int k = 0; k < 3; k++)
        vg.origin[k] = origin_zyx[k];
    g.vol = vg;
    cbct_ellipsoid ball = {{ball_xyz[0], ball_xyz[1], ball_xyz[2]}, {4.0, 4.0, 4.0}, 0, 0.02};
    float *vol = fdk_test_reconstruct(&ball, 1, &g, NULL);
    CHECK(vol != NULL);
    if (!vol) {
        cbct_geometry_destroy(&g);
        return;
    }
    double expected[3], found[3];
    cbct_world_to_voxel(&vg, ball_xyz, expected);
    float peak = fdk_test_max(vol, fdk_test_volume_size(&g));
    fdk_test_centroid(&vg, vol, 0.5f * peak, found);
    printf("%s: peak %.4f /mm, centroid (z, y, x) = (%.2f, %.2f, %.2f), expected "
           "(%.2f, %.2f, %.2f)\n", label, peak, found[0], found[1], found[2], expected[0],
           expected[1], expected[2]);
    CHECK_NEAR(peak, 0.02, 0.004);
    for (int k = 0; k < 3; k++)
        CHECK_NEAR(found[k], expected[k], 0.5);
    cbct_free(vol);
    cbct_geometry_destroy(&g);
}

int main(void)
{
    const double centred[3] = {0, 0, 0};
    const double shifted[3] = {5.0, -4.0, 10.0}; /* oz, oy, ox (mm) */
    check_ball_at(centred, "origin (0, 0, 0)");
    check_ball_at(shifted, "origin (oz 5, oy -4, ox 10)");
    CHECK(cbct_mem_current() == 0);
    return check_summary("test_fdk_offcentre");
}
