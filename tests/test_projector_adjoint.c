/* The forward projector and its adjoint are matched: <A x, y> = <x, A^T y>
 * to float rounding, for circular and deliberately awkward geometries, for
 * both kernels; the fast kernel agrees with the reference one; slabs and
 * view blocks add up to the whole; thread count does not change the bits. */
#include <omp.h>

#include "check.h"

enum { NZ = 20, NY = 24, NX = 28, ROWS = 22, COLS = 30, VIEWS = 12 };

/* Rotates u and v of every view by `angle` about the detector normal, and
 * tilts v out of the plane by `tilt` (a detector that is not square to the
 * ray and not aligned with the rotation axis). */
static void tilt_detector(cbct_geometry *g, double angle, double tilt)
{
    for (int64_t i = 0; i < g->n_views; i++) {
        cbct_view *w = &g->views[i];
        double u[3], v[3];
        for (int k = 0; k < 3; k++) {
            u[k] = cos(angle) * w->u[k] + sin(angle) * w->v[k];
            v[k] = -sin(angle) * w->u[k] + cos(angle) * w->v[k];
        }
        /* tilt: add a component of the source-detector direction to v */
        double sd[3], len = 0;
        for (int k = 0; k < 3; k++) {
            sd[k] = w->det[k] - w->src[k];
            len += sd[k] * sd[k];
        }
        len = sqrt(len);
        double vlen = sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2]);
        for (int k = 0; k < 3; k++) {
            w->u[k] = u[k];
            w->v[k] = v[k] + tan(tilt) * vlen * sd[k] / len;
        }
    }
}

static void make_geometry(int which, cbct_geometry *g)
{
    memset(g, 0, sizeof *g);
    cbct_circular c = {.n_views = VIEWS, .first_angle_rad = 0.3, .arc_rad = 2 * M_PI,
                       .sod_mm = 100, .sdd_mm = 180, .det_rows = ROWS, .det_cols = COLS,
                       .pixel_mm = {1.3, 1.1}, .det_offset_mm = {0, 0}};
    g->vol.shape[0] = NZ;
    g->vol.shape[1] = NY;
    g->vol.shape[2] = NX;
    g->vol.voxel_size[0] = g->vol.voxel_size[1] = g->vol.voxel_size[2] = 0.8;
    switch (which) {
    case 0: /* plain circular scan, cubic voxels */
        break;
    case 1: /* off-centre detector and volume origin */
        c.det_offset_mm[0] = 3.7;
        c.det_offset_mm[1] = -5.2;
        g->vol.origin[0] = 1.5;
        g->vol.origin[1] = -2.0;
        g->vol.origin[2] = 0.7;
        break;
    case 2: /* non-cubic voxels, short arc */
        g->vol.voxel_size[0] = 1.1;
        g->vol.voxel_size[1] = 0.6;
        g->vol.voxel_size[2] = 0.9;
        c.arc_rad = 0.7 * M_PI;
        break;
    case 3: /* tilted, rotated detector */
        break;
    }
    CHECK_OK(cbct_geometry_circular(&c, g));
    if (which == 3)
        tilt_detector(g, 0.25, 0.15);
    if (which == 4) {
        /* Source above the volume looking down: rays dominated by z. */
        for (int64_t i = 0; i < g->n_views; i++) {
            cbct_view *w = &g->views[i];
            double a = 0.5 * (double)i;
            double src[3] = {5 * cos(a), 5 * sin(a), 90};
            double det[3] = {0, 0, -80};
            double u[3] = {1.2 * cos(a), 1.2 * sin(a), 0};
            double v[3] = {-1.0 * sin(a), 1.0 * cos(a), 0};
            memcpy(w->src, src, sizeof src);
            memcpy(w->det, det, sizeof det);
            memcpy(w->u, u, sizeof u);
            memcpy(w->v, v, sizeof v);
        }
    }
}

static double dot(const float *a, const float *b, int64_t n)
{
    double s = 0;
    for (int64_t i = 0; i < n; i++)
        s += (double)a[i] * (double)b[i];
    return s;
}

