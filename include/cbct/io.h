/* File formats. All writers are atomic: the data goes to a temporary file
 * in the same folder, which is flushed (fsync) and renamed over the target,
 * so a failed write never leaves a truncated file that looks valid. */
#ifndef CBCT_IO_H
#define CBCT_IO_H

#include <stdio.h>
#include "cbct/core.h"
#include "cbct/geometry.h" /* the Walnut loader returns a geometry */

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

/* ---- Element types of TIFF, NIfTI and HDF5 files ------------------------- */

/* The types of cbct_met_type, named as numpy does ("uint8", "int16",
 * "uint16", "uint32", "int32", "float32", "float64"); the readers of the
 * formats below report their element type with it. */
const char *cbct_element_type_name(cbct_met_type t);

/* ---- TIFF: multi-page files and stacks of single-page files -------------- */

/* A volume is one page per z-slice, rows = y, columns = x (x fastest, as
 * cbct's arrays), either in one multi-page file (`vol.tif`, `vol.tiff`) or
 * as a stack of single-page files, named by
 *   - a printf pattern with one integer conversion (`slices/z_%04d.tif`):
 *     files from index 0 (or 1 when 0 is missing) up to the first gap; or
 *   - a folder (`slices/`): every *.tif / *.tiff in it, sorted by name
 *     (byte order, so zero-pad the numbers); read only.
 * Samples: 1 per pixel, uint8, int8, uint16, int16, uint32, int32, float32,
 * float64 read (any compression libtiff decodes, strips or tiles); float32
 * and uint16 written (uncompressed). Spacing and origin: written as
 * "cbct spacing=DZ,DY,DX origin=OZ,OY,OX" (mm) in ImageDescription and as
 * X/YResolution in pixels per cm; read from that description, else from
 * X/YResolution (cm or inch) and an ImageJ "spacing=" line, else 1 mm and
 * origin 0. See docs/formats.md. */
typedef struct cbct_tiff_header {
    int64_t shape[3];          /* (pages or files, rows, cols) = (nz, ny, nx) */
    double spacing[3];         /* (dz, dy, dx) mm; 1 when the file has none */
    double origin[3];          /* volume centre (oz, oy, ox) mm; 0 when the file has none */
    int has_spacing;           /* 1 when spacing came from the file */
    cbct_met_type element_type;
    int is_stack;              /* 0: multi-page file; 1: stack of single-page files */
    int stack_is_folder;       /* stack given as a folder (else a printf pattern) */
    int64_t first_index;       /* pattern stacks: index of the first file */
    char source[CBCT_MHA_PATH_MAX]; /* the file, pattern or folder */
} cbct_tiff_header;

/* 1 when `path` names a TIFF stack: a printf integer conversion in the
 * name, or an existing folder. */
int cbct_tiff_is_stack(const char *path);
/* Parses a whole TIFF file held in memory (all pages: sizes and types must
 * agree). Never reads outside `bytes` (the entry point for fuzzing;
 * libtiff's own messages are captured into the error, never printed). */
cbct_status cbct_tiff_parse(const void *bytes, size_t n_bytes, const char *name,
                            cbct_tiff_header *out);
/* Parses and decodes every page of a TIFF in memory as float32, refusing
 * (CBCT_ERR_FORMAT) more than `max_values` values (for fuzzing: bounds
 * the memory a hostile header can ask for). */
cbct_status cbct_tiff_decode(const void *bytes, size_t n_bytes, const char *name,
                             int64_t max_values, cbct_array *out);
cbct_status cbct_tiff_read_header(const char *path, cbct_tiff_header *out);
cbct_status cbct_tiff_read_slices(const cbct_tiff_header *h, int64_t first, int64_t count,
                                  float *dst);
cbct_status cbct_tiff_read(const char *path, cbct_array *out);

/* Written page by page (multi-page: into one atomic file; stack: each file
 * atomically, and the files already written are removed again when the
 * writer fails or is aborted). `element_type`: CBCT_MET_FLOAT or
 * CBCT_MET_USHORT (values must then be whole numbers in [0, 65535]: others
 * are refused, not rounded). */
typedef struct cbct_tiff_writer {
    cbct_atomic_file file;     /* multi-page: the temporary file libtiff writes */
    void *tif;                 /* TIFF * of the file being written */
    void *diag;                /* libtiff's captured messages for it */
    char *pattern;             /* stack: the printf pattern; NULL: multi-page */
    cbct_met_type element_type;
    int64_t shape[3];
    double spacing[3], origin[3];
    int64_t slices_written;
} cbct_tiff_writer;
cbct_status cbct_tiff_writer_open(const char *path, const int64_t shape[3],
                                  const double spacing[3], const double origin[3],
                                  cbct_met_type element_type, cbct_tiff_writer *w);
