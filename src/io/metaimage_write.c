/* Writing MetaImage files (MET_FLOAT, little-endian), atomically, whole or
 * slab by slab: a .mha holds header and data (ElementDataFile = LOCAL); a
 * .mhd names a .raw next to it. For a .mhd the .raw is committed first and
 * the header last, so a header never names missing data; when the header
 * cannot be written the new .raw is removed again. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "io/metaimage_internal.h"

static int ends_with(const char *text, const char *suffix)
{
    size_t a = strlen(text), b = strlen(suffix);
    return a >= b && strcasecmp(text + a - b, suffix) == 0;
}

static cbct_status check_grid(const char *path, const int64_t shape[3],
                              const double spacing[3], const double origin[3])
{
    for (int i = 0; i < 3; i++)
        if (shape[i] <= 0 || !(spacing[i] > 0) || !isfinite(spacing[i]) || !isfinite(origin[i]))
            return cbct_error(CBCT_ERR_ARG, "cannot write '%s': shape %lld x %lld x %lld, "
                              "spacing %g %g %g, origin %g %g %g: sizes and spacings must be "
                              "positive, the origin finite", path, (long long)shape[0],
                              (long long)shape[1], (long long)shape[2], spacing[0], spacing[1],
                              spacing[2], origin[0], origin[1], origin[2]);
    if (shape[0] > INT64_MAX / shape[1] || shape[0] * shape[1] > INT64_MAX / 4 / shape[2])
        return cbct_error(CBCT_ERR_ARG, "cannot write '%s': shape %lld x %lld x %lld is too "
                          "large", path, (long long)shape[0], (long long)shape[1],
                          (long long)shape[2]);
    return CBCT_OK;
}

/* The header text; `data_file` is "LOCAL" or the .raw's name. Offset is
 * the first voxel's centre (see io.h): ox - (nx - 1)/2 dx. %.17g keeps
 * every double exactly. Returns the length, or -1 when it does not fit. */
static int format_header(char *buf, size_t cap, const int64_t shape[3],
                         const double spacing[3], const double origin[3], const char *data_file)
{
    double offset[3];
    for (int i = 0; i < 3; i++)
        offset[i] = origin[i] - 0.5 * (double)(shape[i] - 1) * spacing[i];
    int n = snprintf(buf, cap,
                     "ObjectType = Image\nNDims = 3\nBinaryData = True\n"
                     "BinaryDataByteOrderMSB = False\nCompressedData = False\n"
                     "TransformMatrix = 1 0 0 0 1 0 0 0 1\n"
                     "Offset = %.17g %.17g %.17g\nCenterOfRotation = 0 0 0\n"
                     "ElementSpacing = %.17g %.17g %.17g\nDimSize = %lld %lld %lld\n"
                     "ElementType = MET_FLOAT\nElementDataFile = %s\n",
                     offset[2], offset[1], offset[0], spacing[2], spacing[1], spacing[0],
                     (long long)shape[2], (long long)shape[1], (long long)shape[0], data_file);
    return n < 0 || (size_t)n >= cap ? -1 : n;
}

cbct_status cbct_mha_writer_open(const char *path, const int64_t shape[3],
                                 const double spacing[3], const double origin[3],
                                 cbct_mha_writer *w)
{
    memset(w, 0, sizeof *w);
    int mhd = ends_with(path, ".mhd");
    if (!mhd && !ends_with(path, ".mha"))
        return cbct_error(CBCT_ERR_ARG, "cannot write '%s' as MetaImage: the name must end in "
                          ".mha or .mhd", path);
    cbct_status s = check_grid(path, shape, spacing, origin);
    if (s)
        return s;
    size_t len = strlen(path);
    char *raw_path = NULL;
    const char *data_file = "LOCAL";
    if (mhd) {
        raw_path = malloc(len + 1);
        w->header_path = malloc(len + 1);
        if (!raw_path || !w->header_path) {
            free(raw_path);
            free(w->header_path);
            w->header_path = NULL;
            return cbct_error(CBCT_ERR_MEMORY, "cannot write '%s': out of memory", path);
        }
        memcpy(w->header_path, path, len + 1);
        memcpy(raw_path, path, len + 1);
        memcpy(raw_path + len - 4, ".raw", 4);
        const char *slash = strrchr(raw_path, '/');
        data_file = slash ? slash + 1 : raw_path; /* relative to the header's folder */
    }
    if (format_header(w->header_text, sizeof w->header_text, shape, spacing, origin,
                      data_file) < 0)
        s = cbct_error(CBCT_ERR_ARG, "cannot write '%s': the file name is too long for the "
                       "header", path);
    if (!s)
        s = cbct_atomic_open(mhd ? raw_path : path, &w->data);
    if (!s && !mhd) /* the atomic file aborts itself on failure */
        s = cbct_atomic_write(&w->data, w->header_text, strlen(w->header_text));
    free(raw_path);
    if (s) {
        free(w->header_path);
        memset(w, 0, sizeof *w);
        return s;
    }
    memcpy(w->shape, shape, sizeof w->shape);
    return CBCT_OK;
}

