/* The NumPy .npy header: a magic string, a version, a length, and a Python
 * dict literal such as {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }.
 * The parser accepts exactly that literal and nothing more; it is meant to
 * meet hostile files (fuzzed): every loop advances a cursor that is checked
 * against the end of the buffer, and every number against overflow. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "cbct/io.h"
#include "io/npy_internal.h"

/* Longest header accepted (bytes). numpy itself refuses headers over
 * 10000 bytes by default; a real header is under 200. */
#define NPY_MAX_HEADER_BYTES (1u << 20)
/* Longest string value kept (a dtype such as '<f4' has 3 characters). */
#define NPY_MAX_STRING 32

typedef struct {
    const char *p, *end;
    const char *name; /* file name for messages */
} cursor;

/* A printable excerpt of the header at the cursor, for messages. */
static const char *excerpt(const cursor *c, char *buf, size_t cap)
{
    size_t n = 0;
    for (const char *q = c->p; q < c->end && n + 1 < cap && n < 24; q++)
        buf[n++] = isprint((unsigned char)*q) ? *q : '?';
    buf[n] = '\0';
    if (n == 0)
        snprintf(buf, cap, "(end of header)");
    return buf;
}

static cbct_status syntax_error(const cursor *c, const char *expected)
{
    char near[32];
    return cbct_error(CBCT_ERR_FORMAT, "'%s': malformed .npy header: expected %s at \"%s\"",
                      c->name, expected, excerpt(c, near, sizeof near));
}

static void skip_space(cursor *c)
{
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r'))
        c->p++;
}

static cbct_status expect_char(cursor *c, char ch, const char *what)
{
    skip_space(c);
    if (c->p >= c->end || *c->p != ch)
        return syntax_error(c, what);
    c->p++;
    return CBCT_OK;
}

/* A quoted string without escapes, at most NPY_MAX_STRING - 1 characters. */
static cbct_status parse_string(cursor *c, char out[NPY_MAX_STRING])
{
    skip_space(c);
    if (c->p >= c->end || (*c->p != '\'' && *c->p != '"'))
        return syntax_error(c, "a quoted string");
    char quote = *c->p++;
    size_t n = 0;
    while (c->p < c->end && *c->p != quote) {
        /* Printable ASCII only: the value may end up in a message. */
        if (*c->p == '\\' || !isprint((unsigned char)*c->p) || n + 1 >= NPY_MAX_STRING)
            return syntax_error(c, "a short printable string without escapes");
        out[n++] = *c->p++;
    }
    if (c->p >= c->end)
        return syntax_error(c, "a closing quote");
    c->p++;
    out[n] = '\0';
    return CBCT_OK;
}

static cbct_status parse_bool(cursor *c, int *value)
{
    skip_space(c);
    size_t left = (size_t)(c->end - c->p);
    if (left >= 4 && memcmp(c->p, "True", 4) == 0) {
        *value = 1;
        c->p += 4;
    } else if (left >= 5 && memcmp(c->p, "False", 5) == 0) {
        *value = 0;
        c->p += 5;
    } else {
        return syntax_error(c, "True or False");
    }
    return CBCT_OK;
}

/* A non-negative decimal integer (Python 2 files may add an 'L'). */
static cbct_status parse_size(cursor *c, int index, int64_t *value)
{
    skip_space(c);
    if (c->p < c->end && *c->p == '-') {
        char near[32];
        return cbct_error(CBCT_ERR_FORMAT, "'%s': shape entry %d is negative (\"%s\"): "
                          "expected a positive size", c->name, index,
                          excerpt(c, near, sizeof near));
    }
    if (c->p >= c->end || !isdigit((unsigned char)*c->p))
        return syntax_error(c, "a number in the shape");
    int64_t v = 0;
    while (c->p < c->end && isdigit((unsigned char)*c->p)) {
        int digit = *c->p - '0';
        if (v > (INT64_MAX - digit) / 10)
            return cbct_error(CBCT_ERR_FORMAT, "'%s': shape entry %d overflows 64 bits",
                              c->name, index);
        v = v * 10 + digit;
        c->p++;
    }
    if (c->p < c->end && *c->p == 'L')
        c->p++;
    *value = v;
    return CBCT_OK;
}

/* "(n0, n1, ...)" with an optional trailing comma. */
static cbct_status parse_shape(cursor *c, int64_t dims[NPY_MAX_DIMS_PARSED], int *ndim)
{
    cbct_status s = expect_char(c, '(', "'(' starting the shape");
    if (s)
        return s;
    *ndim = 0;
    skip_space(c);
    while (c->p < c->end && *c->p != ')') {
        if (*ndim >= NPY_MAX_DIMS_PARSED)
            return cbct_error(CBCT_ERR_FORMAT, "'%s': shape has more than %d dimensions: "
                              "expected 1 to 3", c->name, NPY_MAX_DIMS_PARSED);
        if ((s = parse_size(c, *ndim, &dims[*ndim])))
            return s;
        (*ndim)++;
        skip_space(c);
        if (c->p < c->end && *c->p == ',') {
            c->p++;
            skip_space(c);
        } else if (c->p < c->end && *c->p != ')') {
            return syntax_error(c, "',' or ')' in the shape");
        }
    }
    return expect_char(c, ')', "')' closing the shape");
}

