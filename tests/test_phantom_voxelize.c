/* Voxelisation of ellipsoids: volume of a sphere with supersampling,
 * centre sampling at s = 1 against the test's own inside test (rotation
 * convention included), exact values in fully covered voxels, overlaps,
 * thread independence and bad input. */
#include "check.h"

static int inside(const cbct_ellipsoid *e, const double p[3])
{
    double dx = p[0] - e->centre[0], dy = p[1] - e->centre[1], dz = p[2] - e->centre[2];
    double c = cos(e->phi_rad), s = sin(e->phi_rad);
    double lx = (c * dx + s * dy) / e->semi_axes[0];
    double ly = (-s * dx + c * dy) / e->semi_axes[1];
    double lz = dz / e->semi_axes[2];
    return lx * lx + ly * ly + lz * lz <= 1;
}

static size_t numel(const cbct_volume_geom *vg)
{
    return (size_t)vg->shape[0] * (size_t)vg->shape[1] * (size_t)vg->shape[2];
}

static double voxel_sum(const float *vol, size_t n)
{
    double sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += vol[i];
    return sum;
}

/* An off-centre sphere in an off-centre volume with anisotropic voxels. */
static void test_sphere_volume(void)
{
    cbct_volume_geom vg = {{32, 36, 40}, {0.4, 0.45, 0.5}, {0.1, -0.2, 0.3}};
    cbct_ellipsoid ball = {{1.1, -0.7, 0.4}, {5.3, 5.3, 5.3}, 0, 0.02};
    float *vol = malloc(numel(&vg) * sizeof(float));
    double exact = 4.0 / 3 * acos(-1.0) * pow(5.3, 3) * ball.value;
    double voxel_mm3 = vg.voxel_size[0] * vg.voxel_size[1] * vg.voxel_size[2];
    CHECK_OK(cbct_phantom_voxelize(&ball, 1, &vg, 3, vol));
    double got = voxel_sum(vol, numel(&vg)) * voxel_mm3;
    CHECK_MSG(fabs(got - exact) < 0.01 * exact, "s = 3: %g vs %g", got, exact);
    /* The voxel holding the centre is fully inside: exactly the value. */
    double idx[3];
    cbct_world_to_voxel(&vg, ball.centre, idx);
    size_t at = ((size_t)lround(idx[0]) * 36 + (size_t)lround(idx[1])) * 40 + (size_t)lround(idx[2]);
    CHECK(vol[at] == (float)ball.value);
    /* Nothing outside the bounding box: border voxels far away are 0. */
    CHECK(vol[0] == 0 && vol[numel(&vg) - 1] == 0);
    free(vol);
}

/* s = 1 samples voxel centres: compare with the test's inside test. */
static void test_centre_sampling(void)
{
    const double deg = acos(-1.0) / 180;
    cbct_volume_geom vg = {{20, 30, 30}, {1, 1, 1}, {2, 0, -1}};
    cbct_ellipsoid e = {{-1, 2, 1.5}, {12, 3, 6}, 30 * deg, 0.05};
    float *vol = malloc(numel(&vg) * sizeof(float));
    CHECK_OK(cbct_phantom_voxelize(&e, 1, &vg, 1, vol));
    int mismatches = 0, n_inside = 0;
    for (int64_t z = 0; z < vg.shape[0]; z++)
        for (int64_t y = 0; y < vg.shape[1]; y++)
            for (int64_t x = 0; x < vg.shape[2]; x++) {
                double w[3];
                cbct_voxel_to_world(&vg, (double)z, (double)y, (double)x, w);
                float expect = inside(&e, w) ? (float)e.value : 0.0f;
                n_inside += expect != 0;
                mismatches += vol[(z * vg.shape[1] + y) * vg.shape[2] + x] != expect;
            }
    CHECK_MSG(mismatches == 0, "%d voxels differ from centre sampling", mismatches);
    CHECK(n_inside > 100);
    /* Rotation sign: 9 mm along (cos phi, sin phi) from the centre is inside,
     * along the mirror direction (cos phi, -sin phi) it is not. */
    double along[3] = {-1 + 9 * cos(30 * deg), 2 + 9 * sin(30 * deg), 1.5};
    double mirror[3] = {-1 + 9 * cos(30 * deg), 2 - 9 * sin(30 * deg), 1.5};
    double ia[3], im[3];
    cbct_world_to_voxel(&vg, along, ia);
    cbct_world_to_voxel(&vg, mirror, im);
    size_t a = ((size_t)lround(ia[0]) * 30 + (size_t)lround(ia[1])) * 30 + (size_t)lround(ia[2]);
    size_t m = ((size_t)lround(im[0]) * 30 + (size_t)lround(im[1])) * 30 + (size_t)lround(im[2]);
    CHECK(vol[a] == (float)e.value);
    CHECK(vol[m] == 0);
    free(vol);
}

/* s = 2: values are multiples of value / 8; overlaps add; the result does
 * not depend on the number of threads. */
