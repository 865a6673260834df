/* Volume files by extension: .npy, .mha, .mhd behind one header / read /
 * slab read / streaming writer, so that commands accept any of them.
 * .npy has no spacing or origin: it reads as voxel size 1 mm, origin 0,
 * and writing one drops them. */
#include <string.h>
#include <strings.h>

#include "cbct/io.h"

static int ends_with(const char *text, const char *suffix)
{
    size_t a = strlen(text), b = strlen(suffix);
    return a >= b && strcasecmp(text + a - b, suffix) == 0;
}

cbct_status cbct_volume_format_of(const char *path, cbct_volume_format *out)
{
    if (path && ends_with(path, ".npy"))
        *out = CBCT_VOLUME_NPY;
    else if (path && ends_with(path, ".mha"))
        *out = CBCT_VOLUME_MHA;
    else if (path && ends_with(path, ".mhd"))
        *out = CBCT_VOLUME_MHD;
    else
        return cbct_error(CBCT_ERR_ARG, "'%s': cannot tell the volume format from the name: "
                          "expected .npy, .mha or .mhd", path ? path : "(null)");
    return CBCT_OK;
}

static const char *npy_dtype_name(cbct_dtype d)
{
    switch (d) {
    case CBCT_DTYPE_F32: return "float32";
    case CBCT_DTYPE_F64: return "float64";
    case CBCT_DTYPE_U16: return "uint16";
    }
    return "unknown";
}

cbct_status cbct_volume_read_header(const char *path, cbct_volume_header *out)
{
    memset(out, 0, sizeof *out);
    cbct_status s = cbct_volume_format_of(path, &out->format);
    if (s)
        return s;
    if (out->format == CBCT_VOLUME_NPY) {
        if ((s = cbct_npy_read_header(path, &out->npy)))
            return s;
        memcpy(out->shape, out->npy.shape, sizeof out->shape);
        for (int i = 0; i < 3; i++)
            out->spacing[i] = 1.0;
        out->dtype_name = npy_dtype_name(out->npy.dtype);
        return CBCT_OK;
    }
    /* The extension says .mha or .mhd; the header says where the data is
     * (a .mha may name a separate file, a .mhd may say LOCAL). */
    if ((s = cbct_mha_read_header(path, &out->mha)))
        return s;
    memcpy(out->shape, out->mha.shape, sizeof out->shape);
    memcpy(out->spacing, out->mha.spacing, sizeof out->spacing);
    memcpy(out->origin, out->mha.origin, sizeof out->origin);
    out->dtype_name = cbct_met_type_name(out->mha.element_type);
    return CBCT_OK;
}

cbct_status cbct_volume_read_slices(const char *path, const cbct_volume_header *h,
                                    int64_t first, int64_t count, float *dst)
{
    if (h->format == CBCT_VOLUME_NPY)
        return cbct_npy_read_slices(path, &h->npy, first, count, dst);
    return cbct_mha_read_slices(&h->mha, first, count, dst);
}

cbct_status cbct_volume_read(const char *path, cbct_array *out)
{
    memset(out, 0, sizeof *out);
    cbct_volume_format format;
    cbct_status s = cbct_volume_format_of(path, &format);
    if (s)
        return s;
    if (format != CBCT_VOLUME_NPY)
        return cbct_mha_read(path, out);
    if ((s = cbct_npy_read(path, out)))
        return s;
    for (int i = 0; i < 3; i++) {
        out->spacing[i] = 1.0;
        out->origin[i] = 0.0;
    }
    return CBCT_OK;
}

cbct_status cbct_volume_write(const char *path, const cbct_array *a)
{
    cbct_volume_format format;
    cbct_status s = cbct_volume_format_of(path, &format);
    if (s)
        return s;
    return format == CBCT_VOLUME_NPY ? cbct_npy_write(path, a) : cbct_mha_write(path, a);
}

cbct_status cbct_volume_writer_open(const char *path, const int64_t shape[3],
                                    const double spacing[3], const double origin[3],
                                    cbct_volume_writer *w)
{
    memset(w, 0, sizeof *w);
    cbct_status s = cbct_volume_format_of(path, &w->format);
    if (s)
        return s;
    if (w->format == CBCT_VOLUME_NPY)
        return cbct_npy_writer_open(path, shape, &w->npy);
    return cbct_mha_writer_open(path, shape, spacing, origin, &w->mha);
}

cbct_status cbct_volume_writer_write(cbct_volume_writer *w, const float *slices, int64_t count)
{
    if (w->format == CBCT_VOLUME_NPY)
        return cbct_npy_writer_write(&w->npy, slices, count);
    return cbct_mha_writer_write(&w->mha, slices, count);
}

cbct_status cbct_volume_writer_commit(cbct_volume_writer *w)
{
    if (w->format == CBCT_VOLUME_NPY)
        return cbct_npy_writer_commit(&w->npy);
    return cbct_mha_writer_commit(&w->mha);
}

void cbct_volume_writer_abort(cbct_volume_writer *w)
{
    if (!w)
        return;
    cbct_npy_writer_abort(&w->npy);
    cbct_mha_writer_abort(&w->mha);
}
