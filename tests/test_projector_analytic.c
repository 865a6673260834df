/* The forward projector against exact line integrals of the 3D Shepp-Logan
 * head, and a small off-centre ball in a non-cubic, off-origin volume that
 * must cast its shadow where the analytic one is (this fails if any axis of
 * the volume indexing is flipped or swapped).
 *
 * The head's skull is a shell 0.0276 of the radius thick: 1.6 voxels at
 * 128^3. Rays tangent to it carry the largest integrals and any projector
 * of a voxelised object blurs such a shell by about a voxel, so the full
 * head cannot reach 1% at 128^3 (measured 4.2%; 2.0% at 256^3: the error
 * halves with the voxel size, as it must for a consistent projector). The
 * head without its skull still has sharp ellipsoid edges and lands at 1.03%
 * (bound 1.5%); the full head is checked on its first-order convergence
 * (docs/projectors.md). */
#include "check.h"

static double rel_l2(const float *a, const float *b, int64_t n)
{
    double num = 0, den = 0;
    for (int64_t i = 0; i < n; i++) {
        num += ((double)a[i] - b[i]) * ((double)a[i] - b[i]);
        den += (double)b[i] * b[i];
    }
    return sqrt(num / den);
}

/* Detector pixel (row, col) of the largest value of view `view`. */
static void argmax(const float *proj, int64_t rows, int64_t cols, int64_t view, double *row,
                   double *col)
{
    /* Intensity-weighted centroid: sub-pixel and robust to ties. */
    double sum = 0, sr = 0, sc = 0;
    const float *p = proj + view * rows * cols;
    for (int64_t r = 0; r < rows; r++)
        for (int64_t c = 0; c < cols; c++) {
            sum += p[r * cols + c];
            sr += p[r * cols + c] * (double)r;
            sc += p[r * cols + c] * (double)c;
        }
    *row = sr / sum;
    *col = sc / sum;
}

/* Relative L2 error of A(voxelised head) against the exact integrals for
 * an n^3 volume over the same 128 mm cube. */
static double head_error(int64_t n, int with_skull)
{
    enum { VIEWS = 24, DET = 160 };
    cbct_geometry g = {0};
    double voxel = 128.0 / (double)n;
    g.vol = (cbct_volume_geom){.shape = {n, n, n}, .voxel_size = {voxel, voxel, voxel}};
    cbct_circular c = {.n_views = VIEWS, .arc_rad = 2 * M_PI, .sod_mm = 400, .sdd_mm = 800,
                       .det_rows = DET, .det_cols = DET, .pixel_mm = {1.6, 1.6}};
    CHECK_OK(cbct_geometry_circular(&c, &g));
    cbct_ellipsoid e[16];
    int count = 0;
    CHECK_OK(cbct_phantom_shepp_logan(0.45 * 128, 0.02, e, 16, &count));
    if (!with_skull) {
        /* Keep the outer ellipsoid at the brain's level and drop the inner
         * one: the same head with the shell filled in. */
        e[0].value += e[1].value;
        memmove(&e[1], &e[2], (size_t)(count - 2) * sizeof e[0]);
        count--;
    }
    cbct_array vol = {0}, proj = {0}, exact = {0};
    CHECK_OK(cbct_array_create(&vol, n, n, n, "volume"));
    CHECK_OK(cbct_array_create(&proj, VIEWS, DET, DET, "projections"));
    CHECK_OK(cbct_array_create(&exact, VIEWS, DET, DET, "exact"));
    CHECK_OK(cbct_phantom_voxelize(e, count, &g.vol, 3, vol.data));
    CHECK_OK(cbct_phantom_line_integrals(e, count, &g, exact.data));
    cbct_projector *p = NULL;
    CHECK_OK(cbct_projector_create(&g, NULL, &p));
    CHECK_OK(cbct_project(p, vol.data, proj.data));
    double err = rel_l2(proj.data, exact.data, cbct_array_numel(&proj));
    printf("Shepp-Logan %lld^3 %s skull, %d views: relative L2 error %.3f%%\n", (long long)n,
           with_skull ? "with" : "without", VIEWS, 100 * err);
    cbct_projector_destroy(p);
    cbct_array_destroy(&vol);
    cbct_array_destroy(&proj);
    cbct_array_destroy(&exact);
    cbct_geometry_destroy(&g);
    return err;
}

