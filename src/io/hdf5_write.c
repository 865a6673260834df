/* Writing HDF5 volumes (float32, contiguous) slab by slab with hyperslab
 * writes, atomically: HDF5 writes the temporary file of a cbct_atomic_file
 * (by name; the descriptor we hold stays open for the fsync at commit),
 * which is renamed over the target only when complete. */
#include <math.h>
#include <string.h>

#include "io/hdf5_internal.h"

static const char *target(const cbct_hdf5_writer *w)
{
    return w->file.final_path ? w->file.final_path : "(HDF5)";
}

static cbct_status write_triple(hid_t d, const char *name, const double v[3], const char *file)
{
    hsize_t three = 3;
    hid_t sp = H5Screate_simple(1, &three, NULL);
    hid_t a = sp >= 0 ? H5Acreate2(d, name, H5T_IEEE_F64LE, sp, H5P_DEFAULT, H5P_DEFAULT) : -1;
    herr_t rc = a >= 0 ? H5Awrite(a, H5T_NATIVE_DOUBLE, v) : -1;
    if (a >= 0)
        H5Aclose(a);
    if (sp >= 0)
        H5Sclose(sp);
    if (rc < 0)
        return cbct_error(CBCT_ERR_IO, "cannot write attribute '%s' of '%s'%s", name, file,
                          cbct_hdf5_said());
    return CBCT_OK;
}

/* Creates the groups above `dataset` ("/a/b/volume": /a, /a/b). */
static hid_t create_dataset(hid_t f, const char *dataset, hid_t space)
{
    hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
    if (lcpl < 0 || H5Pset_create_intermediate_group(lcpl, 1) < 0)
        return -1;
    hid_t d = H5Dcreate2(f, dataset, H5T_IEEE_F32LE, space, lcpl, H5P_DEFAULT, H5P_DEFAULT);
    H5Pclose(lcpl);
    return d;
}

