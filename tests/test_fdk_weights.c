/* FDK weights and filter internals: FFT lengths, the ramp spectrum (|f| in
 * cycles per pixel, windows and cutoff), Parker weights summing to one over
 * conjugate rays, and the angular weights of full, reversed, shuffled,
 * multi-turn and short scans (with the automatic short-scan choice). */
#include "ct/fdk_internal.h"
#include "ct/vec3.h"
#include "test_fdk_util.h"

static void check_fft_lengths(void)
{
    CHECK(cbct_fdk_fft_length(1) == 1);
    CHECK(cbct_fdk_fft_length(7) == 8);
    CHECK(cbct_fdk_fft_length(192) == 192);
    CHECK(cbct_fdk_fft_length(194) == 200);
    CHECK(cbct_fdk_fft_length(1538) == 1600);
}

static cbct_fdk *plan_for(int64_t n_views, double arc_rad, cbct_filter filter, double cutoff,
                          cbct_short_scan mode, cbct_geometry *g)
{
    cbct_fdk *f = NULL;
    CHECK_OK(fdk_test_circular(n_views, arc_rad, 16, 64, 1.0, 8, g));
    cbct_fdk_opts opts = {filter, cutoff, mode};
    CHECK_OK(cbct_fdk_create(g, &opts, &f));
    return f;
}

static void check_spectrum(void)
{
    cbct_geometry g;
    cbct_fdk *f = plan_for(8, 2 * FDK_TEST_PI, CBCT_FILTER_RAM_LAK, 1, CBCT_SHORT_SCAN_AUTO, &g);
    if (!f)
        return;
    int64_t len = f->pad_len;
    CHECK(len == 128);
    /* The band-limited ram-lak's transform is |frequency| (cycles/pixel). */
    double worst = 0;
    for (int64_t k = 0; k <= len / 2; k++) {
        double expected = (double)k / (double)len;
        double err = fabs(f->spectrum[k] * (double)len - expected);
        worst = err > worst ? err : worst;
    }
    printf("ram-lak spectrum: max deviation from |f| = %.2g cycles/pixel\n", worst);
    CHECK(worst < 2e-3);
    cbct_fdk_destroy(f);
    cbct_geometry_destroy(&g);

    /* Windows: hann is 0 at Nyquist, cosine is cos(pi/4) at half Nyquist,
     * a cutoff of 0.5 zeroes the upper half of the band. */
    f = plan_for(8, 2 * FDK_TEST_PI, CBCT_FILTER_HANN, 1, CBCT_SHORT_SCAN_AUTO, &g);
    if (f)
        CHECK_NEAR(f->spectrum[len / 2], 0.0, 1e-9);
    cbct_fdk_destroy(f);
    cbct_geometry_destroy(&g);
    f = plan_for(8, 2 * FDK_TEST_PI, CBCT_FILTER_COSINE, 1, CBCT_SHORT_SCAN_AUTO, &g);
    if (f)
        CHECK_NEAR(f->spectrum[len / 4] * (double)len, 0.25 * cos(FDK_TEST_PI / 4), 2e-3);
    cbct_fdk_destroy(f);
    cbct_geometry_destroy(&g);
    f = plan_for(8, 2 * FDK_TEST_PI, CBCT_FILTER_RAM_LAK, 0.5, CBCT_SHORT_SCAN_AUTO, &g);
    if (f) {
        CHECK_NEAR(f->spectrum[len / 8] * (double)len, 0.125, 2e-3);
        CHECK(f->spectrum[len / 4 + 1] == 0 && f->spectrum[len / 2] == 0);
    }
    cbct_fdk_destroy(f);
    cbct_geometry_destroy(&g);
}

