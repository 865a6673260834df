/* Patch tiling of the denoiser without a network: the grid covers every
 * voxel exactly once for any shape (also thinner than a patch, and not
 * divisible by it), windows are read with the reference's mirroring,
 * identity / constant / box-blur "denoisers" give the expected volumes, any
 * batch size and thread count gives the same bits, and the tiler's own
 * memory is what cbct_tiling_run_bytes predicts. */
#include <stdint.h>

#include "check.h"
#include "nn/tiling.h"

static const int64_t shapes[][3] = {{1, 1, 1}, {7, 5, 3}, {16, 16, 16}, {17, 33, 9},
                                    {9, 1, 40}, {3, 20, 2}};
static const int64_t patches[][3] = {{8, 8, 8}, {4, 16, 16}, {1, 1, 1}, {3, 5, 7}};
static const int64_t overlaps[][3] = {{0, 0, 0}, {2, 3, 1}, {1, 1, 1}, {5, 0, 9}};
#define N_SHAPES (int)(sizeof shapes / sizeof shapes[0])
#define N_PATCHES (int)(sizeof patches / sizeof patches[0])
#define N_OVERLAPS (int)(sizeof overlaps / sizeof overlaps[0])

static int64_t numel(const int64_t s[3]) { return s[0] * s[1] * s[2]; }

/* Mirroring written the slow way: reflect at an end until inside. */
static int64_t naive_reflect(int64_t i, int64_t n)
{
    if (n == 1)
        return 0;
    while (i < 0 || i >= n)
        i = i < 0 ? -i : 2 * (n - 1) - i;
    return i;
}

static float *random_volume(const int64_t s[3], unsigned long long seed)
{
    float *v = malloc((size_t)numel(s) * sizeof(float));
    for (int64_t i = 0; i < numel(s); i++)
        v[i] = check_random(&seed);
    return v;
}

static void test_reflect(void)
{
    /* PyTorch "reflect": x[-1] = x[1], x[n] = x[n - 2]. */
    CHECK(cbct_reflect_index(-1, 4) == 1);
    CHECK(cbct_reflect_index(-3, 4) == 3);
    CHECK(cbct_reflect_index(4, 4) == 2);
    CHECK(cbct_reflect_index(6, 4) == 0);
    CHECK(cbct_reflect_index(-4, 4) == 2); /* folded twice */
    CHECK(cbct_reflect_index(-7, 1) == 0);
    for (int64_t n = 1; n < 7; n++)
        for (int64_t i = -30; i < 30; i++)
            CHECK_MSG(cbct_reflect_index(i, n) == naive_reflect(i, n), "i %lld n %lld",
                      (long long)i, (long long)n);
}

/* Every voxel written once; each written region inside its patch, each
 * patch inside the volume, windows = patch + 2 overlap. */
static void test_grid_covers_once(void)
{
    for (int si = 0; si < N_SHAPES; si++)
        for (int pi = 0; pi < N_PATCHES; pi++)
            for (int oi = 0; oi < N_OVERLAPS; oi++) {
                const int64_t *s = shapes[si];
                cbct_patch_grid g;
                CHECK_OK(cbct_patch_grid_init(s, patches[pi], overlaps[oi], &g));
                int64_t expected_patches = 1;
                for (int a = 0; a < 3; a++) {
                    int64_t p = patches[pi][a] < s[a] ? patches[pi][a] : s[a];
                    expected_patches *= (s[a] + p - 1) / p;
                    CHECK(g.window[a] == p + 2 * overlaps[oi][a]);
                }
                CHECK(g.n_patches == expected_patches);
                int *count = calloc((size_t)numel(s), sizeof(int));
                for (int64_t i = 0; i < g.n_patches; i++) {
                    cbct_patch_box b;
                    cbct_patch_grid_box(&g, i, &b);
                    for (int a = 0; a < 3; a++) {
                        int64_t patch0 = b.window0[a] + g.overlap[a];
                        CHECK(patch0 >= 0 && patch0 + g.patch[a] <= s[a]);
                        CHECK(b.write0[a] >= patch0 && b.write1[a] <= patch0 + g.patch[a]);
                        CHECK(b.write0[a] < b.write1[a]);
                    }
                    for (int64_t z = b.write0[0]; z < b.write1[0]; z++)
                        for (int64_t y = b.write0[1]; y < b.write1[1]; y++)
                            for (int64_t x = b.write0[2]; x < b.write1[2]; x++)
                                count[(z * s[1] + y) * s[2] + x]++;
                }
                int64_t wrong = 0;
                for (int64_t i = 0; i < numel(s); i++)
                    wrong += count[i] != 1;
                CHECK_MSG(wrong == 0, "shape %lldx%lldx%lld patch %d overlap %d: %lld voxels "
                          "not written exactly once", (long long)s[0], (long long)s[1],
                          (long long)s[2], pi, oi, (long long)wrong);
                free(count);
            }
}

