/* Reading .npy files as float32: the whole array, or a range of slices of
 * the slowest axis (to stream files larger than the memory budget). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cbct/io.h"
#include "io/npy_internal.h"
#include "io/raw_read.h"

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the .npy reader assumes a little-endian host"
#endif

static size_t item_bytes(cbct_dtype dtype)
{
    switch (dtype) {
    case CBCT_DTYPE_F32: return 4;
    case CBCT_DTYPE_F64: return 8;
    case CBCT_DTYPE_U16: return 2;
    }
    return 0;
}

cbct_status cbct_npy_read_header(const char *path, cbct_npy_header *out)
{
    memset(out, 0, sizeof *out);
    FILE *fp;
    uint64_t file_bytes;
    cbct_status s = cbct_io_open_regular(path, &fp, &file_bytes);
    if (s)
        return s;
    unsigned char preamble[NPY_PREAMBLE_V2];
    size_t got = fread(preamble, 1, sizeof preamble, fp);
    size_t start = 0, len = 0;
    s = cbct_npy_parse_preamble(preamble, got, file_bytes, path, &start, &len);
    unsigned char *header = NULL;
    if (!s) {
        header = cbct_alloc(start + len, "npy header");
        if (!header)
            s = cbct_error_prefix(CBCT_ERR_MEMORY, "reading '%s'", path);
    }
    if (!s && (fseek(fp, 0, SEEK_SET) != 0 || fread(header, 1, start + len, fp) != start + len))
        s = cbct_error(CBCT_ERR_IO, "cannot read the header of '%s': %s", path,
                       ferror(fp) ? strerror(errno) : "file changed while reading");
    if (!s)
        s = cbct_npy_parse_header(header, start + len, file_bytes, path, out);
    cbct_free(header);
    fclose(fp);
    return s;
}

static cbct_status check_request(const char *path, const cbct_npy_header *h, int64_t first,
                                 int64_t count)
{
    if (h->ndim < 1 || h->ndim > 3 || item_bytes(h->dtype) == 0 || h->shape[0] <= 0 ||
        h->shape[1] <= 0 || h->shape[2] <= 0)
        return cbct_error(CBCT_ERR_ARG, "'%s': the .npy header passed in is not valid", path);
    if (first < 0 || count < 0 || first > h->shape[0] - count)
        return cbct_error(CBCT_ERR_ARG, "'%s': slices [%lld, %lld) are outside the %lld slices "
                          "of the file", path, (long long)first, (long long)(first + count),
                          (long long)h->shape[0]);
    return CBCT_OK;
}

/* float64 and uint16 items to float32 (ctx: the cbct_dtype). */
static void convert_items(const void *ctx, void *items, size_t n, float *dst)
{
    if (*(const cbct_dtype *)ctx == CBCT_DTYPE_F64) {
        const double *src = items;
        for (size_t i = 0; i < n; i++)
            dst[i] = (float)src[i];
    } else {
        const uint16_t *src = items;
        for (size_t i = 0; i < n; i++)
            dst[i] = (float)src[i];
    }
}

cbct_status cbct_npy_read_slices(const char *path, const cbct_npy_header *h, int64_t first,
                                 int64_t count, float *dst)
{
    cbct_status s = check_request(path, h, first, count);
    if (s || count == 0)
        return s;
    /* The header was checked: shape x item size fits in 64 bits. */
    const cbct_io_raw_layout layout = {
        .path = path,
        .data_offset = h->data_offset,
        .slice_items = (size_t)h->shape[1] * (size_t)h->shape[2],
        .item_bytes = item_bytes(h->dtype),
        .convert = h->dtype == CBCT_DTYPE_F32 ? NULL : convert_items,
        .convert_ctx = &h->dtype,
        .buffer_name = "npy conversion buffer",
        .slice_word = "slice",
        .size_source = "the shape in its header",
    };
    return cbct_io_read_raw_slices(&layout, first, count, dst);
}

cbct_status cbct_npy_read(const char *path, cbct_array *out)
{
    memset(out, 0, sizeof *out);
    cbct_npy_header h;
    cbct_status s = cbct_npy_read_header(path, &h);
    if (s)
        return s;
    if ((s = cbct_array_create(out, h.shape[0], h.shape[1], h.shape[2], path)))
        return s;
    if ((s = cbct_npy_read_slices(path, &h, 0, h.shape[0], out->data)))
        cbct_array_destroy(out);
    return s;
}
