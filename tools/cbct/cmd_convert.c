/* cbct convert: a volume from one file format to another (.npy, .mha,
 * .mhd, TIFF, NIfTI, HDF5), copied in z-slabs so that files larger than
 * the memory budget convert too; with --layout, a projection stack between
 * cbct's (views, rows, cols) and ASTRA's (rows, views, cols). */
#include <stdio.h>
#include <string.h>

#include "args.h"
#include "inputs.h"

/* Largest slab held at once: larger ones are not faster, only bigger. */
#define CONVERT_SLAB_BYTES ((size_t)64 << 20)

static const cli_option options[] = {
    {"--spacing", 0, "DZ,DY,DX", 0, "the input's (1 for .npy)",
     "voxel size written to .mha/.mhd (mm; one number: all axes)"},
    {"--origin", 0, "OZ,OY,OX", 0, "the input's (0 for .npy)",
     "offset of the volume centre written to .mha/.mhd (mm)"},
    {"--layout", 0, "astra|cbct", 0, "none",
     "swap the two slowest axes of a projection stack: 'astra' writes (rows, views, cols) "
     "from cbct's (views, rows, cols), 'cbct' the reverse"},
    {NULL, 0, NULL, 0, NULL, NULL}};

static const cli_command command = {
    "convert IN OUT [--spacing DZ,DY,DX] [--origin OZ,OY,OX] [--layout astra|cbct]",
    "Converts a volume between .npy, .mha and .mhd (+ .raw), TIFF (multi-page\n"
    ".tif, or a stack: a folder or a pattern like z_%04d.tif), NIfTI (.nii,\n"
    ".nii.gz) and HDF5 (file.h5[:/dataset]), chosen by the names\n"
    "(docs/formats.md). Any element type is read; the output is float32.\n"
    "Voxel size and origin are carried where the format has them: .npy has\n"
    "none, so a .npy input reads as voxel size 1 mm, origin 0 (set them with\n"
    "--spacing / --origin), and a .npy output drops them. The origin is the\n"
    "volume centre (cbct's convention); MetaImage's Offset, the first voxel's\n"
    "centre, is converted both ways. Rotated MetaImage grids (TransformMatrix\n"
    "not the identity) and compressed ones are refused.\n"
    "--layout astra turns a projection stack (views, rows, cols) into ASTRA's\n"
    "(rows, views, cols); --layout cbct the reverse (in passes that fit --mem).",
    options, 2, 2};

/* Copies the volume slab by slab through `w`. */
static cbct_status copy_slabs(const char *in, const cbct_volume_header *h,
                              cbct_volume_writer *w)
{
    size_t slice_bytes = (size_t)h->shape[1] * (size_t)h->shape[2] * sizeof(float);
    /* Keep room for the reader's conversion buffer and allocation headers. */
    size_t reserve = CLI_CONVERT_BYTES + 2 * CLI_ALLOC_HEADER_BYTES;
    size_t available = cbct_mem_available();
    size_t room = available > reserve ? available - reserve : 0;
    room = room < CONVERT_SLAB_BYTES ? room : CONVERT_SLAB_BYTES;
    int64_t per_slab = room / slice_bytes > 0 ? (int64_t)(room / slice_bytes) : 1;
    per_slab = per_slab < h->shape[0] ? per_slab : h->shape[0];
    float *slab = cbct_alloc((size_t)per_slab * slice_bytes, "slab of the volume");
    if (!slab)
        return CBCT_ERR_MEMORY;
    cbct_status s = CBCT_OK;
    for (int64_t first = 0; first < h->shape[0] && s == CBCT_OK; first += per_slab) {
        int64_t n = h->shape[0] - first < per_slab ? h->shape[0] - first : per_slab;
        s = cli_name_file(cbct_volume_read_slices(in, h, first, n, slab), in);
        if (s == CBCT_OK)
            s = cbct_volume_writer_write(w, slab, n);
        cbct_progress("convert", first + n, h->shape[0]);
    }
    cbct_free(slab);
    return s;
}

/* Writes `in` (n0, n1, n2) as (n1, n0, n2) through `w`: blocks of output
 * slices as large as the budget allows, each filled by one pass over the
 * input, one input slice at a time. */
