/* Reading the data part of .npy and MetaImage files as float32. */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "io/raw_read.h"

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "float32 data are read as they are: a little-endian host is assumed"
#endif

/* Bytes read and converted at a time for types other than float32. */
#define CONVERT_CHUNK_BYTES ((size_t)1 << 20)

cbct_status cbct_io_open_regular(const char *path, FILE **fp, uint64_t *file_bytes)
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

static cbct_status short_read(FILE *fp, const cbct_io_raw_layout *l)
{
    if (ferror(fp))
        return cbct_error(CBCT_ERR_IO, "cannot read '%s': %s", l->path, strerror(errno));
    return cbct_error(CBCT_ERR_FORMAT, "'%s': the data ends before %s says (truncated file?)",
                      l->path, l->size_source);
}

/* Reads `n` items through a small buffer, converting them. */
static cbct_status read_converted(FILE *fp, const cbct_io_raw_layout *l, size_t n, float *dst)
{
    size_t chunk_items = CONVERT_CHUNK_BYTES / l->item_bytes;
    void *buf = cbct_alloc(chunk_items * l->item_bytes, l->buffer_name);
    if (!buf)
        return cbct_error_prefix(CBCT_ERR_MEMORY, "reading '%s'", l->path);
    cbct_status s = CBCT_OK;
    for (size_t done = 0; done < n;) {
        size_t todo = n - done < chunk_items ? n - done : chunk_items;
        if (fread(buf, l->item_bytes, todo, fp) != todo) {
            s = short_read(fp, l);
            break;
        }
        l->convert(l->convert_ctx, buf, todo, dst + done);
        done += todo;
    }
    cbct_free(buf);
    return s;
}

cbct_status cbct_io_read_raw_slices(const cbct_io_raw_layout *l, int64_t first, int64_t count,
                                    float *dst)
{
    size_t n = (size_t)count * l->slice_items;
    uint64_t offset = l->data_offset + (uint64_t)first * l->slice_items * l->item_bytes;
    FILE *fp;
    uint64_t file_bytes;
    cbct_status s = cbct_io_open_regular(l->path, &fp, &file_bytes);
    if (s)
        return s;
    if (offset > file_bytes || fseeko(fp, (off_t)offset, SEEK_SET) != 0) {
        fclose(fp);
        return cbct_error(CBCT_ERR_FORMAT, "'%s': %s %lld starts at byte %llu, past the end of "
                          "the file (%llu bytes)", l->path, l->slice_word, (long long)first,
                          (unsigned long long)offset, (unsigned long long)file_bytes);
    }
    if (!l->convert) {
        if (fread(dst, sizeof(float), n, fp) != n)
            s = short_read(fp, l);
    } else {
        s = read_converted(fp, l, n, dst);
    }
    fclose(fp);
    return s;
}
