/* Reading NIfTI-1 volumes (.nii directly, .nii.gz through zlib) as float32,
 * whole or a range of z-slices. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>

#include "io/metaimage_internal.h"
#include "io/nifti_internal.h"
#include "io/raw_read.h"

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the NIfTI reader assumes a little-endian host"
#endif

/* Bytes decompressed and converted at a time from a .nii.gz. */
#define GZ_CHUNK_BYTES ((size_t)1 << 20)

static int ends_with(const char *text, const char *suffix)
{
    size_t a = strlen(text), b = strlen(suffix);
    return a >= b && strcasecmp(text + a - b, suffix) == 0;
}

static uint64_t data_bytes(const cbct_nifti_header *h)
{
    return (uint64_t)h->shape[0] * (uint64_t)h->shape[1] * (uint64_t)h->shape[2] *
           cbct_met_type_bytes(h->element_type);
}

static void warn_flips(const cbct_nifti_header *h)
{
    static const char axis[3] = {'z', 'y', 'x'};
    for (int i = 0; i < 3; i++)
        if (h->flipped[i])
            cbct_log(CBCT_LOG_WARN, "'%s': the %c axis is stored flipped (negative step in the "
                     "%s); read as stored, centred at the same point", h->path, axis[i],
                     h->grid_source == 2 ? "sform" : "qform");
}

cbct_status cbct_nifti_read_header(const char *path, cbct_nifti_header *out)
{
    memset(out, 0, sizeof *out);
    if (strlen(path) >= sizeof out->path)
        return cbct_error(CBCT_ERR_ARG, "NIfTI name is too long (%zu characters)", strlen(path));
    unsigned char header[NIFTI1_HEADER_BYTES];
    int gzip = ends_with(path, ".gz");
    uint64_t file_bytes = 0;
    size_t got;
    cbct_status s;
    if (gzip) {
        gzFile gz = gzopen(path, "rb");
        if (!gz)
            return cbct_error(CBCT_ERR_IO, "cannot open '%s': %s", path,
                              errno ? strerror(errno) : "out of memory");
        int n = gzread(gz, header, sizeof header);
        int err;
        const char *msg = gzerror(gz, &err);
        gzclose(gz);
        if (n < 0 || (err != Z_OK && err != Z_BUF_ERROR))
            return cbct_error(CBCT_ERR_FORMAT, "'%s': cannot decompress the header: %s (not a "
                              "gzip file, or corrupt?)", path, msg);
        got = (size_t)n;
    } else {
        FILE *fp;
        if ((s = cbct_io_open_regular(path, &fp, &file_bytes)))
            return s;
        got = fread(header, 1, sizeof header, fp);
        fclose(fp);
    }
    if ((s = cbct_nifti_parse_header(header, got, path, out)))
        return s;
    snprintf(out->path, sizeof out->path, "%s", path);
    out->gzip = gzip;
    uint64_t need = data_bytes(out);
    if (!gzip && (out->data_offset > file_bytes || file_bytes - out->data_offset < need)) {
        uint64_t have = out->data_offset > file_bytes ? 0 : file_bytes - out->data_offset;
        s = cbct_error(CBCT_ERR_FORMAT, "'%s': dim %lld x %lld x %lld of %s needs %llu bytes of "
                       "data after byte %llu, the file holds %llu (truncated file?)", path,
                       (long long)out->shape[2], (long long)out->shape[1],
                       (long long)out->shape[0], cbct_element_type_name(out->element_type),
                       (unsigned long long)need, (unsigned long long)out->data_offset,
                       (unsigned long long)have);
        memset(out, 0, sizeof *out);
        return s;
    }
    warn_flips(out);
    return CBCT_OK;
}

/* Stored values to float32: byte swap, type, then scl_slope / scl_inter. */
static void convert(const void *ctx, void *items, size_t n, float *dst)
{
    const cbct_nifti_header *h = ctx;
    cbct_mha_convert(h->element_type, h->swapped, items, n, dst);
    if (h->slope != 1.0 || h->intercept != 0.0)
        for (size_t i = 0; i < n; i++)
            dst[i] = (float)((double)dst[i] * h->slope + h->intercept);
}

static int needs_conversion(const cbct_nifti_header *h)
{
    return h->element_type != CBCT_MET_FLOAT || h->swapped || h->slope != 1.0 ||
           h->intercept != 0.0;
}

