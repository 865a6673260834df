/* Shared by the MetaImage reader and writer (not part of the public API). */
#ifndef CBCT_IO_METAIMAGE_INTERNAL_H
#define CBCT_IO_METAIMAGE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "cbct/io.h"

/* MetaImage headers are a few hundred bytes; a header (the text before the
 * data of a .mha, or a whole .mhd) longer than this is not one. */
#define MHA_MAX_HEADER_BYTES ((size_t)64 << 10)
/* Longest header line accepted (key, '=', value), in bytes. */
#define MHA_MAX_LINE 4096

/* Converts `n` elements of type `t` at `src` (file bytes, byte-swapped
 * first when `big_endian`) to float32 at `dst`. `src` may be modified. */
void cbct_mha_convert(cbct_met_type t, int big_endian, void *src, size_t n, float *dst);

/* ---- Header keys (metaimage_keys.c), used by metaimage_header.c ---- */

/* The keys that matter; any other key (Modality, AnatomicalOrientation,
 * CenterOfRotation, ...) is ignored. */
enum {
    KEY_OBJECT_TYPE = 0, KEY_NDIMS, KEY_DIM_SIZE, KEY_SPACING, KEY_OFFSET, KEY_TRANSFORM,
    KEY_BINARY, KEY_MSB, KEY_COMPRESSED, KEY_TYPE, KEY_CHANNELS, KEY_HEADER_SIZE,
    KEY_DATA_FILE, N_KEYS
};

/* One key's value: a NUL-terminated copy, the name used and its line. */
typedef struct key_value {
    char text[MHA_MAX_LINE + 1];
    const char *name;
    int line; /* 0: absent */
} key_value;

typedef struct cbct_mha_parse_state {
    const char *file;
    key_value values[N_KEYS];
} cbct_mha_parse_state;

/* Splits `text` (n bytes) into "Key = Value" lines up to ElementDataFile,
 * storing the values of the known keys; `data_start`: the byte after that
 * line. Bounded lines, no binary bytes, no key twice. */
cbct_status cbct_mha_split_lines(cbct_mha_parse_state *st, const char *text, size_t n,
                                 size_t *data_start);
/* "'file' line N: Key = 'value': expected ..." (CBCT_ERR_FORMAT). */
cbct_status cbct_mha_bad_value(const cbct_mha_parse_state *st, int key, const char *expected);
/* Exactly `n` finite numbers / integers in [min, max] / True or False
 * (absent: `fallback`). */
cbct_status cbct_mha_parse_doubles(const cbct_mha_parse_state *st, int key, int n, double *out,
                                   const char *expected);
cbct_status cbct_mha_parse_ints(const cbct_mha_parse_state *st, int key, int n, long long min,
                                long long max, int64_t *out, const char *expected);
cbct_status cbct_mha_parse_bool(const cbct_mha_parse_state *st, int key, int fallback, int *out);

#endif
