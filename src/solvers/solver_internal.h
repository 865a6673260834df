/* Helpers shared by the solvers: deterministic vector arithmetic, the
 * operator's private fields, and the per-iteration bookkeeping. */
#ifndef CBCT_SOLVER_INTERNAL_H
#define CBCT_SOLVER_INTERNAL_H

#include "cbct/solver.h"

/* Loops over fewer elements than this run on one thread: waking a team
 * costs more than the work (and much more on a loaded machine). */
#define CBCT_SOLVER_PAR_MIN 65536

struct cbct_operator {
    cbct_geometry geom;     /* owned copy */
    cbct_projector *proj;   /* one plan for all blocks */
    int64_t num_blocks;
    cbct_comm *comm;        /* NULL: one process */
    int rank, n_ranks;
    int split_views;        /* blocks round-robin over ranks */
    int split_volume;       /* z-slabs over ranks */
    int64_t z0, nz;         /* this rank's volume rows (all rows unless split_volume) */
    double norm;            /* cached ||A^T A||; 0 = not computed yet */
    double seconds_reduce;  /* time spent in sums over ranks (communication) */
};

/* Sum of a[i] * b[i] in double. Partial sums over fixed chunks, added in
 * chunk order, so the result does not depend on the thread count. */
double cbct_vec_dot(const float *a, const float *b, int64_t n);
/* ||a - b||^2 in double, same order guarantee. */
double cbct_vec_dist_sq(const float *a, const float *b, int64_t n);
/* y += alpha * x */
void cbct_vec_axpy(float *y, double alpha, const float *x, int64_t n);
void cbct_vec_clamp_min(float *x, float lo, int64_t n);

/* The numerical guards of one run: the smallest residual seen, for the
 * divergence test. */
typedef struct {
    double min_residual;
} cbct_solver_guard;

/* Checks x and the residual (NaN / Inf anywhere, or a residual past
 * opts->divergence_factor times the smallest seen: CBCT_ERR_NUMERIC naming
 * the iteration), fills the phase-independent fields (iteration, memory,
 * metrics against opts->ground_truth), then calls the callback if any with
 * `state` (may be NULL) attached to the stats. */
cbct_status cbct_solver_report(cbct_operator *op, const cbct_solver_opts *opts,
                               cbct_solver_guard *guard, const cbct_solver_state *state,
                               cbct_iteration_stats *stats, const float *x);
/* Resume support: with opts->resume, checks that it is a state of `solver`
 * for this operator, copies its x, and sets *first_iteration to the
 * iteration after it; otherwise *first_iteration = 1. */
cbct_status cbct_solver_resume(const cbct_solver_opts *opts, const char *solver,
                               const cbct_operator *op, float *x, int *first_iteration);
/* A stats record with NAN metrics. */
cbct_iteration_stats cbct_iteration_stats_empty(int iteration);
/* The options a solver runs with: a copy of the caller's (all zeros when
 * NULL) and the solver's defaults where the caller left 0. */
typedef struct {
    cbct_solver_opts opts;
    int max_iterations;    /* opts.max_iterations if > 0, else the default */
    double tolerance;      /* opts.tolerance if not 0, else the default */
} cbct_solver_setup;

cbct_solver_setup cbct_solver_setup_make(const cbct_solver_opts *opts,
                                         int default_max_iterations, double default_tolerance);
/* The checks CGLS and SIRT start with: no NULL pointer (the message names
 * `function`). */
cbct_status cbct_solver_check_args(const cbct_operator *op, const float *y, const float *x,
                                   const char *function);
/* Dot products completed over ranks: the local sum, then
 * cbct_operator_sum for the space. */
cbct_status cbct_space_dot(cbct_operator *op, cbct_space space, const float *a, const float *b,
                           int64_t n, double *out);
/* PnP's denoiser on this rank's part of the volume: `unit` (on [0, 1]) to
 * `out`, both this rank's rows (src/solvers/pnp_denoise.c). */
cbct_status cbct_pnp_denoise(cbct_operator *op, cbct_drunet *net, float sigma,
                             const cbct_tiling *tiling, int distribute_denoiser,
                             const cbct_array *unit, cbct_array *out);
/* FDK of this rank's views into its rows, summed over ranks (views split). */
cbct_status cbct_operator_fdk(cbct_operator *op, const float *y, float *x);
/* Voxels of the whole volume (all ranks). */
int64_t cbct_operator_global_volume_numel(const cbct_operator *op);

#endif
