/* Starting points for the iterative solvers. */
#include <math.h>
#include <string.h>

#include "cbct/fdk.h"
#include "solvers/solver_internal.h"

/* FDK of this rank's views into this rank's rows, summed over ranks when
 * the views are split: filter and back-project block by block. */
cbct_status cbct_operator_fdk(cbct_operator *op, const float *y, float *x)
{
    if (op->n_ranks == 1)
        return cbct_fdk_reconstruct(&op->geom, NULL, y, x);
    cbct_fdk *fdk = NULL;
    float *filtered = cbct_alloc((size_t)cbct_operator_scratch_numel(op) * sizeof(float),
                                 "FDK filtered views of one block");
    cbct_status s = filtered ? cbct_fdk_create(&op->geom, NULL, &fdk) : CBCT_ERR_MEMORY;
    int64_t view_numel = op->geom.det_rows * op->geom.det_cols, offset = 0;
    int started = 0;
    for (int64_t b = 0; !s && b < op->num_blocks; b++) {
        if (!cbct_operator_owns_block(op, b))
            continue;
        int64_t v0, nv;
        cbct_operator_block_views(op, b, &v0, &nv);
        s = cbct_fdk_filter_views(fdk, v0, nv, y + offset, filtered);
        if (!s)
            s = cbct_fdk_backproject(fdk, v0, nv, filtered, op->z0, op->nz, x, started);
        started = 1;
        offset += nv * view_numel;
    }
    if (!s && !started)
        memset(x, 0, (size_t)cbct_operator_volume_numel(op) * sizeof(float));
    cbct_fdk_destroy(fdk);
    cbct_free(filtered);
    if (!s && op->split_views) {
        double t0 = cbct_seconds();
        s = cbct_comm_sum_f32(op->comm, x, cbct_operator_volume_numel(op));
        op->seconds_reduce += cbct_seconds() - t0;
    }
    return s;
}

/* The pseudo-inverse: CGLS on the data, with the choices a CT researcher
 * makes on noisy sparse-view data (docs/solvers.md, "Which pseudo-inverse"):
 * where it starts, how it stops (iteration count, normal residual,
 * discrepancy principle), Tikhonov damping, the clamp x >= 0 at the end. */
static cbct_status check_opts(const cbct_pinv_opts *o)
{
    if (o->max_iterations < 0)
        return cbct_error(CBCT_ERR_ARG, "pseudo-inverse: max_iterations %d, expected >= 0 "
                                        "(0 = the CGLS default)", o->max_iterations);
    if (!(o->damping >= 0.0) || !isfinite(o->damping))
        return cbct_error(CBCT_ERR_ARG, "pseudo-inverse: damping %g, expected a finite "
                                        "value >= 0 (relative to ||A^T A||)", o->damping);
    if (!(o->discrepancy >= 0.0) || !isfinite(o->discrepancy))
        return cbct_error(CBCT_ERR_ARG, "pseudo-inverse: discrepancy %g, expected a finite "
                                        "factor >= 0", o->discrepancy);
    if (o->discrepancy > 0.0 && !(o->photons > 0.0))
        return cbct_error(CBCT_ERR_ARG, "pseudo-inverse: the discrepancy principle needs the "
                                        "noise level: photons %g, expected > 0", o->photons);
    if (o->start != CBCT_INIT_ZEROS && o->start != CBCT_INIT_FDK)
        return cbct_error(CBCT_ERR_ARG, "pseudo-inverse: start %d, expected zeros or fdk",
                          (int)o->start);
    return CBCT_OK;
}

static cbct_status pseudo_inverse(cbct_operator *op, const float *y,
                                  const cbct_pinv_opts *pinv, float *x)
{
    const cbct_pinv_opts o = pinv ? *pinv : cbct_pinv_defaults();
    cbct_status s = check_opts(&o);
    if (s)
        return s;
    cbct_solver_opts cg = {.max_iterations = o.max_iterations,
                           .tolerance = o.tolerance,
                           .nonnegative = o.nonnegative};
    if (o.damping > 0.0) {
        double L = 0.0;
        s = cbct_operator_norm(op, &o.norm, &L, NULL);
        if (s)
            return s;
        cg.damping = o.damping * L;
    }
    if (o.discrepancy > 0.0) {
        double delta = 0.0;
        s = cbct_noise_norm_poisson(op, y, o.photons, &delta);
        if (s)
            return s;
        cg.discrepancy = o.discrepancy * delta;
        cbct_log(CBCT_LOG_INFO, "pseudo-inverse: stop at ||y - A x|| <= %g x %g", o.discrepancy,
                 delta);
    }
    if (o.start == CBCT_INIT_FDK)
        s = cbct_operator_fdk(op, y, x);
    else
        memset(x, 0, (size_t)cbct_operator_volume_numel(op) * sizeof(float));
    if (s)
        return s;
    return cbct_solve_cgls(op, y, &cg, x);
}

cbct_status cbct_solver_initialize(cbct_operator *op, const float *y, cbct_init method,
                                   float *x)
{
    return cbct_solver_initialize_opts(op, y, method, NULL, x);
}

cbct_status cbct_solver_initialize_opts(cbct_operator *op, const float *y, cbct_init method,
                                        const cbct_pinv_opts *pinv, float *x)
{
    if (!op || !y || !x)
        return cbct_error(CBCT_ERR_ARG, "cbct_solver_initialize: NULL argument");
    int64_t n = cbct_operator_volume_numel(op);
    switch (method) {
    case CBCT_INIT_ZEROS:
        memset(x, 0, (size_t)n * sizeof(float));
        return CBCT_OK;
    case CBCT_INIT_ADJOINT:
        return cbct_operator_adjoint(op, y, x);
    case CBCT_INIT_FDK:
        return cbct_operator_fdk(op, y, x);
    case CBCT_INIT_PSEUDO_INVERSE:
        return pseudo_inverse(op, y, pinv, x);
    }
    return cbct_error(CBCT_ERR_ARG, "unknown initialisation method %d", (int)method);
}
