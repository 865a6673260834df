/* TIFF volumes: multi-page and stack round trips (float32 and uint16,
 * bit-exact, with spacing and origin), every sample type read from files
 * made with libtiff, slab reads through the dispatcher, the in-memory
 * parser, and clear errors for truncated and corrupt files. */
#include <stdint.h>
#include <tiffio.h>
#include <unistd.h>

#include "check.h"

#define NZ 5
#define NY 7
#define NX 6

static void make_array(cbct_array *a, unsigned long long seed)
{
    CHECK_OK(cbct_array_create(a, NZ, NY, NX, "test volume"));
    check_random_bits(a->data, NZ * NY * NX, seed);
    a->spacing[0] = 0.5, a->spacing[1] = 0.25, a->spacing[2] = 0.1;
    a->origin[0] = 1.5, a->origin[1] = -2.0, a->origin[2] = 0.3;
}

static int same_bits(const cbct_array *a, const cbct_array *b)
{
    return a->data && b->data && memcmp(a->shape, b->shape, sizeof a->shape) == 0 &&
           memcmp(a->data, b->data, (size_t)cbct_array_numel(a) * sizeof(float)) == 0;
}

static void check_grid(const cbct_array *a, const cbct_array *b)
{
    for (int i = 0; i < 3; i++) {
        CHECK(a->spacing[i] == b->spacing[i]);
        CHECK(a->origin[i] == b->origin[i]);
    }
}

static void test_multipage_round_trip(void)
{
    char path[1024];
    check_tmpfile("vol.tif", path, sizeof path);
    cbct_array a, b;
    make_array(&a, 1);
    CHECK_OK(cbct_volume_write(path, &a));
    CHECK_OK(cbct_volume_read(path, &b));
    CHECK(same_bits(&a, &b));
    check_grid(&a, &b);
    /* Slabs through the dispatcher. */
    cbct_volume_header h;
    CHECK_OK(cbct_volume_read_header(path, &h));
    CHECK(h.format == CBCT_VOLUME_TIFF && strcmp(h.dtype_name, "float32") == 0);
    CHECK(h.shape[0] == NZ && h.shape[1] == NY && h.shape[2] == NX);
    float slab[2 * NY * NX];
    CHECK_OK(cbct_volume_read_slices(path, &h, 3, 2, slab));
    CHECK(memcmp(slab, a.data + 3 * NY * NX, sizeof slab) == 0);
    /* The in-memory parser and decoder agree with the file reader. */
    FILE *fp = fopen(path, "rb");
    static unsigned char bytes[1 << 16];
    size_t n = fp ? fread(bytes, 1, sizeof bytes, fp) : 0;
    if (fp)
        fclose(fp);
    cbct_tiff_header th;
    CHECK_OK(cbct_tiff_parse(bytes, n, "memory.tif", &th));
    CHECK(th.shape[0] == NZ && th.element_type == CBCT_MET_FLOAT && th.has_spacing);
    cbct_array c;
    CHECK_OK(cbct_tiff_decode(bytes, n, "memory.tif", 1 << 20, &c));
    CHECK(same_bits(&a, &c));
    cbct_array_destroy(&c);
    CHECK_FAILS(cbct_tiff_decode(bytes, n, "memory.tif", 10, &c), CBCT_ERR_FORMAT,
                "exceed the limit");
    /* Every prefix of the file fails cleanly or parses (never crashes). */
    for (size_t k = 0; k < n; k += 37) {
        cbct_array d;
        if (cbct_tiff_decode(bytes, k, "prefix.tif", 1 << 20, &d) == CBCT_OK)
            cbct_array_destroy(&d);
    }
    cbct_array_destroy(&c);
    /* uint16: whole numbers round-trip, others are refused. */
    for (int64_t i = 0; i < cbct_array_numel(&a); i++)
        a.data[i] = (float)((i * 7919) % 65536);
    CHECK_OK(cbct_tiff_write(path, &a, CBCT_MET_USHORT));
    cbct_array_destroy(&b);
    CHECK_OK(cbct_tiff_read(path, &b));
    CHECK(same_bits(&a, &b));
    CHECK_OK(cbct_volume_read_header(path, &h));
    CHECK(strcmp(h.dtype_name, "uint16") == 0);
    a.data[5] = 1.5f;
    char bad[1024];
    check_tmpfile("bad_u16.tif", bad, sizeof bad);
    CHECK_FAILS(cbct_tiff_write(bad, &a, CBCT_MET_USHORT), CBCT_ERR_ARG, "not a whole number");
    CHECK(access(bad, F_OK) != 0);
    cbct_array_destroy(&a);
    cbct_array_destroy(&b);
}

