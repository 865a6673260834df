/* Whole-volume FDK in memory: views are filtered a batch at a time into a
 * temporary buffer and back-projected into the full volume. */
#include "ct/fdk_internal.h"

/* Largest batch of filtered views held at once (64 views of 1000^2 pixels
 * is 256 MB). */
#define MAX_VIEW_BATCH 64

cbct_status cbct_fdk_reconstruct(const cbct_geometry *g, const cbct_fdk_opts *opts,
                                 const float *proj, float *vol)
{
    if (!g || !proj || !vol)
        return cbct_error(CBCT_ERR_ARG, "FDK reconstruct: %s is NULL",
                          !g ? "the geometry" : !proj ? "the projections" : "the volume");
    cbct_fdk *f = NULL;
    cbct_status s = cbct_fdk_create(g, opts, &f);
    if (s)
        return s;
    int64_t view_pixels = g->det_rows * g->det_cols;
    size_t view_bytes = (size_t)view_pixels * sizeof(float);
    /* Leave half of what the budget has left to the back-projector's own
     * buffers; never fewer than one view (the allocation then reports). */
    int64_t batch = g->n_views < MAX_VIEW_BATCH ? g->n_views : MAX_VIEW_BATCH;
    size_t fit = cbct_mem_available() / 2 / view_bytes;
    if ((size_t)batch > fit)
        batch = fit > 1 ? (int64_t)fit : 1;
    float *filtered = cbct_alloc((size_t)batch * view_bytes, "FDK filtered views");
    if (!filtered) {
        cbct_fdk_destroy(f);
        return CBCT_ERR_MEMORY;
    }
    for (int64_t v0 = 0; v0 < g->n_views && !s; v0 += batch) {
        int64_t n = g->n_views - v0 < batch ? g->n_views - v0 : batch;
        s = cbct_fdk_filter_views(f, v0, n, proj + v0 * view_pixels, filtered);
        if (!s)
            s = cbct_fdk_backproject(f, v0, n, filtered, 0, g->vol.shape[0], vol, v0 > 0);
        cbct_progress("FDK", v0 + n, g->n_views);
    }
    cbct_free(filtered);
    cbct_fdk_destroy(f);
    return s;
}
