/* FDK filters and argument checking: the four windows all reconstruct a
 * ball's value and are ordered by sharpness (ram-lak > shepp-logan >
 * cosine > hann, cutoff 0.5 smoother than 1); names round-trip; bad
 * options, NULL pointers, out-of-range views and slabs, invalid geometries
 * and non-finite data fail with clear messages. */
#include "test_fdk_util.h"

#define MU 0.02

/* Mean squared difference of x-neighbours: grows with edge sharpness. */
static double roughness(const cbct_volume_geom *vg, const float *vol)
{
    int64_t n = vg->shape[0] * vg->shape[1] * vg->shape[2], nx = vg->shape[2];
    double sum = 0;
    for (int64_t i = 0; i + 1 < n; i++)
        if ((i + 1) % nx)
            sum += (double)(vol[i + 1] - vol[i]) * (vol[i + 1] - vol[i]);
    return sum / (double)n;
}

static int max_abs_is_zero(const float *vol, int64_t n)
{
    for (int64_t i = 0; i < n; i++)
        if (vol[i] != 0)
            return 0;
    return 1;
}

static float centre_value(const cbct_volume_geom *vg, const float *vol)
{
    int64_t nz = vg->shape[0], ny = vg->shape[1], nx = vg->shape[2];
    return vol[((nz / 2) * ny + ny / 2) * nx + nx / 2];
}

static void check_filters(void)
{
    cbct_geometry g;
    CHECK_OK(fdk_test_circular(90, 2 * FDK_TEST_PI, 48, 48, 1.6, 32, &g));
    double r = 0.3 * (double)g.vol.shape[2] * g.vol.voxel_size[2];
    cbct_ellipsoid ball = {{0.4, -0.3, 0.2}, {r, r, r}, 0, MU};
    double rough[5];
    float *ramlak = NULL;
    for (int i = 0; i < 5; i++) {
        /* Four windows at cutoff 1, then ram-lak at cutoff 0.5. */
        cbct_fdk_opts opts = {(cbct_filter)(i % 4), i < 4 ? 1.0 : 0.5, CBCT_SHORT_SCAN_AUTO};
        float *vol = fdk_test_reconstruct(&ball, 1, &g, &opts);
        CHECK(vol != NULL);
        if (!vol)
            continue;
        rough[i] = roughness(&g.vol, vol);
        printf("%-12s cutoff %.1f: centre %.5f /mm, roughness %.4g\n",
               cbct_filter_name(opts.filter), opts.cutoff, centre_value(&g.vol, vol), rough[i]);
        /* A sharp band limit rings, and a ball focuses its edge's ringing
         * on its centre: a looser bound at cutoff 0.5. */
        CHECK_NEAR(centre_value(&g.vol, vol), MU, (i < 4 ? 0.03 : 0.12) * MU);
        if (i == 0)
            ramlak = vol;
        else
            cbct_free(vol);
    }
    CHECK(rough[0] > rough[1] && rough[1] > rough[2] && rough[2] > rough[3]);
    CHECK(rough[4] < rough[0]);

    /* Cutoff 0 means 1. */
    cbct_fdk_opts zero_cutoff = {CBCT_FILTER_RAM_LAK, 0.0, CBCT_SHORT_SCAN_AUTO};
    float *vol = fdk_test_reconstruct(&ball, 1, &g, &zero_cutoff);
    CHECK(vol && ramlak);
    if (vol && ramlak)
        CHECK(memcmp(vol, ramlak, (size_t)fdk_test_volume_size(&g) * sizeof(float)) == 0);
    cbct_free(vol);
    cbct_free(ramlak);
    cbct_geometry_destroy(&g);
}

static void check_names(void)
{
    const char *names[] = {"ram-lak", "shepp-logan", "cosine", "hann"};
    for (int i = 0; i < 4; i++) {
        cbct_filter f = CBCT_FILTER_RAM_LAK;
        CHECK_OK(cbct_filter_from_name(names[i], &f));
        CHECK((int)f == i);
        CHECK(strcmp(cbct_filter_name(f), names[i]) == 0);
    }
    cbct_filter f;
    CHECK_FAILS(cbct_filter_from_name("ramlak", &f), CBCT_ERR_ARG, "unknown FDK filter 'ramlak'");
    CHECK_FAILS(cbct_filter_from_name(NULL, &f), CBCT_ERR_ARG, "NULL");
    CHECK(strcmp(cbct_filter_name((cbct_filter)42), "unknown") == 0);
}

