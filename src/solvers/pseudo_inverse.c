/* The pseudo-inverse's defaults and the noise level its discrepancy
 * principle stops at (docs/solvers.md, "Which pseudo-inverse"); the run
 * itself is in initialize.c. */
#include <math.h>
#include <string.h>

#include "solvers/solver_internal.h"

/* The reference's pseudo-inverse (deepinv's A_dagger(y).clamp(0)). */
#define PINV_DEFAULT_ITERATIONS 50
#define PINV_DEFAULT_TOLERANCE 1e-4

cbct_pinv_opts cbct_pinv_defaults(void)
{
    return (cbct_pinv_opts){.max_iterations = PINV_DEFAULT_ITERATIONS,
                            .tolerance = PINV_DEFAULT_TOLERANCE,
                            .nonnegative = 1,
                            .start = CBCT_INIT_ZEROS};
}

cbct_status cbct_noise_norm_poisson(cbct_operator *op, const float *y, double photons,
                                    double *delta)
{
    if (!op || !y || !delta)
        return cbct_error(CBCT_ERR_ARG, "cbct_noise_norm_poisson: NULL argument");
    if (!(photons > 0.0))
        return cbct_error(CBCT_ERR_ARG, "cbct_noise_norm_poisson: photons %g, expected a "
                                        "count > 0 (INFINITY: no noise)", photons);
    if (isinf(photons)) { /* noise-free data: the discrepancy is zero */
        *delta = 0.0;
        return CBCT_OK;
    }
    int64_t np = cbct_operator_proj_numel(op);
    double sum = 0.0;
    /* one pass in order (cheap next to a projection): the same bits for
     * any thread count */
    for (int64_t i = 0; i < np; i++)
        sum += exp((double)y[i]);
    cbct_status s = cbct_operator_sum(op, CBCT_SPACE_PROJECTIONS, &sum, 1);
    if (s)
        return s;
    *delta = sqrt(sum / photons);
    return CBCT_OK;
}
