/* The pseudo-inverse's options (docs/solvers.md, "Which pseudo-inverse"):
 * damped CGLS solves the Tikhonov normal equations (A^T A + mu I) x = A^T y;
 * the discrepancy principle stops at the first iterate whose residual is
 * below the threshold; the Poisson noise norm matches the norm of simulated
 * noise; cbct_solver_initialize_opts applies the options (defaults = the
 * reference's pseudo-inverse, FDK start, damping relative to ||A^T A||); bad
 * options are errors naming the value. */
#include "test_solver_util.h"

enum { N = 8, VIEWS = 16, ROWS = 12, COLS = 16, MAX_IT = 200 };

typedef struct {
    int calls;
    double residual[MAX_IT + 1];
} history;

static cbct_status record(cbct_iteration_stats *st, const float *x, void *user)
{
    history *h = user;
    (void)x;
    h->calls++;
    if (st->iteration <= MAX_IT)
        h->residual[st->iteration] = st->residual_norm;
    return CBCT_OK;
}

/* || A^T (y - A x) - mu x || / || A^T y ||: the damped normal residual. */
static double damped_normal_residual(cbct_operator *op, const float *y, const float *x,
                                     double mu, int64_t nv, int64_t np)
{
    float *ax = solver_test_alloc(np), *g = solver_test_alloc(nv), *aty = solver_test_alloc(nv);
    CHECK_OK(cbct_operator_apply(op, x, ax));
    for (int64_t i = 0; i < np; i++)
        ax[i] = y[i] - ax[i];
    CHECK_OK(cbct_operator_adjoint(op, ax, g));
    CHECK_OK(cbct_operator_adjoint(op, y, aty));
    double num = 0, den = 0;
    for (int64_t i = 0; i < nv; i++) {
        double r = g[i] - mu * x[i];
        num += r * r;
        den += (double)aty[i] * aty[i];
    }
    cbct_free(ax);
    cbct_free(g);
    cbct_free(aty);
    return sqrt(num / den);
}

