/* Reading HDF5 datasets as float32 volumes: `file.h5:/path/to/dataset`
 * (default CBCT_HDF5_DEFAULT_DATASET, or the only dataset at the root),
 * hyperslab reads per z-slab, spacing and origin from attributes. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "io/hdf5_internal.h"

static herr_t keep_innermost(unsigned n, const H5E_error2_t *e, void *user)
{
    if (n == 0) /* H5E_WALK_DOWNWARD: 0 is where the error was detected */
        snprintf(user, 256, "%s", e->desc ? e->desc : "");
    return 0;
}

void cbct_hdf5_quiet(void)
{
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
}

const char *cbct_hdf5_said(void)
{
    static _Thread_local char text[256 + 16];
    char desc[256] = "";
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, keep_innermost, desc);
    if (!desc[0])
        return "";
    snprintf(text, sizeof text, " (HDF5: %s)", desc);
    return text;
}

cbct_status cbct_hdf5_split_name(const char *spec, char *file, size_t file_cap, char *dataset,
                                 size_t dataset_cap)
{
    /* The dataset part starts at the first ":/" after an HDF5 extension,
     * so that folders with colons still work ("a:b/x.h5"). */
    const char *colon = NULL;
    for (const char *p = strstr(spec, ":/"); p; p = strstr(p + 1, ":/"))
        if ((p - spec >= 3 && !strncasecmp(p - 3, ".h5", 3)) ||
            (p - spec >= 4 && (!strncasecmp(p - 4, ".hdf", 4) || !strncasecmp(p - 4, ".nxs", 4))) ||
            (p - spec >= 5 && !strncasecmp(p - 5, ".hdf5", 5))) {
            colon = p;
            break;
        }
    size_t n = colon ? (size_t)(colon - spec) : strlen(spec);
    const char *ds = colon ? colon + 1 : "";
    if (n >= file_cap || strlen(ds) >= dataset_cap)
        return cbct_error(CBCT_ERR_ARG, "HDF5 name '%.64s...' is too long", spec);
    memcpy(file, spec, n);
    file[n] = '\0';
    snprintf(dataset, dataset_cap, "%s", ds);
    return CBCT_OK;
}

/* H5Literate callback: remembers a dataset at the root; counts them. */
typedef struct root_datasets {
    int count;
    char name[1024];
} root_datasets;

static herr_t note_dataset(hid_t group, const char *name, const H5L_info_t *info, void *user)
{
    (void)info;
    root_datasets *r = user;
    hid_t o = H5Oopen(group, name, H5P_DEFAULT);
    if (o >= 0 && H5Iget_type(o) == H5I_DATASET) {
        r->count++;
        snprintf(r->name, sizeof r->name, "/%s", name);
    }
    if (o >= 0)
        H5Oclose(o);
    return 0;
}

/* The dataset to read: the given one, else the default, else the only one. */
static cbct_status choose_dataset(hid_t f, cbct_hdf5_header *h)
{
    if (h->dataset[0])
        return CBCT_OK;
    const char *default_name = &CBCT_HDF5_DEFAULT_DATASET[1]; /* without its leading '/' */
    if (H5Lexists(f, default_name, H5P_DEFAULT) > 0) {
        snprintf(h->dataset, sizeof h->dataset, "%s", CBCT_HDF5_DEFAULT_DATASET);
        return CBCT_OK;
    }
    root_datasets r = {0, ""};
    H5Literate(f, H5_INDEX_NAME, H5_ITER_INC, NULL, note_dataset, &r);
    if (r.count != 1)
        return cbct_error(CBCT_ERR_FORMAT, "'%s' has no dataset '%s' and %d datasets at its "
                          "root: name one as '%s:/path/to/dataset'", h->file,
                          CBCT_HDF5_DEFAULT_DATASET, r.count, h->file);
    snprintf(h->dataset, sizeof h->dataset, "%s", r.name);
    return CBCT_OK;
}

