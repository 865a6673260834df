/* The C DRUNet against stored outputs of the PyTorch reference
 * (scripts/drunet_reference.py writes tests/data/drunet/cases.txt and the
 * nets, inputs and outputs it lists): max |C - PyTorch| <= 1e-4 of the
 * output range for 2D and 3D nets, odd and even sizes, padded or not, with
 * every kernel table. Also: no tracked bytes left after a call, and the
 * peak model against the measured peak for batches 1, 2, 4.
 *
 * Also a tool: `test_nn_drunet_reference --load FILE` loads a safetensors
 * DRUNet and prints its architecture (used by scripts/convert_drunet.py). */
#include "check.h"
#include "cbct/denoiser.h"
#include "cbct/io.h"

/* The reference check of the issue: a tenth of a thousandth of the range. */
#define REL_TOLERANCE 1e-4
/* The peak model must be within 10% of the measured peak. */
#define PEAK_TOLERANCE 0.10

static const char *data_dir(void)
{
    static char dir[1024];
    const char *env = getenv("CBCT_NN_TEST_DATA");
    if (env && *env) {
        snprintf(dir, sizeof dir, "%s", env);
    } else { /* next to this source file */
        snprintf(dir, sizeof dir, "%s", __FILE__);
        char *slash = strrchr(dir, '/');
        snprintf(slash ? slash + 1 : dir, sizeof dir - (size_t)(slash ? slash + 1 - dir : 0),
                 "data/drunet");
    }
    return dir;
}

/* Reads dir/name, which must hold `numel` floats (the .npy is 3D). */
static float *read_npy(const char *name, int64_t numel, cbct_array *a)
{
    char path[1400];
    snprintf(path, sizeof path, "%s/%s", data_dir(), name);
    CHECK_OK(cbct_npy_read(path, a));
    CHECK_MSG(a->data && cbct_array_numel(a) == numel, "%s: %lld values, expected %lld", name,
              a->data ? (long long)cbct_array_numel(a) : 0LL, (long long)numel);
    return a->data && cbct_array_numel(a) == numel ? a->data : NULL;
}

static float max_abs_diff(const float *a, const float *b, int64_t n)
{
    float worst = 0.0f;
    for (int64_t i = 0; i < n; i++)
        worst = fabsf(a[i] - b[i]) > worst ? fabsf(a[i] - b[i]) : worst;
    return worst;
}

/* Runs one case with one kernel table; checks accuracy and memory. */
static void run_case(cbct_drunet *net, cbct_nn_kernel kernel, const float *in,
                     const float *expected, const int64_t shape[4], float sigma,
                     const char *label)
{
    const cbct_drunet_config *cfg = cbct_drunet_get_config(net);
    int64_t n = shape[0], d = shape[1], h = shape[2], w = shape[3];
    int64_t n_out = n * cfg->out_channels * d * h * w;
    float *out = malloc((size_t)n_out * sizeof *out); /* untracked: not in the peak */
    for (int64_t i = 0; i < n_out; i++)
        out[i] = NAN;
    cbct_drunet_set_kernel(net, kernel);
    size_t before = cbct_mem_current();
    cbct_mem_reset_peak();
    CHECK_OK(cbct_drunet_apply(net, in, n, d, h, w, sigma, out));
    size_t growth = cbct_mem_peak() - before;
    size_t model = cbct_drunet_peak_bytes(net, n, d, h, w);
    CHECK_MSG(cbct_mem_current() == before, "%s: %zu tracked bytes left", label,
              cbct_mem_current() - before);
    CHECK_MSG(fabs((double)model - (double)growth) <= PEAK_TOLERANCE * (double)growth,
              "%s: peak model %zu bytes, measured %zu", label, model, growth);
    float lo = expected[0], hi = expected[0];
    for (int64_t i = 0; i < n_out; i++) {
        lo = expected[i] < lo ? expected[i] : lo;
        hi = expected[i] > hi ? expected[i] : hi;
    }
    float diff = max_abs_diff(out, expected, n_out);
    printf("%-34s %-9s max |C - torch| %.3g (%.2g of range %.3g), peak %zu B (model %zu)\n",
           label, kernel == CBCT_NN_KERNEL_FAST ? "fast" : "reference", diff,
           diff / (hi - lo), hi - lo, growth, model);
    CHECK_MSG(hi > lo && diff <= REL_TOLERANCE * (hi - lo), "%s: max diff %g > %g * range %g",
              label, diff, REL_TOLERANCE, hi - lo);
    /* Any thread count gives the same bits. */
    if (kernel == CBCT_NN_KERNEL_REFERENCE) {
        float *again = malloc((size_t)n_out * sizeof *again);
        int threads = cbct_threads();
        cbct_set_threads(3);
        CHECK_OK(cbct_drunet_apply(net, in, n, d, h, w, sigma, again));
        cbct_set_threads(threads);
        CHECK_MSG(memcmp(out, again, (size_t)n_out * sizeof *out) == 0,
                  "%s: 3 threads differ from %d", label, threads);
        free(again);
    }
    free(out);
}

