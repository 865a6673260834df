/* cbct backproject: the adjoint of `project` (A^T y), views read in
 * batches and accumulated into the volume. */
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
    "volume plus one batch of views.",
    options, 0, 0};

typedef struct backproject_run {
    cbct_geometry geom;
    cbct_array vol;
    cbct_projector *projector;
} backproject_run;

static cbct_status add_batch(int64_t view0, int64_t n_views, float *views, void *user)
{
    backproject_run *r = user;
    cbct_block block = {.view0 = view0, .n_views = n_views, .z0 = 0, .nz = r->vol.shape[0]};
    return cbct_backproject_block(r->projector, block, views, r->vol.data, 1);
}

static cbct_status run(backproject_run *r, const cli_args *args, int64_t requested)
{
    const char *geom_path = cli_value(args, "--geometry");
    const char *proj_path = cli_value(args, "--projections");

    cbct_npy_header h;
    cbct_status s = cli_load_geometry(geom_path, &r->geom);
    if (s == CBCT_OK)
        s = cli_open_projections(proj_path, geom_path, &r->geom, &h);
    const int64_t *shape = r->geom.vol.shape;
    if (s == CBCT_OK)
        s = cbct_array_zeros(&r->vol, shape[0], shape[1], shape[2], "back-projected volume");
    cbct_projector_opts opts = {.kernel = CBCT_KERNEL_FAST};
    if (s == CBCT_OK)
        s = cbct_projector_create(&r->geom, &opts, &r->projector);
    int64_t batch_views = 0;
    if (s == CBCT_OK)
        s = cli_views_per_batch(&r->geom, requested, 0, &batch_views);
    if (s == CBCT_OK)
        s = cli_for_each_view_batch(proj_path, &h, batch_views, "backproject", add_batch, r);
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
    if (r.projector)
        cbct_projector_destroy(r.projector);
    cbct_array_destroy(&r.vol);
    cbct_geometry_destroy(&r.geom);
    if (s != CBCT_OK)
        return cli_runtime_error(ctx);
    cli_report_resources(ctx);
    return CLI_EXIT_OK;
}