cbct_status cbct_tiff_writer_write(cbct_tiff_writer *w, const float *slices, int64_t count);
cbct_status cbct_tiff_writer_commit(cbct_tiff_writer *w);
void cbct_tiff_writer_abort(cbct_tiff_writer *w);
cbct_status cbct_tiff_write(const char *path, const cbct_array *a, cbct_met_type element_type);

/* ---- NIfTI-1 .nii / .nii.gz ------------------------------------------------ */

/* Single-file NIfTI-1 ("n+1"), plain or gzip-compressed (.nii.gz), either
 * byte order. dim[1..3] = (nx, ny, nz), x fastest: the data are cbct's
 * (nz, ny, nx) array as they are. Read: uint8, int8, int16, uint16, int32,
 * uint32, float32, float64, with scl_slope / scl_inter applied (when the
 * slope is not 0); write: float32, little-endian, slope 1.
 * Grid: the sform (sform_code > 0), else the qform (qform_code > 0), else
 * pixdim. It must be diagonal (a rotated grid is refused: ignoring it would
 * misplace the object); spacing is |diagonal|, origin the world position of
 * the volume centre. A negative diagonal (an axis stored flipped, as ITK's
 * LPS files) is read as stored, with a warning in the log. */
typedef struct cbct_nifti_header {
    int64_t shape[3];          /* (nz, ny, nx) */
    double spacing[3];         /* (dz, dy, dx) mm */
    double origin[3];          /* volume centre (oz, oy, ox) mm */
    int flipped[3];            /* axis (z, y, x) has a negative step in the grid */
    cbct_met_type element_type;
    int swapped;               /* the file's byte order is not the host's */
    double slope, intercept;   /* value = stored * slope + intercept (1, 0: none) */
    uint64_t data_offset;      /* vox_offset: bytes before the data (uncompressed) */
    int gzip;                  /* .nii.gz */
    int grid_source;           /* 2: sform, 1: qform, 0: pixdim only */
    char path[CBCT_MHA_PATH_MAX];
} cbct_nifti_header;

/* Parses the 348-byte header at `bytes` (n_bytes available; the file is
 * named `name` in messages). Never reads past `n_bytes` (fuzzing entry). */
cbct_status cbct_nifti_parse_header(const void *bytes, size_t n_bytes, const char *name,
                                    cbct_nifti_header *out);
/* Reads the header (through gzip for .nii.gz) and, for .nii, checks that
 * the data are all there. */
cbct_status cbct_nifti_read_header(const char *path, cbct_nifti_header *out);
cbct_status cbct_nifti_read_slices(const cbct_nifti_header *h, int64_t first, int64_t count,
                                   float *dst);
cbct_status cbct_nifti_read(const char *path, cbct_array *out);

typedef struct cbct_nifti_writer {
    cbct_atomic_file file;
    void *gz;                  /* z_stream * for .nii.gz; NULL for .nii */
    int64_t shape[3];
    int64_t slices_written;
} cbct_nifti_writer;
cbct_status cbct_nifti_writer_open(const char *path, const int64_t shape[3],
                                   const double spacing[3], const double origin[3],
                                   cbct_nifti_writer *w);
cbct_status cbct_nifti_writer_write(cbct_nifti_writer *w, const float *slices, int64_t count);
cbct_status cbct_nifti_writer_commit(cbct_nifti_writer *w);
void cbct_nifti_writer_abort(cbct_nifti_writer *w);
cbct_status cbct_nifti_write(const char *path, const cbct_array *a);

/* ---- HDF5 datasets ----------------------------------------------------------- */

/* `file.h5:/group/dataset` names a dataset; `file.h5` alone (also .hdf5,
 * .hdf, .nxs) means CBCT_HDF5_DEFAULT_DATASET, or, when the file has no
 * such dataset, the only dataset at its root. A 3D dataset is (nz, ny, nx)
 * in HDF5's C order (x fastest); 2D reads as nz = 1. Any integer or float
 * type is read (HDF5 converts to float32); float32 is written (contiguous,
 * uncompressed). Grid attributes on the dataset: "spacing" (dz, dy, dx in
 * mm) and "origin" (oz, oy, ox: volume centre, mm), 3 doubles each;
 * without "spacing", "element_size_um" (z, y, x in micrometres, as ilastik
 * and Fiji write) is read. Slabs are hyperslab reads / writes. HDF5's own
 * error printing is switched off; its innermost message goes into ours. */
