/* CGLS: ||y - A x_k|| decreases monotonically (as in exact arithmetic);
 * on a small over-determined problem with consistent data it converges to
 * the true x; the stopping rule, the non-negativity clamp, the callback
 * (stop request, error) behave as documented. SIRT: the R-weighted
 * residual decreases monotonically and the iterates approach the same
 * solution as CGLS. */
#include "test_solver_util.h"

enum { N = 8, VIEWS = 16, ROWS = 12, COLS = 16, MAX_IT = 400 };

typedef struct {
    int calls;
    double residual[MAX_IT + 1];
    double normal[MAX_IT + 1];
    int stop_at;
    int bad_stats;
} history;

static cbct_status record(cbct_iteration_stats *st, const float *x, void *user)
{
    history *h = user;
    (void)x;
    h->calls++;
    if (st->iteration != h->calls || !(st->seconds_total >= 0) || st->mem_peak_bytes == 0 ||
        st->rss_peak_bytes == 0 ||
        (st->iteration > 1 && !isfinite(st->relative_change)))
        h->bad_stats++;
    if (st->iteration <= MAX_IT) {
        h->residual[st->iteration] = st->residual_norm;
        h->normal[st->iteration] = st->normal_residual;
    }
    if (h->stop_at && st->iteration == h->stop_at)
        st->stop = 1;
    return CBCT_OK;
}

static cbct_status fail_at_3(cbct_iteration_stats *st, const float *x, void *user)
{
    (void)x;
    (void)user;
    return st->iteration == 3 ? cbct_error(CBCT_ERR_IO, "checkpoint failed") : CBCT_OK;
}

static double rel_error(const float *x, const float *truth, int64_t n)
{
    double d = 0, t = 0;
    for (int64_t i = 0; i < n; i++) {
        d += ((double)x[i] - truth[i]) * ((double)x[i] - truth[i]);
        t += (double)truth[i] * truth[i];
    }
    return sqrt(d / t);
}