static int type_of(hid_t t, cbct_met_type *out)
{
    H5T_class_t c = H5Tget_class(t);
    size_t size = H5Tget_size(t);
    if (c == H5T_FLOAT)
        *out = size == 4 ? CBCT_MET_FLOAT : CBCT_MET_DOUBLE;
    else if (c == H5T_INTEGER) {
        int sign = H5Tget_sign(t) == H5T_SGN_2;
        if (size == 1)
            *out = sign ? CBCT_MET_CHAR : CBCT_MET_UCHAR;
        else if (size == 2)
            *out = sign ? CBCT_MET_SHORT : CBCT_MET_USHORT;
        else
            *out = sign ? CBCT_MET_INT : CBCT_MET_UINT; /* 64-bit: converted all the same */
    } else
        return 0;
    return 1;
}

/* A 3-double attribute of the dataset, if there; 1 when read. */
static int read_triple(hid_t d, const char *name, double v[3])
{
    if (H5Aexists(d, name) <= 0)
        return 0;
    hid_t a = H5Aopen(d, name, H5P_DEFAULT);
    hid_t sp = a >= 0 ? H5Aget_space(a) : -1;
    int ok = sp >= 0 && H5Sget_simple_extent_npoints(sp) == 3 &&
             H5Aread(a, H5T_NATIVE_DOUBLE, v) >= 0;
    if (sp >= 0)
        H5Sclose(sp);
    if (a >= 0)
        H5Aclose(a);
    return ok;
}

static cbct_status describe(hid_t d, cbct_hdf5_header *h)
{
    hid_t space = H5Dget_space(d), type = H5Dget_type(d);
    cbct_status s = CBCT_OK;
    hsize_t dims[H5S_MAX_RANK];
    int rank = space >= 0 ? H5Sget_simple_extent_ndims(space) : -1;
    if (rank < 2 || rank > 3 || H5Sget_simple_extent_dims(space, dims, NULL) < 0)
        s = cbct_error(CBCT_ERR_FORMAT, "'%s:%s' has %d dimensions: expected a 3D volume "
                       "(nz, ny, nx) or a 2D image", h->file, h->dataset, rank);
    else if (type < 0 || !type_of(type, &h->element_type))
        s = cbct_error(CBCT_ERR_FORMAT, "'%s:%s' holds neither integers nor floats", h->file,
                       h->dataset);
    if (!s) {
        h->ndim = rank;
        h->shape[0] = rank == 3 ? (int64_t)dims[0] : 1;
        h->shape[1] = (int64_t)dims[rank - 2];
        h->shape[2] = (int64_t)dims[rank - 1];
        for (int i = 0; i < 3 && !s; i++)
            if (h->shape[i] <= 0 || h->shape[i] > ((int64_t)1 << 40))
                s = cbct_error(CBCT_ERR_FORMAT, "'%s:%s': dimension %d of size %lld", h->file,
                               h->dataset, i, (long long)h->shape[i]);
    }
    if (space >= 0)
        H5Sclose(space);
    if (type >= 0)
        H5Tclose(type);
    if (s)
        return s;
    double um[3];
    for (int i = 0; i < 3; i++) {
        h->spacing[i] = 1.0;
        h->origin[i] = 0.0;
    }
    if (read_triple(d, "spacing", h->spacing))
        h->has_spacing = 1;
    else if (read_triple(d, "element_size_um", um)) {
        for (int i = 0; i < 3; i++)
            h->spacing[i] = um[i] * 1e-3;
        h->has_spacing = 1;
    }
    read_triple(d, "origin", h->origin);
    for (int i = 0; i < 3; i++)
        if (!(h->spacing[i] > 0) || !(h->origin[i] == h->origin[i]))
            return cbct_error(CBCT_ERR_FORMAT, "'%s:%s': attribute spacing %g %g %g / origin %g "
                              "%g %g: expected positive spacings and a finite origin (mm)",
                              h->file, h->dataset, h->spacing[0], h->spacing[1], h->spacing[2],
                              h->origin[0], h->origin[1], h->origin[2]);
    return CBCT_OK;
}

