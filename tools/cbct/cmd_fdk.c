/* cbct fdk: FDK reconstruction, views read in batches, weighted and
 * filtered, then back-projected into the volume; when the volume does not
 * fit the memory budget next to a batch, into one z-slab after the other
 * (every slab reads and filters all views again). */
#include <stdio.h>

#include "chunked.h"

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
    "Memory: the volume, the filter plan and one batch of views. When that exceeds\n"
    "--mem, the volume is made in z-slabs (as large as --mem allows) and the views\n"
    "are read and filtered again for each slab; the result is the same.",
    options, 0, 0};

static const char *const short_scan_names[] = {"auto", "off", "on", NULL};

/* One batch of views weighted and filtered in place, then added into a
 * slab. */
static cbct_status reconstruct_block(cli_chunked_run *run, cbct_block block)
{
    cbct_status s = cbct_fdk_filter_views(run->fdk, block.view0, block.n_views, run->batch,
                                          run->batch);
    if (s == CBCT_OK)
        s = cbct_fdk_backproject(run->fdk, block.view0, block.n_views, run->batch, block.z0,
                                 block.nz, run->slab, 1);
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
    if (cli_filter(&args, "--filter", &opts.filter) ||
        cli_double(&args, "--cutoff", 1e-6, 1.0, &opts.cutoff) ||
        cli_choice(&args, "--short-scan", short_scan_names, &short_scan))
        return CLI_EXIT_USAGE;
    static const cbct_short_scan modes[] = {CBCT_SHORT_SCAN_AUTO, CBCT_SHORT_SCAN_OFF,
                                            CBCT_SHORT_SCAN_ON};
    opts.short_scan = modes[short_scan];
    char note[64];
    snprintf(note, sizeof note, "(z x y x x), filter %s", cbct_filter_name(opts.filter));
    cli_chunked_spec spec = {
        .order = CLI_SLABS_OUTER, .input_option = "--projections", .fdk = &opts, .task = "fdk",
        .volume_name = "FDK volume", .slab_name = "FDK slab",
        .batch_name = "batch of projection views", .written_note = note,
        .per_slab_work = "reading and filtering the views", .compute = reconstruct_block};
    /* Reads --views-per-batch, after the options above. */
    return cli_chunked_main(ctx, &args, &spec);
}