static void test_stack_round_trip(void)
{
    char dir[1024], pattern[1100], folder[1100];
    check_tmpfile("stack", dir, sizeof dir);
    /* A fresh folder: the folder form reads every TIFF in it. */
    char clean[1100];
    snprintf(clean, sizeof clean, "rm -rf '%s'", dir);
    CHECK(system(clean) == 0);
    mkdir(dir, 0755);
    snprintf(pattern, sizeof pattern, "%s/z_%%04d.tif", dir);
    snprintf(folder, sizeof folder, "%s/", dir);
    cbct_array a, b;
    make_array(&a, 2);
    CHECK_OK(cbct_volume_write(pattern, &a));
    char first[1200];
    snprintf(first, sizeof first, "%s/z_0000.tif", dir);
    CHECK(access(first, F_OK) == 0);
    CHECK_OK(cbct_volume_read(pattern, &b));
    CHECK(same_bits(&a, &b));
    check_grid(&a, &b);
    cbct_array_destroy(&b);
    /* The folder form reads the same files in name order. */
    CHECK_OK(cbct_volume_read(folder, &b));
    CHECK(same_bits(&a, &b));
    cbct_array_destroy(&b);
    CHECK_OK(cbct_volume_read(dir, &b));
    CHECK(same_bits(&a, &b));
    cbct_array_destroy(&b);
    /* A stack from 1: the pattern finds it. */
    char one[1100];
    snprintf(one, sizeof one, "%s/one_%%02d.tif", dir);
    cbct_array s1;
    CHECK_OK(cbct_array_create(&s1, 1, NY, NX, "slice"));
    memcpy(s1.data, a.data, NY * NX * sizeof(float));
    for (int i = 0; i < 3; i++)
        s1.spacing[i] = 1, s1.origin[i] = 0;
    for (int k = 1; k <= 3; k++) {
        char name[1200];
        snprintf(name, sizeof name, "%s/one_%02d.tif", dir, k);
        CHECK_OK(cbct_tiff_write(name, &s1, CBCT_MET_FLOAT));
    }
    cbct_tiff_header th;
    CHECK_OK(cbct_tiff_read_header(one, &th));
    CHECK(th.is_stack && th.first_index == 1 && th.shape[0] == 3);
    /* A slice of another size in the stack is named. */
    char odd[1200];
    snprintf(odd, sizeof odd, "%s/z_0003.tif", dir);
    cbct_array small;
    CHECK_OK(cbct_array_create(&small, 1, 2, 2, "small"));
    memset(small.data, 0, 4 * sizeof(float));
    for (int i = 0; i < 3; i++)
        small.spacing[i] = 1, small.origin[i] = 0;
    CHECK_OK(cbct_tiff_write(odd, &small, CBCT_MET_FLOAT));
    CHECK_FAILS(cbct_volume_read(pattern, &b), CBCT_ERR_FORMAT, "z_0003.tif");
    /* A failed stack write removes the files it wrote. */
    char pattern2[1100];
    snprintf(pattern2, sizeof pattern2, "%s/w_%%02d.tif", dir);
    cbct_tiff_writer w;
    CHECK_OK(cbct_tiff_writer_open(pattern2, a.shape, a.spacing, a.origin, CBCT_MET_FLOAT, &w));
    CHECK_OK(cbct_tiff_writer_write(&w, a.data, 2));
    snprintf(first, sizeof first, "%s/w_00.tif", dir);
    CHECK(access(first, F_OK) == 0);
    CHECK_FAILS(cbct_tiff_writer_commit(&w), CBCT_ERR_ARG, "only 2 of 5");
    CHECK(access(first, F_OK) != 0);
    cbct_array_destroy(&small);
    cbct_array_destroy(&s1);
    cbct_array_destroy(&a);
}

