/* Reading and checking the inputs of the heavy commands: geometry files,
 * projection stacks read in batches of views, volumes that must match a
 * geometry, and the batch size that fits the memory budget. All functions
 * return a cbct_status with the message naming the file. */
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

/* "128 x 128 x 128" into buf. */
const char *cli_shape_text(const int64_t shape[3], char *buf, size_t len);

/* Makes sure a failure's message names `path` (prefixes it if not). */
cbct_status cli_name_file(cbct_status s, const char *path);

/* CBCT_ERR_NUMERIC naming `path` and the indices along `axes` ("z, y, x")
 * of the first NaN or Inf; the slowest index starts at `first`. */
cbct_status cli_check_finite(const float *data, const int64_t shape[3], int64_t first,
                             const char *path, const char *axes);

/* Reads and validates a geometry JSON. */
cbct_status cli_load_geometry(const char *path, cbct_geometry *g);

/* Reads a volume .npy whose shape must be the geometry's volume shape; the
 * data must be finite. Spacing and origin are taken from the geometry. */
cbct_status cli_load_volume_for(const char *path, const char *geom_path,
                                const cbct_geometry *g, cbct_array *vol);

/* Header of a projection stack whose shape must be (views, rows, cols) of
 * the geometry. */
cbct_status cli_open_projections(const char *path, const char *geom_path,
                                 const cbct_geometry *g, cbct_npy_header *h);

/* Reads views [first, first + count) as float32 and checks them finite. */
cbct_status cli_read_views(const char *path, const cbct_npy_header *h, int64_t first,
                           int64_t count, float *dst);

/* Views per batch: `requested` if > 0 (at most n_views), else about
 * n_views / CLI_PROGRESS_STEPS (at least CLI_MIN_BATCH_VIEWS), limited to
 * what fits the rest of the memory budget after keeping `reserve` bytes for
 * the kernels' scratch buffers, and to CLI_MAX_BATCH_BYTES. CBCT_ERR_MEMORY,
 * saying how much one view needs, when not even one fits. */
cbct_status cli_views_per_batch(const cbct_geometry *g, int64_t requested, size_t reserve,
                                int64_t *out);

/* Reads a projection stack in batches of `batch_views` views (finite values
 * checked) and calls `fn` on each; reports progress as `task`. */
typedef cbct_status (*cli_batch_fn)(int64_t view0, int64_t n_views, float *views, void *user);
cbct_status cli_for_each_view_batch(const char *path, const cbct_npy_header *h,
                                    int64_t batch_views, const char *task, cli_batch_fn fn,
                                    void *user);

#endif
