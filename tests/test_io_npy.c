/* .npy reading and writing: bit-exact round trip, float64 and uint16 files
 * with hand-built headers (versions 1, 2, 3), streaming reads and writes,
 * every malformed header a clear error naming the file, no output left by
 * a failed streaming write, clean failures under allocation faults, and
 * a small mutation fuzz of the header parser (run it under ASan). */
#include <dirent.h>
#include <stdint.h>
#include <unistd.h>

#include "check.h"

/* Writes preamble (version major.0) + dict padded with spaces to `pad_to`
 * bytes (0: no padding) + '\n' + data. */
static void write_raw(const char *path, int major, const char *dict, const void *data,
                      size_t data_bytes)
{
    size_t dict_len = strlen(dict);
    size_t preamble = major == 1 ? 10 : 12;
    size_t header_len = dict_len + 1;
    header_len += (64 - (preamble + header_len) % 64) % 64;
    FILE *fp = fopen(path, "wb");
    fwrite("\x93NUMPY", 1, 6, fp);
    unsigned char version[2] = {(unsigned char)major, 0};
    fwrite(version, 1, 2, fp);
    unsigned char len[4] = {(unsigned char)(header_len & 0xff),
                            (unsigned char)((header_len >> 8) & 0xff),
                            (unsigned char)((header_len >> 16) & 0xff),
                            (unsigned char)(header_len >> 24)};
    fwrite(len, 1, preamble - 8, fp);
    fwrite(dict, 1, dict_len, fp);
    for (size_t i = dict_len; i + 1 < header_len; i++)
        fputc(' ', fp);
    fputc('\n', fp);
    if (data_bytes)
        fwrite(data, 1, data_bytes, fp);
    fclose(fp);
}

static void write_bytes(const char *path, const void *bytes, size_t n)
{
    FILE *fp = fopen(path, "wb");
    fwrite(bytes, 1, n, fp);
    fclose(fp);
}

static int file_exists(const char *path) { return access(path, F_OK) == 0; }

/* Number of entries in the test folder whose name contains `part`. */
static int count_files_with(const char *part)
{
    int n = 0;
    DIR *d = opendir(check_tmpdir());
    for (struct dirent *e; d && (e = readdir(d));)
        n += strstr(e->d_name, part) != NULL;
    if (d)
        closedir(d);
    return n;
}

/* A hand-built file must fail with CBCT_ERR_FORMAT, a message naming the
 * file and containing `needle`, and leave nothing allocated. */
static void check_bad(const char *dict, size_t data_bytes, const char *needle)
{
    char path[2048];
    check_tmpfile("bad.npy", path, sizeof path);
    static unsigned char zeros[4096];
    write_raw(path, 1, dict, zeros, data_bytes);
    cbct_array a;
    size_t before = cbct_mem_current();
    CHECK_FAILS(cbct_npy_read(path, &a), CBCT_ERR_FORMAT, needle);
    CHECK_MSG(strstr(cbct_last_error(), path), "message does not name the file: %s",
              cbct_last_error());
    CHECK(a.data == NULL);
    CHECK(cbct_mem_current() == before);
}

