/* Volume files by name: .npy, MetaImage, TIFF (multi-page or stack),
 * NIfTI-1 and HDF5 behind one header / read / slab read / streaming
 * writer, so that commands accept any of them. .npy has no spacing or
 * origin: it reads as voxel size 1 mm, origin 0, and writing one drops
 * them. */
#include <string.h>
#include <strings.h>

#include "cbct/io.h"

static int ends_with(const char *text, const char *suffix)
{
    size_t a = strlen(text), b = strlen(suffix);
    return a >= b && strcasecmp(text + a - b, suffix) == 0;
}

/* "file.h5" or "file.h5:/dataset" (any of HDF5's usual extensions). */
static int is_hdf5(const char *path)
{
    static const char *const ext[] = {".h5", ".hdf5", ".hdf", ".nxs"};
    for (size_t i = 0; i < sizeof ext / sizeof ext[0]; i++) {
        if (ends_with(path, ext[i]))
            return 1;
        char with_colon[16];
        snprintf(with_colon, sizeof with_colon, "%s:", ext[i]);
        for (const char *p = strchr(path, ':'); p; p = strchr(p + 1, ':')) {
            size_t n = strlen(with_colon);
            if ((size_t)(p + 1 - path) >= n && !strncasecmp(p + 1 - n, with_colon, n))
                return 1;
        }
    }
    return 0;
}

cbct_status cbct_volume_format_of(const char *path, cbct_volume_format *out)
{
    if (path && is_hdf5(path))
        *out = CBCT_VOLUME_HDF5;
    else if (path && ends_with(path, ".npy"))
        *out = CBCT_VOLUME_NPY;
    else if (path && ends_with(path, ".mha"))
        *out = CBCT_VOLUME_MHA;
    else if (path && ends_with(path, ".mhd"))
        *out = CBCT_VOLUME_MHD;
    else if (path && (ends_with(path, ".nii") || ends_with(path, ".nii.gz")))
        *out = CBCT_VOLUME_NIFTI;
    else if (path && (ends_with(path, ".tif") || ends_with(path, ".tiff") ||
                      cbct_tiff_is_stack(path)))
        *out = CBCT_VOLUME_TIFF;
    else
        return cbct_error(CBCT_ERR_ARG, "'%s': cannot tell the volume format from the name: "
                          "expected .npy, .mha, .mhd, .tif/.tiff (or a TIFF stack: a folder "
                          "or a pattern like z_%%04d.tif), .nii, .nii.gz or .h5[:/dataset]",
                          path ? path : "(null)");
    return CBCT_OK;
}

