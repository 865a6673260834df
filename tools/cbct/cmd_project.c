/* cbct project: forward projection, computed and written in batches of
 * views, so that memory holds the volume and one batch only. */
#include <string.h>

#include "args.h"
#include "inputs.h"

static const cli_option options[] = {
    {"--geometry", 0, "FILE", 1, NULL, "geometry .json (cbct geometry circular)"},
    {"--volume", 0, "FILE", 1, NULL, "volume .npy in 1/mm, shape = the geometry's volume"},
    {"--output", 'o', "FILE", 1, NULL, "output projections .npy (views x rows x cols, float32)"},
    {"--views-per-batch", 0, "N", 0, "views / 20, at least 16, fewer if --mem is tight",
     "views computed and written at once"},
    {NULL, 0, NULL, 0, NULL, NULL}};

static const cli_command command = {
    "project --geometry geom.json --volume vol.npy -o proj.npy [options]",
    "Forward-projects a volume (ray-driven Joseph projector): line integrals of the\n"
    "attenuation along each ray, one image per view. Memory: the volume plus one\n"
    "batch of views.",
    options, 0, 0};

typedef struct project_run {
    cbct_geometry geom;
    cbct_array vol;
    cbct_projector *projector;
    float *batch;
    cbct_npy_writer writer;
    int writer_open;
} project_run;

static cbct_status run(project_run *r, const cli_args *args, int64_t requested)
{
    const char *geom_path = cli_value(args, "--geometry");
    const char *vol_path = cli_value(args, "--volume");
    const char *out_path = cli_value(args, "--output");

    cbct_status s = cli_load_geometry(geom_path, &r->geom);
    if (s == CBCT_OK)
        s = cli_load_volume_for(vol_path, geom_path, &r->geom, &r->vol);
    cbct_projector_opts opts = {.kernel = CBCT_KERNEL_FAST};
    if (s == CBCT_OK)
        s = cbct_projector_create(&r->geom, &opts, &r->projector);
    int64_t batch_views = 0;
    if (s == CBCT_OK)
        s = cli_views_per_batch(&r->geom, requested, 0, &batch_views);
    if (s != CBCT_OK)
        return s;
    const cbct_geometry *g = &r->geom;
    size_t view_floats = (size_t)g->det_rows * (size_t)g->det_cols;
    r->batch = cbct_alloc((size_t)batch_views * view_floats * sizeof(float), "projection batch");
    if (!r->batch)
        return CBCT_ERR_MEMORY;
    int64_t shape[3] = {g->n_views, g->det_rows, g->det_cols};
    s = cbct_npy_writer_open(out_path, shape, &r->writer);
    if (s != CBCT_OK)
        return s;
    r->writer_open = 1;
    for (int64_t view0 = 0; view0 < g->n_views; view0 += batch_views) {
        int64_t n = g->n_views - view0 < batch_views ? g->n_views - view0 : batch_views;
        cbct_block block = {.view0 = view0, .n_views = n, .z0 = 0, .nz = g->vol.shape[0]};
        s = cbct_project_block(r->projector, block, r->vol.data, r->batch, 0);
        if (s == CBCT_OK)
            s = cbct_npy_writer_write(&r->writer, r->batch, n);
        if (s != CBCT_OK)
            return s;
        cbct_progress("project", view0 + n, g->n_views);
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
    if (r.projector)
        cbct_projector_destroy(r.projector);
    cbct_array_destroy(&r.vol);
    cbct_geometry_destroy(&r.geom);
    if (s != CBCT_OK)
        return cli_runtime_error(ctx);
    cli_report_resources(ctx);
    return CLI_EXIT_OK;
}