static void test_round_trip(void)
{
    char path[2048];
    check_tmpfile("round.npy", path, sizeof path);
    cbct_array a, b;
    CHECK_OK(cbct_array_create(&a, 5, 6, 7, "a"));
    unsigned long long seed = 42;
    for (int64_t i = 0; i < cbct_array_numel(&a); i++)
        a.data[i] = check_random(&seed) * 1e3f;
    a.data[3] = -0.0f;
    a.data[4] = 1e-40f; /* subnormal */
    CHECK_OK(cbct_npy_write(path, &a));
    CHECK_OK(cbct_npy_read(path, &b));
    CHECK(b.shape[0] == 5 && b.shape[1] == 6 && b.shape[2] == 7);
    CHECK(b.data && memcmp(a.data, b.data, sizeof(float) * 210) == 0);

    /* The header as numpy writes it: v1.0, data 64-byte aligned, '\n'. */
    cbct_npy_header h;
    CHECK_OK(cbct_npy_read_header(path, &h));
    CHECK(h.dtype == CBCT_DTYPE_F32 && h.ndim == 3 && h.data_offset % 64 == 0);
    unsigned char head[128];
    FILE *fp = fopen(path, "rb");
    CHECK(fp && fread(head, 1, sizeof head, fp) == sizeof head);
    fseek(fp, 0, SEEK_END);
    CHECK(ftell(fp) == (long)(h.data_offset + 210 * 4));
    fclose(fp);
    CHECK(memcmp(head, "\x93NUMPY\x01\x00", 8) == 0);
    CHECK((size_t)(head[8] | head[9] << 8) + 10 == h.data_offset);
    CHECK(head[h.data_offset - 1] == '\n');
    CHECK(strstr((const char *)head + 10, "'shape': (5, 6, 7)") != NULL);
    CHECK(count_files_with(".tmp.") == 0);
    cbct_array_destroy(&a);
    cbct_array_destroy(&b);
}

static void test_other_dtypes(void)
{
    char path[2048];
    check_tmpfile("f64.npy", path, sizeof path);
    double d[6] = {1.5, -2.25, 1e10, 0.1, -0.0, 3};
    cbct_array a;
    for (int major = 1; major <= 3; major++) {
        write_raw(path, major, "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }", d,
                  sizeof d);
        CHECK_OK(cbct_npy_read(path, &a));
        CHECK(a.shape[0] == 1 && a.shape[1] == 2 && a.shape[2] == 3);
        for (int i = 0; a.data && i < 6; i++)
            CHECK(a.data[i] == (float)d[i]);
        cbct_array_destroy(&a);
    }
    /* Other spellings numpy accepts: key order, double quotes, 'L' sizes. */
    check_tmpfile("u16.npy", path, sizeof path);
    uint16_t u[4] = {0, 1, 65535, 1234};
    write_raw(path, 1, "{\"shape\": (4L,), \"fortran_order\": False, \"descr\": \"<u2\"}", u,
              sizeof u);
    cbct_npy_header h;
    CHECK_OK(cbct_npy_read_header(path, &h));
    CHECK(h.dtype == CBCT_DTYPE_U16 && h.ndim == 1);
    CHECK_OK(cbct_npy_read(path, &a));
    CHECK(a.shape[0] == 1 && a.shape[1] == 1 && a.shape[2] == 4);
    for (int i = 0; a.data && i < 4; i++)
        CHECK(a.data[i] == (float)u[i]);
    cbct_array_destroy(&a);
}