/* The reference's layout: along an axis of 17 with patches of 8 the
 * windows start at 0, 8 and 9 (the last shifted back), and the last one
 * writes only [16, 17). */
static void test_grid_last_patch_shifted(void)
{
    cbct_patch_grid g;
    CHECK_OK(cbct_patch_grid_init((int64_t[]){1, 1, 17}, (int64_t[]){1, 1, 8},
                                  (int64_t[]){0, 0, 2}, &g));
    CHECK(g.n_patches == 3);
    const int64_t window0[3] = {-2, 6, 7}, write0[3] = {0, 8, 16}, write1[3] = {8, 16, 17};
    for (int64_t i = 0; i < 3; i++) {
        cbct_patch_box b;
        cbct_patch_grid_box(&g, i, &b);
        CHECK(b.window0[2] == window0[i] && b.write0[2] == write0[i] && b.write1[2] == write1[i]);
    }
    /* Thinner than a patch: one patch of the whole axis. */
    CHECK_OK(cbct_patch_grid_init((int64_t[]){3, 1, 5}, (int64_t[]){8, 8, 8},
                                  (int64_t[]){2, 2, 2}, &g));
    CHECK(g.n_patches == 1 && g.patch[0] == 3 && g.window[0] == 7 && g.window[2] == 9);
    CHECK_FAILS(cbct_patch_grid_init((int64_t[]){3, 1, 5}, (int64_t[]){8, 0, 8},
                                     (int64_t[]){2, 2, 2}, &g), CBCT_ERR_ARG, "patch size along y");
    CHECK_FAILS(cbct_patch_grid_init((int64_t[]){3, 1, 5}, (int64_t[]){8, 8, 8},
                                     (int64_t[]){0, 0, -1}, &g), CBCT_ERR_ARG, "overlap along x");
    CHECK_FAILS(cbct_patch_grid_init((int64_t[]){0, 1, 5}, (int64_t[]){8, 8, 8},
                                     (int64_t[]){0, 0, 0}, &g), CBCT_ERR_ARG, "along z");
}

/* Windows hold the mirrored volume, for patches taken with a stride (the
 * MPI layer's round-robin). */
static void test_extract(void)
{
    const int64_t s[3] = {6, 9, 5};
    float *vol = random_volume(s, 11);
    cbct_patch_grid g;
    CHECK_OK(cbct_patch_grid_init(s, (int64_t[]){4, 4, 2}, (int64_t[]){3, 2, 7}, &g));
    int64_t wv = cbct_patch_grid_window_voxels(&g), step = 3, first = 1;
    int64_t n = (g.n_patches - first + step - 1) / step;
    float *windows = malloc((size_t)(n * wv) * sizeof(float));
    cbct_tiling_extract(&g, vol, first, step, n, windows);
    int64_t wrong = 0;
    for (int64_t j = 0; j < n; j++) {
        cbct_patch_box b;
        cbct_patch_grid_box(&g, first + j * step, &b);
        for (int64_t z = 0; z < g.window[0]; z++)
            for (int64_t y = 0; y < g.window[1]; y++)
                for (int64_t x = 0; x < g.window[2]; x++) {
                    int64_t vz = naive_reflect(b.window0[0] + z, s[0]);
                    int64_t vy = naive_reflect(b.window0[1] + y, s[1]);
                    int64_t vx = naive_reflect(b.window0[2] + x, s[2]);
                    float got = windows[j * wv + (z * g.window[1] + y) * g.window[2] + x];
                    wrong += got != vol[(vz * s[1] + vy) * s[2] + vx];
                }
    }
    CHECK_MSG(wrong == 0, "%lld window voxels differ from the mirrored volume", (long long)wrong);
    free(windows);
    free(vol);
}

/* ---- Denoisers for the tests ---------------------------------------------- */

typedef struct probe {
    const cbct_patch_grid *grid;
    int64_t batch;       /* the most windows a call may get */
    int64_t calls;       /* calls so far */
    int64_t fail_call;   /* return an error on this call (1-based), 0: never */
    int bad_shape;       /* a call had another window size or too many windows */
    size_t mem_in_call;  /* cbct_mem_current() during the last call */
} probe;

