/* The chunked run of project, backproject and fdk: see chunked.h. */
#include <string.h>

#include "chunked.h"

static int64_t min_i64(int64_t a, int64_t b)
{
    return a < b ? a : b;
}

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

/* The geometry and the input file's header (its shape checked against the
 * geometry). */
static cbct_status open_input(cli_chunked_run *run, const cli_args *args,
                              const cli_chunked_spec *spec)
{
    const char *geom_path = cli_value(args, "--geometry");
    run->input_path = cli_value(args, spec->input_option);
    cbct_status s = cli_load_geometry(geom_path, &run->geom);
    if (s != CBCT_OK)
        return s;
    if (spec->order == CLI_VIEWS_OUTER)
        return cli_open_volume(run->input_path, geom_path, &run->geom, &run->input);
    return cli_open_projections(run->input_path, geom_path, &run->geom, &run->input);
}

/* The plan (projector or FDK), then the chunks under what it left of the
 * memory budget. */
static cbct_status plan(cli_chunked_run *run, const cli_chunked_spec *spec,
                        int64_t requested_views)
{
    size_t before_plan = cbct_mem_current();
    size_t kernel_reserve = 0;
    cbct_status s;
    if (spec->fdk) {
        s = cbct_fdk_create(&run->geom, spec->fdk, &run->fdk);
        kernel_reserve = fdk_scratch_bytes(&run->geom);
    } else {
        cbct_projector_opts opts = {.kernel = CBCT_KERNEL_FAST};
        s = cbct_projector_create(&run->geom, &opts, &run->projector);
    }
    if (s != CBCT_OK)
        return s;
    char plan_size[32];
    cbct_log(CBCT_LOG_DEBUG, "%s plan: %s", spec->fdk ? "FDK" : "projector",
             cbct_format_size(cbct_mem_current() - before_plan, plan_size, sizeof plan_size));
    return cli_plan_chunks(&run->geom, spec->order, requested_views,
                           kernel_reserve + cli_read_scratch_bytes(&run->input), &run->chunks);
}

/* Each batch of views is the sum of the parts of every slab (the volume is
 * read once, before the first batch, when it is a single slab). */
static cbct_status views_outer(cli_chunked_run *run, const cli_chunked_spec *spec)
{
    int64_t n_views = run->geom.n_views, nz = run->geom.vol.shape[0];
    int64_t batch_views = run->chunks.views_per_batch, slab_slices = run->chunks.slices_per_slab;
    for (int64_t view0 = 0; view0 < n_views; view0 += batch_views) {
        int64_t n = min_i64(n_views - view0, batch_views);
        for (int64_t z0 = 0; z0 < nz; z0 += slab_slices) {
            cbct_block block = {.view0 = view0, .n_views = n, .z0 = z0,
                                .nz = min_i64(nz - z0, slab_slices)};
            cbct_status s = CBCT_OK;
            if (run->chunks.n_slabs > 1 || view0 == 0)
                s = cli_read_slices(run->input_path, &run->input, z0, block.nz, "z, y, x",
                                    run->slab);
            if (s == CBCT_OK)
                s = spec->compute(run, block);
            if (s != CBCT_OK)
                return s;
            /* Done: the earlier batches and this batch's slabs so far. */
            cbct_progress(spec->task, view0 * nz + (z0 + block.nz) * n, n_views * nz);
        }
        cbct_status s = cbct_npy_writer_write(&run->writer, run->batch, n);
        if (s != CBCT_OK)
            return s;
    }
    return CBCT_OK;
}

/* Each slab adds every batch of views in view order, so that every voxel
 * sums the same terms in the same order whatever the chunks. */
static cbct_status slabs_outer(cli_chunked_run *run, const cli_chunked_spec *spec)
{
    int64_t n_views = run->geom.n_views, nz = run->geom.vol.shape[0];
    int64_t batch_views = run->chunks.views_per_batch, slab_slices = run->chunks.slices_per_slab;
    size_t slice_floats = (size_t)run->geom.vol.shape[1] * (size_t)run->geom.vol.shape[2];
    for (int64_t z0 = 0, slab = 0; z0 < nz; z0 += slab_slices, slab++) {
        int64_t slices = min_i64(nz - z0, slab_slices);
        memset(run->slab, 0, (size_t)slices * slice_floats * sizeof(float));
        for (int64_t view0 = 0; view0 < n_views; view0 += batch_views) {
            cbct_block block = {.view0 = view0, .n_views = min_i64(n_views - view0, batch_views),
                                .z0 = z0, .nz = slices};
            cbct_status s = cli_read_views(run->input_path, &run->input, view0, block.n_views,
                                           run->batch);
            if (s == CBCT_OK)
                s = spec->compute(run, block);
            if (s != CBCT_OK)
                return s;
            cbct_progress(spec->task, slab * n_views + view0 + block.n_views,
                          run->chunks.n_slabs * n_views);
        }
        cbct_status s = cbct_npy_writer_write(&run->writer, run->slab, slices);
        if (s != CBCT_OK)
            return s;
    }
    return CBCT_OK;
}

