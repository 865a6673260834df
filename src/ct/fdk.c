/* FDK plan: options, per-view weights and matrices, FFTW plans; and the
 * public back-projection entry point (argument checks around the kernel). */
#include <math.h>
#include <string.h>

#include "ct/fdk_internal.h"
#include "ct/vec3.h"

static const char *filter_names[] = {"ram-lak", "shepp-logan", "cosine", "hann"};
#define N_FILTERS ((int)(sizeof filter_names / sizeof filter_names[0]))

cbct_status cbct_filter_from_name(const char *name, cbct_filter *out)
{
    if (!name || !out)
        return cbct_error(CBCT_ERR_ARG, "filter name: %s is NULL", !name ? "name" : "out");
    for (int i = 0; i < N_FILTERS; i++) {
        if (strcmp(name, filter_names[i]) == 0) {
            *out = (cbct_filter)i;
            return CBCT_OK;
        }
    }
    return cbct_error(CBCT_ERR_ARG, "unknown FDK filter '%s': expected ram-lak, shepp-logan, "
                      "cosine or hann", name);
}

const char *cbct_filter_name(cbct_filter f)
{
    return (int)f >= 0 && (int)f < N_FILTERS ? filter_names[f] : "unknown";
}

static cbct_status check_opts(const cbct_fdk_opts *opts, cbct_fdk_opts *resolved)
{
    cbct_fdk_opts defaults = {CBCT_FILTER_RAM_LAK, 1.0, CBCT_SHORT_SCAN_AUTO};
    *resolved = opts ? *opts : defaults;
    if ((int)resolved->filter < 0 || (int)resolved->filter >= N_FILTERS)
        return cbct_error(CBCT_ERR_ARG, "FDK filter %d: expected 0..%d (ram-lak, shepp-logan, "
                          "cosine, hann)", (int)resolved->filter, N_FILTERS - 1);
    if (resolved->cutoff == 0)
        resolved->cutoff = 1.0;
    if (!(resolved->cutoff > 0 && resolved->cutoff <= 1))
        return cbct_error(CBCT_ERR_ARG, "FDK filter cutoff %g: expected a fraction of the "
                          "Nyquist frequency in (0, 1] (0 means 1)", resolved->cutoff);
    if ((int)resolved->short_scan < CBCT_SHORT_SCAN_AUTO ||
        (int)resolved->short_scan > CBCT_SHORT_SCAN_ON)
        return cbct_error(CBCT_ERR_ARG, "FDK short_scan option %d: expected auto (0), off (1) "
                          "or on (2)", (int)resolved->short_scan);
    return CBCT_OK;
}

/* Distances, matrix and 1/tau of one view. */
static cbct_status view_setup(cbct_fdk *f, int64_t i)
{
    const cbct_view *w = &f->geom.views[i];
    double n[3], sd[3];
    vec3_cross(w->u, w->v, n);
    vec3_scale(n, 1.0 / vec3_norm(n), n);
    vec3_sub(w->det, w->src, sd);
    double sdd = vec3_dot(sd, n);
    if (sdd < 0) { /* normal from the source toward the detector */
        vec3_scale(n, -1, n);
        sdd = -sdd;
    }
    /* Source to the rotation axis (the world origin) along the normal. */
    double sod = -vec3_dot(w->src, n);
    if (!(sod > 0))
        return cbct_error(CBCT_ERR_GEOMETRY, "FDK: view %lld: the world origin (rotation axis) "
                          "is %g mm from the source along the detector normal: expected it in "
                          "front of the source (> 0)", (long long)i, sod);
    f->weights[i].sdd_mm = sdd;
    f->weights[i].sod_mm = sod;
    double m[3][4];
    cbct_status s = cbct_view_projection_matrix(&f->geom, i, m);
    if (s)
        return s;
    for (int r = 0; r < 3; r++)
        for (int c = 0; c < 4; c++)
            f->bp_views[i].m[r][c] = m[r][c] / sod;
    return CBCT_OK;
}

static cbct_status make_plans(cbct_fdk *f)
{
    int64_t len = f->pad_len;
    float *real = cbct_alloc((size_t)len * sizeof(float), "FDK plan buffer");
    fftwf_complex *freq = cbct_alloc((size_t)(len / 2 + 1) * sizeof(fftwf_complex),
                                     "FDK plan spectrum");
    if (real && freq) {
        /* ESTIMATE: no timing runs, so the same plan (and bits) every time. */
        f->forward = fftwf_plan_dft_r2c_1d((int)len, real, freq, FFTW_ESTIMATE);
        f->inverse = fftwf_plan_dft_c2r_1d((int)len, freq, real, FFTW_ESTIMATE);
    }
    cbct_free(real);
    cbct_free(freq);
    if (!real || !freq)
        return CBCT_ERR_MEMORY;
    if (!f->forward || !f->inverse)
        return cbct_error(CBCT_ERR_INTERNAL, "FDK: FFTW could not plan a transform of "
                          "length %lld", (long long)len);
    return CBCT_OK;
}