static cbct_status read_gz(const cbct_nifti_header *h, uint64_t offset, size_t n_items,
                           float *dst)
{
    size_t item = cbct_met_type_bytes(h->element_type);
    gzFile gz = gzopen(h->path, "rb");
    if (!gz)
        return cbct_error(CBCT_ERR_IO, "cannot open '%s': %s", h->path,
                          errno ? strerror(errno) : "out of memory");
    gzbuffer(gz, 1 << 17); /* fewer, larger reads of the compressed file */
    cbct_status s = CBCT_OK;
    /* gzseek forward decompresses and drops: slabs are read in order. */
    if (gzseek(gz, (z_off_t)offset, SEEK_SET) != (z_off_t)offset)
        s = cbct_error(CBCT_ERR_FORMAT, "'%s': the decompressed data end before byte %llu "
                       "(truncated or corrupt .gz?)", h->path, (unsigned long long)offset);
    void *buf = NULL;
    size_t per_chunk = GZ_CHUNK_BYTES / item;
    if (!s && !(buf = cbct_alloc(per_chunk * item, "NIfTI decompression buffer")))
        s = cbct_error_prefix(CBCT_ERR_MEMORY, "reading '%s'", h->path);
    for (size_t done = 0; !s && done < n_items;) {
        size_t k = n_items - done < per_chunk ? n_items - done : per_chunk;
        int got = gzread(gz, buf, (unsigned)(k * item));
        if (got != (int)(k * item)) {
            int err;
            const char *msg = gzerror(gz, &err);
            s = cbct_error(CBCT_ERR_FORMAT, "'%s': the data end before dim and datatype say "
                           "(%llu of %llu bytes read): %s (truncated or corrupt .gz?)", h->path,
                           (unsigned long long)(offset - h->data_offset + done * item +
                                                (got > 0 ? (size_t)got : 0)),
                           (unsigned long long)data_bytes(h),
                           err == Z_OK || err == Z_BUF_ERROR ? "unexpected end of file" : msg);
            break;
        }
        convert(h, buf, k, dst + done);
        done += k;
    }
    cbct_free(buf);
    gzclose(gz);
    return s;
}

cbct_status cbct_nifti_read_slices(const cbct_nifti_header *h, int64_t first, int64_t count,
                                   float *dst)
{
    size_t item = cbct_met_type_bytes(h->element_type);
    if (item == 0 || h->shape[0] <= 0 || h->shape[1] <= 0 || h->shape[2] <= 0 || !h->path[0])
        return cbct_error(CBCT_ERR_ARG, "the NIfTI header passed in is not valid");
    if (first < 0 || count < 0 || first > h->shape[0] - count)
        return cbct_error(CBCT_ERR_ARG, "'%s': slices [%lld, %lld) are outside the %lld "
                          "z-slices of the image", h->path, (long long)first,
                          (long long)(first + count), (long long)h->shape[0]);
    if (count == 0)
        return CBCT_OK;
    size_t slice_items = (size_t)h->shape[1] * (size_t)h->shape[2];
    if (h->gzip)
        return read_gz(h, h->data_offset + (uint64_t)first * slice_items * item,
                       (size_t)count * slice_items, dst);
    const cbct_io_raw_layout layout = {
        .path = h->path,
        .data_offset = h->data_offset,
        .slice_items = slice_items,
        .item_bytes = item,
        .convert = needs_conversion(h) ? convert : NULL,
        .convert_ctx = h,
        .buffer_name = "NIfTI conversion buffer",
        .slice_word = "z-slice",
        .size_source = "dim and datatype",
    };
    return cbct_io_read_raw_slices(&layout, first, count, dst);
}

cbct_status cbct_nifti_read(const char *path, cbct_array *out)
{
    memset(out, 0, sizeof *out);
    cbct_nifti_header *h = cbct_alloc(sizeof *h, "NIfTI header");
    if (!h)
        return cbct_error_prefix(CBCT_ERR_MEMORY, "reading '%s'", path);
    cbct_status s = cbct_nifti_read_header(path, h);
    if (!s)
        s = cbct_array_create(out, h->shape[0], h->shape[1], h->shape[2], path);
    if (!s) {
        memcpy(out->spacing, h->spacing, sizeof out->spacing);
        memcpy(out->origin, h->origin, sizeof out->origin);
        if ((s = cbct_nifti_read_slices(h, 0, h->shape[0], out->data)))
            cbct_array_destroy(out);
    }
    cbct_free(h);
    return s;
}
