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

/* ---- MetaImage .mha / .mhd (MetaImage part) ------------------------------ */

/* ElementType of a MetaImage file (MET_UCHAR ... MET_DOUBLE). */
typedef enum {
    CBCT_MET_UCHAR = 0, CBCT_MET_CHAR, CBCT_MET_USHORT, CBCT_MET_SHORT, CBCT_MET_UINT,
    CBCT_MET_INT, CBCT_MET_FLOAT, CBCT_MET_DOUBLE
} cbct_met_type;

/* Longest data file name kept (the resolved path of ElementDataFile). */
#define CBCT_MHA_PATH_MAX 4096

/* What a MetaImage header says, in cbct's axis order. MetaImage lists
 * x first (DimSize x y z, x fastest in the data); cbct arrays are
 * (nz, ny, nx), x fastest too, so the data needs no reordering.
 * Origins: MetaImage's Offset is the position of the FIRST voxel's centre,
 * cbct's origin is the offset of the volume CENTRE (include/cbct/geometry.h:
 * voxel centre (ix - nx/2 + 0.5) dx + ox), so ox = Offset_x + (nx - 1)/2 dx
 * (and the inverse when writing). 2D images get nz = 1, dz = 1, oz = 0. */
typedef struct cbct_mha_header {
    int ndim;                  /* NDims: 2 or 3 */
    int64_t shape[3];          /* (nz, ny, nx) */
    double spacing[3];         /* ElementSpacing as (dz, dy, dx), mm; 1 when absent */
    double offset[3];          /* Offset as (z, y, x), mm: first voxel centre; 0 when absent */
    double origin[3];          /* cbct origin (oz, oy, ox), mm: volume centre */
    cbct_met_type element_type;
    int big_endian;            /* BinaryDataByteOrderMSB / ElementByteOrderMSB = True */
    uint64_t data_offset;      /* bytes from the start of data_path */
    char data_path[CBCT_MHA_PATH_MAX]; /* the header itself (LOCAL) or the .raw file */
} cbct_mha_header;

/* Parses a header held in memory: `bytes` are the first `n_bytes` of the
 * file `name` (used for messages and to resolve a relative ElementDataFile
 * against its folder). Parsing stops after the ElementDataFile line (which
 * must be there); for LOCAL data, data_offset is the byte after that line.
 * Does not look at the data (cbct_mha_read_header checks that it is all
 * there). Accepts NDims 2 or 3, BinaryData = True, CompressedData = False,
 * ElementNumberOfChannels 1, an identity TransformMatrix (anything else is
 * CBCT_ERR_FORMAT: cbct volumes are axis-aligned, and ignoring a rotation
 * or flip would silently misplace the object), both byte orders. Never
 * reads past `n_bytes` (the entry point for fuzzing). */
cbct_status cbct_mha_parse_header(const void *bytes, size_t n_bytes, const char *name,
                                  cbct_mha_header *out);
/* Reads and parses the header of `path` and checks that the data file holds
 * at least the bytes that DimSize and ElementType call for. */
cbct_status cbct_mha_read_header(const char *path, cbct_mha_header *out);
/* Reads the whole image as float32 (other types converted), with spacing
 * and origin filled in. */
cbct_status cbct_mha_read(const char *path, cbct_array *out);
/* Reads z-slices [first, first + count) into `dst` as float32. */
cbct_status cbct_mha_read_slices(const cbct_mha_header *h, int64_t first, int64_t count,
                                 float *dst);
/* Writes MET_FLOAT, little-endian: `path` ending in .mha holds the header
 * and the data (ElementDataFile = LOCAL); ending in .mhd, the data goes to
 * the same name with .raw (raw written first, then the header; when either
 * fails, neither is left). Spacing and origin from the array. Atomic. */
cbct_status cbct_mha_write(const char *path, const cbct_array *a);
/* Size in bytes of one element of `t` (0 for an unknown value). */
size_t cbct_met_type_bytes(cbct_met_type t);
/* "MET_USHORT" etc. */
const char *cbct_met_type_name(cbct_met_type t);

/* A MetaImage written slab by slab (z-slices in order), as cbct_npy_writer. */
typedef struct cbct_mha_writer {
    cbct_atomic_file data;     /* the .mha, or the .raw of a .mhd */
    char *header_path;         /* .mhd: the header written at commit; NULL for .mha */
    char header_text[1024];    /* .mhd: the header written at commit */
    int64_t shape[3];
    int64_t slices_written;
} cbct_mha_writer;
cbct_status cbct_mha_writer_open(const char *path, const int64_t shape[3],
                                 const double spacing[3], const double origin[3],
                                 cbct_mha_writer *w);
cbct_status cbct_mha_writer_write(cbct_mha_writer *w, const float *slices, int64_t count);
cbct_status cbct_mha_writer_commit(cbct_mha_writer *w);
void cbct_mha_writer_abort(cbct_mha_writer *w);

/* ---- Volume files by extension (.npy, .mha, .mhd) ------------------------ */

typedef enum { CBCT_VOLUME_NPY = 0, CBCT_VOLUME_MHA, CBCT_VOLUME_MHD } cbct_volume_format;

/* The format named by the extension of `path` (CBCT_ERR_ARG otherwise). */
cbct_status cbct_volume_format_of(const char *path, cbct_volume_format *out);

typedef struct cbct_volume_header {
    cbct_volume_format format;
    int64_t shape[3];          /* (nz, ny, nx) */
    double spacing[3];         /* (dz, dy, dx) mm; .npy has none: 1 */
    double origin[3];          /* volume centre (oz, oy, ox) mm; .npy has none: 0 */
    const char *dtype_name;    /* "float32", "uint16", "MET_USHORT", ... (static) */
    cbct_npy_header npy;       /* filled for .npy */
    cbct_mha_header mha;       /* filled for .mha / .mhd */
} cbct_volume_header;

cbct_status cbct_volume_read_header(const char *path, cbct_volume_header *out);
/* The whole volume as float32 with spacing and origin filled. */
cbct_status cbct_volume_read(const char *path, cbct_array *out);
/* z-slices [first, first + count) of the file `path` whose header is `h`. */
cbct_status cbct_volume_read_slices(const char *path, const cbct_volume_header *h,
                                    int64_t first, int64_t count, float *dst);
/* float32 in the format of the extension; spacing/origin where it has them. */
cbct_status cbct_volume_write(const char *path, const cbct_array *a);

typedef struct cbct_volume_writer {
    cbct_volume_format format;
    cbct_npy_writer npy;
    cbct_mha_writer mha;
} cbct_volume_writer;
cbct_status cbct_volume_writer_open(const char *path, const int64_t shape[3],
                                    const double spacing[3], const double origin[3],
                                    cbct_volume_writer *w);
cbct_status cbct_volume_writer_write(cbct_volume_writer *w, const float *slices, int64_t count);
cbct_status cbct_volume_writer_commit(cbct_volume_writer *w);
void cbct_volume_writer_abort(cbct_volume_writer *w);

/* ---- End of the MetaImage part ------------------------------------------- */

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