static void shepp_logan(void)
{
    double soft = head_error(128, 0);
    CHECK_MSG(soft < 0.015, "head without skull at 128^3: %.4f >= 1.5%%", soft);
    double coarse = head_error(128, 1), fine = head_error(256, 1);
    CHECK_MSG(coarse < 0.05, "head at 128^3: %.4f >= 5%%", coarse);
    CHECK_MSG(fine < 0.55 * coarse, "head at 256^3: %.4f is not about half of %.4f", fine,
              coarse);
}

static void off_centre_ball(void)
{
    enum { VIEWS = 8, ROWS = 90, COLS = 110 };
    cbct_geometry g = {0};
    /* Every axis different, and an origin offset, so a swap cannot hide. */
    g.vol = (cbct_volume_geom){.shape = {40, 56, 72}, .voxel_size = {1.1, 0.9, 0.8},
                               .origin = {3.0, -4.0, 5.0}};
    cbct_circular c = {.n_views = VIEWS, .first_angle_rad = 0.2, .arc_rad = 2 * M_PI,
                       .sod_mm = 200, .sdd_mm = 350, .det_rows = ROWS, .det_cols = COLS,
                       .pixel_mm = {1.0, 1.0}, .det_offset_mm = {2.5, -3.5}};
    CHECK_OK(cbct_geometry_circular(&c, &g));
    cbct_ellipsoid ball = {.centre = {14.0, -13.0, 11.0}, .semi_axes = {8, 8, 8}, .value = 0.05};
    int64_t nv = 40 * 56 * 72, np = (int64_t)VIEWS * ROWS * COLS;
    float *vol = calloc(nv, sizeof(float)), *proj = calloc(np, sizeof(float));
    float *exact = calloc(np, sizeof(float));
    CHECK_OK(cbct_phantom_voxelize(&ball, 1, &g.vol, 3, vol));
    CHECK_OK(cbct_phantom_line_integrals(&ball, 1, &g, exact));
    cbct_projector *p = NULL;
    CHECK_OK(cbct_projector_create(&g, NULL, &p));
    CHECK_OK(cbct_project(p, vol, proj));
    for (int64_t v = 0; v < VIEWS; v++) {
        double r0, c0, r1, c1;
        argmax(proj, ROWS, COLS, v, &r0, &c0);
        argmax(exact, ROWS, COLS, v, &r1, &c1);
        CHECK_MSG(fabs(r0 - r1) < 0.2 && fabs(c0 - c1) < 0.2,
                  "view %lld: shadow centre at (%.2f, %.2f), analytic (%.2f, %.2f)",
                  (long long)v, r0, c0, r1, c1);
    }
    double err = rel_l2(proj, exact, np);
    /* An 8 mm ball on ~1 mm voxels: edges dominate the error (measured 5.2%). */
    CHECK_MSG(err < 0.08, "off-centre ball: relative L2 error %.4f", err);
    /* The same ball mirrored in x must not match: the test can fail. */
    cbct_ellipsoid mirrored = ball;
    mirrored.centre[0] = -ball.centre[0] + 2 * g.vol.origin[2];
    CHECK_OK(cbct_phantom_line_integrals(&mirrored, 1, &g, exact));
    CHECK(rel_l2(proj, exact, np) > 0.5);
    cbct_projector_destroy(p);
    cbct_geometry_destroy(&g);
    free(vol), free(proj), free(exact);
}

int main(void)
{
    shepp_logan();
    off_centre_ball();
    CHECK(cbct_mem_current() == 0);
    return check_summary("test_projector_analytic");
}
