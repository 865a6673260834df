/* Writing .npy files (format 1.0, little-endian float32, C order),
 * atomically: whole arrays, or slab by slab for outputs larger than memory. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cbct/io.h"
#include "io/npy_internal.h"

/* numpy aligns the data to 64 bytes (header padded with spaces, ending in
 * a newline) so that the array can be memory-mapped efficiently. */
#define NPY_ALIGN 64

static cbct_status check_shape(const char *path, const int64_t shape[3])
{
    for (int i = 0; i < 3; i++)
        if (shape[i] <= 0)
            return cbct_error(CBCT_ERR_ARG, "cannot write '%s': shape %lld x %lld x %lld has "
                              "a non-positive size", path, (long long)shape[0],
                              (long long)shape[1], (long long)shape[2]);
    if (shape[0] > INT64_MAX / shape[1] || shape[0] * shape[1] > INT64_MAX / 4 / shape[2])
        return cbct_error(CBCT_ERR_ARG, "cannot write '%s': shape %lld x %lld x %lld is too "
                          "large", path, (long long)shape[0], (long long)shape[1],
                          (long long)shape[2]);
    return CBCT_OK;
}

/* Preamble and header dict, padded; returns its length in bytes. */
static size_t format_header(const int64_t shape[3], char *buf, size_t cap)
{
    int dict = snprintf(buf + NPY_PREAMBLE_V1, cap - NPY_PREAMBLE_V1,
                        "{'descr': '<f4', 'fortran_order': False, 'shape': (%lld, %lld, %lld), }",
                        (long long)shape[0], (long long)shape[1], (long long)shape[2]);
    size_t total = NPY_PREAMBLE_V1 + (size_t)dict + 1; /* + '\n' */
    total = (total + NPY_ALIGN - 1) / NPY_ALIGN * NPY_ALIGN;
    memset(buf + NPY_PREAMBLE_V1 + dict, ' ', total - NPY_PREAMBLE_V1 - (size_t)dict);
    buf[total - 1] = '\n';
    size_t header_len = total - NPY_PREAMBLE_V1;
    memcpy(buf, "\x93NUMPY\x01\x00", 8);
    buf[8] = (char)(header_len & 0xff);
    buf[9] = (char)(header_len >> 8);
    return total;
}

cbct_status cbct_npy_writer_open(const char *path, const int64_t shape[3], cbct_npy_writer *w)
{
    memset(w, 0, sizeof *w);
    cbct_status s = check_shape(path, shape);
    if (s)
        return s;
    /* Three 19-digit numbers and the dict fit in 2 x 64 bytes. */
    char header[256];
    size_t header_bytes = format_header(shape, header, sizeof header);
    if ((s = cbct_atomic_open(path, &w->file)))
        return s;
    if ((s = cbct_atomic_write(&w->file, header, header_bytes)))
        return s; /* the atomic file aborted itself */
    memcpy(w->shape, shape, sizeof w->shape);
    w->slices_written = 0;
    return CBCT_OK;
}

cbct_status cbct_npy_writer_write(cbct_npy_writer *w, const float *slices, int64_t count)
{
    if (!w->file.fp)
        return cbct_error(CBCT_ERR_ARG, "write to a .npy writer that is not open");
    if (count < 0 || count > w->shape[0] - w->slices_written) {
        cbct_error(CBCT_ERR_ARG, "'%s': writing %lld slices after %lld would exceed the %lld "
                   "slices of the shape; file not created", w->file.final_path, (long long)count,
                   (long long)w->slices_written, (long long)w->shape[0]);
        cbct_npy_writer_abort(w);
        return CBCT_ERR_ARG;
    }
    size_t bytes = (size_t)count * (size_t)w->shape[1] * (size_t)w->shape[2] * sizeof(float);
    cbct_status s = cbct_atomic_write(&w->file, slices, bytes);
    if (s)
        return s;
    w->slices_written += count;
    return CBCT_OK;
}

cbct_status cbct_npy_writer_commit(cbct_npy_writer *w)
{
    if (!w->file.fp)
        return cbct_error(CBCT_ERR_ARG, "commit of a .npy writer that is not open");
    if (w->slices_written != w->shape[0]) {
        cbct_error(CBCT_ERR_ARG, "'%s': only %lld of %lld slices were written; file not created",
                   w->file.final_path, (long long)w->slices_written, (long long)w->shape[0]);
        cbct_npy_writer_abort(w);
        return CBCT_ERR_ARG;
    }
    return cbct_atomic_commit(&w->file);
}

void cbct_npy_writer_abort(cbct_npy_writer *w)
{
    if (w)
        cbct_atomic_abort(&w->file);
}

cbct_status cbct_npy_write(const char *path, const cbct_array *a)
{
    if (!a || !a->data)
        return cbct_error(CBCT_ERR_ARG, "cannot write '%s': the array has no data", path);
    cbct_npy_writer w;
    cbct_status s = cbct_npy_writer_open(path, a->shape, &w);
    if (!s)
        s = cbct_npy_writer_write(&w, a->data, a->shape[0]);
    if (!s)
        s = cbct_npy_writer_commit(&w);
    return s;
}