static double rel_diff(const float *a, const float *b, int64_t n)
{
    double num = 0, den = 0;
    for (int64_t i = 0; i < n; i++) {
        num += ((double)a[i] - b[i]) * ((double)a[i] - b[i]);
        den += (double)b[i] * b[i];
    }
    return sqrt(num / (den > 0 ? den : 1));
}

int main(void)
{
    const int64_t n_vol = (int64_t)NZ * NY * NX, n_proj = (int64_t)VIEWS * ROWS * COLS;
    float *x = malloc(n_vol * sizeof(float)), *y = malloc(n_proj * sizeof(float));
    float *ax = malloc(n_proj * sizeof(float)), *aty = malloc(n_vol * sizeof(float));
    float *ax_ref = malloc(n_proj * sizeof(float)), *aty_ref = malloc(n_vol * sizeof(float));
    float *tmp_proj = malloc(n_proj * sizeof(float)), *tmp_vol = malloc(n_vol * sizeof(float));
    unsigned long long seed = 42;
    for (int64_t i = 0; i < n_vol; i++)
        x[i] = 0.5f + 0.5f * check_random(&seed);
    for (int64_t i = 0; i < n_proj; i++)
        y[i] = 0.5f + 0.5f * check_random(&seed);

    for (int which = 0; which < 5; which++) {
        cbct_geometry g;
        make_geometry(which, &g);
        for (int kernel = 0; kernel < 2; kernel++) {
            cbct_projector_opts opts = {.kernel = kernel ? CBCT_KERNEL_REFERENCE
                                                         : CBCT_KERNEL_FAST};
            cbct_projector *p = NULL;
            CHECK_OK(cbct_projector_create(&g, &opts, &p));
            if (!p)
                continue;
            CHECK_OK(cbct_project(p, x, kernel ? ax_ref : ax));
            CHECK_OK(cbct_backproject(p, y, kernel ? aty_ref : aty));
            float *fx = kernel ? ax_ref : ax, *bt = kernel ? aty_ref : aty;
            double lhs = dot(fx, y, n_proj), rhs = dot(x, bt, n_vol);
            double norm = sqrt(dot(fx, fx, n_proj)) * sqrt(dot(y, y, n_proj));
            CHECK_MSG(norm > 0, "geometry %d: the projection is empty", which);
            CHECK_MSG(fabs(lhs - rhs) / norm < 1e-5,
                      "geometry %d kernel %d: <Ax,y> = %.9g, <x,A'y> = %.9g, rel %.3g", which,
                      kernel, lhs, rhs, fabs(lhs - rhs) / norm);
            cbct_projector_destroy(p);
        }
        CHECK_MSG(rel_diff(ax, ax_ref, n_proj) < 1e-5, "geometry %d: fast vs reference A: %.3g",
                  which, rel_diff(ax, ax_ref, n_proj));
        CHECK_MSG(rel_diff(aty, aty_ref, n_vol) < 1e-5,
                  "geometry %d: fast vs reference A^T: %.3g", which,
                  rel_diff(aty, aty_ref, n_vol));

        /* The scalar fast path gives the SIMD path's bits. */
        {
            cbct_projector_opts scalar = {.kernel = CBCT_KERNEL_FAST_SCALAR};
            cbct_projector *ps = NULL;
            CHECK_OK(cbct_projector_create(&g, &scalar, &ps));
            CHECK_OK(cbct_project(ps, x, tmp_proj));
            CHECK_OK(cbct_backproject(ps, y, tmp_vol));
            CHECK_MSG(memcmp(tmp_proj, ax, n_proj * sizeof(float)) == 0,
                      "geometry %d: A scalar and SIMD paths differ", which);
            CHECK_MSG(memcmp(tmp_vol, aty, n_vol * sizeof(float)) == 0,
                      "geometry %d: A^T scalar and SIMD paths differ", which);
            cbct_projector_destroy(ps);
        }

        /* Slabs and view blocks add up to the whole operator. */
        cbct_projector *p = NULL;
        CHECK_OK(cbct_projector_create(&g, NULL, &p));
        int64_t slab_edges[] = {0, 5, 6, 13, NZ};
        int64_t plane = (int64_t)NY * NX;
        for (int s = 0; s < 4; s++) {
            cbct_block b = {.view0 = 0, .n_views = VIEWS, .z0 = slab_edges[s],
                            .nz = slab_edges[s + 1] - slab_edges[s]};
            CHECK_OK(cbct_project_block(p, b, x + b.z0 * plane, tmp_proj, s > 0));
            CHECK_OK(cbct_backproject_block(p, b, y, tmp_vol + b.z0 * plane, 0));
        }
        CHECK_MSG(rel_diff(tmp_proj, ax, n_proj) < 1e-5, "geometry %d: sum of slabs vs A: %.3g",
                  which, rel_diff(tmp_proj, ax, n_proj));
        CHECK_MSG(memcmp(tmp_vol, aty, n_vol * sizeof(float)) == 0,
                  "geometry %d: A^T by slabs is not bit-identical", which);
        int64_t view_edges[] = {0, 1, 5, VIEWS};
        for (int s = 0; s < 3; s++) {
            cbct_block b = {.view0 = view_edges[s], .n_views = view_edges[s + 1] - view_edges[s],
                            .z0 = 0, .nz = NZ};
            const int64_t offset = b.view0 * ROWS * COLS;
            CHECK_OK(cbct_project_block(p, b, x, tmp_proj + offset, 0));
            CHECK_OK(cbct_backproject_block(p, b, y + offset, tmp_vol, s > 0));
        }
        CHECK_MSG(memcmp(tmp_proj, ax, n_proj * sizeof(float)) == 0,
                  "geometry %d: A by view blocks is not bit-identical", which);
        CHECK_MSG(rel_diff(tmp_vol, aty, n_vol) < 1e-6, "geometry %d: sum of view blocks: %.3g",
                  which, rel_diff(tmp_vol, aty, n_vol));

        /* Any thread count gives the same bits. */
        omp_set_num_threads(1);
        CHECK_OK(cbct_project(p, x, tmp_proj));
        CHECK_OK(cbct_backproject(p, y, tmp_vol));
        omp_set_num_threads(3);
        CHECK_MSG(memcmp(tmp_proj, ax, n_proj * sizeof(float)) == 0,
                  "geometry %d: A differs between 1 and 2 threads", which);
        CHECK_MSG(memcmp(tmp_vol, aty, n_vol * sizeof(float)) == 0,
                  "geometry %d: A^T differs between 1 and 2 threads", which);
        CHECK_OK(cbct_project(p, x, tmp_proj));
        CHECK_OK(cbct_backproject(p, y, tmp_vol));
        CHECK(memcmp(tmp_proj, ax, n_proj * sizeof(float)) == 0);
        CHECK(memcmp(tmp_vol, aty, n_vol * sizeof(float)) == 0);
        omp_set_num_threads(2);

        /* Blocks outside the geometry are refused with a message. */
        cbct_block bad = {.view0 = VIEWS - 1, .n_views = 2, .z0 = 0, .nz = NZ};
        CHECK_FAILS(cbct_project_block(p, bad, x, tmp_proj, 0), CBCT_ERR_ARG, "outside");
        bad = (cbct_block){.view0 = 0, .n_views = 1, .z0 = NZ - 2, .nz = 3};
        CHECK_FAILS(cbct_backproject_block(p, bad, y, tmp_vol, 0), CBCT_ERR_ARG, "slab");
        cbct_projector_destroy(p);
        cbct_geometry_destroy(&g);
    }

    /* Degenerate geometries are refused at plan time. */
    cbct_geometry g;
    make_geometry(0, &g);
    cbct_projector *p = NULL;
    memcpy(g.views[3].v, g.views[3].u, sizeof g.views[3].u);
    CHECK_FAILS(cbct_projector_create(&g, NULL, &p), CBCT_ERR_GEOMETRY, "view 3");
    CHECK(p == NULL);
    g.views[3].v[0] = NAN;
    CHECK_FAILS(cbct_projector_create(&g, NULL, &p), CBCT_ERR_GEOMETRY, "finite");
    cbct_geometry_destroy(&g);

    free(x), free(y), free(ax), free(aty), free(ax_ref), free(aty_ref);
    free(tmp_proj), free(tmp_vol);
    CHECK(cbct_mem_current() == 0);
    return check_summary("test_projector_adjoint");
}
