/* The cone-beam operator as a stack of blocks of contiguous views:
 * A = [A_0; A_1; ...], A^T y = sum_i A_i^T y_i. One projector plan serves
 * all blocks. Distributed (docs/distribution.md):
 * - distribute_views: rank r computes blocks r, r + P, ...; its projection
 *   vectors hold only those views; volume results are summed over ranks;
 * - distribute_volume: rank r holds a z-slab; it projects its slab for
 *   every view (partial line integrals, summed over ranks) and
 *   back-projects every view into its slab only. */
#include <math.h>
#include <string.h>

#include "solvers/solver_internal.h"

static cbct_status check_distribution(const cbct_geometry *g, const cbct_operator_opts *o)
{
    /* Every rank holds at least one row: no empty vectors anywhere. */
    if (o->distribute_volume &&
        (o->slab_z0 < 0 || o->slab_nz < 1 || o->slab_z0 + o->slab_nz > g->vol.shape[0]))
        return cbct_error(CBCT_ERR_ARG,
                          "operator slab rows [%lld, %lld): expected at least one row inside "
                          "[0, %lld) (more ranks than rows?)",
                          (long long)o->slab_z0, (long long)(o->slab_z0 + o->slab_nz),
                          (long long)g->vol.shape[0]);
    return CBCT_OK;
}

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
    cbct_status s = check_distribution(g, &o);
    if (s)
        return s;
    cbct_operator *op = cbct_calloc(1, sizeof *op, "operator");
    if (!op)
        return CBCT_ERR_MEMORY;
    s = cbct_geometry_copy(g, &op->geom);
    if (s == CBCT_OK) {
        cbct_projector_opts popts = {.kernel = o.kernel};
        s = cbct_projector_create(&op->geom, &popts, &op->proj);
    }
    if (s != CBCT_OK) {
        cbct_operator_destroy(op);
        return s;
    }
    op->num_blocks = num_blocks;
    op->comm = o.comm;
    op->rank = cbct_comm_rank(o.comm);
    op->n_ranks = cbct_comm_size(o.comm);
    op->split_volume = o.distribute_volume && op->n_ranks > 1;
    op->split_views = o.distribute_views && !op->split_volume && op->n_ranks > 1;
    op->z0 = op->split_volume ? o.slab_z0 : 0;
    op->nz = op->split_volume ? o.slab_nz : g->vol.shape[0];
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

