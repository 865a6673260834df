/* HDF5 volumes: round trips (bit-exact, spacing and origin attributes),
 * named and default datasets, every integer / float type read from files
 * made with the HDF5 API, 2D datasets, hyperslab slab reads, and clear
 * errors for missing datasets, truncated and corrupt files. */
#include <hdf5.h>
#include <stdint.h>
#include <unistd.h>

#include "check.h"

#define NZ 5
#define NY 4
#define NX 3

static void make_array(cbct_array *a)
{
    CHECK_OK(cbct_array_create(a, NZ, NY, NX, "test volume"));
    check_random_bits(a->data, NZ * NY * NX, 9);
    a->spacing[0] = 0.1, a->spacing[1] = 0.2, a->spacing[2] = 0.3;
    a->origin[0] = -1.1, a->origin[1] = 2.2, a->origin[2] = 3.3;
}

static void test_round_trip(void)
{
    char path[1024], spec[1100];
    check_tmpfile("vol.h5", path, sizeof path);
    snprintf(spec, sizeof spec, "%s:/scans/walnut/recon", path);
    cbct_array a, b;
    make_array(&a);
    /* A named dataset in nested groups, and the default one. */
    CHECK_OK(cbct_volume_write(spec, &a));
    CHECK_OK(cbct_volume_read(spec, &b));
    CHECK(b.data && memcmp(a.data, b.data, sizeof(float) * NZ * NY * NX) == 0);
    for (int i = 0; i < 3; i++)
        CHECK(b.spacing[i] == a.spacing[i] && b.origin[i] == a.origin[i]);
    cbct_array_destroy(&b);
    /* Only one dataset in the file, not at the default name: found anyway? No:
     * it is not at the root, so the plain name must say which. */
    CHECK_FAILS(cbct_volume_read(path, &b), CBCT_ERR_FORMAT, "name one as");
    CHECK_OK(cbct_volume_write(path, &a));
    CHECK_OK(cbct_volume_read(path, &b));
    CHECK(b.data && memcmp(a.data, b.data, sizeof(float) * NZ * NY * NX) == 0);
    cbct_volume_header h;
    CHECK_OK(cbct_volume_read_header(path, &h));
    CHECK(h.format == CBCT_VOLUME_HDF5 && !strcmp(h.hdf5.dataset, "/volume"));
    CHECK(!strcmp(h.dtype_name, "float32") && h.shape[0] == NZ && h.hdf5.has_spacing);
    float slab[2 * NY * NX];
    CHECK_OK(cbct_volume_read_slices(path, &h, 2, 2, slab));
    CHECK(memcmp(slab, a.data + 2 * NY * NX, sizeof slab) == 0);
    CHECK_FAILS(cbct_volume_read_slices(path, &h, 4, 2, slab), CBCT_ERR_ARG, "outside");
    cbct_array_destroy(&a);
    cbct_array_destroy(&b);
}

