/* cbct_denoise_volume with small random DRUNets: tiled equals one window of
 * the whole volume when the overlap covers the receptive field and the
 * windows stay on the network's 8-voxel grid (and differs with a small
 * overlap); the memory model predicts the measured peak within 10% for
 * batches of 1, 2, 4, 8 and 10; "auto" picks the largest batch that fits;
 * batch size does not change a bit; bad arguments give clear errors. */
#include <stdint.h>

#include "check.h"
#include "nn/tiling.h"

static cbct_drunet *tiny_net(int dims, int nb, uint64_t seed)
{
    cbct_drunet_config c = {.dims = dims, .in_channels = 1, .out_channels = 1,
                            .channels = {4, 8, 16, 32}, .nb = nb};
    cbct_drunet *net = NULL;
    CHECK_OK(cbct_drunet_create_random(&c, seed, &net));
    return net;
}

static void random_array(cbct_array *a, int64_t nz, int64_t ny, int64_t nx,
                         unsigned long long seed)
{
    CHECK_OK(cbct_array_create(a, nz, ny, nx, "test volume"));
    for (int64_t i = 0; i < cbct_array_numel(a); i++)
        a->data[i] = 0.5f + 0.5f * check_random(&seed);
}

static double max_abs_diff(const cbct_array *a, const cbct_array *b)
{
    double m = 0.0;
    for (int64_t i = 0; i < cbct_array_numel(a); i++)
        m = fmax(m, fabs((double)a->data[i] - (double)b->data[i]));
    return m;
}

/* Denoised with `patch` and `overlap`; the output is created. */
static void denoise(cbct_drunet *net, const cbct_array *vol, const int64_t patch[3],
                    const int64_t overlap[3], int64_t max_batch, int blend, cbct_array *out)
{
    cbct_tiling t = {.max_batch = max_batch, .blend = blend};
    memcpy(t.patch, patch, sizeof t.patch);
    memcpy(t.overlap, overlap, sizeof t.overlap);
    memset(out, 0, sizeof *out);
    CHECK_OK(cbct_denoise_volume(net, vol, 0.1f, &t, out));
}

/* Tiled vs one window holding the whole volume with the same mirrored
 * border (patch = volume): equal within 1e-5 when the overlap (64) covers
 * the receptive field of a DRUNet with one block per scale (radius about
 * 53) and every window starts on the 8-voxel grid; different with an
 * overlap of 8. */
static void check_tiled_equals_whole(cbct_drunet *net, const cbct_array *vol,
                                     const int64_t patch[3], const int64_t big[3],
                                     const int64_t small[3], const char *what)
{
    /* One patch of the whole volume (a 2D network: of each slice). */
    const int64_t s[3] = {patch[0] == 1 ? 1 : vol->shape[0], vol->shape[1], vol->shape[2]};
    cbct_array whole, tiled;
    denoise(net, vol, s, big, 1, 0, &whole);
    denoise(net, vol, patch, big, 3, 0, &tiled);
    double diff = max_abs_diff(&whole, &tiled);
    printf("%s: overlap %lld,%lld,%lld: tiled - whole max %.3g\n", what, (long long)big[0],
           (long long)big[1], (long long)big[2], diff);
    CHECK_MSG(diff <= 1e-5, "%s: tiled differs from whole by %g", what, diff);
    cbct_array_destroy(&tiled);
    cbct_array_destroy(&whole);

    denoise(net, vol, s, small, 1, 0, &whole);
    denoise(net, vol, patch, small, 3, 0, &tiled);
    diff = max_abs_diff(&whole, &tiled);
    printf("%s: overlap %lld,%lld,%lld: tiled - whole max %.3g\n", what, (long long)small[0],
           (long long)small[1], (long long)small[2], diff);
    CHECK_MSG(diff > 1e-4, "%s: a small overlap should not match the whole volume (%g)", what,
              diff);
    cbct_array_destroy(&tiled);
    cbct_array_destroy(&whole);
}