static cbct_status fdk_setup(cbct_fdk *f, const cbct_geometry *g)
{
    cbct_status s = cbct_geometry_copy(g, &f->geom);
    if (s)
        return s;
    int64_t n = g->n_views;
    f->weights = cbct_calloc((size_t)n, sizeof(cbct_fdk_view_weights), "FDK view weights");
    f->bp_views = cbct_calloc((size_t)n, sizeof(cbct_fdk_bp_view), "FDK view matrices");
    if (!f->weights || !f->bp_views)
        return CBCT_ERR_MEMORY;
    for (int64_t i = 0; i < n; i++)
        if ((s = view_setup(f, i)))
            return s;
    if ((s = cbct_fdk_angular_weights(f)))
        return s;
    for (int64_t i = 0; i < n; i++) {
        /* The ramp is built for a unit pitch; at pitch tau (the column pitch
         * scaled to the rotation axis) the convolution integral is 1 / tau
         * times the unit-pitch sum. */
        double tau = vec3_norm(g->views[i].u) * f->weights[i].sod_mm / f->weights[i].sdd_mm;
        f->weights[i].scale /= tau;
    }
    f->pad_len = cbct_fdk_fft_length(2 * g->det_cols);
    if (f->pad_len > (1 << 28))
        return cbct_error(CBCT_ERR_ARG, "FDK: detector rows of %lld pixels are too long to "
                          "filter", (long long)g->det_cols);
    f->spectrum = cbct_alloc((size_t)(f->pad_len / 2 + 1) * sizeof(float), "FDK filter");
    if (!f->spectrum)
        return CBCT_ERR_MEMORY;
    if ((s = make_plans(f)))
        return s;
    return cbct_fdk_ramp_spectrum(f);
}

cbct_status cbct_fdk_create(const cbct_geometry *g, const cbct_fdk_opts *opts, cbct_fdk **out)
{
    if (!g || !out)
        return cbct_error(CBCT_ERR_ARG, "FDK create: %s is NULL", !g ? "the geometry" : "out");
    *out = NULL;
    cbct_fdk_opts resolved;
    cbct_status s = check_opts(opts, &resolved);
    if (s)
        return s;
    if ((s = cbct_geometry_validate(g)))
        return cbct_error_prefix(s, "FDK: ");
    cbct_fdk *f = cbct_calloc(1, sizeof(cbct_fdk), "FDK plan");
    if (!f)
        return CBCT_ERR_MEMORY;
    f->opts = resolved;
    if ((s = fdk_setup(f, g))) {
        cbct_fdk_destroy(f);
        return s;
    }
    *out = f;
    return CBCT_OK;
}

void cbct_fdk_destroy(cbct_fdk *f)
{
    if (!f)
        return;
    if (f->forward)
        fftwf_destroy_plan(f->forward);
    if (f->inverse)
        fftwf_destroy_plan(f->inverse);
    cbct_free(f->spectrum);
    cbct_free(f->weights);
    cbct_free(f->bp_views);
    cbct_geometry_destroy(&f->geom);
    cbct_free(f);
}

cbct_status cbct_fdk_backproject(cbct_fdk *f, int64_t view0, int64_t n_views,
                                 const float *filtered, int64_t z0, int64_t nz, float *slab,
                                 int accumulate)
{
    if (!f || !filtered || !slab)
        return cbct_error(CBCT_ERR_ARG, "FDK back-projection: %s is NULL",
                          !f ? "the plan" : !filtered ? "the filtered projections" : "the slab");
    if (view0 < 0 || n_views <= 0 || view0 + n_views > f->geom.n_views)
        return cbct_error(CBCT_ERR_ARG, "FDK back-projection: views [%lld, %lld) are outside "
                          "the geometry's %lld views", (long long)view0,
                          (long long)(view0 + n_views), (long long)f->geom.n_views);
    const cbct_volume_geom *vg = &f->geom.vol;
    if (z0 < 0 || nz <= 0 || z0 + nz > vg->shape[0])
        return cbct_error(CBCT_ERR_ARG, "FDK back-projection: slab z [%lld, %lld) is outside "
                          "the volume's %lld slices", (long long)z0, (long long)(z0 + nz),
                          (long long)vg->shape[0]);
    int64_t line_len = vg->shape[2], n_lines = nz * vg->shape[1];
    if (!accumulate) {
#pragma omp parallel for schedule(static)
        for (int64_t line = 0; line < n_lines; line++)
            memset(slab + line * line_len, 0, (size_t)line_len * sizeof(float));
    }
    cbct_fdk_bp_task task = {vg, f->geom.det_rows, f->geom.det_cols, n_views,
                             f->bp_views + view0, filtered, z0, nz, slab};
    return cbct_fdk_backproject_fast(&task);
}
