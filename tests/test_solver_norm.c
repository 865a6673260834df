/* Power iteration for L = ||A^T A|| matches a dense computation on a tiny
 * problem (A built column by column from unit vectors); the value is
 * remembered in the operator and in a cache file keyed by the geometry. */
#include <unistd.h>

#include "test_solver_util.h"

enum { N = 6, VIEWS = 5, ROWS = 6, COLS = 8 };

/* Largest eigenvalue of the symmetric positive semi-definite m x m matrix
 * M by power iteration in double, run far past convergence. */
static double dense_top_eigenvalue(const double *m, int64_t dim)
{
    double *v = calloc((size_t)dim, sizeof(double)), *w = calloc((size_t)dim, sizeof(double));
    unsigned long long seed = 7;
    for (int64_t i = 0; i < dim; i++)
        v[i] = 1.0 + 0.1 * check_random(&seed);
    double lambda = 0;
    for (int it = 0; it < 20000; it++) {
        double norm = 0, rq = 0;
        for (int64_t i = 0; i < dim; i++) {
            double s = 0;
            for (int64_t j = 0; j < dim; j++)
                s += m[i * dim + j] * v[j];
            w[i] = s;
        }
        for (int64_t i = 0; i < dim; i++) {
            norm += w[i] * w[i];
            rq += v[i] * w[i];
        }
        double vv = 0;
        for (int64_t i = 0; i < dim; i++)
            vv += v[i] * v[i];
        lambda = rq / vv;
        norm = sqrt(norm);
        for (int64_t i = 0; i < dim; i++)
            v[i] = w[i] / norm;
    }
    free(v);
    free(w);
    return lambda;
}

int main(void)
{
    cbct_geometry g;
    CHECK_OK(solver_test_geometry(N, VIEWS, ROWS, COLS, &g));
    cbct_operator *op = NULL;
    cbct_operator_opts opts = {.num_operators = 2};
    CHECK_OK(cbct_operator_create(&g, &opts, &op));
    int64_t nv = (int64_t)N * N * N, np = (int64_t)VIEWS * ROWS * COLS;

    /* Dense A (np x nv) from unit vectors, then A^T A in double. */
    double *a = calloc((size_t)(np * nv), sizeof(double));
    double *ata = calloc((size_t)(nv * nv), sizeof(double));
    float *e = solver_test_alloc(nv), *col = solver_test_alloc(np);
    for (int64_t j = 0; j < nv; j++) {
        e[j] = 1.0f;
        CHECK_OK(cbct_operator_apply(op, e, col));
        e[j] = 0.0f;
        for (int64_t i = 0; i < np; i++)
            a[i * nv + j] = col[i];
    }
    for (int64_t i = 0; i < np; i++)
        for (int64_t j = 0; j < nv; j++) {
            double aij = a[i * nv + j];
            if (aij == 0)
                continue;
            for (int64_t k = 0; k < nv; k++)
                ata[j * nv + k] += aij * a[i * nv + k];
        }
    double dense = dense_top_eigenvalue(ata, nv);
    CHECK(dense > 0);

    double L = 0;
    int iterations = -1;
    CHECK_OK(cbct_operator_norm(op, NULL, &L, &iterations));
    printf("L: power iteration %.6g (%d iterations), dense %.6g, rel diff %.2e\n", L,
           iterations, dense, fabs(L - dense) / dense);
    /* The default rule stops when the estimate changes by < 1e-3: the
     * error is of that order (the estimate approaches from below). */
    CHECK_NEAR(L, dense, 2e-3 * dense);
    CHECK(L <= dense * (1 + 1e-6));
    CHECK(iterations > 1 && iterations < 100);
    /* run to a tight tolerance, it converges to the dense value */
    {
        cbct_operator *tight = NULL;
        CHECK_OK(cbct_operator_create(&g, NULL, &tight));
        cbct_norm_opts tight_opts = {.max_iterations = 1000, .tolerance = 1e-7};
        double l_tight = 0;
        CHECK_OK(cbct_operator_norm(tight, &tight_opts, &l_tight, &iterations));
        printf("L: tolerance 1e-7: %.7g (%d iterations), rel diff %.2e\n", l_tight, iterations,
               fabs(l_tight - dense) / dense);
        CHECK_NEAR(l_tight, dense, 1e-4 * dense);
        cbct_operator_destroy(tight);
    }

    /* remembered in the operator: no iterations the second time */
    double again = 0;
    CHECK_OK(cbct_operator_norm(op, NULL, &again, &iterations));
    CHECK(again == L && iterations == 0);

    /* cache file: written by one operator, read back by a fresh one */
    char dir[1100];
    check_tmpfile("norm_cache", dir, sizeof dir);
    mkdir(dir, 0755);
    char path[1200];
    snprintf(path, sizeof path, "%s/opnorm_%016llx.txt", dir,
             (unsigned long long)cbct_geometry_hash(&g));
    remove(path);
    cbct_norm_opts nopts = {.cache_dir = dir};
    cbct_operator *fresh = NULL;
    CHECK_OK(cbct_operator_create(&g, NULL, &fresh));
    CHECK_OK(cbct_operator_norm(fresh, &nopts, &again, &iterations));
    CHECK(iterations > 0 && access(path, R_OK) == 0);
    CHECK_NEAR(again, L, 1e-6 * L); /* one block or two: same operator */
    cbct_operator_destroy(fresh);
    fresh = NULL;
    CHECK_OK(cbct_operator_create(&g, NULL, &fresh));
    double cached = 0;
    CHECK_OK(cbct_operator_norm(fresh, &nopts, &cached, &iterations));
    CHECK(iterations == 0 && cached == again);
    cbct_operator_destroy(fresh);

    /* another geometry has another hash */
    cbct_geometry g2;
    CHECK_OK(cbct_geometry_copy(&g, &g2));
    g2.views[3].src[0] += 1e-9;
    CHECK(cbct_geometry_hash(&g2) != cbct_geometry_hash(&g));
    cbct_geometry_destroy(&g2);

    /* a cache folder that cannot be written is an error that names it */
    cbct_norm_opts bad = {.cache_dir = "/nonexistent/cbct-cache"};
    CHECK_OK(cbct_operator_create(&g, NULL, &fresh));
    CHECK_FAILS(cbct_operator_norm(fresh, &bad, &cached, NULL), CBCT_ERR_IO, "/nonexistent");
    cbct_operator_destroy(fresh);

    free(a);
    free(ata);
    cbct_free(e);
    cbct_free(col);
    cbct_operator_destroy(op);
    cbct_geometry_destroy(&g);
    CHECK(cbct_mem_current() == 0);
    return check_summary("test_solver_norm");
}
