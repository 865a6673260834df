/* Image quality metrics between a reference volume and a test volume. */
#ifndef CBCT_METRICS_H
#define CBCT_METRICS_H

#include "cbct/core.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cbct_metrics {
    double rmse;
    double psnr_db;    /* 20 log10(data_range / rmse), data range of the reference */
    double ssim;       /* 3D SSIM, 7^3 uniform window, K1 = 0.01, K2 = 0.03 */
    double data_range; /* max - min of the reference (or as given) */
    double max_abs_diff;
} cbct_metrics;

/* `mask` (optional, same size, nonzero = inside) restricts RMSE/PSNR,
 * max_abs_diff and the SSIM window centres. data_range <= 0: max - min of
 * the whole reference (1 if the reference is constant). PSNR is +inf when
 * rmse = 0. SSIM averages the windows that fit inside the volume (centres
 * at least 3 voxels from each border; an axis shorter than 7 voxels uses
 * its whole extent), with sample (co)variances as scikit-image's default.
 * Errors: CBCT_ERR_ARG on a shape mismatch (naming both shapes) or a mask
 * that selects nothing; CBCT_ERR_NUMERIC on NaN/Inf in either volume.
 * Bit-identical for any thread count. */
cbct_status cbct_compare(const cbct_array *reference, const cbct_array *test,
                         const unsigned char *mask, double data_range, cbct_metrics *out);

#ifdef __cplusplus
}
#endif
#endif
