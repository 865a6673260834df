/* cbct info: what a file holds. Arrays are read in chunks, so that files
 * larger than the memory budget can be described. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "args.h"
#include "inputs.h"

/* Chunk of an array read at once for the statistics. */
#define INFO_CHUNK_BYTES ((size_t)64 << 20)

static const cli_command command = {
    "info FILE",
    "Describes a file: for a .npy array its shape, dtype and min/max/mean (read in\n"
    "chunks); for a geometry .json the views, detector, volume, magnification and\n"
    "field of view (like 'cbct geometry info').",
    NULL, 1, 1};

typedef struct array_stats {
    double min, max, sum;
    int64_t n_finite, n_nonfinite;
} array_stats;

static void add_values(array_stats *st, const float *v, int64_t n)
{
    for (int64_t i = 0; i < n; i++) {
        if (!isfinite(v[i])) {
            st->n_nonfinite++;
            continue;
        }
        st->min = v[i] < st->min ? v[i] : st->min;
        st->max = v[i] > st->max ? v[i] : st->max;
        st->sum += v[i];
        st->n_finite++;
    }
}

static cbct_status scan_array(const char *path, const cbct_npy_header *h, array_stats *st)
{
    st->min = INFINITY;
    st->max = -INFINITY;
    size_t slice_floats = (size_t)h->shape[1] * (size_t)h->shape[2];
    size_t slice_bytes = slice_floats * sizeof(float);
    size_t room = cbct_mem_available() < INFO_CHUNK_BYTES ? cbct_mem_available()
                                                          : INFO_CHUNK_BYTES;
    int64_t per_chunk = room / slice_bytes > 0 ? (int64_t)(room / slice_bytes) : 1;
    per_chunk = per_chunk < h->shape[0] ? per_chunk : h->shape[0];
    float *chunk = cbct_alloc((size_t)per_chunk * slice_bytes, "chunk of the array");
    if (!chunk)
        return CBCT_ERR_MEMORY;
    cbct_status s = CBCT_OK;
    for (int64_t first = 0; first < h->shape[0] && s == CBCT_OK; first += per_chunk) {
        int64_t n = h->shape[0] - first < per_chunk ? h->shape[0] - first : per_chunk;
        s = cbct_npy_read_slices(path, h, first, n, chunk);
        if (s == CBCT_OK)
            add_values(st, chunk, n * (int64_t)slice_floats);
        cbct_progress("info", first + n, h->shape[0]);
    }
    cbct_free(chunk);
    return cli_name_file(s, path);
}

static const char *dtype_name(cbct_dtype d)
{
    switch (d) {
    case CBCT_DTYPE_F32: return "float32";
    case CBCT_DTYPE_F64: return "float64";
    case CBCT_DTYPE_U16: return "uint16";
    }
    return "unknown";
}

static int info_npy(cli_context *ctx, const char *path)
{
    cbct_npy_header h;
    array_stats st;
    memset(&st, 0, sizeof st);
    cbct_status s = cbct_npy_read_header(path, &h);
    if (s != CBCT_OK)
        cli_name_file(s, path);
    else
        s = scan_array(path, &h, &st);
    if (s != CBCT_OK)
        return cli_runtime_error(ctx);
    printf("array %s\n  shape    ", path);
    for (int i = 3 - h.ndim; i < 3; i++)
        printf("%lld%s", (long long)h.shape[i], i < 2 ? " x " : "\n");
    printf("  dtype    %s\n", dtype_name(h.dtype));
    if (st.n_finite > 0)
        printf("  values   min %.6g, max %.6g, mean %.6g\n", st.min, st.max,
               st.sum / (double)st.n_finite);
    if (st.n_nonfinite > 0)
        printf("  warning  %lld non-finite values (NaN or Inf)\n", (long long)st.n_nonfinite);
    cli_report_resources(ctx);
    return CLI_EXIT_OK;
}

static int ends_with(const char *text, const char *suffix)
{
    size_t a = strlen(text), b = strlen(suffix);
    return a >= b && strcmp(text + a - b, suffix) == 0;
}

int cmd_info(cli_context *ctx, int argc, char **argv)
{
    cli_args args;
    int rc = cli_parse(ctx, &command, argc, argv, &args);
    if (rc != CLI_PARSED)
        return rc;
    const char *path = args.positional[0];
    if (ends_with(path, ".npy"))
        return info_npy(ctx, path);
    if (ends_with(path, ".json")) {
        cbct_geometry g;
        if (cli_load_geometry(path, &g) != CBCT_OK)
            return cli_runtime_error(ctx);
        cli_print_geometry(&g, path, stdout);
        cbct_geometry_destroy(&g);
        return CLI_EXIT_OK;
    }
    return cli_usage_error(ctx, "cannot tell the type of '%s': expected a .npy array or a "
                                "geometry .json", path);
}
