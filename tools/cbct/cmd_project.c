/* cbct project: forward projection, computed and written in batches of
 * views. When the volume does not fit the memory budget next to a batch,
 * it is read in z-slabs, once per batch: A is the sum of the slabs' parts. */
#include <string.h>

#include "args.h"
#include "inputs.h"

static const cli_option options[] = {
    {"--geometry", 0, "FILE", 1, NULL, "geometry .json (cbct geometry circular)"},
    {"--volume", 0, "FILE", 1, NULL, "volume .npy in 1/mm, shape = the geometry's volume"},
    {"--output", 'o', "FILE", 1, NULL, "output projections .npy (views x rows x cols, float32)"},
    {"--views-per-batch", 0, "N", 0, "views / 20, at least 16; what fits under --mem",
     "views computed and written at once"},
    {NULL, 0, NULL, 0, NULL, NULL}};

static const cli_command command = {
    "project --geometry geom.json --volume vol.npy -o proj.npy [options]",
    "Forward-projects a volume (ray-driven Joseph projector): line integrals of the\n"
    "attenuation along each ray, one image per view. Memory: the volume plus one\n"
    "batch of views. When that exceeds --mem, the volume is read in z-slabs, once\n"
    "per batch of views (batches as large as --mem allows); each line integral is\n"
    "then summed slab by slab, which changes float rounding only (differences\n"
    "below 1e-6 of the largest line integral).",
    options, 0, 0};

typedef struct project_run {
    cbct_geometry geom;
    cbct_projector *projector;
    cbct_npy_header vol_header;
    cli_chunks chunks;
    float *slab;  /* the whole volume when chunks.n_slabs == 1 */
    float *batch;
    cbct_npy_writer writer;
    int writer_open;
} project_run;

/* One batch of views: the sum of the parts of every slab (the volume is
 * read once, before the first batch, when it is a single slab). */
static cbct_status project_batch(project_run *r, const char *vol_path, int64_t view0, int64_t n)
{
    const cbct_geometry *g = &r->geom;
    int64_t nz = g->vol.shape[0], slab_slices = r->chunks.slices_per_slab;
    for (int64_t z0 = 0; z0 < nz; z0 += slab_slices) {
        int64_t slices = nz - z0 < slab_slices ? nz - z0 : slab_slices;
        cbct_status s = CBCT_OK;
        if (r->chunks.n_slabs > 1 || view0 == 0)
            s = cli_read_slices(vol_path, &r->vol_header, z0, slices, "z, y, x", r->slab);
        cbct_block block = {.view0 = view0, .n_views = n, .z0 = z0, .nz = slices};
        /* The first slab overwrites the batch, the others add to it. */
        if (s == CBCT_OK)
            s = cbct_project_block(r->projector, block, r->slab, r->batch, z0 > 0);
        if (s != CBCT_OK)
            return s;
        /* Done: the earlier batches and this batch's slabs so far. */
        cbct_progress("project", view0 * nz + (z0 + slices) * n, g->n_views * nz);
    }
    return CBCT_OK;
}

static cbct_status run(project_run *r, const cli_args *args, int64_t requested)
{
    const char *geom_path = cli_value(args, "--geometry");
    const char *vol_path = cli_value(args, "--volume");
    const char *out_path = cli_value(args, "--output");

    cbct_status s = cli_load_geometry(geom_path, &r->geom);
    if (s == CBCT_OK)
        s = cli_open_volume(vol_path, geom_path, &r->geom, &r->vol_header);
    cbct_projector_opts opts = {.kernel = CBCT_KERNEL_FAST};
    size_t before_plan = cbct_mem_current();
    if (s == CBCT_OK)
        s = cbct_projector_create(&r->geom, &opts, &r->projector);
    if (s == CBCT_OK) {
        char plan[32];
        cbct_log(CBCT_LOG_DEBUG, "projector plan: %s", cbct_format_size(cbct_mem_current() -
                 before_plan, plan, sizeof plan));
        s = cli_plan_chunks(&r->geom, CLI_VIEWS_OUTER, requested,
                            cli_read_scratch_bytes(&r->vol_header), &r->chunks);
    }
    if (s != CBCT_OK)
        return s;
    const cbct_geometry *g = &r->geom;
    const cli_chunks *c = &r->chunks;
    if (c->n_slabs > 1)
        cbct_log(CBCT_LOG_INFO, "the volume does not fit the memory budget: reading it in %lld "
                 "z-slabs of up to %lld slices, %lld time%s (once per batch of %lld views)",
                 (long long)c->n_slabs, (long long)c->slices_per_slab, (long long)c->n_batches,
                 c->n_batches == 1 ? "" : "s", (long long)c->views_per_batch);
    size_t slice_floats = (size_t)g->vol.shape[1] * (size_t)g->vol.shape[2];
    size_t view_floats = (size_t)g->det_rows * (size_t)g->det_cols;
    r->slab = cbct_alloc((size_t)c->slices_per_slab * slice_floats * sizeof(float),
                         c->n_slabs > 1 ? "volume slab" : "volume");
    r->batch = r->slab ? cbct_alloc((size_t)c->views_per_batch * view_floats * sizeof(float),
                                    "projection batch") : NULL;
    if (!r->batch)
        return CBCT_ERR_MEMORY;
    int64_t shape[3] = {g->n_views, g->det_rows, g->det_cols};
    s = cbct_npy_writer_open(out_path, shape, &r->writer);
    if (s != CBCT_OK)
        return s;
    r->writer_open = 1;
    for (int64_t view0 = 0; view0 < g->n_views; view0 += c->views_per_batch) {
        int64_t n = g->n_views - view0 < c->views_per_batch ? g->n_views - view0
                                                            : c->views_per_batch;
        s = project_batch(r, vol_path, view0, n);
        if (s == CBCT_OK)
            s = cbct_npy_writer_write(&r->writer, r->batch, n);
        if (s != CBCT_OK)
            return s;
    }
    s = cbct_npy_writer_commit(&r->writer);
    r->writer_open = 0;
    if (s == CBCT_OK) {
        char text[64];
        cbct_log(CBCT_LOG_INFO, "wrote %s: %s (views x rows x cols)", out_path,
                 cli_shape_text(shape, text, sizeof text));
    }
    return s;
}

int cmd_project(cli_context *ctx, int argc, char **argv)
{
    cli_args args;
    int rc = cli_parse(ctx, &command, argc, argv, &args);
    if (rc != CLI_PARSED)
        return rc;
    int64_t requested = 0;
    if (cli_int(&args, "--views-per-batch", 1, INT64_MAX, &requested))
        return CLI_EXIT_USAGE;
    project_run r;
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
