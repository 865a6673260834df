/* cbct fdk: FDK reconstruction, views read in batches, weighted and
 * filtered, then back-projected into the volume; when the volume does not
 * fit the memory budget next to a batch, into one z-slab after the other
 * (every slab reads and filters all views again). */
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
    "Memory: the volume, the filter plan and one batch of views. When that exceeds\n"
    "--mem, the volume is made in z-slabs (as large as --mem allows) and the views\n"
    "are read and filtered again for each slab; the result is the same.",
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
    cbct_fdk *fdk;
    cli_chunks chunks;
    float *slab;  /* the whole volume when chunks.n_slabs == 1 */
    float *batch; /* filtered in place */
    cbct_npy_writer writer;
    int writer_open;
} fdk_run;

/* Slices [z0, z0 + slices): every batch of views read, filtered and added
 * in view order. */
static cbct_status reconstruct_slab(fdk_run *r, const char *proj_path, const cbct_npy_header *h,
                                    int64_t slab_index, int64_t z0, int64_t slices)
{
    const cbct_geometry *g = &r->geom;
    int64_t n_views = g->n_views, batch_views = r->chunks.views_per_batch;
    memset(r->slab, 0, (size_t)slices * (size_t)g->vol.shape[1] * (size_t)g->vol.shape[2] *
                           sizeof(float));
    for (int64_t view0 = 0; view0 < n_views; view0 += batch_views) {
        int64_t n = n_views - view0 < batch_views ? n_views - view0 : batch_views;
        cbct_status s = cli_read_views(proj_path, h, view0, n, r->batch);
        if (s == CBCT_OK)
            s = cbct_fdk_filter_views(r->fdk, view0, n, r->batch, r->batch);
        if (s == CBCT_OK)
            s = cbct_fdk_backproject(r->fdk, view0, n, r->batch, z0, slices, r->slab, 1);
        if (s != CBCT_OK)
            return s;
        cbct_progress("fdk", slab_index * n_views + view0 + n, r->chunks.n_slabs * n_views);
    }
    return CBCT_OK;
}

static cbct_status run(fdk_run *r, const cli_args *args, const cbct_fdk_opts *opts,
                       int64_t requested)
{
    const char *geom_path = cli_value(args, "--geometry");
    const char *proj_path = cli_value(args, "--projections");
    const char *out_path = cli_value(args, "--output");
    cbct_npy_header h;
    cbct_status s = cli_load_geometry(geom_path, &r->geom);
    if (s == CBCT_OK)
        s = cli_open_projections(proj_path, geom_path, &r->geom, &h);
    size_t before_plan = cbct_mem_current();
    if (s == CBCT_OK)
        s = cbct_fdk_create(&r->geom, opts, &r->fdk);
    if (s == CBCT_OK) {
        char plan[32];
        cbct_log(CBCT_LOG_DEBUG, "FDK plan: %s", cbct_format_size(cbct_mem_current() -
                 before_plan, plan, sizeof plan));
        s = cli_plan_chunks(&r->geom, CLI_SLABS_OUTER, requested,
                            fdk_scratch_bytes(&r->geom) + cli_read_scratch_bytes(&h), &r->chunks);
    }
    if (s != CBCT_OK)
        return s;
    const cbct_geometry *g = &r->geom;
    const cli_chunks *c = &r->chunks;
    if (c->n_slabs > 1)
        cbct_log(CBCT_LOG_INFO, "the volume does not fit the memory budget: making it in %lld "
                 "z-slabs of up to %lld slices, reading and filtering the views %lld times (in "
                 "batches of %lld views)", (long long)c->n_slabs, (long long)c->slices_per_slab,
                 (long long)c->n_slabs, (long long)c->views_per_batch);
    size_t slice_floats = (size_t)g->vol.shape[1] * (size_t)g->vol.shape[2];
    size_t view_floats = (size_t)g->det_rows * (size_t)g->det_cols;
    r->slab = cbct_alloc((size_t)c->slices_per_slab * slice_floats * sizeof(float),
                         c->n_slabs > 1 ? "FDK slab" : "FDK volume");
    r->batch = r->slab ? cbct_alloc((size_t)c->views_per_batch * view_floats * sizeof(float),
                                    "batch of projection views") : NULL;
    if (!r->batch)
        return CBCT_ERR_MEMORY;
    const int64_t *shape = g->vol.shape;
    s = cbct_npy_writer_open(out_path, shape, &r->writer);
    if (s != CBCT_OK)
        return s;
    r->writer_open = 1;
    for (int64_t z0 = 0, slab = 0; z0 < shape[0]; z0 += c->slices_per_slab, slab++) {
        int64_t slices = shape[0] - z0 < c->slices_per_slab ? shape[0] - z0 : c->slices_per_slab;
        s = reconstruct_slab(r, proj_path, &h, slab, z0, slices);
        if (s == CBCT_OK)
            s = cbct_npy_writer_write(&r->writer, r->slab, slices);
        if (s != CBCT_OK)
            return s;
    }
    s = cbct_npy_writer_commit(&r->writer);
    r->writer_open = 0;
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
    if (r.writer_open)
        cbct_npy_writer_abort(&r.writer);
    cbct_free(r.batch);
    cbct_free(r.slab);
    if (r.fdk)
        cbct_fdk_destroy(r.fdk);
    cbct_geometry_destroy(&r.geom);
    if (s != CBCT_OK)
        return cli_runtime_error(ctx);
    cli_report_resources(ctx);
    return CLI_EXIT_OK;
}
