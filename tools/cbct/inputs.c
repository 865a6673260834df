/* Input files of the heavy commands, checked against each other. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "inputs.h"

const char *cli_shape_text(const int64_t shape[3], char *buf, size_t len)
{
    snprintf(buf, len, "%lld x %lld x %lld", (long long)shape[0], (long long)shape[1],
             (long long)shape[2]);
    return buf;
}

cbct_status cli_name_file(cbct_status s, const char *path)
{
    if (s != CBCT_OK && !strstr(cbct_last_error(), path))
        return cbct_error_prefix(s, "%s", path);
    return s;
}

cbct_status cli_load_geometry(const char *path, cbct_geometry *g)
{
    memset(g, 0, sizeof *g);
    cbct_status s = cbct_geometry_read_any_json(path, g);
    if (s == CBCT_OK)
        s = cbct_geometry_validate(g);
    if (s != CBCT_OK) {
        cbct_geometry_destroy(g);
        return cli_name_file(s, path);
    }
    return CBCT_OK;
}

cbct_status cli_check_finite(const float *data, const int64_t shape[3], int64_t first,
                                const char *path, const char *axes)
{
    int64_t n = shape[0] * shape[1] * shape[2];
    for (int64_t i = 0; i < n; i++) {
        if (isfinite(data[i]))
            continue;
        int64_t plane = shape[1] * shape[2];
        return cbct_error(CBCT_ERR_NUMERIC, "%s: non-finite value (%g) at (%s) = (%lld, %lld, "
                          "%lld): expected finite data", path, (double)data[i], axes,
                          (long long)(first + i / plane), (long long)(i % plane / shape[2]),
                          (long long)(i % shape[2]));
    }
    return CBCT_OK;
}

cbct_status cli_open_volume(const char *path, const char *geom_path, const cbct_geometry *g,
                            cli_input_header *h)
{
    char a[64], b[64];
    cbct_status s = cbct_volume_read_header(path, h);
    if (s != CBCT_OK)
        return cli_name_file(s, path);
    if (memcmp(h->shape, g->vol.shape, sizeof h->shape) != 0)
        return cbct_error(CBCT_ERR_FORMAT, "%s: volume shape %s does not match the volume of "
                          "geometry %s (%s, z x y x x)", path,
                          cli_shape_text(h->shape, a, sizeof a), geom_path,
                          cli_shape_text(g->vol.shape, b, sizeof b));
    return CBCT_OK;
}

cbct_status cli_load_volume_for(const char *path, const char *geom_path,
                                const cbct_geometry *g, cbct_array *vol)
{
    memset(vol, 0, sizeof *vol);
    /* The header holds the formats' paths (some KiB): not on the stack. */
    cli_input_header *h = cbct_alloc(sizeof *h, "volume header");
    cbct_status s = h ? cli_open_volume(path, geom_path, g, h) : CBCT_ERR_MEMORY;
    if (s == CBCT_OK)
        s = cbct_array_zeros(vol, h->shape[0], h->shape[1], h->shape[2], "volume");
    if (s == CBCT_OK)
        s = cli_read_slices(path, h, 0, h->shape[0], "z, y, x", vol->data);
    cbct_free(h);
    if (s != CBCT_OK) {
        cbct_array_destroy(vol);
        return cli_name_file(s, path);
    }
    for (int i = 0; i < 3; i++) {
        vol->spacing[i] = g->vol.voxel_size[i];
        vol->origin[i] = g->vol.origin[i];
    }
    return CBCT_OK;
}

cbct_status cli_open_projections(const char *path, const char *geom_path,
                                 const cbct_geometry *g, cli_input_header *h)
{
    char a[64], b[64];
    cbct_status s = cbct_volume_read_header(path, h);
    if (s != CBCT_OK)
        return cli_name_file(s, path);
    int64_t expected[3] = {g->n_views, g->det_rows, g->det_cols};
    if (memcmp(h->shape, expected, sizeof expected) != 0)
        return cbct_error(CBCT_ERR_FORMAT, "%s: projection shape %s does not match geometry %s "
                          "(%s, views x rows x cols)", path, cli_shape_text(h->shape, a, sizeof a),
                          geom_path, cli_shape_text(expected, b, sizeof b));
    return CBCT_OK;
}

cbct_status cli_read_slices(const char *path, const cli_input_header *h, int64_t first,
                            int64_t count, const char *axes, float *dst)
{
    cbct_status s = cbct_volume_read_slices(path, h, first, count, dst);
    if (s != CBCT_OK)
        return cli_name_file(s, path);
    int64_t shape[3] = {count, h->shape[1], h->shape[2]};
    return cli_check_finite(dst, shape, first, path, axes);
}

