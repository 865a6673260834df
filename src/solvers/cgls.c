/* CGLS (Björck, Numerical Methods for Least Squares Problems, alg. 7.4.1):
 * conjugate gradients on the normal equations A^T A x = A^T y without
 * forming them. In exact arithmetic ||y - A x_k|| decreases monotonically.
 * Vectors are float, dot products double. */
#include <math.h>

#include "solvers/solver_internal.h"

#define DEFAULT_MAX_ITERATIONS 50
#define DEFAULT_TOLERANCE 1e-4

cbct_status cbct_solve_cgls(cbct_operator *op, const float *y, const cbct_solver_opts *opts,
                            float *x)
{
    cbct_status st = cbct_solver_check_args(op, y, x, "cbct_solve_cgls", "CGLS");
    if (st)
        return st;
    const cbct_solver_setup setup =
        cbct_solver_setup_make(opts, DEFAULT_MAX_ITERATIONS, DEFAULT_TOLERANCE);
    int64_t nv = cbct_operator_volume_numel(op), np = cbct_operator_proj_numel(op);

    float *r = cbct_alloc((size_t)np * sizeof(float), "CGLS residual y - A x");
    float *q = cbct_alloc((size_t)np * sizeof(float), "CGLS A p");
    float *s = cbct_alloc((size_t)nv * sizeof(float), "CGLS A^T r");
    float *p = cbct_alloc((size_t)nv * sizeof(float), "CGLS search direction");
    st = (r && q && s && p) ? CBCT_OK : CBCT_ERR_MEMORY;

    /* r = y - A x, s = A^T r, p = s */
    if (!st)
        st = cbct_operator_apply(op, x, r);
    if (!st) {
#pragma omp parallel for schedule(static) if (np > CBCT_SOLVER_PAR_MIN)
        for (int64_t i = 0; i < np; i++)
            r[i] = y[i] - r[i];
        st = cbct_operator_adjoint(op, r, s);
    }
    double gamma = 0.0, gamma0 = 0.0;
    if (!st) {
        for (int64_t i = 0; i < nv; i++)
            p[i] = s[i];
        gamma = gamma0 = cbct_vec_dot(s, s, nv);
    }
    for (int k = 1; !st && k <= setup.max_iterations && gamma > 0.0; k++) {
        cbct_iteration_stats stats = cbct_iteration_stats_empty(k);
        double t0 = cbct_seconds();
        st = cbct_operator_apply(op, p, q);
        if (st)
            break;
        double qq = cbct_vec_dot(q, q, np);
        if (!(qq > 0.0))
            break; /* p in the null space of A: nothing left to fit */
        double alpha = gamma / qq;
        double x_norm_sq = cbct_vec_dot(x, x, nv);
        double p_norm_sq = cbct_vec_dot(p, p, nv);
        cbct_vec_axpy(x, alpha, p, nv);
        cbct_vec_axpy(r, -alpha, q, np);
        st = cbct_operator_adjoint(op, r, s);
        if (st)
            break;
        double gamma_next = cbct_vec_dot(s, s, nv);
        double beta = gamma_next / gamma;
        gamma = gamma_next;
        float beta_f = (float)beta;
#pragma omp parallel for schedule(static) if (nv > CBCT_SOLVER_PAR_MIN)
        for (int64_t i = 0; i < nv; i++)
            p[i] = s[i] + beta_f * p[i];
        stats.seconds_gradient = cbct_seconds() - t0;
        stats.seconds_total = stats.seconds_gradient;
        stats.residual_norm = sqrt(cbct_vec_dot(r, r, np));
        stats.normal_residual = sqrt(gamma / gamma0);
        stats.relative_change = alpha * sqrt(p_norm_sq / x_norm_sq);
        st = cbct_solver_report(op, &setup.opts, &stats, x);
        if (st || stats.stop ||
            (setup.tolerance > 0.0 && stats.normal_residual < setup.tolerance))
            break;
    }
    if (!st && setup.opts.nonnegative)
        cbct_vec_clamp_min(x, 0.0f, nv);
    cbct_free(r);
    cbct_free(q);
    cbct_free(s);
    cbct_free(p);
    return st;
}