static void test_streaming(void)
{
    char path[2048];
    check_tmpfile("stream.npy", path, sizeof path);
    const int64_t shape[3] = {6, 3, 4};
    float data[72], back[72];
    for (int i = 0; i < 72; i++)
        data[i] = (float)i * 0.5f - 7;
    cbct_npy_writer w;
    unlink(path);
    CHECK_OK(cbct_npy_writer_open(path, shape, &w));
    CHECK(!file_exists(path)); /* nothing visible before commit */
    CHECK_OK(cbct_npy_writer_write(&w, data, 1));
    CHECK_OK(cbct_npy_writer_write(&w, data + 12, 0));
    CHECK_OK(cbct_npy_writer_write(&w, data + 12, 5));
    CHECK_OK(cbct_npy_writer_commit(&w));
    CHECK(count_files_with(".tmp.") == 0);

    cbct_npy_header h;
    CHECK_OK(cbct_npy_read_header(path, &h));
    CHECK(h.shape[0] == 6 && h.shape[1] == 3 && h.shape[2] == 4);
    CHECK_OK(cbct_npy_read_slices(path, &h, 2, 3, back));
    CHECK(memcmp(back, data + 24, 36 * sizeof(float)) == 0);
    CHECK_OK(cbct_npy_read_slices(path, &h, 0, 6, back));
    CHECK(memcmp(back, data, sizeof data) == 0);
    CHECK_FAILS(cbct_npy_read_slices(path, &h, 4, 3, back), CBCT_ERR_ARG, "[4, 7)");
    CHECK_FAILS(cbct_npy_read_slices(path, &h, -1, 1, back), CBCT_ERR_ARG, path);

    /* Streaming reads of a converted (uint16) file. */
    char path16[2048];
    check_tmpfile("stream16.npy", path16, sizeof path16);
    uint16_t u[24];
    for (int i = 0; i < 24; i++)
        u[i] = (uint16_t)(1000 * i);
    write_raw(path16, 2, "{'descr': '<u2', 'fortran_order': False, 'shape': (4, 2, 3), }", u,
              sizeof u);
    CHECK_OK(cbct_npy_read_header(path16, &h));
    CHECK_OK(cbct_npy_read_slices(path16, &h, 3, 1, back));
    for (int i = 0; i < 6; i++)
        CHECK(back[i] == (float)u[18 + i]);

    /* Too few slices: commit fails, no file and no temporary file. */
    char path2[2048];
    check_tmpfile("stream_short.npy", path2, sizeof path2);
    CHECK_OK(cbct_npy_writer_open(path2, shape, &w));
    CHECK_OK(cbct_npy_writer_write(&w, data, 5));
    CHECK_FAILS(cbct_npy_writer_commit(&w), CBCT_ERR_ARG, "5 of 6 slices");
    CHECK(!file_exists(path2));
    cbct_npy_writer_abort(&w); /* harmless after a failure */
    /* Too many slices: error at once, no file. */
    CHECK_OK(cbct_npy_writer_open(path2, shape, &w));
    CHECK_OK(cbct_npy_writer_write(&w, data, 4));
    CHECK_FAILS(cbct_npy_writer_write(&w, data, 3), CBCT_ERR_ARG, "exceed");
    CHECK_FAILS(cbct_npy_writer_commit(&w), CBCT_ERR_ARG, "not open");
    CHECK(!file_exists(path2));
    /* Abort: no file. */
    CHECK_OK(cbct_npy_writer_open(path2, shape, &w));
    CHECK_OK(cbct_npy_writer_write(&w, data, 6));
    cbct_npy_writer_abort(&w);
    cbct_npy_writer_abort(&w);
    CHECK(!file_exists(path2));
    CHECK(count_files_with(".tmp.") == 0);
    /* A bad shape never opens a file. */
    const int64_t bad_shape[3] = {0, 3, 4};
    CHECK_FAILS(cbct_npy_writer_open(path2, bad_shape, &w), CBCT_ERR_ARG, "non-positive");
    CHECK(!file_exists(path2));
    /* Missing folder: an I/O error naming the file. */
    char missing[2048];
    check_tmpfile("no_such_folder/x.npy", missing, sizeof missing);
    CHECK_FAILS(cbct_npy_writer_open(missing, shape, &w), CBCT_ERR_IO, missing);
}

