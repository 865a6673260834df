/* The operator split into 1, 2 or 3 blocks of views is the same A and A^T;
 * the blockwise gradient equals A^T (A x - y) computed directly; block
 * sizes differ by at most one view; bad options are refused. */
#include "test_solver_util.h"

enum { N = 16, VIEWS = 10, ROWS = 12, COLS = 16 };

int main(void)
{
    cbct_geometry g;
    CHECK_OK(solver_test_geometry(N, VIEWS, ROWS, COLS, &g));
    int64_t nv = (int64_t)N * N * N, np = (int64_t)VIEWS * ROWS * COLS;
    float *x = solver_test_alloc(nv), *y = solver_test_alloc(np);
    unsigned long long seed = 42;
    for (int64_t i = 0; i < nv; i++)
        x[i] = 0.5f + 0.5f * check_random(&seed);
    for (int64_t i = 0; i < np; i++)
        y[i] = 10.0f * check_random(&seed);

    float *ax_ref = solver_test_alloc(np), *aty_ref = solver_test_alloc(nv);
    float *ax = solver_test_alloc(np), *aty = solver_test_alloc(nv);
    float *grad = solver_test_alloc(nv), *direct = solver_test_alloc(nv);
    float *res = solver_test_alloc(np);
    for (int blocks = 1; blocks <= 3; blocks++) {
        cbct_operator_opts opts = {.num_operators = blocks};
        cbct_operator *op = NULL;
        CHECK_OK(cbct_operator_create(&g, &opts, &op));
        if (!op)
            break;
        CHECK(cbct_operator_num_blocks(op) == blocks);
        CHECK(cbct_operator_owns_block(op, 0) && cbct_operator_owns_block(op, blocks - 1));
        int64_t total = 0, smallest = VIEWS, largest = 0;
        for (int64_t b = 0; b < blocks; b++) {
            int64_t v0, n;
            cbct_operator_block_views(op, b, &v0, &n);
            CHECK(v0 == total);
            total += n;
            smallest = n < smallest ? n : smallest;
            largest = n > largest ? n : largest;
        }
        CHECK(total == VIEWS && largest - smallest <= 1);
        CHECK(cbct_operator_scratch_numel(op) == largest * ROWS * COLS);

        CHECK_OK(cbct_operator_apply(op, x, ax));
        CHECK_OK(cbct_operator_adjoint(op, y, aty));
        if (blocks == 1) {
            memcpy(ax_ref, ax, (size_t)np * sizeof(float));
            memcpy(aty_ref, aty, (size_t)nv * sizeof(float));
            CHECK(solver_test_dot(ax, ax, np) > 0 && solver_test_dot(aty, aty, nv) > 0);
            /* matched pair: <A x, y> = <x, A^T y> */
            double lhs = solver_test_dot(ax, y, np), rhs = solver_test_dot(x, aty, nv);
            CHECK_NEAR(lhs, rhs, 1e-5 * fabs(lhs));
        }
        CHECK_MSG(solver_test_max_rel_diff(ax_ref, ax, np) < 1e-6, "A with %d blocks", blocks);
        CHECK_MSG(solver_test_max_rel_diff(aty_ref, aty, nv) < 1e-6, "A^T with %d blocks",
                  blocks);

        /* gradient: blockwise with one block of scratch vs A^T (A x - y) */
        double res_sq = -1;
        CHECK_OK(cbct_operator_gradient(op, x, y, grad, NULL, &res_sq));
        for (int64_t i = 0; i < np; i++)
            res[i] = ax_ref[i] - y[i];
        CHECK_OK(cbct_operator_adjoint(op, res, direct));
        CHECK_MSG(solver_test_max_rel_diff(direct, grad, nv) < 1e-5, "gradient, %d blocks",
                  blocks);
        CHECK_NEAR(res_sq, solver_test_dot(res, res, np), 1e-5 * res_sq);
        /* y NULL: A^T A x */
        CHECK_OK(cbct_operator_gradient(op, x, NULL, grad, NULL, NULL));
        CHECK_OK(cbct_operator_adjoint(op, ax_ref, direct));
        CHECK(solver_test_max_rel_diff(direct, grad, nv) < 1e-5);
        cbct_operator_destroy(op);
    }

    cbct_operator *bad = NULL;
    cbct_operator_opts too_many = {.num_operators = VIEWS + 1};
    CHECK_FAILS(cbct_operator_create(&g, &too_many, &bad), CBCT_ERR_ARG, "num_operators");
    cbct_operator_opts bad_slab = {.num_operators = 2, .distribute_volume = 1, .slab_z0 = 4,
                                   .slab_nz = 100};
    CHECK_FAILS(cbct_operator_create(&g, &bad_slab, &bad), CBCT_ERR_ARG, "slab rows");
    CHECK(bad == NULL);

    cbct_free(x);
    cbct_free(y);
    cbct_free(ax_ref);
    cbct_free(aty_ref);
    cbct_free(ax);
    cbct_free(aty);
    cbct_free(grad);
    cbct_free(direct);
    cbct_free(res);
    cbct_geometry_destroy(&g);
    CHECK(cbct_mem_current() == 0);
    return check_summary("test_solver_operator");
}