static void test_tiled_equals_whole(void)
{
    /* 3D: tiled along z only (y and x are one patch without overlap, so
     * the windows are cheap); 24 = 3 patches of 8. */
    cbct_drunet *net3 = tiny_net(3, 1, 7);
    cbct_array vol;
    random_array(&vol, 24, 8, 8, 21);
    check_tiled_equals_whole(net3, &vol, (int64_t[]){8, 8, 8}, (int64_t[]){64, 0, 0},
                             (int64_t[]){8, 0, 0}, "3D");
    cbct_array_destroy(&vol);
    cbct_drunet_destroy(net3);

    /* 2D: tiled in y and x; along x 40 = 16 + 16 + a last patch shifted
     * back to start at 24 (still on the 8-voxel grid). */
    cbct_drunet *net2 = tiny_net(2, 1, 8);
    random_array(&vol, 2, 48, 40, 22);
    check_tiled_equals_whole(net2, &vol, (int64_t[]){1, 16, 16}, (int64_t[]){0, 64, 64},
                             (int64_t[]){0, 8, 8}, "2D");
    cbct_array_destroy(&vol);
    cbct_drunet_destroy(net2);
}

/* Predicted peak (cbct_denoise_peak_bytes) vs the tracked allocator's
 * measured peak growth during cbct_denoise_volume, output allocated
 * before; results identical for every batch size. */
static void test_memory_model(void)
{
    cbct_drunet_config c = {.dims = 3, .in_channels = 1, .out_channels = 1,
                            .channels = {8, 16, 32, 64}, .nb = 1};
    cbct_drunet *net = NULL;
    CHECK_OK(cbct_drunet_create_random(&c, 3, &net));
    cbct_array vol, out, first;
    random_array(&vol, 16, 32, 32, 5);
    CHECK_OK(cbct_array_create(&out, 16, 32, 32, "denoised"));
    CHECK_OK(cbct_array_create(&first, 16, 32, 32, "denoised with batch 1"));
    cbct_tiling t = {.patch = {8, 8, 8}, .overlap = {2, 2, 2}};
    cbct_patch_grid grid;
    CHECK_OK(cbct_patch_grid_init(vol.shape, t.patch, t.overlap, &grid));
    CHECK(grid.n_patches == 32);
    const int64_t batches[] = {1, 2, 4, 8, 10};
    for (int blend = 0; blend < 2; blend++)
        for (int i = 0; i < 5; i++) {
            t.max_batch = batches[i];
            t.blend = blend;
            size_t before = cbct_mem_current();
            cbct_mem_reset_peak();
            CHECK_OK(cbct_denoise_volume(net, &vol, 0.03f, &t, &out));
            double measured = (double)(cbct_mem_peak() - before);
            double predicted = (double)cbct_denoise_peak_bytes(net, &grid, blend, batches[i]);
            printf("blend %d, max batch %2lld: peak %.0f bytes measured, %.0f predicted "
                   "(%+.2f%%)\n", blend, (long long)batches[i], measured, predicted,
                   100.0 * (predicted - measured) / measured);
            CHECK_MSG(fabs(predicted - measured) <= 0.1 * measured,
                      "batch %lld: predicted %.0f, measured %.0f", (long long)batches[i],
                      predicted, measured);
            CHECK(cbct_mem_current() == before);
            if (i == 0)
                memcpy(first.data, out.data, (size_t)cbct_array_numel(&out) * sizeof(float));
            else
                CHECK_MSG(memcmp(first.data, out.data,
                                 (size_t)cbct_array_numel(&out) * sizeof(float)) == 0,
                          "blend %d: batch %lld differs from batch 1", blend,
                          (long long)batches[i]);
        }

    /* Auto: a budget between the predictions for 4 and 5 windows gives 4,
     * the run stays under it, and the result is batch 4's. */
    size_t p4 = cbct_denoise_peak_bytes(net, &grid, 0, 4);
    size_t p5 = cbct_denoise_peak_bytes(net, &grid, 0, 5);
    CHECK(p5 > p4);
    int64_t chosen = 0;
    CHECK_OK(cbct_denoise_choose_batch(net, &grid, 0, p4 + (p5 - p4) / 2, &chosen));
    CHECK(chosen == 4);
    CHECK_OK(cbct_denoise_choose_batch(net, &grid, 0, SIZE_MAX / 2, &chosen));
    CHECK(chosen == grid.n_patches);
    t.max_batch = 4;
    t.blend = 0;
    CHECK_OK(cbct_denoise_volume(net, &vol, 0.03f, &t, &first));
    size_t used = cbct_mem_current();
    cbct_mem_set_budget(used + p4 + (p5 - p4) / 2);
    cbct_mem_reset_peak();
    t.max_batch = 0;
    CHECK_OK(cbct_denoise_volume(net, &vol, 0.03f, &t, &out));
    CHECK(cbct_mem_peak() <= cbct_mem_budget());
    CHECK(memcmp(first.data, out.data, (size_t)cbct_array_numel(&out) * sizeof(float)) == 0);
    cbct_mem_set_budget(used + cbct_denoise_peak_bytes(net, &grid, 0, 1) / 2);
    CHECK_FAILS(cbct_denoise_volume(net, &vol, 0.03f, &t, &out), CBCT_ERR_MEMORY,
                "one window of 12 x 12 x 12 voxels needs");
    cbct_mem_set_budget(0);
    CHECK(cbct_mem_current() == used);

    cbct_array_destroy(&first);
    cbct_array_destroy(&out);
    cbct_array_destroy(&vol);
    cbct_drunet_destroy(net);
}

