/* Shared by the TIFF reader, stack reader and writer (not public API). */
#ifndef CBCT_IO_TIFF_INTERNAL_H
#define CBCT_IO_TIFF_INTERNAL_H

#include <tiffio.h>

#include "cbct/io.h"

/* libtiff's messages for one open file: captured (never printed), so that
 * our error can quote the last one. */
typedef struct tiff_diag {
    char last[256];
} tiff_diag;

/* A TIFF held in memory, read through TIFFClientOpen. */
typedef struct tiff_memory {
    const unsigned char *bytes;
    uint64_t size, pos;
} tiff_memory;

/* Open a file ("r" or "w"), a descriptor (write; libtiff closes it) or a
 * buffer (read); NULL on failure with CBCT_ERR_IO / CBCT_ERR_FORMAT
 * recorded, naming `name` and quoting libtiff. */
TIFF *cbct_tiff_open_file(const char *path, tiff_diag *d);
TIFF *cbct_tiff_open_fd_write(int fd, const char *name, tiff_diag *d);
TIFF *cbct_tiff_open_memory(tiff_memory *m, const char *name, tiff_diag *d);
/* Routes the messages of files opened with `o` into `d`. */
void cbct_tiff_capture_into(TIFFOpenOptions *o, tiff_diag *d);
/* " (libtiff: ...)" when libtiff said something, else "". */
const char *cbct_tiff_said(const tiff_diag *d);

/* What one page (directory) holds. */
typedef struct tiff_page {
    uint32_t rows, cols;
    cbct_met_type type;
} tiff_page;

/* Size and sample type of the current page: one sample per pixel, a type
 * cbct reads; CBCT_ERR_FORMAT naming `name` and page `page` otherwise. */
cbct_status cbct_tiff_page_info(TIFF *t, const char *name, int64_t page, tiff_page *out);
/* Decodes the current page (rows x cols, as page_info said) to float32. */
cbct_status cbct_tiff_read_page(TIFF *t, const char *name, int64_t page, const tiff_page *p,
                                tiff_diag *d, float *dst);
/* Spacing and origin from the current page's tags (see io.h); returns 1
 * when the file had a spacing, else fills 1 and 0 and returns 0. */
int cbct_tiff_page_grid(TIFF *t, double spacing[3], double origin[3]);

/* Writes one page of rows x cols floats as `type` (float32 or uint16),
 * with the grid in its tags. */
cbct_status cbct_tiff_write_page(TIFF *t, const char *name, int64_t page, int64_t n_pages,
                                 int64_t rows, int64_t cols, cbct_met_type type,
                                 const double spacing[3], const double origin[3],
                                 const float *data);

/* Stacks (tiff_stack.c): the file of slice `index` (0-based) of stack `h`
 * into buf; CBCT_ERR_IO when it cannot be named. */
cbct_status cbct_tiff_stack_file(const cbct_tiff_header *h, int64_t index, char *buf,
                                 size_t cap);
cbct_status cbct_tiff_stack_read_header(const char *path, cbct_tiff_header *out);
/* printf pattern with exactly one integer conversion (%d, %05d, %i, %u)
 * and no other conversion ("%%" allowed). */
int cbct_tiff_is_pattern(const char *path);

#endif