static void check_bad_inputs(void)
{
    cbct_geometry g;
    CHECK_OK(fdk_test_circular(12, 2 * FDK_TEST_PI, 16, 20, 2.0, 8, &g));
    cbct_fdk *f = NULL;
    cbct_fdk_opts opts = {CBCT_FILTER_RAM_LAK, 1.5, CBCT_SHORT_SCAN_AUTO};
    CHECK_FAILS(cbct_fdk_create(&g, &opts, &f), CBCT_ERR_ARG, "cutoff 1.5");
    CHECK(f == NULL);
    opts.cutoff = -0.2;
    CHECK_FAILS(cbct_fdk_create(&g, &opts, &f), CBCT_ERR_ARG, "cutoff -0.2");
    opts.cutoff = NAN;
    CHECK_FAILS(cbct_fdk_create(&g, &opts, &f), CBCT_ERR_ARG, "cutoff");
    opts.cutoff = 1;
    opts.filter = (cbct_filter)9;
    CHECK_FAILS(cbct_fdk_create(&g, &opts, &f), CBCT_ERR_ARG, "FDK filter 9");
    opts.filter = CBCT_FILTER_HANN;
    opts.short_scan = (cbct_short_scan)7;
    CHECK_FAILS(cbct_fdk_create(&g, &opts, &f), CBCT_ERR_ARG, "short_scan option 7");
    CHECK_FAILS(cbct_fdk_create(NULL, NULL, &f), CBCT_ERR_ARG, "the geometry is NULL");
    CHECK_FAILS(cbct_fdk_create(&g, NULL, NULL), CBCT_ERR_ARG, "out is NULL");

    /* Invalid geometries: the validator's message, prefixed. */
    cbct_geometry bad;
    CHECK_OK(cbct_geometry_copy(&g, &bad));
    bad.det_rows = 0;
    CHECK_FAILS(cbct_fdk_create(&bad, NULL, &f), CBCT_ERR_GEOMETRY, "detector 0 rows");
    bad.det_rows = g.det_rows;
    memcpy(bad.views[3].v, bad.views[3].u, sizeof bad.views[3].u);
    CHECK_FAILS(cbct_fdk_create(&bad, NULL, &f), CBCT_ERR_GEOMETRY, "view 3");
    /* A view looking away from the rotation axis. */
    memcpy(bad.views, g.views, (size_t)g.n_views * sizeof(cbct_view));
    for (int k = 0; k < 3; k++) {
        bad.views[5].src[k] = -0.25 * g.views[5].src[k];
        bad.views[5].det[k] = g.views[5].det[k] - g.views[5].src[k] + bad.views[5].src[k];
    }
    CHECK_FAILS(cbct_fdk_create(&bad, NULL, &f), CBCT_ERR_GEOMETRY, "view 5: the world origin");
    /* Parker forced on a 120 degree scan. */
    cbct_geometry narrow;
    CHECK_OK(fdk_test_circular(12, 2 * FDK_TEST_PI / 3, 16, 20, 2.0, 8, &narrow));
    cbct_fdk_opts parker = {CBCT_FILTER_RAM_LAK, 1, CBCT_SHORT_SCAN_ON};
    CHECK_FAILS(cbct_fdk_create(&narrow, &parker, &f), CBCT_ERR_GEOMETRY, "180 degrees");
    cbct_geometry_destroy(&narrow);
    cbct_geometry_destroy(&bad);

    /* Views, slabs and buffers. */
    CHECK_OK(cbct_fdk_create(&g, NULL, &f));
    int64_t n_proj = fdk_test_proj_size(&g), n_vox = fdk_test_volume_size(&g);
    float *proj = cbct_calloc((size_t)n_proj, sizeof(float), "projections");
    float *vol = cbct_calloc((size_t)n_vox, sizeof(float), "volume");
    CHECK(f && proj && vol);
    if (f && proj && vol) {
        CHECK_FAILS(cbct_fdk_filter_views(f, 10, 3, proj, proj), CBCT_ERR_ARG, "views [10, 13)");
        CHECK_FAILS(cbct_fdk_filter_views(f, -1, 3, proj, proj), CBCT_ERR_ARG, "views [-1, 2)");
        CHECK_FAILS(cbct_fdk_filter_views(f, 0, 1, NULL, proj), CBCT_ERR_ARG, "NULL");
        CHECK_FAILS(cbct_fdk_filter_views(NULL, 0, 1, proj, proj), CBCT_ERR_ARG, "NULL");
        CHECK_FAILS(cbct_fdk_backproject(f, 0, 13, proj, 0, 8, vol, 0), CBCT_ERR_ARG,
                    "views [0, 13)");
        CHECK_FAILS(cbct_fdk_backproject(f, 0, 1, proj, 5, 4, vol, 0), CBCT_ERR_ARG,
                    "slab z [5, 9)");
        CHECK_FAILS(cbct_fdk_backproject(f, 0, 1, proj, -1, 2, vol, 0), CBCT_ERR_ARG, "slab");
        CHECK_FAILS(cbct_fdk_backproject(f, 0, 1, proj, 0, 0, vol, 0), CBCT_ERR_ARG, "slab");
        CHECK_FAILS(cbct_fdk_backproject(f, 0, 1, proj, 0, 8, NULL, 0), CBCT_ERR_ARG, "NULL");
        CHECK_FAILS(cbct_fdk_backproject(f, 0, 1, NULL, 0, 8, vol, 0), CBCT_ERR_ARG, "NULL");
        CHECK_FAILS(cbct_fdk_reconstruct(&g, NULL, NULL, vol), CBCT_ERR_ARG, "NULL");
        proj[n_proj / 2] = NAN;
        CHECK_FAILS(cbct_fdk_reconstruct(&g, NULL, proj, vol), CBCT_ERR_NUMERIC, "projections");
        /* Zeros in, zeros out; the valid calls succeed. */
        proj[n_proj / 2] = 0;
        CHECK_OK(cbct_fdk_reconstruct(&g, NULL, proj, vol));
        CHECK(max_abs_is_zero(vol, n_vox));
    }
    cbct_free(proj);
    cbct_free(vol);
    cbct_fdk_destroy(f);
    cbct_fdk_destroy(NULL);
    cbct_geometry_destroy(&g);
}

