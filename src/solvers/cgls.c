/* CGLS (Björck, Numerical Methods for Least Squares Problems, alg. 7.4.1):
 * conjugate gradients on the normal equations A^T A x = A^T y without
 * forming them. In exact arithmetic ||y - A x_k|| decreases monotonically.
 * Vectors are float, dot products double.
 *
 * With damping mu > 0 it is CGLS on the stacked system [A; sqrt(mu) I] x =
 * [y; 0] (Tikhonov), without forming the stack: the normal residual becomes
 * A^T r - mu x and ||A p||^2 gains mu ||p||^2, so the residual r, the
 * direction p and the scalars of a checkpoint stay the same. */
#include <math.h>
#include <string.h>

#include "solvers/solver_internal.h"

#define DEFAULT_MAX_ITERATIONS 50
#define DEFAULT_TOLERANCE 1e-4

/* r = y - A x, s = A^T r, p = s, gamma = gamma0 = ||s||^2. */
static cbct_status start(cbct_operator *op, const float *y, const float *x, double damping,
                         float *r, float *s, float *p, double *gamma, double *gamma0)
{
    int64_t nv = cbct_operator_volume_numel(op), np = cbct_operator_proj_numel(op);
    cbct_status st = cbct_operator_apply(op, x, r);
    if (st)
        return st;
#pragma omp parallel for schedule(static) if (np > CBCT_SOLVER_PAR_MIN)
    for (int64_t i = 0; i < np; i++)
        r[i] = y[i] - r[i];
    st = cbct_operator_adjoint(op, r, s);
    if (st)
        return st;
    if (damping > 0.0)
        cbct_vec_axpy(s, -damping, x, nv);
    memcpy(p, s, (size_t)nv * sizeof(float));
    st = cbct_space_dot(op, CBCT_SPACE_VOLUME, s, s, nv, gamma);
    *gamma0 = *gamma;
    return st;
}

/* The residual, direction and scalars of a checkpoint (x is copied by
 * cbct_solver_resume). */
static cbct_status resume_vectors(const cbct_solver_state *saved, int64_t nv, int64_t np,
                                  float *r, float *p, double *gamma, double *gamma0)
{
    const float *saved_r = NULL, *saved_p = NULL;
    cbct_status st = cbct_solver_state_vector(saved, "r", np, &saved_r);
    if (!st)
        st = cbct_solver_state_vector(saved, "p", nv, &saved_p);
    if (!st)
        st = cbct_solver_state_scalar(saved, "gamma", gamma);
    if (!st)
        st = cbct_solver_state_scalar(saved, "gamma0", gamma0);
    if (st)
        return st;
    memcpy(r, saved_r, (size_t)np * sizeof(float));
    memcpy(p, saved_p, (size_t)nv * sizeof(float));
    return CBCT_OK;
}

