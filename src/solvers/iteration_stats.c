/* Per-iteration bookkeeping shared by the solvers: memory peaks, PSNR and
 * SSIM against a known ground truth, and the user's callback. */
#include <math.h>
#include <stdio.h>

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

/* A view of a solver vector (this rank's rows) as a volume array (data not
 * owned). */
static cbct_array volume_view(const cbct_operator *op, const float *data)
{
    cbct_array a = {0};
    const cbct_volume_geom *vg = &op->geom.vol;
    for (int d = 0; d < 3; d++) {
        a.shape[d] = d == 0 ? op->nz : vg->shape[d];
        a.spacing[d] = vg->voxel_size[d];
        a.origin[d] = vg->origin[d];
    }
    a.data = (float *)data;
    return a;
}

/* Divergence: the residual grew by this factor over the best seen. A
 * converging solver never does this; PnP's residual may rise a little when
 * the denoiser pulls away from the data, by far less. */
#define DEFAULT_DIVERGENCE_FACTOR 1e3

static cbct_status check_numbers(const cbct_operator *op, const cbct_solver_opts *opts,
                                 cbct_solver_guard *guard, const cbct_iteration_stats *stats,
                                 const float *x)
{
    char what[64];
    snprintf(what, sizeof what, "the iterate after iteration %d", stats->iteration);
    cbct_status s = cbct_check_finite(x, cbct_operator_volume_numel(op), what);
    if (s)
        return cbct_error_prefix(s, "solver stopped");
    double r = stats->residual_norm;
    if (!isfinite(r))
        return cbct_error(CBCT_ERR_NUMERIC,
                          "solver stopped: the residual is %g after iteration %d (diverged)", r,
                          stats->iteration);
    double factor = opts && opts->divergence_factor != 0.0 ? opts->divergence_factor
                                                           : DEFAULT_DIVERGENCE_FACTOR;
    if (guard->min_residual > 0.0 && factor > 0.0 && r > factor * guard->min_residual)
        return cbct_error(CBCT_ERR_NUMERIC,
                          "solver stopped: diverging, the residual %g after iteration %d is "
                          "over %g times its smallest value %g (step too large? "
                          "inconsistent data?)",
                          r, stats->iteration, factor, guard->min_residual);
    if (guard->min_residual <= 0.0 || r < guard->min_residual)
        guard->min_residual = r;
    return CBCT_OK;
}

/* PSNR over a volume split in slabs (ground_truth: this rank's rows): the
 * squared errors and the truth's range gathered over ranks. SSIM needs
 * neighbourhoods across slabs and is left out (NAN) per iteration. */
static cbct_status cbct_split_psnr(cbct_operator *op, const float *truth, const float *x,
                                   double *psnr_db)
{
    int64_t n = cbct_operator_volume_numel(op);
    float lo = truth[0], hi = truth[0];
    for (int64_t i = 1; i < n; i++) {
        lo = truth[i] < lo ? truth[i] : lo;
        hi = truth[i] > hi ? truth[i] : hi;
    }
    double squared = cbct_vec_dist_sq(truth, x, n);
    cbct_status s = cbct_comm_min_max_f32(op->comm, &lo, &hi);
    if (!s)
        s = cbct_operator_sum(op, CBCT_SPACE_VOLUME, &squared, 1);
    if (s)
        return s;
    double range = hi > lo ? (double)hi - lo : 1.0; /* as cbct_compare */
    double rmse = sqrt(squared / (double)cbct_operator_global_volume_numel(op));
    *psnr_db = rmse > 0 ? 20 * log10(range / rmse) : INFINITY;
    return CBCT_OK;
}

cbct_status cbct_solver_report(cbct_operator *op, const cbct_solver_opts *opts,
                               cbct_solver_guard *guard, const cbct_solver_state *state,
                               cbct_iteration_stats *stats, const float *x)
{
    cbct_status s = check_numbers(op, opts, guard, stats, x);
    if (s)
        return s;
    stats->state = state;
    stats->mem_peak_bytes = cbct_mem_peak();
    stats->rss_peak_bytes = cbct_rss_peak_bytes();
    if (opts && opts->ground_truth && op->split_volume) {
        s = cbct_split_psnr(op, opts->ground_truth, x, &stats->psnr_db);
        if (s)
            return s;
    } else if (opts && opts->ground_truth) {
        cbct_array truth = volume_view(op, opts->ground_truth);
        cbct_array test = volume_view(op, x);
        cbct_metrics m;
        s = cbct_compare(&truth, &test, NULL, 0.0, &m);
        if (s)
            return cbct_error_prefix(s, "iteration %d metrics", stats->iteration);
        stats->psnr_db = m.psnr_db;
        stats->ssim = m.ssim;
    }
    if (opts && opts->callback)
        return opts->callback(stats, x, opts->callback_user);
    return CBCT_OK;
}
