/* Per-iteration bookkeeping shared by the solvers: memory peaks, PSNR and
 * SSIM against a known ground truth, and the user's callback. */
#include <math.h>

#include "cbct/metrics.h"
#include "solvers/solver_internal.h"

cbct_iteration_stats cbct_iteration_stats_empty(int iteration)
{
    cbct_iteration_stats st = {0};
    st.iteration = iteration;
    st.relative_change = NAN;
    st.residual_norm = NAN;
    st.normal_residual = NAN;
    st.psnr_db = NAN;
    st.ssim = NAN;
    return st;
}

/* A view of a solver vector as a volume array (data not owned). */
static cbct_array volume_view(const cbct_operator *op, const float *data)
{
    cbct_array a = {0};
    const cbct_volume_geom *vg = &op->geom.vol;
    for (int d = 0; d < 3; d++) {
        a.shape[d] = vg->shape[d];
        a.spacing[d] = vg->voxel_size[d];
        a.origin[d] = vg->origin[d];
    }
    a.data = (float *)data;
    return a;
}

cbct_status cbct_solver_report(const cbct_operator *op, const cbct_solver_opts *opts,
                               cbct_iteration_stats *stats, const float *x)
{
    stats->mem_peak_bytes = cbct_mem_peak();
    stats->rss_peak_bytes = cbct_rss_peak_bytes();
    if (opts && opts->ground_truth) {
        cbct_array truth = volume_view(op, opts->ground_truth);
        cbct_array test = volume_view(op, x);
        cbct_metrics m;
        cbct_status s = cbct_compare(&truth, &test, NULL, 0.0, &m);
        if (s)
            return cbct_error_prefix(s, "iteration %d metrics", stats->iteration);
        stats->psnr_db = m.psnr_db;
        stats->ssim = m.ssim;
    }
    if (opts && opts->callback)
        return opts->callback(stats, x, opts->callback_user);
    return CBCT_OK;
}
