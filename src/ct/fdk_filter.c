/* FDK pre-weighting and ramp filtering of detector rows. The ramp is the
 * band-limited discrete ram-lak kernel built in the spatial domain (so that
 * its mean is right and the DC term is not lost to the zero padding), then
 * transformed and shaped by a window in frequency. Rows are filtered in
 * parallel with FFTW's new-array execute functions on plans made once in
 * cbct_fdk_create. */
#include <math.h>
#include <omp.h>
#include <string.h>

#include "ct/fdk_internal.h"
#include "ct/vec3.h"

int64_t cbct_fdk_fft_length(int64_t n)
{
    for (int64_t len = n > 1 ? n : 1;; len++) {
        int64_t rest = len;
        while (rest % 2 == 0)
            rest /= 2;
        while (rest % 3 == 0)
            rest /= 3;
        while (rest % 5 == 0)
            rest /= 5;
        if (rest == 1)
            return len;
    }
}

/* Window gain at frequency `x` in units of the cutoff (1 = cutoff). */
static double window_gain(cbct_filter filter, double x)
{
    if (x > 1)
        return 0.0;
    switch (filter) {
    case CBCT_FILTER_SHEPP_LOGAN: {
        double t = 0.5 * CBCT_PI * x;
        return x > 0 ? sin(t) / t : 1.0;
    }
    case CBCT_FILTER_COSINE:
        return cos(0.5 * CBCT_PI * x);
    case CBCT_FILTER_HANN:
        return 0.5 * (1 + cos(CBCT_PI * x));
    case CBCT_FILTER_RAM_LAK:
    default:
        return 1.0;
    }
}

cbct_status cbct_fdk_ramp_spectrum(cbct_fdk *f)
{
    int64_t len = f->pad_len, n_freq = len / 2 + 1;
    float *kernel = cbct_alloc((size_t)len * sizeof(float), "FDK ramp kernel");
    fftwf_complex *spectrum = cbct_alloc((size_t)n_freq * sizeof(fftwf_complex),
                                         "FDK ramp spectrum");
    if (!kernel || !spectrum) {
        cbct_free(kernel);
        cbct_free(spectrum);
        return CBCT_ERR_MEMORY;
    }
    /* Ram-lak for a unit pixel pitch, circularly symmetric: h[0] = 1/4,
     * h[n odd] = -1 / (n pi)^2, h[n even] = 0 (Kak & Slaney, eq. 3.61). */
    memset(kernel, 0, (size_t)len * sizeof(float));
    kernel[0] = 0.25f;
    for (int64_t k = 1; k <= len / 2; k += 2) {
        double value = -1.0 / ((double)k * CBCT_PI * (double)k * CBCT_PI);
        kernel[k] = (float)value;
        kernel[len - k] = (float)value;
    }
    fftwf_execute_dft_r2c(f->forward, kernel, spectrum);
    for (int64_t k = 0; k < n_freq; k++) {
        /* Frequency as a fraction of Nyquist, then of the cutoff. */
        double x = (double)k / (0.5 * (double)len) / f->opts.cutoff;
        /* The kernel is even: its transform is real. 1 / len undoes FFTW's
         * unnormalised inverse. */
        f->spectrum[k] = (float)(spectrum[k][0] * window_gain(f->opts.filter, x) / (double)len);
    }
    cbct_free(kernel);
    cbct_free(spectrum);
    return CBCT_OK;
}

