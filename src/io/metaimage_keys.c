/* MetaImage header lines: splitting the text into "Key = Value" lines (bounded
 * length, no binary bytes, each key once) up to ElementDataFile, and
 * checked conversions of the values (numbers, integers, booleans). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "io/metaimage_internal.h"

typedef struct key_name {
    const char *name;
    int key;
} key_name;

/* MetaIO accepts several names for some keys. */
static const key_name key_names[] = {
    {"ObjectType", KEY_OBJECT_TYPE}, {"NDims", KEY_NDIMS}, {"DimSize", KEY_DIM_SIZE},
    {"ElementSpacing", KEY_SPACING}, {"Offset", KEY_OFFSET}, {"Origin", KEY_OFFSET},
    {"Position", KEY_OFFSET}, {"TransformMatrix", KEY_TRANSFORM}, {"Rotation", KEY_TRANSFORM},
    {"Orientation", KEY_TRANSFORM}, {"BinaryData", KEY_BINARY},
    {"BinaryDataByteOrderMSB", KEY_MSB}, {"ElementByteOrderMSB", KEY_MSB},
    {"CompressedData", KEY_COMPRESSED}, {"ElementType", KEY_TYPE},
    {"ElementNumberOfChannels", KEY_CHANNELS}, {"HeaderSize", KEY_HEADER_SIZE},
    {"ElementDataFile", KEY_DATA_FILE}};
#define N_KEY_NAMES (int)(sizeof key_names / sizeof key_names[0])

static int find_key(const char *key, size_t len)
{
    for (int i = 0; i < N_KEY_NAMES; i++)
        if (strlen(key_names[i].name) == len && strncasecmp(key_names[i].name, key, len) == 0)
            return i;
    return -1;
}

cbct_status cbct_mha_bad_value(const cbct_mha_parse_state *st, int key, const char *expected)
{
    const key_value *v = &st->values[key];
    return cbct_error(CBCT_ERR_FORMAT, "'%s' line %d: %s = '%.200s': expected %s", st->file,
                      v->line, v->name, v->text, expected);
}

/* Splits the value into exactly `n` finite numbers. */
cbct_status cbct_mha_parse_doubles(const cbct_mha_parse_state *st, int key, int n, double *out,
                                   const char *expected)
{
    const char *p = st->values[key].text;
    for (int i = 0; i < n; i++) {
        char *end;
        errno = 0;
        out[i] = strtod(p, &end);
        if (end == p || errno == ERANGE || !isfinite(out[i]) ||
            (*end && *end != ' ' && *end != '\t'))
            return cbct_mha_bad_value(st, key, expected);
        p = end;
    }
    while (*p == ' ' || *p == '\t')
        p++;
    return *p ? cbct_mha_bad_value(st, key, expected) : CBCT_OK;
}

/* Same for integers in [min, max]. */
cbct_status cbct_mha_parse_ints(const cbct_mha_parse_state *st, int key, int n, long long min,
                                long long max, int64_t *out, const char *expected)
{
    const char *p = st->values[key].text;
    for (int i = 0; i < n; i++) {
        char *end;
        errno = 0;
        long long v = strtoll(p, &end, 10);
        if (end == p || errno == ERANGE || v < min || v > max ||
            (*end && *end != ' ' && *end != '\t'))
            return cbct_mha_bad_value(st, key, expected);
        out[i] = v;
        p = end;
    }
    while (*p == ' ' || *p == '\t')
        p++;
    return *p ? cbct_mha_bad_value(st, key, expected) : CBCT_OK;
}

/* True / False (absent: `fallback`). */
cbct_status cbct_mha_parse_bool(const cbct_mha_parse_state *st, int key, int fallback, int *out)
{
    *out = fallback;
    if (!st->values[key].line)
        return CBCT_OK;
    if (strcasecmp(st->values[key].text, "True") == 0)
        *out = 1;
    else if (strcasecmp(st->values[key].text, "False") == 0)
        *out = 0;
    else
        return cbct_mha_bad_value(st, key, "True or False");
    return CBCT_OK;
}

