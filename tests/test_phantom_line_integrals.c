/* Exact line integrals of ellipsoids: chords through centres along each
 * axis, misses, a rotated ellipsoid against brute-force integration, an
 * off-centre sphere seen by a circular cone scan, thread independence and
 * bad input. */
#include "check.h"

/* A geometry of one 1 x 1 pixel view per ray: source `from`, pixel `to`. */
static void single_ray_views(cbct_geometry *g, int n_rays, const double from[][3],
                             const double to[][3])
{
    memset(g, 0, sizeof *g);
    CHECK_OK(cbct_geometry_alloc_views(g, n_rays));
    g->det_rows = g->det_cols = 1;
    for (int i = 0; i < n_rays; i++) {
        cbct_view *w = &g->views[i];
        memcpy(w->src, from[i], sizeof w->src);
        memcpy(w->det, to[i], sizeof w->det);
        /* Any steps not parallel to the ray: with 1 x 1 pixels the pixel
         * centre is the detector centre. */
        double d[3] = {to[i][0] - from[i][0], to[i][1] - from[i][1], to[i][2] - from[i][2]};
        double a[3] = {1, 0, 0};
        if (fabs(d[0]) > fabs(d[1]) && fabs(d[0]) > fabs(d[2]))
            a[0] = 0, a[1] = 1;
        w->u[0] = d[1] * a[2] - d[2] * a[1];
        w->u[1] = d[2] * a[0] - d[0] * a[2];
        w->u[2] = d[0] * a[1] - d[1] * a[0];
        w->v[0] = d[1] * w->u[2] - d[2] * w->u[1];
        w->v[1] = d[2] * w->u[0] - d[0] * w->u[2];
        w->v[2] = d[0] * w->u[1] - d[1] * w->u[0];
    }
}

/* The test's own inside test: rotate the offset by -phi about z. */
static int inside(const cbct_ellipsoid *e, const double p[3])
{
    double dx = p[0] - e->centre[0], dy = p[1] - e->centre[1], dz = p[2] - e->centre[2];
    double c = cos(e->phi_rad), s = sin(e->phi_rad);
    double lx = (c * dx + s * dy) / e->semi_axes[0];
    double ly = (-s * dx + c * dy) / e->semi_axes[1];
    double lz = dz / e->semi_axes[2];
    return lx * lx + ly * ly + lz * lz <= 1;
}

static double brute_force(const cbct_ellipsoid *e, const double from[3], const double to[3])
{
    const int steps = 2000000; /* 1500 mm / 2e6 = 0.75 um per step */
    double len = sqrt(pow(to[0] - from[0], 2) + pow(to[1] - from[1], 2) +
                      pow(to[2] - from[2], 2));
    long hits = 0;
    for (int i = 0; i < steps; i++) {
        double t = (i + 0.5) / steps;
        double p[3];
        for (int k = 0; k < 3; k++)
            p[k] = from[k] + t * (to[k] - from[k]);
        hits += inside(e, p);
    }
    return e->value * len * (double)hits / steps;
}

