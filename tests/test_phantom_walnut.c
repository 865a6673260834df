/* The procedural walnut: determinism from the seed, value range, an air gap
 * between shell and kernel, the object inside the volume, its size, and
 * the same bytes for any thread count. */
#include "check.h"

#define SIDE 128 /* voxels: the smallest air gap (0.04 R0) is ~2 voxels */

static size_t at(int64_t z, int64_t y, int64_t x) { return ((size_t)z * SIDE + y) * SIDE + x; }

/* Along a line of voxels from the centre outwards, read from outside in:
 * air, the shell (non-zero), then at least one air voxel (the gap), then
 * something non-zero again (kernel or septum). */
static int shell_gap_kernel(const float *line, int n)
{
    int i = n - 1;
    while (i >= 0 && line[i] == 0)
        i--; /* outside */
    int shell_end = i;
    while (i >= 0 && line[i] != 0)
        i--; /* shell */
    if (i == shell_end)
        return 0;
    int gap_start = i;
    while (i >= 0 && line[i] == 0)
        i--; /* gap */
    return i < gap_start && i >= 0;
}

static void test_walnut(void)
{
    const double voxel = 0.2; /* mm */
    cbct_volume_geom vg = {{SIDE, SIDE, SIDE}, {voxel, voxel, voxel}, {1.5, -2, 0.5}};
    size_t n = (size_t)SIDE * SIDE * SIDE;
    float *a = malloc(n * sizeof(float)), *b = malloc(n * sizeof(float));
    float *c = malloc(n * sizeof(float));
    cbct_set_threads(2);
    CHECK_OK(cbct_phantom_walnut(&vg, 42, a));
    CHECK_OK(cbct_phantom_walnut(&vg, 42, b));
    CHECK(memcmp(a, b, n * sizeof(float)) == 0);
    cbct_set_threads(1);
    CHECK_OK(cbct_phantom_walnut(&vg, 42, c));
    cbct_set_threads(2);
    CHECK(memcmp(a, c, n * sizeof(float)) == 0);
    CHECK_OK(cbct_phantom_walnut(&vg, 43, b));
    size_t differ = 0;
    for (size_t i = 0; i < n; i++)
        differ += a[i] != b[i];
    CHECK_MSG(differ > n / 100, "seeds 42 and 43 differ in %zu voxels", differ);

    /* Values: air or wood-like. */
    size_t out_of_range = 0, non_zero = 0;
    float largest = 0;
    for (size_t i = 0; i < n; i++) {
        out_of_range += !(a[i] >= 0 && a[i] <= 0.08f);
        non_zero += a[i] != 0;
        largest = a[i] > largest ? a[i] : largest;
    }
    CHECK(out_of_range == 0);
    CHECK_MSG(largest > 0.045f && largest <= 0.06f, "largest value %g", largest);
    CHECK_MSG(non_zero > n / 20 && non_zero < n / 2, "%zu of %zu voxels non-zero", non_zero, n);

    /* The border slab (2 voxels thick) is air on all six faces; the object
     * spans ~80% of the side along its long axis z. */
    size_t border = 0;
    int64_t z_lo = SIDE, z_hi = -1;
    for (int64_t z = 0; z < SIDE; z++)
        for (int64_t y = 0; y < SIDE; y++)
            for (int64_t x = 0; x < SIDE; x++) {
                float v = a[at(z, y, x)];
                int edge = z < 2 || y < 2 || x < 2 || z >= SIDE - 2 || y >= SIDE - 2 ||
                           x >= SIDE - 2;
                border += edge && v != 0;
                if (v != 0) {
                    z_lo = z < z_lo ? z : z_lo;
                    z_hi = z > z_hi ? z : z_hi;
                }
            }
    CHECK(border == 0);
    double span = (double)(z_hi - z_lo + 1) / SIDE;
    CHECK_MSG(span > 0.74 && span < 0.86, "z span %g of the side", span);
    /* Centred on the volume (its origin), not on the world origin. */
    CHECK_MSG(abs((int)(z_lo + z_hi) - (SIDE - 1)) <= 0.06 * SIDE, "z range %lld..%lld",
              (long long)z_lo, (long long)z_hi);

    /* Air gap: along +-x through the centre, and along +-y and +-z through
     * the middle of one kernel half (x offset 0.3 R0 = 0.12 x the side). */
    const int64_t mid = SIDE / 2, half_x = mid + (int64_t)(0.12 * SIDE);
    float line[SIDE];
    int len;
    len = 0;
    for (int64_t x = mid; x < SIDE; x++)
        line[len++] = a[at(mid, mid, x)];
    CHECK_MSG(shell_gap_kernel(line, len), "no shell / gap / kernel along +x");
    len = 0;
    for (int64_t x = mid - 1; x >= 0; x--)
        line[len++] = a[at(mid, mid, x)];
    CHECK_MSG(shell_gap_kernel(line, len), "no shell / gap / kernel along -x");
    for (int sign = -1; sign <= 1; sign += 2) {
        len = 0;
        for (int64_t k = 0; k < mid; k++)
            line[len++] = a[at(mid, mid + sign * k, half_x)];
        CHECK_MSG(shell_gap_kernel(line, len), "no shell / gap / kernel along %+d y", sign);
        len = 0;
        for (int64_t k = 0; k < mid; k++)
            line[len++] = a[at(mid + sign * k, mid, half_x)];
        CHECK_MSG(shell_gap_kernel(line, len), "no shell / gap / kernel along %+d z", sign);
    }
    free(a);
    free(b);
    free(c);
}

static void test_bad_input(void)
{
    cbct_volume_geom vg = {{4, 4, 4}, {1, 1, 1}, {0, 0, 0}};
    float vol[64];
    CHECK_FAILS(cbct_phantom_walnut(&vg, 1, NULL), CBCT_ERR_ARG, "volume is NULL");
    CHECK_FAILS(cbct_phantom_walnut(NULL, 1, vol), CBCT_ERR_ARG, "geometry is NULL");
    vg.shape[0] = -4;
    CHECK_FAILS(cbct_phantom_walnut(&vg, 1, vol), CBCT_ERR_GEOMETRY, "shape z = -4");
    vg.shape[0] = 4;
    vg.voxel_size[1] = NAN;
    CHECK_FAILS(cbct_phantom_walnut(&vg, 1, vol), CBCT_ERR_GEOMETRY, "voxel size y");
    /* A tiny volume works and stays in range. */
    vg.voxel_size[1] = 1;
    CHECK_OK(cbct_phantom_walnut(&vg, 7, vol));
    int bad = 0;
    for (int i = 0; i < 64; i++)
        bad += !(vol[i] >= 0 && vol[i] <= 0.08f);
    CHECK(bad == 0);
}

int main(void)
{
    test_walnut();
    test_bad_input();
    CHECK(cbct_mem_current() == 0);
    return check_summary("test_phantom_walnut");
}