/* Every allocation of a reconstruction failing in turn: a clean
 * CBCT_ERR_MEMORY and nothing left allocated. */
static void check_allocation_failures(void)
{
    cbct_geometry g;
    CHECK_OK(fdk_test_circular(12, 2 * FDK_TEST_PI, 16, 20, 2.0, 8, &g));
    float *proj = cbct_calloc((size_t)fdk_test_proj_size(&g), sizeof(float), "projections");
    float *vol = cbct_calloc((size_t)fdk_test_volume_size(&g), sizeof(float), "volume");
    size_t before = cbct_mem_current();
    int failures = 0, n;
    for (n = 1; n < 50; n++) {
        cbct_mem_fail_nth(n);
        cbct_status s = cbct_fdk_reconstruct(&g, NULL, proj, vol);
        cbct_mem_fail_nth(0);
        CHECK(s == CBCT_OK || s == CBCT_ERR_MEMORY);
        CHECK(cbct_mem_current() == before);
        if (s == CBCT_OK)
            break;
        failures++;
    }
    printf("allocation failures: %d allocations each failed cleanly\n", failures);
    CHECK(failures >= 5 && n < 50);
    cbct_free(proj);
    cbct_free(vol);
    cbct_geometry_destroy(&g);
}

int main(void)
{
    check_filters();
    check_allocation_failures();
    check_names();
    check_bad_inputs();
    CHECK(cbct_mem_current() == 0);
    return check_summary("test_fdk_filters");
}