/* One line of cases.txt: net input output n d h w sigma. */
static int run_line(const char *line, int *n_2d, int *n_3d)
{
    char net_name[256], in_name[256], out_name[256];
    long long s[4];
    float sigma;
    if (line[0] == '#' || line[0] == '\n')
        return 0;
    if (sscanf(line, "%255s %255s %255s %lld %lld %lld %lld %f", net_name, in_name, out_name,
               &s[0], &s[1], &s[2], &s[3], &sigma) != 8) {
        CHECK_MSG(0, "cases.txt: cannot read '%s'", line);
        return 0;
    }
    char path[1400];
    snprintf(path, sizeof path, "%s/%s", data_dir(), net_name);
    cbct_drunet *net = NULL;
    CHECK_OK(cbct_drunet_load(path, &net));
    if (!net)
        return 0;
    const cbct_drunet_config *cfg = cbct_drunet_get_config(net);
    int64_t shape[4] = {s[0], s[1], s[2], s[3]};
    int64_t voxels = shape[0] * shape[1] * shape[2] * shape[3];
    cbct_array in = {0}, expected = {0};
    const float *x = read_npy(in_name, voxels * cfg->in_channels, &in);
    const float *y = read_npy(out_name, voxels * cfg->out_channels, &expected);
    if (x && y) {
        run_case(net, CBCT_NN_KERNEL_REFERENCE, x, y, shape, sigma, in_name);
        run_case(net, CBCT_NN_KERNEL_FAST, x, y, shape, sigma, in_name);
        *(cfg->dims == 2 ? n_2d : n_3d) += 1;
    }
    cbct_array_destroy(&in);
    cbct_array_destroy(&expected);
    cbct_drunet_destroy(net);
    return 1;
}

/* The peak model against the measured peak, batches 1, 2, 4, 2D and 3D,
 * sizes padded or not. */
static void check_peak_model(void)
{
    cbct_drunet_config cfg = {3, 1, 1, {4, 8, 8, 16}, 1};
    const int64_t sizes[][3] = {{12, 20, 16}, {32, 32, 32}, {1, 24, 40}, {1, 32, 32}};
    for (int k = 0; k < 4; k++) {
        cfg.dims = sizes[k][0] == 1 ? 2 : 3;
        cbct_drunet *net = NULL;
        CHECK_OK(cbct_drunet_create_random(&cfg, 11, &net));
        for (int64_t n = 1; n <= 4 && net; n *= 2) {
            int64_t numel = n * sizes[k][0] * sizes[k][1] * sizes[k][2];
            float *in = malloc((size_t)numel * sizeof *in), *out = malloc((size_t)numel * 4);
            unsigned long long state = 5;
            for (int64_t i = 0; i < numel; i++)
                in[i] = check_random(&state);
            size_t before = cbct_mem_current();
            cbct_mem_reset_peak();
            CHECK_OK(cbct_drunet_apply(net, in, n, sizes[k][0], sizes[k][1], sizes[k][2], 0.1f,
                                       out));
            size_t growth = cbct_mem_peak() - before;
            size_t model = cbct_drunet_peak_bytes(net, n, sizes[k][0], sizes[k][1], sizes[k][2]);
            printf("peak %dD n=%lld %lldx%lldx%lld: measured %zu, model %zu\n", cfg.dims,
                   (long long)n, (long long)sizes[k][0], (long long)sizes[k][1],
                   (long long)sizes[k][2], growth, model);
            CHECK_MSG(fabs((double)model - (double)growth) <= PEAK_TOLERANCE * (double)growth,
                      "model %zu vs measured %zu", model, growth);
            CHECK(cbct_mem_current() == before);
            free(in);
            free(out);
        }
        cbct_drunet_destroy(net);
    }
}

static int load_only(const char *path)
{
    cbct_drunet *net = NULL;
    if (cbct_drunet_load(path, &net) != CBCT_OK) {
        fprintf(stderr, "%s\n", cbct_last_error());
        return 1;
    }
    const cbct_drunet_config *c = cbct_drunet_get_config(net);
    printf("%s: %dD DRUNet, in %d, out %d, channels %lld/%lld/%lld/%lld, nb %d\n", path,
           c->dims, c->in_channels, c->out_channels, (long long)c->channels[0],
           (long long)c->channels[1], (long long)c->channels[2], (long long)c->channels[3],
           c->nb);
    cbct_drunet_destroy(net);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--load") == 0)
        return load_only(argv[2]);
    char path[1400];
    snprintf(path, sizeof path, "%s/cases.txt", data_dir());
    FILE *fp = fopen(path, "r");
    CHECK_MSG(fp != NULL, "cannot open %s", path);
    int n_cases = 0, n_2d = 0, n_3d = 0;
    char line[2048];
    while (fp && fgets(line, sizeof line, fp))
        n_cases += run_line(line, &n_2d, &n_3d);
    if (fp)
        fclose(fp);
    CHECK_MSG(n_2d >= 2 && n_3d >= 2, "%d 2D and %d 3D cases ran: expected at least 2 each",
              n_2d, n_3d);
    check_peak_model();
    return check_summary("test_nn_drunet_reference");
}
