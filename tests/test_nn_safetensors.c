/* The safetensors parser: a round trip of every supported dtype through a
 * file written here, and each kind of malformed header refused with a
 * message that says what is wrong (the parser meets hostile files). */
#include "check.h"
#include "nn/safetensors.h"

/* bytes = u64 length + header + data; returns the total length. */
static size_t make_file(unsigned char *bytes, size_t cap, const char *header,
                        const void *data, size_t data_len)
{
    size_t len = strlen(header);
    if (8 + len + data_len > cap)
        return 0;
    for (int i = 0; i < 8; i++)
        bytes[i] = (unsigned char)((uint64_t)len >> (8 * i));
    memcpy(bytes + 8, header, len);
    if (data_len)
        memcpy(bytes + 8 + len, data, data_len);
    return 8 + len + data_len;
}

static cbct_status parse_text(const char *header, size_t data_len)
{
    static unsigned char bytes[1 << 16];
    unsigned char data[256] = {0};
    size_t n = make_file(bytes, sizeof bytes, header, data, data_len);
    cbct_nn_safetensors st;
    cbct_status s = cbct_nn_safetensors_parse(bytes, n, n, "bad.safetensors", &st);
    if (s)
        CHECK(st.n_tensors == 0 && st.tensors == NULL); /* nothing is left on error */
    cbct_nn_safetensors_free(&st);
    return s;
}

/* A header must be refused with CBCT_ERR_FORMAT and `needle`. */
#define REFUSED(header, data_len, needle) \
    CHECK_FAILS(parse_text(header, data_len), CBCT_ERR_FORMAT, needle)

static void check_round_trip(void)
{
    /* F32 [2, 3] 0..5; F16 [2] 1, -2.5; BF16 [1] 1.5; F64 [1] 0.1; empty F32 [0, 4]. */
    unsigned char data[48];
    float f32[6] = {0, 1, 2, 3, 4, 5};
    uint16_t f16[2] = {0x3C00, 0xC100}, bf16[1] = {0x3FC0};
    double f64 = 0.1;
    memcpy(data, f32, 24);
    memcpy(data + 24, f16, 4);
    memcpy(data + 28, bf16, 2);
    memcpy(data + 30, &f64, 8);
    const char *header =
        "{\"__metadata__\":{\"format\":\"pt\"},"
        "\"a\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24]},"
        "\"b\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[24,28]},"
        "\"c\":{\"dtype\":\"BF16\",\"shape\":[1],\"data_offsets\":[28,30]},"
        "\"d\":{\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[30,38]},"
        "\"e\":{\"dtype\":\"F32\",\"shape\":[0,4],\"data_offsets\":[38,38]}}   ";
    unsigned char bytes[1024];
    size_t n = make_file(bytes, sizeof bytes, header, data, 38);
    char path[2048];
    check_tmpfile("round_trip.safetensors", path, sizeof path);
    FILE *fp = fopen(path, "wb");
    CHECK(fp && fwrite(bytes, 1, n, fp) == n);
    if (fp)
        fclose(fp);

    cbct_nn_safetensors st;
    CHECK_OK(cbct_nn_safetensors_open(path, &fp, &st));
    CHECK(st.n_tensors == 5);
    int64_t a = cbct_nn_safetensors_find(&st, "a"), b = cbct_nn_safetensors_find(&st, "b");
    int64_t c = cbct_nn_safetensors_find(&st, "c"), d = cbct_nn_safetensors_find(&st, "d");
    CHECK(a >= 0 && b >= 0 && c >= 0 && d >= 0 && cbct_nn_safetensors_find(&st, "z") == -1);
    if (a >= 0 && b >= 0 && c >= 0 && d >= 0 && fp) {
        CHECK(st.tensors[a].ndim == 2 && st.tensors[a].shape[0] == 2 &&
              st.tensors[a].shape[1] == 3 && st.tensors[a].numel == 6);
        float got[6];
        CHECK_OK(cbct_nn_safetensors_read_f32(fp, path, &st, &st.tensors[a], got));
        CHECK(memcmp(got, f32, sizeof f32) == 0);
        CHECK_OK(cbct_nn_safetensors_read_f32(fp, path, &st, &st.tensors[b], got));
        CHECK(got[0] == 1.0f && got[1] == -2.5f);
        CHECK_OK(cbct_nn_safetensors_read_f32(fp, path, &st, &st.tensors[c], got));
        CHECK(got[0] == 1.5f);
        CHECK_OK(cbct_nn_safetensors_read_f32(fp, path, &st, &st.tensors[d], got));
        CHECK(got[0] == (float)0.1);
    }
    if (fp)
        fclose(fp);
    cbct_nn_safetensors_free(&st);

    /* The same bytes from memory, and a file cut inside its data. */
    CHECK_OK(cbct_nn_safetensors_parse(bytes, n, n, "memory", &st));
    CHECK(st.n_tensors == 5 && st.data_start == 8 + strlen(header));
    cbct_nn_safetensors_free(&st);
    CHECK_FAILS(cbct_nn_safetensors_parse(bytes, n - 1, n - 1, "cut", &st), CBCT_ERR_FORMAT,
                "truncated");
    fp = fopen(path, "wb");
    CHECK(fp && fwrite(bytes, 1, n - 3, fp) == n - 3);
    if (fp)
        fclose(fp);
    CHECK_FAILS(cbct_nn_safetensors_open(path, &fp, &st), CBCT_ERR_FORMAT, "truncated file");
    fp = fopen(path, "wb");
    CHECK(fp && fwrite(bytes, 1, 20, fp) == 20); /* cut inside the header */
    if (fp)
        fclose(fp);
    CHECK_FAILS(cbct_nn_safetensors_open(path, &fp, &st), CBCT_ERR_FORMAT, "truncated file");
    CHECK_FAILS(cbct_nn_safetensors_open("/nonexistent/x.safetensors", &fp, &st), CBCT_ERR_IO,
                "cannot open");
    /* F16 specials: subnormal, infinity, NaN. */
    uint16_t specials[3] = {0x0001, 0x7C00, 0x7E00};
    float out[3];
    cbct_nn_st_to_f32(CBCT_NN_ST_F16, specials, 3, out);
    CHECK(out[0] == ldexpf(1.0f, -24) && isinf(out[1]) && isnan(out[2]));
}