/* Stores one "Key = Value" line (`len` bytes, no newline). */
static cbct_status store_line(cbct_mha_parse_state *st, const char *line, size_t len, int line_no,
                              int *key_out)
{
    *key_out = -1;
    const char *eq = memchr(line, '=', len);
    if (!eq)
        return cbct_error(CBCT_ERR_FORMAT, "'%s' line %d: expected 'Key = Value', got '%.80s' "
                          "(not a MetaImage header?)", st->file, line_no, line);
    size_t key_end = (size_t)(eq - line), val = key_end + 1;
    size_t key_start = 0;
    while (key_start < key_end && (line[key_start] == ' ' || line[key_start] == '\t'))
        key_start++;
    while (key_end > key_start && (line[key_end - 1] == ' ' || line[key_end - 1] == '\t'))
        key_end--;
    while (val < len && (line[val] == ' ' || line[val] == '\t'))
        val++;
    while (len > val && (line[len - 1] == ' ' || line[len - 1] == '\t' || line[len - 1] == '\r'))
        len--;
    int k = find_key(line + key_start, key_end - key_start);
    if (k < 0)
        return CBCT_OK;
    key_value *v = &st->values[key_names[k].key];
    if (v->line)
        return cbct_error(CBCT_ERR_FORMAT, "'%s' line %d: %s given again (first on line %d)",
                          st->file, line_no, key_names[k].name, v->line);
    memcpy(v->text, line + val, len - val);
    v->text[len - val] = '\0';
    v->name = key_names[k].name;
    v->line = line_no;
    *key_out = key_names[k].key;
    return CBCT_OK;
}

/* Splits the text into lines up to ElementDataFile; returns where the data
 * starts (the byte after that line). */
cbct_status cbct_mha_split_lines(cbct_mha_parse_state *st, const char *text, size_t n,
                                 size_t *data_start)
{
    size_t pos = 0;
    for (int line_no = 1; pos < n; line_no++) {
        size_t limit = n - pos < MHA_MAX_LINE + 2 ? n - pos : MHA_MAX_LINE + 2;
        const char *nl = memchr(text + pos, '\n', limit);
        size_t len = nl ? (size_t)(nl - (text + pos)) : limit;
        if (len > MHA_MAX_LINE)
            return cbct_error(CBCT_ERR_FORMAT, "'%s' line %d is longer than %d bytes (not a "
                              "MetaImage header?)", st->file, line_no, MHA_MAX_LINE);
        for (size_t i = 0; i < len; i++) {
            unsigned char c = (unsigned char)text[pos + i];
            if (c < 0x20 && c != '\t' && c != '\r')
                return cbct_error(CBCT_ERR_FORMAT, "'%s' line %d: binary byte 0x%02x in the "
                                  "header (data before ElementDataFile?)", st->file, line_no, c);
        }
        int key = -1;
        /* Blank lines are skipped. Counted within the line: the text is not
         * NUL-terminated (strspn read past the buffer; found by fuzzing). */
        size_t blanks = 0;
        while (blanks < len && (text[pos + blanks] == ' ' || text[pos + blanks] == '\t' ||
                                text[pos + blanks] == '\r'))
            blanks++;
        if (blanks < len) {
            char line[MHA_MAX_LINE + 1];
            memcpy(line, text + pos, len);
            line[len] = '\0';
            cbct_status s = store_line(st, line, len, line_no, &key);
            if (s)
                return s;
        }
        pos += len + (nl ? 1 : 0);
        if (key == KEY_DATA_FILE) {
            *data_start = pos;
            return CBCT_OK;
        }
    }
    return cbct_error(CBCT_ERR_FORMAT, "'%s': no ElementDataFile key in the header (%zu bytes "
                      "read): not a MetaImage file, or a truncated one", st->file, n);
}