/* A file of `type` written with libtiff itself, 2 pages of 3 x 4. */
static void write_typed(const char *path, int bits, int format, int tiled)
{
    TIFF *t = TIFFOpen(path, "w");
    if (!t)
        return;
    unsigned char row[4 * 8];
    for (int page = 0; page < 2; page++) {
        TIFFSetField(t, TIFFTAG_IMAGEWIDTH, 4);
        TIFFSetField(t, TIFFTAG_IMAGELENGTH, 3);
        TIFFSetField(t, TIFFTAG_SAMPLESPERPIXEL, 1);
        TIFFSetField(t, TIFFTAG_BITSPERSAMPLE, bits);
        TIFFSetField(t, TIFFTAG_SAMPLEFORMAT, format);
        TIFFSetField(t, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_MINISBLACK);
        TIFFSetField(t, TIFFTAG_COMPRESSION, tiled ? COMPRESSION_ADOBE_DEFLATE : COMPRESSION_LZW);
        if (tiled) {
            TIFFSetField(t, TIFFTAG_TILEWIDTH, 16);
            TIFFSetField(t, TIFFTAG_TILELENGTH, 16);
            unsigned char tile[16 * 16 * 8];
            memset(tile, 0, sizeof tile);
            for (int y = 0; y < 3; y++)
                for (int x = 0; x < 4; x++) {
                    double v = -(page * 12 + y * 4 + x) + (format == SAMPLEFORMAT_UINT ? 40 : 0);
                    unsigned char *p = tile + (size_t)(y * 16 + x) * (bits / 8);
                    if (format == SAMPLEFORMAT_IEEEFP && bits == 64) { memcpy(p, &v, 8); }
                    else if (format == SAMPLEFORMAT_IEEEFP) { float f = (float)v; memcpy(p, &f, 4); }
                    else if (bits == 8) { int8_t q = (int8_t)v; memcpy(p, &q, 1); }
                    else if (bits == 16) { int16_t q = (int16_t)v; memcpy(p, &q, 2); }
                    else { int32_t q = (int32_t)v; memcpy(p, &q, 4); }
                }
            TIFFWriteTile(t, tile, 0, 0, 0, 0);
        } else {
            for (int y = 0; y < 3; y++) {
                for (int x = 0; x < 4; x++) {
                    double v = -(page * 12 + y * 4 + x) + (format == SAMPLEFORMAT_UINT ? 40 : 0);
                    unsigned char *p = row + (size_t)x * (bits / 8);
                    if (format == SAMPLEFORMAT_IEEEFP && bits == 64) { memcpy(p, &v, 8); }
                    else if (format == SAMPLEFORMAT_IEEEFP) { float f = (float)v; memcpy(p, &f, 4); }
                    else if (bits == 8) { int8_t q = (int8_t)v; memcpy(p, &q, 1); }
                    else if (bits == 16) { int16_t q = (int16_t)v; memcpy(p, &q, 2); }
                    else { int32_t q = (int32_t)v; memcpy(p, &q, 4); }
                }
                TIFFWriteScanline(t, row, (uint32_t)y, 0);
            }
        }
        TIFFWriteDirectory(t);
    }
    TIFFClose(t);
}

