/* Metrics: identical volumes, exact RMSE/PSNR of a constant offset, SSIM
 * against a brute-force implementation and against scikit-image, SSIM
 * falling with noise, masks, small volumes, errors, and the same bits for
 * any thread count. */
#include "check.h"

/* Direct 3D SSIM (no running sums): the definition, for comparison. */
static double brute_ssim(const cbct_array *a, const cbct_array *b, const unsigned char *mask,
                         double range)
{
    int64_t n[3], win[3], pos[3];
    double count = 1;
    for (int k = 0; k < 3; k++) {
        n[k] = a->shape[k];
        win[k] = n[k] < 7 ? n[k] : 7;
        pos[k] = n[k] - win[k] + 1;
        count *= (double)win[k];
    }
    double c1 = (0.01 * range) * (0.01 * range), c2 = (0.03 * range) * (0.03 * range);
    double norm = count > 1 ? count / (count - 1) : 1, total = 0;
    int64_t windows = 0;
    for (int64_t s = 0; s < pos[0]; s++)
        for (int64_t j = 0; j < pos[1]; j++)
            for (int64_t i = 0; i < pos[2]; i++) {
                int64_t centre = ((s + win[0] / 2) * n[1] + j + win[1] / 2) * n[2] + i + win[2] / 2;
                if (mask && !mask[centre])
                    continue;
                double sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0;
                for (int64_t z = s; z < s + win[0]; z++)
                    for (int64_t y = j; y < j + win[1]; y++)
                        for (int64_t x = i; x < i + win[2]; x++) {
                            double u = a->data[(z * n[1] + y) * n[2] + x];
                            double v = b->data[(z * n[1] + y) * n[2] + x];
                            sx += u;
                            sy += v;
                            sxx += u * u;
                            syy += v * v;
                            sxy += u * v;
                        }
                double mx = sx / count, my = sy / count;
                double vx = norm * (sxx / count - mx * mx), vy = norm * (syy / count - my * my);
                double cxy = norm * (sxy / count - mx * my);
                total += ((2 * mx * my + c1) * (2 * cxy + c2)) /
                         ((mx * mx + my * my + c1) * (vx + vy + c2));
                windows++;
            }
    return total / (double)windows;
}

static void make_random(cbct_array *a, int64_t nz, int64_t ny, int64_t nx,
                        unsigned long long seed)
{
    CHECK_OK(cbct_array_create(a, nz, ny, nx, "random"));
    for (int64_t i = 0; i < cbct_array_numel(a); i++)
        a->data[i] = check_random(&seed);
}

/* test = ref + sigma * noise */
static void add_noise(const cbct_array *ref, float sigma, cbct_array *test)
{
    CHECK_OK(cbct_array_create(test, ref->shape[0], ref->shape[1], ref->shape[2], "noisy"));
    unsigned long long seed = 99;
    for (int64_t i = 0; i < cbct_array_numel(ref); i++)
        test->data[i] = ref->data[i] + sigma * check_random(&seed);
}

static void test_identical_and_offset(void)
{
    cbct_array ref, test;
    make_random(&ref, 12, 13, 14, 1);
    cbct_metrics m;
    CHECK_OK(cbct_compare(&ref, &ref, NULL, 0, &m));
    CHECK(m.rmse == 0 && isinf(m.psnr_db) && m.psnr_db > 0 && m.ssim == 1.0 &&
          m.max_abs_diff == 0);

    /* Multiples of 1/1024 in [-1, 1]: adding 0.25 is exact in float. */
    for (int64_t i = 0; i < cbct_array_numel(&ref); i++)
        ref.data[i] = floorf(ref.data[i] * 1024) / 1024;
    ref.data[0] = -1;
    ref.data[1] = 1;
    CHECK_OK(cbct_array_create(&test, 12, 13, 14, "test"));
    for (int64_t i = 0; i < cbct_array_numel(&ref); i++)
        test.data[i] = ref.data[i] + 0.25f;
    CHECK_OK(cbct_compare(&ref, &test, NULL, 0, &m));
    CHECK(m.rmse == 0.25 && m.max_abs_diff == 0.25 && m.data_range == 2.0);
    CHECK_NEAR(m.psnr_db, 20 * log10(2.0 / 0.25), 1e-12);
    CHECK_OK(cbct_compare(&ref, &test, NULL, 4.0, &m));
    CHECK(m.data_range == 4.0);
    CHECK_NEAR(m.psnr_db, 20 * log10(16.0), 1e-12);
    CHECK(m.ssim < 1);
    CHECK_NEAR(m.ssim, brute_ssim(&ref, &test, NULL, 4.0), 1e-12);
    cbct_array_destroy(&ref);
    cbct_array_destroy(&test);
}

