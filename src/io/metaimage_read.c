/* Reading MetaImage (.mha / .mhd + .raw) files as float32: the header, the
 * whole image, or a range of z-slices (to stream large files). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "io/metaimage_internal.h"
#include "io/raw_read.h"

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the MetaImage reader assumes a little-endian host"
#endif

static uint64_t data_bytes(const cbct_mha_header *h)
{
    /* The parser checked that this product fits in 63 bits. */
    return (uint64_t)h->shape[0] * (uint64_t)h->shape[1] * (uint64_t)h->shape[2] *
           cbct_met_type_bytes(h->element_type);
}

cbct_status cbct_mha_read_header(const char *path, cbct_mha_header *out)
{
    memset(out, 0, sizeof *out);
    FILE *fp;
    uint64_t file_bytes;
    cbct_status s = cbct_io_open_regular(path, &fp, &file_bytes);
    if (s)
        return s;
    size_t n = file_bytes < MHA_MAX_HEADER_BYTES ? (size_t)file_bytes : MHA_MAX_HEADER_BYTES;
    char *text = cbct_alloc(n + 1, "MetaImage header");
    if (!text)
        s = cbct_error_prefix(CBCT_ERR_MEMORY, "reading '%s'", path);
    if (!s && fread(text, 1, n, fp) != n)
        s = cbct_error(CBCT_ERR_IO, "cannot read the header of '%s': %s", path,
                       ferror(fp) ? strerror(errno) : "file changed while reading");
    fclose(fp);
    if (!s)
        s = cbct_mha_parse_header(text, n, path, out);
    cbct_free(text);
    if (s)
        return s;
    /* The data must all be there (a separate file is opened to check). */
    uint64_t have = file_bytes;
    if (strcmp(out->data_path, path) != 0) {
        if ((s = cbct_io_open_regular(out->data_path, &fp, &have))) {
            cbct_error_prefix(s, "'%s': ElementDataFile", path);
            memset(out, 0, sizeof *out);
            return s;
        }
        fclose(fp);
    }
    uint64_t need = data_bytes(out);
    if (out->data_offset > have || have - out->data_offset < need) {
        uint64_t got = out->data_offset > have ? 0 : have - out->data_offset;
        s = cbct_error(CBCT_ERR_FORMAT, "'%s': DimSize %lld %lld %lld of %s needs %llu bytes of "
                       "data, '%s' holds %llu after byte %llu (truncated file?)", path,
                       (long long)out->shape[2], (long long)out->shape[1],
                       (long long)out->shape[0], cbct_met_type_name(out->element_type),
                       (unsigned long long)need, out->data_path, (unsigned long long)got,
                       (unsigned long long)out->data_offset);
        memset(out, 0, sizeof *out);
    }
    return s;
}

static void swap_bytes(unsigned char *p, size_t item, size_t n)
{
    for (size_t i = 0; i < n; i++, p += item)
        for (size_t a = 0, b = item - 1; a < b; a++, b--) {
            unsigned char t = p[a];
            p[a] = p[b];
            p[b] = t;
        }
}

void cbct_mha_convert(cbct_met_type t, int big_endian, void *src, size_t n, float *dst)
{
    size_t item = cbct_met_type_bytes(t);
    if (big_endian && item > 1)
        swap_bytes(src, item, n);
    /* memcpy per element: `src` need not be aligned for its type. */
#define CONVERT(type)                                       \
    for (size_t i = 0; i < n; i++) {                        \
        type v;                                             \
        memcpy(&v, (const unsigned char *)src + i * item, sizeof v); \
        dst[i] = (float)v;                                  \
    }
    switch (t) {
    case CBCT_MET_UCHAR: CONVERT(uint8_t) break;
    case CBCT_MET_CHAR: CONVERT(int8_t) break;
    case CBCT_MET_USHORT: CONVERT(uint16_t) break;
    case CBCT_MET_SHORT: CONVERT(int16_t) break;
    case CBCT_MET_UINT: CONVERT(uint32_t) break;
    case CBCT_MET_INT: CONVERT(int32_t) break;
    case CBCT_MET_FLOAT: CONVERT(float) break;
    case CBCT_MET_DOUBLE: CONVERT(double) break;
    }
#undef CONVERT
}

/* cbct_mha_convert as a cbct_io_convert_fn (ctx: the header). */
static void convert_items(const void *ctx, void *items, size_t n, float *dst)
{
    const cbct_mha_header *h = ctx;
    cbct_mha_convert(h->element_type, h->big_endian, items, n, dst);
}

cbct_status cbct_mha_read_slices(const cbct_mha_header *h, int64_t first, int64_t count,
                                 float *dst)
{
    size_t item = cbct_met_type_bytes(h->element_type);
    if (item == 0 || h->shape[0] <= 0 || h->shape[1] <= 0 || h->shape[2] <= 0 ||
        !h->data_path[0])
        return cbct_error(CBCT_ERR_ARG, "the MetaImage header passed in is not valid");
    if (first < 0 || count < 0 || first > h->shape[0] - count)
        return cbct_error(CBCT_ERR_ARG, "'%s': slices [%lld, %lld) are outside the %lld "
                          "z-slices of the image", h->data_path, (long long)first,
                          (long long)(first + count), (long long)h->shape[0]);
    if (count == 0)
        return CBCT_OK;
    const cbct_io_raw_layout layout = {
        .path = h->data_path,
        .data_offset = h->data_offset,
        .slice_items = (size_t)h->shape[1] * (size_t)h->shape[2],
        .item_bytes = item,
        .convert = h->element_type == CBCT_MET_FLOAT && !h->big_endian ? NULL : convert_items,
        .convert_ctx = h,
        .buffer_name = "MetaImage conversion buffer",
        .slice_word = "z-slice",
        .size_source = "DimSize",
    };
    return cbct_io_read_raw_slices(&layout, first, count, dst);
}

cbct_status cbct_mha_read(const char *path, cbct_array *out)
{
    memset(out, 0, sizeof *out);
    /* The header holds a 4 KiB path: keep it off the stack of callers. */
    cbct_mha_header *h = cbct_alloc(sizeof *h, "MetaImage header");
    if (!h)
        return cbct_error_prefix(CBCT_ERR_MEMORY, "reading '%s'", path);
    cbct_status s = cbct_mha_read_header(path, h);
    if (!s)
        s = cbct_array_create(out, h->shape[0], h->shape[1], h->shape[2], path);
    if (!s) {
        memcpy(out->spacing, h->spacing, sizeof out->spacing);
        memcpy(out->origin, h->origin, sizeof out->origin);
        if ((s = cbct_mha_read_slices(h, 0, h->shape[0], out->data)))
            cbct_array_destroy(out);
    }
    cbct_free(h);
    return s;
}