static void test_sphere_and_axes(void)
{
    cbct_ellipsoid sphere = {{0, 0, 0}, {10, 10, 10}, 0, 0.02};
    double from[1][3] = {{0, -1000, 0}}, to[1][3] = {{0, 500, 0}};
    CHECK_NEAR(cbct_ellipsoid_chord_mm(&sphere, from[0], to[0]), 20.0, 20.0 * 1e-9);
    cbct_geometry g;
    single_ray_views(&g, 1, from, to);
    float p = -1;
    CHECK_OK(cbct_phantom_line_integrals(&sphere, 1, &g, &p));
    CHECK_NEAR(p, 0.4, 0.4 * 1.2e-7); /* float output: one rounding */
    cbct_geometry_destroy(&g);

    /* Off-centre ellipsoid, rays along x, y, z through its centre, then the
     * same rays shifted just past each semi-axis (misses). */
    cbct_ellipsoid e = {{5, -7, 3}, {30, 20, 10}, 0, 0.01};
    double f6[6][3], t6[6][3];
    for (int axis = 0; axis < 3; axis++) {
        for (int k = 0; k < 3; k++) {
            f6[axis][k] = t6[axis][k] = e.centre[k];
            f6[axis + 3][k] = t6[axis + 3][k] = e.centre[k];
        }
        f6[axis][axis] -= 700;
        t6[axis][axis] += 400;
        f6[axis + 3][axis] -= 700;
        t6[axis + 3][axis] += 400;
        int other = (axis + 1) % 3; /* shift along another axis, past its semi-axis */
        f6[axis + 3][other] += e.semi_axes[other] * 1.0001;
        t6[axis + 3][other] += e.semi_axes[other] * 1.0001;
    }
    for (int axis = 0; axis < 3; axis++) {
        double expect = 2 * e.semi_axes[axis];
        CHECK_NEAR(cbct_ellipsoid_chord_mm(&e, f6[axis], t6[axis]), expect, expect * 1e-9);
        CHECK(cbct_ellipsoid_chord_mm(&e, f6[axis + 3], t6[axis + 3]) == 0);
    }
    single_ray_views(&g, 6, f6, t6);
    float p6[6];
    CHECK_OK(cbct_phantom_line_integrals(&e, 1, &g, p6));
    for (int axis = 0; axis < 3; axis++) {
        double expect = 2 * e.semi_axes[axis] * e.value;
        CHECK_NEAR(p6[axis], expect, expect * 1.2e-7);
        CHECK(p6[axis + 3] == 0);
    }
    cbct_geometry_destroy(&g);

    /* Only the segment counts: a pixel inside the sphere gets half. */
    double mid[3] = {0, 0, 0};
    CHECK_NEAR(cbct_ellipsoid_chord_mm(&sphere, from[0], mid), 10.0, 1e-8);
    CHECK_NEAR(cbct_ellipsoid_chord_mm(&sphere, mid, from[0]), 10.0, 1e-8);
    double near[3] = {0, -4, 0}; /* both ends inside: the whole segment */
    CHECK_NEAR(cbct_ellipsoid_chord_mm(&sphere, near, mid), 4.0, 1e-12);
    double beyond[3] = {0, 20, 0}; /* segment ends before reaching the sphere */
    double further[3] = {0, 30, 0};
    CHECK(cbct_ellipsoid_chord_mm(&sphere, beyond, further) == 0);
}

static void test_rotated(void)
{
    const double deg = acos(-1.0) / 180;
    cbct_ellipsoid e = {{4, -3, 2}, {40, 10, 15}, 30 * deg, 0.03};
    /* Sign convention: the a axis points along (cos phi, sin phi, 0), so a
     * z-ray 35 mm out along it crosses 2 c sqrt(1 - (35/40)^2); the mirror
     * ray at -phi misses. */
    double on[2][3] = {{4 + 35 * cos(30 * deg), -3 + 35 * sin(30 * deg), -500},
                       {4 + 35 * cos(30 * deg), -3 + 35 * sin(30 * deg), 500}};
    double off[2][3] = {{4 + 35 * cos(30 * deg), -3 - 35 * sin(30 * deg), -500},
                        {4 + 35 * cos(30 * deg), -3 - 35 * sin(30 * deg), 500}};
    CHECK_NEAR(cbct_ellipsoid_chord_mm(&e, on[0], on[1]), 30 * sqrt(1 - pow(35.0 / 40, 2)),
               1e-9);
    CHECK(cbct_ellipsoid_chord_mm(&e, off[0], off[1]) == 0);

    /* Oblique rays against brute force. */
    double from[3][3] = {{-900, -300, 40}, {100, -1000, -60}, {700, 650, 5}};
    double to[3][3] = {{600, 200, -30}, {-60, 500, 50}, {-688, -652, 0}};
    cbct_geometry g;
    single_ray_views(&g, 3, from, to);
    float p[3];
    CHECK_OK(cbct_phantom_line_integrals(&e, 1, &g, p));
    for (int r = 0; r < 3; r++) {
        double ref = brute_force(&e, from[r], to[r]);
        CHECK_MSG(ref > 0.1, "ray %d should cross the ellipsoid (%g)", r, ref);
        CHECK_NEAR(p[r], ref, 1e-3 * ref);
    }
    cbct_geometry_destroy(&g);
}

/* Circular scan of an off-centre sphere: every pixel's value is
 * 2 sqrt(r^2 - d^2) mu, d = distance from the centre to the ray. */
