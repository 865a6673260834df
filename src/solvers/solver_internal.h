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
    int64_t block_first, block_count;
    cbct_reduce_fn reduce;
    void *reduce_user;
    double norm;            /* cached ||A^T A||; 0 = not computed yet */
    double seconds_reduce;  /* time spent in reduce, summed (communication) */
};

/* Sum of a[i] * b[i] in double. Partial sums over fixed chunks, added in
 * chunk order, so the result does not depend on the thread count. */
double cbct_vec_dot(const float *a, const float *b, int64_t n);
/* ||a - b||^2 in double, same order guarantee. */
double cbct_vec_dist_sq(const float *a, const float *b, int64_t n);
/* y += alpha * x */
void cbct_vec_axpy(float *y, double alpha, const float *x, int64_t n);
void cbct_vec_clamp_min(float *x, float lo, int64_t n);

/* Fills the phase-independent fields (iteration, memory, metrics against
 * opts->ground_truth), then calls the callback if any. */
cbct_status cbct_solver_report(const cbct_operator *op, const cbct_solver_opts *opts,
                               cbct_iteration_stats *stats, const float *x);
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
 * `function`), and an operator that owns all its blocks (the message names
 * `solver`, e.g. "CGLS"). */
cbct_status cbct_solver_check_args(const cbct_operator *op, const float *y, const float *x,
                                   const char *function, const char *solver);
/* Calls op->reduce on data (no-op when NULL) and adds its time to op. */
cbct_status cbct_operator_reduce(cbct_operator *op, float *data, int64_t n);

#endif
