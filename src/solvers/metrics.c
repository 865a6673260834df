/* Image quality metrics: RMSE, PSNR, maximum difference and 3D SSIM.
 *
 * SSIM follows Wang et al. (2004) in 3D with a uniform 7 x 7 x 7 window, as
 * scikit-image's structural_similarity(..., use_sample_covariance=True):
 * window means, sample variances and covariance (N / (N - 1)), averaged
 * over the windows that lie entirely inside the volume. Window sums are
 * box filters done with running sums along x and y (O(N)); along z the
 * seven 2D sums are added in z order, so every window gets the same bits
 * whichever thread computes it. Threads take contiguous ranges of z; each
 * keeps its last seven 2D sums in a ring, for one band of rows at a time to
 * keep the scratch memory small. */
#include <math.h>
#include <string.h>

#include <omp.h>

#include "cbct/metrics.h"

#define SSIM_WINDOW 7    /* voxels a side (smaller axes: the whole extent) */
#define SSIM_K1 0.01     /* C1 = (K1 L)^2 stabilises the luminance term */
#define SSIM_K2 0.03     /* C2 = (K2 L)^2 stabilises the contrast term */
#define SSIM_BAND_ROWS 32 /* window rows (y) per band: scratch ~ 40 x 32 x nx x 9 bytes */

/* Sums over a box of x (reference), y (test) and their products. */
typedef struct {
    double x, y, xx, yy, xy;
} moments;

typedef struct {
    const float *ref, *test;
    const unsigned char *mask;
    int64_t n[3];   /* nz, ny, nx */
    int64_t win[3]; /* window size per axis */
    int64_t pos[3]; /* window positions per axis: n - win + 1 */
    double c1, c2;
    double inv_count; /* 1 / voxels per window */
    double cov_norm;  /* N / (N - 1): sample (co)variance */
} ssim_setup;

static inline void moments_add(moments *a, const moments *b)
{
    a->x += b->x;
    a->y += b->y;
    a->xx += b->xx;
    a->yy += b->yy;
    a->xy += b->xy;
}

static inline void moments_sub(moments *a, const moments *b)
{
    a->x -= b->x;
    a->y -= b->y;
    a->xx -= b->xx;
    a->yy -= b->yy;
    a->xy -= b->xy;
}

static inline moments moments_of(float ref, float test)
{
    double x = ref, y = test;
    return (moments){x, y, x * x, y * y, x * y};
}

/* Sums over the win[1] x win[2] boxes of slice z whose first row is in
 * [j0, j0 + rows): out[jj * pos[2] + i] is the box at row j0 + jj, column i.
 * `row_sums` is scratch for (rows + win[1] - 1) x pos[2] entries. */
static void box_sums_2d(const ssim_setup *p, int64_t z, int64_t j0, int64_t rows,
                        moments *row_sums, moments *out)
{
    int64_t nx = p->n[2], wx = p->win[2], wy = p->win[1], px = p->pos[2];
    for (int64_t r = 0; r < rows + wy - 1; r++) {
        int64_t offset = (z * p->n[1] + j0 + r) * nx;
        const float *a = p->ref + offset, *b = p->test + offset;
        moments *dst = row_sums + r * px;
        moments acc = {0, 0, 0, 0, 0};
        for (int64_t x = 0; x < wx; x++) {
            moments m = moments_of(a[x], b[x]);
            moments_add(&acc, &m);
        }
        dst[0] = acc;
        for (int64_t i = 1; i < px; i++) {
            moments in = moments_of(a[i + wx - 1], b[i + wx - 1]);
            moments gone = moments_of(a[i - 1], b[i - 1]);
            moments_add(&acc, &in);
            moments_sub(&acc, &gone);
            dst[i] = acc;
        }
    }
    for (int64_t i = 0; i < px; i++) {
        moments acc = row_sums[i];
        for (int64_t k = 1; k < wy; k++)
            moments_add(&acc, &row_sums[k * px + i]);
        out[i] = acc;
    }
    for (int64_t jj = 1; jj < rows; jj++)
        for (int64_t i = 0; i < px; i++) {
            moments acc = out[(jj - 1) * px + i];
            moments_add(&acc, &row_sums[(jj + wy - 1) * px + i]);
            moments_sub(&acc, &row_sums[(jj - 1) * px + i]);
            out[jj * px + i] = acc;
        }
}

static inline double ssim_of_window(const ssim_setup *p, const moments *w)
{
    double mx = w->x * p->inv_count, my = w->y * p->inv_count;
    double vx = p->cov_norm * (w->xx * p->inv_count - mx * mx);
    double vy = p->cov_norm * (w->yy * p->inv_count - my * my);
    double cxy = p->cov_norm * (w->xy * p->inv_count - mx * my);
    return ((2 * mx * my + p->c1) * (2 * cxy + p->c2)) /
           ((mx * mx + my * my + p->c1) * (vx + vy + p->c2));
}