static void test_cone_scan(void)
{
    cbct_circular c = {.n_views = 7, .first_angle_rad = 0.3, .arc_rad = 2 * acos(-1.0),
                       .sod_mm = 500, .sdd_mm = 900, .det_rows = 20, .det_cols = 28,
                       .pixel_mm = {4, 4.5}, .det_offset_mm = {3, -7}};
    cbct_geometry g = {0};
    CHECK_OK(cbct_geometry_circular(&c, &g));
    cbct_ellipsoid ball = {{12, -8, 5}, {30, 30, 30}, 0.7, 0.025};
    size_t n = (size_t)c.n_views * c.det_rows * c.det_cols;
    float *proj = malloc(n * sizeof(float)), *proj1 = malloc(n * sizeof(float));
    cbct_set_threads(2);
    CHECK_OK(cbct_phantom_line_integrals(&ball, 1, &g, proj));
    cbct_set_threads(1);
    CHECK_OK(cbct_phantom_line_integrals(&ball, 1, &g, proj1));
    cbct_set_threads(2);
    CHECK(memcmp(proj, proj1, n * sizeof(float)) == 0);
    double worst = 0;
    int n_hit = 0;
    for (int64_t v = 0; v < c.n_views; v++)
        for (int64_t r = 0; r < c.det_rows; r++)
            for (int64_t col = 0; col < c.det_cols; col++) {
                double pix[3], d[3], m[3];
                cbct_pixel_to_world(&g, v, (double)r, (double)col, pix);
                const double *s = g.views[v].src;
                for (int k = 0; k < 3; k++) {
                    d[k] = pix[k] - s[k];
                    m[k] = ball.centre[k] - s[k];
                }
                double dd = d[0] * d[0] + d[1] * d[1] + d[2] * d[2];
                double t = (m[0] * d[0] + m[1] * d[1] + m[2] * d[2]) / dd;
                double miss2 = 0;
                for (int k = 0; k < 3; k++)
                    miss2 += pow(m[k] - t * d[k], 2);
                double expect = miss2 < 900 ? 2 * sqrt(900 - miss2) * ball.value : 0;
                n_hit += expect > 0;
                float got = proj[(v * c.det_rows + r) * c.det_cols + col];
                worst = fmax(worst, fabs(got - expect));
            }
    CHECK_MSG(worst < 1e-6, "worst pixel error %g", worst);
    CHECK_MSG(n_hit > 100 && n_hit < (int)n, "%d of %zu pixels see the ball", n_hit, n);
    free(proj);
    free(proj1);
    cbct_geometry_destroy(&g);
}

static void test_bad_input(void)
{
    cbct_ellipsoid e = {{0, 0, 0}, {10, 10, 10}, 0, 0.02};
    double from[1][3] = {{0, -100, 0}}, to[1][3] = {{0, 100, 0}};
    cbct_geometry g;
    single_ray_views(&g, 1, from, to);
    float p;
    CHECK_FAILS(cbct_phantom_line_integrals(&e, 1, NULL, &p), CBCT_ERR_ARG, "geometry is NULL");
    CHECK_FAILS(cbct_phantom_line_integrals(&e, 1, &g, NULL), CBCT_ERR_ARG, "output");
    CHECK_FAILS(cbct_phantom_line_integrals(NULL, 1, &g, &p), CBCT_ERR_ARG, "NULL");
    CHECK_FAILS(cbct_phantom_line_integrals(&e, -1, &g, &p), CBCT_ERR_ARG, "-1 ellipsoids");
    cbct_ellipsoid flat = e;
    flat.semi_axes[1] = 0;
    CHECK_FAILS(cbct_phantom_line_integrals(&flat, 1, &g, &p), CBCT_ERR_ARG, "semi-axis b");
    cbct_ellipsoid nan_value = e;
    nan_value.value = NAN;
    CHECK_FAILS(cbct_phantom_line_integrals(&nan_value, 1, &g, &p), CBCT_ERR_ARG, "value");
    g.det_rows = 0;
    CHECK_FAILS(cbct_phantom_line_integrals(&e, 1, &g, &p), CBCT_ERR_GEOMETRY, "detector");
    g.det_rows = 1;
    /* No ellipsoids: all zeros. */
    p = 5;
    CHECK_OK(cbct_phantom_line_integrals(NULL, 0, &g, &p));
    CHECK(p == 0);
    cbct_geometry_destroy(&g);
}

int main(void)
{
    test_sphere_and_axes();
    test_rotated();
    test_cone_scan();
    test_bad_input();
    CHECK(cbct_mem_current() == 0);
    return check_summary("test_phantom_line_integrals");
}