const char *cbct_element_type_name(cbct_met_type t)
{
    switch (t) {
    case CBCT_MET_UCHAR: return "uint8";
    case CBCT_MET_CHAR: return "int8";
    case CBCT_MET_USHORT: return "uint16";
    case CBCT_MET_SHORT: return "int16";
    case CBCT_MET_UINT: return "uint32";
    case CBCT_MET_INT: return "int32";
    case CBCT_MET_FLOAT: return "float32";
    case CBCT_MET_DOUBLE: return "float64";
    }
    return "unknown";
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

/* Copies a format's grid into the common header. */
static void take_grid(cbct_volume_header *out, const int64_t shape[3], const double spacing[3],
                      const double origin[3], const char *dtype_name)
{
    memcpy(out->shape, shape, sizeof out->shape);
    memcpy(out->spacing, spacing, sizeof out->spacing);
    memcpy(out->origin, origin, sizeof out->origin);
    out->dtype_name = dtype_name;
}

cbct_status cbct_volume_read_header(const char *path, cbct_volume_header *out)
{
    memset(out, 0, sizeof *out);
    cbct_status s = cbct_volume_format_of(path, &out->format);
    if (s)
        return s;
    switch (out->format) {
    case CBCT_VOLUME_NPY:
        if ((s = cbct_npy_read_header(path, &out->npy)))
            return s;
        memcpy(out->shape, out->npy.shape, sizeof out->shape);
        for (int i = 0; i < 3; i++)
            out->spacing[i] = 1.0;
        out->dtype_name = npy_dtype_name(out->npy.dtype);
        return CBCT_OK;
    case CBCT_VOLUME_MHA:
    case CBCT_VOLUME_MHD:
        /* The extension says .mha or .mhd; the header says where the data
         * is (a .mha may name a separate file, a .mhd may say LOCAL). */
        if ((s = cbct_mha_read_header(path, &out->mha)))
            return s;
        take_grid(out, out->mha.shape, out->mha.spacing, out->mha.origin,
                  cbct_met_type_name(out->mha.element_type));
        return CBCT_OK;
    case CBCT_VOLUME_TIFF:
        if ((s = cbct_tiff_read_header(path, &out->tiff)))
            return s;
        take_grid(out, out->tiff.shape, out->tiff.spacing, out->tiff.origin,
                  cbct_element_type_name(out->tiff.element_type));
        return CBCT_OK;
    case CBCT_VOLUME_NIFTI:
        if ((s = cbct_nifti_read_header(path, &out->nifti)))
            return s;
        take_grid(out, out->nifti.shape, out->nifti.spacing, out->nifti.origin,
                  cbct_element_type_name(out->nifti.element_type));
        return CBCT_OK;
    case CBCT_VOLUME_HDF5:
        if ((s = cbct_hdf5_read_header(path, &out->hdf5)))
            return s;
        take_grid(out, out->hdf5.shape, out->hdf5.spacing, out->hdf5.origin,
                  cbct_element_type_name(out->hdf5.element_type));
        return CBCT_OK;
    }
    return cbct_error(CBCT_ERR_INTERNAL, "'%s': unknown volume format %d", path,
                      (int)out->format);
}

cbct_status cbct_volume_read_slices(const char *path, const cbct_volume_header *h,
                                    int64_t first, int64_t count, float *dst)
{
    switch (h->format) {
    case CBCT_VOLUME_NPY: return cbct_npy_read_slices(path, &h->npy, first, count, dst);
    case CBCT_VOLUME_MHA:
    case CBCT_VOLUME_MHD: return cbct_mha_read_slices(&h->mha, first, count, dst);
    case CBCT_VOLUME_TIFF: return cbct_tiff_read_slices(&h->tiff, first, count, dst);
    case CBCT_VOLUME_NIFTI: return cbct_nifti_read_slices(&h->nifti, first, count, dst);
    case CBCT_VOLUME_HDF5: return cbct_hdf5_read_slices(&h->hdf5, first, count, dst);
    }
    return cbct_error(CBCT_ERR_ARG, "'%s': the volume header passed in is not valid", path);
}

cbct_status cbct_volume_read(const char *path, cbct_array *out)
{
    memset(out, 0, sizeof *out);
    cbct_volume_format format;
    cbct_status s = cbct_volume_format_of(path, &format);
    if (s)
        return s;
    switch (format) {
    case CBCT_VOLUME_MHA:
    case CBCT_VOLUME_MHD: return cbct_mha_read(path, out);
    case CBCT_VOLUME_TIFF: return cbct_tiff_read(path, out);
    case CBCT_VOLUME_NIFTI: return cbct_nifti_read(path, out);
    case CBCT_VOLUME_HDF5: return cbct_hdf5_read(path, out);
    case CBCT_VOLUME_NPY: break;
    }
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
    if (!a || !a->data)
        return cbct_error(CBCT_ERR_ARG, "cannot write '%s': the array has no data",
                          path ? path : "(null)");
    cbct_volume_writer w;
    cbct_status s = cbct_volume_writer_open(path, a->shape, a->spacing, a->origin, &w);
    if (!s)
        s = cbct_volume_writer_write(&w, a->data, a->shape[0]);
    if (!s)
        s = cbct_volume_writer_commit(&w);
    return s;
}

cbct_status cbct_volume_writer_open(const char *path, const int64_t shape[3],
                                    const double spacing[3], const double origin[3],
                                    cbct_volume_writer *w)
{
    memset(w, 0, sizeof *w);
    cbct_status s = cbct_volume_format_of(path, &w->format);
    if (s)
        return s;
    switch (w->format) {
    case CBCT_VOLUME_NPY: return cbct_npy_writer_open(path, shape, &w->npy);
    case CBCT_VOLUME_MHA:
    case CBCT_VOLUME_MHD: return cbct_mha_writer_open(path, shape, spacing, origin, &w->mha);
    case CBCT_VOLUME_TIFF:
        return cbct_tiff_writer_open(path, shape, spacing, origin, CBCT_MET_FLOAT, &w->tiff);
    case CBCT_VOLUME_NIFTI: return cbct_nifti_writer_open(path, shape, spacing, origin, &w->nifti);
    case CBCT_VOLUME_HDF5: return cbct_hdf5_writer_open(path, shape, spacing, origin, &w->hdf5);
    }
    return cbct_error(CBCT_ERR_INTERNAL, "'%s': unknown volume format", path);
}

cbct_status cbct_volume_writer_write(cbct_volume_writer *w, const float *slices, int64_t count)
{
    switch (w->format) {
    case CBCT_VOLUME_NPY: return cbct_npy_writer_write(&w->npy, slices, count);
    case CBCT_VOLUME_MHA:
    case CBCT_VOLUME_MHD: return cbct_mha_writer_write(&w->mha, slices, count);
    case CBCT_VOLUME_TIFF: return cbct_tiff_writer_write(&w->tiff, slices, count);
    case CBCT_VOLUME_NIFTI: return cbct_nifti_writer_write(&w->nifti, slices, count);
    case CBCT_VOLUME_HDF5: return cbct_hdf5_writer_write(&w->hdf5, slices, count);
    }
    return cbct_error(CBCT_ERR_ARG, "write to a volume writer that is not open");
}

cbct_status cbct_volume_writer_commit(cbct_volume_writer *w)
{
    switch (w->format) {
    case CBCT_VOLUME_NPY: return cbct_npy_writer_commit(&w->npy);
    case CBCT_VOLUME_MHA:
    case CBCT_VOLUME_MHD: return cbct_mha_writer_commit(&w->mha);
    case CBCT_VOLUME_TIFF: return cbct_tiff_writer_commit(&w->tiff);
    case CBCT_VOLUME_NIFTI: return cbct_nifti_writer_commit(&w->nifti);
    case CBCT_VOLUME_HDF5: return cbct_hdf5_writer_commit(&w->hdf5);
    }
    return cbct_error(CBCT_ERR_ARG, "commit of a volume writer that is not open");
}

void cbct_volume_writer_abort(cbct_volume_writer *w)
{
    if (!w)
        return;
    cbct_npy_writer_abort(&w->npy);
    cbct_mha_writer_abort(&w->mha);
    cbct_tiff_writer_abort(&w->tiff);
    cbct_nifti_writer_abort(&w->nifti);
    cbct_hdf5_writer_abort(&w->hdf5);
}
