/* MetaImage (.mha / .mhd) reading and writing, and volume files by
 * extension: the head CT of the shared data, bit-exact round trips, every
 * element type from hand-made headers, and clear errors for bad files. */
#include <stdint.h>
#include <unistd.h>

#include "check.h"

/* Known voxels of vtk_headsq.mha (z, y, x) -> value, printed once with a
 * tiny Python reader (struct.unpack of the uint16 data after the header). */
static const int head_voxels[][4] = {
    {0, 0, 0, 0}, {46, 32, 32, 669}, {50, 20, 40, 1084}, {10, 30, 33, 1059},
    {53, 39, 39, 3926}, {92, 63, 63, 0}};
#define HEAD_SUM 193392317.0 /* sum of all voxels, same reader */

static void write_file(const char *path, const char *text, const void *data, size_t bytes)
{
    FILE *fp = fopen(path, "wb");
    if (!fp) {
        fprintf(stderr, "cannot create %s\n", path);
        exit(1);
    }
    if (text)
        fputs(text, fp);
    if (bytes)
        fwrite(data, 1, bytes, fp);
    fclose(fp);
}

static int exists(const char *path)
{
    return access(path, F_OK) == 0;
}

/* The error must also name the file. */
#define CHECK_FAILS_FILE(expr, code, needle, file)                                \
    do {                                                                          \
        CHECK_FAILS(expr, code, needle);                                          \
        CHECK_MSG(strstr(cbct_last_error(), file), "message lacks the file: %s",   \
                  cbct_last_error());                                             \
    } while (0)

static void test_head_ct(void)
{
    const char *dir = getenv("CBCT_SHARED_DATA");
    char path[1024];
    snprintf(path, sizeof path, "%s/vtk_headsq.mha", dir && *dir ? dir : "../shared/data");
    cbct_array a;
    CHECK_OK(cbct_mha_read(path, &a));
    if (!a.data)
        return;
    CHECK(a.shape[0] == 93 && a.shape[1] == 64 && a.shape[2] == 64);
    CHECK_NEAR(a.spacing[0], 1.5, 1e-12);
    CHECK_NEAR(a.spacing[1], 3.2, 1e-6);
    CHECK_NEAR(a.spacing[2], 3.2, 1e-6);
    /* Offset 0 0 0 is the first voxel's centre: the volume centre is at
     * (n - 1)/2 voxels from it. */
    CHECK_NEAR(a.origin[0], 46 * 1.5, 1e-12);
    CHECK_NEAR(a.origin[2], 31.5 * 3.2000000476837158, 1e-9);
    double lo = 1e30, hi = -1e30, sum = 0;
    for (int64_t i = 0; i < cbct_array_numel(&a); i++) {
        lo = a.data[i] < lo ? a.data[i] : lo;
        hi = a.data[i] > hi ? a.data[i] : hi;
        sum += a.data[i];
    }
    CHECK(lo == 0 && hi == 3926);
    CHECK(sum == HEAD_SUM);
    for (size_t k = 0; k < sizeof head_voxels / sizeof head_voxels[0]; k++) {
        const int *v = head_voxels[k];
        CHECK_MSG(a.data[((int64_t)v[0] * 64 + v[1]) * 64 + v[2]] == (float)v[3],
                  "voxel %d %d %d", v[0], v[1], v[2]);
    }
    /* The dispatcher and a slab read give the same numbers. */
    cbct_volume_header h;
    CHECK_OK(cbct_volume_read_header(path, &h));
    CHECK(h.format == CBCT_VOLUME_MHA && h.shape[0] == 93);
    CHECK(strcmp(h.dtype_name, "MET_USHORT") == 0);
    float *slab = cbct_alloc(3 * 64 * 64 * sizeof(float), "slab");
    CHECK_OK(cbct_volume_read_slices(path, &h, 50, 3, slab));
    CHECK(slab && memcmp(slab, a.data + 50 * 64 * 64, 3 * 64 * 64 * sizeof(float)) == 0);
    CHECK_FAILS(cbct_volume_read_slices(path, &h, 91, 3, slab), CBCT_ERR_ARG, "outside");
    cbct_free(slab);
    cbct_array_destroy(&a);
}

