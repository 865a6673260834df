/* NIfTI-1 volumes: .nii and .nii.gz round trips (bit-exact data, grid
 * kept), every datatype in both byte orders from hand-made headers, the
 * scaling slope, sform / qform / pixdim grids (flips read as stored,
 * rotations refused), and clear errors for truncated and corrupt files. */
#include <stdint.h>
#include <unistd.h>
#include <zlib.h>

#include "check.h"
#include "io/nifti_internal.h"

#define NZ 4
#define NY 5
#define NX 6

static void make_array(cbct_array *a)
{
    CHECK_OK(cbct_array_create(a, NZ, NY, NX, "test volume"));
    check_random_bits(a->data, NZ * NY * NX, 5);
    /* Values a float32 header keeps exactly. */
    a->spacing[0] = 0.5, a->spacing[1] = 0.25, a->spacing[2] = 0.125;
    a->origin[0] = 1.5, a->origin[1] = -2.0, a->origin[2] = 0.25;
}

static void test_round_trip(const char *name)
{
    char path[1024];
    check_tmpfile(name, path, sizeof path);
    cbct_array a, b;
    make_array(&a);
    CHECK_OK(cbct_volume_write(path, &a));
    CHECK_OK(cbct_volume_read(path, &b));
    CHECK_MSG(b.data && memcmp(a.data, b.data, sizeof(float) * NZ * NY * NX) == 0, "%s", name);
    for (int i = 0; i < 3; i++) {
        CHECK(b.spacing[i] == a.spacing[i]);
        CHECK(b.origin[i] == a.origin[i]);
    }
    cbct_volume_header h;
    CHECK_OK(cbct_volume_read_header(path, &h));
    CHECK(h.format == CBCT_VOLUME_NIFTI && strcmp(h.dtype_name, "float32") == 0);
    CHECK(h.shape[0] == NZ && h.shape[1] == NY && h.shape[2] == NX);
    float slab[NY * NX];
    for (int z = NZ - 1; z >= 0; z--) { /* backwards: every gz seek starts over */
        CHECK_OK(cbct_volume_read_slices(path, &h, z, 1, slab));
        CHECK(memcmp(slab, a.data + (size_t)z * NY * NX, sizeof slab) == 0);
    }
    cbct_array_destroy(&a);
    cbct_array_destroy(&b);
}

/* Swaps the header fields the reader looks at (a big-endian file). */
static void swap_header(unsigned char *h)
{
    static const struct { int offset, size, count; } fields[] = {
        {0, 4, 1}, {40, 2, 8}, {70, 2, 2}, {76, 4, 8}, {108, 4, 3}, {252, 2, 2},
        {256, 4, 6}, {280, 4, 12}};
    for (size_t f = 0; f < sizeof fields / sizeof fields[0]; f++)
        for (int k = 0; k < fields[f].count; k++) {
            unsigned char *p = h + fields[f].offset + k * fields[f].size;
            for (int a = 0, b = fields[f].size - 1; a < b; a++, b--) {
                unsigned char t = p[a];
                p[a] = p[b];
                p[b] = t;
            }
        }
}

static void put16(unsigned char *p, int16_t v) { memcpy(p, &v, 2); }
static void putf(unsigned char *p, float v) { memcpy(p, &v, 4); }

/* A 2 x 3 x 4 volume of `code`/`bits` with values 5 * i - 40 (fits all
 * signed types; uint types get + 40), optional slope, big-endian. */
static void write_typed(const char *path, int code, int bits, int big, int scaled, int gz)
{
    int64_t shape[3] = {2, 3, 4};
    double spacing[3] = {1, 1, 1}, origin[3] = {0, 0, 0};
    unsigned char h[NIFTI1_DATA_OFFSET];
    cbct_nifti_format_header(shape, spacing, origin, h);
    put16(h + 70, (int16_t)code);
    put16(h + 72, (int16_t)bits);
    putf(h + 112, scaled ? 2.0f : 0.0f);
    putf(h + 116, scaled ? -1.0f : 0.0f);
    unsigned char data[24 * 8];
    int item = bits / 8;
    int is_unsigned = code == 2 || code == 512 || code == 768;
    for (int i = 0; i < 24; i++) {
        double v = 5.0 * i - 40 + (is_unsigned ? 40 : 0);
        unsigned char *p = data + i * item;
        if (code == 16) { float f = (float)v; memcpy(p, &f, 4); }
        else if (code == 64) { memcpy(p, &v, 8); }
        else if (item == 1) { int8_t q = (int8_t)v; memcpy(p, &q, 1); }
        else if (item == 2) { int16_t q = (int16_t)v; memcpy(p, &q, 2); }
        else { int32_t q = (int32_t)v; memcpy(p, &q, 4); }
        for (int a = 0, b = item - 1; big && a < b; a++, b--) {
            unsigned char t = p[a];
            p[a] = p[b];
            p[b] = t;
        }
    }
    if (big)
        swap_header(h);
    if (gz) {
        gzFile f = gzopen(path, "wb");
        gzwrite(f, h, sizeof h);
        gzwrite(f, data, (unsigned)(24 * item));
        gzclose(f);
    } else {
        FILE *f = fopen(path, "wb");
        fwrite(h, 1, sizeof h, f);
        fwrite(data, 1, (size_t)(24 * item), f);
        fclose(f);
    }
}

