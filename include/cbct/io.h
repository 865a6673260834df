/* File formats. All writers are atomic: the data goes to a temporary file
 * in the same folder, which is flushed (fsync) and renamed over the target,
 * so a failed write never leaves a truncated file that looks valid. */
#ifndef CBCT_IO_H
#define CBCT_IO_H

#include <stdio.h>
#include "cbct/core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Atomic files --------------------------------------------------------- */

typedef struct cbct_atomic_file {
    FILE *fp;
    char *final_path;
    char *temp_path;
} cbct_atomic_file;

cbct_status cbct_atomic_open(const char *path, cbct_atomic_file *f);
/* Writes `bytes` (CBCT_ERR_IO naming the file on a short write; the
 * temporary file is then removed, as by abort, and later calls fail). */
cbct_status cbct_atomic_write(cbct_atomic_file *f, const void *data, size_t bytes);
/* Flush, fsync, rename; on failure the temporary file is removed. */
cbct_status cbct_atomic_commit(cbct_atomic_file *f);
/* Removes the temporary file; safe to call after commit (no-op). */
void cbct_atomic_abort(cbct_atomic_file *f);

/* Reads a whole (small) text file, NUL-terminated; caller frees with free().
 * CBCT_ERR_FORMAT naming the file when it has more than `max_bytes`. */
cbct_status cbct_read_text_file(const char *path, size_t max_bytes, char **out, size_t *len);

/* ---- NumPy .npy ----------------------------------------------------------- */

typedef enum { CBCT_DTYPE_F32 = 0, CBCT_DTYPE_F64, CBCT_DTYPE_U16 } cbct_dtype;

typedef struct cbct_npy_header {
    cbct_dtype dtype;
    int ndim;           /* 1..3 accepted; arrays of fewer dims get leading 1s */
    int64_t shape[3];   /* padded to 3 dims, slowest first */
    size_t data_offset; /* bytes from the start of the file */
} cbct_npy_header;

/* Parses the header (v1.0/2.0/3.0, little-endian, C order). */
cbct_status cbct_npy_read_header(const char *path, cbct_npy_header *out);
/* The same from memory: `bytes` holds the first `n_bytes` of a file of
 * `file_bytes` bytes named `name` (for messages). Needs the whole header in
 * `bytes` (CBCT_ERR_FORMAT otherwise); checks that the data fits the file.
 * Never reads past `n_bytes` (the entry point for fuzzing). */
cbct_status cbct_npy_parse_header(const void *bytes, size_t n_bytes, uint64_t file_bytes,
                                  const char *name, cbct_npy_header *out);
/* Reads the whole array as float32 (float64 and uint16 converted). */
cbct_status cbct_npy_read(const char *path, cbct_array *out);
/* Reads rows [first, first + count) of the slowest axis into `dst`. */
cbct_status cbct_npy_read_slices(const char *path, const cbct_npy_header *h, int64_t first,
                                 int64_t count, float *dst);
cbct_status cbct_npy_write(const char *path, const cbct_array *a);

/* A .npy written slab by slab (for outputs larger than the memory budget):
 * open with the full shape, write the slowest-axis slices in order, commit.
 * Any error (a failed write, more slices than the shape, a commit before
 * all slices) removes the temporary file: no output appears. Abort is safe
 * at any time, also after commit or a failed open. */
typedef struct cbct_npy_writer {
    cbct_atomic_file file;
    int64_t shape[3];
    int64_t slices_written;
} cbct_npy_writer;
cbct_status cbct_npy_writer_open(const char *path, const int64_t shape[3], cbct_npy_writer *w);
cbct_status cbct_npy_writer_write(cbct_npy_writer *w, const float *slices, int64_t count);
cbct_status cbct_npy_writer_commit(cbct_npy_writer *w);
void cbct_npy_writer_abort(cbct_npy_writer *w);

/* ---- PNG previews -------------------------------------------------------- */

/* 8-bit grey PNG of a height x width float image (row-major), linearly
 * mapped from [lo, hi] to [0, 255] (clamped). Atomic. */
cbct_status cbct_png_write_gray(const char *path, const float *image, int64_t height,
                                int64_t width, float lo, float hi);
/* Axial (middle z) or coronal (middle y) slice of a volume, side by side for
 * `n_volumes` volumes of the same shape, window [lo, hi]. Axial: z = nz/2,
 * ny x nx; coronal: y = ny/2, nz x nx; sagittal: x = nx/2, nz x ny; in the
 * coronal and sagittal images the top row is the highest z. Volumes are
 * separated by 4 black pixels. */
typedef enum { CBCT_SLICE_AXIAL = 0, CBCT_SLICE_CORONAL, CBCT_SLICE_SAGITTAL } cbct_slice_plane;
cbct_status cbct_png_write_slices(const char *path, const cbct_array *const *volumes,
                                  int n_volumes, cbct_slice_plane plane, float lo, float hi);

#ifdef __cplusplus
}
#endif
#endif
