/* The argument checks and option defaults the solvers share. */
#include "solvers/solver_internal.h"

cbct_solver_setup cbct_solver_setup_make(const cbct_solver_opts *opts,
                                         int default_max_iterations, double default_tolerance)
{
    cbct_solver_setup setup = {0};
    if (opts)
        setup.opts = *opts;
    setup.max_iterations =
        setup.opts.max_iterations > 0 ? setup.opts.max_iterations : default_max_iterations;
    setup.tolerance = setup.opts.tolerance == 0.0 ? default_tolerance : setup.opts.tolerance;
    return setup;
}

cbct_status cbct_solver_check_args(const cbct_operator *op, const float *y, const float *x,
                                   const char *function)
{
    if (!op || !y || !x)
        return cbct_error(CBCT_ERR_ARG, "%s: NULL argument", function);
    return CBCT_OK;
}

cbct_status cbct_space_dot(cbct_operator *op, cbct_space space, const float *a, const float *b,
                           int64_t n, double *out)
{
    *out = cbct_vec_dot(a, b, n);
    return cbct_operator_sum(op, space, out, 1);
}

int64_t cbct_operator_global_volume_numel(const cbct_operator *op)
{
    const int64_t *shape = op->geom.vol.shape;
    return shape[0] * shape[1] * shape[2];
}