/* Says how the volume is split, when it does not fit whole, and what is
 * repeated for that. */
static void log_slabs(const cli_chunks *c, const cli_chunked_spec *spec)
{
    if (spec->order == CLI_VIEWS_OUTER)
        cbct_log(CBCT_LOG_INFO, "the volume does not fit the memory budget: reading it in %lld "
                 "z-slabs of up to %lld slices, %lld time%s (once per batch of %lld views)",
                 (long long)c->n_slabs, (long long)c->slices_per_slab, (long long)c->n_batches,
                 c->n_batches == 1 ? "" : "s", (long long)c->views_per_batch);
    else
        cbct_log(CBCT_LOG_INFO, "the volume does not fit the memory budget: making it in %lld "
                 "z-slabs of up to %lld slices, %s %lld times (in batches of %lld views)",
                 (long long)c->n_slabs, (long long)c->slices_per_slab, spec->per_slab_work,
                 (long long)c->n_slabs, (long long)c->views_per_batch);
}

/* The two buffers, the output, the loops; the output committed and logged. */
static cbct_status execute(cli_chunked_run *run, const cli_chunked_spec *spec,
                           const char *out_path)
{
    const cbct_geometry *g = &run->geom;
    const cli_chunks *c = &run->chunks;
    if (c->n_slabs > 1)
        log_slabs(c, spec);
    size_t slice_floats = (size_t)g->vol.shape[1] * (size_t)g->vol.shape[2];
    size_t view_floats = (size_t)g->det_rows * (size_t)g->det_cols;
    run->slab = cbct_alloc((size_t)c->slices_per_slab * slice_floats * sizeof(float),
                           c->n_slabs > 1 ? spec->slab_name : spec->volume_name);
    run->batch = run->slab ? cbct_alloc((size_t)c->views_per_batch * view_floats * sizeof(float),
                                        spec->batch_name) : NULL;
    if (!run->batch)
        return CBCT_ERR_MEMORY;
    int64_t proj_shape[3] = {g->n_views, g->det_rows, g->det_cols};
    const int64_t *shape = spec->order == CLI_VIEWS_OUTER ? proj_shape : g->vol.shape;
    cbct_status s = cbct_npy_writer_open(out_path, shape, &run->writer);
    if (s != CBCT_OK)
        return s;
    run->writer_open = 1;
    s = spec->order == CLI_VIEWS_OUTER ? views_outer(run, spec) : slabs_outer(run, spec);
    if (s != CBCT_OK)
        return s;
    s = cbct_npy_writer_commit(&run->writer);
    run->writer_open = 0;
    if (s == CBCT_OK) {
        char text[64];
        cbct_log(CBCT_LOG_INFO, "wrote %s: %s %s", out_path,
                 cli_shape_text(shape, text, sizeof text), spec->written_note);
    }
    return s;
}

/* On every path, whatever was made: an unfinished output is removed. */
static void release(cli_chunked_run *run)
{
    if (run->writer_open)
        cbct_npy_writer_abort(&run->writer);
    cbct_free(run->batch);
    cbct_free(run->slab);
    if (run->projector)
        cbct_projector_destroy(run->projector);
    if (run->fdk)
        cbct_fdk_destroy(run->fdk);
    cbct_geometry_destroy(&run->geom);
}

int cli_chunked_main(cli_context *ctx, const cli_args *args, const cli_chunked_spec *spec)
{
    int64_t requested_views = 0;
    if (cli_int(args, "--views-per-batch", 1, INT64_MAX, &requested_views))
        return CLI_EXIT_USAGE;
    cli_chunked_run run;
    memset(&run, 0, sizeof run);
    cbct_status s = open_input(&run, args, spec);
    if (s == CBCT_OK)
        s = plan(&run, spec, requested_views);
    if (s == CBCT_OK)
        s = execute(&run, spec, cli_value(args, "--output"));
    release(&run);
    if (s != CBCT_OK)
        return cli_runtime_error(ctx);
    cli_report_resources(ctx);
    return CLI_EXIT_OK;
}
