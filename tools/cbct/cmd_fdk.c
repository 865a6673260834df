/* cbct fdk: FDK reconstruction, views read in batches, weighted and
 * filtered, then back-projected into the volume. */
#include <string.h>

#include "args.h"
#include "inputs.h"

static const cli_option options[] = {
    {"--geometry", 0, "FILE", 1, NULL, "geometry .json"},
    {"--projections", 0, "FILE", 1, NULL, "projections .npy (views x rows x cols, line integrals)"},
    {"--output", 'o', "FILE", 1, NULL, "output volume .npy (z x y x x, float32, 1/mm)"},
    {"--filter", 0, "NAME", 0, "ram-lak", "ramp filter window: ram-lak, shepp-logan, cosine, hann"},
    {"--cutoff", 0, "F", 0, "1", "filter cut-off as a fraction of Nyquist, in (0, 1]"},
    {"--short-scan", 0, "MODE", 0, "auto",
     "Parker weights: auto (when the scan covers less than a full turn), on, off"},
    {"--views-per-batch", 0, "N", 0, "views / 20, at least 16, fewer if --mem is tight",
     "views read, filtered and back-projected at once"},
    {NULL, 0, NULL, 0, NULL, NULL}};

static const cli_command command = {
    "fdk --geometry geom.json --projections proj.npy -o rec.npy [options]",
    "Reconstructs a volume with FDK: cosine weighting, ramp filtering along the\n"
    "detector rows, Parker weights for short scans, voxel-driven back-projection.\n"
    "Memory: the volume, the filter plan and one batch of views.",
    options, 0, 0};

/* Scratch of the FDK kernels besides the batch, kept free when sizing the
 * batch: the back-projector copies at least one view with a margin (about
 * one view), the filter holds per thread an FFT line of up to 4 x cols
 * floats with its spectrum and weights (under 64 bytes per column). */
static size_t fdk_scratch_bytes(const cbct_geometry *g)
{
    size_t view_bytes = (size_t)g->det_rows * (size_t)g->det_cols * sizeof(float);
    size_t filter_bytes = (size_t)cbct_threads() * 64 * (size_t)g->det_cols;
    return 2 * view_bytes + filter_bytes + ((size_t)64 << 10);
}

static const char *const short_scan_names[] = {"auto", "off", "on", NULL};

typedef struct fdk_run {
    cbct_geometry geom;
    cbct_array vol;
    cbct_fdk *fdk;
} fdk_run;

static cbct_status add_batch(int64_t view0, int64_t n_views, float *views, void *user)
{
    fdk_run *r = user;
    cbct_status s = cbct_fdk_filter_views(r->fdk, view0, n_views, views, views);
    if (s != CBCT_OK)
        return s;
    return cbct_fdk_backproject(r->fdk, view0, n_views, views, 0, r->vol.shape[0], r->vol.data,
                                1);
}

static cbct_status run(fdk_run *r, const cli_args *args, const cbct_fdk_opts *opts,
                       int64_t requested)
{
    const char *geom_path = cli_value(args, "--geometry");
    const char *proj_path = cli_value(args, "--projections");
    cbct_npy_header h;
    cbct_status s = cli_load_geometry(geom_path, &r->geom);
    if (s == CBCT_OK)
        s = cli_open_projections(proj_path, geom_path, &r->geom, &h);
    const int64_t *shape = r->geom.vol.shape;
    if (s == CBCT_OK)
        s = cbct_array_zeros(&r->vol, shape[0], shape[1], shape[2], "FDK volume");
    if (s == CBCT_OK)
        s = cbct_fdk_create(&r->geom, opts, &r->fdk);
    int64_t batch_views = 0;
    if (s == CBCT_OK)
        s = cli_views_per_batch(&r->geom, requested, fdk_scratch_bytes(&r->geom), &batch_views);
    if (s == CBCT_OK)
        s = cli_for_each_view_batch(proj_path, &h, batch_views, "fdk", add_batch, r);
    if (s != CBCT_OK)
        return s;
    for (int i = 0; i < 3; i++) {
        r->vol.spacing[i] = r->geom.vol.voxel_size[i];
        r->vol.origin[i] = r->geom.vol.origin[i];
    }
    const char *out_path = cli_value(args, "--output");
    s = cbct_npy_write(out_path, &r->vol);
    if (s == CBCT_OK) {
        char text[64];
        cbct_log(CBCT_LOG_INFO, "wrote %s: %s (z x y x x), filter %s", out_path,
                 cli_shape_text(shape, text, sizeof text), cbct_filter_name(opts->filter));
    }
    return s;
}

int cmd_fdk(cli_context *ctx, int argc, char **argv)
{
    cli_args args;
    int rc = cli_parse(ctx, &command, argc, argv, &args);
    if (rc != CLI_PARSED)
        return rc;
    cbct_fdk_opts opts = {.filter = CBCT_FILTER_RAM_LAK, .cutoff = 1.0,
                          .short_scan = CBCT_SHORT_SCAN_AUTO};
    int short_scan = 0;
    int64_t requested = 0;
    if (cli_filter(&args, "--filter", &opts.filter) ||
        cli_double(&args, "--cutoff", 1e-6, 1.0, &opts.cutoff) ||
        cli_choice(&args, "--short-scan", short_scan_names, &short_scan) ||
        cli_int(&args, "--views-per-batch", 1, INT64_MAX, &requested))
        return CLI_EXIT_USAGE;
    static const cbct_short_scan modes[] = {CBCT_SHORT_SCAN_AUTO, CBCT_SHORT_SCAN_OFF,
                                            CBCT_SHORT_SCAN_ON};
    opts.short_scan = modes[short_scan];
    fdk_run r;
    memset(&r, 0, sizeof r);
    cbct_status s = run(&r, &args, &opts, requested);
    if (r.fdk)
        cbct_fdk_destroy(r.fdk);
    cbct_array_destroy(&r.vol);
    cbct_geometry_destroy(&r.geom);
    if (s != CBCT_OK)
        return cli_runtime_error(ctx);
    cli_report_resources(ctx);
    return CLI_EXIT_OK;
}