static void check_parker(void)
{
    /* Over a grid of rays of a scan of pi + 2 delta: w in [0, 1], and the
     * ray and its conjugate (beta + pi + 2 gamma, -gamma) sum to 1. */
    double delta = 0.2, worst = 0;
    int bad_range = 0;
    for (double gamma = -delta; gamma <= delta; gamma += delta / 10)
        for (double beta = 0; beta <= FDK_TEST_PI + 2 * delta; beta += 0.01) {
            double w = cbct_fdk_parker_weight(beta, gamma, delta);
            bad_range += !(w >= 0 && w <= 1);
            double conj_beta = beta + FDK_TEST_PI + 2 * gamma;
            if (conj_beta > FDK_TEST_PI + 2 * delta) /* the conjugate was earlier */
                conj_beta -= 2 * FDK_TEST_PI;
            double sum = w + cbct_fdk_parker_weight(conj_beta, -gamma, delta);
            worst = fabs(sum - 1) > worst ? fabs(sum - 1) : worst;
        }
    printf("Parker: max |w + w_conjugate - 1| = %.2g\n", worst);
    CHECK(bad_range == 0);
    CHECK(worst < 1e-12);
    CHECK(cbct_fdk_parker_weight(-0.1, 0, delta) == 0);
    CHECK(cbct_fdk_parker_weight(FDK_TEST_PI + 2 * delta + 0.1, 0, delta) == 0);
    CHECK(cbct_fdk_parker_weight(FDK_TEST_PI / 2, 0, delta) == 1);
}

/* Sum over views of the angular weight (scale x tau): pi when each ray is
 * counted once; also the smallest and largest per-view weight. */
static void angular_sums(const cbct_fdk *f, double *sum, double *lo, double *hi)
{
    *sum = 0;
    *lo = INFINITY;
    *hi = 0;
    for (int64_t i = 0; i < f->geom.n_views; i++) {
        const cbct_fdk_view_weights *w = &f->weights[i];
        double tau = vec3_norm(f->geom.views[i].u) * w->sod_mm / w->sdd_mm;
        double a = w->scale * tau;
        *sum += a;
        *lo = a < *lo ? a : *lo;
        *hi = a > *hi ? a : *hi;
    }
}

static void check_angular(double arc_deg, int64_t n_views, int shuffle, int expect_parker,
                          double expect_sum)
{
    cbct_geometry g;
    CHECK_OK(fdk_test_circular(n_views, arc_deg * FDK_TEST_PI / 180, 16, 64, 1.0, 8, &g));
    if (shuffle) /* acquisition order is not angle order */
        for (int64_t i = 0; i + 1 < n_views; i += 2) {
            cbct_view t = g.views[i];
            g.views[i] = g.views[n_views - 1 - i];
            g.views[n_views - 1 - i] = t;
        }
    cbct_fdk *f = NULL;
    CHECK_OK(cbct_fdk_create(&g, NULL, &f));
    if (f) {
        double sum, lo, hi;
        angular_sums(f, &sum, &lo, &hi);
        printf("arc %g deg, %lld views%s: Parker %d, sum of angular weights %.6f, per view "
               "%.6f..%.6f\n", arc_deg, (long long)n_views, shuffle ? " (shuffled)" : "",
               f->parker, sum, lo, hi);
        CHECK(f->parker == expect_parker);
        CHECK_NEAR(sum, expect_sum, 1e-9);
        /* Uniform spacing: every view weighs the same. */
        CHECK_NEAR(lo, hi, 1e-9);
    }
    cbct_fdk_destroy(f);
    cbct_geometry_destroy(&g);
}

int main(void)
{
    check_fft_lengths();
    check_spectrum();
    check_parker();
    const double pi = FDK_TEST_PI, step = 2 * pi / 100;
    check_angular(360, 100, 0, 0, pi);        /* full turn: 2 pi x 1/2 */
    check_angular(-360, 100, 0, 0, pi);       /* clockwise */
    check_angular(360, 100, 1, 0, pi);        /* shuffled */
    check_angular(720, 200, 0, 0, pi);        /* two turns: each ray 4 times */
    /* Short scans (the sources cover less than 2 pi minus one step):
     * Parker, each view stands for its whole step. */
    check_angular(360 * 0.99, 99, 0, 1, 99 * step); /* one view short of a turn */
    check_angular(360 * 0.97, 97, 0, 1, 97 * step);
    check_angular(200, 50, 0, 1, 200 * pi / 180);
    CHECK(cbct_mem_current() == 0);
    return check_summary("test_fdk_weights");
}