cbct_status cli_read_views(const char *path, const cli_input_header *h, int64_t first,
                           int64_t count, float *dst)
{
    return cli_read_slices(path, h, first, count, "view, row, col", dst);
}

size_t cli_read_scratch_bytes(const cli_input_header *h)
{
    size_t convert = CLI_CONVERT_BYTES + CLI_ALLOC_HEADER_BYTES;
    switch (h->format) {
    case CBCT_VOLUME_NPY:
        return h->npy.dtype == CBCT_DTYPE_F32 ? 0 : convert;
    case CBCT_VOLUME_MHA:
    case CBCT_VOLUME_MHD:
        return h->mha.element_type == CBCT_MET_FLOAT && !h->mha.big_endian ? 0 : convert;
    case CBCT_VOLUME_NIFTI:
        return h->nifti.element_type == CBCT_MET_FLOAT && !h->nifti.swapped &&
                       h->nifti.slope == 1.0 && h->nifti.intercept == 0.0 && !h->nifti.gzip
                   ? 0 : convert;
    case CBCT_VOLUME_TIFF: /* at most one page's strip (or tile) of file samples */
        return (size_t)h->shape[1] * (size_t)h->shape[2] *
                   cbct_met_type_bytes(h->tiff.element_type) + CLI_ALLOC_HEADER_BYTES;
    case CBCT_VOLUME_HDF5:
        return 0;
    }
    return convert;
}

cbct_status cli_views_per_batch(const cbct_geometry *g, int64_t requested, size_t reserve,
                                int64_t *out)
{
    size_t view_bytes = (size_t)g->det_rows * (size_t)g->det_cols * sizeof(float);
    if (requested > 0) {
        *out = requested < g->n_views ? requested : g->n_views;
        return CBCT_OK;
    }
    size_t available = cbct_mem_available();
    /* The tracked allocator adds a header of one alignment unit per block. */
    size_t overhead = reserve + CLI_ALLOC_HEADER_BYTES;
    size_t usable = available > overhead ? available - overhead : 0;
    if (usable < view_bytes) {
        char need[32], left[32], budget[32];
        return cbct_error(CBCT_ERR_MEMORY, "not even one view fits the memory budget: one view "
                          "(%lld x %lld float32) with the kernels' scratch needs %s, %s of the "
                          "budget %s is left; raise --mem", (long long)g->det_rows,
                          (long long)g->det_cols,
                          cbct_format_size(view_bytes + overhead, need, sizeof need),
                          cbct_format_size(available, left, sizeof left),
                          cbct_format_size(cbct_mem_budget(), budget, sizeof budget));
    }
    if (usable > CLI_MAX_BATCH_BYTES)
        usable = CLI_MAX_BATCH_BYTES > view_bytes ? CLI_MAX_BATCH_BYTES : view_bytes;
    int64_t fit = (int64_t)(usable / view_bytes);
    int64_t wanted = (g->n_views + CLI_PROGRESS_STEPS - 1) / CLI_PROGRESS_STEPS;
    if (wanted < CLI_MIN_BATCH_VIEWS)
        wanted = CLI_MIN_BATCH_VIEWS;
    int64_t n = wanted < fit ? wanted : fit;
    *out = n < g->n_views ? n : g->n_views;
    char batch[32];
    cbct_log(CBCT_LOG_DEBUG, "%lld views in batches of %lld (%s each)", (long long)g->n_views,
             (long long)*out, cbct_format_size((size_t)*out * view_bytes, batch, sizeof batch));
    return CBCT_OK;
}


/* Even steps: `total` units in chunks of at most `fit` take
 * ceil(total / fit) steps; spread the units evenly over them. */
static int64_t even_chunk(int64_t total, int64_t fit)
{
    int64_t steps = (total + fit - 1) / fit;
    return (total + steps - 1) / steps;
}

/* Units of `unit_bytes` that fit in `bytes`, at most `max`. */
static int64_t units_in(size_t bytes, size_t unit_bytes, int64_t max)
{
    size_t n = bytes / unit_bytes;
    return n < (size_t)max ? (int64_t)n : max;
}

static cbct_status too_small(const cbct_geometry *g, int64_t views, size_t view_bytes,
                             size_t slice_bytes, size_t overhead, int requested)
{
    char need[32], left[32], budget[32];
    size_t needed = (size_t)views * view_bytes + slice_bytes + overhead;
    char what[64] = "one view";
    if (requested)
        snprintf(what, sizeof what, "--views-per-batch %lld views", (long long)views);
    return cbct_error(CBCT_ERR_MEMORY, "not even %s and one slice fit the memory "
                      "budget: %lld view%s of %lld x %lld float32, one volume slice of %lld x "
                      "%lld float32 and scratch (kernels, file conversion) need %s, %s of the "
                      "budget %s is left; raise --mem%s", what, (long long)views,
                      views == 1 ? "" : "s", (long long)g->det_rows, (long long)g->det_cols,
                      (long long)g->vol.shape[1], (long long)g->vol.shape[2],
                      cbct_format_size(needed, need, sizeof need),
                      cbct_format_size(cbct_mem_available(), left, sizeof left),
                      cbct_format_size(cbct_mem_budget(), budget, sizeof budget),
                      requested ? " or lower --views-per-batch" : "");
}

