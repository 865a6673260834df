/* The 3D Shepp-Logan phantom: its table and errors, the voxelised volume
 * against the ellipsoids' analytic volumes, and its exact line integrals
 * against quadrature through the voxelised volume and against the volume
 * integral (a nearly parallel beam). */
#include "check.h"

#define RADIUS_MM 64.0
#define MU_SCALE 0.02 /* 1/mm */

static double analytic_integral(const cbct_ellipsoid *e, int n)
{
    double sum = 0; /* sum of (4/3) pi a b c value: 1/mm * mm^3 */
    for (int i = 0; i < n; i++)
        sum += 4.0 / 3 * acos(-1.0) * e[i].semi_axes[0] * e[i].semi_axes[1] *
               e[i].semi_axes[2] * e[i].value;
    return sum;
}

static void test_table(void)
{
    cbct_ellipsoid e[12];
    int n = -1;
    CHECK_OK(cbct_phantom_shepp_logan(RADIUS_MM, MU_SCALE, e, 12, &n));
    CHECK(n == 10);
    const double deg = acos(-1.0) / 180;
    CHECK_NEAR(e[0].value, MU_SCALE, 1e-15);
    CHECK_NEAR(e[1].value, -0.8 * MU_SCALE, 1e-15);
    CHECK_NEAR(e[9].value, 0.1 * MU_SCALE, 1e-15);
    CHECK_NEAR(e[0].semi_axes[1], 0.92 * RADIUS_MM, 1e-12);
    CHECK_NEAR(e[0].semi_axes[2], 0.81 * RADIUS_MM, 1e-12);
    /* Ellipsoid 3 (right, x > 0) at -18 degrees, 4 (left) at +18. */
    CHECK_NEAR(e[2].centre[0], 0.22 * RADIUS_MM, 1e-12);
    CHECK_NEAR(e[2].phi_rad, -18 * deg, 1e-15);
    CHECK_NEAR(e[3].centre[0], -0.22 * RADIUS_MM, 1e-12);
    CHECK_NEAR(e[3].phi_rad, 18 * deg, 1e-15);
    CHECK_NEAR(e[4].centre[2], -0.15 * RADIUS_MM, 1e-12);
    int rotated = 0;
    for (int i = 0; i < n; i++)
        rotated += e[i].phi_rad != 0;
    CHECK(rotated == 2);
    CHECK_OK(cbct_phantom_validate(e, n));

    CHECK_FAILS(cbct_phantom_shepp_logan(RADIUS_MM, MU_SCALE, e, 9, &n), CBCT_ERR_ARG,
                "room for 9 ellipsoids");
    CHECK(n == 0);
    CHECK_FAILS(cbct_phantom_shepp_logan(0, MU_SCALE, e, 10, &n), CBCT_ERR_ARG, "radius 0");
    CHECK_FAILS(cbct_phantom_shepp_logan(-5, MU_SCALE, e, 10, &n), CBCT_ERR_ARG, "radius -5");
    CHECK_FAILS(cbct_phantom_shepp_logan(NAN, MU_SCALE, e, 10, &n), CBCT_ERR_ARG, "radius nan");
    CHECK_FAILS(cbct_phantom_shepp_logan(1, INFINITY, e, 10, &n), CBCT_ERR_ARG, "value scale");
    CHECK_FAILS(cbct_phantom_shepp_logan(1, 1, NULL, 10, &n), CBCT_ERR_ARG, "NULL");
    CHECK_FAILS(cbct_phantom_shepp_logan(1, 1, e, 10, NULL), CBCT_ERR_ARG, "NULL");
}

/* Trilinear value of the volume at a world point (0 outside). */
static double trilinear(const float *vol, const cbct_volume_geom *vg, const double w[3])
{
    double idx[3];
    cbct_world_to_voxel(vg, w, idx);
    int64_t i0[3];
    double f[3];
    for (int a = 0; a < 3; a++) {
        double fl = floor(idx[a]);
        i0[a] = (int64_t)fl;
        f[a] = idx[a] - fl;
    }
    double sum = 0;
    for (int corner = 0; corner < 8; corner++) {
        int64_t i[3];
        double weight = 1;
        for (int a = 0; a < 3; a++) {
            int bit = (corner >> a) & 1;
            i[a] = i0[a] + bit;
            weight *= bit ? f[a] : 1 - f[a];
        }
        if (i[0] < 0 || i[1] < 0 || i[2] < 0 || i[0] >= vg->shape[0] || i[1] >= vg->shape[1] ||
            i[2] >= vg->shape[2])
            continue;
        sum += weight * vol[(i[0] * vg->shape[1] + i[1]) * vg->shape[2] + i[2]];
    }
    return sum;
}

