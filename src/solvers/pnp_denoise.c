/* The denoiser step of PnP on one rank, in the three placements of
 * docs/distribution.md:
 * - one process, or a replicated volume without distribute_denoiser: the
 *   whole volume, patch by patch (cbct_denoise_volume);
 * - a replicated volume with distribute_denoiser: patches rank, rank + P,
 *   ... into a zeroed volume, then a sum over ranks (every voxel is written
 *   by exactly one patch, so the sum is that voxel's value, exactly);
 * - a volume split in z-slabs aligned to patch rows: the rank fetches the
 *   rows its patches read (its slab and halos from its neighbours) and
 *   denoises the patches whose centres are its rows. */
#include <string.h>

#include "solvers/solver_internal.h"

static cbct_status denoise_round_robin(cbct_operator *op, cbct_drunet *net, float sigma,
                                       const cbct_tiling *tiling, const cbct_array *unit,
                                       cbct_array *out)
{
    const int64_t *shape = op->geom.vol.shape;
    int64_t counts[3], patch[3];
    cbct_status s = cbct_tiling_patch_counts(tiling, shape, counts, patch);
    if (s)
        return s;
    int64_t n_patches = counts[0] * counts[1] * counts[2];
    int64_t ranks = op->n_ranks, mine = op->rank < n_patches ? (n_patches - op->rank + ranks - 1) / ranks : 0;
    memset(out->data, 0, (size_t)cbct_array_numel(out) * sizeof(float));
    cbct_denoise_part part = {.shape = {shape[0], shape[1], shape[2]},
                              .first = op->rank, .step = ranks, .count = mine};
    if (mine > 0)
        s = cbct_denoise_volume_part(net, unit, sigma, tiling, &part, out);
    if (s)
        return s;
    return cbct_comm_sum_f32(op->comm, out->data, cbct_array_numel(out));
}

static cbct_status denoise_slab(cbct_operator *op, cbct_drunet *net, float sigma,
                                const cbct_tiling *tiling, const cbct_array *unit,
                                cbct_array *out)
{
    const int64_t *shape = op->geom.vol.shape;
    int64_t counts[3], patch[3];
    cbct_status s = cbct_tiling_patch_counts(tiling, shape, counts, patch);
    if (s)
        return s;
    int64_t z0 = op->z0, z1 = op->z0 + op->nz, pz = patch[0];
    if (z0 % pz != 0 || (z1 != shape[0] && z1 % pz != 0))
        return cbct_error(CBCT_ERR_ARG,
                          "PnP denoiser: this rank's slab, rows [%lld, %lld), does not start "
                          "and end on patch rows of %lld (split the volume with "
                          "cbct_slab_split aligned to the patch)",
                          (long long)z0, (long long)z1, (long long)pz);
    int64_t row0 = z0 / pz, row1 = z1 == shape[0] ? counts[0] : z1 / pz;
    int64_t per_row = counts[1] * counts[2];
    cbct_denoise_part part = {.shape = {shape[0], shape[1], shape[2]}, .first = row0 * per_row,
                              .step = 1, .count = (row1 - row0) * per_row, .out_z0 = z0};
    int64_t need0 = 0, need1 = 0;
    s = cbct_tiling_rows_needed(tiling, shape, part.first, 1, part.count, &need0, &need1);
    if (s)
        return s;
    int64_t row_numel = shape[1] * shape[2];
    cbct_array rows = {0};
    s = cbct_array_create(&rows, need1 - need0, shape[1], shape[2],
                          "PnP denoiser input with halo rows");
    if (!s)
        s = cbct_comm_fetch_rows_f32(op->comm, unit->data, z0, op->nz, row_numel, need0, need1,
                                     rows.data);
    part.in_z0 = need0;
    if (!s)
        s = cbct_denoise_volume_part(net, &rows, sigma, tiling, &part, out);
    cbct_array_destroy(&rows);
    return s;
}

cbct_status cbct_pnp_denoise(cbct_operator *op, cbct_drunet *net, float sigma,
                             const cbct_tiling *tiling, int distribute_denoiser,
                             const cbct_array *unit, cbct_array *out)
{
    if (op->split_volume)
        return denoise_slab(op, net, sigma, tiling, unit, out);
    if (distribute_denoiser && op->n_ranks > 1)
        return denoise_round_robin(op, net, sigma, tiling, unit, out);
    return cbct_denoise_volume(net, unit, sigma, tiling, out);
}
