/* SIRT (Gilbert 1972; the form of ASTRA's SIRT3D):
 * x += C A^T R (y - A x), R = 1 / (A 1) per ray, C = 1 / (A^T 1) per voxel.
 * It is gradient descent on ||y - A x||_R^2 in the metric C^-1, whose step
 * is at most 1 / ||C^1/2 A^T R A C^1/2|| = 1: the weighted residual
 * decreases monotonically. */
#include <math.h>

#include "solvers/solver_internal.h"

#define DEFAULT_MAX_ITERATIONS 100
#define DEFAULT_TOLERANCE 1e-5
/* Sums below this (mm of path) mean "ray or voxel not seen": weight 0. */
#define MIN_SUM_MM 1e-6

/* w = 1 / w where w > MIN_SUM_MM, else 0. */
static void invert_sums(float *w, int64_t n)
{
#pragma omp parallel for schedule(static) if (n > CBCT_SOLVER_PAR_MIN)
    for (int64_t i = 0; i < n; i++)
        w[i] = w[i] > MIN_SUM_MM ? 1.0f / w[i] : 0.0f;
}

cbct_status cbct_solve_sirt(cbct_operator *op, const float *y, const cbct_solver_opts *opts,
                            float *x)
{
    cbct_status st = cbct_solver_check_args(op, y, x, "cbct_solve_sirt");
    if (st)
        return st;
    const cbct_solver_setup setup =
        cbct_solver_setup_make(opts, DEFAULT_MAX_ITERATIONS, DEFAULT_TOLERANCE);
    int64_t nv = cbct_operator_volume_numel(op), np = cbct_operator_proj_numel(op);

    float *row_w = cbct_alloc((size_t)np * sizeof(float), "SIRT ray weights 1 / (A 1)");
    float *res = cbct_alloc((size_t)np * sizeof(float), "SIRT weighted residual");
    float *col_w = cbct_alloc((size_t)nv * sizeof(float), "SIRT voxel weights 1 / (A^T 1)");
    float *update = cbct_alloc((size_t)nv * sizeof(float), "SIRT update");
    st = (row_w && res && col_w && update) ? CBCT_OK : CBCT_ERR_MEMORY;

    /* Row sums A 1 (the ones borrowed from `update`), column sums A^T 1. */
    if (!st) {
        for (int64_t i = 0; i < nv; i++)
            update[i] = 1.0f;
        st = cbct_operator_apply(op, update, row_w);
    }
    if (!st) {
        for (int64_t i = 0; i < np; i++)
            res[i] = 1.0f;
        st = cbct_operator_adjoint(op, res, col_w);
    }
    if (!st) {
        invert_sums(row_w, np);
        invert_sums(col_w, nv);
    }
    int first = 1;
    if (!st)
        st = cbct_solver_resume(opts, "SIRT", op, x, &first);
    cbct_solver_guard guard = {0};
    cbct_solver_state state = {.solver = "SIRT"};
    if (!st)
        st = cbct_solver_state_add_vector(&state, "x", x, nv);
    for (int k = first; !st && k <= setup.max_iterations; k++) {
        cbct_iteration_stats stats = cbct_iteration_stats_empty(k);
        double t0 = cbct_seconds(), comm0 = cbct_operator_seconds_communication(op);
        st = cbct_operator_apply(op, x, res);
        if (st)
            break;
#pragma omp parallel for schedule(static) if (np > CBCT_SOLVER_PAR_MIN)
        for (int64_t i = 0; i < np; i++)
            res[i] = (y[i] - res[i]) * row_w[i];
        st = cbct_operator_adjoint(op, res, update);
        if (st)
            break;
        double sums[3] = {cbct_vec_dot(x, x, nv), 0.0, 0.0}; /* ||x||^2, ||dx||^2, residual */
        /* x += C A^T R r, then the optional clamp; the change is measured
         * on what is actually applied. */
#pragma omp parallel for schedule(static) if (nv > CBCT_SOLVER_PAR_MIN)
        for (int64_t i = 0; i < nv; i++) {
            float next = x[i] + col_w[i] * update[i];
            if (setup.opts.nonnegative && next < 0.0f)
                next = 0.0f;
            update[i] = next - x[i];
            x[i] = next;
        }
        sums[1] = cbct_vec_dot(update, update, nv);
        /* Residual of the iterate before this step: it costs no extra
         * projection (res holds R (y - A x_{k-1})). */
        for (int64_t i = 0; i < np; i++)
            sums[2] += row_w[i] > 0.0f ? (double)res[i] * res[i] / row_w[i] : 0.0;
        st = cbct_operator_sum(op, CBCT_SPACE_VOLUME, sums, 2);
        if (!st)
            st = cbct_operator_sum(op, CBCT_SPACE_PROJECTIONS, sums + 2, 1);
        if (st)
            break;
        stats.seconds_total = cbct_seconds() - t0;
        stats.seconds_communication = cbct_operator_seconds_communication(op) - comm0;
        stats.seconds_gradient = stats.seconds_total - stats.seconds_communication;
        stats.relative_change = sqrt(sums[1] / sums[0]);
        stats.residual_norm = sqrt(sums[2]);
        state.iteration = k;
        st = cbct_solver_report(op, &setup.opts, &guard, &state, &stats, x);
        if (st || stats.stop ||
            (setup.tolerance > 0.0 && stats.relative_change < setup.tolerance))
            break;
    }
    cbct_free(row_w);
    cbct_free(res);
    cbct_free(col_w);
    cbct_free(update);
    return st;
}
