/* PnP proximal gradient, as in the reference experiment:
 *   gamma = step_scale / L,  z = x - gamma sum_i A_i^T (A_i x - y_i),
 *   x = (1 - a) z + a D(z),  a = gamma lambda / (1 + gamma lambda),
 * D the DRUNet at sigma on z mapped to [0, 1] and mapped back. */
#include <float.h>
#include <math.h>
#include <string.h>

#include "solvers/solver_internal.h"

#define DEFAULT_MAX_ITERATIONS 40
#define DEFAULT_TOLERANCE 1e-5
#define DEFAULT_LAMBDA 10.0 /* denoiser_lambda_relaxation of the reference */
#define DEFAULT_SIGMA 0.03  /* denoiser_sigma of the reference */
#define DEFAULT_STEP_SCALE 0.99

static double step_scale(const cbct_pnp_opts *pnp)
{
    return pnp->step_scale > 0.0 ? pnp->step_scale : DEFAULT_STEP_SCALE;
}

static double lambda_of(const cbct_pnp_opts *pnp)
{
    return pnp->lambda < 0.0 ? DEFAULT_LAMBDA : pnp->lambda;
}

cbct_pnp_opts cbct_pnp_defaults(void)
{
    cbct_pnp_opts pnp = {.lambda = DEFAULT_LAMBDA, .sigma = DEFAULT_SIGMA,
                         .step_scale = DEFAULT_STEP_SCALE};
    return pnp;
}

double cbct_pnp_weight(const cbct_pnp_opts *pnp, double L)
{
    double gamma = pnp->lambda_mode == CBCT_PNP_LAMBDA_NORMALIZED ? step_scale(pnp)
                                                                   : step_scale(pnp) / L;
    double gl = gamma * lambda_of(pnp);
    return gl / (1.0 + gl);
}

/* lo, hi of the rescaling: the fixed range, or min and max of z (over all
 * ranks when the volume is split). */
static cbct_status rescale_range(cbct_operator *op, const cbct_pnp_opts *pnp, const float *z,
                                 int64_t n, float *lo, float *hi)
{
    if (pnp->range_lo < pnp->range_hi) {
        *lo = (float)pnp->range_lo;
        *hi = (float)pnp->range_hi;
        return CBCT_OK;
    }
    float mn = FLT_MAX, mx = -FLT_MAX;
#pragma omp parallel for reduction(min : mn) reduction(max : mx) schedule(static) if (n > CBCT_SOLVER_PAR_MIN)
    for (int64_t i = 0; i < n; i++) {
        mn = z[i] < mn ? z[i] : mn;
        mx = z[i] > mx ? z[i] : mx;
    }
    if (op->split_volume) {
        cbct_status s = cbct_comm_min_max_f32(op->comm, &mn, &mx);
        if (s)
            return s;
    }
    *lo = mn;
    *hi = mx > mn ? mx : mn + 1.0f; /* constant z: any unit range maps it to 0 */
    return CBCT_OK;
}

/* x_next = (1 - a) z + a (lo + (hi - lo) D((z - lo) / (hi - lo))); returns
 * this rank's part of ||x_next - x||^2 and overwrites x. `unit` and
 * `denoised` are volumes (this rank's rows). */
static cbct_status denoise_step(cbct_operator *op, cbct_drunet *net, const cbct_pnp_opts *pnp,
                                double a, const float *z, cbct_array *unit, cbct_array *denoised,
                                float *x, double *change_sq)
{
    int64_t n = cbct_operator_volume_numel(op);
    float af = (float)a;
    if (net) {
        float lo, hi;
        cbct_status s = rescale_range(op, pnp, z, n, &lo, &hi);
        if (s)
            return s;
        float scale = hi - lo, inv = 1.0f / scale;
#pragma omp parallel for schedule(static) if (n > CBCT_SOLVER_PAR_MIN)
        for (int64_t i = 0; i < n; i++)
            unit->data[i] = (z[i] - lo) * inv;
        double sigma = pnp->sigma > 0.0 ? pnp->sigma : DEFAULT_SIGMA;
        cbct_tiling tiling = pnp->tiling;
        for (int d = 0; d < 3; d++)
            if (tiling.patch[d] <= 0)
                tiling.patch[d] = op->geom.vol.shape[d]; /* the whole volume, all ranks */
        s = cbct_pnp_denoise(op, net, (float)sigma, &tiling, pnp->distribute_denoiser, unit,
                             denoised);
        if (s)
            return cbct_error_prefix(s, "PnP denoiser");
#pragma omp parallel for schedule(static) if (n > CBCT_SOLVER_PAR_MIN)
        for (int64_t i = 0; i < n; i++)
            denoised->data[i] = (1.0f - af) * z[i] + af * (lo + scale * denoised->data[i]);
    } else {
        memcpy(denoised->data, z, (size_t)n * sizeof(float));
    }
    if (pnp->clip) {
        float clo = (float)pnp->clip_lo, chi = (float)pnp->clip_hi;
#pragma omp parallel for schedule(static) if (n > CBCT_SOLVER_PAR_MIN)
        for (int64_t i = 0; i < n; i++)
            denoised->data[i] = fminf(fmaxf(denoised->data[i], clo), chi);
    }
    *change_sq = cbct_vec_dist_sq(denoised->data, x, n);
    memcpy(x, denoised->data, (size_t)n * sizeof(float));
    return CBCT_OK;
}

