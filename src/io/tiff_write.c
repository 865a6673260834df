/* Writing TIFF volumes page by page: a multi-page file through one atomic
 * temporary file (libtiff writes a dup of its descriptor; commit fsyncs and
 * renames it), or a stack of single-page files, each written atomically;
 * a stack writer that fails or is aborted removes the files it wrote. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "io/tiff_internal.h"

/* Classic TIFF addresses 4 GiB; larger files are written as BigTIFF. */
#define CLASSIC_TIFF_MAX_BYTES ((uint64_t)4000 << 20)

static const char *writer_name(const cbct_tiff_writer *w)
{
    return w->pattern ? w->pattern : w->file.final_path ? w->file.final_path : "(TIFF)";
}

static cbct_status check_request(const char *path, const int64_t shape[3],
                                 const double spacing[3], const double origin[3],
                                 cbct_met_type type)
{
    if (type != CBCT_MET_FLOAT && type != CBCT_MET_USHORT)
        return cbct_error(CBCT_ERR_ARG, "cannot write '%s': TIFF is written as float32 or "
                          "uint16, not %s", path, cbct_element_type_name(type));
    for (int i = 0; i < 3; i++)
        if (shape[i] <= 0 || !(spacing[i] > 0) || !isfinite(spacing[i]) || !isfinite(origin[i]))
            return cbct_error(CBCT_ERR_ARG, "cannot write '%s': shape %lld x %lld x %lld, "
                              "spacing %g %g %g, origin %g %g %g: sizes and spacings must be "
                              "positive, the origin finite", path, (long long)shape[0],
                              (long long)shape[1], (long long)shape[2], spacing[0], spacing[1],
                              spacing[2], origin[0], origin[1], origin[2]);
    if (shape[1] > UINT32_MAX || shape[2] > UINT32_MAX || shape[0] > INT32_MAX)
        return cbct_error(CBCT_ERR_ARG, "cannot write '%s': %lld x %lld pixels in %lld pages "
                          "is beyond TIFF's limits", path, (long long)shape[1],
                          (long long)shape[2], (long long)shape[0]);
    return CBCT_OK;
}

cbct_status cbct_tiff_writer_open(const char *path, const int64_t shape[3],
                                  const double spacing[3], const double origin[3],
                                  cbct_met_type element_type, cbct_tiff_writer *w)
{
    memset(w, 0, sizeof *w);
    cbct_status s = check_request(path, shape, spacing, origin, element_type);
    if (s)
        return s;
    memcpy(w->shape, shape, sizeof w->shape);
    memcpy(w->spacing, spacing, sizeof w->spacing);
    memcpy(w->origin, origin, sizeof w->origin);
    w->element_type = element_type;
    if (cbct_tiff_is_pattern(path)) {
        size_t n = strlen(path) + 1;
        if (!(w->pattern = malloc(n)))
            return cbct_error(CBCT_ERR_MEMORY, "cannot write '%s': out of memory", path);
        memcpy(w->pattern, path, n);
        return CBCT_OK;
    }
    if (cbct_tiff_is_stack(path))
        return cbct_error(CBCT_ERR_ARG, "cannot write TIFF stack '%s': name the files with a "
                          "pattern such as '%s/z_%%04d.tif'", path, path);
    if ((s = cbct_atomic_open(path, &w->file)))
        return s;
    uint64_t bytes = (uint64_t)shape[0] * (uint64_t)shape[1] * (uint64_t)shape[2] *
                     cbct_met_type_bytes(element_type);
    int fd = dup(fileno(w->file.fp));
    w->diag = calloc(1, sizeof(tiff_diag));
    TIFFOpenOptions *o = w->diag ? TIFFOpenOptionsAlloc() : NULL;
    if (o) {
        cbct_tiff_capture_into(o, w->diag);
        w->tif = fd < 0 ? NULL : TIFFFdOpenExt(fd, path,
                                               bytes > CLASSIC_TIFF_MAX_BYTES ? "w8" : "w", o);
        TIFFOpenOptionsFree(o);
    }
    if (!w->tif) {
        if (fd >= 0)
            close(fd);
        cbct_error(CBCT_ERR_IO, "cannot write TIFF '%s'%s", path,
                   w->diag ? cbct_tiff_said(w->diag) : ": out of memory");
        cbct_tiff_writer_abort(w);
        return CBCT_ERR_IO;
    }
    return CBCT_OK;
}

