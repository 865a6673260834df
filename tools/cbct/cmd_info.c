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
    "Describes a file: for a volume (.npy, .mha, .mhd, TIFF file or stack, .nii,\n"
    ".nii.gz, .h5[:/dataset]; docs/formats.md) its shape, dtype, spacing and\n"
    "origin (all but .npy) and min/max/mean (read in chunks); for a geometry\n"
    ".json (cbct's or ASTRA's) the views, detector, volume, magnification and\n"
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

static cbct_status scan_array(const char *path, const cbct_volume_header *h, array_stats *st)
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
        s = cbct_volume_read_slices(path, h, first, n, chunk);
        if (s == CBCT_OK)
            add_values(st, chunk, n * (int64_t)slice_floats);
        cbct_progress("info", first + n, h->shape[0]);
    }
    cbct_free(chunk);
    return cli_name_file(s, path);
}

static int info_volume(cli_context *ctx, const char *path)
{
    /* The header holds the data file's path: a few KiB, not for the stack. */
    cbct_volume_header *h = cbct_alloc(sizeof *h, "volume header");
    array_stats st;
    memset(&st, 0, sizeof st);
    cbct_status s = h ? cbct_volume_read_header(path, h) : CBCT_ERR_MEMORY;
    if (s != CBCT_OK)
        cli_name_file(s, path);
    else
        s = scan_array(path, h, &st);
    if (s != CBCT_OK) {
        cbct_free(h);
        return cli_runtime_error(ctx);
    }
    printf("array %s\n  shape    ", path);
    int first_axis = h->format == CBCT_VOLUME_NPY ? 3 - h->npy.ndim : 0;
    for (int i = first_axis; i < 3; i++)
        printf("%lld%s", (long long)h->shape[i], i < 2 ? " x " : "\n");
    printf("  dtype    %s\n", h->dtype_name);
    if (h->format == CBCT_VOLUME_HDF5)
        printf("  dataset  %s\n", h->hdf5.dataset);
    if (h->format == CBCT_VOLUME_TIFF && h->tiff.is_stack)
        printf("  stack    %lld files\n", (long long)h->shape[0]);
    if (h->format != CBCT_VOLUME_NPY) {
        printf("  spacing  %g x %g x %g mm (z, y, x)\n", h->spacing[0], h->spacing[1],
               h->spacing[2]);
        printf("  origin   %g, %g, %g mm (volume centre, z, y, x)\n", h->origin[0],
               h->origin[1], h->origin[2]);
    }
    if (st.n_finite > 0)
        printf("  values   min %.6g, max %.6g, mean %.6g\n", st.min, st.max,
               st.sum / (double)st.n_finite);
    if (st.n_nonfinite > 0)
        printf("  warning  %lld non-finite values (NaN or Inf)\n", (long long)st.n_nonfinite);
    cbct_free(h);
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
    cbct_volume_format format;
    if (!ends_with(path, ".json") && cbct_volume_format_of(path, &format) == CBCT_OK)
        return info_volume(ctx, path);
    if (ends_with(path, ".json")) {
        cbct_geometry g;
        if (cli_load_geometry(path, &g) != CBCT_OK)
            return cli_runtime_error(ctx);
        cli_print_geometry(&g, path, stdout);
        cbct_geometry_destroy(&g);
        return CLI_EXIT_OK;
    }
    return cli_usage_error(ctx, "cannot tell the type of '%s': expected a volume (.npy, .mha, "
                                ".mhd, .tif/.tiff or a TIFF stack, .nii, .nii.gz, "
                                ".h5[:/dataset]) or a geometry .json (cbct's or ASTRA's)", path);
}