static void test_volume_and_rays(void)
{
    cbct_ellipsoid e[10];
    int n;
    CHECK_OK(cbct_phantom_shepp_logan(RADIUS_MM, MU_SCALE, e, 10, &n));
    const int64_t side = 96; /* voxels; the cube [-R, R]^3 */
    const double voxel = 2 * RADIUS_MM / side;
    cbct_volume_geom vg = {{side, side, side}, {voxel, voxel, voxel}, {0, 0, 0}};
    size_t count = (size_t)side * side * side;
    float *vol = malloc(count * sizeof(float));
    CHECK_OK(cbct_phantom_voxelize(e, n, &vg, 3, vol));
    double sum = 0;
    for (size_t i = 0; i < count; i++)
        sum += vol[i];
    double exact = analytic_integral(e, n);
    CHECK_MSG(fabs(sum * voxel * voxel * voxel - exact) < 0.01 * fabs(exact),
              "sum(vol) dV = %g, sum of ellipsoid integrals %g", sum * voxel * voxel * voxel,
              exact);

    /* A few rays of a circular scan through the middle of the head:
     * exact line integrals against trapezoid steps of 0.1 voxel through
     * the voxelised volume. Partial volumes blur edges, so coarse. */
    cbct_circular c = {.n_views = 3, .first_angle_rad = 0.2, .arc_rad = 2 * acos(-1.0),
                       .sod_mm = 300, .sdd_mm = 600, .det_rows = 5, .det_cols = 9,
                       .pixel_mm = {8, 12}, .det_offset_mm = {0, 0}};
    cbct_geometry g = {0};
    CHECK_OK(cbct_geometry_circular(&c, &g));
    size_t n_pix = (size_t)c.n_views * c.det_rows * c.det_cols;
    float *proj = malloc(n_pix * sizeof(float));
    CHECK_OK(cbct_phantom_line_integrals(e, n, &g, proj));
    double worst = 0, largest = 0, total_diff = 0;
    for (int64_t v = 0; v < c.n_views; v++)
        for (int64_t r = 0; r < c.det_rows; r++)
            for (int64_t col = 0; col < c.det_cols; col++) {
                double pix[3], p[3];
                cbct_pixel_to_world(&g, v, (double)r, (double)col, pix);
                const double *s = g.views[v].src;
                double len = sqrt(pow(pix[0] - s[0], 2) + pow(pix[1] - s[1], 2) +
                                  pow(pix[2] - s[2], 2));
                int steps = (int)(len / (0.1 * voxel));
                double quad = 0;
                for (int k = 0; k < steps; k++) {
                    double t = (k + 0.5) / steps;
                    for (int a = 0; a < 3; a++)
                        p[a] = s[a] + t * (pix[a] - s[a]);
                    quad += trilinear(vol, &vg, p);
                }
                quad *= len / steps;
                double exact_p = proj[(v * c.det_rows + r) * c.det_cols + col];
                worst = fmax(worst, fabs(quad - exact_p));
                total_diff += fabs(quad - exact_p);
                largest = fmax(largest, exact_p);
            }
    CHECK_MSG(largest > 0.3, "largest line integral %g", largest);
    CHECK_MSG(worst < 0.05 * largest, "worst difference %g of %g", worst, largest);
    CHECK_MSG(total_diff / n_pix < 0.01 * largest, "mean difference %g of %g",
              total_diff / n_pix, largest);
    free(proj);
    cbct_geometry_destroy(&g);
    free(vol);
}

/* A nearly parallel beam (source 100 m away): the sum of the line integrals
 * times the pixel area seen at the object is the volume integral. */
static void test_volume_integral_of_projection(void)
{
    cbct_ellipsoid e[10];
    int n;
    CHECK_OK(cbct_phantom_shepp_logan(RADIUS_MM, MU_SCALE, e, 10, &n));
    const double sod = 1e5, sdd = 2e5; /* mm; magnification 2 */
    const int64_t side = 200;          /* pixels */
    const double pixel_at_object = 2 * RADIUS_MM / side;
    cbct_circular c = {.n_views = 2, .first_angle_rad = 0.0, .arc_rad = 1.3,
                       .sod_mm = sod, .sdd_mm = sdd, .det_rows = side, .det_cols = side,
                       .pixel_mm = {2 * pixel_at_object, 2 * pixel_at_object},
                       .det_offset_mm = {0, 0}};
    cbct_geometry g = {0};
    CHECK_OK(cbct_geometry_circular(&c, &g));
    size_t per_view = (size_t)side * side;
    float *proj = malloc(2 * per_view * sizeof(float));
    CHECK_OK(cbct_phantom_line_integrals(e, n, &g, proj));
    double exact = analytic_integral(e, n);
    for (int v = 0; v < 2; v++) {
        double sum = 0;
        for (size_t i = 0; i < per_view; i++)
            sum += proj[v * per_view + i];
        double integral = sum * pixel_at_object * pixel_at_object;
        CHECK_MSG(fabs(integral - exact) < 0.002 * exact, "view %d: %g vs %g", v, integral,
                  exact);
    }
    free(proj);
    cbct_geometry_destroy(&g);
}

int main(void)
{
    test_table();
    test_volume_and_rays();
    test_volume_integral_of_projection();
    CHECK(cbct_mem_current() == 0);
    return check_summary("test_phantom_shepp_logan");
}