static cbct_status swap_slow_axes(const char *in, const cbct_volume_header *h,
                                  cbct_volume_writer *w)
{
    int64_t n0 = h->shape[0], n1 = h->shape[1], n2 = h->shape[2];
    size_t slice_bytes = (size_t)n1 * (size_t)n2 * sizeof(float);
    size_t out_slice_bytes = (size_t)n0 * (size_t)n2 * sizeof(float);
    size_t reserve = CLI_CONVERT_BYTES + 3 * CLI_ALLOC_HEADER_BYTES + slice_bytes;
    size_t available = cbct_mem_available();
    size_t room = available > reserve ? available - reserve : 0;
    room = room < CONVERT_SLAB_BYTES ? room : CONVERT_SLAB_BYTES;
    int64_t per_block = room / out_slice_bytes > 0 ? (int64_t)(room / out_slice_bytes) : 1;
    per_block = per_block < n1 ? per_block : n1;
    float *slice = cbct_alloc(slice_bytes, "input slice");
    float *block = slice ? cbct_alloc((size_t)per_block * out_slice_bytes, "output block") : NULL;
    cbct_status s = block ? CBCT_OK : CBCT_ERR_MEMORY;
    for (int64_t o0 = 0; s == CBCT_OK && o0 < n1; o0 += per_block) {
        int64_t k = n1 - o0 < per_block ? n1 - o0 : per_block;
        for (int64_t i = 0; s == CBCT_OK && i < n0; i++) {
            s = cli_name_file(cbct_volume_read_slices(in, h, i, 1, slice), in);
            for (int64_t o = 0; s == CBCT_OK && o < k; o++)
                memcpy(block + ((size_t)o * (size_t)n0 + (size_t)i) * (size_t)n2,
                       slice + (size_t)(o0 + o) * (size_t)n2, (size_t)n2 * sizeof(float));
        }
        if (s == CBCT_OK)
            s = cbct_volume_writer_write(w, block, k);
        cbct_progress("convert", o0 + k, n1);
    }
    cbct_free(block);
    cbct_free(slice);
    return s;
}

int cmd_convert(cli_context *ctx, int argc, char **argv)
{
    cli_args args;
    int rc = cli_parse(ctx, &command, argc, argv, &args);
    if (rc != CLI_PARSED)
        return rc;
    const char *in = args.positional[0], *out = args.positional[1];
    cbct_volume_format in_format, out_format;
    if (cbct_volume_format_of(in, &in_format) != CBCT_OK ||
        cbct_volume_format_of(out, &out_format) != CBCT_OK)
        return cli_usage_error(ctx, "%s", cbct_last_error());
    if (strcmp(in, out) == 0)
        return cli_usage_error(ctx, "input and output are the same file '%s'", in);
    /* The header is large (a MetaImage data path): not on the stack. */
    cbct_volume_header *h = cbct_alloc(sizeof *h, "volume header");
    if (!h)
        return cli_runtime_error(ctx);
    cbct_status s = cli_name_file(cbct_volume_read_header(in, h), in);
    if (s != CBCT_OK) {
        cbct_free(h);
        return cli_runtime_error(ctx);
    }
    double spacing[3], origin[3];
    memcpy(spacing, h->spacing, sizeof spacing);
    memcpy(origin, h->origin, sizeof origin);
    if (cli_doubles(&args, "--spacing", 3, 1e-9, 1e9, spacing) ||
        cli_doubles(&args, "--origin", 3, -1e9, 1e9, origin)) {
        cbct_free(h);
        return CLI_EXIT_USAGE;
    }
    static const char *const layouts[] = {"astra", "cbct", NULL};
    int layout = -1;
    if (cli_value(&args, "--layout") && cli_choice(&args, "--layout", layouts, &layout)) {
        cbct_free(h);
        return CLI_EXIT_USAGE;
    }
    /* Both layouts swap the two slowest axes; the name says which way. */
    int64_t out_shape[3] = {h->shape[0], h->shape[1], h->shape[2]};
    if (layout >= 0) {
        out_shape[0] = h->shape[1];
        out_shape[1] = h->shape[0];
    }
    cbct_volume_writer w;
    s = cbct_volume_writer_open(out, out_shape, spacing, origin, &w);
    if (s == CBCT_OK)
        s = layout >= 0 ? swap_slow_axes(in, h, &w) : copy_slabs(in, h, &w);
    if (s == CBCT_OK)
        s = cbct_volume_writer_commit(&w);
    else
        cbct_volume_writer_abort(&w);
    if (s != CBCT_OK) {
        cbct_free(h);
        return cli_runtime_error(ctx);
    }
    char text[64];
    cbct_log(CBCT_LOG_INFO, "wrote %s: %s float32 (from %s %s), voxel %g x %g x %g mm, "
             "centre at %g, %g, %g mm (z, y, x)%s", out, cli_shape_text(out_shape, text,
             sizeof text), in, h->dtype_name, spacing[0], spacing[1], spacing[2], origin[0],
             origin[1], origin[2], out_format == CBCT_VOLUME_NPY ? "; .npy keeps neither" : "");
    cbct_free(h);
    cli_report_resources(ctx);
    return CLI_EXIT_OK;
}
