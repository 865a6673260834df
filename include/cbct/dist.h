/* Distribution over MPI ranks (Open MPI; `mpirun -np N`, `srun`): a
 * communicator wrapper that the operator, the solvers and the denoiser
 * use, and the split of a volume into z-slabs. Without MPI (built with
 * -DCBCT_MPI=OFF, or a process not started by mpirun/srun) it is one rank
 * and every collective is a no-op, so the library always works.
 *
 * Failures: every collective starts by agreeing on whether some rank has
 * failed. A rank that fails calls cbct_comm_fail (directly or through
 * cbct_comm_finish), which takes part in the next agreement; every rank
 * then returns the failing rank's status with its message ("rank 1: ...").
 * No rank waits for a rank that has given up. See docs/distribution.md. */
#ifndef CBCT_DIST_H
#define CBCT_DIST_H

#include "cbct/core.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cbct_comm cbct_comm;

/* Joins MPI_COMM_WORLD when the library has MPI and the process was
 * started by an MPI launcher (mpirun, srun: their environment variables);
 * otherwise a single rank. MPI is initialised here (and finalised by
 * cbct_comm_destroy) unless the caller did it. */
cbct_status cbct_comm_create(cbct_comm **out);
/* A single-rank communicator, whatever the environment. */
cbct_status cbct_comm_create_single(cbct_comm **out);
void cbct_comm_destroy(cbct_comm *c);

int cbct_comm_rank(const cbct_comm *c); /* 0 for NULL */
int cbct_comm_size(const cbct_comm *c); /* 1 for NULL */
/* 1 when MPI is in use (even with one rank). */
int cbct_comm_is_mpi(const cbct_comm *c);
/* "Open MPI v4.1.4, ..." or "none". */
const char *cbct_comm_library_version(const cbct_comm *c);

/* ---- Collectives: all ranks call them in the same order ------------------ */
/* In place: data = sum over ranks (float sums in MPI's order: equal on
 * every rank, within rounding of the single-rank sum). NULL c: no-op. */
cbct_status cbct_comm_sum_f32(cbct_comm *c, float *data, int64_t n);
cbct_status cbct_comm_sum_f64(cbct_comm *c, double *data, int64_t n);
/* lo = min, hi = max over ranks. */
cbct_status cbct_comm_min_max_f32(cbct_comm *c, float *lo, float *hi);
/* The maximum over ranks of a size (memory figures). */
cbct_status cbct_comm_max_u64(cbct_comm *c, uint64_t *value);
/* Every rank gets every rank's `n` values: all[rank * n + i]. */
cbct_status cbct_comm_allgather_f64(cbct_comm *c, const double *mine, int64_t n, double *all);
/* Rows of a volume split in z-slabs: each rank owns rows [z0, z0 + nz)
 * (`own`, row_numel floats per row) and receives rows [need0, need1) into
 * `dst` from whichever ranks own them (its own included). Ranks may need
 * different ranges (halos for the denoiser, everything on rank 0 to write
 * a file); need1 <= need0 asks for nothing. CBCT_ERR_ARG when a needed row
 * is owned by no rank. */
cbct_status cbct_comm_fetch_rows_f32(cbct_comm *c, const float *own, int64_t z0, int64_t nz,
                                     int64_t row_numel, int64_t need0, int64_t need1,
                                     float *dst);

/* ---- Failures ---------------------------------------------------------------- */
/* A rank that fails (status s, message recorded) calls this before it
 * returns, so that the others stop at their next collective. Returns s. */
cbct_status cbct_comm_fail(cbct_comm *c, cbct_status s);
/* The end of a phase: agrees on `local` across ranks. CBCT_OK when every
 * rank succeeded; otherwise the lowest failing rank's status, and its
 * message prefixed with "rank R" on every rank. */
cbct_status cbct_comm_finish(cbct_comm *c, cbct_status local);

/* ---- Accounting -------------------------------------------------------------- */
double cbct_comm_seconds(const cbct_comm *c); /* time inside collectives */
uint64_t cbct_comm_bytes(const cbct_comm *c); /* payload bytes this rank sent */

/* ---- Volume slabs -------------------------------------------------------------- */
/* z rows [*z0, *z0 + *nz) of rank `rank` of `size` for a volume of
 * `depth` rows, cut at multiples of `align` rows (the denoiser's patch
 * rows, so that every patch belongs to one rank; 1 = any row), as evenly as
 * the alignment allows. A rank may get no rows when there are more ranks
 * than aligned groups. */
void cbct_slab_split(int64_t depth, int64_t align, int rank, int size, int64_t *z0, int64_t *nz);

#ifdef __cplusplus
}
#endif
#endif