/* Random floats with special values, written and read back bit-exactly. */
static void test_round_trip(const char *name)
{
    char path[1024];
    check_tmpfile(name, path, sizeof path);
    cbct_array a, b;
    CHECK_OK(cbct_array_create(&a, 5, 4, 3, "round trip"));
    unsigned long long state = 42;
    for (int64_t i = 0; i < cbct_array_numel(&a); i++)
        a.data[i] = check_random(&state) * 1000.0f;
    a.data[0] = -0.0f;
    a.data[1] = 1e-42f; /* subnormal */
    a.data[2] = 3.4e38f;
    a.spacing[0] = 0.7, a.spacing[1] = 1.25, a.spacing[2] = 0.1;
    a.origin[0] = -3.3, a.origin[1] = 12.0, a.origin[2] = 0.05;
    CHECK_OK(cbct_volume_write(path, &a));
    CHECK_OK(cbct_volume_read(path, &b));
    if (b.data) {
        CHECK(memcmp(a.shape, b.shape, sizeof a.shape) == 0);
        CHECK(memcmp(a.data, b.data, (size_t)cbct_array_numel(&a) * sizeof(float)) == 0);
        /* .npy has no spacing or origin: voxel size 1, origin 0. */
        int npy = strstr(name, ".npy") != NULL;
        for (int i = 0; i < 3; i++) {
            CHECK(b.spacing[i] == (npy ? 1.0 : a.spacing[i]));
            CHECK_NEAR(b.origin[i], npy ? 0.0 : a.origin[i], 1e-12);
        }
    }
    cbct_array_destroy(&b);
    /* Slab by slab through the streaming writer gives the same file content. */
    cbct_volume_writer w;
    char path2[1024];
    snprintf(path2, sizeof path2, "%s/stream_%s", check_tmpdir(), name);
    CHECK_OK(cbct_volume_writer_open(path2, a.shape, a.spacing, a.origin, &w));
    CHECK_OK(cbct_volume_writer_write(&w, a.data, 2));
    CHECK_OK(cbct_volume_writer_write(&w, a.data + 2 * 12, 3));
    CHECK_OK(cbct_volume_writer_commit(&w));
    CHECK_OK(cbct_volume_read(path2, &b));
    CHECK(b.data && memcmp(a.data, b.data, (size_t)cbct_array_numel(&a) * sizeof(float)) == 0);
    cbct_array_destroy(&b);
    /* Too few slices: nothing appears (for .mhd neither header nor .raw). */
    remove(path2);
    CHECK_OK(cbct_volume_writer_open(path2, a.shape, a.spacing, a.origin, &w));
    CHECK_OK(cbct_volume_writer_write(&w, a.data, 2));
    CHECK_FAILS(cbct_volume_writer_commit(&w), CBCT_ERR_ARG, "only 2 of 5");
    cbct_volume_writer_abort(&w);
    CHECK(!exists(path2));
    cbct_array_destroy(&a);
}

