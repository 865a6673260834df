/* Angular weights of FDK for arbitrary source trajectories: each view gets
 * the arc of source angle (around z) it stands for, and either a redundancy
 * factor (1/2 for a full turn: every ray is measured twice) or, for short
 * scans, Parker's smooth weights that sum to one over each pair of
 * conjugate rays. */
#include <math.h>
#include <stdlib.h>

#include "ct/fdk_internal.h"

#define TWO_PI (2.0 * CBCT_PI)

typedef struct angle_index {
    double angle_rad;
    int64_t view;
} angle_index;

static int by_angle(const void *a, const void *b)
{
    const angle_index *x = a, *y = b;
    if (x->angle_rad != y->angle_rad)
        return x->angle_rad < y->angle_rad ? -1 : 1;
    return x->view < y->view ? -1 : (x->view > y->view);
}

double cbct_fdk_parker_weight(double beta, double gamma, double delta)
{
    /* Parker (1982), with beta in [0, pi + 2 delta] and gamma counted in the
     * same sense as beta: the conjugate of (beta, gamma) is
     * (beta + pi + 2 gamma, -gamma) and the two weights sum to 1. */
    if (beta < 0 || beta > CBCT_PI + 2 * delta)
        return 0.0;
    if (beta < 2 * (delta - gamma)) {
        double s = sin(CBCT_PI / 4 * beta / (delta - gamma));
        return s * s;
    }
    if (beta <= CBCT_PI - 2 * gamma)
        return 1.0;
    double s = sin(CBCT_PI / 4 * (CBCT_PI + 2 * delta - beta) / (delta + gamma));
    return s * s;
}

/* Source angles around z in acquisition order, unwrapped so that steps
 * between consecutive views lie in (-pi, pi]. */
static void unwrapped_angles(const cbct_geometry *g, angle_index *out)
{
    double previous = 0, unwrapped = 0;
    for (int64_t i = 0; i < g->n_views; i++) {
        double a = atan2(g->views[i].src[1], g->views[i].src[0]);
        if (i == 0) {
            unwrapped = a;
        } else {
            double step = a - previous;
            step -= TWO_PI * floor((step + CBCT_PI) / TWO_PI); /* into [-pi, pi) */
            unwrapped += step;
        }
        previous = a;
        out[i].angle_rad = unwrapped;
        out[i].view = i;
    }
}

cbct_status cbct_fdk_angular_weights(cbct_fdk *f)
{
    int64_t n = f->geom.n_views;
    angle_index *sorted = cbct_alloc((size_t)n * sizeof(angle_index), "FDK view angles");
    if (!sorted)
        return CBCT_ERR_MEMORY;
    unwrapped_angles(&f->geom, sorted);
    qsort(sorted, (size_t)n, sizeof(angle_index), by_angle);
    double first = sorted[0].angle_rad, span = sorted[n - 1].angle_rad - first;
    double step = n > 1 ? span / (double)(n - 1) : TWO_PI; /* mean angular step */
    /* A full turn spans 2 pi less one step; half a step of tolerance. */
    int full_turn = fabs(span + step - TWO_PI) <= 0.5 * step;
    int short_scan = span + 1.5 * step < TWO_PI;

    double coverage = 0;
    for (int64_t k = 0; k < n; k++) {
        double here = sorted[k].angle_rad, prev, next;
        /* Neighbours across the wrap for a full turn, mirrored at the ends
         * of an open arc (the end view stands for a whole step). */
        if (k > 0)
            prev = sorted[k - 1].angle_rad;
        else
            prev = full_turn ? sorted[n - 1].angle_rad - TWO_PI : 2 * here - sorted[1].angle_rad;
        if (k < n - 1)
            next = sorted[k + 1].angle_rad;
        else
            next = full_turn ? sorted[0].angle_rad + TWO_PI : 2 * here - sorted[n - 2].angle_rad;
        double interval = 0.5 * (next - prev);
        f->weights[sorted[k].view].angle_rad = here - first;
        f->weights[sorted[k].view].scale = interval;
        coverage += interval;
    }
    cbct_free(sorted);

    cbct_short_scan mode = f->opts.short_scan;
    f->parker = mode == CBCT_SHORT_SCAN_ON || (mode == CBCT_SHORT_SCAN_AUTO && short_scan);
    f->parker_delta_rad = 0.5 * (span - CBCT_PI);
    if (f->parker && span < CBCT_PI) {
        if (mode == CBCT_SHORT_SCAN_ON)
            return cbct_error(CBCT_ERR_GEOMETRY, "FDK short scan: the sources cover %.1f "
                              "degrees; Parker weights need at least 180 degrees plus the fan "
                              "angle", span * 180 / CBCT_PI);
        cbct_log(CBCT_LOG_WARN, "FDK: the sources cover only %.1f degrees (less than 180): "
                 "no Parker weights, expect strong limited-angle artefacts",
                 span * 180 / CBCT_PI);
        f->parker = 0;
    }
    if (!f->parker) {
        /* Each ray is measured coverage / pi times on average (twice for a
         * full turn): divide that redundancy out. */
        for (int64_t i = 0; i < n; i++)
            f->weights[i].scale *= CBCT_PI / coverage;
    }
    return CBCT_OK;
}
