/* Writing NIfTI-1 volumes (float32, little-endian), atomically and slab by
 * slab: a .nii as it is, a .nii.gz through zlib's deflate (gzip wrapper). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>

#include "io/nifti_internal.h"

/* Compressed bytes handed to the atomic file at a time. */
#define GZ_OUT_BYTES ((size_t)1 << 16)
/* deflateInit2: 15-bit window, +16 for a gzip header and trailer. */
#define GZIP_WINDOW_BITS (15 + 16)
#define GZIP_MEM_LEVEL 8
/* NIfTI-1 sizes are 16-bit signed. */
#define NIFTI1_MAX_DIM 32767

static int ends_with(const char *text, const char *suffix)
{
    size_t a = strlen(text), b = strlen(suffix);
    return a >= b && strcasecmp(text + a - b, suffix) == 0;
}

/* Feeds `n` bytes (or finishes the stream) through deflate into the file. */
static cbct_status deflate_out(cbct_nifti_writer *w, const void *data, size_t n, int finish)
{
    z_stream *z = w->gz;
    unsigned char out[GZ_OUT_BYTES];
    const unsigned char *p = data;
    cbct_status s = CBCT_OK;
    do {
        /* avail_in is 32-bit: hand the input over in pieces. */
        size_t piece = n > (1u << 30) ? (1u << 30) : n;
        z->next_in = (unsigned char *)p;
        z->avail_in = (uInt)piece;
        int flush = finish && piece == n ? Z_FINISH : Z_NO_FLUSH;
        int rc;
        do {
            z->next_out = out;
            z->avail_out = sizeof out;
            rc = deflate(z, flush);
            if (rc == Z_STREAM_ERROR)
                return cbct_error(CBCT_ERR_INTERNAL, "'%s': zlib deflate failed",
                                  w->file.final_path);
            s = cbct_atomic_write(&w->file, out, sizeof out - z->avail_out);
        } while (!s && (z->avail_out == 0 || (flush == Z_FINISH && rc != Z_STREAM_END)));
        p += piece;
        n -= piece;
    } while (!s && n > 0);
    return s;
}

static cbct_status put(cbct_nifti_writer *w, const void *data, size_t n)
{
    return w->gz ? deflate_out(w, data, n, 0) : cbct_atomic_write(&w->file, data, n);
}

cbct_status cbct_nifti_writer_open(const char *path, const int64_t shape[3],
                                   const double spacing[3], const double origin[3],
                                   cbct_nifti_writer *w)
{
    memset(w, 0, sizeof *w);
    for (int i = 0; i < 3; i++)
        if (shape[i] <= 0 || shape[i] > NIFTI1_MAX_DIM || !(spacing[i] > 0) ||
            !isfinite(spacing[i]) || !isfinite(origin[i]))
            return cbct_error(CBCT_ERR_ARG, "cannot write '%s': shape %lld x %lld x %lld, "
                              "spacing %g %g %g, origin %g %g %g: NIfTI-1 sizes are 1..32767, "
                              "spacings positive, the origin finite", path, (long long)shape[0],
                              (long long)shape[1], (long long)shape[2], spacing[0], spacing[1],
                              spacing[2], origin[0], origin[1], origin[2]);
    if (!ends_with(path, ".nii") && !ends_with(path, ".nii.gz"))
        return cbct_error(CBCT_ERR_ARG, "cannot write '%s' as NIfTI: the name must end in .nii "
                          "or .nii.gz", path);
    cbct_status s = cbct_atomic_open(path, &w->file);
    if (s)
        return s;
    if (ends_with(path, ".gz")) {
        z_stream *z = calloc(1, sizeof *z);
        if (!z || deflateInit2(z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, GZIP_WINDOW_BITS,
                               GZIP_MEM_LEVEL, Z_DEFAULT_STRATEGY) != Z_OK) {
            free(z);
            cbct_atomic_abort(&w->file);
            return cbct_error(CBCT_ERR_MEMORY, "cannot write '%s': zlib cannot start", path);
        }
        w->gz = z;
    }
    unsigned char header[NIFTI1_DATA_OFFSET];
    cbct_nifti_format_header(shape, spacing, origin, header);
    if ((s = put(w, header, sizeof header))) {
        cbct_nifti_writer_abort(w);
        return s;
    }
    memcpy(w->shape, shape, sizeof w->shape);
    return CBCT_OK;
}

cbct_status cbct_nifti_writer_write(cbct_nifti_writer *w, const float *slices, int64_t count)
{
    if (!w->file.fp)
        return cbct_error(CBCT_ERR_ARG, "write to a NIfTI writer that is not open");
    if (count < 0 || count > w->shape[0] - w->slices_written) {
        cbct_error(CBCT_ERR_ARG, "'%s': writing %lld slices after %lld would exceed the %lld "
                   "slices of the shape; file not created", w->file.final_path,
                   (long long)count, (long long)w->slices_written, (long long)w->shape[0]);
        cbct_nifti_writer_abort(w);
        return CBCT_ERR_ARG;
    }
    size_t bytes = (size_t)count * (size_t)w->shape[1] * (size_t)w->shape[2] * sizeof(float);
    cbct_status s = put(w, slices, bytes);
    if (s) {
        cbct_nifti_writer_abort(w);
        return s;
    }
    w->slices_written += count;
    return CBCT_OK;
}

cbct_status cbct_nifti_writer_commit(cbct_nifti_writer *w)
{
    if (!w->file.fp)
        return cbct_error(CBCT_ERR_ARG, "commit of a NIfTI writer that is not open");
    if (w->slices_written != w->shape[0]) {
        cbct_error(CBCT_ERR_ARG, "'%s': only %lld of %lld slices were written; file not created",
                   w->file.final_path, (long long)w->slices_written, (long long)w->shape[0]);
        cbct_nifti_writer_abort(w);
        return CBCT_ERR_ARG;
    }
    cbct_status s = w->gz ? deflate_out(w, NULL, 0, 1) : CBCT_OK;
    if (w->gz) {
        deflateEnd(w->gz);
        free(w->gz);
        w->gz = NULL;
    }
    if (s) {
        cbct_nifti_writer_abort(w);
        return s;
    }
    s = cbct_atomic_commit(&w->file);
    memset(w, 0, sizeof *w);
    return s;
}

void cbct_nifti_writer_abort(cbct_nifti_writer *w)
{
    if (!w)
        return;
    if (w->gz) {
        deflateEnd(w->gz);
        free(w->gz);
    }
    cbct_atomic_abort(&w->file);
    memset(w, 0, sizeof *w);
}

cbct_status cbct_nifti_write(const char *path, const cbct_array *a)
{
    if (!a || !a->data)
        return cbct_error(CBCT_ERR_ARG, "cannot write '%s': the array has no data", path);
    cbct_nifti_writer w;
    cbct_status s = cbct_nifti_writer_open(path, a->shape, a->spacing, a->origin, &w);
    if (!s)
        s = cbct_nifti_writer_write(&w, a->data, a->shape[0]);
    if (!s)
        s = cbct_nifti_writer_commit(&w);
    return s;
}
