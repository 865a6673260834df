/* cbct core: status codes and error messages, logging, progress, the tracked
 * allocator with its memory budget, and 3D float arrays with spacing.
 *
 * Process-wide state is limited to hooks (log, progress) and the allocator's
 * counters, as in libvips; error messages are thread-local. */
#ifndef CBCT_CORE_H
#define CBCT_CORE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Status and errors ------------------------------------------------ */

typedef enum {
    CBCT_OK = 0,
    CBCT_ERR_ARG,      /* bad argument or option value */
    CBCT_ERR_IO,       /* file cannot be opened, read or written */
    CBCT_ERR_FORMAT,   /* file content is not what was expected */
    CBCT_ERR_MEMORY,   /* allocation refused: budget or system */
    CBCT_ERR_GEOMETRY, /* inconsistent or degenerate geometry */
    CBCT_ERR_NUMERIC,  /* NaN / Inf in data */
    CBCT_ERR_INTERNAL, /* a bug: please report */
    CBCT_ERR_INTERRUPTED /* stopped on request (a signal); state saved where asked */
} cbct_status;

/* Record a message for the calling thread and return `code` (so that callers
 * write `return cbct_error(CBCT_ERR_IO, "cannot open '%s': %s", ...)`). */
cbct_status cbct_error(cbct_status code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Prefix the current message with context ("reading geom.json: ..."). */
cbct_status cbct_error_prefix(cbct_status code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
const char *cbct_last_error(void); /* "" when none */
cbct_status cbct_last_status(void); /* code of the last recorded error */
void cbct_clear_error(void);
const char *cbct_status_name(cbct_status code);

/* ---- Logging ------------------------------------------------------------ */

typedef enum {
    CBCT_LOG_DEBUG = 0,
    CBCT_LOG_INFO,
    CBCT_LOG_WARN,
    CBCT_LOG_ERROR
} cbct_log_level;

typedef void (*cbct_log_fn)(cbct_log_level level, const char *message, void *user);

/* The library prints nothing by itself: messages at or above `min_level` go
 * to `fn` (NULL: dropped). */
void cbct_set_log(cbct_log_fn fn, void *user, cbct_log_level min_level);
void cbct_log(cbct_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* ---- Progress ------------------------------------------------------------- */

/* Long operations report `done` of `total` work units for a task `what`.
 * The command-line tool draws a bar on a TTY; the library draws nothing. */
typedef void (*cbct_progress_fn)(const char *what, int64_t done, int64_t total, void *user);
void cbct_set_progress(cbct_progress_fn fn, void *user);
void cbct_progress(const char *what, int64_t done, int64_t total);

/* ---- Tracked memory ---------------------------------------------------- */

/* 64-byte aligned allocation counted in the current/peak bytes of this
 * process. Refused (NULL, CBCT_ERR_MEMORY recorded naming `what`, the size
 * and what is left of the budget) when it would exceed the budget. */
void *cbct_alloc(size_t bytes, const char *what);
void *cbct_calloc(size_t count, size_t size, const char *what);
void cbct_free(void *ptr);

size_t cbct_mem_current(void);   /* bytes now allocated through cbct_alloc */
size_t cbct_mem_peak(void);      /* high-water mark since start / reset */
void cbct_mem_reset_peak(void);
void cbct_mem_set_budget(size_t bytes); /* 0 = no budget */
size_t cbct_mem_budget(void);
size_t cbct_mem_available(void); /* budget - current (SIZE_MAX without budget) */
/* Fault injection for tests: the n-th allocation from now fails (n >= 1);
 * 0 switches it off. */
void cbct_mem_fail_nth(long n);
/* cbct_alloc calls since the process started (a fault-injection sweep
 * counts a run's allocations with it, then fails each in turn). */
uint64_t cbct_mem_alloc_count(void);
/* Fault injection in the outputs (src/io/atomic_file.c, the one place files
 * are written): the n-th operation from now fails as its system call would
 * (n >= 1; 0 switches it off). The operations: creating the temporary file,
 * each write, and the commit's flush, fsync, close and rename. */
void cbct_io_fail_nth(long n);
uint64_t cbct_io_op_count(void); /* operations since the process started */

/* FNV-1a 64 of `bytes` bytes, continuing from `hash` (start with
 * CBCT_FNV1A_OFFSET); chain calls to hash several pieces. */
#define CBCT_FNV1A_OFFSET 14695981039346656037ull
uint64_t cbct_fnv1a(uint64_t hash, const void *data, size_t bytes);

/* Peak resident set size of this process in bytes (from the kernel). */
size_t cbct_rss_peak_bytes(void);

/* "2G", "512M", "1.5GiB", "1000000" -> bytes (K/M/G/T are powers of 1024). */
cbct_status cbct_parse_size(const char *text, size_t *bytes);
/* "1.50 GiB": writes into buf and returns it. */
const char *cbct_format_size(size_t bytes, char *buf, size_t buf_len);

/* ---- Arrays ----------------------------------------------------------------- */

/* A 3D float32 array, C order: shape[0] slowest, shape[2] fastest.
 * Volumes: (nz, ny, nx), spacing = voxel size (dz, dy, dx) in mm, origin =
 * offset of the volume centre (oz, oy, ox) in mm.
 * Projections: (n_views, det_rows, det_cols); spacing and origin unused (1, 0). */
typedef struct cbct_array {
    int64_t shape[3];
    double spacing[3];
    double origin[3];
    float *data; /* tracked allocation, owned */
} cbct_array;

cbct_status cbct_array_create(cbct_array *out, int64_t n0, int64_t n1, int64_t n2,
                              const char *what);
cbct_status cbct_array_zeros(cbct_array *out, int64_t n0, int64_t n1, int64_t n2,
                             const char *what);
void cbct_array_destroy(cbct_array *a); /* frees data, safe on zeroed struct */
int64_t cbct_array_numel(const cbct_array *a);
/* First non-finite value: CBCT_ERR_NUMERIC naming `what` and the index. */
cbct_status cbct_check_finite(const float *data, int64_t n, const char *what);

/* Number of OpenMP threads the kernels use (0 = OpenMP's default). */
void cbct_set_threads(int n_threads);
int cbct_threads(void);

/* Wall-clock seconds (monotonic). */
double cbct_seconds(void);

#ifdef __cplusplus
}
#endif
#endif
