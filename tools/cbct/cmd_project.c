/* cbct project: forward projection, computed and written in batches of
 * views. When the volume does not fit the memory budget next to a batch,
 * it is read in z-slabs, once per batch: A is the sum of the slabs' parts. */
#include "chunked.h"

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

/* One slab's part of a batch of views: the first slab overwrites the
 * batch, the others add to it. */
static cbct_status project_block(cli_chunked_run *run, cbct_block block)
{
    return cbct_project_block(run->projector, block, run->slab, run->batch, block.z0 > 0);
}

int cmd_project(cli_context *ctx, int argc, char **argv)
{
    cli_args args;
    int rc = cli_parse(ctx, &command, argc, argv, &args);
    if (rc != CLI_PARSED)
        return rc;
    static const cli_chunked_spec spec = {
        .order = CLI_VIEWS_OUTER, .input_option = "--volume", .task = "project",
        .volume_name = "volume", .slab_name = "volume slab", .batch_name = "projection batch",
        .written_note = "(views x rows x cols)", .compute = project_block};
    return cli_chunked_main(ctx, &args, &spec);
}