cbct_status cli_plan_chunks(const cbct_geometry *g, cli_loop_order order,
                            int64_t requested_views, size_t reserve, cli_chunks *out)
{
    int64_t n_views = g->n_views, nz = g->vol.shape[0];
    size_t view_bytes = (size_t)g->det_rows * (size_t)g->det_cols * sizeof(float);
    size_t slice_bytes = (size_t)g->vol.shape[1] * (size_t)g->vol.shape[2] * sizeof(float);
    size_t volume_bytes = (size_t)nz * slice_bytes;
    /* Two tracked blocks: the batch and the slab (or the whole volume). */
    size_t overhead = reserve + 2 * CLI_ALLOC_HEADER_BYTES;
    size_t available = cbct_mem_available();
    size_t usable = available > overhead ? available - overhead : 0;
    int64_t min_views = requested_views > 0 ? (requested_views < n_views ? requested_views
                                                                          : n_views) : 1;
    cbct_status s = CBCT_OK;
    if (usable >= volume_bytes &&
        units_in(usable - volume_bytes, view_bytes, n_views) >= min_views) {
        /* The whole volume fits: one slab, the batch exactly as before. */
        out->slices_per_slab = nz;
        s = cli_views_per_batch(g, requested_views,
                                reserve + volume_bytes + CLI_ALLOC_HEADER_BYTES,
                                &out->views_per_batch);
    } else if (usable < (size_t)min_views * view_bytes + slice_bytes) {
        return too_small(g, min_views, view_bytes, slice_bytes, overhead, requested_views > 0);
    } else if (requested_views > 0) {
        out->views_per_batch = min_views;
        int64_t slices = units_in(usable - (size_t)min_views * view_bytes, slice_bytes, nz);
        out->slices_per_slab = order == CLI_SLABS_OUTER ? even_chunk(nz, slices) : slices;
    } else if (order == CLI_VIEWS_OUTER) {
        int64_t views = units_in(usable - slice_bytes, view_bytes, n_views);
        out->views_per_batch = even_chunk(n_views, views);
        size_t batch_bytes = (size_t)out->views_per_batch * view_bytes;
        out->slices_per_slab = units_in(usable - batch_bytes, slice_bytes, nz);
    } else {
        int64_t slices = units_in(usable - view_bytes, slice_bytes, nz);
        out->slices_per_slab = even_chunk(nz, slices);
        size_t slab_bytes = (size_t)out->slices_per_slab * slice_bytes;
        out->views_per_batch = units_in(usable - slab_bytes, view_bytes, n_views);
    }
    if (s != CBCT_OK)
        return s;
    out->n_batches = (n_views + out->views_per_batch - 1) / out->views_per_batch;
    out->n_slabs = (nz + out->slices_per_slab - 1) / out->slices_per_slab;
    if (out->n_slabs > 1) {
        char batch[32], slab[32];
        cbct_log(CBCT_LOG_DEBUG, "the volume (%lld slices) does not fit with a batch of views: "
                 "%lld slabs of up to %lld slices (%s), batches of %lld views (%s)",
                 (long long)nz, (long long)out->n_slabs, (long long)out->slices_per_slab,
                 cbct_format_size((size_t)out->slices_per_slab * slice_bytes, slab, sizeof slab),
                 (long long)out->views_per_batch,
                 cbct_format_size((size_t)out->views_per_batch * view_bytes, batch, sizeof batch));
    }
    return CBCT_OK;
}

cbct_status cli_make_folder(const char *path)
{
    char buf[4096];
    if (strlen(path) >= sizeof buf)
        return cbct_error(CBCT_ERR_ARG, "folder name is too long (%zu characters, at most %zu)",
                          strlen(path), sizeof buf - 1);
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1;; p++) {
        int end = *p == '\0';
        if (*p == '/' || end) {
            *p = '\0';
            if (mkdir(buf, 0755) != 0 && errno != EEXIST)
                return cbct_error(CBCT_ERR_IO, "cannot create folder '%s': %s", buf,
                                  strerror(errno));
            if (end)
                break;
            *p = '/';
        }
    }
    return CBCT_OK;
}
