/* The shipped 3D DRUNet (models/drunet3d_small.safetensors, trained by
 * scripts/train_drunet3d.py) loads with the expected architecture and
 * denoises a held-out walnut (seed 1001; training used seeds 1..8),
 * normalised to [0, 1] as the solver does, with Gaussian noise of sigma
 * 0.03: the PSNR (data range 1) rises by at least 1 dB, and at sigma 0.01
 * it does not fall. Also: the default kernels (Winograd at every level of
 * this net, 16 to 128 channels) give the reference loops' output within
 * 1e-4 of its range, the bound of the PyTorch check (the loops themselves
 * are checked against PyTorch in test_nn_drunet_reference). The model is
 * found through CBCT_SOURCE_DIR (set by tests/CMakeLists.txt), else
 * relative to this file. */
#include <stdint.h>

#include "check.h"
#include "cbct/denoiser.h"
#include "cbct/phantom.h"

enum { SIDE = 32 }; /* voxels per axis: one 32^3 window, small enough for ASan */
static const uint64_t HELD_OUT_SEED = 1001;

static void model_path(char *buf, size_t len)
{
    const char *source = getenv("CBCT_SOURCE_DIR");
    if (source && *source) {
        snprintf(buf, len, "%s/models/drunet3d_small.safetensors", source);
        return;
    }
    /* __FILE__ is .../tests/test_nn_shipped_model.c */
    snprintf(buf, len, "%s", __FILE__);
    char *slash = strrchr(buf, '/');
    if (slash)
        *slash = '\0';
    size_t used = strlen(buf);
    snprintf(buf + used, len - used, "/../models/drunet3d_small.safetensors");
}

/* Standard normal numbers by Box-Muller from the harness's xorshift. */
static double gaussian(unsigned long long *state)
{
    double u1 = 0.5 + 0.5 * (double)check_random(state); /* [0, 1) */
    double u2 = 0.5 + 0.5 * (double)check_random(state);
    return sqrt(-2.0 * log(1.0 - u1)) * cos(6.283185307179586 * u2);
}

static double psnr(const cbct_array *reference, const cbct_array *a)
{
    double sum = 0.0;
    int64_t n = cbct_array_numel(a);
    for (int64_t i = 0; i < n; i++) {
        double d = (double)a->data[i] - (double)reference->data[i];
        sum += d * d;
    }
    return 10.0 * log10(1.0 / (sum / (double)n)); /* data range 1 */
}

/* The walnut scaled to [0, 1] by its minimum and maximum. */
static void held_out_walnut(cbct_array *clean)
{
    cbct_volume_geom vg = {.shape = {SIDE, SIDE, SIDE}, .voxel_size = {4.0, 4.0, 4.0}};
    CHECK_OK(cbct_array_create(clean, SIDE, SIDE, SIDE, "walnut"));
    CHECK_OK(cbct_phantom_walnut(&vg, HELD_OUT_SEED, clean->data));
    int64_t n = cbct_array_numel(clean);
    float low = clean->data[0], high = clean->data[0];
    for (int64_t i = 0; i < n; i++) {
        low = fminf(low, clean->data[i]);
        high = fmaxf(high, clean->data[i]);
    }
    CHECK(high > low);
    for (int64_t i = 0; i < n; i++)
        clean->data[i] = (clean->data[i] - low) / (high - low);
}

/* PSNR gain (dB) of the model on the walnut with noise of `sigma`. */
static double psnr_gain(cbct_drunet *net, const cbct_array *clean, float sigma,
                        unsigned long long seed)
{
    cbct_array noisy = {0}, denoised = {0};
    CHECK_OK(cbct_array_create(&noisy, SIDE, SIDE, SIDE, "noisy walnut"));
    for (int64_t i = 0; i < cbct_array_numel(clean); i++)
        noisy.data[i] = clean->data[i] + sigma * (float)gaussian(&seed);
    /* One window of the whole volume: 32^3 runs without padding. */
    cbct_tiling tiling = {.patch = {SIDE, SIDE, SIDE}, .overlap = {0, 0, 0}, .max_batch = 1};
    CHECK_OK(cbct_denoise_volume(net, &noisy, sigma, &tiling, &denoised));
    double before = psnr(clean, &noisy), after = psnr(clean, &denoised);
    printf("sigma %.2f: PSNR %.2f dB noisy, %.2f dB denoised (%+.2f dB)\n", sigma, before, after,
           after - before);
    cbct_array_destroy(&noisy);
    cbct_array_destroy(&denoised);
    return after - before;
}

