/* FDK (Feldkamp-Davis-Kress) reconstruction for arbitrary cone_vec
 * geometries: cosine pre-weighting, ramp filtering along detector rows with
 * FFTW (ram-lak, shepp-logan, cosine, hann windows), Parker weights for short
 * scans, and a voxel-driven back-projection with per-view 3x4 matrices.
 *
 * Input projections are line integrals, output in 1/mm. */
#ifndef CBCT_FDK_H
#define CBCT_FDK_H

#include "cbct/geometry.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    CBCT_FILTER_RAM_LAK = 0,
    CBCT_FILTER_SHEPP_LOGAN,
    CBCT_FILTER_COSINE,
    CBCT_FILTER_HANN
} cbct_filter;

typedef enum {
    CBCT_SHORT_SCAN_AUTO = 0, /* Parker weights when the scan covers < 2 pi */
    CBCT_SHORT_SCAN_OFF,
    CBCT_SHORT_SCAN_ON
} cbct_short_scan;

typedef struct cbct_fdk_opts {
    cbct_filter filter;
    double cutoff;            /* fraction of Nyquist in (0, 1]; 0 means 1 */
    cbct_short_scan short_scan;
} cbct_fdk_opts;

/* "ram-lak", "shepp-logan", "cosine", "hann" -> enum. */
cbct_status cbct_filter_from_name(const char *name, cbct_filter *out);
const char *cbct_filter_name(cbct_filter f);

typedef struct cbct_fdk cbct_fdk;

/* Plans the filter (FFTW) and the per-view weights for geometry `g`
 * (`opts` NULL: defaults). FFTW planning is not thread-safe: create plans
 * from one thread at a time; the plan may then be used from any thread.
 * The rotation axis is the world z axis through the origin: each view's
 * angle is that of its source around z, and the source-axis distance is
 * measured along the detector normal. */
cbct_status cbct_fdk_create(const cbct_geometry *g, const cbct_fdk_opts *opts, cbct_fdk **out);
void cbct_fdk_destroy(cbct_fdk *f);

/* Weights and filters views [view0, view0 + n_views): in and out are
 * n_views x rows x cols (may be the same buffer). */
cbct_status cbct_fdk_filter_views(cbct_fdk *f, int64_t view0, int64_t n_views,
                                  const float *proj_in, float *proj_out);
/* Back-projects filtered views [view0, view0 + n_views) into the z-slab
 * [z0, z0 + nz) (added to `slab` when accumulate, else overwritten). Each
 * voxel adds its views one at a time in view order, so splitting the views
 * into blocks (accumulate) or the volume into slabs gives the same bits,
 * whatever the thread count. */
cbct_status cbct_fdk_backproject(cbct_fdk *f, int64_t view0, int64_t n_views,
                                 const float *filtered, int64_t z0, int64_t nz, float *slab,
                                 int accumulate);

/* Whole reconstruction in memory: vol (nz x ny x nx) from proj
 * (n_views x rows x cols). Filters a batch of at most 64 views at a time
 * (fewer when the memory budget is tight) and back-projects it. `opts` NULL
 * means ram-lak, cutoff 1, short scan auto. */
cbct_status cbct_fdk_reconstruct(const cbct_geometry *g, const cbct_fdk_opts *opts,
                                 const float *proj, float *vol);

#ifdef __cplusplus
}
#endif
#endif
