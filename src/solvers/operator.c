/* The cone-beam operator as a stack of blocks of contiguous views:
 * A = [A_0; A_1; ...], A^T y = sum_i A_i^T y_i. One projector plan serves
 * all blocks; a process may own a range of blocks (the MPI layer), in which
 * case volume results are summed across processes by the reduce hook. */
#include <math.h>

#include "solvers/solver_internal.h"

cbct_status cbct_operator_create(const cbct_geometry *g, const cbct_operator_opts *opts,
                                 cbct_operator **out)
{
    if (!g || !out)
        return cbct_error(CBCT_ERR_ARG, "cbct_operator_create: NULL argument");
    *out = NULL;
    cbct_operator_opts o = {0};
    if (opts)
        o = *opts;
    int64_t num_blocks = o.num_operators == 0 ? 1 : o.num_operators;
    if (num_blocks < 1 || num_blocks > g->n_views)
        return cbct_error(CBCT_ERR_ARG,
                          "num_operators = %lld: expected between 1 and the number of views (%lld)",
                          (long long)o.num_operators, (long long)g->n_views);
    int64_t count = o.block_count == 0 ? num_blocks - o.block_first : o.block_count;
    if (o.block_first < 0 || count < 1 || o.block_first + count > num_blocks)
        return cbct_error(CBCT_ERR_ARG,
                          "operator block range [%lld, %lld + %lld): expected inside [0, %lld)",
                          (long long)o.block_first, (long long)o.block_first,
                          (long long)o.block_count, (long long)num_blocks);
    cbct_operator *op = cbct_calloc(1, sizeof *op, "operator");
    if (!op)
        return CBCT_ERR_MEMORY;
    cbct_status s = cbct_geometry_copy(g, &op->geom);
    if (s == CBCT_OK) {
        cbct_projector_opts popts = {.kernel = o.kernel};
        s = cbct_projector_create(&op->geom, &popts, &op->proj);
    }
    if (s != CBCT_OK) {
        cbct_operator_destroy(op);
        return s;
    }
    op->num_blocks = num_blocks;
    op->block_first = o.block_first;
    op->block_count = count;
    op->reduce = o.reduce;
    op->reduce_user = o.reduce_user;
    *out = op;
    return CBCT_OK;
}

void cbct_operator_destroy(cbct_operator *op)
{
    if (!op)
        return;
    cbct_projector_destroy(op->proj);
    cbct_geometry_destroy(&op->geom);
    cbct_free(op);
}

const cbct_geometry *cbct_operator_geometry(const cbct_operator *op)
{
    return &op->geom;
}

int64_t cbct_operator_num_blocks(const cbct_operator *op)
{
    return op->num_blocks;
}

/* Block i starts at floor(i * V / B): sizes differ by at most one view. */
void cbct_operator_block_views(const cbct_operator *op, int64_t block, int64_t *view0,
                               int64_t *n_views)
{
    int64_t v = op->geom.n_views, b = op->num_blocks;
    int64_t first = block * v / b, next = (block + 1) * v / b;
    *view0 = first;
    *n_views = next - first;
}

int cbct_operator_owns_all(const cbct_operator *op)
{
    return op->block_first == 0 && op->block_count == op->num_blocks && !op->reduce;
}

int64_t cbct_operator_volume_numel(const cbct_operator *op)
{
    const int64_t *n = op->geom.vol.shape;
    return n[0] * n[1] * n[2];
}

static int64_t view_numel(const cbct_operator *op)
{
    return op->geom.det_rows * op->geom.det_cols;
}

int64_t cbct_operator_proj_numel(const cbct_operator *op)
{
    return op->geom.n_views * view_numel(op);
}

int64_t cbct_operator_scratch_numel(const cbct_operator *op)
{
    int64_t largest = 0;
    for (int64_t b = 0; b < op->num_blocks; b++) {
        int64_t v0, nv;
        cbct_operator_block_views(op, b, &v0, &nv);
        if (nv > largest)
            largest = nv;
    }
    return largest * view_numel(op);
}

static cbct_block views_block(const cbct_operator *op, int64_t block)
{
    cbct_block b = cbct_block_all(&op->geom);
    cbct_operator_block_views(op, block, &b.view0, &b.n_views);
    return b;
}

cbct_status cbct_operator_reduce(cbct_operator *op, float *data, int64_t n)
{
    if (!op->reduce)
        return CBCT_OK;
    double t0 = cbct_seconds();
    cbct_status s = op->reduce(data, n, op->reduce_user);
    op->seconds_reduce += cbct_seconds() - t0;
    return s;
}

cbct_status cbct_operator_apply(cbct_operator *op, const float *x, float *y)
{
    if (!op || !x || !y)
        return cbct_error(CBCT_ERR_ARG, "cbct_operator_apply: NULL argument");
    for (int64_t i = op->block_first; i < op->block_first + op->block_count; i++) {
        cbct_block b = views_block(op, i);
        cbct_status s = cbct_project_block(op->proj, b, x, y + b.view0 * view_numel(op), 0);
        if (s)
            return s;
    }
    return CBCT_OK;
}

cbct_status cbct_operator_adjoint(cbct_operator *op, const float *y, float *x)
{
    if (!op || !x || !y)
        return cbct_error(CBCT_ERR_ARG, "cbct_operator_adjoint: NULL argument");
    for (int64_t i = op->block_first; i < op->block_first + op->block_count; i++) {
        cbct_block b = views_block(op, i);
        int accumulate = i > op->block_first;
        cbct_status s = cbct_backproject_block(op->proj, b, y + b.view0 * view_numel(op), x,
                                               accumulate);
        if (s)
            return s;
    }
    return cbct_operator_reduce(op, x, cbct_operator_volume_numel(op));
}

cbct_status cbct_operator_gradient(cbct_operator *op, const float *x, const float *y,
                                   float *grad, float *scratch, double *residual_sq)
{
    if (!op || !x || !grad)
        return cbct_error(CBCT_ERR_ARG, "cbct_operator_gradient: NULL argument");
    float *own = NULL;
    if (!scratch) {
        own = cbct_alloc((size_t)cbct_operator_scratch_numel(op) * sizeof(float),
                         "gradient scratch (one block of projections)");
        if (!own)
            return CBCT_ERR_MEMORY;
        scratch = own;
    }
    double res_sq = 0.0;
    cbct_status s = CBCT_OK;
    for (int64_t i = op->block_first; i < op->block_first + op->block_count && !s; i++) {
        cbct_block b = views_block(op, i);
        int64_t n = b.n_views * view_numel(op);
        s = cbct_project_block(op->proj, b, x, scratch, 0);
        if (s)
            break;
        if (y)
            cbct_vec_axpy(scratch, -1.0, y + b.view0 * view_numel(op), n);
        res_sq += cbct_vec_dot(scratch, scratch, n);
        s = cbct_backproject_block(op->proj, b, scratch, grad, i > op->block_first);
    }
    cbct_free(own);
    if (s)
        return s;
    if (residual_sq)
        *residual_sq = res_sq;
    return cbct_operator_reduce(op, grad, cbct_operator_volume_numel(op));
}