cbct_status cbct_mha_writer_write(cbct_mha_writer *w, const float *slices, int64_t count)
{
    if (!w->data.fp)
        return cbct_error(CBCT_ERR_ARG, "write to a MetaImage writer that is not open");
    if (count < 0 || count > w->shape[0] - w->slices_written) {
        cbct_error(CBCT_ERR_ARG, "'%s': writing %lld slices after %lld would exceed the %lld "
                   "slices of the shape; file not created",
                   w->header_path ? w->header_path : w->data.final_path, (long long)count,
                   (long long)w->slices_written, (long long)w->shape[0]);
        cbct_mha_writer_abort(w);
        return CBCT_ERR_ARG;
    }
    size_t bytes = (size_t)count * (size_t)w->shape[1] * (size_t)w->shape[2] * sizeof(float);
    cbct_status s = cbct_atomic_write(&w->data, slices, bytes);
    if (s) {
        cbct_mha_writer_abort(w);
        return s;
    }
    w->slices_written += count;
    return CBCT_OK;
}

cbct_status cbct_mha_writer_commit(cbct_mha_writer *w)
{
    if (!w->data.fp)
        return cbct_error(CBCT_ERR_ARG, "commit of a MetaImage writer that is not open");
    if (w->slices_written != w->shape[0]) {
        cbct_error(CBCT_ERR_ARG, "'%s': only %lld of %lld slices were written; file not created",
                   w->header_path ? w->header_path : w->data.final_path,
                   (long long)w->slices_written, (long long)w->shape[0]);
        cbct_mha_writer_abort(w);
        return CBCT_ERR_ARG;
    }
    char *raw_path = NULL;
    if (w->header_path && w->data.final_path) {
        size_t n = strlen(w->data.final_path) + 1;
        if ((raw_path = malloc(n)))
            memcpy(raw_path, w->data.final_path, n);
    }
    if (w->header_path && !raw_path) {
        cbct_error(CBCT_ERR_MEMORY, "cannot write '%s': out of memory", w->header_path);
        cbct_mha_writer_abort(w);
        return CBCT_ERR_MEMORY;
    }
    cbct_status s = cbct_atomic_commit(&w->data);
    if (!s && w->header_path) {
        cbct_atomic_file header;
        s = cbct_atomic_open(w->header_path, &header);
        if (!s)
            s = cbct_atomic_write(&header, w->header_text, strlen(w->header_text));
        if (!s)
            s = cbct_atomic_commit(&header);
        if (s)
            unlink(raw_path); /* no header: the data alone is of no use */
    }
    free(raw_path);
    free(w->header_path);
    memset(w, 0, sizeof *w);
    return s;
}

void cbct_mha_writer_abort(cbct_mha_writer *w)
{
    if (!w)
        return;
    cbct_atomic_abort(&w->data);
    free(w->header_path);
    memset(w, 0, sizeof *w);
}

cbct_status cbct_mha_write(const char *path, const cbct_array *a)
{
    if (!a || !a->data)
        return cbct_error(CBCT_ERR_ARG, "cannot write '%s': the array has no data", path);
    cbct_mha_writer w;
    cbct_status s = cbct_mha_writer_open(path, a->shape, a->spacing, a->origin, &w);
    if (!s)
        s = cbct_mha_writer_write(&w, a->data, a->shape[0]);
    if (!s)
        s = cbct_mha_writer_commit(&w);
    return s;
}