/* Scratch entries (moments) per thread: ring of win[0] band sums, the 3D
 * window sums of one band, and the row sums of one band. */
static size_t ssim_scratch_entries(const ssim_setup *p)
{
    size_t band = (size_t)SSIM_BAND_ROWS * (size_t)p->pos[2];
    return band * (size_t)(p->win[0] + 1) +
           (size_t)(SSIM_BAND_ROWS + p->win[1] - 1) * (size_t)p->pos[2];
}

/* SSIM sums and window counts of slabs (window z positions) [s0, s1). */
static void ssim_slabs(const ssim_setup *p, int64_t s0, int64_t s1, moments *scratch,
                       double *slab_sum, int64_t *slab_count)
{
    int64_t wz = p->win[0], px = p->pos[2];
    size_t band = (size_t)SSIM_BAND_ROWS * (size_t)px;
    moments *ring = scratch, *window = scratch + band * (size_t)wz;
    moments *row_sums = window + band;
    for (int64_t j0 = 0; j0 < p->pos[1]; j0 += SSIM_BAND_ROWS) {
        int64_t rows = p->pos[1] - j0 < SSIM_BAND_ROWS ? p->pos[1] - j0 : SSIM_BAND_ROWS;
        for (int64_t s = s0; s < s1; s++) {
            /* Slot z % wz holds the 2D sums of slice z; the first slab of
             * the range fills the ring, each next one adds one slice. */
            for (int64_t z = s == s0 ? s : s + wz - 1; z < s + wz; z++)
                box_sums_2d(p, z, j0, rows, row_sums, ring + (size_t)(z % wz) * band);
            size_t n = (size_t)rows * (size_t)px;
            memcpy(window, ring + (size_t)(s % wz) * band, n * sizeof *window);
            for (int64_t z = s + 1; z < s + wz; z++) {
                const moments *plane = ring + (size_t)(z % wz) * band;
                for (size_t e = 0; e < n; e++)
                    moments_add(&window[e], &plane[e]);
            }
            int64_t cz = s + wz / 2;
            double sum = 0;
            int64_t count = 0;
            for (int64_t jj = 0; jj < rows; jj++) {
                int64_t cy = j0 + jj + p->win[1] / 2;
                const unsigned char *mask_row =
                    p->mask ? p->mask + (cz * p->n[1] + cy) * p->n[2] + p->win[2] / 2 : NULL;
                for (int64_t i = 0; i < px; i++) {
                    if (mask_row && !mask_row[i])
                        continue;
                    sum += ssim_of_window(p, &window[jj * px + i]);
                    count++;
                }
            }
            slab_sum[s] += sum;
            slab_count[s] += count;
        }
    }
}

/* Mean SSIM over the windows (centred on masked voxels, if a mask). */
static cbct_status ssim_3d(const cbct_array *ref, const cbct_array *test,
                           const unsigned char *mask, double data_range, double *ssim)
{
    ssim_setup p = {ref->data, test->data, mask, {0}, {0}, {0}, 0, 0, 0, 0};
    double count = 1;
    for (int a = 0; a < 3; a++) {
        p.n[a] = ref->shape[a];
        p.win[a] = p.n[a] < SSIM_WINDOW ? p.n[a] : SSIM_WINDOW;
        p.pos[a] = p.n[a] - p.win[a] + 1;
        count *= (double)p.win[a];
    }
    p.c1 = (SSIM_K1 * data_range) * (SSIM_K1 * data_range);
    p.c2 = (SSIM_K2 * data_range) * (SSIM_K2 * data_range);
    p.inv_count = 1.0 / count;
    p.cov_norm = count > 1 ? count / (count - 1) : 1.0;

    int64_t n_slabs = p.pos[0];
    int n_threads = cbct_threads() < n_slabs ? cbct_threads() : (int)n_slabs;
    if (n_threads < 1)
        n_threads = 1;
    size_t per_thread = ssim_scratch_entries(&p);
    /* Allocated here, not in the threads, so that a refusal's message is
     * recorded for the calling thread. */
    moments *scratch = cbct_alloc((size_t)n_threads * per_thread * sizeof(moments),
                                  "ssim window sums");
    double *slab_sum = cbct_calloc((size_t)n_slabs, sizeof(double), "ssim slab sums");
    int64_t *slab_count = cbct_calloc((size_t)n_slabs, sizeof(int64_t), "ssim slab counts");
    cbct_status s = CBCT_OK;
    if (!scratch || !slab_sum || !slab_count) {
        s = CBCT_ERR_MEMORY;
        goto done;
    }
#pragma omp parallel num_threads(n_threads)
    {
        int64_t t = omp_get_thread_num(), team = omp_get_num_threads();
        int64_t s0 = n_slabs * t / team, s1 = n_slabs * (t + 1) / team;
        if (s0 < s1)
            ssim_slabs(&p, s0, s1, scratch + (size_t)t * per_thread, slab_sum, slab_count);
    }
    double total = 0;
    int64_t windows = 0;
    for (int64_t z = 0; z < n_slabs; z++) { /* in slab order: thread-count independent */
        total += slab_sum[z];
        windows += slab_count[z];
    }
    if (windows == 0)
        s = cbct_error(CBCT_ERR_ARG, "the mask selects no SSIM window centre (centres lie at "
                       "least %d voxels inside the volume)", SSIM_WINDOW / 2);
    else
        *ssim = total / (double)windows;
done:
    cbct_free(scratch);
    cbct_free(slab_sum);
    cbct_free(slab_count);
    return s;
}