static void test_fractions_and_threads(void)
{
    cbct_volume_geom vg = {{24, 24, 24}, {1, 1, 1}, {0, 0, 0}};
    cbct_ellipsoid two[2] = {{{0, 0, 0}, {9, 7, 8}, 0.4, 0.04},
                             {{2, 1, 0}, {3, 4, 2}, -1.1, -0.01}};
    size_t n = numel(&vg);
    float *vol = malloc(n * sizeof(float)), *vol1 = malloc(n * sizeof(float));
    CHECK_OK(cbct_phantom_voxelize(two, 1, &vg, 2, vol));
    int off_grid = 0;
    for (size_t i = 0; i < n; i++) {
        double k = vol[i] / (0.04 / 8);
        off_grid += fabs(k - round(k)) > 1e-4 || k < -1e-4 || k > 8 + 1e-4;
    }
    CHECK(off_grid == 0);
    cbct_set_threads(2);
    CHECK_OK(cbct_phantom_voxelize(two, 2, &vg, 2, vol));
    cbct_set_threads(1);
    CHECK_OK(cbct_phantom_voxelize(two, 2, &vg, 2, vol1));
    cbct_set_threads(2);
    CHECK(memcmp(vol, vol1, n * sizeof(float)) == 0);
    /* The centre voxels (12, 12, 12) spans [0, 1]^3 mm: inside both. */
    size_t centre = (12 * 24 + 12) * 24 + 12;
    CHECK_NEAR(vol[centre], 0.03, 1e-7);
    free(vol);
    free(vol1);
}

static void test_bad_input(void)
{
    cbct_volume_geom vg = {{4, 4, 4}, {1, 1, 1}, {0, 0, 0}};
    cbct_ellipsoid e = {{0, 0, 0}, {1, 1, 1}, 0, 1};
    float vol[64];
    CHECK_FAILS(cbct_phantom_voxelize(&e, 1, &vg, 0, vol), CBCT_ERR_ARG, "supersample 0");
    CHECK_FAILS(cbct_phantom_voxelize(&e, 1, &vg, -2, vol), CBCT_ERR_ARG, "supersample -2");
    CHECK_FAILS(cbct_phantom_voxelize(&e, 1, &vg, 1000, vol), CBCT_ERR_ARG, "supersample 1000");
    CHECK_FAILS(cbct_phantom_voxelize(&e, 1, &vg, 1, NULL), CBCT_ERR_ARG, "volume is NULL");
    CHECK_FAILS(cbct_phantom_voxelize(&e, 1, NULL, 1, vol), CBCT_ERR_ARG, "geometry is NULL");
    CHECK_FAILS(cbct_phantom_voxelize(NULL, 1, &vg, 1, vol), CBCT_ERR_ARG, "list is NULL");
    CHECK_FAILS(cbct_phantom_voxelize(&e, -3, &vg, 1, vol), CBCT_ERR_ARG, "-3 ellipsoids");
    cbct_ellipsoid bad = e;
    bad.semi_axes[2] = -1;
    CHECK_FAILS(cbct_phantom_voxelize(&bad, 1, &vg, 1, vol), CBCT_ERR_ARG, "semi-axis c = -1");
    bad = e;
    bad.centre[1] = INFINITY;
    CHECK_FAILS(cbct_phantom_voxelize(&bad, 1, &vg, 1, vol), CBCT_ERR_ARG, "centre[1]");
    cbct_volume_geom empty = vg;
    empty.shape[1] = 0;
    CHECK_FAILS(cbct_phantom_voxelize(&e, 1, &empty, 1, vol), CBCT_ERR_GEOMETRY, "shape y = 0");
    cbct_volume_geom neg = vg;
    neg.voxel_size[2] = -1;
    CHECK_FAILS(cbct_phantom_voxelize(&e, 1, &neg, 1, vol), CBCT_ERR_GEOMETRY, "voxel size x");
    /* No ellipsoids: zeros; an ellipsoid far outside the volume: zeros. */
    vol[5] = 3;
    CHECK_OK(cbct_phantom_voxelize(NULL, 0, &vg, 2, vol));
    CHECK(vol[5] == 0);
    cbct_ellipsoid far = {{100, -100, 50}, {3, 3, 3}, 0, 1};
    CHECK_OK(cbct_phantom_voxelize(&far, 1, &vg, 2, vol));
    CHECK(voxel_sum(vol, 64) == 0);
    /* Larger than the volume: every voxel is fully inside. */
    cbct_ellipsoid huge = {{0, 0, 0}, {1e6, 1e6, 1e6}, 0.2, 0.5};
    CHECK_OK(cbct_phantom_voxelize(&huge, 1, &vg, 2, vol));
    CHECK(voxel_sum(vol, 64) == 32);
}

int main(void)
{
    test_sphere_volume();
    test_centre_sampling();
    test_fractions_and_threads();
    test_bad_input();
    CHECK(cbct_mem_current() == 0);
    return check_summary("test_phantom_voxelize");
}
