/* Starting points for the iterative solvers. */
#include <string.h>

#include "cbct/fdk.h"
#include "solvers/solver_internal.h"

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
        return cbct_fdk_reconstruct(cbct_operator_geometry(op), NULL, y, x);
    case CBCT_INIT_PSEUDO_INVERSE: {
        memset(x, 0, (size_t)n * sizeof(float));
        cbct_solver_opts opts = {.nonnegative = 1};
        return cbct_solve_cgls(op, y, &opts, x);
    }
    }
    return cbct_error(CBCT_ERR_ARG, "unknown initialisation method %d", (int)method);
}
