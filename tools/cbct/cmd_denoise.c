/* cbct denoise: a volume denoised by a DRUNet patch by patch, as in the
 * reference experiment (patch, overlap added on each side, max batch per
 * network call), reporting the time and the peak memory. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "args.h"
#include "cbct/denoiser.h"
#include "inputs.h"

/* The reference experiment's tiling (tomography_3d.yml). */
static const int64_t default_patch[3] = {8, 256, 256};
static const int64_t default_overlap[3] = {2, 16, 16};

static const cli_option options[] = {
    {"--model", 0, "FILE", 0, NULL, "DRUNet weights .safetensors"},
    {"--random-model", 0, "C0,C1,C2,C3[,NB]", 0, NULL,
     "instead of --model: a 3D DRUNet with random weights, channels per scale and residual "
     "blocks per scale (default 4), for benchmarks"},
    {"--seed", 0, "N", 0, "1", "seed of --random-model's weights"},
    {"--sigma", 0, "S", 0, "0.03", "noise level of the volume (its values' units, >= 0)"},
    {"--patch", 0, "Z,Y,X", 0, "8,256,256 (2D model: 1,256,256)",
     "patch size in voxels (one number: all axes); thinner volumes use their size"},
    {"--overlap", 0, "Z,Y,X", 0, "2,16,16 (2D model: 0,16,16)",
     "voxels added on each side of a patch, cropped after"},
    {"--max-batch", 0, "N|auto", 0, "auto",
     "patches per network call; auto: the largest that fits --mem (or the machine's memory)"},
    {"--blend", 0, NULL, 0, NULL,
     "blend the overlaps linearly instead of writing the centres only (the reference)"},
    {"--input", 'i', "FILE", 1, NULL, "noisy volume .npy (z x y x x)"},
    {"--output", 'o', "FILE", 1, NULL, "denoised volume .npy (float32)"},
    {NULL, 0, NULL, 0, NULL, NULL}};

static const cli_command command = {
    "denoise --model net.safetensors -i noisy.npy -o out.npy [options]",
    "Denoises a volume with a DRUNet: the volume is cut into patches, each extended\n"
    "by the overlap on every side (mirrored beyond the volume) and denoised, at most\n"
    "--max-batch windows per network call, and the centres are written back (or the\n"
    "overlaps blended). Prints the time and the peak memory (tracked and RSS).",
    options, 0, 0};

/* --random-model "C0,C1,C2,C3[,NB]" into a 3D configuration. */
static int parse_random_model(const cli_args *args, cbct_drunet_config *config)
{
    const char *text = cli_value(args, "--random-model");
    int64_t v[5] = {0, 0, 0, 0, 4};
    int n = 0;
    char buf[128];
    if (strlen(text) < sizeof buf) {
        snprintf(buf, sizeof buf, "%s", text);
        for (char *piece = buf, *comma; piece && n < 6; piece = comma ? comma + 1 : NULL) {
            comma = strchr(piece, ',');
            if (comma)
                *comma = '\0';
            if (n == 5 || cli_parse_int(piece, &v[n]) || v[n] < 1 || v[n] > 4096) {
                n = -1;
                break;
            }
            n++;
        }
    }
    if (n != 4 && n != 5)
        return cli_usage_error(args->ctx, "option --random-model: '%s' is not valid: expected "
                               "4 channel counts and optionally the blocks per scale, integers "
                               "in [1, 4096], e.g. 8,16,32,64,1", text);
    memset(config, 0, sizeof *config);
    config->dims = 3;
    config->in_channels = 1;
    config->out_channels = 1;
    for (int i = 0; i < 4; i++)
        config->channels[i] = v[i];
    config->nb = (int)v[4];
    return 0;
}

static cbct_status load_network(const cli_args *args, const cbct_drunet_config *random_config,
                                int64_t seed, cbct_drunet **net)
{
    const char *path = cli_value(args, "--model");
    if (path)
        return cli_name_file(cbct_drunet_load(path, net), path);
    return cbct_drunet_create_random(random_config, (uint64_t)seed, net);
}

static cbct_status load_volume(const char *path, cbct_array *vol)
{
    cbct_status s = cbct_volume_read(path, vol); /* any volume format */
    if (s == CBCT_OK)
        s = cli_check_finite(vol->data, vol->shape, 0, path, "z, y, x");
    return cli_name_file(s, path);
}

/* The patch the library uses (a volume thinner than the patch is one patch
 * along that axis) and the number of patches, for the report. */
static int64_t patch_used(const int64_t shape[3], const int64_t patch[3], int64_t used[3])
{
    int64_t n = 1;
    for (int a = 0; a < 3; a++) {
        used[a] = patch[a] < shape[a] ? patch[a] : shape[a];
        n *= (shape[a] + used[a] - 1) / used[a];
    }
    return n;
}

typedef struct denoise_options {
    cbct_tiling tiling;
    int patch_given, overlap_given;
    float sigma;
} denoise_options;