static void probe_call(probe *p, int64_t n, int64_t d, int64_t h, int64_t w)
{
    p->calls++;
    if (n < 1 || n > p->batch || d != p->grid->window[0] || h != p->grid->window[1] ||
        w != p->grid->window[2])
        p->bad_shape = 1;
    p->mem_in_call = cbct_mem_current();
}

static cbct_status identity(void *context, const float *in, int64_t n, int64_t d, int64_t h,
                            int64_t w, float *out)
{
    probe *p = context;
    probe_call(p, n, d, h, w);
    if (p->calls == p->fail_call)
        return cbct_error(CBCT_ERR_NUMERIC, "test denoiser: failing on purpose");
    memcpy(out, in, (size_t)(n * d * h * w) * sizeof(float));
    return CBCT_OK;
}

static cbct_status constant(void *context, const float *in, int64_t n, int64_t d, int64_t h,
                            int64_t w, float *out)
{
    probe_call(context, n, d, h, w);
    for (int64_t i = 0; i < n * d * h * w; i++)
        out[i] = 2.5f + 0.0f * in[i];
    return CBCT_OK;
}

/* Mean over the 3 x 3 x 3 neighbourhood, zeros beyond the array: each
 * window is blurred as if it were the whole image. */
static void box_blur(const float *in, int64_t d, int64_t h, int64_t w, float *out)
{
    for (int64_t z = 0; z < d; z++)
        for (int64_t y = 0; y < h; y++)
            for (int64_t x = 0; x < w; x++) {
                float sum = 0.0f;
                for (int64_t dz = -1; dz <= 1; dz++)
                    for (int64_t dy = -1; dy <= 1; dy++)
                        for (int64_t dx = -1; dx <= 1; dx++) {
                            int64_t zz = z + dz, yy = y + dy, xx = x + dx;
                            if (zz >= 0 && zz < d && yy >= 0 && yy < h && xx >= 0 && xx < w)
                                sum += in[(zz * h + yy) * w + xx];
                        }
                out[(z * h + y) * w + x] = sum / 27.0f;
            }
}

static cbct_status blur(void *context, const float *in, int64_t n, int64_t d, int64_t h,
                        int64_t w, float *out)
{
    probe_call(context, n, d, h, w);
    for (int64_t i = 0; i < n; i++)
        box_blur(in + i * d * h * w, d, h, w, out + i * d * h * w);
    return CBCT_OK;
}

/* The whole volume blurred with the tiler's border: mirrored by one voxel,
 * blurred, cropped. */
static void whole_blur(const float *vol, const int64_t s[3], float *out)
{
    int64_t p[3] = {s[0] + 2, s[1] + 2, s[2] + 2};
    float *padded = malloc((size_t)numel(p) * sizeof(float));
    float *blurred = malloc((size_t)numel(p) * sizeof(float));
    for (int64_t z = 0; z < p[0]; z++)
        for (int64_t y = 0; y < p[1]; y++)
            for (int64_t x = 0; x < p[2]; x++)
                padded[(z * p[1] + y) * p[2] + x] =
                    vol[(naive_reflect(z - 1, s[0]) * s[1] + naive_reflect(y - 1, s[1])) * s[2] +
                        naive_reflect(x - 1, s[2])];
    box_blur(padded, p[0], p[1], p[2], blurred);
    for (int64_t z = 0; z < s[0]; z++)
        for (int64_t y = 0; y < s[1]; y++)
            for (int64_t x = 0; x < s[2]; x++)
                out[(z * s[1] + y) * s[2] + x] = blurred[((z + 1) * p[1] + y + 1) * p[2] + x + 1];
    free(padded);
    free(blurred);
}

static double max_abs_diff(const float *a, const float *b, int64_t n)
{
    double m = 0.0;
    for (int64_t i = 0; i < n; i++)
        m = fmax(m, fabs((double)a[i] - (double)b[i]));
    return m;
}

/* Runs the tiler; returns its status. */
static cbct_status run(const cbct_patch_grid *g, const float *vol, int blend, int64_t batch,
                       cbct_batch_denoiser_fn fn, probe *p, float *out)
{
    memset(p, 0, sizeof *p);
    p->grid = g;
    p->batch = batch < g->n_patches ? batch : g->n_patches;
    return cbct_tiling_run(g, vol, blend, batch, fn, p, out);
}

