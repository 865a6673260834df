/* FDK internals shared by src/ct/fdk*.c: the plan object and the helpers
 * that fill its per-view weights and the ramp filter spectrum. */
#ifndef CBCT_CT_FDK_INTERNAL_H
#define CBCT_CT_FDK_INTERNAL_H

#include <fftw3.h>

#include "cbct/fdk.h"
#include "cpu/fdk_kernels.h"

/* pi to double precision (M_PI is not in strict C11). */
#define CBCT_PI 3.14159265358979323846

/* Per-view quantities of the pre-weighting (all derived from the vectors). */
typedef struct cbct_fdk_view_weights {
    double sdd_mm;       /* source to detector plane along the normal (D) */
    double sod_mm;       /* source to rotation axis along the normal */
    double angle_rad;    /* source angle around z (counter-clockwise), from the smallest */
    double scale;        /* angular interval x redundancy factor x 1 / tau */
} cbct_fdk_view_weights;

struct cbct_fdk {
    cbct_geometry geom;         /* own copy (views tracked) */
    cbct_fdk_opts opts;         /* cutoff resolved (0 -> 1) */
    int parker;                 /* Parker weights in use (short scan) */
    double parker_delta_rad;    /* half the excess of the scan over pi */
    cbct_fdk_view_weights *weights; /* n_views */
    cbct_fdk_bp_view *bp_views; /* n_views back-projection matrices */
    int64_t pad_len;            /* FFT length (>= 2 cols, FFTW-friendly) */
    float *spectrum;            /* pad_len / 2 + 1 real filter gains (with 1 / pad_len) */
    fftwf_plan forward, inverse;
};

/* Angular weights: fills weights[i].angle_rad and .scale (the angular part
 * only), decides on Parker weights. */
cbct_status cbct_fdk_angular_weights(cbct_fdk *f);

/* Parker weight of the ray at fan angle gamma (counter-clockwise, radians)
 * from the source at angle beta (radians from the scan start). */
double cbct_fdk_parker_weight(double beta, double gamma, double delta);

/* Smallest length >= n of the form 2^a 3^b 5^c (fast for FFTW). */
int64_t cbct_fdk_fft_length(int64_t n);

/* Fills f->spectrum: the band-limited ram-lak kernel (unit pixel pitch)
 * transformed, times the window of f->opts, divided by pad_len. */
cbct_status cbct_fdk_ramp_spectrum(cbct_fdk *f);

#endif