/* The same volumes given to scikit-image 0.26 as float64 arrays (float32
 * arrays make it compute in float32, 1e-8 away):
 * structural_similarity(ref, test, win_size=7, data_range=1.0) and
 * peak_signal_noise_ratio(ref, test, data_range=1.0). */
static void test_against_scikit_image(void)
{
    cbct_array ref, test;
    CHECK_OK(cbct_array_create(&ref, 12, 13, 14, "ref"));
    CHECK_OK(cbct_array_create(&test, 12, 13, 14, "test"));
    for (int z = 0; z < 12; z++)
        for (int y = 0; y < 13; y++)
            for (int x = 0; x < 14; x++) {
                int64_t i = (z * 13 + y) * 14 + x;
                ref.data[i] = (float)((x * 7 + y * 13 + z * 29) % 17) / 16.0f;
                float m = (float)((x * 5 + y * 3 + z * 11) % 13);
                test.data[i] = (m / 12.0f) * 0.5f + ref.data[i] * 0.5f;
            }
    cbct_metrics m;
    CHECK_OK(cbct_compare(&ref, &test, NULL, 0, &m));
    CHECK(m.data_range == 1.0);
    CHECK_NEAR(m.ssim, 0.66492384545027, 1e-12);
    CHECK_NEAR(m.psnr_db, 13.207929628682995, 1e-12);
    CHECK_OK(cbct_compare(&ref, &test, NULL, 2.0, &m));
    CHECK_NEAR(m.ssim, 0.6711419350722414, 1e-12);
    cbct_array_destroy(&ref);
    cbct_array_destroy(&test);
}

static void test_noise_and_brute_force(void)
{
    cbct_array ref, noisy;
    make_random(&ref, 10, 45, 17, 5); /* 45 rows: more than one band of 32 */
    /* Smooth the reference a little so that SSIM has structure to lose. */
    for (int64_t i = 1; i < cbct_array_numel(&ref); i++)
        ref.data[i] = 0.8f * ref.data[i - 1] + 0.2f * ref.data[i];
    double previous = 1.0;
    const float sigmas[4] = {0.01f, 0.05f, 0.2f, 1.0f};
    for (int k = 0; k < 4; k++) {
        add_noise(&ref, sigmas[k], &noisy);
        cbct_metrics m;
        CHECK_OK(cbct_compare(&ref, &noisy, NULL, 0, &m));
        CHECK_MSG(m.ssim < previous, "sigma %g: ssim %g, not below %g", (double)sigmas[k],
                  m.ssim, previous);
        CHECK_NEAR(m.ssim, brute_ssim(&ref, &noisy, NULL, m.data_range), 1e-11);
        previous = m.ssim;
        cbct_array_destroy(&noisy);
    }
    CHECK(previous < 0.5);
    cbct_array_destroy(&ref);
}

