/* Reading and checking the inputs of the heavy commands: geometry files,
 * projection stacks read in batches of views, volumes that must match a
 * geometry, and the view batches and volume z-slabs that fit the memory
 * budget. All functions return a cbct_status with the message naming the
 * file. */
#ifndef CBCT_TOOL_INPUTS_H
#define CBCT_TOOL_INPUTS_H

#include "cbct.h"

/* Without a budget, batches stop at this size: larger ones do not run
 * faster, they only raise the peak memory. */
#define CLI_MAX_BATCH_BYTES ((size_t)256 << 20)
/* Automatic batches aim at this many steps (so that progress moves)... */
#define CLI_PROGRESS_STEPS 20
/* ...but hold at least this many views when they fit: the back-projectors
 * add up to 16 views per pass over the volume, fewer views mean more
 * passes over memory. */
#define CLI_MIN_BATCH_VIEWS 16
/* What cbct_alloc adds to each block (its 64-byte aligned size header). */
#define CLI_ALLOC_HEADER_BYTES 64
/* What the readers convert at a time from types other than float32
 * (CONVERT_CHUNK_BYTES in src/io/raw_read.c, GZ_CHUNK_BYTES in nifti_read.c). */
#define CLI_CONVERT_BYTES ((size_t)1 << 20)

/* The header of an input array in any volume format the dispatcher reads
 * (.npy, MetaImage, TIFF, NIfTI, HDF5: cbct_volume_read_header). */
typedef cbct_volume_header cli_input_header;

/* "128 x 128 x 128" into buf. */
const char *cli_shape_text(const int64_t shape[3], char *buf, size_t len);

/* Makes sure a failure's message names `path` (prefixes it if not). */
cbct_status cli_name_file(cbct_status s, const char *path);

/* CBCT_ERR_NUMERIC naming `path` and the indices along `axes` ("z, y, x")
 * of the first NaN or Inf; the slowest index starts at `first`. */
cbct_status cli_check_finite(const float *data, const int64_t shape[3], int64_t first,
                             const char *path, const char *axes);

/* Reads and validates a geometry JSON: cbct's or ASTRA's dictionaries. */
cbct_status cli_load_geometry(const char *path, cbct_geometry *g);

/* Reads a volume (any format) whose shape must be the geometry's volume shape; the
 * data must be finite. Spacing and origin are taken from the geometry. */
cbct_status cli_load_volume_for(const char *path, const char *geom_path,
                                const cbct_geometry *g, cbct_array *vol);

/* Header of a volume (any format) whose shape must be the geometry's volume shape
 * (z x y x x), for reading it slab by slab. */
cbct_status cli_open_volume(const char *path, const char *geom_path, const cbct_geometry *g,
                            cli_input_header *h);

/* Reads slices [first, first + count) of the slowest axis as float32 and
 * checks them finite; `axes` names the indices in messages ("z, y, x"). */
cbct_status cli_read_slices(const char *path, const cli_input_header *h, int64_t first,
                            int64_t count, const char *axes, float *dst);

/* Tracked scratch that reading `h`'s file needs besides the destination:
 * a conversion buffer for other types than float32 (and for .nii.gz), a
 * strip of one page for TIFF; none for float32 .npy / MetaImage and for
 * HDF5 (which converts in its own, untracked buffer). */
size_t cli_read_scratch_bytes(const cli_input_header *h);

/* Header of a projection stack whose shape must be (views, rows, cols) of
 * the geometry. */
cbct_status cli_open_projections(const char *path, const char *geom_path,
                                 const cbct_geometry *g, cli_input_header *h);

/* Reads views [first, first + count) as float32 and checks them finite. */
cbct_status cli_read_views(const char *path, const cli_input_header *h, int64_t first,
                           int64_t count, float *dst);

/* Views per batch: `requested` if > 0 (at most n_views), else about
 * n_views / CLI_PROGRESS_STEPS (at least CLI_MIN_BATCH_VIEWS), limited to
 * what fits the rest of the memory budget after keeping `reserve` bytes for
 * the kernels' scratch buffers, and to CLI_MAX_BATCH_BYTES. CBCT_ERR_MEMORY,
 * saying how much one view needs, when not even one fits. */
cbct_status cli_views_per_batch(const cbct_geometry *g, int64_t requested, size_t reserve,
                                int64_t *out);

/* How a heavy command walks its problem: views in batches and the volume
 * in z-slabs. When the whole volume and a batch fit the memory budget the
 * volume is one slab (n_slabs == 1) and the batch is cli_views_per_batch's:
 * the volume is held once and nothing is re-read. Otherwise the volume
 * goes in slabs and one of the two loops is repeated: its data (the volume
 * for `project`, the projections for `backproject` and `fdk`) is re-read
 * once per step of the outer loop. */
typedef enum {
    CLI_VIEWS_OUTER, /* for each view batch, for each slab (forward projection) */
    CLI_SLABS_OUTER  /* for each slab, for each view batch (back-projection, FDK) */
} cli_loop_order;

typedef struct cli_chunks {
    int64_t views_per_batch;
    int64_t slices_per_slab;    /* the volume's nz when it is held whole */
    int64_t n_batches, n_slabs; /* steps of each loop */
} cli_chunks;

/* The planner. Call it after creating the plan (projector, FDK), so that
 * cbct_mem_available() already excludes the plan's memory. `reserve`:
 * bytes to keep free for scratch (kernels, file conversion).
 * Sliced, the outer loop's chunk is made as large as the budget allows with
 * one unit of the inner chunk (one slice or one view), because each outer
 * step costs a pass over the re-read data; its steps are then evened out
 * (64 slices in 2 slabs of 32, not 63 + 1), and the inner chunk gets the
 * rest of the budget. `requested_views` > 0 fixes the batch size.
 * CBCT_ERR_MEMORY naming how much is needed when not even one view and one
 * slice fit. */
cbct_status cli_plan_chunks(const cbct_geometry *g, cli_loop_order order,
                            int64_t requested_views, size_t reserve, cli_chunks *out);

/* Creates a folder and its parents (mkdir -p); an existing one is fine. */
cbct_status cli_make_folder(const char *path);

#endif