/* Hand-made files of each element type: 2 x 2 x 3 (z y x) values. */
static void test_element_types(void)
{
    char path[1024], raw[1024], text[1024];
    const char *head = "ObjectType = Image\nNDims = 3\nBinaryData = True\n"
                       "CompressedData = False\nTransformMatrix = 1 0 0 0 1 0 0 0 1\n"
                       "Offset = 1 2 3\nElementSpacing = 0.5 0.25 2\nDimSize = 3 2 2\n";
    uint16_t u16[12];
    double f64[12];
    int16_t s16[12];
    unsigned char u8[12];
    int32_t s32[12];
    for (int i = 0; i < 12; i++) {
        u16[i] = (uint16_t)(i * 5957); /* up to 65527 */
        f64[i] = (i - 6) * 0.125;
        s16[i] = (int16_t)((i - 6) * 5000);
        u8[i] = (unsigned char)(i * 23);
        s32[i] = (i - 6) * 1000003;
    }
    cbct_array a;
    /* uint16, .mha LOCAL, with CRLF line ends and an unknown key. */
    check_tmpfile("u16.mha", path, sizeof path);
    snprintf(text, sizeof text, "%sModality = MET_MOD_CT\r\nElementType = MET_USHORT\r\n"
             "ElementDataFile = LOCAL\r\n", head);
    write_file(path, text, u16, sizeof u16);
    CHECK_OK(cbct_mha_read(path, &a));
    CHECK(a.data && a.shape[0] == 2 && a.shape[1] == 2 && a.shape[2] == 3);
    for (int i = 0; a.data && i < 12; i++)
        CHECK(a.data[i] == (float)u16[i]);
    CHECK(a.spacing[0] == 2 && a.spacing[1] == 0.25 && a.spacing[2] == 0.5);
    /* Offset (1, 2, 3) = first voxel; centre = offset + (n - 1)/2 spacing. */
    CHECK_NEAR(a.origin[2], 1 + 1 * 0.5, 1e-15);
    CHECK_NEAR(a.origin[1], 2 + 0.5 * 0.25, 1e-15);
    CHECK_NEAR(a.origin[0], 3 + 0.5 * 2, 1e-15);
    cbct_array_destroy(&a);
    /* double, .mhd + .raw in the header's folder. */
    check_tmpfile("f64.mhd", path, sizeof path);
    check_tmpfile("f64_data.raw", raw, sizeof raw);
    snprintf(text, sizeof text, "%sElementType = MET_DOUBLE\nElementDataFile = f64_data.raw\n",
             head);
    write_file(path, text, NULL, 0);
    write_file(raw, NULL, f64, sizeof f64);
    CHECK_OK(cbct_volume_read(path, &a));
    for (int i = 0; a.data && i < 12; i++)
        CHECK(a.data[i] == (float)f64[i]);
    cbct_array_destroy(&a);
    /* short, with HeaderSize bytes to skip in the .raw. */
    check_tmpfile("s16.mhd", path, sizeof path);
    check_tmpfile("s16.raw", raw, sizeof raw);
    snprintf(text, sizeof text, "%sElementType = MET_SHORT\nHeaderSize = 4\n"
             "ElementDataFile = s16.raw", head); /* no final newline */
    write_file(path, text, NULL, 0);
    unsigned char s16_file[4 + sizeof s16] = {9, 9, 9, 9};
    memcpy(s16_file + 4, s16, sizeof s16);
    write_file(raw, NULL, s16_file, sizeof s16_file);
    CHECK_OK(cbct_mha_read(path, &a));
    for (int i = 0; a.data && i < 12; i++)
        CHECK(a.data[i] == (float)s16[i]);
    cbct_array_destroy(&a);
    /* uchar and int. */
    check_tmpfile("u8.mha", path, sizeof path);
    snprintf(text, sizeof text, "%sElementType = MET_UCHAR\nElementDataFile = LOCAL\n", head);
    write_file(path, text, u8, sizeof u8);
    CHECK_OK(cbct_mha_read(path, &a));
    for (int i = 0; a.data && i < 12; i++)
        CHECK(a.data[i] == (float)u8[i]);
    cbct_array_destroy(&a);
    check_tmpfile("s32.mha", path, sizeof path);
    snprintf(text, sizeof text, "%sElementType = MET_INT\nElementDataFile = LOCAL\n", head);
    write_file(path, text, s32, sizeof s32);
    CHECK_OK(cbct_mha_read(path, &a));
    for (int i = 0; a.data && i < 12; i++)
        CHECK(a.data[i] == (float)s32[i]);
    cbct_array_destroy(&a);
    /* Big-endian uint16 (ElementByteOrderMSB = True) is byte-swapped. */
    uint16_t be[12];
    for (int i = 0; i < 12; i++)
        be[i] = (uint16_t)((u16[i] >> 8) | (u16[i] << 8));
    check_tmpfile("be.mha", path, sizeof path);
    snprintf(text, sizeof text, "%sElementByteOrderMSB = True\nElementType = MET_USHORT\n"
             "ElementDataFile = LOCAL\n", head);
    write_file(path, text, be, sizeof be);
    CHECK_OK(cbct_mha_read(path, &a));
    for (int i = 0; a.data && i < 12; i++)
        CHECK(a.data[i] == (float)u16[i]);
    cbct_array_destroy(&a);
    /* A 2D image: one z-slice, dz 1, oz 0. */
    check_tmpfile("2d.mha", path, sizeof path);
    write_file(path, "NDims = 2\nDimSize = 3 4\nElementSpacing = 0.5 0.25\n"
               "ElementType = MET_UCHAR\nElementDataFile = LOCAL\n", u8, 12);
    CHECK_OK(cbct_mha_read(path, &a));
    CHECK(a.data && a.shape[0] == 1 && a.shape[1] == 4 && a.shape[2] == 3);
    CHECK(a.spacing[0] == 1 && a.origin[0] == 0 && a.spacing[1] == 0.25);
    cbct_array_destroy(&a);
}