static void test_sample_types(void)
{
    static const struct { int bits, format; const char *name; } types[] = {
        {8, SAMPLEFORMAT_UINT, "uint8"}, {8, SAMPLEFORMAT_INT, "int8"},
        {16, SAMPLEFORMAT_UINT, "uint16"}, {16, SAMPLEFORMAT_INT, "int16"},
        {32, SAMPLEFORMAT_UINT, "uint32"}, {32, SAMPLEFORMAT_INT, "int32"},
        {32, SAMPLEFORMAT_IEEEFP, "float32"}, {64, SAMPLEFORMAT_IEEEFP, "float64"}};
    for (size_t k = 0; k < sizeof types / sizeof types[0]; k++)
        for (int tiled = 0; tiled < 2; tiled++) {
            char path[2048], name[64];
            snprintf(name, sizeof name, "typed_%s_%d.tif", types[k].name, tiled);
            check_tmpfile(name, path, sizeof path);
            write_typed(path, types[k].bits, types[k].format, tiled);
            cbct_volume_header h;
            CHECK_OK(cbct_volume_read_header(path, &h));
            CHECK_MSG(h.dtype_name && strcmp(h.dtype_name, types[k].name) == 0, "%s", name);
            cbct_array a;
            CHECK_OK(cbct_volume_read(path, &a));
            int ok = a.data && a.shape[0] == 2 && a.shape[1] == 3 && a.shape[2] == 4;
            for (int i = 0; ok && i < 24; i++)
                ok = a.data[i] == (float)(-i + (types[k].format == SAMPLEFORMAT_UINT ? 40 : 0));
            CHECK_MSG(ok, "values of %s", name);
            cbct_array_destroy(&a);
        }
}

static void test_bad_files(void)
{
    char path[1024], trunc[1024], junk[1024];
    check_tmpfile("good.tif", path, sizeof path);
    check_tmpfile("truncated.tif", trunc, sizeof trunc);
    check_tmpfile("junk.tif", junk, sizeof junk);
    cbct_array a, b;
    make_array(&a, 3);
    CHECK_OK(cbct_tiff_write(path, &a, CBCT_MET_FLOAT));
    FILE *in = fopen(path, "rb");
    static unsigned char bytes[1 << 16];
    size_t n = in ? fread(bytes, 1, sizeof bytes, in) : 0;
    if (in)
        fclose(in);
    /* The data of page 0 start right after the 8-byte header: cut inside it. */
    FILE *out = fopen(trunc, "wb");
    fwrite(bytes, 1, 100, out);
    fclose(out);
    cbct_clear_error();
    cbct_status s = cbct_tiff_read(trunc, &b);
    CHECK(s == CBCT_ERR_FORMAT);
    CHECK_MSG(strstr(cbct_last_error(), "truncated.tif"), "%s", cbct_last_error());
    out = fopen(junk, "wb");
    fputs("this is not a TIFF file at all, just text\n", out);
    fclose(out);
    CHECK_FAILS(cbct_tiff_read(junk, &b), CBCT_ERR_FORMAT, "junk.tif' is not a TIFF");
    CHECK_FAILS(cbct_volume_read("/nonexistent/vol.tif", &b), CBCT_ERR_IO, "/nonexistent/vol.tif");
    /* Corrupt the first IFD's entry count: an absurd directory. */
    uint32_t ifd;
    memcpy(&ifd, bytes + 4, 4);
    if (ifd + 2 < n) {
        bytes[ifd] = 0xff;
        bytes[ifd + 1] = 0xff;
        out = fopen(junk, "wb");
        fwrite(bytes, 1, n, out);
        fclose(out);
        cbct_clear_error();
        s = cbct_tiff_read(junk, &b);
        CHECK(s != CBCT_OK);
        CHECK_MSG(strstr(cbct_last_error(), "junk.tif"), "%s", cbct_last_error());
        if (s == CBCT_OK)
            cbct_array_destroy(&b);
    }
    CHECK_FAILS(cbct_tiff_parse("II*\0", 4, "tiny.tif", &(cbct_tiff_header){0}), CBCT_ERR_FORMAT,
                "tiny.tif");
    cbct_array_destroy(&a);
}

int main(void)
{
    test_multipage_round_trip();
    test_stack_round_trip();
    test_sample_types();
    test_bad_files();
    return check_summary("test_io_tiff");
}
