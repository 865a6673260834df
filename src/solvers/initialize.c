/* Starting points for the iterative solvers. */
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

cbct_status cbct_solver_initialize(cbct_operator *op, const float *y, cbct_init method,
                                   float *x)
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
    case CBCT_INIT_PSEUDO_INVERSE: {
        memset(x, 0, (size_t)n * sizeof(float));
        cbct_solver_opts opts = {.nonnegative = 1};
        return cbct_solve_cgls(op, y, &opts, x);
    }
    }
    return cbct_error(CBCT_ERR_ARG, "unknown initialisation method %d", (int)method);
}
