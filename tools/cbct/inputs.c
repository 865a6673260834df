/* Input files of the heavy commands, checked against each other. */
#include <math.h>
#include <stdio.h>
#include <string.h>

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
    cbct_status s = cbct_geometry_read_json(path, g);
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

cbct_status cli_load_volume_for(const char *path, const char *geom_path,
                                const cbct_geometry *g, cbct_array *vol)
{
    char a[64], b[64];
    memset(vol, 0, sizeof *vol);
    cbct_npy_header h;
    cbct_status s = cbct_npy_read_header(path, &h);
    if (s != CBCT_OK)
        return cli_name_file(s, path);
    if (memcmp(h.shape, g->vol.shape, sizeof h.shape) != 0)
        return cbct_error(CBCT_ERR_FORMAT, "%s: volume shape %s does not match the volume of "
                          "geometry %s (%s, z x y x x)", path, cli_shape_text(h.shape, a, sizeof a),
                          geom_path, cli_shape_text(g->vol.shape, b, sizeof b));
    s = cbct_npy_read(path, vol);
    if (s == CBCT_OK)
        s = cli_check_finite(vol->data, vol->shape, 0, path, "z, y, x");
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
                                 const cbct_geometry *g, cbct_npy_header *h)
{
    char a[64], b[64];
    cbct_status s = cbct_npy_read_header(path, h);
    if (s != CBCT_OK)
        return cli_name_file(s, path);
    int64_t expected[3] = {g->n_views, g->det_rows, g->det_cols};
    if (memcmp(h->shape, expected, sizeof expected) != 0)
        return cbct_error(CBCT_ERR_FORMAT, "%s: projection shape %s does not match geometry %s "
                          "(%s, views x rows x cols)", path, cli_shape_text(h->shape, a, sizeof a),
                          geom_path, cli_shape_text(expected, b, sizeof b));
    return CBCT_OK;
}

cbct_status cli_read_views(const char *path, const cbct_npy_header *h, int64_t first,
                           int64_t count, float *dst)
{
    cbct_status s = cbct_npy_read_slices(path, h, first, count, dst);
    if (s != CBCT_OK)
        return cli_name_file(s, path);
    int64_t shape[3] = {count, h->shape[1], h->shape[2]};
    return cli_check_finite(dst, shape, first, path, "view, row, col");
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

cbct_status cli_for_each_view_batch(const char *path, const cbct_npy_header *h,
                                    int64_t batch_views, const char *task, cli_batch_fn fn,
                                    void *user)
{
    int64_t n_views = h->shape[0];
    size_t view_floats = (size_t)h->shape[1] * (size_t)h->shape[2];
    float *batch = cbct_alloc((size_t)batch_views * view_floats * sizeof(float),
                              "batch of projection views");
    if (!batch)
        return CBCT_ERR_MEMORY;
    cbct_status s = CBCT_OK;
    for (int64_t view0 = 0; view0 < n_views && s == CBCT_OK; view0 += batch_views) {
        int64_t n = n_views - view0 < batch_views ? n_views - view0 : batch_views;
        s = cli_read_views(path, h, view0, n, batch);
        if (s == CBCT_OK)
            s = fn(view0, n, batch, user);
        if (s == CBCT_OK)
            cbct_progress(task, view0 + n, n_views);
    }
    cbct_free(batch);
    return s;
}