#define CBCT_HDF5_DEFAULT_DATASET "/volume"
typedef struct cbct_hdf5_header {
    int64_t shape[3];          /* (nz, ny, nx) */
    double spacing[3];         /* (dz, dy, dx) mm; 1 when absent */
    double origin[3];          /* (oz, oy, ox) mm; 0 when absent */
    int has_spacing;
    cbct_met_type element_type;
    int ndim;
    char file[CBCT_MHA_PATH_MAX];
    char dataset[1024];
} cbct_hdf5_header;

/* Splits "file.h5:/a/b" into file and dataset ("" when not given). */
cbct_status cbct_hdf5_split_name(const char *spec, char *file, size_t file_cap, char *dataset,
                                 size_t dataset_cap);
cbct_status cbct_hdf5_read_header(const char *spec, cbct_hdf5_header *out);
cbct_status cbct_hdf5_read_slices(const cbct_hdf5_header *h, int64_t first, int64_t count,
                                  float *dst);
cbct_status cbct_hdf5_read(const char *spec, cbct_array *out);

typedef struct cbct_hdf5_writer {
    cbct_atomic_file file;     /* the temporary file HDF5 writes, renamed at commit */
    int64_t file_id, dataset_id, space_id; /* hid_t */
    int64_t shape[3];
    int64_t slices_written;
} cbct_hdf5_writer;
cbct_status cbct_hdf5_writer_open(const char *spec, const int64_t shape[3],
                                  const double spacing[3], const double origin[3],
                                  cbct_hdf5_writer *w);
cbct_status cbct_hdf5_writer_write(cbct_hdf5_writer *w, const float *slices, int64_t count);
cbct_status cbct_hdf5_writer_commit(cbct_hdf5_writer *w);
void cbct_hdf5_writer_abort(cbct_hdf5_writer *w);
cbct_status cbct_hdf5_write(const char *spec, const cbct_array *a);

/* ---- Volume files by extension --------------------------------------------- */

typedef enum {
    CBCT_VOLUME_NPY = 0, CBCT_VOLUME_MHA, CBCT_VOLUME_MHD, CBCT_VOLUME_TIFF,
    CBCT_VOLUME_NIFTI, CBCT_VOLUME_HDF5
} cbct_volume_format;

/* The format named by `path`: .npy; .mha; .mhd; .tif/.tiff, a printf
 * pattern of them or a folder (TIFF, see above); .nii/.nii.gz; .h5/.hdf5/
 * .hdf/.nxs with an optional ":/dataset" (CBCT_ERR_ARG otherwise). */
cbct_status cbct_volume_format_of(const char *path, cbct_volume_format *out);

typedef struct cbct_volume_header {
    cbct_volume_format format;
    int64_t shape[3];          /* (nz, ny, nx) */
    double spacing[3];         /* (dz, dy, dx) mm; .npy has none: 1 */
    double origin[3];          /* volume centre (oz, oy, ox) mm; .npy has none: 0 */
    const char *dtype_name;    /* "float32", "uint16", "MET_USHORT", ... (static) */
    cbct_npy_header npy;       /* filled for .npy */
    cbct_mha_header mha;       /* filled for .mha / .mhd */
    cbct_tiff_header tiff;     /* filled for TIFF */
    cbct_nifti_header nifti;   /* filled for NIfTI */
    cbct_hdf5_header hdf5;     /* filled for HDF5 */
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
    cbct_tiff_writer tiff;     /* float32 */
    cbct_nifti_writer nifti;
    cbct_hdf5_writer hdf5;
} cbct_volume_writer;
cbct_status cbct_volume_writer_open(const char *path, const int64_t shape[3],
                                    const double spacing[3], const double origin[3],
                                    cbct_volume_writer *w);
cbct_status cbct_volume_writer_write(cbct_volume_writer *w, const float *slices, int64_t count);
cbct_status cbct_volume_writer_commit(cbct_volume_writer *w);
void cbct_volume_writer_abort(cbct_volume_writer *w);

/* ---- End of the MetaImage part ------------------------------------------- */

/* ---- The Walnut dataset (Der Sarkissian et al., 2019) ---------------------- */

/* Reads one orbit of a walnut as the dataset's reference scripts do
 * (docs/walnut.md): PATH/Projections/tubeV<orbit>/scan_geom_corrected.geom
 * holds one row of 12 numbers per view (ASTRA cone_vec: source, detector
 * centre, u, v; mm); all rows but the last are used (the last repeats the
 * first angle: 1200 of 1201 in the real data); geometry row i belongs to
 * image scan_{N-1-i:06}.tif (N = 1200: acquired in reverse); each image is
 * flipped upside down, then transposed (stored H x W becomes W rows x H
 * columns); dark di000000.tif, flats io000000.tif and io000001.tif
 * averaged; line integrals -log((P - D) / (F - D)), with non-positive or
 * non-finite ratios clamped to CBCT_WALNUT_MIN_RATIO (counted). */
