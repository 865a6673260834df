/* The fast FDK back-projector against the plain reference (within 1e-5
 * relative) on geometries that exercise every fetch path (one row pair,
 * several rows, hardware gathers) and voxels off the detector; the vector
 * line kernel against the plain C loop (bit for bit); results independent
 * of the thread count and of how views and slabs are chunked. */
#include <omp.h>

#include "ct/fdk_internal.h"
#include "test_fdk_util.h"

#define REL_TOL 1e-5

/* A circular scan made into a general vector geometry: detector rotated by
 * `tilt_rad` in its plane and shifted, source moving along z (helix-like). */
static void make_geometry(int64_t n_views, double tilt_rad, double voxel_scale, cbct_geometry *g)
{
    cbct_circular c = {n_views, 0.2, 2 * FDK_TEST_PI, 300.0, 600.0, 40, 48, {1.5, 1.5}, {3, -4}};
    memset(g, 0, sizeof *g);
    CHECK_OK(cbct_geometry_circular(&c, g));
    /* Larger than the field of view on purpose: some voxels miss the detector. */
    cbct_volume_geom vg = {{20, 28, 36}, {0.9, 1.1, 1.0}, {2.0, -3.0, 1.5}};
    for (int k = 0; k < 3; k++)
        vg.voxel_size[k] *= voxel_scale;
    g->vol = vg;
    double ct = cos(tilt_rad), st = sin(tilt_rad);
    for (int64_t i = 0; i < n_views; i++) {
        cbct_view *w = &g->views[i];
        double u[3], v[3];
        for (int k = 0; k < 3; k++) {
            u[k] = ct * w->u[k] + st * w->v[k];
            v[k] = -st * w->u[k] + ct * w->v[k];
        }
        memcpy(w->u, u, sizeof u);
        memcpy(w->v, v, sizeof v);
        w->src[2] += 0.3 * (double)i;
        w->det[2] += 0.3 * (double)i;
    }
}

/* Smooth values with some structure, like filtered projections. */
static void fill_projections(const cbct_geometry *g, float *proj)
{
    for (int64_t v = 0; v < g->n_views; v++)
        for (int64_t r = 0; r < g->det_rows; r++)
            for (int64_t c = 0; c < g->det_cols; c++)
                proj[(v * g->det_rows + r) * g->det_cols + c] =
                    (float)(sin(0.31 * (double)c + 0.7 * (double)v) +
                            0.5 * cos(0.23 * (double)r - 0.11 * (double)c) + 0.25);
}

static double max_abs(const float *a, int64_t n)
{
    double m = 0;
    for (int64_t i = 0; i < n; i++)
        m = fabs(a[i]) > m ? fabs(a[i]) : m;
    return m;
}

static void compare_fast_reference(double tilt_rad, double voxel_scale, const char *label)
{
    cbct_geometry g;
    make_geometry(17, tilt_rad, voxel_scale, &g);
    cbct_fdk *f = NULL;
    CHECK_OK(cbct_fdk_create(&g, NULL, &f));
    int64_t n_vox = fdk_test_volume_size(&g);
    float *proj = cbct_alloc((size_t)fdk_test_proj_size(&g) * sizeof(float), "projections");
    float *fast = cbct_calloc((size_t)n_vox, sizeof(float), "fast");
    float *ref = cbct_calloc((size_t)n_vox, sizeof(float), "reference");
    CHECK(f && proj && fast && ref);
    if (f && proj && fast && ref) {
        fill_projections(&g, proj);
        cbct_fdk_bp_task task = {&g.vol, g.det_rows, g.det_cols, g.n_views, f->bp_views,
                                 proj, 0, g.vol.shape[0], fast};
        CHECK_OK(cbct_fdk_backproject_fast(&task));
        task.slab = ref;
        CHECK_OK(cbct_fdk_backproject_reference(&task));
        double diff = 0;
        int64_t zeros = 0;
        for (int64_t i = 0; i < n_vox; i++) {
            diff = fabs(fast[i] - ref[i]) > diff ? fabs(fast[i] - ref[i]) : diff;
            zeros += ref[i] == 0;
        }
        double scale = max_abs(ref, n_vox);
        printf("%s: max |fast - reference| = %.3g (max |reference| %.3g), %lld voxels see "
               "no view\n", label, diff, scale, (long long)zeros);
        CHECK(scale > 0);
        CHECK(diff <= REL_TOL * scale);

        /* The public entry point, in z-slabs and view blocks, adds the same
         * numbers in the same order per voxel: the same bits. */
        float *chunked = cbct_alloc((size_t)n_vox * sizeof(float), "chunked");
        CHECK(chunked != NULL);
        if (chunked) {
            int64_t nz = g.vol.shape[0], slab = g.vol.shape[1] * g.vol.shape[2];
            int64_t view_px = g.det_rows * g.det_cols;
            CHECK_OK(cbct_fdk_backproject(f, 0, 7, proj, 0, 9, chunked, 0));
            CHECK_OK(cbct_fdk_backproject(f, 7, 10, proj + 7 * view_px, 0, 9, chunked, 1));
            CHECK_OK(cbct_fdk_backproject(f, 0, 17, proj, 9, nz - 9, chunked + 9 * slab, 0));
            CHECK(memcmp(chunked, fast, (size_t)n_vox * sizeof(float)) == 0);
        }
        cbct_free(chunked);
    }
    cbct_free(ref);
    cbct_free(fast);
    cbct_free(proj);
    cbct_fdk_destroy(f);
    cbct_geometry_destroy(&g);
}