static void check_lengths(void)
{
    unsigned char bytes[64] = {0};
    cbct_nn_safetensors st;
    CHECK_FAILS(cbct_nn_safetensors_parse(bytes, 5, 5, "short", &st), CBCT_ERR_FORMAT,
                "too short");
    bytes[0] = 1; /* header length 1 */
    CHECK_FAILS(cbct_nn_safetensors_parse(bytes, 64, 64, "one", &st), CBCT_ERR_FORMAT,
                "header length 1");
    bytes[0] = 0, bytes[7] = 0x80; /* 2^63 */
    CHECK_FAILS(cbct_nn_safetensors_parse(bytes, 64, 64, "huge", &st), CBCT_ERR_FORMAT,
                "header length");
    bytes[7] = 0, bytes[0] = 100; /* longer than the file */
    CHECK_FAILS(cbct_nn_safetensors_parse(bytes, 64, 64, "long", &st), CBCT_ERR_FORMAT,
                "exceeds");
    /* A header longer than what the caller read is the caller's bug. */
    CHECK_FAILS(cbct_nn_safetensors_parse(bytes, 64, 1000, "partial", &st), CBCT_ERR_ARG,
                "header bytes");
}

static void check_malformed(void)
{
    REFUSED("{\"a\":{\"dtype\":\"F32\"", 0, "not valid JSON");
    REFUSED("[1, 2]", 0, "not a JSON object");
    REFUSED("{} x", 0, "unexpected bytes");
    REFUSED("{\"a\":5}", 0, "not an object");
    REFUSED("{\"__metadata__\":[]}", 0, "__metadata__");
    REFUSED("{\"a\":{\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "no \"dtype\"");
    REFUSED("{\"a\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[0,8]}}", 8, "dtype 'I64'");
    REFUSED("{\"a\":{\"dtype\":\"F32\",\"shape\":3,\"data_offsets\":[0,12]}}", 12, "\"shape\"");
    REFUSED("{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", 4,
            "shape entry 0");
    REFUSED("{\"a\":{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,4]}}", 4,
            "shape entry 0");
    REFUSED("{\"a\":{\"dtype\":\"F32\",\"shape\":[1,1,1,1,1,1,1,1,1],\"data_offsets\":[0,4]}}",
            4, "9 dimensions");
    REFUSED("{\"a\":{\"dtype\":\"F32\",\"shape\":[1099511627776,1099511627776],"
            "\"data_offsets\":[0,4]}}", 4, "overflows");
    REFUSED("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}}", 4,
            "data_offsets");
    REFUSED("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,4]}}", 8,
            "data_offsets");
    REFUSED("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[\"0\",4]}}", 4,
            "data_offsets");
    REFUSED("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,9007199254740996]}}",
            4, "data_offsets"); /* beyond 2^53: not exact in a double */
    REFUSED("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4]}}", 8,
            "has 4 bytes of data: its shape and dtype F32 need 8");
    REFUSED("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 4, "truncated");
    REFUSED("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[9007199254740988,"
            "9007199254740992]}}", 4, "truncated");
    REFUSED("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
            "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12, "overlap");
    REFUSED("{\"b\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[4,16]},"
            "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
            "\"c\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}}", 16, "overlap");
    REFUSED("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
            "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8, "appears twice");
    REFUSED("{\"\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "empty");
    REFUSED("{\"a\\nb\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4,
            "control character");
    /* A NUL inside the header. */
    unsigned char bytes[64];
    size_t n = make_file(bytes, sizeof bytes, "{ }      ", NULL, 0);
    bytes[9] = '\0';
    cbct_nn_safetensors st;
    CHECK_FAILS(cbct_nn_safetensors_parse(bytes, n, n, "nul", &st), CBCT_ERR_FORMAT, "NUL");
    /* Accepted: an empty header, unknown entry fields, empty tensors at any offset. */
    CHECK(parse_text("{}", 0) == CBCT_OK);
    CHECK(parse_text("{\"a\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[4,4],\"x\":1},"
                     "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8) ==
          CBCT_OK);
}

int main(void)
{
    size_t before = cbct_mem_current();
    check_round_trip();
    check_lengths();
    check_malformed();
    CHECK_MSG(cbct_mem_current() == before, "%zu tracked bytes leaked",
              cbct_mem_current() - before);
    return check_summary("test_nn_safetensors");
}