/* One single-page file of a stack, atomically. */
static cbct_status write_stack_file(cbct_tiff_writer *w, int64_t index, const float *slice)
{
    char name[CBCT_MHA_PATH_MAX + 256];
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
    int n = snprintf(name, sizeof name, w->pattern, (int)index); /* pattern checked */
#pragma GCC diagnostic pop
    if (n < 0 || (size_t)n >= sizeof name)
        return cbct_error(CBCT_ERR_ARG, "cannot write '%s': slice %lld's name is too long",
                          w->pattern, (long long)index);
    cbct_atomic_file f;
    cbct_status s = cbct_atomic_open(name, &f);
    if (s)
        return s;
    int fd = dup(fileno(f.fp));
    tiff_diag d;
    TIFF *t = fd < 0 ? NULL : cbct_tiff_open_fd_write(fd, name, &d);
    if (!t) {
        if (fd >= 0)
            close(fd);
        cbct_atomic_abort(&f);
        return cbct_last_status() ? cbct_last_status() : CBCT_ERR_IO;
    }
    s = cbct_tiff_write_page(t, name, 0, 1, w->shape[1], w->shape[2], w->element_type,
                             w->spacing, w->origin, slice);
    if (!s && !TIFFFlush(t))
        s = cbct_error(CBCT_ERR_IO, "cannot write '%s'%s", name, cbct_tiff_said(&d));
    TIFFClose(t);
    if (s)
        cbct_atomic_abort(&f);
    else
        s = cbct_atomic_commit(&f);
    return s;
}

/* Removes the files of slices [0, n) of a stack (after a failure). */
static void remove_stack_files(const cbct_tiff_writer *w, int64_t n)
{
    char name[CBCT_MHA_PATH_MAX + 256];
    for (int64_t i = 0; i < n; i++) {
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
        snprintf(name, sizeof name, w->pattern, (int)i);
#pragma GCC diagnostic pop
        unlink(name);
    }
}

cbct_status cbct_tiff_writer_write(cbct_tiff_writer *w, const float *slices, int64_t count)
{
    if (!w->tif && !w->pattern)
        return cbct_error(CBCT_ERR_ARG, "write to a TIFF writer that is not open");
    if (count < 0 || count > w->shape[0] - w->slices_written) {
        cbct_error(CBCT_ERR_ARG, "'%s': writing %lld slices after %lld would exceed the %lld "
                   "slices of the shape; file not created", writer_name(w), (long long)count,
                   (long long)w->slices_written, (long long)w->shape[0]);
        cbct_tiff_writer_abort(w);
        return CBCT_ERR_ARG;
    }
    size_t plane = (size_t)w->shape[1] * (size_t)w->shape[2];
    cbct_status s = CBCT_OK;
    for (int64_t k = 0; k < count && !s; k++) {
        int64_t z = w->slices_written;
        const float *slice = slices + (size_t)k * plane;
        s = w->pattern ? write_stack_file(w, z, slice)
                       : cbct_tiff_write_page(w->tif, w->file.final_path, z, w->shape[0],
                                              w->shape[1], w->shape[2], w->element_type,
                                              w->spacing, w->origin, slice);
        if (!s)
            w->slices_written++;
    }
    if (s)
        cbct_tiff_writer_abort(w);
    return s;
}

cbct_status cbct_tiff_writer_commit(cbct_tiff_writer *w)
{
    if (!w->tif && !w->pattern)
        return cbct_error(CBCT_ERR_ARG, "commit of a TIFF writer that is not open");
    if (w->slices_written != w->shape[0]) {
        cbct_error(CBCT_ERR_ARG, "'%s': only %lld of %lld slices were written; file not created",
                   writer_name(w), (long long)w->slices_written, (long long)w->shape[0]);
        cbct_tiff_writer_abort(w);
        return CBCT_ERR_ARG;
    }
    cbct_status s = CBCT_OK;
    if (w->tif) {
        int flushed = TIFFFlush(w->tif);
        TIFFClose(w->tif);
        w->tif = NULL;
        if (!flushed) {
            cbct_error(CBCT_ERR_IO, "cannot write '%s': flushing failed (disk full?)%s",
                       w->file.final_path, cbct_tiff_said(w->diag));
            cbct_tiff_writer_abort(w);
            return CBCT_ERR_IO;
        }
        s = cbct_atomic_commit(&w->file);
    }
    free(w->pattern);
    free(w->diag);
    memset(w, 0, sizeof *w);
    return s;
}

void cbct_tiff_writer_abort(cbct_tiff_writer *w)
{
    if (!w)
        return;
    if (w->tif)
        TIFFClose(w->tif);
    cbct_atomic_abort(&w->file);
    if (w->pattern)
        remove_stack_files(w, w->slices_written);
    free(w->pattern);
    free(w->diag);
    memset(w, 0, sizeof *w);
}

cbct_status cbct_tiff_write(const char *path, const cbct_array *a, cbct_met_type element_type)
{
    if (!a || !a->data)
        return cbct_error(CBCT_ERR_ARG, "cannot write '%s': the array has no data", path);
    cbct_tiff_writer w;
    cbct_status s = cbct_tiff_writer_open(path, a->shape, a->spacing, a->origin, element_type,
                                          &w);
    if (!s)
        s = cbct_tiff_writer_write(&w, a->data, a->shape[0]);
    if (!s)
        s = cbct_tiff_writer_commit(&w);
    return s;
}
