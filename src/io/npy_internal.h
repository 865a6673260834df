/* Shared by the .npy reader and writer (not part of the public API). */
#ifndef CBCT_IO_NPY_INTERNAL_H
#define CBCT_IO_NPY_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "cbct/core.h"

/* Magic (6) + version (2) + header length (2 bytes in v1, 4 in v2/v3). */
#define NPY_PREAMBLE_V1 10
#define NPY_PREAMBLE_V2 12
/* Shapes with more entries than this are refused while parsing; up to this
 * many, the message shows the whole shape. */
#define NPY_MAX_DIMS_PARSED 8

/* Checks magic and version, returns where the header dict starts and its
 * length, and checks that it ends inside the file. */
cbct_status cbct_npy_parse_preamble(const void *bytes, size_t n_bytes, uint64_t file_bytes,
                                    const char *name, size_t *header_start, size_t *header_len);

#endif