cbct_comm *cbct_operator_comm(const cbct_operator *op)
{
    return op->comm;
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

int cbct_operator_owns_block(const cbct_operator *op, int64_t block)
{
    return !op->split_views || block % op->n_ranks == op->rank;
}

void cbct_operator_volume_rows(const cbct_operator *op, int64_t *z0, int64_t *nz)
{
    *z0 = op->z0;
    *nz = op->nz;
}

int64_t cbct_operator_volume_numel(const cbct_operator *op)
{
    return op->nz * op->geom.vol.shape[1] * op->geom.vol.shape[2];
}

static int64_t view_numel(const cbct_operator *op)
{
    return op->geom.det_rows * op->geom.det_cols;
}

int64_t cbct_operator_proj_numel(const cbct_operator *op)
{
    int64_t views = 0;
    for (int64_t b = 0; b < op->num_blocks; b++)
        if (cbct_operator_owns_block(op, b)) {
            int64_t v0, nv;
            cbct_operator_block_views(op, b, &v0, &nv);
            views += nv;
        }
    return views * view_numel(op);
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

/* Where block `block` starts in this rank's projection vectors (floats):
 * the views of the owned blocks before it. */
static int64_t local_offset(const cbct_operator *op, int64_t block)
{
    int64_t views = 0;
    for (int64_t b = 0; b < block; b++)
        if (cbct_operator_owns_block(op, b)) {
            int64_t v0, nv;
            cbct_operator_block_views(op, b, &v0, &nv);
            views += nv;
        }
    return views * view_numel(op);
}

void cbct_operator_local_projections(const cbct_operator *op, const float *all_views,
                                     float *local)
{
    for (int64_t b = 0; b < op->num_blocks; b++)
        if (cbct_operator_owns_block(op, b)) {
            int64_t v0, nv;
            cbct_operator_block_views(op, b, &v0, &nv);
            memcpy(local + local_offset(op, b), all_views + v0 * view_numel(op),
                   (size_t)(nv * view_numel(op)) * sizeof(float));
        }
}

/* The projector's block: the views of `block` and this rank's slab. */
static cbct_block views_block(const cbct_operator *op, int64_t block)
{
    cbct_block b = cbct_block_all(&op->geom);
    cbct_operator_block_views(op, block, &b.view0, &b.n_views);
    b.z0 = op->z0;
    b.nz = op->nz;
    return b;
}

/* Timed sums over ranks (communication). */
static cbct_status sum_f32(cbct_operator *op, float *data, int64_t n)
{
    double t0 = cbct_seconds();
    cbct_status s = cbct_comm_sum_f32(op->comm, data, n);
    op->seconds_reduce += cbct_seconds() - t0;
    return s;
}

cbct_status cbct_operator_sum(cbct_operator *op, cbct_space space, double *values, int n)
{
    int split = space == CBCT_SPACE_VOLUME ? op->split_volume : op->split_views;
    if (!split)
        return CBCT_OK;
    double t0 = cbct_seconds();
    cbct_status s = cbct_comm_sum_f64(op->comm, values, n);
    op->seconds_reduce += cbct_seconds() - t0;
    return s;
}

double cbct_operator_seconds_communication(const cbct_operator *op)
{
    return op->seconds_reduce;
}

/* A of this rank's slab for one block, into proj; summed over ranks when
 * the volume is split. */
static cbct_status project(cbct_operator *op, int64_t block, const float *x, float *proj)
{
    cbct_block b = views_block(op, block);
    int64_t n = b.n_views * view_numel(op);
    cbct_status s = cbct_project_block(op->proj, b, x, proj, 0);
    if (!s && op->split_volume)
        s = sum_f32(op, proj, n);
    return s;
}

static cbct_status backproject(cbct_operator *op, int64_t block, const float *proj, float *x,
                               int accumulate)
{
    return cbct_backproject_block(op->proj, views_block(op, block), proj, x, accumulate);
}

cbct_status cbct_operator_apply(cbct_operator *op, const float *x, float *y)
{
    if (!op || !y || !x)
        return cbct_error(CBCT_ERR_ARG, "cbct_operator_apply: NULL argument");
    for (int64_t i = 0; i < op->num_blocks; i++) {
        if (!cbct_operator_owns_block(op, i))
            continue;
        cbct_status s = project(op, i, x, y + local_offset(op, i));
        if (s)
            return s;
    }
    return CBCT_OK;
}

cbct_status cbct_operator_adjoint(cbct_operator *op, const float *y, float *x)
{
    if (!op || !y || !x)
        return cbct_error(CBCT_ERR_ARG, "cbct_operator_adjoint: NULL argument");
    int started = 0;
    for (int64_t i = 0; i < op->num_blocks; i++) {
        if (!cbct_operator_owns_block(op, i))
            continue;
        cbct_status s = backproject(op, i, y + local_offset(op, i), x, started);
        if (s)
            return s;
        started = 1;
    }
    int64_t n = cbct_operator_volume_numel(op);
    if (!started) /* a rank with no blocks adds nothing */
        memset(x, 0, (size_t)n * sizeof(float));
    return op->split_views ? sum_f32(op, x, n) : CBCT_OK;
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
    int started = 0;
    cbct_status s = CBCT_OK;
    for (int64_t i = 0; i < op->num_blocks && !s; i++) {
        if (!cbct_operator_owns_block(op, i))
            continue;
        cbct_block b = views_block(op, i);
        int64_t n = b.n_views * view_numel(op);
        s = project(op, i, x, scratch);
        if (s)
            break;
        if (y)
            cbct_vec_axpy(scratch, -1.0, y + local_offset(op, i), n);
        res_sq += cbct_vec_dot(scratch, scratch, n);
        s = backproject(op, i, scratch, grad, started);
        started = 1;
    }
    cbct_free(own);
    int64_t n = cbct_operator_volume_numel(op);
    if (!s && !started)
        memset(grad, 0, (size_t)n * sizeof(float));
    if (!s && op->split_views)
        s = sum_f32(op, grad, n);
    /* Each rank saw its own views: their squares add up (with a split
     * volume every rank saw every view: nothing to add). */
    if (!s && residual_sq)
        s = cbct_operator_sum(op, CBCT_SPACE_PROJECTIONS, &res_sq, 1);
    if (s)
        return s;
    if (residual_sq)
        *residual_sq = res_sq;
    return CBCT_OK;
}