int main(void)
{
    cbct_geometry g;
    CHECK_OK(solver_test_geometry(N, VIEWS, ROWS, COLS, &g));
    cbct_operator *op = NULL;
    cbct_operator_opts oopts = {.num_operators = 3};
    CHECK_OK(cbct_operator_create(&g, &oopts, &op));
    int64_t nv = (int64_t)N * N * N, np = (int64_t)VIEWS * ROWS * COLS;
    float *truth = solver_test_alloc(nv), *y = solver_test_alloc(np);
    float *x = solver_test_alloc(nv), *x_sirt = solver_test_alloc(nv);
    unsigned long long seed = 3;
    for (int64_t i = 0; i < nv; i++)
        truth[i] = 0.03f + 0.02f * check_random(&seed);
    CHECK_OK(cbct_operator_apply(op, truth, y));

    /* 1. monotone residual, convergence to the truth */
    history h = {0};
    cbct_solver_opts opts = {.max_iterations = MAX_IT, .tolerance = 1e-6,
                             .callback = record, .callback_user = &h};
    CHECK_OK(cbct_solve_cgls(op, y, &opts, x));
    CHECK(h.calls > 5 && h.bad_stats == 0);
    int monotone = 1;
    for (int k = 2; k <= h.calls && k <= MAX_IT; k++)
        monotone &= h.residual[k] <= h.residual[k - 1] * (1 + 1e-6);
    CHECK(monotone);
    double err = rel_error(x, truth, nv);
    printf("CGLS: %d iterations, ||y - Ax|| %.3g -> %.3g, normal residual %.2e, "
           "rel error %.2e\n", h.calls, h.residual[1], h.residual[h.calls < MAX_IT ? h.calls : MAX_IT],
           h.normal[h.calls < MAX_IT ? h.calls : MAX_IT], err);
    CHECK(err < 1e-2);
    CHECK(h.calls < MAX_IT && h.normal[h.calls] < 1e-6);

    /* 2. default stopping rule: relative normal residual 1e-4 or 50 */
    memset(x, 0, (size_t)nv * sizeof(float));
    history d = {0};
    cbct_solver_opts dopts = {.callback = record, .callback_user = &d};
    CHECK_OK(cbct_solve_cgls(op, y, &dopts, x));
    CHECK(d.calls <= 50);
    CHECK(d.calls == 50 || d.normal[d.calls] < 1e-4);
    CHECK(d.calls < 2 || d.normal[d.calls - 1] >= 1e-4);

    /* 3. the callback can stop, and its error stops the solver */
    memset(x, 0, (size_t)nv * sizeof(float));
    history s = {.stop_at = 4};
    cbct_solver_opts sopts = {.callback = record, .callback_user = &s};
    CHECK_OK(cbct_solve_cgls(op, y, &sopts, x));
    CHECK(s.calls == 4);
    cbct_solver_opts fopts = {.callback = fail_at_3};
    CHECK_FAILS(cbct_solve_cgls(op, y, &fopts, x), CBCT_ERR_IO, "checkpoint failed");

    /* 4. non-negativity: noisy data gives negative voxels without it */
    float *noisy = solver_test_alloc(np);
    for (int64_t i = 0; i < np; i++)
        noisy[i] = y[i] + 0.5f * check_random(&seed);
    memset(x, 0, (size_t)nv * sizeof(float));
    cbct_solver_opts plain = {.max_iterations = 100};
    CHECK_OK(cbct_solve_cgls(op, noisy, &plain, x));
    int negatives = 0;
    for (int64_t i = 0; i < nv; i++)
        negatives += x[i] < 0;
    CHECK(negatives > 0);
    memset(x, 0, (size_t)nv * sizeof(float));
    plain.nonnegative = 1;
    CHECK_OK(cbct_solve_cgls(op, noisy, &plain, x));
    negatives = 0;
    for (int64_t i = 0; i < nv; i++)
        negatives += x[i] < 0;
    CHECK(negatives == 0);

    /* 5. SIRT on the consistent data */
    cbct_solver_opts wopts = {.tolerance = -1, .callback = record};
    memset(x, 0, (size_t)nv * sizeof(float));
    CHECK_OK(cbct_solve_cgls(op, y, &(cbct_solver_opts){.max_iterations = MAX_IT,
                                                        .tolerance = 1e-7}, x));
    double dist_prev = rel_error(x_sirt, x, nv); /* x_sirt = 0 */
    int approaching = 1, sirt_monotone = 1;
    for (int round = 0; round < 4; round++) {
        history r = {0};
        wopts.callback_user = &r;
        wopts.max_iterations = 50;
        CHECK_OK(cbct_solve_sirt(op, y, &wopts, x_sirt));
        CHECK(r.calls == 50 && r.bad_stats == 0);
        for (int k = 2; k <= r.calls; k++)
            sirt_monotone &= r.residual[k] <= r.residual[k - 1] * (1 + 1e-6);
        double dist = rel_error(x_sirt, x, nv);
        printf("SIRT: %d iterations, distance to the CGLS solution %.3e, weighted residual "
               "%.3g\n", 50 * (round + 1), dist, r.residual[r.calls]);
        approaching &= dist < dist_prev;
        dist_prev = dist;
    }
    CHECK(sirt_monotone && approaching);
    CHECK(dist_prev < 0.05);
    CHECK_FAILS(cbct_solve_sirt(op, NULL, &wopts, x_sirt), CBCT_ERR_ARG, "NULL");

    cbct_free(noisy);
    cbct_free(truth);
    cbct_free(y);
    cbct_free(x);
    cbct_free(x_sirt);
    cbct_operator_destroy(op);
    cbct_geometry_destroy(&g);
    CHECK(cbct_mem_current() == 0);
    return check_summary("test_solver_cgls");
}
