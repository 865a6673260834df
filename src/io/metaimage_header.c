/* Parsing MetaImage headers: "Key = Value" text lines, up to and including
 * ElementDataFile (which MetaImage requires to be the last key). Every
 * value is checked; anything that cbct cannot read correctly (compression,
 * several channels, a rotated grid, ASCII data) is refused with a message
 * naming the file, the key and the value. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "io/metaimage_internal.h"

static const char *const type_names[] = {"MET_UCHAR", "MET_CHAR", "MET_USHORT", "MET_SHORT",
                                         "MET_UINT",  "MET_INT",  "MET_FLOAT",  "MET_DOUBLE"};
static const size_t type_bytes[] = {1, 1, 2, 2, 4, 4, 4, 8};
#define N_TYPES (int)(sizeof type_names / sizeof type_names[0])

size_t cbct_met_type_bytes(cbct_met_type t)
{
    return (int)t >= 0 && (int)t < N_TYPES ? type_bytes[t] : 0;
}

const char *cbct_met_type_name(cbct_met_type t)
{
    return (int)t >= 0 && (int)t < N_TYPES ? type_names[t] : "unknown";
}

static cbct_status parse_element_type(const cbct_mha_parse_state *st, cbct_mha_header *h)
{
    if (!st->values[KEY_TYPE].line)
        return cbct_error(CBCT_ERR_FORMAT, "'%s': the header has no ElementType", st->file);
    for (int i = 0; i < N_TYPES; i++)
        if (strcasecmp(st->values[KEY_TYPE].text, type_names[i]) == 0) {
            h->element_type = (cbct_met_type)i;
            return CBCT_OK;
        }
    return cbct_mha_bad_value(st, KEY_TYPE, "one of MET_UCHAR, MET_CHAR, MET_USHORT, "
                              "MET_SHORT, MET_UINT, MET_INT, MET_FLOAT, MET_DOUBLE");
}

/* The resolved data file: the header itself, or a name relative to its folder. */
static cbct_status parse_data_file(const cbct_mha_parse_state *st, cbct_mha_header *h)
{
    const char *v = st->values[KEY_DATA_FILE].text;
    if (!*v)
        return cbct_mha_bad_value(st, KEY_DATA_FILE, "LOCAL or a file name");
    if (strcasecmp(v, "LOCAL") == 0) {
        if (strlen(st->file) >= CBCT_MHA_PATH_MAX)
            return cbct_error(CBCT_ERR_ARG, "'%.200s...': the name is too long", st->file);
        strcpy(h->data_path, st->file);
        return CBCT_OK;
    }
    if (strncasecmp(v, "LIST", 4) == 0 || strchr(v, '%'))
        return cbct_mha_bad_value(st, KEY_DATA_FILE, "LOCAL or one file name (lists of "
                                  "slice files are not supported yet)");
    const char *slash = strrchr(st->file, '/');
    int folder_len = v[0] == '/' || !slash ? 0 : (int)(slash - st->file + 1);
    int n = snprintf(h->data_path, sizeof h->data_path, "%.*s%s", folder_len, st->file, v);
    if (n < 0 || (size_t)n >= sizeof h->data_path)
        return cbct_mha_bad_value(st, KEY_DATA_FILE, "a shorter file name");
    return CBCT_OK;
}

static cbct_status check_format_keys(const cbct_mha_parse_state *st)
{
    if (st->values[KEY_OBJECT_TYPE].line && strcasecmp(st->values[KEY_OBJECT_TYPE].text, "Image"))
        return cbct_mha_bad_value(st, KEY_OBJECT_TYPE, "Image");
    int binary, compressed;
    cbct_status s = cbct_mha_parse_bool(st, KEY_BINARY, 1, &binary);
    if (!s && !binary)
        s = cbct_mha_bad_value(st, KEY_BINARY, "True (ASCII data is not supported)");
    if (!s)
        s = cbct_mha_parse_bool(st, KEY_COMPRESSED, 0, &compressed);
    if (!s && compressed)
        s = cbct_mha_bad_value(st, KEY_COMPRESSED, "False (compressed MetaImage files are not "
                               "supported yet; convert with e.g. SimpleITK WriteImage(..., "
                               "useCompression=False))");
    int64_t channels = 1;
    if (!s && st->values[KEY_CHANNELS].line)
        s = cbct_mha_parse_ints(st, KEY_CHANNELS, 1, 1, 1, &channels, "1 (one value per voxel)");
    if (!s && st->values[KEY_TRANSFORM].line) {
        double m[9];
        int nd = 0;
        for (int nd_try = 2; nd_try <= 3 && !nd; nd_try++)
            if (cbct_mha_parse_doubles(st, KEY_TRANSFORM, nd_try * nd_try, m, "") == CBCT_OK)
                nd = nd_try;
        cbct_clear_error();
        for (int i = 0; nd && i < nd * nd; i++)
            if (fabs(m[i] - (i % (nd + 1) == 0 ? 1.0 : 0.0)) > 1e-6)
                nd = 0;
        if (!nd)
            s = cbct_mha_bad_value(st, KEY_TRANSFORM, "the identity (cbct volumes are "
                                   "axis-aligned; a rotated or flipped grid is not supported)");
    }
    return s;
}