/* Squared error, count and maximum absolute difference of one z slice. */
typedef struct {
    double squared;
    double max_abs;
    int64_t count;
} slice_error;

static cbct_status error_stats(const cbct_array *ref, const cbct_array *test,
                               const unsigned char *mask, cbct_metrics *out)
{
    int64_t nz = ref->shape[0], slice = ref->shape[1] * ref->shape[2];
    slice_error *per_slice = cbct_calloc((size_t)nz, sizeof *per_slice, "metric slice sums");
    if (!per_slice)
        return CBCT_ERR_MEMORY;
#pragma omp parallel for schedule(static)
    for (int64_t z = 0; z < nz; z++) {
        slice_error e = {0, 0, 0};
        for (int64_t k = z * slice; k < (z + 1) * slice; k++) {
            if (mask && !mask[k])
                continue;
            double d = (double)test->data[k] - (double)ref->data[k];
            e.squared += d * d;
            e.max_abs = fabs(d) > e.max_abs ? fabs(d) : e.max_abs;
            e.count++;
        }
        per_slice[z] = e;
    }
    double squared = 0;
    int64_t count = 0;
    for (int64_t z = 0; z < nz; z++) {
        squared += per_slice[z].squared;
        count += per_slice[z].count;
        if (per_slice[z].max_abs > out->max_abs_diff)
            out->max_abs_diff = per_slice[z].max_abs;
    }
    cbct_free(per_slice);
    if (count == 0)
        return cbct_error(CBCT_ERR_ARG, "the mask selects no voxel");
    out->rmse = sqrt(squared / (double)count);
    return CBCT_OK;
}

static double reference_range(const cbct_array *ref)
{
    int64_t n = cbct_array_numel(ref);
    float lo = ref->data[0], hi = ref->data[0];
    /* min and max do not depend on the order: a reduction is exact here. */
#pragma omp parallel for reduction(min : lo) reduction(max : hi) schedule(static)
    for (int64_t i = 0; i < n; i++) {
        lo = ref->data[i] < lo ? ref->data[i] : lo;
        hi = ref->data[i] > hi ? ref->data[i] : hi;
    }
    return (double)hi - (double)lo;
}

cbct_status cbct_compare(const cbct_array *reference, const cbct_array *test,
                         const unsigned char *mask, double data_range, cbct_metrics *out)
{
    memset(out, 0, sizeof *out);
    if (!reference || !test || !reference->data || !test->data)
        return cbct_error(CBCT_ERR_ARG, "compare: a volume has no data");
    const int64_t *a = reference->shape, *b = test->shape;
    if (a[0] != b[0] || a[1] != b[1] || a[2] != b[2])
        return cbct_error(CBCT_ERR_ARG, "compare: shape mismatch: reference %lld x %lld x %lld, "
                          "test %lld x %lld x %lld", (long long)a[0], (long long)a[1],
                          (long long)a[2], (long long)b[0], (long long)b[1], (long long)b[2]);
    if (isinf(data_range))
        return cbct_error(CBCT_ERR_ARG, "compare: data range %g is not finite", data_range);
    int64_t n = cbct_array_numel(reference);
    cbct_status s = cbct_check_finite(reference->data, n, "compare: reference volume");
    if (s || (s = cbct_check_finite(test->data, n, "compare: test volume")))
        return s;
    if (!(data_range > 0)) {
        data_range = reference_range(reference);
        /* A constant reference has no range; 1 keeps PSNR and SSIM defined. */
        if (data_range == 0)
            data_range = 1;
    }
    out->data_range = data_range;
    if ((s = error_stats(reference, test, mask, out)))
        return s;
    out->psnr_db = out->rmse > 0 ? 20 * log10(data_range / out->rmse) : INFINITY;
    return ssim_3d(reference, test, mask, data_range, &out->ssim);
}