/* Each bad file fails with a message naming the file and the key. */
static void test_bad_files(void)
{
    char path[1024], text[2048];
    const char *head = "ObjectType = Image\nNDims = 3\nBinaryData = True\n";
    float data[8] = {0};
    cbct_array a;
    check_tmpfile("bad.mha", path, sizeof path);
    struct {
        const char *middle; /* after `head`, before the data */
        size_t data_bytes;
        cbct_status code;
        const char *needle;
    } cases[] = {
        {"DimSize = 2 2 2\nElementType = MET_FLOAT\nElementDataFile = LOCAL\n", 31,
         CBCT_ERR_FORMAT, "truncated"},
        {"DimSize = 2 2\nElementType = MET_FLOAT\nElementDataFile = LOCAL\n", 32,
         CBCT_ERR_FORMAT, "DimSize"},
        {"DimSize = 2 0 2\nElementType = MET_FLOAT\nElementDataFile = LOCAL\n", 32,
         CBCT_ERR_FORMAT, "DimSize"},
        {"DimSize = 2 2 x\nElementType = MET_FLOAT\nElementDataFile = LOCAL\n", 32,
         CBCT_ERR_FORMAT, "DimSize"},
        {"DimSize = 4294967296 4294967296 4294967296\nElementType = MET_FLOAT\n"
         "ElementDataFile = LOCAL\n", 32, CBCT_ERR_FORMAT, "DimSize"},
        {"DimSize = 99999999999999999999 1 1\nElementType = MET_FLOAT\n"
         "ElementDataFile = LOCAL\n", 32, CBCT_ERR_FORMAT, "DimSize"},
        {"DimSize = 2 2 2\nElementType = MET_LONG_LONG\nElementDataFile = LOCAL\n", 32,
         CBCT_ERR_FORMAT, "ElementType"},
        {"DimSize = 2 2 2\nElementDataFile = LOCAL\n", 32, CBCT_ERR_FORMAT, "ElementType"},
        {"DimSize = 2 2 2\nElementType = MET_FLOAT\n", 32, CBCT_ERR_FORMAT, "ElementDataFile"},
        {"DimSize = 2 2 2\nElementType = MET_FLOAT\nElementDataFile = missing.raw\n", 0,
         CBCT_ERR_IO, "ElementDataFile"},
        {"DimSize = 2 2 2\nElementType = MET_FLOAT\nElementDataFile = LIST 2D\n", 0,
         CBCT_ERR_FORMAT, "ElementDataFile"},
        {"CompressedData = True\nDimSize = 2 2 2\nElementType = MET_FLOAT\n"
         "ElementDataFile = LOCAL\n", 32, CBCT_ERR_FORMAT, "CompressedData"},
        {"TransformMatrix = 0 1 0 1 0 0 0 0 1\nDimSize = 2 2 2\nElementType = MET_FLOAT\n"
         "ElementDataFile = LOCAL\n", 32, CBCT_ERR_FORMAT, "TransformMatrix"},
        {"ElementNumberOfChannels = 3\nDimSize = 2 2 2\nElementType = MET_FLOAT\n"
         "ElementDataFile = LOCAL\n", 32, CBCT_ERR_FORMAT, "ElementNumberOfChannels"},
        {"ElementSpacing = 1 -1 1\nDimSize = 2 2 2\nElementType = MET_FLOAT\n"
         "ElementDataFile = LOCAL\n", 32, CBCT_ERR_FORMAT, "ElementSpacing"},
        {"ElementSpacing = 1 nan 1\nDimSize = 2 2 2\nElementType = MET_FLOAT\n"
         "ElementDataFile = LOCAL\n", 32, CBCT_ERR_FORMAT, "ElementSpacing"},
        {"DimSize = 2 2 2\nDimSize = 2 2 2\nElementType = MET_FLOAT\n"
         "ElementDataFile = LOCAL\n", 32, CBCT_ERR_FORMAT, "DimSize given again"},
        {"BinaryDataByteOrderMSB = maybe\nDimSize = 2 2 2\nElementType = MET_FLOAT\n"
         "ElementDataFile = LOCAL\n", 32, CBCT_ERR_FORMAT, "BinaryDataByteOrderMSB"},
        {"this is not a header\n", 32, CBCT_ERR_FORMAT, "Key = Value"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        snprintf(text, sizeof text, "%s%s", head, cases[i].middle);
        write_file(path, text, data, cases[i].data_bytes);
        CHECK_FAILS_FILE(cbct_mha_read(path, &a), cases[i].code, cases[i].needle, path);
        CHECK(a.data == NULL);
    }
    /* NDims 4, and NDims missing (the header of bad.mha without it). */
    write_file(path, "NDims = 4\nDimSize = 1 1 1 1\nElementType = MET_FLOAT\n"
               "ElementDataFile = LOCAL\n", data, 4);
    CHECK_FAILS_FILE(cbct_mha_read(path, &a), CBCT_ERR_FORMAT, "NDims", path);
    write_file(path, "DimSize = 1 1 1\nElementType = MET_FLOAT\nElementDataFile = LOCAL\n",
               data, 4);
    CHECK_FAILS_FILE(cbct_mha_read(path, &a), CBCT_ERR_FORMAT, "NDims", path);
    /* A .raw shorter than DimSize says. */
    char mhd[1024], raw[1024];
    check_tmpfile("short.mhd", mhd, sizeof mhd);
    check_tmpfile("short.raw", raw, sizeof raw);
    write_file(mhd, "NDims = 3\nDimSize = 2 2 2\nElementType = MET_FLOAT\n"
               "ElementDataFile = short.raw\n", NULL, 0);
    write_file(raw, NULL, data, 28);
    CHECK_FAILS_FILE(cbct_mha_read(mhd, &a), CBCT_ERR_FORMAT, "truncated", mhd);
    /* A line longer than the limit, binary bytes, an empty file. */
    char *long_line = calloc(8000, 1);
    memset(long_line, 'a', 7000);
    memcpy(long_line, "Comment = ", 10);
    write_file(path, long_line, NULL, 0);
    free(long_line);
    CHECK_FAILS_FILE(cbct_mha_read(path, &a), CBCT_ERR_FORMAT, "longer than", path);
    write_file(path, "NDims = 3\n\x01\x02\x03", NULL, 0);
    CHECK_FAILS_FILE(cbct_mha_read(path, &a), CBCT_ERR_FORMAT, "binary", path);
    write_file(path, "", NULL, 0);
    CHECK_FAILS_FILE(cbct_mha_read(path, &a), CBCT_ERR_FORMAT, "ElementDataFile", path);
    CHECK_FAILS(cbct_mha_read("/nonexistent/x.mha", &a), CBCT_ERR_IO, "/nonexistent/x.mha");
    CHECK_FAILS(cbct_volume_read("volume.vtk", &a), CBCT_ERR_ARG, ".npy, .mha, .mhd");
}

/* Every prefix of a valid header and random byte changes: no crash, no read
 * beyond the buffer (AddressSanitizer), and a prefix without the complete
 * ElementDataFile line never parses. */
static void test_fuzz_header(void)
{
    const char *good = "ObjectType = Image\nNDims = 3\nBinaryData = True\n"
                       "TransformMatrix = 1 0 0 0 1 0 0 0 1\nOffset = 0 0 0\n"
                       "ElementSpacing = 1 1 1\nDimSize = 2 3 4\nElementType = MET_SHORT\n"
                       "ElementDataFile = LOCAL\n";
    size_t n = strlen(good);
    cbct_mha_header h;
    CHECK_OK(cbct_mha_parse_header(good, n, "good.mha", &h));
    CHECK(h.data_offset == n && h.shape[0] == 4 && h.shape[2] == 2);
    int prefix_failures = 0;
    for (size_t len = 0; len + strlen("LOCAL\n") < n; len++) {
        char *copy = malloc(len ? len : 1); /* exact size: ASan sees overreads */
        memcpy(copy, good, len);
        prefix_failures += cbct_mha_parse_header(copy, len, "cut.mha", &h) != CBCT_OK;
        free(copy);
    }
    CHECK(prefix_failures == (int)(n - strlen("LOCAL\n")));
    unsigned long long state = 7;
    for (int iter = 0; iter < 3000; iter++) {
        char *copy = malloc(n);
        memcpy(copy, good, n);
        for (int k = 0; k < 3; k++) {
            size_t at = (size_t)((check_random(&state) + 1.0f) * 0.5f * (float)n) % n;
            copy[at] = (char)(int)((check_random(&state) + 1.0f) * 128.0f);
        }
        if (cbct_mha_parse_header(copy, n, "fuzz.mha", &h) == CBCT_OK)
            CHECK(h.shape[0] >= 1 && h.shape[1] >= 1 && h.shape[2] >= 1 && h.data_offset <= n);
        free(copy);
    }
}

/* Writing: bad names and folders leave nothing behind. */
static void test_write_errors(void)
{
    cbct_array a;
    CHECK_OK(cbct_array_zeros(&a, 2, 2, 2, "write errors"));
    a.spacing[0] = a.spacing[1] = a.spacing[2] = 1;
    char path[1024];
    CHECK_FAILS(cbct_mha_write("/nonexistent/x.mhd", &a), CBCT_ERR_IO, "/nonexistent/x.raw");
    check_tmpfile("x.vol", path, sizeof path);
    CHECK_FAILS(cbct_mha_write(path, &a), CBCT_ERR_ARG, ".mha or .mhd");
    /* The .mhd header cannot replace a folder of that name: the .raw
     * written before it is removed again. */
    char raw[1024];
    check_tmpfile("folder.mhd", path, sizeof path);
    check_tmpfile("folder.raw", raw, sizeof raw);
    mkdir(path, 0755);
    remove(raw);
    CHECK_FAILS(cbct_mha_write(path, &a), CBCT_ERR_IO, "folder.mhd");
    CHECK(!exists(raw));
    a.spacing[1] = 0;
    check_tmpfile("zero_spacing.mha", path, sizeof path);
    CHECK_FAILS(cbct_mha_write(path, &a), CBCT_ERR_ARG, "spacing");
    CHECK(!exists(path));
    cbct_array_destroy(&a);
}

int main(void)
{
    test_head_ct();
    test_round_trip("rt.mha");
    test_round_trip("rt.mhd");
    test_round_trip("rt.npy");
    test_element_types();
    test_bad_files();
    test_fuzz_header();
    test_write_errors();
    CHECK_MSG(cbct_mem_current() == 0, "%zu bytes still allocated", cbct_mem_current());
    return check_summary("test_io_metaimage");
}
