/* FDK of the 3D Shepp-Logan head from its exact line integrals against the
 * voxelised phantom, PSNR inside the field of view near the mid-plane
 * (where the cone-beam data are complete):
 *  - full circular scan: at least 30 dB;
 *  - short scan (180 degrees plus the fan angle): Parker weights must beat
 *    the same data without them by several dB and come close to the full
 *    scan. */
#include "test_fdk_util.h"

#define N_VOX 128
#define N_VIEWS_FULL 360
#define MIN_PSNR_DB 30.0
#define MIN_PARKER_GAIN_DB 3.0   /* Parker vs no Parker on a short scan */
#define MAX_SHORT_SCAN_LOSS_DB 3.0 /* Parker short scan vs full scan */

/* 200 x 200 detector of 0.8 mm pixels (0.4 mm at the axis); the fitted
 * 128^3 volume has voxels of about 0.43 mm, matched to the detector. */
#define DET_PIXELS 200
#define PIXEL_MM 0.8

/* PSNR of the FDK of `proj` (NULL: project the head first). */
static double psnr_of(const cbct_ellipsoid *head, int n, const cbct_geometry *g,
                      const float *proj, cbct_short_scan mode, float *truth,
                      const unsigned char *mask)
{
    cbct_fdk_opts opts = {CBCT_FILTER_RAM_LAK, 1.0, mode};
    float *vol = NULL;
    if (proj) {
        vol = cbct_alloc((size_t)fdk_test_volume_size(g) * sizeof(float), "volume");
        if (vol && cbct_fdk_reconstruct(g, &opts, proj, vol)) {
            fprintf(stderr, "reconstruct: %s\n", cbct_last_error());
            cbct_free(vol);
            vol = NULL;
        }
    } else {
        vol = fdk_test_reconstruct(head, n, g, &opts);
    }
    if (!vol)
        return -1;
    double psnr = fdk_test_psnr(&g->vol, truth, vol, mask);
    cbct_free(vol);
    return psnr;
}

int main(void)
{
    cbct_geometry full;
    CHECK_OK(fdk_test_circular(N_VIEWS_FULL, 2 * FDK_TEST_PI, DET_PIXELS, DET_PIXELS, PIXEL_MM,
                               N_VOX, &full));
    double half_mm = 0.5 * (double)N_VOX * full.vol.voxel_size[2];
    /* The head spans 0.92 radius along y: keep it inside the volume. */
    double radius_mm = 0.95 * half_mm / 0.92;
    cbct_ellipsoid head[16];
    int n = 0;
    CHECK_OK(cbct_phantom_shepp_logan(radius_mm, 0.02, head, 16, &n));

    /* Short scan: 180 degrees plus the full fan angle plus one step (the
     * last view sits one step before the end of the arc), same step. */
    double step = 2 * FDK_TEST_PI / N_VIEWS_FULL;
    double half_fan = atan(0.5 * DET_PIXELS * PIXEL_MM / 800.0);
    double arc = FDK_TEST_PI + 2 * half_fan + step;
    int64_t n_short = (int64_t)ceil(arc / step);
    cbct_circular c = {n_short, 0.4, n_short * step, 400.0, 800.0, DET_PIXELS, DET_PIXELS,
                       {PIXEL_MM, PIXEL_MM}, {0, 0}};
    cbct_geometry short_scan = {0}, clockwise = {0};
    CHECK_OK(cbct_geometry_circular(&c, &short_scan));
    short_scan.vol = full.vol;
    /* The same arc travelled the other way round. */
    c.first_angle_rad = 0.4 + n_short * step;
    c.arc_rad = -n_short * step;
    CHECK_OK(cbct_geometry_circular(&c, &clockwise));
    clockwise.vol = full.vol;

    int64_t n_vox = fdk_test_volume_size(&full);
    float *truth = cbct_alloc((size_t)n_vox * sizeof(float), "voxelised phantom");
    unsigned char *mask = fdk_test_mask(&full.vol, 0.95 * half_mm, 0.5 * half_mm);
    CHECK(truth && mask);
    if (truth && mask) {
        CHECK_OK(cbct_phantom_voxelize(head, n, &full.vol, 3, truth));
        float *proj_short = fdk_test_project(head, n, &short_scan);
        CHECK(proj_short != NULL);
        double psnr_full = psnr_of(head, n, &full, NULL, CBCT_SHORT_SCAN_AUTO, truth, mask);
        double psnr_parker =
            psnr_of(head, n, &short_scan, proj_short, CBCT_SHORT_SCAN_AUTO, truth, mask);
        double psnr_plain =
            psnr_of(head, n, &short_scan, proj_short, CBCT_SHORT_SCAN_OFF, truth, mask);
        double psnr_clockwise =
            psnr_of(head, n, &clockwise, NULL, CBCT_SHORT_SCAN_AUTO, truth, mask);
        cbct_free(proj_short);
        printf("Shepp-Logan %d^3: full scan (%d views) PSNR %.2f dB; short scan (%lld views, "
               "%.1f deg) with Parker %.2f dB, without %.2f dB\n", N_VOX, N_VIEWS_FULL,
               psnr_full, (long long)n_short, n_short * step * 180 / FDK_TEST_PI, psnr_parker,
               psnr_plain);
        printf("short scan clockwise, with Parker: %.2f dB\n", psnr_clockwise);
        CHECK(psnr_full >= MIN_PSNR_DB);
        CHECK(psnr_parker >= psnr_plain + MIN_PARKER_GAIN_DB);
        CHECK(psnr_parker >= psnr_full - MAX_SHORT_SCAN_LOSS_DB);
        CHECK(psnr_clockwise >= psnr_full - MAX_SHORT_SCAN_LOSS_DB);
    }
    cbct_free(mask);
    cbct_free(truth);
    cbct_geometry_destroy(&clockwise);
    cbct_geometry_destroy(&short_scan);
    cbct_geometry_destroy(&full);
    CHECK(cbct_mem_current() == 0);
    return check_summary("test_fdk_shepp");
}
