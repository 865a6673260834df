/* The chunked run shared by `project`, `backproject` and `fdk`: one input
 * file read chunk by chunk, one output .npy written chunk by chunk, and in
 * between the command's work on one block (a batch of views times a slab
 * of slices) at a time, so that the problem never has to fit the memory
 * budget whole.
 *
 * The loop order (inputs.h) also fixes the files:
 *   CLI_VIEWS_OUTER (forward projection): reads a volume, in slabs, once per
 *     batch of views; each batch is complete after its last slab and written.
 *   CLI_SLABS_OUTER (back-projection, FDK): reads projections, in batches,
 *     once per slab; each slab starts at zero, adds every batch in view
 *     order, is complete after the last batch and written.
 *
 * A command parses its own options, describes itself in a
 * cli_chunked_spec and hands over to cli_chunked_main. */
#ifndef CBCT_TOOL_CHUNKED_H
#define CBCT_TOOL_CHUNKED_H

#include "args.h"
#include "inputs.h"

typedef struct cli_chunked_run {
    cbct_geometry geom;
    const char *input_path;
    cli_input_header input;    /* the volume or the projections (any format) */
    cbct_projector *projector; /* the plan: a projector (project, backproject) */
    cbct_fdk *fdk;             /* or an FDK plan */
    cli_chunks chunks;
    float *slab;               /* the block's slices; the whole volume when chunks.n_slabs == 1 */
    float *batch;              /* the block's views */
    cbct_npy_writer writer;
    int writer_open;
} cli_chunked_run;

typedef struct cli_chunked_spec {
    cli_loop_order order;      /* the loops and the files, see above */
    const char *input_option;  /* "--volume" (CLI_VIEWS_OUTER) or "--projections" */
    const cbct_fdk_opts *fdk;  /* the plan: FDK with these options, or (NULL) the projector */
    const char *task;          /* progress name: "project" */
    const char *volume_name;   /* tracked-allocation names of the slab buffer */
    const char *slab_name;     /* (whole volume, or slab) and of the batch */
    const char *batch_name;
    const char *written_note;  /* the end of the last log line "wrote PATH: SHAPE NOTE" */
    /* CLI_SLABS_OUTER: what is repeated for each slab, for the log line
     * that says how the volume is split ("reading the projections"). */
    const char *per_slab_work;
    /* The work on one block, between run->slab and run->batch, which
     * already hold the block's input (the slab for CLI_VIEWS_OUTER, the
     * batch for CLI_SLABS_OUTER). */
    cbct_status (*compute)(cli_chunked_run *run, cbct_block block);
} cli_chunked_spec;

/* Everything after the command's own options are parsed: reads
 * --views-per-batch (CLI_EXIT_USAGE when bad), --geometry, the input and
 * --output; makes the plan, plans the chunks, runs, and frees everything
 * (an unfinished output is removed). Returns the exit code. */
int cli_chunked_main(cli_context *ctx, const cli_args *args, const cli_chunked_spec *spec);

#endif
