/* cbct backproject: the adjoint of `project` (A^T y), views read in
 * batches and accumulated into the volume; when the volume does not fit
 * the memory budget next to a batch, into one z-slab after the other (the
 * projections are then read once per slab). */
#include <string.h>

#include "args.h"
#include "inputs.h"

static const cli_option options[] = {
    {"--geometry", 0, "FILE", 1, NULL, "geometry .json"},
    {"--projections", 0, "FILE", 1, NULL, "projections .npy (views x rows x cols)"},
    {"--output", 'o', "FILE", 1, NULL, "output volume .npy (z x y x x, float32)"},
    {"--views-per-batch", 0, "N", 0, "views / 20, at least 16, fewer if --mem is tight",
     "views read and back-projected at once"},
    {NULL, 0, NULL, 0, NULL, NULL}};

static const cli_command command = {
    "backproject --geometry geom.json --projections proj.npy -o vol.npy [options]",
    "Back-projects projections with the exact adjoint of 'cbct project' (A^T y, an\n"
    "unfiltered, unweighted sum: not a reconstruction, see 'cbct fdk'). Memory: the\n"
    "volume plus one batch of views. When that exceeds --mem, the volume is made in\n"
    "z-slabs (as large as --mem allows), the projections read once per slab; every\n"
    "voxel sums the same terms in the same order, so the result is the same.",
    options, 0, 0};

typedef struct backproject_run {
    cbct_geometry geom;
    cbct_projector *projector;
    cli_chunks chunks;
    float *slab;  /* the whole volume when chunks.n_slabs == 1 */
    float *batch;
    cbct_npy_writer writer;
    int writer_open;
} backproject_run;

/* Slices [z0, z0 + slices) of A^T y: every batch of views added in view
 * order. */
static cbct_status backproject_slab(backproject_run *r, const char *proj_path,
                                    const cbct_npy_header *h, int64_t slab_index, int64_t z0,
                                    int64_t slices)
{
    const cbct_geometry *g = &r->geom;
    int64_t n_views = g->n_views, batch_views = r->chunks.views_per_batch;
    memset(r->slab, 0, (size_t)slices * (size_t)g->vol.shape[1] * (size_t)g->vol.shape[2] *
                           sizeof(float));
    for (int64_t view0 = 0; view0 < n_views; view0 += batch_views) {
        int64_t n = n_views - view0 < batch_views ? n_views - view0 : batch_views;
        cbct_status s = cli_read_views(proj_path, h, view0, n, r->batch);
        cbct_block block = {.view0 = view0, .n_views = n, .z0 = z0, .nz = slices};
        if (s == CBCT_OK)
            s = cbct_backproject_block(r->projector, block, r->batch, r->slab, 1);
        if (s != CBCT_OK)
            return s;
        cbct_progress("backproject", slab_index * n_views + view0 + n,
                      r->chunks.n_slabs * n_views);
    }
    return CBCT_OK;
}

static cbct_status run(backproject_run *r, const cli_args *args, int64_t requested)
{
    const char *geom_path = cli_value(args, "--geometry");
    const char *proj_path = cli_value(args, "--projections");
    const char *out_path = cli_value(args, "--output");

    cbct_npy_header h;
    cbct_status s = cli_load_geometry(geom_path, &r->geom);
    if (s == CBCT_OK)
        s = cli_open_projections(proj_path, geom_path, &r->geom, &h);
    cbct_projector_opts opts = {.kernel = CBCT_KERNEL_FAST};
    size_t before_plan = cbct_mem_current();
    if (s == CBCT_OK)
        s = cbct_projector_create(&r->geom, &opts, &r->projector);
    if (s == CBCT_OK) {
        char plan[32];
        cbct_log(CBCT_LOG_DEBUG, "projector plan: %s", cbct_format_size(cbct_mem_current() -
                 before_plan, plan, sizeof plan));
        s = cli_plan_chunks(&r->geom, CLI_SLABS_OUTER, requested, cli_read_scratch_bytes(&h),
                            &r->chunks);
    }
    if (s != CBCT_OK)
        return s;
    const cbct_geometry *g = &r->geom;
    const cli_chunks *c = &r->chunks;
    if (c->n_slabs > 1)
        cbct_log(CBCT_LOG_INFO, "the volume does not fit the memory budget: making it in %lld "
                 "z-slabs of up to %lld slices, reading the projections %lld times (in batches "
                 "of %lld views)", (long long)c->n_slabs, (long long)c->slices_per_slab,
                 (long long)c->n_slabs, (long long)c->views_per_batch);
    size_t slice_floats = (size_t)g->vol.shape[1] * (size_t)g->vol.shape[2];
    size_t view_floats = (size_t)g->det_rows * (size_t)g->det_cols;
    r->slab = cbct_alloc((size_t)c->slices_per_slab * slice_floats * sizeof(float),
                         c->n_slabs > 1 ? "back-projected slab" : "back-projected volume");
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
        s = backproject_slab(r, proj_path, &h, slab, z0, slices);
        if (s == CBCT_OK)
            s = cbct_npy_writer_write(&r->writer, r->slab, slices);
        if (s != CBCT_OK)
            return s;
    }
    s = cbct_npy_writer_commit(&r->writer);
    r->writer_open = 0;
    if (s == CBCT_OK) {
        char text[64];
        cbct_log(CBCT_LOG_INFO, "wrote %s: %s (z x y x x)", out_path,
                 cli_shape_text(shape, text, sizeof text));
    }
    return s;
}

int cmd_backproject(cli_context *ctx, int argc, char **argv)
{
    cli_args args;
    int rc = cli_parse(ctx, &command, argc, argv, &args);
    if (rc != CLI_PARSED)
        return rc;
    int64_t requested = 0;
    if (cli_int(&args, "--views-per-batch", 1, INT64_MAX, &requested))
        return CLI_EXIT_USAGE;
    backproject_run r;
    memset(&r, 0, sizeof r);
    cbct_status s = run(&r, &args, requested);
    if (r.writer_open)
        cbct_npy_writer_abort(&r.writer);
    cbct_free(r.batch);
    cbct_free(r.slab);
    if (r.projector)
        cbct_projector_destroy(r.projector);
    cbct_geometry_destroy(&r.geom);
    if (s != CBCT_OK)
        return cli_runtime_error(ctx);
    cli_report_resources(ctx);
    return CLI_EXIT_OK;
}