static void test_datatypes(void)
{
    static const struct { int code, bits; const char *name; } types[] = {
        {2, 8, "uint8"}, {256, 8, "int8"}, {4, 16, "int16"}, {512, 16, "uint16"},
        {8, 32, "int32"}, {768, 32, "uint32"}, {16, 32, "float32"}, {64, 64, "float64"}};
    for (size_t k = 0; k < sizeof types / sizeof types[0]; k++)
        for (int variant = 0; variant < 4; variant++) {
            int big = variant & 1, scaled = variant >> 1;
            char name[64], path[2048];
            snprintf(name, sizeof name, "typed_%s_%d.nii%s", types[k].name, variant,
                     variant == 3 ? ".gz" : "");
            check_tmpfile(name, path, sizeof path);
            write_typed(path, types[k].code, types[k].bits, big, scaled, variant == 3);
            cbct_volume_header h;
            CHECK_OK(cbct_volume_read_header(path, &h));
            CHECK_MSG(h.dtype_name && !strcmp(h.dtype_name, types[k].name), "%s", name);
            CHECK(h.nifti.swapped == big);
            cbct_array a;
            CHECK_OK(cbct_volume_read(path, &a));
            int is_unsigned = types[k].code == 2 || types[k].code == 512 || types[k].code == 768;
            int ok = a.data && a.shape[0] == 2 && a.shape[1] == 3 && a.shape[2] == 4;
            for (int i = 0; ok && i < 24; i++) {
                double v = 5.0 * i - 40 + (is_unsigned ? 40 : 0);
                ok = a.data[i] == (float)(scaled ? 2 * v - 1 : v);
            }
            CHECK_MSG(ok, "values of %s", name);
            cbct_array_destroy(&a);
        }
}

static void write_bytes(const char *path, const void *b, size_t n)
{
    FILE *f = fopen(path, "wb");
    fwrite(b, 1, n, f);
    fclose(f);
}

static void test_grids(void)
{
    int64_t shape[3] = {4, 3, 2};
    double spacing[3] = {1, 1, 1}, origin[3] = {0, 0, 0};
    unsigned char h[NIFTI1_DATA_OFFSET + 24 * 4];
    memset(h, 0, sizeof h);
    cbct_nifti_format_header(shape, spacing, origin, h);
    cbct_nifti_header nh;
    /* sform diag(-2, 3, 4) with offset (10, 20, 30): x flipped. */
    float srow[3][4] = {{-2, 0, 0, 10}, {0, 3, 0, 20}, {0, 0, 4, 30}};
    memcpy(h + 280, srow, sizeof srow);
    CHECK_OK(cbct_nifti_parse_header(h, sizeof h, "sform.nii", &nh));
    CHECK(nh.grid_source == 2 && nh.flipped[2] && !nh.flipped[0]);
    CHECK(nh.spacing[0] == 4 && nh.spacing[1] == 3 && nh.spacing[2] == 2);
    /* centre = offset + step * (n - 1) / 2: x 10 - 2 * 0.5, y 20 + 3, z 30 + 6 */
    CHECK(nh.origin[2] == 9 && nh.origin[1] == 23 && nh.origin[0] == 36);
    /* A rotation is refused. */
    srow[0][1] = 0.5f;
    memcpy(h + 280, srow, sizeof srow);
    CHECK_FAILS(cbct_nifti_parse_header(h, sizeof h, "rot.nii", &nh), CBCT_ERR_FORMAT,
                "rot.nii': the sform (srow_x/y/z) rotates");
    /* qform only: a 180-degree turn about z (quaternion d = 1) flips x, y. */
    put16(h + 254, 0);
    putf(h + 264, 1.0f);
    CHECK_OK(cbct_nifti_parse_header(h, sizeof h, "qform.nii", &nh));
    CHECK(nh.grid_source == 1 && nh.flipped[1] && nh.flipped[2] && !nh.flipped[0]);
    /* Units: metres scale to mm. */
    put16(h + 252, 0);
    h[123] = 1;
    CHECK_OK(cbct_nifti_parse_header(h, sizeof h, "m.nii", &nh));
    CHECK(nh.grid_source == 0 && nh.spacing[0] == 1000);
}