/* Max |fast - reference| over the output range, on two windows of the
 * noisy walnut of odd size (run padded to 16 x 24 x 24 as deepinv pads). */
static double fast_vs_reference(cbct_drunet *net, const cbct_array *clean)
{
    enum { BATCH = 2, D = 11, H = 19, W = 23 };
    const int64_t per = (int64_t)D * H * W;
    float *in = malloc(BATCH * per * sizeof *in), *fast = malloc(BATCH * per * sizeof *fast);
    float *ref = malloc(BATCH * per * sizeof *ref);
    CHECK(in && fast && ref);
    unsigned long long seed = 0x5eed0fa5ULL;
    for (int b = 0; b < BATCH; b++)
        for (int64_t z = 0; z < D; z++)
            for (int64_t y = 0; y < H; y++)
                for (int64_t x = 0; x < W; x++)
                    in[b * per + (z * H + y) * W + x] =
                        clean->data[((z + 10 * b) * SIDE + y + 5) * SIDE + x + 4] +
                        0.03f * (float)gaussian(&seed);
    cbct_drunet_set_kernel(net, CBCT_NN_KERNEL_FAST);
    CHECK_OK(cbct_drunet_apply(net, in, BATCH, D, H, W, 0.03f, fast));
    cbct_drunet_set_kernel(net, CBCT_NN_KERNEL_REFERENCE);
    CHECK_OK(cbct_drunet_apply(net, in, BATCH, D, H, W, 0.03f, ref));
    cbct_drunet_set_kernel(net, CBCT_NN_KERNEL_FAST);
    float lo = ref[0], hi = ref[0];
    double diff = 0.0;
    for (int64_t i = 0; i < BATCH * per; i++) {
        lo = fminf(lo, ref[i]);
        hi = fmaxf(hi, ref[i]);
        diff = fmax(diff, fabs((double)fast[i] - (double)ref[i]));
    }
    CHECK(hi > lo);
    printf("fast kernels vs reference loops: max diff %.3g, %.2g of the range %.3g\n", diff,
           diff / (hi - lo), (double)(hi - lo));
    free(in), free(fast), free(ref);
    return diff / (hi - lo);
}

int main(void)
{
    char path[4096];
    model_path(path, sizeof path);
    cbct_drunet *net = NULL;
    CHECK_OK(cbct_drunet_load(path, &net));
    if (!net)
        return check_summary("test_nn_shipped_model");

    const cbct_drunet_config *c = cbct_drunet_get_config(net);
    CHECK(c->dims == 3 && c->in_channels == 1 && c->out_channels == 1 && c->nb == 2);
    CHECK(c->channels[0] == 16 && c->channels[1] == 32 && c->channels[2] == 64 &&
          c->channels[3] == 128);

    cbct_array clean = {0};
    held_out_walnut(&clean);
    double gain_03 = psnr_gain(net, &clean, 0.03f, 0x5eed0003ULL);
    CHECK_MSG(gain_03 >= 1.0, "gain %.2f dB at sigma 0.03, expected >= 1 dB", gain_03);
    double gain_01 = psnr_gain(net, &clean, 0.01f, 0x5eed0001ULL);
    CHECK_MSG(gain_01 > 0.0, "gain %.2f dB at sigma 0.01, expected > 0", gain_01);
    double relative = fast_vs_reference(net, &clean);
    CHECK_MSG(relative <= 1e-4, "fast kernels differ from the reference by %g of the range",
              relative);

    cbct_array_destroy(&clean);
    cbct_drunet_destroy(net);
    return check_summary("test_nn_shipped_model");
}