static cbct_status run(const cli_args *args, denoise_options *o,
                       const cbct_drunet_config *random_config, int64_t seed)
{
    const char *in_path = cli_value(args, "--input"), *out_path = cli_value(args, "--output");
    cbct_drunet *net = NULL;
    cbct_array vol, out;
    memset(&vol, 0, sizeof vol);
    memset(&out, 0, sizeof out);
    cbct_status s = load_network(args, random_config, seed, &net);
    if (s == CBCT_OK && cbct_drunet_get_config(net)->dims == 2) {
        /* A 2D network denoises slice by slice. */
        if (!o->patch_given)
            o->tiling.patch[0] = 1;
        if (!o->overlap_given)
            o->tiling.overlap[0] = 0;
    }
    if (s == CBCT_OK)
        s = load_volume(in_path, &vol);
    double seconds = 0.0;
    if (s == CBCT_OK) {
        cbct_mem_reset_peak();
        double t0 = cbct_seconds();
        s = cbct_denoise_volume(net, &vol, o->sigma, &o->tiling, &out);
        seconds = cbct_seconds() - t0;
        if (s == CBCT_OK) {
            char shape[64], batch[64], peak[32], rss[32];
            int64_t p[3];
            int64_t n_patches = patch_used(vol.shape, o->tiling.patch, p);
            const int64_t *ov = o->tiling.overlap;
            if (o->tiling.max_batch)
                snprintf(batch, sizeof batch, "at most %lld per call",
                         (long long)o->tiling.max_batch);
            else
                snprintf(batch, sizeof batch, "as many per call as fit (--verbose shows it)");
            cbct_log(CBCT_LOG_INFO, "denoised %s voxels in %.3f s: %lld patches of %lld x %lld x "
                     "%lld, overlap %lld x %lld x %lld, %s%s; peak memory %s tracked while "
                     "denoising, %s RSS", cli_shape_text(vol.shape, shape, sizeof shape), seconds,
                     (long long)n_patches, (long long)p[0], (long long)p[1],
                     (long long)p[2], (long long)ov[0], (long long)ov[1], (long long)ov[2], batch,
                     o->tiling.blend ? ", overlaps blended" : "",
                     cbct_format_size(cbct_mem_peak(), peak, sizeof peak),
                     cbct_format_size(cbct_rss_peak_bytes(), rss, sizeof rss));
        }
    }
    if (s == CBCT_OK)
        s = cbct_npy_write(out_path, &out);
    if (s == CBCT_OK)
        cbct_log(CBCT_LOG_INFO, "wrote %s", out_path);
    cbct_array_destroy(&out);
    cbct_array_destroy(&vol);
    cbct_drunet_destroy(net);
    return s;
}

int cmd_denoise(cli_context *ctx, int argc, char **argv)
{
    cli_args args;
    int rc = cli_parse(ctx, &command, argc, argv, &args);
    if (rc != CLI_PARSED)
        return rc;
    denoise_options o;
    memset(&o, 0, sizeof o);
    memcpy(o.tiling.patch, default_patch, sizeof default_patch);
    memcpy(o.tiling.overlap, default_overlap, sizeof default_overlap);
    o.tiling.blend = cli_flag(&args, "--blend");
    o.patch_given = cli_value(&args, "--patch") != NULL;
    o.overlap_given = cli_value(&args, "--overlap") != NULL;
    double sigma = 0.03;
    int64_t seed = 1;
    if (cli_double(&args, "--sigma", 0.0, INFINITY, &sigma) ||
        cli_ints(&args, "--patch", 3, 1, INT64_MAX, o.tiling.patch) ||
        cli_ints(&args, "--overlap", 3, 0, (int64_t)1 << 31, o.tiling.overlap) ||
        cli_int(&args, "--seed", 0, INT64_MAX, &seed))
        return CLI_EXIT_USAGE;
    o.sigma = (float)sigma;
    const char *max_batch = cli_value(&args, "--max-batch");
    if (max_batch && strcmp(max_batch, "auto") != 0 &&
        (cli_parse_int(max_batch, &o.tiling.max_batch) || o.tiling.max_batch < 1))
        return cli_usage_error(ctx, "option --max-batch: '%s' is not valid: expected auto or an "
                               "integer >= 1", max_batch);
    int has_model = cli_value(&args, "--model") != NULL;
    int has_random = cli_value(&args, "--random-model") != NULL;
    if (has_model == has_random)
        return cli_usage_error(ctx, "give either --model FILE or --random-model C0,C1,C2,C3 "
                               "(%s)", has_model ? "not both" : "neither was given");
    cbct_drunet_config random_config;
    memset(&random_config, 0, sizeof random_config);
    if (has_random && parse_random_model(&args, &random_config))
        return CLI_EXIT_USAGE;
    if (run(&args, &o, &random_config, seed) != CBCT_OK)
        return cli_runtime_error(ctx);
    cli_report_resources(ctx);
    return CLI_EXIT_OK;
}
