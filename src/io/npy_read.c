/* Reading .npy files as float32: the whole array, or a range of slices of
 * the slowest axis (to stream files larger than the memory budget). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cbct/io.h"
#include "io/npy_internal.h"

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the .npy reader assumes a little-endian host"
#endif

/* Bytes converted at a time for float64 and uint16 files. */
#define CONVERT_CHUNK_BYTES ((size_t)1 << 20)

static size_t item_bytes(cbct_dtype dtype)
{
    switch (dtype) {
    case CBCT_DTYPE_F32: return 4;
    case CBCT_DTYPE_F64: return 8;
    case CBCT_DTYPE_U16: return 2;
    }
    return 0;
}

/* Opens the file and finds its size (regular files only). */
static cbct_status open_regular(const char *path, FILE **fp, uint64_t *file_bytes)
{
    *fp = fopen(path, "rb");
    if (!*fp)
        return cbct_error(CBCT_ERR_IO, "cannot open '%s': %s", path, strerror(errno));
    struct stat st;
    if (fstat(fileno(*fp), &st) != 0 || !S_ISREG(st.st_mode)) {
        int err = errno;
        fclose(*fp);
        *fp = NULL;
        return cbct_error(CBCT_ERR_IO, "cannot read '%s': %s", path,
                          err ? strerror(err) : "not a regular file");
    }
    *file_bytes = (uint64_t)st.st_size;
    return CBCT_OK;
}

cbct_status cbct_npy_read_header(const char *path, cbct_npy_header *out)
{
    memset(out, 0, sizeof *out);
    FILE *fp;
    uint64_t file_bytes;
    cbct_status s = open_regular(path, &fp, &file_bytes);
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

static cbct_status short_read(FILE *fp, const char *path)
{
    if (ferror(fp))
        return cbct_error(CBCT_ERR_IO, "cannot read '%s': %s", path, strerror(errno));
    return cbct_error(CBCT_ERR_FORMAT, "'%s': the data ends before the shape in its header "
                      "says (truncated file?)", path);
}

/* Reads `n` items of a float64 or uint16 file through a small buffer. */
static cbct_status read_converted(FILE *fp, const char *path, cbct_dtype dtype, size_t n,
                                  float *dst)
{
    size_t item = item_bytes(dtype);
    size_t chunk_items = CONVERT_CHUNK_BYTES / item;
    void *buf = cbct_alloc(chunk_items * item, "npy conversion buffer");
    if (!buf)
        return cbct_error_prefix(CBCT_ERR_MEMORY, "reading '%s'", path);
    cbct_status s = CBCT_OK;
    for (size_t done = 0; done < n && !s;) {
        size_t todo = n - done < chunk_items ? n - done : chunk_items;
        if (fread(buf, item, todo, fp) != todo) {
            s = short_read(fp, path);
            break;
        }
        if (dtype == CBCT_DTYPE_F64) {
            const double *src = buf;
            for (size_t i = 0; i < todo; i++)
                dst[done + i] = (float)src[i];
        } else {
            const uint16_t *src = buf;
            for (size_t i = 0; i < todo; i++)
                dst[done + i] = (float)src[i];
        }
        done += todo;
    }
    cbct_free(buf);
    return s;
}

cbct_status cbct_npy_read_slices(const char *path, const cbct_npy_header *h, int64_t first,
                                 int64_t count, float *dst)
{
    cbct_status s = check_request(path, h, first, count);
    if (s || count == 0)
        return s;
    /* The header was checked: shape x item size fits in 64 bits. */
    size_t slice_items = (size_t)h->shape[1] * (size_t)h->shape[2];
    size_t item = item_bytes(h->dtype);
    size_t n = (size_t)count * slice_items;
    uint64_t offset = h->data_offset + (uint64_t)first * slice_items * item;
    FILE *fp;
    uint64_t file_bytes;
    if ((s = open_regular(path, &fp, &file_bytes)))
        return s;
    if (offset > file_bytes || fseeko(fp, (off_t)offset, SEEK_SET) != 0) {
        fclose(fp);
        return cbct_error(CBCT_ERR_FORMAT, "'%s': slice %lld starts at byte %llu, past the end "
                          "of the file (%llu bytes)", path, (long long)first,
                          (unsigned long long)offset, (unsigned long long)file_bytes);
    }
    if (h->dtype == CBCT_DTYPE_F32) {
        if (fread(dst, sizeof(float), n, fp) != n)
            s = short_read(fp, path);
    } else {
        s = read_converted(fp, path, h->dtype, n, dst);
    }
    fclose(fp);
    return s;
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