static void test_mask(void)
{
    cbct_array ref, test;
    make_random(&ref, 9, 10, 11, 11);
    add_noise(&ref, 0.1f, &test);
    /* Exact copy where x >= 5, so masked RMSE is 0. */
    unsigned char *mask = calloc(9 * 10 * 11, 1);
    for (int64_t i = 0; i < 9 * 10 * 11; i++) {
        mask[i] = i % 11 >= 5;
        if (mask[i])
            test.data[i] = ref.data[i];
    }
    cbct_metrics all, masked;
    CHECK_OK(cbct_compare(&ref, &test, NULL, 0, &all));
    CHECK_OK(cbct_compare(&ref, &test, mask, 0, &masked));
    CHECK(all.rmse > 0.01 && masked.rmse == 0 && isinf(masked.psnr_db));
    CHECK(masked.max_abs_diff == 0 && all.max_abs_diff > 0);
    CHECK(masked.data_range == all.data_range);
    CHECK(masked.ssim > all.ssim);
    CHECK_NEAR(masked.ssim, brute_ssim(&ref, &test, mask, all.data_range), 1e-12);
    /* A mask only near the border selects no SSIM window: an error. */
    memset(mask, 0, 9 * 10 * 11);
    mask[0] = 1;
    CHECK_FAILS(cbct_compare(&ref, &test, mask, 0, &masked), CBCT_ERR_ARG, "no SSIM window");
    memset(mask, 0, 9 * 10 * 11);
    CHECK_FAILS(cbct_compare(&ref, &test, mask, 0, &masked), CBCT_ERR_ARG, "no voxel");
    free(mask);
    cbct_array_destroy(&ref);
    cbct_array_destroy(&test);
}

static void test_small_and_errors(void)
{
    /* Axes shorter than 7 voxels: the window spans the whole axis. */
    cbct_array ref, test, other;
    make_random(&ref, 3, 1, 20, 21);
    add_noise(&ref, 0.3f, &test);
    cbct_metrics m;
    CHECK_OK(cbct_compare(&ref, &test, NULL, 0, &m));
    CHECK(m.ssim > -1 && m.ssim < 1);
    CHECK_NEAR(m.ssim, brute_ssim(&ref, &test, NULL, m.data_range), 1e-12);
    /* A constant reference: range 1. */
    for (int64_t i = 0; i < 60; i++)
        ref.data[i] = 5;
    CHECK_OK(cbct_compare(&ref, &ref, NULL, 0, &m));
    CHECK(m.data_range == 1 && m.ssim == 1 && m.rmse == 0);

    CHECK_OK(cbct_array_create(&other, 3, 1, 21, "other"));
    CHECK_FAILS(cbct_compare(&ref, &other, NULL, 0, &m), CBCT_ERR_ARG,
                "reference 3 x 1 x 20, test 3 x 1 x 21");
    test.data[17] = NAN;
    CHECK_FAILS(cbct_compare(&ref, &test, NULL, 0, &m), CBCT_ERR_NUMERIC, "test volume");
    CHECK_FAILS(cbct_compare(&ref, &ref, NULL, INFINITY, &m), CBCT_ERR_ARG, "data range");
    cbct_array_destroy(&ref);
    cbct_array_destroy(&test);
    cbct_array_destroy(&other);
}

static void test_thread_counts(void)
{
    cbct_array ref, test;
    make_random(&ref, 23, 40, 19, 31);
    add_noise(&ref, 0.2f, &test);
    cbct_metrics first;
    cbct_set_threads(1);
    CHECK_OK(cbct_compare(&ref, &test, NULL, 0, &first));
    const int counts[3] = {2, 3, 7};
    for (int k = 0; k < 3; k++) {
        cbct_metrics m;
        cbct_set_threads(counts[k]);
        CHECK_OK(cbct_compare(&ref, &test, NULL, 0, &m));
        CHECK_MSG(memcmp(&m, &first, sizeof m) == 0, "%d threads: ssim %.17g vs %.17g, rmse "
                  "%.17g vs %.17g", counts[k], m.ssim, first.ssim, m.rmse, first.rmse);
    }
    cbct_set_threads(2);
    cbct_array_destroy(&ref);
    cbct_array_destroy(&test);
}

int main(void)
{
    test_identical_and_offset();
    test_against_scikit_image();
    test_noise_and_brute_force();
    test_mask();
    test_small_and_errors();
    test_thread_counts();
    CHECK(cbct_mem_current() == 0);
    return check_summary("test_metrics");
}