cbct_status cbct_solve_cgls(cbct_operator *op, const float *y, const cbct_solver_opts *opts,
                            float *x)
{
    cbct_status st = cbct_solver_check_args(op, y, x, "cbct_solve_cgls");
    if (st)
        return st;
    if (opts && !(opts->damping >= 0.0 && opts->discrepancy >= 0.0 &&
                  isfinite(opts->damping) && isfinite(opts->discrepancy)))
        return cbct_error(CBCT_ERR_ARG, "cbct_solve_cgls: damping %g and discrepancy %g must "
                                        "be finite and >= 0", opts->damping,
                          opts->discrepancy);
    const cbct_solver_setup setup =
        cbct_solver_setup_make(opts, DEFAULT_MAX_ITERATIONS, DEFAULT_TOLERANCE);
    int64_t nv = cbct_operator_volume_numel(op), np = cbct_operator_proj_numel(op);
    const double damping = setup.opts.damping;

    float *r = cbct_alloc((size_t)np * sizeof(float), "CGLS residual y - A x");
    float *q = cbct_alloc((size_t)np * sizeof(float), "CGLS A p");
    float *s = cbct_alloc((size_t)nv * sizeof(float), "CGLS A^T r");
    float *p = cbct_alloc((size_t)nv * sizeof(float), "CGLS search direction");
    st = (r && q && s && p) ? CBCT_OK : CBCT_ERR_MEMORY;

    int first = 1;
    double gamma = 0.0, gamma0 = 0.0;
    if (!st)
        st = cbct_solver_resume(opts, "CGLS", op, x, &first);
    if (!st && setup.opts.resume)
        st = resume_vectors(setup.opts.resume, nv, np, r, p, &gamma, &gamma0);
    else if (!st)
        st = start(op, y, x, damping, r, s, p, &gamma, &gamma0);
    cbct_solver_guard guard = {0};
    cbct_solver_state state = {.solver = "CGLS"};
    if (!st)
        st = cbct_solver_state_add_vector(&state, "x", x, nv);
    if (!st)
        st = cbct_solver_state_add_vector(&state, "r", r, np);
    if (!st)
        st = cbct_solver_state_add_vector(&state, "p", p, nv);
    if (!st)
        st = cbct_solver_state_add_scalar(&state, "gamma", gamma);
    if (!st)
        st = cbct_solver_state_add_scalar(&state, "gamma0", gamma0);
    for (int k = first; !st && k <= setup.max_iterations && gamma > 0.0; k++) {
        cbct_iteration_stats stats = cbct_iteration_stats_empty(k);
        double t0 = cbct_seconds(), comm0 = cbct_operator_seconds_communication(op);
        st = cbct_operator_apply(op, p, q);
        if (st)
            break;
        double qq = 0.0, norms[2] = {cbct_vec_dot(x, x, nv), cbct_vec_dot(p, p, nv)};
        st = cbct_space_dot(op, CBCT_SPACE_PROJECTIONS, q, q, np, &qq);
        if (!st)
            st = cbct_operator_sum(op, CBCT_SPACE_VOLUME, norms, 2);
        double x_norm_sq = norms[0], p_norm_sq = norms[1];
        double curvature = qq + damping * p_norm_sq; /* ||[A; sqrt(mu) I] p||^2 */
        if (st || !(curvature > 0.0))
            break; /* p in the null space: nothing left to fit */
        double alpha = gamma / curvature;
        cbct_vec_axpy(x, alpha, p, nv);
        cbct_vec_axpy(r, -alpha, q, np);
        st = cbct_operator_adjoint(op, r, s);
        if (st)
            break;
        if (damping > 0.0)
            cbct_vec_axpy(s, -damping, x, nv);
        double gamma_next = 0.0, rr = 0.0;
        st = cbct_space_dot(op, CBCT_SPACE_VOLUME, s, s, nv, &gamma_next);
        if (!st)
            st = cbct_space_dot(op, CBCT_SPACE_PROJECTIONS, r, r, np, &rr);
        if (st)
            break;
        double beta = gamma_next / gamma;
        gamma = gamma_next;
        float beta_f = (float)beta;
#pragma omp parallel for schedule(static) if (nv > CBCT_SOLVER_PAR_MIN)
        for (int64_t i = 0; i < nv; i++)
            p[i] = s[i] + beta_f * p[i];
        stats.seconds_total = cbct_seconds() - t0;
        stats.seconds_communication = cbct_operator_seconds_communication(op) - comm0;
        stats.seconds_gradient = stats.seconds_total - stats.seconds_communication;
        stats.residual_norm = sqrt(rr);
        stats.normal_residual = sqrt(gamma / gamma0);
        stats.relative_change = alpha * sqrt(p_norm_sq / x_norm_sq);
        state.iteration = k;
        state.scalar[0] = gamma; /* the names were added in this order above */
        st = cbct_solver_report(op, &setup.opts, &guard, &state, &stats, x);
        if (st || stats.stop ||
            (setup.tolerance > 0.0 && stats.normal_residual < setup.tolerance) ||
            (setup.opts.discrepancy > 0.0 && stats.residual_norm <= setup.opts.discrepancy))
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