cbct_status cbct_hdf5_writer_open(const char *spec, const int64_t shape[3],
                                  const double spacing[3], const double origin[3],
                                  cbct_hdf5_writer *w)
{
    memset(w, 0, sizeof *w);
    char file[CBCT_MHA_PATH_MAX], dataset[1024];
    cbct_status s = cbct_hdf5_split_name(spec, file, sizeof file, dataset, sizeof dataset);
    if (s)
        return s;
    if (!dataset[0])
        snprintf(dataset, sizeof dataset, "%s", CBCT_HDF5_DEFAULT_DATASET);
    for (int i = 0; i < 3; i++)
        if (shape[i] <= 0 || !(spacing[i] > 0) || !isfinite(spacing[i]) || !isfinite(origin[i]))
            return cbct_error(CBCT_ERR_ARG, "cannot write '%s': shape %lld x %lld x %lld, "
                              "spacing %g %g %g, origin %g %g %g: sizes and spacings must be "
                              "positive, the origin finite", spec, (long long)shape[0],
                              (long long)shape[1], (long long)shape[2], spacing[0], spacing[1],
                              spacing[2], origin[0], origin[1], origin[2]);
    if ((s = cbct_atomic_open(file, &w->file)))
        return s;
    cbct_hdf5_quiet();
    hsize_t dims[3] = {(hsize_t)shape[0], (hsize_t)shape[1], (hsize_t)shape[2]};
    w->file_id = H5Fcreate(w->file.temp_path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    w->space_id = H5Screate_simple(3, dims, NULL);
    if (w->file_id >= 0 && w->space_id >= 0)
        w->dataset_id = create_dataset(w->file_id, dataset, w->space_id);
    if (w->file_id < 0 || w->space_id < 0 || w->dataset_id <= 0)
        s = cbct_error(CBCT_ERR_IO, "cannot create dataset '%s' in '%s'%s", dataset, file,
                       cbct_hdf5_said());
    if (!s)
        s = write_triple(w->dataset_id, "spacing", spacing, file);
    if (!s)
        s = write_triple(w->dataset_id, "origin", origin, file);
    if (s) {
        cbct_hdf5_writer_abort(w);
        return s;
    }
    memcpy(w->shape, shape, sizeof w->shape);
    return CBCT_OK;
}

cbct_status cbct_hdf5_writer_write(cbct_hdf5_writer *w, const float *slices, int64_t count)
{
    if (w->dataset_id <= 0)
        return cbct_error(CBCT_ERR_ARG, "write to an HDF5 writer that is not open");
    if (count < 0 || count > w->shape[0] - w->slices_written) {
        cbct_error(CBCT_ERR_ARG, "'%s': writing %lld slices after %lld would exceed the %lld "
                   "slices of the shape; file not created", target(w), (long long)count,
                   (long long)w->slices_written, (long long)w->shape[0]);
        cbct_hdf5_writer_abort(w);
        return CBCT_ERR_ARG;
    }
    if (count == 0)
        return CBCT_OK;
    cbct_hdf5_quiet();
    hsize_t start[3] = {(hsize_t)w->slices_written, 0, 0};
    hsize_t n[3] = {(hsize_t)count, (hsize_t)w->shape[1], (hsize_t)w->shape[2]};
    hid_t mem = H5Screate_simple(3, n, NULL);
    herr_t rc = mem < 0 ? -1
              : H5Sselect_hyperslab(w->space_id, H5S_SELECT_SET, start, NULL, n, NULL);
    if (rc >= 0)
        rc = H5Dwrite(w->dataset_id, H5T_NATIVE_FLOAT, mem, w->space_id, H5P_DEFAULT, slices);
    if (mem >= 0)
        H5Sclose(mem);
    if (rc < 0) {
        cbct_error(CBCT_ERR_IO, "cannot write slices [%lld, %lld) of '%s' (disk full?)%s",
                   (long long)w->slices_written, (long long)(w->slices_written + count),
                   target(w), cbct_hdf5_said());
        cbct_hdf5_writer_abort(w);
        return CBCT_ERR_IO;
    }
    w->slices_written += count;
    return CBCT_OK;
}

/* Closes the HDF5 handles; returns -1 when closing the file failed (the
 * last metadata is written then). */
static int close_handles(cbct_hdf5_writer *w)
{
    int rc = 0;
    if (w->dataset_id > 0)
        H5Dclose(w->dataset_id);
    if (w->space_id > 0)
        H5Sclose(w->space_id);
    if (w->file_id > 0 && H5Fclose(w->file_id) < 0)
        rc = -1;
    w->dataset_id = w->space_id = w->file_id = 0;
    return rc;
}

cbct_status cbct_hdf5_writer_commit(cbct_hdf5_writer *w)
{
    if (w->dataset_id <= 0)
        return cbct_error(CBCT_ERR_ARG, "commit of an HDF5 writer that is not open");
    if (w->slices_written != w->shape[0]) {
        cbct_error(CBCT_ERR_ARG, "'%s': only %lld of %lld slices were written; file not created",
                   target(w), (long long)w->slices_written, (long long)w->shape[0]);
        cbct_hdf5_writer_abort(w);
        return CBCT_ERR_ARG;
    }
    cbct_hdf5_quiet();
    if (close_handles(w) < 0) {
        cbct_error(CBCT_ERR_IO, "cannot finish '%s' (disk full?)%s", target(w),
                   cbct_hdf5_said());
        cbct_hdf5_writer_abort(w);
        return CBCT_ERR_IO;
    }
    /* HDF5 wrote the temporary file by name; the atomic file's descriptor
     * is the same file, so its fsync makes HDF5's data durable. */
    cbct_status s = cbct_atomic_commit(&w->file);
    memset(w, 0, sizeof *w);
    return s;
}

void cbct_hdf5_writer_abort(cbct_hdf5_writer *w)
{
    if (!w)
        return;
    cbct_hdf5_quiet();
    close_handles(w);
    cbct_atomic_abort(&w->file);
    memset(w, 0, sizeof *w);
}

cbct_status cbct_hdf5_write(const char *spec, const cbct_array *a)
{
    if (!a || !a->data)
        return cbct_error(CBCT_ERR_ARG, "cannot write '%s': the array has no data", spec);
    cbct_hdf5_writer w;
    cbct_status s = cbct_hdf5_writer_open(spec, a->shape, a->spacing, a->origin, &w);
    if (!s)
        s = cbct_hdf5_writer_write(&w, a->data, a->shape[0]);
    if (!s)
        s = cbct_hdf5_writer_commit(&w);
    return s;
}