/* The vector line kernel and the plain loop on random lines: same bits. */
static void compare_line_kernels(void)
{
    enum { ROWS = 30, COLS = 50, NX = 77 };
    int pitch = COLS + 3;
    size_t n_pad = (size_t)(ROWS + 3) * (size_t)pitch + CBCT_FDK_LINE_SLACK;
    float *view = cbct_calloc(n_pad, sizeof(float), "padded view");
    float *a = cbct_calloc(NX, sizeof(float), "line a");
    float *b = cbct_calloc(NX, sizeof(float), "line b");
    CHECK(view && a && b);
    if (!view || !a || !b)
        return;
    unsigned long long seed = 12345;
    for (int r = 1; r <= ROWS; r++)
        for (int c = 1; c <= COLS; c++)
            view[r * pitch + c] = check_random(&seed);
    int mismatches = 0;
    for (int trial = 0; trial < 400; trial++) {
        /* Column steps from 0.1 to 5 pixels per voxel, row steps up to 2,
         * both signs, starting anywhere around the detector. */
        double w0 = 1.0 + 0.1 * check_random(&seed), dw = 0.002 * check_random(&seed);
        double col0 = 25 + 35 * check_random(&seed), dcol = 2.5 * check_random(&seed);
        double row0 = 15 + 20 * check_random(&seed), drow = (trial % 2 ? 1.0 : 0.05) *
                                                          check_random(&seed);
        cbct_fdk_line_view lv = {(float)(col0 * w0), (float)(dcol * w0 + col0 * dw),
                                 (float)(row0 * w0), (float)(drow * w0 + row0 * dw),
                                 (float)w0, (float)dw, pitch, COLS + 1, ROWS + 1};
        int64_t lo = trial % 7, hi = NX - trial % 5;
        for (int i = 0; i < NX; i++)
            a[i] = b[i] = (float)i;
        cbct_fdk_add_view_to_line(&lv, lo, hi, view, a);
        cbct_fdk_add_view_to_line_portable(&lv, lo, hi, view, b);
        mismatches += memcmp(a, b, NX * sizeof(float)) != 0;
    }
    printf("line kernels: %d of 400 random lines differ\n", mismatches);
    CHECK(mismatches == 0);
    cbct_free(view);
    cbct_free(a);
    cbct_free(b);
}

/* Whole reconstructions (filter + back-projection) with 1 and 2 threads. */
static void compare_thread_counts(void)
{
    cbct_geometry g;
    CHECK_OK(fdk_test_circular(45, 2 * FDK_TEST_PI, 40, 48, 1.6, 32, &g));
    cbct_ellipsoid ball = {{3, -2, 1}, {9, 7, 8}, 0.3, 0.02};
    int saved = omp_get_max_threads();
    omp_set_num_threads(1);
    float *one = fdk_test_reconstruct(&ball, 1, &g, NULL);
    omp_set_num_threads(2);
    float *two = fdk_test_reconstruct(&ball, 1, &g, NULL);
    omp_set_num_threads(saved);
    CHECK(one && two);
    if (one && two)
        CHECK(memcmp(one, two, (size_t)fdk_test_volume_size(&g) * sizeof(float)) == 0);
    cbct_free(one);
    cbct_free(two);

    /* Filtering in place gives what filtering into another buffer gives. */
    cbct_fdk *f = NULL;
    CHECK_OK(cbct_fdk_create(&g, NULL, &f));
    float *proj = fdk_test_project(&ball, 1, &g);
    float *out = cbct_alloc((size_t)fdk_test_proj_size(&g) * sizeof(float), "filtered");
    CHECK(f && proj && out);
    if (f && proj && out) {
        CHECK_OK(cbct_fdk_filter_views(f, 0, g.n_views, proj, out));
        CHECK_OK(cbct_fdk_filter_views(f, 0, g.n_views, proj, proj));
        CHECK(memcmp(proj, out, (size_t)fdk_test_proj_size(&g) * sizeof(float)) == 0);
    }
    cbct_free(out);
    cbct_free(proj);
    cbct_fdk_destroy(f);
    cbct_geometry_destroy(&g);
}

int main(void)
{
    compare_fast_reference(0.0, 1.0, "circular, fine voxels (permute path)");
    compare_fast_reference(0.35, 1.0, "detector rotated 20 degrees (several rows, gathers)");
    compare_fast_reference(0.0, 3.5, "coarse voxels (wide footprint, gathers)");
    compare_line_kernels();
    compare_thread_counts();
    CHECK(cbct_mem_current() == 0);
    return check_summary("test_fdk_kernels");
}