/* NDims, DimSize, ElementSpacing, Offset into the header, x y z -> z y x. */
static cbct_status parse_grid(const cbct_mha_parse_state *st, cbct_mha_header *h)
{
    int64_t ndims = 0, dims[3] = {1, 1, 1};
    double spacing[3] = {1, 1, 1}, offset[3] = {0, 0, 0};
    if (!st->values[KEY_NDIMS].line)
        return cbct_error(CBCT_ERR_FORMAT, "'%s': the header has no NDims", st->file);
    cbct_status s = cbct_mha_parse_ints(st, KEY_NDIMS, 1, 2, 3, &ndims, "2 or 3");
    if (s)
        return s;
    int nd = (int)ndims;
    if (!st->values[KEY_DIM_SIZE].line)
        return cbct_error(CBCT_ERR_FORMAT, "'%s': the header has no DimSize", st->file);
    const char *what = nd == 2 ? "2 positive integers (NDims = 2)"
                               : "3 positive integers (NDims = 3)";
    if ((s = cbct_mha_parse_ints(st, KEY_DIM_SIZE, nd, 1, INT64_MAX, dims, what)))
        return s;
    const char *numbers = nd == 2 ? "2 numbers (mm)" : "3 numbers (mm)";
    if (st->values[KEY_SPACING].line &&
        (s = cbct_mha_parse_doubles(st, KEY_SPACING, nd, spacing, numbers)))
        return s;
    for (int i = 0; i < nd; i++)
        if (!(spacing[i] > 0))
            return cbct_mha_bad_value(st, KEY_SPACING, "positive spacings (mm)");
    if (st->values[KEY_OFFSET].line &&
        (s = cbct_mha_parse_doubles(st, KEY_OFFSET, nd, offset, numbers)))
        return s;
    /* The data size in bytes must fit in 63 bits (file offsets, size_t). */
    int64_t bytes = (int64_t)cbct_met_type_bytes(h->element_type);
    for (int i = 0; i < nd; i++) {
        if (dims[i] > INT64_MAX / bytes)
            return cbct_mha_bad_value(st, KEY_DIM_SIZE, "sizes whose product fits in 63 bits "
                                      "of bytes");
        bytes *= dims[i];
    }
    h->ndim = nd;
    for (int i = 0; i < 3; i++) {
        /* MetaImage axis i (x, y, z) is cbct axis 2 - i. */
        h->shape[2 - i] = dims[i];
        h->spacing[2 - i] = spacing[i];
        h->offset[2 - i] = offset[i];
        /* First voxel centre -> volume centre (see io.h). */
        h->origin[2 - i] = offset[i] + 0.5 * (double)(dims[i] - 1) * spacing[i];
    }
    return CBCT_OK;
}

cbct_status cbct_mha_parse_header(const void *bytes, size_t n_bytes, const char *name,
                                  cbct_mha_header *out)
{
    memset(out, 0, sizeof *out);
    /* The key values are copied (one line each): too large for the stack. */
    cbct_mha_parse_state *st = calloc(1, sizeof *st);
    if (!st)
        return cbct_error(CBCT_ERR_MEMORY, "reading '%s': out of memory for the header", name);
    st->file = name;
    size_t data_start = 0;
    cbct_status s = cbct_mha_split_lines(st, bytes, n_bytes, &data_start);
    int msb = 0;
    if (!s)
        s = check_format_keys(st);
    if (!s)
        s = parse_element_type(st, out);
    if (!s)
        s = parse_grid(st, out);
    if (!s)
        s = cbct_mha_parse_bool(st, KEY_MSB, 0, &msb);
    if (!s)
        s = parse_data_file(st, out);
    int64_t header_size = 0;
    if (!s && st->values[KEY_HEADER_SIZE].line)
        s = cbct_mha_parse_ints(st, KEY_HEADER_SIZE, 1, 0, INT64_MAX, &header_size,
                                "a number of bytes >= 0 (-1, data at the end, is not "
                                "supported yet)");
    if (!s) {
        out->big_endian = msb;
        int local = strcasecmp(st->values[KEY_DATA_FILE].text, "LOCAL") == 0;
        /* HeaderSize skips bytes at the start of a separate data file. */
        out->data_offset = local ? (uint64_t)data_start : (uint64_t)header_size;
    }
    free(st);
    if (s)
        memset(out, 0, sizeof *out);
    return s;
}
