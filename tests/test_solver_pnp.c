/* PnP proximal gradient mechanics with a tiny random-weight DRUNet: one
 * iteration equals z = x - gamma A^T (A x - y), x = (1 - a) z + a D(z)
 * computed by hand (D on z rescaled to [0, 1] and back); the relaxation
 * weight is a = gamma lambda / (1 + gamma lambda) with gamma = 0.99 / L (or
 * 0.99 in the normalized mode); lambda = 0 gives exactly the plain gradient
 * descent iterate; the callback sees every iteration with sane statistics;
 * the stopping rules and argument errors. */
#include "test_solver_util.h"

enum { N = 16, VIEWS = 12, DET = 20, ITERATIONS = 4 };

typedef struct {
    int calls, bad;
} counter;

static cbct_status check_stats(cbct_iteration_stats *st, const float *x, void *user)
{
    counter *c = user;
    c->calls++;
    int sane = st->iteration == c->calls && st->seconds_gradient > 0 &&
               st->seconds_denoiser > 0 && st->seconds_communication == 0 &&
               st->seconds_total >= st->seconds_gradient + st->seconds_denoiser - 1e-9 &&
               isfinite(st->relative_change) && st->relative_change > 0 &&
               isfinite(st->residual_norm) && isfinite(st->psnr_db) && st->ssim <= 1 &&
               st->mem_peak_bytes > 0 && st->rss_peak_bytes > 0 && x != NULL;
    if (!sane) {
        c->bad++;
        fprintf(stderr, "iteration %d: grad %g s, denoiser %g s, change %g, residual %g, psnr %g\n",
                st->iteration, st->seconds_gradient, st->seconds_denoiser, st->relative_change,
                st->residual_norm, st->psnr_db);
    }
    return CBCT_OK;
}

static cbct_status fail_at_2(cbct_iteration_stats *st, const float *x, void *user)
{
    (void)x;
    (void)user;
    return st->iteration == 2 ? cbct_error(CBCT_ERR_IO, "disk full") : CBCT_OK;
}

