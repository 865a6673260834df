/* cbct backproject: the adjoint of `project` (A^T y), views read in
 * batches and accumulated into the volume; when the volume does not fit
 * the memory budget next to a batch, into one z-slab after the other (the
 * projections are then read once per slab). */
#include "chunked.h"

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

/* One batch of views added into a slab. */
static cbct_status backproject_block(cli_chunked_run *run, cbct_block block)
{
    return cbct_backproject_block(run->projector, block, run->batch, run->slab, 1);
}

int cmd_backproject(cli_context *ctx, int argc, char **argv)
{
    cli_args args;
    int rc = cli_parse(ctx, &command, argc, argv, &args);
    if (rc != CLI_PARSED)
        return rc;
    static const cli_chunked_spec spec = {
        .order = CLI_SLABS_OUTER, .input_option = "--projections", .task = "backproject",
        .volume_name = "back-projected volume", .slab_name = "back-projected slab",
        .batch_name = "batch of projection views", .written_note = "(z x y x x)",
        .per_slab_work = "reading the projections", .compute = backproject_block};
    return cli_chunked_main(ctx, &args, &spec);
}