/* Maps a descr to a dtype (only little-endian f4, f8, u2). */
static cbct_status parse_descr(const char *name, const char *descr, cbct_dtype *dtype,
                               size_t *item_bytes)
{
    if (strcmp(descr, "<f4") == 0) {
        *dtype = CBCT_DTYPE_F32;
        *item_bytes = 4;
    } else if (strcmp(descr, "<f8") == 0) {
        *dtype = CBCT_DTYPE_F64;
        *item_bytes = 8;
    } else if (strcmp(descr, "<u2") == 0) {
        *dtype = CBCT_DTYPE_U16;
        *item_bytes = 2;
    } else if (descr[0] == '>') {
        return cbct_error(CBCT_ERR_FORMAT, "'%s': dtype '%s' is big-endian: only little-endian "
                          "'<f4', '<f8', '<u2' are supported (convert with "
                          "a.astype('<f4'))", name, descr);
    } else {
        return cbct_error(CBCT_ERR_FORMAT, "'%s': dtype '%s' is not supported: expected '<f4', "
                          "'<f8' or '<u2'", name, descr);
    }
    return CBCT_OK;
}

/* The dict: each of the three keys exactly once, in any order. */
static cbct_status parse_dict(cursor *c, char descr[NPY_MAX_STRING], int *fortran,
                              int64_t dims[NPY_MAX_DIMS_PARSED], int *ndim)
{
    int seen_descr = 0, seen_fortran = 0, seen_shape = 0;
    cbct_status s = expect_char(c, '{', "'{' starting the header dict");
    if (s)
        return s;
    for (;;) {
        skip_space(c);
        if (c->p < c->end && *c->p == '}')
            break;
        char key[NPY_MAX_STRING];
        if ((s = parse_string(c, key)) || (s = expect_char(c, ':', "':' after a key")))
            return s;
        int *seen;
        if (strcmp(key, "descr") == 0) {
            seen = &seen_descr;
            s = parse_string(c, descr);
        } else if (strcmp(key, "fortran_order") == 0) {
            seen = &seen_fortran;
            s = parse_bool(c, fortran);
        } else if (strcmp(key, "shape") == 0) {
            seen = &seen_shape;
            s = parse_shape(c, dims, ndim);
        } else {
            return cbct_error(CBCT_ERR_FORMAT, "'%s': unexpected key '%s' in the .npy header "
                              "(expected 'descr', 'fortran_order', 'shape')", c->name, key);
        }
        if (s)
            return s;
        if ((*seen)++)
            return cbct_error(CBCT_ERR_FORMAT, "'%s': key '%s' appears twice in the .npy "
                              "header", c->name, key);
        skip_space(c);
        if (c->p < c->end && *c->p == ',')
            c->p++;
        else if (c->p >= c->end || *c->p != '}')
            return syntax_error(c, "',' or '}' after a value");
    }
    c->p++; /* the '}' */
    skip_space(c);
    if (c->p != c->end)
        return syntax_error(c, "only spaces after the header dict");
    if (!seen_descr || !seen_fortran || !seen_shape)
        return cbct_error(CBCT_ERR_FORMAT, "'%s': .npy header lacks the key '%s'", c->name,
                          !seen_descr ? "descr" : !seen_fortran ? "fortran_order" : "shape");
    return CBCT_OK;
}

/* "(a, b, c)" for messages. */
static const char *shape_text(const int64_t *dims, int ndim, char *buf, size_t cap)
{
    size_t n = (size_t)snprintf(buf, cap, "(");
    for (int i = 0; i < ndim && n < cap; i++)
        n += (size_t)snprintf(buf + n, cap - n, "%s%lld", i ? ", " : "", (long long)dims[i]);
    if (n < cap)
        snprintf(buf + n, cap - n, ")");
    return buf;
}

