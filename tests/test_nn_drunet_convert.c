/* Checkpoints converted by scripts/convert_drunet.py: a tiny 2D DRUNet
 * saved with torch.save (tests/data/drunet/tiny2d.pth) and its conversions
 * (stored next to it) load and give PyTorch's output; the 3D inflation
 * gives, on a volume constant along z, the 2D output on every slice. When
 * /usr/bin/python3 has torch, the conversion is re-run and must reproduce
 * the stored files byte for byte. */
#include "check.h"
#include "cbct/denoiser.h"
#include "cbct/io.h"

#define REL_TOLERANCE 1e-4
/* The input of tiny2d_out.npy (TINY_INPUT in scripts/drunet_reference.py). */
#define TINY_H 19
#define TINY_W 22
#define TINY_SIGMA 0.05f
/* Slices of the z-constant volume given to the inflated network. */
#define INFLATED_D 5

static const char *data_path(const char *name)
{
    static char path[2048];
    char dir[1024];
    snprintf(dir, sizeof dir, "%s", __FILE__);
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = '\0';
    snprintf(path, sizeof path, "%s/data/drunet/%s", slash ? dir : ".", name);
    return path;
}

static float range_of(const float *v, int64_t n)
{
    float lo = v[0], hi = v[0];
    for (int64_t i = 1; i < n; i++)
        lo = v[i] < lo ? v[i] : lo, hi = v[i] > hi ? v[i] : hi;
    return hi - lo;
}

static float max_diff(const float *a, const float *b, int64_t n)
{
    float worst = 0.0f;
    for (int64_t i = 0; i < n; i++)
        worst = fabsf(a[i] - b[i]) > worst ? fabsf(a[i] - b[i]) : worst;
    return worst;
}

static int same_bytes(const char *a, const char *b)
{
    FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
    int same = fa && fb;
    while (same) {
        int ca = fgetc(fa), cb = fgetc(fb);
        same = ca == cb;
        if (ca == EOF || cb == EOF)
            break;
    }
    if (fa)
        fclose(fa);
    if (fb)
        fclose(fb);
    return same;
}

static void check_stored(void)
{
    cbct_array in = {0}, expected = {0};
    CHECK_OK(cbct_npy_read(data_path("tiny2d_in.npy"), &in));
    CHECK_OK(cbct_npy_read(data_path("tiny2d_out.npy"), &expected));
    const int64_t plane = TINY_H * TINY_W;
    if (!in.data || !expected.data || cbct_array_numel(&in) != plane ||
        cbct_array_numel(&expected) != plane) {
        CHECK_MSG(0, "tiny2d_in/out.npy: expected %d x %d images", TINY_H, TINY_W);
        goto done;
    }
    float tolerance = (float)REL_TOLERANCE * range_of(expected.data, plane);
    cbct_drunet *net2d = NULL, *net3d = NULL;
    float out[INFLATED_D * TINY_H * TINY_W], volume[INFLATED_D * TINY_H * TINY_W];
    CHECK_OK(cbct_drunet_load(data_path("tiny2d.safetensors"), &net2d));
    if (net2d) {
        CHECK(cbct_drunet_get_config(net2d)->dims == 2);
        CHECK_OK(cbct_drunet_apply(net2d, in.data, 1, 1, TINY_H, TINY_W, TINY_SIGMA, out));
        float diff = max_diff(out, expected.data, plane);
        printf("converted 2D checkpoint: max |C - torch| %.3g (tolerance %.3g)\n", diff,
               tolerance);
        CHECK(diff <= tolerance);
    }
    CHECK_OK(cbct_drunet_load(data_path("tiny3d_inflated.safetensors"), &net3d));
    if (net3d && net2d) {
        const cbct_drunet_config *c3 = cbct_drunet_get_config(net3d);
        const cbct_drunet_config *c2 = cbct_drunet_get_config(net2d);
        CHECK(c3->dims == 3 && c3->nb == c2->nb &&
              memcmp(c3->channels, c2->channels, sizeof c2->channels) == 0);
        for (int z = 0; z < INFLATED_D; z++)
            memcpy(volume + z * plane, in.data, (size_t)plane * sizeof(float));
        CHECK_OK(cbct_drunet_apply(net3d, volume, 1, INFLATED_D, TINY_H, TINY_W, TINY_SIGMA, out));
        float worst = 0.0f;
        for (int z = 0; z < INFLATED_D; z++) {
            float diff = max_diff(out + z * plane, expected.data, plane);
            worst = diff > worst ? diff : worst;
        }
        printf("inflated 3D on a z-constant volume: max |slice - 2D torch| %.3g\n", worst);
        CHECK(worst <= tolerance);
    }
    cbct_drunet_destroy(net2d);
    cbct_drunet_destroy(net3d);
done:
    cbct_array_destroy(&in);
    cbct_array_destroy(&expected);
}

/* Re-runs the converter when PyTorch is there (CBCT_PYTHON or /usr/bin/python3). */
static void check_rerun(void)
{
    const char *python = getenv("CBCT_PYTHON");
    if (!python || !*python)
        python = "/usr/bin/python3";
    char command[16384];
    snprintf(command, sizeof command, "'%s' -c 'import torch, numpy' >/dev/null 2>&1", python);
    if (system(command) != 0) {
        printf("%s has no torch: the conversion is not re-run "
               "(scripts/install-python-tools.sh installs it)\n", python);
        return;
    }
    char script[2048], pth[2048], out2d[2048], out3d[2048];
    snprintf(script, sizeof script, "%s", data_path("../../../scripts/convert_drunet.py"));
    snprintf(pth, sizeof pth, "%s", data_path("tiny2d.pth"));
    check_tmpfile("tiny2d.safetensors", out2d, sizeof out2d);
    check_tmpfile("tiny3d_inflated.safetensors", out3d, sizeof out3d);
    snprintf(command, sizeof command, "'%s' '%s' '%s' '%s' >/dev/null && '%s' '%s' --inflate-3d "
             "'%s' '%s' >/dev/null", python, script, pth, out2d, python, script, pth, out3d);
    CHECK_MSG(system(command) == 0, "failed: %s", command);
    CHECK_MSG(same_bytes(out2d, data_path("tiny2d.safetensors")), "%s differs from the stored "
              "conversion", out2d);
    CHECK_MSG(same_bytes(out3d, data_path("tiny3d_inflated.safetensors")), "%s differs from "
              "the stored conversion", out3d);
    printf("conversion re-run with %s: identical to the stored files\n", python);
}

int main(void)
{
    check_stored();
    check_rerun();
    return check_summary("test_nn_drunet_convert");
}
