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
                                   const char *function, const char *solver)
{
    if (!op || !y || !x)
        return cbct_error(CBCT_ERR_ARG, "%s: NULL argument", function);
    if (!cbct_operator_owns_all(op))
        return cbct_error(CBCT_ERR_ARG, "%s needs an operator that owns all its blocks", solver);
    return CBCT_OK;
}