int main(void)
{
    cbct_geometry g;
    CHECK_OK(solver_test_geometry(N, VIEWS, DET, DET, &g));
    int64_t nv = (int64_t)N * N * N, np = (int64_t)VIEWS * DET * DET;
    cbct_operator *op = NULL;
    cbct_operator_opts oopts = {.num_operators = 3};
    CHECK_OK(cbct_operator_create(&g, &oopts, &op));
    cbct_drunet_config config = {.dims = 3, .in_channels = 1, .out_channels = 1,
                                 .channels = {4, 8, 16, 32}, .nb = 1};
    cbct_drunet *net = NULL;
    CHECK_OK(cbct_drunet_create_random(&config, 5, &net));

    float *truth = solver_test_alloc(nv), *y = solver_test_alloc(np);
    float *x0 = solver_test_alloc(nv), *x = solver_test_alloc(nv), *x_gd = solver_test_alloc(nv);
    float *z = solver_test_alloc(nv);
    CHECK_OK(cbct_phantom_walnut(&g.vol, 2, truth));
    CHECK_OK(cbct_operator_apply(op, truth, y));
    CHECK_OK(cbct_solver_initialize(op, y, CBCT_INIT_FDK, x0));
    double L = 0;
    CHECK_OK(cbct_operator_norm(op, NULL, &L, NULL));

    /* the defaults are the reference's */
    cbct_pnp_opts defaults = cbct_pnp_defaults();
    CHECK(defaults.lambda == 10 && defaults.sigma == 0.03 && defaults.step_scale == 0.99 &&
          defaults.lambda_mode == CBCT_PNP_LAMBDA_REFERENCE && !defaults.clip);

    /* the relaxation weight */
    cbct_pnp_opts pnp = {.lambda = -1, .L = L};
    double gamma = 0.99 / L;
    CHECK_NEAR(cbct_pnp_weight(&pnp, L), gamma * 10 / (1 + gamma * 10), 1e-15);
    pnp.lambda = 3;
    CHECK_NEAR(cbct_pnp_weight(&pnp, L), gamma * 3 / (1 + gamma * 3), 1e-15);
    pnp.lambda_mode = CBCT_PNP_LAMBDA_NORMALIZED;
    CHECK_NEAR(cbct_pnp_weight(&pnp, L), 0.99 * 3 / (1 + 0.99 * 3), 1e-15);
    printf("L = %.6g mm^2: reference a(lambda = 10) = %.3g, normalized a = %.3g\n", L,
           gamma * 10 / (1 + gamma * 10), 0.99 * 10 / (1 + 0.99 * 10));

    /* one iteration by hand, normalized mode so that a is not negligible */
    pnp.lambda = 1;
    double a = cbct_pnp_weight(&pnp, L);
    CHECK_OK(cbct_operator_gradient(op, x0, y, z, NULL, NULL));
    float lo = 1e30f, hi = -1e30f;
    for (int64_t i = 0; i < nv; i++) {
        z[i] = x0[i] - (float)gamma * z[i];
        lo = fminf(lo, z[i]);
        hi = fmaxf(hi, z[i]);
    }
    cbct_array unit = {0}, den = {0};
    CHECK_OK(cbct_array_create(&unit, N, N, N, "unit"));
    for (int64_t i = 0; i < nv; i++)
        unit.data[i] = (z[i] - lo) / (hi - lo);
    cbct_tiling whole = {.patch = {N, N, N}};
    CHECK_OK(cbct_denoise_volume(net, &unit, 0.03f, &whole, &den));
    memcpy(x, x0, (size_t)nv * sizeof(float));
    cbct_solver_opts one = {.max_iterations = 1};
    CHECK_OK(cbct_solve_pnp(op, y, net, &pnp, &one, x));
    double worst = 0, scale = 0, moved = 0;
    for (int64_t i = 0; i < nv; i++) {
        double expect = (1 - a) * z[i] + a * (lo + (hi - lo) * den.data[i]);
        worst = fmax(worst, fabs(expect - x[i]));
        scale = fmax(scale, fabs(expect));
        moved = fmax(moved, fabs((double)z[i] - x[i]));
    }
    CHECK_MSG(worst < 1e-5 * scale, "PnP iterate differs from the hand computation by %g", worst);
    CHECK(moved > 1e-3 * scale); /* the denoiser did change the gradient step */

    /* fixed range instead of min/max: same formula with lo, hi given */
    pnp.range_lo = 0;
    pnp.range_hi = 0.1;
    for (int64_t i = 0; i < nv; i++)
        unit.data[i] = (z[i] - 0.0f) / 0.1f;
    CHECK_OK(cbct_denoise_volume(net, &unit, 0.03f, &whole, &den));
    memcpy(x, x0, (size_t)nv * sizeof(float));
    CHECK_OK(cbct_solve_pnp(op, y, net, &pnp, &one, x));
    worst = 0;
    for (int64_t i = 0; i < nv; i++)
        worst = fmax(worst, fabs((1 - a) * z[i] + a * 0.1 * den.data[i] - x[i]));
    CHECK(worst < 1e-5 * scale);
    pnp.range_lo = pnp.range_hi = 0;

    /* lambda = 0: exactly gradient descent, with or without a network */
    pnp.lambda = 0;
    memcpy(x, x0, (size_t)nv * sizeof(float));
    memcpy(x_gd, x0, (size_t)nv * sizeof(float));
    cbct_solver_opts three = {.max_iterations = 3, .tolerance = -1};
    CHECK_OK(cbct_solve_pnp(op, y, net, &pnp, &three, x));
    CHECK_OK(cbct_solve_pnp(op, y, NULL, &pnp, &three, x_gd));
    CHECK(memcmp(x, x_gd, (size_t)nv * sizeof(float)) == 0);
    memcpy(x, x0, (size_t)nv * sizeof(float));
    CHECK_OK(cbct_solve_pnp(op, y, NULL, &pnp, &one, x));
    CHECK(memcmp(x, z, (size_t)nv * sizeof(float)) == 0); /* z = x0 - gamma grad */

    /* the callback: every iteration, sane statistics */
    counter c = {0};
    pnp.lambda = -1;
    pnp.lambda_mode = CBCT_PNP_LAMBDA_REFERENCE;
    pnp.clip = 1;
    pnp.clip_lo = 0;
    pnp.clip_hi = 1;
    cbct_solver_opts opts = {.max_iterations = ITERATIONS, .tolerance = -1,
                             .ground_truth = truth, .callback = check_stats,
                             .callback_user = &c};
    memcpy(x, x0, (size_t)nv * sizeof(float));
    CHECK_OK(cbct_solve_pnp(op, y, net, &pnp, &opts, x));
    CHECK(c.calls == ITERATIONS && c.bad == 0);
    int clipped = 1;
    for (int64_t i = 0; i < nv; i++)
        clipped &= x[i] >= 0 && x[i] <= 1;
    CHECK(clipped);

    /* L computed inside when not given; a loose tolerance stops at once */
    pnp.L = 0;
    c = (counter){0};
    opts.tolerance = 10;
    memcpy(x, x0, (size_t)nv * sizeof(float));
    CHECK_OK(cbct_solve_pnp(op, y, net, &pnp, &opts, x));
    CHECK(c.calls == 1 && c.bad == 0);

    /* errors */
    cbct_solver_opts failing = {.max_iterations = 5, .callback = fail_at_2};
    CHECK_FAILS(cbct_solve_pnp(op, y, net, &pnp, &failing, x), CBCT_ERR_IO, "disk full");
    pnp.lambda = 1;
    CHECK_FAILS(cbct_solve_pnp(op, y, NULL, &pnp, &one, x), CBCT_ERR_ARG, "lambda = 0");
    pnp.clip_lo = 2;
    CHECK_FAILS(cbct_solve_pnp(op, y, net, &pnp, &one, x), CBCT_ERR_ARG, "clip range");

    cbct_array_destroy(&unit);
    cbct_array_destroy(&den);
    cbct_free(truth);
    cbct_free(y);
    cbct_free(x0);
    cbct_free(x);
    cbct_free(x_gd);
    cbct_free(z);
    cbct_drunet_destroy(net);
    cbct_operator_destroy(op);
    cbct_geometry_destroy(&g);
    CHECK(cbct_mem_current() == 0);
    return check_summary("test_solver_pnp");
}