static void test_malformed(void)
{
    const char *ok_tail = "'fortran_order': False, 'shape': (2, 3), }";
    char dict[256];
    snprintf(dict, sizeof dict, "{'descr': '<f4', %s", ok_tail);
    check_bad("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }", 24, "fortran_order");
    check_bad("{'descr': '>f4', 'fortran_order': False, 'shape': (2, 3), }", 24, "'>f4'");
    check_bad("{'descr': '<i4', 'fortran_order': False, 'shape': (2, 3), }", 24, "'<i4'");
    check_bad("{'descr': '|u1', 'fortran_order': False, 'shape': (2, 3), }", 24, "'|u1'");
    check_bad("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,), }", 8,
              "quoted string");
    check_bad("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2, 3, 4), }", 96,
              "(1, 2, 3, 4) has 4 dimensions");
    check_bad("{'descr': '<f4', 'fortran_order': False, 'shape': (1,1,1,1,1,1,1,1,1), }", 4,
              "more than 8 dimensions");
    check_bad("{'descr': '<f4', 'fortran_order': False, 'shape': (), }", 4, "0 dimensions");
    check_bad("{'descr': '<f4', 'fortran_order': False, 'shape': (-3, 4), }", 48, "-3, 4");
    check_bad("{'descr': '<f4', 'fortran_order': False, 'shape': (0, 4), }", 0, "empty axis");
    check_bad("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,), }", 4,
              "overflows");
    check_bad("{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296, 4), }",
              4, "(4294967296, 4294967296, 4) is too large");
    check_bad("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3)) }", 24, "',' or '}'");
    check_bad("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), ", 24, "malformed");
    check_bad("{'descr': '<f4' 'fortran_order': False, 'shape': (2, 3), }", 24, "malformed");
    check_bad("{'descr': '<f4', 'fortran_order': Fals, 'shape': (2, 3), }", 24, "True or False");
    check_bad("{'descr': '<f4', 'fortran_order': False, 'shape': (2 3), }", 24, "',' or ')'");
    check_bad("{'descr': '<f4', 'fortran_order': False, 'shape': (2,, 3), }", 24, "number");
    check_bad("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), } x", 24, "only spaces");
    check_bad("{'descr': '<f4', 'shape': (2, 3), }", 24, "lacks the key 'fortran_order'");
    check_bad("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), 'x': 1}", 24,
              "unexpected key 'x'");
    check_bad("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", 8,
              "appears twice");
    check_bad("{'descr': '<f\\x34', 'fortran_order': False, 'shape': (2,), }", 8, "escapes");
    check_bad(dict, 23, "truncated"); /* one byte short of 2 x 3 floats */
    check_bad("", 0, "expected '{'");

    char path[2048];
    check_tmpfile("bad.npy", path, sizeof path);
    cbct_array a;
    /* Header length beyond the end of the file. */
    unsigned char beyond[12] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, 0x60, 0xea, '{', '}'};
    write_bytes(path, beyond, sizeof beyond);
    CHECK_FAILS(cbct_npy_read(path, &a), CBCT_ERR_FORMAT, "60000 bytes goes beyond");
    /* Version 2 with a 3 GiB header length. */
    unsigned char huge[12] = {0x93, 'N', 'U', 'M', 'P', 'Y', 2, 0, 0, 0, 0, 0xc0};
    write_bytes(path, huge, sizeof huge);
    CHECK_FAILS(cbct_npy_read(path, &a), CBCT_ERR_FORMAT, "3221225472");
    unsigned char v4[12] = {0x93, 'N', 'U', 'M', 'P', 'Y', 4, 0, 2, 0, '{', '}'};
    write_bytes(path, v4, sizeof v4);
    CHECK_FAILS(cbct_npy_read(path, &a), CBCT_ERR_FORMAT, "version 4.0");
    write_bytes(path, "PK\x03\x04 not npy", 12);
    CHECK_FAILS(cbct_npy_read(path, &a), CBCT_ERR_FORMAT, "not a .npy file");
    write_bytes(path, "", 0);
    CHECK_FAILS(cbct_npy_read(path, &a), CBCT_ERR_FORMAT, path);
    beyond[6] = 2; /* a version 2 preamble cut short */
    write_bytes(path, beyond, 11);
    CHECK_FAILS(cbct_npy_read(path, &a), CBCT_ERR_FORMAT, "preamble");
    check_tmpfile("does_not_exist.npy", path, sizeof path);
    CHECK_FAILS(cbct_npy_read(path, &a), CBCT_ERR_IO, "does_not_exist.npy");
    CHECK_FAILS(cbct_npy_read(check_tmpdir(), &a), CBCT_ERR_IO, check_tmpdir());
}