/* Opens file and dataset (read-only); -1 with the error recorded. */
static hid_t open_dataset(const cbct_hdf5_header *h, hid_t *file)
{
    cbct_hdf5_quiet();
    FILE *probe = fopen(h->file, "rb");
    if (!probe) {
        cbct_error(CBCT_ERR_IO, "cannot open '%s': %s", h->file, strerror(errno));
        return -1;
    }
    fclose(probe);
    *file = H5Fopen(h->file, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (*file < 0) {
        cbct_error(CBCT_ERR_FORMAT, "'%s' is not an HDF5 file cbct can read (truncated or "
                   "corrupt?)%s", h->file, cbct_hdf5_said());
        return -1;
    }
    return 0;
}

cbct_status cbct_hdf5_read_header(const char *spec, cbct_hdf5_header *out)
{
    memset(out, 0, sizeof *out);
    cbct_status s = cbct_hdf5_split_name(spec, out->file, sizeof out->file, out->dataset,
                                         sizeof out->dataset);
    if (s)
        return s;
    hid_t f = -1;
    if (open_dataset(out, &f) < 0)
        return cbct_last_status();
    s = choose_dataset(f, out);
    hid_t d = -1;
    if (!s && (H5Lexists(f, out->dataset, H5P_DEFAULT) <= 0 ||
               (d = H5Dopen2(f, out->dataset, H5P_DEFAULT)) < 0))
        s = cbct_error(CBCT_ERR_FORMAT, "'%s' has no dataset '%s'%s", out->file, out->dataset,
                       cbct_hdf5_said());
    if (!s)
        s = describe(d, out);
    if (d >= 0)
        H5Dclose(d);
    H5Fclose(f);
    if (s)
        memset(out, 0, sizeof *out);
    return s;
}

cbct_status cbct_hdf5_read_slices(const cbct_hdf5_header *h, int64_t first, int64_t count,
                                  float *dst)
{
    if (h->shape[0] <= 0 || h->shape[1] <= 0 || h->shape[2] <= 0 || !h->file[0] ||
        !h->dataset[0])
        return cbct_error(CBCT_ERR_ARG, "the HDF5 header passed in is not valid");
    if (first < 0 || count < 0 || first > h->shape[0] - count)
        return cbct_error(CBCT_ERR_ARG, "'%s:%s': slices [%lld, %lld) are outside the %lld "
                          "z-slices of the dataset", h->file, h->dataset, (long long)first,
                          (long long)(first + count), (long long)h->shape[0]);
    if (count == 0)
        return CBCT_OK;
    hid_t f = -1;
    if (open_dataset(h, &f) < 0)
        return cbct_last_status();
    cbct_status s = CBCT_OK;
    hid_t d = H5Dopen2(f, h->dataset, H5P_DEFAULT);
    hid_t file_space = d >= 0 ? H5Dget_space(d) : -1;
    hsize_t start[3] = {(hsize_t)first, 0, 0};
    hsize_t n[3] = {(hsize_t)count, (hsize_t)h->shape[1], (hsize_t)h->shape[2]};
    int r0 = h->ndim == 3 ? 0 : 1; /* a 2D dataset: no z axis */
    hid_t mem_space = H5Screate_simple(h->ndim, n + r0, NULL);
    if (file_space < 0 || mem_space < 0 ||
        H5Sselect_hyperslab(file_space, H5S_SELECT_SET, start + r0, NULL, n + r0, NULL) < 0 ||
        H5Dread(d, H5T_NATIVE_FLOAT, mem_space, file_space, H5P_DEFAULT, dst) < 0)
        s = cbct_error(CBCT_ERR_FORMAT, "'%s:%s': slices [%lld, %lld) cannot be read (truncated "
                       "or corrupt file?)%s", h->file, h->dataset, (long long)first,
                       (long long)(first + count), cbct_hdf5_said());
    if (mem_space >= 0)
        H5Sclose(mem_space);
    if (file_space >= 0)
        H5Sclose(file_space);
    if (d >= 0)
        H5Dclose(d);
    H5Fclose(f);
    return s;
}

cbct_status cbct_hdf5_read(const char *spec, cbct_array *out)
{
    memset(out, 0, sizeof *out);
    cbct_hdf5_header *h = cbct_alloc(sizeof *h, "HDF5 header");
    if (!h)
        return cbct_error_prefix(CBCT_ERR_MEMORY, "reading '%s'", spec);
    cbct_status s = cbct_hdf5_read_header(spec, h);
    if (!s)
        s = cbct_array_create(out, h->shape[0], h->shape[1], h->shape[2], spec);
    if (!s) {
        memcpy(out->spacing, h->spacing, sizeof out->spacing);
        memcpy(out->origin, h->origin, sizeof out->origin);
        if ((s = cbct_hdf5_read_slices(h, 0, h->shape[0], out->data)))
            cbct_array_destroy(out);
    }
    cbct_free(h);
    return s;
}