static void test_arguments(void)
{
    cbct_drunet *net3 = tiny_net(3, 1, 1), *net2 = tiny_net(2, 1, 2);
    cbct_array vol, out, small;
    random_array(&vol, 5, 9, 7, 3);
    vol.spacing[0] = 0.25;
    vol.origin[2] = 3.0;
    memset(&out, 0, sizeof out);
    cbct_tiling t = {.patch = {8, 8, 8}, .overlap = {2, 2, 2}, .max_batch = 2};
    size_t before = cbct_mem_current();
    CHECK_FAILS(cbct_denoise_volume(net3, &vol, -0.1f, &t, &out), CBCT_ERR_ARG, "sigma");
    CHECK_FAILS(cbct_denoise_volume(net3, &vol, NAN, &t, &out), CBCT_ERR_ARG, "sigma");
    CHECK_FAILS(cbct_denoise_volume(net2, &vol, 0.1f, &t, &out), CBCT_ERR_ARG,
                "slice by slice");
    t.max_batch = -1;
    CHECK_FAILS(cbct_denoise_volume(net3, &vol, 0.1f, &t, &out), CBCT_ERR_ARG, "max_batch");
    t.max_batch = 2;
    t.patch[1] = 0;
    CHECK_FAILS(cbct_denoise_volume(net3, &vol, 0.1f, &t, &out), CBCT_ERR_ARG,
                "patch size along y");
    t.patch[1] = 8;
    CHECK(out.data == NULL && cbct_mem_current() == before);
    CHECK_FAILS(cbct_denoise_volume(net3, &vol, 0.1f, &t, &vol), CBCT_ERR_ARG,
                "must not be the input");
    CHECK_OK(cbct_array_create(&small, 5, 9, 6, "wrong shape"));
    CHECK_FAILS(cbct_denoise_volume(net3, &vol, 0.1f, &t, &small), CBCT_ERR_ARG, "along x");
    cbct_array_destroy(&small);

    /* Created output: shape, spacing and origin of the volume; a 2D net
     * with patch z = 1 and overlap z = 0 works. */
    CHECK_OK(cbct_denoise_volume(net3, &vol, 0.1f, &t, &out));
    CHECK(out.data && out.shape[2] == 7 && out.spacing[0] == 0.25 && out.origin[2] == 3.0);
    cbct_array_destroy(&out);
    t.patch[0] = 1;
    t.overlap[0] = 0;
    CHECK_OK(cbct_denoise_volume(net2, &vol, 0.1f, &t, &out));
    cbct_array_destroy(&out);
    /* A failing allocation frees the output it created. */
    cbct_mem_fail_nth(2);
    CHECK(cbct_denoise_volume(net2, &vol, 0.1f, &t, &out) == CBCT_ERR_MEMORY);
    cbct_mem_fail_nth(0);
    CHECK(out.data == NULL && cbct_mem_current() == before);

    cbct_drunet_config two = {.dims = 3, .in_channels = 2, .out_channels = 1,
                              .channels = {4, 8, 16, 32}, .nb = 1};
    cbct_drunet *net_c2 = NULL;
    CHECK_OK(cbct_drunet_create_random(&two, 1, &net_c2));
    CHECK_FAILS(cbct_denoise_volume(net_c2, &vol, 0.1f, &t, &out), CBCT_ERR_ARG, "channels");
    cbct_drunet_destroy(net_c2);
    cbct_array_destroy(&vol);
    cbct_drunet_destroy(net2);
    cbct_drunet_destroy(net3);
}

int main(void)
{
    test_tiled_equals_whole();
    test_memory_model();
    test_arguments();
    return check_summary("test_nn_tiling_drunet");
}