static cbct_status volume_array(const cbct_operator *op, cbct_array *a, const char *what)
{
    const cbct_volume_geom *vg = &cbct_operator_geometry(op)->vol;
    cbct_status s = cbct_array_create(a, op->nz, vg->shape[1], vg->shape[2], what);
    for (int d = 0; !s && d < 3; d++) {
        a->spacing[d] = vg->voxel_size[d];
        a->origin[d] = vg->origin[d];
    }
    return s;
}

cbct_status cbct_solve_pnp(cbct_operator *op, const float *y, cbct_drunet *net,
                           const cbct_pnp_opts *pnp_in, const cbct_solver_opts *opts, float *x)
{
    if (!op || !y || !x || !pnp_in)
        return cbct_error(CBCT_ERR_ARG, "cbct_solve_pnp: NULL argument");
    cbct_pnp_opts pnp = *pnp_in;
    if (!net && lambda_of(&pnp) != 0.0)
        return cbct_error(CBCT_ERR_ARG, "PnP without a denoiser needs lambda = 0, got %g",
                          lambda_of(&pnp));
    if (pnp.clip && !(pnp.clip_lo < pnp.clip_hi))
        return cbct_error(CBCT_ERR_ARG, "PnP clip range [%g, %g]: expected lo < hi",
                          pnp.clip_lo, pnp.clip_hi);
    const cbct_solver_setup setup =
        cbct_solver_setup_make(opts, DEFAULT_MAX_ITERATIONS, DEFAULT_TOLERANCE);
    int first = 1;
    cbct_status st = cbct_solver_resume(opts, "PnP", op, x, &first);
    if (st)
        return st;
    double L = pnp.L;
    if (!(L > 0.0) && setup.opts.resume) /* the L the run started with: same bits */
        cbct_solver_state_scalar(setup.opts.resume, "L", &L);
    if (!(L > 0.0)) {
        cbct_status s = cbct_operator_norm(op, &pnp.norm, &L, NULL);
        if (s)
            return s;
    }
    double gamma = step_scale(&pnp) / L;
    double a = cbct_pnp_weight(&pnp, L);
    int64_t n = cbct_operator_volume_numel(op);

    cbct_array unit = {0}, denoised = {0};
    float *z = cbct_alloc((size_t)n * sizeof(float), "PnP gradient step z");
    float *scratch = cbct_alloc((size_t)cbct_operator_scratch_numel(op) * sizeof(float),
                                "PnP block projections");
    st = (z && scratch) ? CBCT_OK : CBCT_ERR_MEMORY;
    if (!st)
        st = volume_array(op, &denoised, "PnP next iterate");
    if (!st && net)
        st = volume_array(op, &unit, "PnP denoiser input on [0, 1]");
    cbct_solver_guard guard = {0};
    cbct_solver_state state = {.solver = "PnP"};
    if (!st)
        st = cbct_solver_state_add_vector(&state, "x", x, n);
    if (!st)
        st = cbct_solver_state_add_scalar(&state, "L", L);
    for (int k = first; !st && k <= setup.max_iterations; k++) {
        cbct_iteration_stats stats = cbct_iteration_stats_empty(k);
        double norms[2] = {cbct_vec_dot(x, x, n), 0.0}; /* ||x_k||^2, ||x_k+1 - x_k||^2 */
        double res_sq = 0.0;
        double t0 = cbct_seconds(), comm0 = cbct_comm_seconds(op->comm);
        st = cbct_operator_gradient(op, x, y, z, scratch, &res_sq);
        if (st)
            break;
        /* z = x - gamma grad, in place of the gradient */
        float gamma_f = (float)gamma;
#pragma omp parallel for schedule(static) if (n > CBCT_SOLVER_PAR_MIN)
        for (int64_t i = 0; i < n; i++)
            z[i] = x[i] - gamma_f * z[i];
        double t1 = cbct_seconds(), comm1 = cbct_comm_seconds(op->comm);
        st = denoise_step(op, net, &pnp, a, z, &unit, &denoised, x, &norms[1]);
        if (!st)
            st = cbct_operator_sum(op, CBCT_SPACE_VOLUME, norms, 2);
        if (st)
            break;
        double t2 = cbct_seconds(), comm2 = cbct_comm_seconds(op->comm);
        stats.seconds_communication = comm2 - comm0;
        stats.seconds_gradient = t1 - t0 - (comm1 - comm0);
        stats.seconds_denoiser = t2 - t1 - (comm2 - comm1);
        stats.seconds_total = t2 - t0;
        stats.residual_norm = sqrt(res_sq);
        stats.relative_change = sqrt(norms[1] / norms[0]);
        state.iteration = k;
        st = cbct_solver_report(op, &setup.opts, &guard, &state, &stats, x);
        if (st || stats.stop ||
            (setup.tolerance > 0.0 && stats.relative_change < setup.tolerance))
            break;
    }
    cbct_free(z);
    cbct_free(scratch);
    cbct_array_destroy(&unit);
    cbct_array_destroy(&denoised);
    return st;
}