static void test_bad_files(void)
{
    char path[1024], bad[1024];
    check_tmpfile("good.nii", path, sizeof path);
    check_tmpfile("bad.nii", bad, sizeof bad);
    cbct_array a, b;
    make_array(&a);
    CHECK_OK(cbct_nifti_write(path, &a));
    static unsigned char bytes[1 << 14];
    FILE *f = fopen(path, "rb");
    size_t n = f ? fread(bytes, 1, sizeof bytes, f) : 0;
    if (f)
        fclose(f);
    CHECK(n == NIFTI1_DATA_OFFSET + sizeof(float) * NZ * NY * NX);
    write_bytes(bad, bytes, n - 1);
    CHECK_FAILS(cbct_nifti_read(bad, &b), CBCT_ERR_FORMAT, "bad.nii': dim 6 x 5 x 4 of float32");
    CHECK(strstr(cbct_last_error(), "truncated"));
    write_bytes(bad, bytes, 200);
    CHECK_FAILS(cbct_nifti_read(bad, &b), CBCT_ERR_FORMAT, "bad.nii': 200 bytes");
    unsigned char copy[NIFTI1_DATA_OFFSET];
    memcpy(copy, bytes, sizeof copy);
    copy[0] = 0x1c, copy[1] = 0x02; /* 540: NIfTI-2 */
    write_bytes(bad, copy, sizeof copy);
    CHECK_FAILS(cbct_nifti_read(bad, &b), CBCT_ERR_FORMAT, "NIfTI-2 is not supported");
    memcpy(copy, bytes, sizeof copy);
    memcpy(copy + 344, "ni1", 4);
    CHECK_FAILS(cbct_nifti_parse_header(copy, sizeof copy, "pair.hdr", &(cbct_nifti_header){0}),
                CBCT_ERR_FORMAT, ".hdr/.img pairs");
    memcpy(copy, bytes, sizeof copy);
    put16(copy + 40, 4);
    put16(copy + 48, 2); /* dim[4] = 2: a time series */
    CHECK_FAILS(cbct_nifti_parse_header(copy, sizeof copy, "t.nii", &(cbct_nifti_header){0}),
                CBCT_ERR_FORMAT, "dim[4] = 2");
    memcpy(copy, bytes, sizeof copy);
    put16(copy + 70, 128); /* RGB */
    CHECK_FAILS(cbct_nifti_parse_header(copy, sizeof copy, "rgb.nii", &(cbct_nifti_header){0}),
                CBCT_ERR_FORMAT, "datatype 128");
    /* .nii.gz cut short: the data end early. */
    char gz[1024], cut[1024];
    check_tmpfile("good.nii.gz", gz, sizeof gz);
    check_tmpfile("cut.nii.gz", cut, sizeof cut);
    CHECK_OK(cbct_nifti_write(gz, &a));
    f = fopen(gz, "rb");
    n = f ? fread(bytes, 1, sizeof bytes, f) : 0;
    if (f)
        fclose(f);
    write_bytes(cut, bytes, n * 2 / 3);
    cbct_clear_error();
    cbct_status s = cbct_nifti_read(cut, &b);
    CHECK(s == CBCT_ERR_FORMAT && strstr(cbct_last_error(), "cut.nii.gz"));
    if (s == CBCT_OK)
        cbct_array_destroy(&b);
    /* Not gzip at all. */
    write_bytes(cut, "plain text, not gzip", 20);
    cbct_clear_error();
    CHECK(cbct_nifti_read(cut, &b) == CBCT_ERR_FORMAT && strstr(cbct_last_error(), "cut.nii.gz"));
    /* Failed writes leave nothing. */
    char out[1024];
    check_tmpfile("never.nii.gz", out, sizeof out);
    cbct_nifti_writer w;
    CHECK_OK(cbct_nifti_writer_open(out, a.shape, a.spacing, a.origin, &w));
    CHECK_OK(cbct_nifti_writer_write(&w, a.data, 1));
    CHECK_FAILS(cbct_nifti_writer_commit(&w), CBCT_ERR_ARG, "only 1 of 4");
    CHECK(access(out, F_OK) != 0);
    cbct_array_destroy(&a);
}

int main(void)
{
    test_round_trip("vol.nii");
    test_round_trip("vol.nii.gz");
    test_datatypes();
    test_grids();
    test_bad_files();
    return check_summary("test_io_nifti");
}
