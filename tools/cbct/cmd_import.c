/* cbct import walnut: one orbit of the Walnut dataset as files every other
 * command reads: DIR/proj.npy (line integrals, view x row x column) and
 * DIR/geom.json (the per-view cone_vec geometry with the reference volume),
 * and DIR/truth.npy with --truth when the dataset has its reference
 * reconstruction. */
#include <stdio.h>
#include <string.h>

#include "args.h"
#include "inputs.h"

static const cli_option walnut_options[] = {
    {"--orbit", 0, "N", 0, "2", "source height: 1 (highest), 2 (middle, the reference), 3"},
    {"--views", 0, "N", 0, "all 1200", "projections taken, evenly spaced over the orbit"},
    {"--volume-shape", 0, "NZ,NY,NX", 0, "501", "reconstruction volume in voxels (one "
     "number: a cube)"},
    {"--voxel-size", 0, "MM", 0, "0.1", "voxel size in mm (cubic voxels)"},
    {"--truth", 0, NULL, 0, NULL, "also write truth.npy from Reconstructions/full_AGD_50_*"},
    {"--output", 'o', "DIR", 1, NULL, "folder for proj.npy, geom.json (created)"},
    {NULL, 0, NULL, 0, NULL, NULL}};

static const cli_command walnut_command = {
    "import walnut PATH/WalnutN [--orbit 2] [--views 50] -o DIR",
    "Reads one orbit of a walnut of the Walnut cone-beam dataset (Der Sarkissian\n"
    "et al., 2019) as the dataset's reference scripts do: geometry from\n"
    "Projections/tubeV<orbit>/scan_geom_corrected.geom, images in reverse order,\n"
    "flipped up-down and transposed, dark and averaged flat fields, line\n"
    "integrals -log((P - D) / (F - D)) (non-positive ratios clamped and\n"
    "counted). Writes DIR/proj.npy and DIR/geom.json (volume 501^3 of 0.1 mm\n"
    "centred on the origin unless --volume-shape / --voxel-size say otherwise).\n"
    "See docs/walnut.md.",
    walnut_options, 1, 1};

static cbct_status write_outputs(const char *dir, const cbct_geometry *g, const cbct_array *proj,
                                 const cbct_array *truth)
{
    char path[4200];
    cbct_status s = cli_make_folder(dir);
    if (!s) {
        snprintf(path, sizeof path, "%s/proj.npy", dir);
        s = cbct_npy_write(path, proj);
    }
    if (!s) {
        snprintf(path, sizeof path, "%s/geom.json", dir);
        s = cbct_geometry_write_json(path, g);
    }
    if (!s && truth && truth->data) {
        snprintf(path, sizeof path, "%s/truth.npy", dir);
        s = cbct_npy_write(path, truth);
    }
    return s;
}

static int run_walnut(cli_context *ctx, int argc, char **argv)
{
    cli_args args;
    int rc = cli_parse(ctx, &walnut_command, argc, argv, &args);
    if (rc != CLI_PARSED)
        return rc;
    int64_t orbit = 2, views = 0, shape[3] = {CBCT_WALNUT_VOLUME_VOXELS,
                                              CBCT_WALNUT_VOLUME_VOXELS,
                                              CBCT_WALNUT_VOLUME_VOXELS};
    double voxel = CBCT_WALNUT_VOXEL_MM;
    if (cli_int(&args, "--orbit", 1, 3, &orbit) || cli_int(&args, "--views", 1, INT32_MAX, &views) ||
        cli_ints(&args, "--volume-shape", 3, 1, INT32_MAX, shape) ||
        cli_double(&args, "--voxel-size", 1e-9, 1e9, &voxel))
        return CLI_EXIT_USAGE;
    int want_truth = cli_flag(&args, "--truth");
    cbct_walnut_options o = {.path = args.positional[0], .orbit = (int)orbit,
                             .num_projections = views,
                             .volume_shape = {shape[0], shape[1], shape[2]},
                             .voxel_size_mm = voxel, .load_truth = want_truth};
    cbct_geometry g;
    cbct_array proj, truth;
    cbct_walnut_report r;
    cbct_status s = cbct_walnut_load(&o, &g, &proj, &truth, &r);
    if (s != CBCT_OK)
        return cli_runtime_error(ctx);
    const char *dir = cli_value(&args, "--output");
    s = write_outputs(dir, &g, &proj, &truth);
    if (s == CBCT_OK) {
        char text[64];
        cbct_log(CBCT_LOG_INFO, "wrote %s/proj.npy (%s line integrals, %lld of %lld views of "
                 "orbit %lld; images %lld x %lld flipped and transposed), %s/geom.json%s%s",
                 dir, cli_shape_text(proj.shape, text, sizeof text), (long long)g.n_views,
                 (long long)r.views_available, (long long)orbit, (long long)r.image_rows,
                 (long long)r.image_cols, dir, truth.data ? ", truth.npy" : "",
                 want_truth && !truth.data ? " (no reference reconstruction of the volume's "
                                             "shape: no truth.npy)" : "");
        if (r.clamped > 0)
            cbct_log(CBCT_LOG_WARN, "%lld pixels clamped (non-positive (P - D) / (F - D))",
                     (long long)r.clamped);
    }
    cbct_geometry_destroy(&g);
    cbct_array_destroy(&proj);
    cbct_array_destroy(&truth);
    if (s != CBCT_OK)
        return cli_runtime_error(ctx);
    cli_report_resources(ctx);
    return CLI_EXIT_OK;
}

int cmd_import(cli_context *ctx, int argc, char **argv)
{
    const char *sub = argc > 1 ? argv[1] : "";
    if (strcmp(sub, "walnut") == 0) {
        snprintf(ctx->command, sizeof ctx->command, "import walnut");
        return run_walnut(ctx, argc - 1, argv + 1);
    }
    if (strcmp(sub, "-h") == 0 || strcmp(sub, "--help") == 0) {
        printf("Usage: cbct import walnut PATH/WalnutN [--orbit 2] [--views 50] -o DIR\n\n"
               "'cbct import walnut --help' lists the options.\n");
        return CLI_EXIT_OK;
    }
    if (!*sub)
        return cli_usage_error(ctx, "missing dataset kind: expected 'walnut'");
    return cli_usage_error(ctx, "unknown dataset kind '%s': expected 'walnut'", sub);
}