/* Every allocation of a read fails in turn: a clean error, nothing leaked. */
static void test_allocation_faults(void)
{
    char path[2048];
    check_tmpfile("faults.npy", path, sizeof path);
    double d[64];
    for (int i = 0; i < 64; i++)
        d[i] = i;
    write_raw(path, 1, "{'descr': '<f8', 'fortran_order': False, 'shape': (4, 4, 4), }", d,
              sizeof d);
    size_t before = cbct_mem_current();
    int failures = 0, succeeded = 0;
    for (long n = 1; n < 20 && !succeeded; n++) {
        cbct_array a;
        cbct_mem_fail_nth(n);
        cbct_status s = cbct_npy_read(path, &a);
        cbct_mem_fail_nth(0);
        if (s == CBCT_OK) {
            succeeded = 1;
            CHECK(a.data && a.data[63] == 63.0f);
            cbct_array_destroy(&a);
        } else {
            failures++;
            CHECK_MSG(s == CBCT_ERR_MEMORY, "fault %ld gave %s", n, cbct_status_name(s));
            CHECK(strstr(cbct_last_error(), "injected") != NULL);
            CHECK(a.data == NULL);
        }
        CHECK(cbct_mem_current() == before);
    }
    CHECK(succeeded && failures >= 3); /* header, array, conversion buffer */
}

/* Mutations and truncations of a valid file, parsed from exact-size heap
 * copies so that AddressSanitizer sees any read past the end. */
static void test_mutations(void)
{
    char dict[] = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3, 4), }";
    enum { HEADER_END = 128, DATA_BYTES = 96 };
    unsigned char file[HEADER_END];
    memset(file, ' ', sizeof file);
    memcpy(file, "\x93NUMPY\x01\x00", 8);
    file[8] = HEADER_END - 10;
    file[9] = 0;
    memcpy(file + 10, dict, strlen(dict));
    file[HEADER_END - 1] = '\n';
    size_t total = HEADER_END + DATA_BYTES;
    cbct_npy_header h;
    CHECK_OK(cbct_npy_parse_header(file, total, total, "mem.npy", &h));
    CHECK(h.shape[0] == 2 && h.shape[2] == 4 && h.data_offset == HEADER_END);
    int all_truncations_fail = 1;
    for (size_t n = 0; n < HEADER_END; n++) {
        unsigned char *copy = malloc(n ? n : 1);
        memcpy(copy, file, n);
        all_truncations_fail &= cbct_npy_parse_header(copy, n, total, "mem.npy", &h) != CBCT_OK;
        free(copy);
    }
    CHECK(all_truncations_fail);
    unsigned long long seed = 7;
    int accepted = 0;
    for (int trial = 0; trial < 20000; trial++) {
        unsigned char *copy = malloc(HEADER_END);
        memcpy(copy, file, HEADER_END);
        int edits = 1 + (int)((check_random(&seed) + 1) * 2);
        for (int e = 0; e < edits; e++) {
            size_t at = (size_t)((check_random(&seed) + 1) * HEADER_END / 2) % HEADER_END;
            copy[at] = (unsigned char)((check_random(&seed) + 1) * 128);
        }
        uint64_t file_bytes = HEADER_END + (uint64_t)((check_random(&seed) + 1) * DATA_BYTES);
        cbct_status s = cbct_npy_parse_header(copy, HEADER_END, file_bytes,
                                              "mem.npy", &h);
        accepted += s == CBCT_OK;
        if (s == CBCT_OK)
            CHECK(h.ndim >= 1 && h.ndim <= 3 && h.shape[0] > 0 && h.data_offset <= HEADER_END);
        free(copy);
    }
    CHECK(accepted < 20000);
}

int main(void)
{
    test_round_trip();
    test_other_dtypes();
    test_streaming();
    test_malformed();
    test_allocation_faults();
    test_mutations();
    CHECK(cbct_mem_current() == 0);
    return check_summary("test_io_npy");
}