/* Pre-weights of one detector row: angular scale x cosine weight (x Parker). */
static void row_weights(const cbct_fdk *f, int64_t view, int64_t row, float *weights)
{
    const cbct_view *w = &f->geom.views[view];
    const cbct_fdk_view_weights *vw = &f->weights[view];
    int64_t cols = f->geom.det_cols;
    double row_offset = (double)row - 0.5 * (double)f->geom.det_rows + 0.5;
    double ray0[3]; /* source to the centre of column 0 of this row */
    for (int k = 0; k < 3; k++)
        ray0[k] = w->det[k] - w->src[k] + (0.5 - 0.5 * (double)cols) * w->u[k] +
                  row_offset * w->v[k];
    /* Central ray for Parker's fan angle: from the source toward the z axis. */
    double cx = -w->src[0], cy = -w->src[1];
    for (int64_t c = 0; c < cols; c++) {
        double ray[3];
        for (int k = 0; k < 3; k++)
            ray[k] = ray0[k] + (double)c * w->u[k];
        /* D / sqrt(D^2 + a^2 + b^2) = D / |pixel - source|. */
        double weight = vw->scale * vw->sdd_mm / vec3_norm(ray);
        if (f->parker) {
            double gamma = atan2(cx * ray[1] - cy * ray[0], cx * ray[0] + cy * ray[1]);
            weight *= cbct_fdk_parker_weight(vw->angle_rad, gamma, f->parker_delta_rad);
        }
        weights[c] = (float)weight;
    }
}

cbct_status cbct_fdk_filter_views(cbct_fdk *f, int64_t view0, int64_t n_views,
                                  const float *proj_in, float *proj_out)
{
    if (!f || !proj_in || !proj_out)
        return cbct_error(CBCT_ERR_ARG, "FDK filter: %s is NULL",
                          !f ? "the plan" : !proj_in ? "the input projections"
                                                     : "the output projections");
    if (view0 < 0 || n_views <= 0 || view0 + n_views > f->geom.n_views)
        return cbct_error(CBCT_ERR_ARG, "FDK filter: views [%lld, %lld) are outside the "
                          "geometry's %lld views", (long long)view0,
                          (long long)(view0 + n_views), (long long)f->geom.n_views);
    int64_t rows = f->geom.det_rows, cols = f->geom.det_cols;
    cbct_status s = cbct_check_finite(proj_in, n_views * rows * cols, "FDK input projections");
    if (s)
        return s;
    int64_t len = f->pad_len, n_freq = len / 2 + 1;
    /* Per-thread buffers, each starting on a 64-byte boundary like the
     * buffers the plans were made with (FFTW's new-array rule). */
    int64_t real_stride = (len + 15) / 16 * 16, weight_stride = (cols + 15) / 16 * 16;
    int64_t freq_stride = (n_freq + 7) / 8 * 8;
    int n_threads = omp_get_max_threads();
    float *real = cbct_alloc((size_t)(n_threads * (real_stride + weight_stride)) * sizeof(float),
                             "FDK filter rows");
    fftwf_complex *freq = cbct_alloc((size_t)(n_threads * freq_stride) * sizeof(fftwf_complex),
                                     "FDK filter spectra");
    if (!real || !freq) {
        cbct_free(real);
        cbct_free(freq);
        return CBCT_ERR_MEMORY;
    }
#pragma omp parallel
    {
        int tid = omp_get_thread_num();
        float *buf = real + (int64_t)tid * real_stride;
        float *weights = real + (int64_t)n_threads * real_stride + (int64_t)tid * weight_stride;
        fftwf_complex *spec = freq + (int64_t)tid * freq_stride;
#pragma omp for schedule(static)
        for (int64_t r = 0; r < n_views * rows; r++) {
            int64_t view = view0 + r / rows, row = r % rows;
            const float *in = proj_in + r * cols;
            row_weights(f, view, row, weights);
            for (int64_t c = 0; c < cols; c++)
                buf[c] = in[c] * weights[c];
            memset(buf + cols, 0, (size_t)(len - cols) * sizeof(float));
            fftwf_execute_dft_r2c(f->forward, buf, spec);
            for (int64_t k = 0; k < n_freq; k++) {
                spec[k][0] *= f->spectrum[k];
                spec[k][1] *= f->spectrum[k];
            }
            fftwf_execute_dft_c2r(f->inverse, spec, buf);
            /* In place is fine: this row of the input has been read. */
            memcpy(proj_out + r * cols, buf, (size_t)cols * sizeof(float));
        }
    }
    cbct_free(real);
    cbct_free(freq);
    return CBCT_OK;
}