/* Identity gives the volume back (exactly for centres, within rounding
 * blended); a constant stays constant blended. */
static void test_identity_and_constant(void)
{
    for (int si = 0; si < N_SHAPES; si++)
        for (int pi = 0; pi < N_PATCHES; pi++)
            for (int oi = 0; oi < N_OVERLAPS; oi++) {
                const int64_t *s = shapes[si];
                float *vol = random_volume(s, (unsigned long long)(si * 100 + pi * 10 + oi + 1));
                float *out = malloc((size_t)numel(s) * sizeof(float));
                cbct_patch_grid g;
                probe p;
                CHECK_OK(cbct_patch_grid_init(s, patches[pi], overlaps[oi], &g));
                CHECK_OK(run(&g, vol, 0, 3, identity, &p, out));
                CHECK(memcmp(out, vol, (size_t)numel(s) * sizeof(float)) == 0);
                CHECK(!p.bad_shape && p.calls == (g.n_patches + 2) / 3);
                CHECK_OK(run(&g, vol, 1, 2, identity, &p, out));
                CHECK_MSG(max_abs_diff(out, vol, numel(s)) < 1e-6, "blended identity: %g",
                          max_abs_diff(out, vol, numel(s)));
                CHECK_OK(run(&g, vol, 1, 4, constant, &p, out));
                for (int64_t i = 0; i < numel(s); i++)
                    vol[i] = 2.5f;
                /* float weights: a few roundings of 6e-8 relative each */
                CHECK_MSG(max_abs_diff(out, vol, numel(s)) < 2.5 * 2e-6, "blended constant: %g",
                          max_abs_diff(out, vol, numel(s)));
                free(out);
                free(vol);
            }
}

/* A blur tiled equals the whole volume blurred when the overlap covers its
 * radius (1 voxel), and does not without overlap. */
static void test_blur_matches_whole(void)
{
    const int64_t s[3] = {11, 17, 14};
    float *vol = random_volume(s, 5);
    float *whole = malloc((size_t)numel(s) * sizeof(float));
    float *tiled = malloc((size_t)numel(s) * sizeof(float));
    whole_blur(vol, s, whole);
    const int64_t ovs[][3] = {{1, 1, 1}, {2, 3, 1}, {4, 4, 4}, {0, 0, 0}, {1, 0, 1}};
    for (int oi = 0; oi < 5; oi++) {
        cbct_patch_grid g;
        probe p;
        CHECK_OK(cbct_patch_grid_init(s, (int64_t[]){4, 8, 5}, ovs[oi], &g));
        CHECK_OK(run(&g, vol, 0, 5, blur, &p, tiled));
        double diff = max_abs_diff(whole, tiled, numel(s));
        int covered = ovs[oi][0] >= 1 && ovs[oi][1] >= 1 && ovs[oi][2] >= 1;
        if (covered)
            CHECK_MSG(diff < 1e-6, "overlap %d: tiled blur differs by %g", oi, diff);
        else
            CHECK_MSG(diff > 1e-3, "overlap %d: tiled blur should differ, max diff %g", oi, diff);
    }
    free(tiled);
    free(whole);
    free(vol);
}

/* Batch size and thread count do not change a bit. */
static void test_batch_and_threads_invariance(void)
{
    const int64_t s[3] = {9, 21, 13};
    float *vol = random_volume(s, 9);
    float *first = malloc((size_t)numel(s) * sizeof(float));
    float *other = malloc((size_t)numel(s) * sizeof(float));
    cbct_patch_grid g;
    probe p;
    CHECK_OK(cbct_patch_grid_init(s, (int64_t[]){4, 8, 8}, (int64_t[]){2, 3, 3}, &g));
    int threads = cbct_threads();
    for (int blend = 0; blend < 2; blend++) {
        CHECK_OK(run(&g, vol, blend, 1, blur, &p, first));
        const int64_t batches[] = {2, 5, 7, 1000};
        for (int bi = 0; bi < 4; bi++) {
            CHECK_OK(run(&g, vol, blend, batches[bi], blur, &p, other));
            CHECK_MSG(memcmp(first, other, (size_t)numel(s) * sizeof(float)) == 0,
                      "blend %d batch %lld differs from batch 1", blend, (long long)batches[bi]);
        }
        cbct_set_threads(threads == 1 ? 3 : 1);
        CHECK_OK(run(&g, vol, blend, 3, blur, &p, other));
        CHECK(memcmp(first, other, (size_t)numel(s) * sizeof(float)) == 0);
        cbct_set_threads(threads);
    }
    free(other);
    free(first);
    free(vol);
}