int main(void)
{
    cbct_geometry g;
    CHECK_OK(solver_test_geometry(N, VIEWS, ROWS, COLS, &g));
    int64_t nv = (int64_t)N * N * N, np = (int64_t)VIEWS * ROWS * COLS;
    float *truth = solver_test_alloc(nv), *y = solver_test_alloc(np), *x = solver_test_alloc(nv);
    float *y_noisy = solver_test_alloc(np);
    unsigned long long seed = 5;
    for (int64_t i = 0; i < nv; i++)
        truth[i] = 0.02f * (1.0f + check_random(&seed)); /* 0..0.04 / mm */
    cbct_operator *op = NULL;
    CHECK_OK(cbct_operator_create(&g, &(cbct_operator_opts){.num_operators = 3}, &op));
    CHECK_OK(cbct_operator_apply(op, truth, y));
    double L = 0;
    CHECK_OK(cbct_operator_norm(op, NULL, &L, NULL));

    /* Damped CGLS converges to the Tikhonov solution; the damping shrinks it. */
    double mu = 0.01 * L;
    cbct_solver_opts damped = {.max_iterations = MAX_IT, .tolerance = 1e-6, .damping = mu};
    CHECK_OK(cbct_solve_cgls(op, y, &damped, x));
    double res = damped_normal_residual(op, y, x, mu, nv, np);
    printf("damped CGLS (mu = 0.01 L): normal residual %.2e\n", res);
    CHECK(res < 1e-4);
    CHECK(damped_normal_residual(op, y, x, 0.0, nv, np) > 1e-3); /* not the plain LS solution */
    float *x_plain = solver_test_alloc(nv);
    CHECK_OK(cbct_solve_cgls(op, y, &(cbct_solver_opts){.max_iterations = MAX_IT,
                                                         .tolerance = 1e-6}, x_plain));
    CHECK(solver_test_dot(x, x, nv) < solver_test_dot(x_plain, x_plain, nv));

    /* The Poisson noise norm: formula, and the norm of simulated noise. */
    const double photons = 1e4;
    double delta = 0;
    CHECK_OK(cbct_noise_norm_poisson(op, y, photons, &delta));
    double sum = 0;
    for (int64_t i = 0; i < np; i++)
        sum += exp((double)y[i]);
    CHECK_NEAR(delta, sqrt(sum / photons), 1e-9 * delta);
    double noise_sq = 0;
    for (int64_t i = 0; i < np; i++) { /* counts N e^-y +- sqrt(N e^-y), normal (N large) */
        double mean = photons * exp(-(double)y[i]);
        double u1 = 0.5 * (1.0 + check_random(&seed)) + 1e-12, u2 = check_random(&seed);
        double counts = mean + sqrt(mean) * sqrt(-2.0 * log(u1)) * cos(M_PI * u2);
        y_noisy[i] = (float)-log(counts / photons);
        noise_sq += ((double)y_noisy[i] - y[i]) * ((double)y_noisy[i] - y[i]);
    }
    printf("noise norm %.4g, predicted %.4g\n", sqrt(noise_sq), delta);
    CHECK(fabs(sqrt(noise_sq) / delta - 1.0) < 0.05);
    CHECK_OK(cbct_noise_norm_poisson(op, y, INFINITY, &delta));
    CHECK(delta == 0.0);
    CHECK_FAILS(cbct_noise_norm_poisson(op, y, 0.0, &delta), CBCT_ERR_ARG, "photons 0");

    /* The discrepancy principle stops at the first residual below it. */
    history h = {0};
    double threshold = 0;
    CHECK_OK(cbct_noise_norm_poisson(op, y_noisy, photons, &threshold));
    cbct_solver_opts disc = {.max_iterations = MAX_IT, .tolerance = -1,
                             .discrepancy = threshold, .callback = record,
                             .callback_user = &h};
    memset(x, 0, (size_t)nv * sizeof(float));
    CHECK_OK(cbct_solve_cgls(op, y_noisy, &disc, x));
    printf("discrepancy %.4g: stopped after %d iterations (residual %.4g, before %.4g)\n",
           threshold, h.calls, h.residual[h.calls], h.residual[h.calls - 1]);
    CHECK(h.calls > 1 && h.calls < MAX_IT);
    CHECK(h.residual[h.calls] <= threshold && h.residual[h.calls - 1] > threshold);

    /* Through the initialisation: defaults = the reference (50 iterations
     * or 1e-4, >= 0); the discrepancy option gives the same iterate as the
     * solver option, clamped. */
    float *x_ref = solver_test_alloc(nv);
    CHECK_OK(cbct_solver_initialize(op, y_noisy, CBCT_INIT_PSEUDO_INVERSE, x_ref));
    memset(x, 0, (size_t)nv * sizeof(float));
    CHECK_OK(cbct_solve_cgls(op, y_noisy, &(cbct_solver_opts){.nonnegative = 1}, x));
    CHECK(memcmp(x, x_ref, (size_t)nv * sizeof(float)) == 0);
    cbct_pinv_opts pinv = cbct_pinv_defaults();
    pinv.discrepancy = 1.0;
    pinv.photons = photons;
    pinv.max_iterations = MAX_IT;
    pinv.tolerance = -1;
    CHECK_OK(cbct_solver_initialize_opts(op, y_noisy, CBCT_INIT_PSEUDO_INVERSE, &pinv, x_ref));
    memset(x, 0, (size_t)nv * sizeof(float));
    disc.callback = NULL;
    disc.nonnegative = 1;
    CHECK_OK(cbct_solve_cgls(op, y_noisy, &disc, x));
    CHECK(memcmp(x, x_ref, (size_t)nv * sizeof(float)) == 0);
    /* damping relative to L; FDK start */
    pinv = cbct_pinv_defaults();
    pinv.damping = 0.01;
    pinv.max_iterations = MAX_IT;
    pinv.tolerance = 1e-6;
    pinv.nonnegative = 0;
    CHECK_OK(cbct_solver_initialize_opts(op, y, CBCT_INIT_PSEUDO_INVERSE, &pinv, x_ref));
    CHECK(damped_normal_residual(op, y, x_ref, 0.01 * L, nv, np) < 1e-4);
    pinv = cbct_pinv_defaults();
    pinv.start = CBCT_INIT_FDK;
    pinv.max_iterations = 3;
    CHECK_OK(cbct_solver_initialize_opts(op, y, CBCT_INIT_PSEUDO_INVERSE, &pinv, x_ref));
    CHECK_OK(cbct_solver_initialize(op, y, CBCT_INIT_FDK, x));
    CHECK_OK(cbct_solve_cgls(op, y, &(cbct_solver_opts){.max_iterations = 3,
                                                         .nonnegative = 1}, x));
    CHECK(memcmp(x, x_ref, (size_t)nv * sizeof(float)) == 0);

    /* Bad options. */
    pinv = cbct_pinv_defaults();
    pinv.discrepancy = 1.0;
    CHECK_FAILS(cbct_solver_initialize_opts(op, y, CBCT_INIT_PSEUDO_INVERSE, &pinv, x),
                CBCT_ERR_ARG, "needs the noise level: photons 0");
    pinv = cbct_pinv_defaults();
    pinv.damping = -1;
    CHECK_FAILS(cbct_solver_initialize_opts(op, y, CBCT_INIT_PSEUDO_INVERSE, &pinv, x),
                CBCT_ERR_ARG, "damping -1");
    pinv = cbct_pinv_defaults();
    pinv.start = CBCT_INIT_ADJOINT;
    CHECK_FAILS(cbct_solver_initialize_opts(op, y, CBCT_INIT_PSEUDO_INVERSE, &pinv, x),
                CBCT_ERR_ARG, "expected zeros or fdk");
    CHECK_FAILS(cbct_solve_cgls(op, y, &(cbct_solver_opts){.damping = NAN}, x), CBCT_ERR_ARG,
                "must be finite and >= 0");

    cbct_free(x_ref);
    cbct_free(x_plain);
    cbct_free(truth);
    cbct_free(y);
    cbct_free(y_noisy);
    cbct_free(x);
    cbct_operator_destroy(op);
    cbct_geometry_destroy(&g);
    CHECK(cbct_mem_current() == 0);
    return check_summary("test_solver_pseudo_inverse");
}