/* Datasets of every type, a 2D one and element_size_um, with HDF5 itself. */
static void test_types(void)
{
    char path[1024];
    check_tmpfile("typed.h5", path, sizeof path);
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    static const struct { const char *name; hid_t *type; const char *dtype; } types[] = {
        {"u8", &H5T_NATIVE_UCHAR_g, "uint8"}, {"i8", &H5T_NATIVE_SCHAR_g, "int8"},
        {"u16", &H5T_NATIVE_USHORT_g, "uint16"}, {"i16", &H5T_NATIVE_SHORT_g, "int16"},
        {"u32", &H5T_NATIVE_UINT_g, "uint32"}, {"i32", &H5T_NATIVE_INT_g, "int32"},
        {"f64", &H5T_NATIVE_DOUBLE_g, "float64"}, {"be16", &H5T_STD_I16BE_g, "int16"}};
    hsize_t dims[3] = {2, 3, 4};
    double values[24];
    for (int i = 0; i < 24; i++)
        values[i] = 5 * i;
    hid_t space = H5Screate_simple(3, dims, NULL);
    for (size_t k = 0; k < sizeof types / sizeof types[0]; k++) {
        hid_t d = H5Dcreate2(f, types[k].name, *types[k].type, space, H5P_DEFAULT, H5P_DEFAULT,
                             H5P_DEFAULT);
        H5Dwrite(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, values);
        H5Dclose(d);
    }
    hid_t space2 = H5Screate_simple(2, dims + 1, NULL);
    hid_t d2 = H5Dcreate2(f, "image", H5T_NATIVE_FLOAT, space2, H5P_DEFAULT, H5P_DEFAULT,
                          H5P_DEFAULT);
    H5Dwrite(d2, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, values);
    hsize_t three = 3;
    hid_t as = H5Screate_simple(1, &three, NULL);
    hid_t at = H5Acreate2(d2, "element_size_um", H5T_NATIVE_DOUBLE, as, H5P_DEFAULT, H5P_DEFAULT);
    double um[3] = {1000, 50, 20};
    H5Awrite(at, H5T_NATIVE_DOUBLE, um);
    H5Aclose(at);
    H5Sclose(as);
    H5Dclose(d2);
    H5Sclose(space2);
    H5Sclose(space);
    H5Fclose(f);
    for (size_t k = 0; k < sizeof types / sizeof types[0]; k++) {
        char spec[1100];
        snprintf(spec, sizeof spec, "%s:/%s", path, types[k].name);
        cbct_volume_header h;
        CHECK_OK(cbct_volume_read_header(spec, &h));
        CHECK_MSG(h.dtype_name && !strcmp(h.dtype_name, types[k].dtype), "%s", types[k].name);
        cbct_array a;
        CHECK_OK(cbct_volume_read(spec, &a));
        int ok = a.data && a.shape[0] == 2 && a.shape[1] == 3 && a.shape[2] == 4;
        for (int i = 0; ok && i < 24; i++)
            ok = a.data[i] == (float)values[i];
        CHECK_MSG(ok, "values of %s", types[k].name);
        cbct_array_destroy(&a);
    }
    char spec[1100];
    snprintf(spec, sizeof spec, "%s:/image", path);
    cbct_array a;
    CHECK_OK(cbct_volume_read(spec, &a));
    CHECK(a.data && a.shape[0] == 1 && a.shape[1] == 3 && a.shape[2] == 4 && a.data[11] == 55);
    CHECK_NEAR(a.spacing[1], 0.05, 1e-15);
    CHECK_NEAR(a.spacing[2], 0.02, 1e-15);
    cbct_array_destroy(&a);
    CHECK_FAILS(cbct_volume_read(path, &a), CBCT_ERR_FORMAT, "9 datasets at its root");
    snprintf(spec, sizeof spec, "%s:/nothing/here", path);
    CHECK_FAILS(cbct_volume_read(spec, &a), CBCT_ERR_FORMAT, "has no dataset '/nothing/here'");
}

static void test_bad_files(void)
{
    char path[1024], bad[1024];
    check_tmpfile("good.h5", path, sizeof path);
    check_tmpfile("bad.h5", bad, sizeof bad);
    cbct_array a, b;
    make_array(&a);
    CHECK_OK(cbct_hdf5_write(path, &a));
    static unsigned char bytes[1 << 16];
    FILE *f = fopen(path, "rb");
    size_t n = f ? fread(bytes, 1, sizeof bytes, f) : 0;
    if (f)
        fclose(f);
    CHECK(n > 1000);
    /* Truncated: HDF5 notices the end-of-file address is past the end. */
    f = fopen(bad, "wb");
    fwrite(bytes, 1, n / 2, f);
    fclose(f);
    cbct_clear_error();
    cbct_status s = cbct_hdf5_read(bad, &b);
    CHECK(s == CBCT_ERR_FORMAT);
    CHECK_MSG(strstr(cbct_last_error(), "bad.h5"), "%s", cbct_last_error());
    if (s == CBCT_OK)
        cbct_array_destroy(&b);
    /* Not HDF5 at all. */
    f = fopen(bad, "wb");
    fputs("not an HDF5 file", f);
    fclose(f);
    CHECK_FAILS(cbct_hdf5_read(bad, &b), CBCT_ERR_FORMAT, "bad.h5' is not an HDF5 file");
    CHECK_FAILS(cbct_hdf5_read("/nonexistent/x.h5:/v", &b), CBCT_ERR_IO, "/nonexistent/x.h5");
    /* A failed write leaves no file. */
    char out[1024];
    check_tmpfile("never.h5", out, sizeof out);
    cbct_hdf5_writer w;
    CHECK_OK(cbct_hdf5_writer_open(out, a.shape, a.spacing, a.origin, &w));
    CHECK_OK(cbct_hdf5_writer_write(&w, a.data, 2));
    CHECK_FAILS(cbct_hdf5_writer_write(&w, a.data, 4), CBCT_ERR_ARG, "would exceed");
    CHECK(access(out, F_OK) != 0);
    cbct_array_destroy(&a);
}

int main(void)
{
    test_round_trip();
    test_types();
    test_bad_files();
    return check_summary("test_io_hdf5");
}