/* Exactly the predicted tracked bytes during a call; nothing left after;
 * errors (from the denoiser, from the allocator) pass through cleanly. */
static void test_memory_and_errors(void)
{
    const int64_t s[3] = {10, 12, 9};
    float *vol = random_volume(s, 3);
    float *out = malloc((size_t)numel(s) * sizeof(float));
    cbct_patch_grid g;
    probe p;
    CHECK_OK(cbct_patch_grid_init(s, (int64_t[]){4, 4, 4}, (int64_t[]){1, 2, 3}, &g));
    size_t before = cbct_mem_current();
    for (int blend = 0; blend < 2; blend++) {
        const int64_t batches[] = {1, 2, 4, 8, 10, 1000};
        for (int bi = 0; bi < 6; bi++) {
            CHECK_OK(run(&g, vol, blend, batches[bi], identity, &p, out));
            CHECK_MSG(p.mem_in_call - before == cbct_tiling_run_bytes(&g, blend, batches[bi]),
                      "blend %d batch %lld: %zu bytes in use, %zu predicted", blend,
                      (long long)batches[bi], p.mem_in_call - before,
                      cbct_tiling_run_bytes(&g, blend, batches[bi]));
            CHECK(cbct_mem_current() == before);
        }
    }
    memset(&p, 0, sizeof p);
    p.grid = &g;
    p.batch = 4;
    p.fail_call = 2;
    CHECK_FAILS(cbct_tiling_run(&g, vol, 1, 4, identity, &p, out), CBCT_ERR_NUMERIC,
                "failing on purpose");
    CHECK(p.calls == 2 && cbct_mem_current() == before);
    for (long nth = 1; nth <= 6; nth++) {
        cbct_mem_fail_nth(nth);
        cbct_status st = run(&g, vol, 1, 4, identity, &p, out);
        cbct_mem_fail_nth(0);
        CHECK(st == CBCT_OK || st == CBCT_ERR_MEMORY);
        CHECK(cbct_mem_current() == before);
    }
    CHECK_FAILS(run(&g, vol, 0, 0, identity, &p, out), CBCT_ERR_ARG, "batch");
    CHECK_FAILS(run(&g, vol, 0, 2, identity, &p, vol), CBCT_ERR_ARG, "must not be the input");
    free(out);
    free(vol);
}

/* The normalised weights of each axis sum to 1 at every voxel and are 1
 * where a single patch covers the axis. */
static void test_blend_weights(void)
{
    cbct_patch_grid g;
    CHECK_OK(cbct_patch_grid_init((int64_t[]){5, 17, 40}, (int64_t[]){8, 8, 16},
                                  (int64_t[]){2, 3, 4}, &g));
    cbct_blend_weights w;
    size_t before = cbct_mem_current();
    CHECK_OK(cbct_blend_weights_create(&g, &w));
    CHECK(cbct_mem_current() - before == cbct_blend_weights_bytes(&g));
    for (int a = 0; a < 3; a++) {
        double *sum = calloc((size_t)g.shape[a], sizeof(double));
        for (int64_t k = 0; k < g.count[a]; k++) {
            int64_t start = k == g.count[a] - 1 ? g.shape[a] - g.patch[a] : k * g.patch[a];
            for (int64_t j = 0; j < g.window[a]; j++) {
                int64_t v = start - g.overlap[a] + j;
                float weight = w.weight[a][k * g.window[a] + j];
                if (v < 0 || v >= g.shape[a])
                    CHECK(weight == 0.0f);
                else
                    sum[v] += weight;
            }
        }
        for (int64_t v = 0; v < g.shape[a]; v++)
            CHECK_NEAR(sum[v], 1.0, 1e-6);
        free(sum);
    }
    CHECK(w.weight[0][2] == 1.0f && w.weight[0][6] == 1.0f); /* z: one patch of 5 */
    cbct_blend_weights_destroy(&w);
    CHECK(cbct_mem_current() == before);
}

int main(void)
{
    test_reflect();
    test_grid_covers_once();
    test_grid_last_patch_shifted();
    test_extract();
    test_identity_and_constant();
    test_blur_matches_whole();
    test_batch_and_threads_invariance();
    test_memory_and_errors();
    test_blend_weights();
    return check_summary("test_nn_tiling");
}
