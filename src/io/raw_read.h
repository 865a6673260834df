/* Reading raw arrays (the data part of .npy and MetaImage files) as
 * float32, shared by npy_read.c and metaimage_read.c (not public API). */
#ifndef CBCT_IO_RAW_READ_H
#define CBCT_IO_RAW_READ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "cbct/core.h"

/* Opens a regular file for reading and finds its size (bytes). */
cbct_status cbct_io_open_regular(const char *path, FILE **fp, uint64_t *file_bytes);

/* Converts `n` items of the file's type at `items` (which it may modify,
 * e.g. to swap bytes) to float32 at `dst`. */
typedef void (*cbct_io_convert_fn)(const void *ctx, void *items, size_t n, float *dst);

/* Where and how the slices of an array lie in a file: slice i (of the
 * slowest axis) starts at byte data_offset + i * slice_items * item_bytes. */
typedef struct {
    const char *path;           /* the file with the data */
    uint64_t data_offset;       /* bytes before the first item */
    size_t slice_items;         /* items per slice */
    size_t item_bytes;          /* bytes per item in the file */
    cbct_io_convert_fn convert; /* NULL: the items are little-endian float32 */
    const void *convert_ctx;
    const char *buffer_name;    /* the conversion buffer, for the allocator */
    /* For the messages: what a slice is called ("slice", "z-slice"), and
     * what gives the data's size ("DimSize"). */
    const char *slice_word;
    const char *size_source;
} cbct_io_raw_layout;

/* Reads slices [first, first + count) into dst (count * slice_items
 * floats), converting through a small buffer when `convert` is set. The
 * caller has checked the range against the array's shape. */
cbct_status cbct_io_read_raw_slices(const cbct_io_raw_layout *layout, int64_t first,
                                    int64_t count, float *dst);

#endif