#define CBCT_WALNUT_MIN_RATIO (1.0 / 65536.0) /* one count of a 16-bit detector */
#define CBCT_WALNUT_VOLUME_VOXELS 501         /* reference volume: 501^3 ... */
#define CBCT_WALNUT_VOXEL_MM 0.1              /* ... of 0.1 mm, centred on the origin */

typedef struct cbct_walnut_options {
    const char *path;             /* the walnut's folder, e.g. .../Walnut1 */
    int orbit;                    /* 1 (highest source), 2 (middle: the reference), 3 */
    int64_t num_projections;      /* evenly spaced over the N views; 0: all N */
    int64_t volume_shape[3];      /* (nz, ny, nx); zeros: 501^3 */
    double voxel_size_mm;         /* 0: 0.1 */
    int load_truth;               /* read Reconstructions/full_AGD_50_%06d.tiff if there */
} cbct_walnut_options;

typedef struct cbct_walnut_report {
    int64_t views_available;      /* N */
    int64_t clamped;              /* ratios clamped (non-positive or not finite) */
    int truth_found;              /* the reference reconstruction was read */
    int64_t image_rows, image_cols; /* stored image size (before flip / transpose) */
} cbct_walnut_report;

/* Parses the text of a .geom file (`n` bytes, need not end in NUL; `name`
 * for messages): rows of 12 numbers, blank lines and '#' comments allowed.
 * *rows_out (tracked, n_rows x 12, free with cbct_free) gets them. Never
 * reads past `n` (the entry point for fuzzing). */
cbct_status cbct_walnut_parse_geom(const char *text, size_t n, const char *name,
                                   double **rows_out, int64_t *n_rows);
/* Which of the N views are taken: view k is geometry row k * N / count
 * (count = num_projections, or N when 0). */
int64_t cbct_walnut_view_row(int64_t k, int64_t count, int64_t n_available);
/* Loads geometry (with the volume of `o`), projections (views x rows x
 * cols line integrals) and, when asked and present, the ground truth
 * (zeroed struct otherwise, also when its shape is not the volume's: a
 * warning is logged). `report` may be NULL. Reads one image at a time:
 * memory is the projections, the truth and three images. */
cbct_status cbct_walnut_load(const cbct_walnut_options *o, cbct_geometry *geom,
                             cbct_array *proj, cbct_array *truth, cbct_walnut_report *report);

/* ---- ASTRA geometry dictionaries (JSON) ------------------------------------ */

/* The dictionaries astra.create_proj_geom / create_vol_geom return, as
 * JSON: {"proj_geom": {...}, "vol_geom": {...}}, or a bare proj_geom
 * (then the volume is fitted to the field of view, cbct_volume_geom_fit,
 * with nx = ny = DetectorColCount, nz = DetectorRowCount).
 *   cone:     type, DetectorSpacingX (column pitch, u), DetectorSpacingY (row
 *             pitch, v), DetectorRowCount, DetectorColCount,
 *             ProjectionAngles (radians), DistanceOriginSource,
 *             DistanceOriginDetector; converted as ASTRA's cone -> cone_vec
 *             (source at (sin a, -cos a, 0) * DistanceOriginSource).
 *   cone_vec: type, DetectorRowCount, DetectorColCount, Vectors (one row of
 *             12 numbers per view, the order of cbct_view).
 *   vol_geom: GridRowCount (ny), GridColCount (nx), GridSliceCount (nz),
 *             option.WindowMin/MaxX/Y/Z (mm; default +-n/2: voxels of 1).
 * ASTRA stores projections as (rows, views, cols), cbct as (views, rows,
 * cols): `cbct convert --layout astra|cbct` swaps the two slow axes. */
typedef enum { CBCT_ASTRA_CONE_VEC = 0, CBCT_ASTRA_CONE } cbct_astra_type;

/* Parses ASTRA JSON text (`name` for messages; fuzzing entry point). */
cbct_status cbct_astra_parse_json(const char *text, const char *name, cbct_geometry *out);
cbct_status cbct_astra_read_json(const char *path, cbct_geometry *out);
/* Writes `g` as ASTRA JSON. CBCT_ASTRA_CONE only when every view is a
 * view of one circular scan without detector offsets (CBCT_ERR_GEOMETRY
 * naming the first view that is not, otherwise). Atomic. */
cbct_status cbct_astra_write_json(const char *path, const cbct_geometry *g,
                                  cbct_astra_type type);
/* A geometry JSON in either form: cbct's (docs/geometry.md) or ASTRA's
 * (an object with "proj_geom" or "type"). */
cbct_status cbct_geometry_read_any_json(const char *path, cbct_geometry *out);

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