/* Shape checks and the data size against the file size. */
static cbct_status check_shape(const char *name, const int64_t *dims, int ndim,
                               size_t item_bytes, uint64_t data_offset, uint64_t file_bytes)
{
    char text[128];
    if (ndim < 1 || ndim > 3)
        return cbct_error(CBCT_ERR_FORMAT, "'%s': shape %s has %d dimensions: expected 1 to 3",
                          name, shape_text(dims, ndim, text, sizeof text), ndim);
    uint64_t bytes = item_bytes;
    for (int i = 0; i < ndim; i++) {
        if (dims[i] <= 0)
            return cbct_error(CBCT_ERR_FORMAT, "'%s': shape %s has an empty axis %d: expected "
                              "positive sizes", name, shape_text(dims, ndim, text, sizeof text), i);
        if (bytes > (uint64_t)INT64_MAX / (uint64_t)dims[i])
            return cbct_error(CBCT_ERR_FORMAT, "'%s': shape %s is too large (the byte count "
                              "overflows 64 bits)", name, shape_text(dims, ndim, text, sizeof text));
        bytes *= (uint64_t)dims[i];
    }
    if (data_offset > file_bytes || bytes > file_bytes - data_offset)
        return cbct_error(CBCT_ERR_FORMAT, "'%s': shape %s needs %llu bytes of data but the file "
                          "has %llu after the header (truncated file?)", name,
                          shape_text(dims, ndim, text, sizeof text), (unsigned long long)bytes,
                          (unsigned long long)(file_bytes > data_offset ? file_bytes - data_offset
                                                                        : 0));
    return CBCT_OK;
}

cbct_status cbct_npy_parse_preamble(const void *bytes, size_t n_bytes, uint64_t file_bytes,
                                    const char *name, size_t *header_start, size_t *header_len)
{
    const unsigned char *b = bytes;
    if (n_bytes < NPY_PREAMBLE_V1 || memcmp(b, "\x93NUMPY", 6) != 0)
        return cbct_error(CBCT_ERR_FORMAT, "'%s' is not a .npy file (no \\x93NUMPY magic)", name);
    int major = b[6], minor = b[7];
    if ((major != 1 && major != 2 && major != 3) || minor != 0)
        return cbct_error(CBCT_ERR_FORMAT, "'%s': .npy format version %d.%d is not supported: "
                          "expected 1.0, 2.0 or 3.0", name, major, minor);
    uint64_t len;
    if (major == 1) {
        len = (uint64_t)b[8] | (uint64_t)b[9] << 8;
        *header_start = NPY_PREAMBLE_V1;
    } else {
        if (n_bytes < NPY_PREAMBLE_V2)
            return cbct_error(CBCT_ERR_FORMAT, "'%s': .npy file ends inside its preamble", name);
        len = (uint64_t)b[8] | (uint64_t)b[9] << 8 | (uint64_t)b[10] << 16 |
              (uint64_t)b[11] << 24;
        *header_start = NPY_PREAMBLE_V2;
    }
    if (len > NPY_MAX_HEADER_BYTES)
        return cbct_error(CBCT_ERR_FORMAT, "'%s': .npy header length %llu bytes exceeds the "
                          "limit of %u bytes", name, (unsigned long long)len, NPY_MAX_HEADER_BYTES);
    if (*header_start + len > file_bytes)
        return cbct_error(CBCT_ERR_FORMAT, "'%s': .npy header length %llu bytes goes beyond the "
                          "end of the file (%llu bytes)", name, (unsigned long long)len,
                          (unsigned long long)file_bytes);
    *header_len = (size_t)len;
    return CBCT_OK;
}

cbct_status cbct_npy_parse_header(const void *bytes, size_t n_bytes, uint64_t file_bytes,
                                  const char *name, cbct_npy_header *out)
{
    memset(out, 0, sizeof *out);
    if (!name)
        name = "(npy)";
    size_t start = 0, len = 0;
    cbct_status s = cbct_npy_parse_preamble(bytes, n_bytes, file_bytes, name, &start, &len);
    if (s)
        return s;
    if (start + len > n_bytes)
        return cbct_error(CBCT_ERR_FORMAT, "'%s': .npy header is incomplete (%zu of %zu bytes)",
                          name, n_bytes - start, len);
    cursor c = {(const char *)bytes + start, (const char *)bytes + start + len, name};
    char descr[NPY_MAX_STRING] = "";
    int fortran = 0, ndim = 0;
    int64_t dims[NPY_MAX_DIMS_PARSED] = {0};
    if ((s = parse_dict(&c, descr, &fortran, dims, &ndim)))
        return s;
    size_t item_bytes = 0;
    if ((s = parse_descr(name, descr, &out->dtype, &item_bytes)))
        return s;
    if (fortran)
        return cbct_error(CBCT_ERR_FORMAT, "'%s': fortran_order is True: only C-order arrays are "
                          "supported (save np.ascontiguousarray(a))", name);
    if ((s = check_shape(name, dims, ndim, item_bytes, start + len, file_bytes)))
        return s;
    out->ndim = ndim;
    for (int i = 0; i < 3; i++) /* leading 1s for fewer dimensions */
        out->shape[i] = i < 3 - ndim ? 1 : dims[i - (3 - ndim)];
    out->data_offset = start + len;
    return CBCT_OK;
}
