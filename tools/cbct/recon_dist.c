/* `cbct recon` on several MPI ranks: the operator's placement from the
 * config, each rank's share of the dataset, the volumes gathered on rank 0
 * for the outputs, and the per-rank figures of the record. */
#include <stdlib.h>
#include <string.h>

#include "recon.h"

cbct_status recon_dist_operator_opts(const cbct_recon_config *c, const cbct_geometry *g,
                                     cbct_comm *comm, cbct_operator_opts *oo)
{
    memset(oo, 0, sizeof *oo);
    oo->num_operators = c->num_operators;
    oo->kernel = CBCT_KERNEL_FAST;
    oo->comm = comm;
    oo->distribute_views = c->distribute_physics;
    int size = cbct_comm_size(comm);
    if (!c->distribute_volume || size == 1)
        return CBCT_OK;
    /* Slabs end on the denoiser's patch rows, so that each patch is one
     * rank's (PnP); other solvers split at any row. */
    int64_t depth = g->vol.shape[0], align = 1;
    if (c->solver == CBCT_SOLVER_PNP)
        align = c->tiling.patch[0] > 0 && c->tiling.patch[0] < depth ? c->tiling.patch[0]
                                                                     : depth;
    int64_t groups = (depth + align - 1) / align;
    if (groups < size)
        return cbct_error(CBCT_ERR_ARG,
                          "distribute_volume: %d ranks but the volume has only %lld slabs of "
                          "%lld rows (patch_size along z); use fewer ranks or smaller patches",
                          size, (long long)groups, (long long)align);
    oo->distribute_volume = 1;
    cbct_slab_split(depth, align, cbct_comm_rank(comm), size, &oo->slab_z0, &oo->slab_nz);
    return CBCT_OK;
}

/* Keeps rows [z0, z0 + nz) of a volume. */
static cbct_status keep_rows(cbct_array *a, int64_t z0, int64_t nz, const char *what)
{
    if (!a->data || nz == a->shape[0]) /* whole with one slab, or made as rows */
        return CBCT_OK;
    cbct_array part = {0};
    cbct_status s = cbct_array_create(&part, nz, a->shape[1], a->shape[2], what);
    if (s)
        return s;
    int64_t row = a->shape[1] * a->shape[2];
    memcpy(part.data, a->data + z0 * row, (size_t)(nz * row) * sizeof(float));
    memcpy(part.spacing, a->spacing, sizeof part.spacing);
    memcpy(part.origin, a->origin, sizeof part.origin);
    cbct_array_destroy(a);
    *a = part;
    return CBCT_OK;
}

cbct_status recon_dist_localize(const cbct_operator *op, recon_dataset *d)
{
    int64_t z0, nz;
    cbct_operator_volume_rows(op, &z0, &nz);
    cbct_status s = keep_rows(&d->truth, z0, nz, "ground truth, this rank's rows");
    int64_t local = cbct_operator_proj_numel(op);
    if (s || local == cbct_array_numel(&d->proj))
        return s;
    cbct_array mine = {0};
    int64_t view_numel = d->geom.det_rows * d->geom.det_cols;
    s = cbct_array_create(&mine, local / view_numel, d->geom.det_rows, d->geom.det_cols,
                          "projections, this rank's views");
    if (s)
        return s;
    cbct_operator_local_projections(op, d->proj.data, mine.data);
    cbct_array_destroy(&d->proj);
    d->proj = mine;
    return CBCT_OK;
}

cbct_status recon_dist_gather(cbct_comm *comm, int64_t z0, int64_t nz, int64_t depth,
                              cbct_array *a)
{
    int root = cbct_comm_rank(comm) == 0;
    cbct_array whole = {0};
    cbct_status s = CBCT_OK;
    if (root)
        s = cbct_array_create(&whole, depth, a->shape[1], a->shape[2], "gathered volume");
    /* A collective: every rank takes part, also after a local failure. */
    s = cbct_comm_finish(comm, s);
    if (!s)
        s = cbct_comm_fetch_rows_f32(comm, a->data, z0, nz, a->shape[1] * a->shape[2], 0,
                                     root ? depth : 0, whole.data);
    if (s || !root) {
        cbct_array_destroy(&whole);
        return s;
    }
    memcpy(whole.spacing, a->spacing, sizeof whole.spacing);
    memcpy(whole.origin, a->origin, sizeof whole.origin);
    cbct_array_destroy(a);
    *a = whole;
    return CBCT_OK;
}

cbct_status recon_dist_rank_figures(cbct_comm *comm, recon_run *r)
{
    int size = cbct_comm_size(comm);
    double mine[RECON_RANK_FIGURES] = {(double)cbct_mem_peak(), (double)cbct_rss_peak_bytes(),
                                       cbct_comm_seconds(comm), (double)cbct_comm_bytes(comm)};
    r->rank_figures = calloc((size_t)size * RECON_RANK_FIGURES, sizeof(double));
    if (!r->rank_figures)
        return cbct_comm_fail(comm, cbct_error(CBCT_ERR_MEMORY, "no memory for rank figures"));
    r->n_ranks = size;
    return cbct_comm_allgather_f64(comm, mine, RECON_RANK_FIGURES, r->rank_figures);
}
