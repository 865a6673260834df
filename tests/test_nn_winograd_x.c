/* The x-direction Winograd row transforms (src/nn/winograd_x.h): the
 * portable and (where the build has it) AVX-512 versions against a plain
 * per-tile computation of the same formulas, bit for bit, on rows of 1 to
 * 150 floats (every tail modulo 4 and 16 tiles, rows shorter than a tile),
 * with and without accumulation; nothing is written outside the outputs
 * (guards around every buffer). */
#include "check.h"
#include "nn/winograd_x.h"

enum { MAX_W = 150, GUARD = 32 };
static const float GUARD_VALUE = -777.0f;

/* x of a row with zeros outside [0, w). */
static float at(const float *row, int64_t w, int64_t x)
{
    return x < 0 || x >= w ? 0.0f : row[x];
}

/* B^T of tile t, the operations in the order of winograd_input_1d_yx. */
static void input_tile(const float *row, int64_t w, int64_t t, float o[6])
{
    float d[6];
    for (int k = 0; k < 6; k++)
        d[k] = at(row, w, 4 * t - 1 + k);
    const float a = d[4] - 4.0f * d[2], b = d[3] - 4.0f * d[1];
    const float c = d[4] - d[2], e = 2.0f * (d[3] - d[1]);
    o[0] = 4.0f * d[0] - 5.0f * d[2] + d[4];
    o[1] = a + b;
    o[2] = a - b;
    o[3] = c + e;
    o[4] = c - e;
    o[5] = 4.0f * d[1] - 5.0f * d[3] + d[5];
}

/* A^T of tile t of m (6 rows of tw), as winograd_output_1d_yx. */
static void output_tile(const float *m, int64_t tw, int64_t t, float y[4])
{
    const float *v[6];
    for (int k = 0; k < 6; k++)
        v[k] = m + k * tw + t;
    const float sum12 = *v[1] + *v[2], dif12 = *v[1] - *v[2];
    const float sum34 = *v[3] + *v[4], dif34 = *v[3] - *v[4];
    y[0] = *v[0] + sum12 + sum34;
    y[1] = dif12 + 2.0f * dif34;
    y[2] = sum12 + 4.0f * sum34;
    y[3] = dif12 + 8.0f * dif34 + *v[5];
}

static int guards_intact(const float *buf, int64_t n)
{
    for (int64_t i = 0; i < GUARD; i++)
        if (buf[i] != GUARD_VALUE || buf[GUARD + n + i] != GUARD_VALUE)
            return 0;
    return 1;
}

static float *guarded(int64_t n)
{
    float *buf = malloc((size_t)(n + 2 * GUARD) * sizeof(float));
    CHECK(buf != NULL);
    for (int64_t i = 0; i < n + 2 * GUARD; i++)
        buf[i] = GUARD_VALUE;
    return buf;
}

typedef enum { PORTABLE, AVX512 } version;

static void check_input(int64_t w, version which, unsigned long long *seed)
{
    const int64_t tw = (w + 3) / 4;
    float *row = guarded(w), *o = guarded(6 * tw), *work = malloc(
                                                   (size_t)winograd_x_work_floats(tw) * 4);
    for (int64_t x = 0; x < w; x++)
        row[GUARD + x] = check_random(seed);
    if (which == PORTABLE)
        winograd_input_x_portable(row + GUARD, w, tw, o + GUARD, tw, work);
#ifdef __AVX512F__
    else
        winograd_input_x_avx512(row + GUARD, w, tw, o + GUARD, tw);
#endif
    int same = 1;
    for (int64_t t = 0; t < tw; t++) {
        float want[6];
        input_tile(row + GUARD, w, t, want);
        for (int k = 0; k < 6; k++)
            same &= memcmp(&want[k], &o[GUARD + k * tw + t], sizeof(float)) == 0;
    }
    CHECK_MSG(same, "input x transform (%s), w %lld: differs from the per-tile formula",
              which == PORTABLE ? "portable" : "AVX-512", (long long)w);
    CHECK_MSG(guards_intact(o, 6 * tw) && guards_intact(row, w),
              "input x transform (%s), w %lld: wrote outside its output",
              which == PORTABLE ? "portable" : "AVX-512", (long long)w);
    free(row), free(o), free(work);
}

static void check_output(int64_t w, int accumulate, version which, unsigned long long *seed)
{
    const int64_t tw = (w + 3) / 4;
    float *m = guarded(6 * tw), *dst = guarded(w), *start = malloc((size_t)w * sizeof(float));
    float *work = malloc((size_t)winograd_x_work_floats(tw) * sizeof(float));
    for (int64_t i = 0; i < 6 * tw; i++)
        m[GUARD + i] = check_random(seed);
    for (int64_t x = 0; x < w; x++)
        start[x] = dst[GUARD + x] = check_random(seed);
    if (which == PORTABLE)
        winograd_output_x_portable(m + GUARD, tw, dst + GUARD, w, accumulate, work);
#ifdef __AVX512F__
    else
        winograd_output_x_avx512(m + GUARD, tw, dst + GUARD, w, accumulate);
#endif
    int same = 1;
    for (int64_t x = 0; x < w; x++) {
        float y[4];
        output_tile(m + GUARD, tw, x / 4, y);
        const float want = accumulate ? start[x] + y[x % 4] : y[x % 4];
        same &= memcmp(&want, &dst[GUARD + x], sizeof(float)) == 0;
    }
    CHECK_MSG(same, "output x transform (%s), w %lld, accumulate %d: differs from the formula",
              which == PORTABLE ? "portable" : "AVX-512", (long long)w, accumulate);
    CHECK_MSG(guards_intact(dst, w) && guards_intact(m, 6 * tw),
              "output x transform (%s), w %lld: wrote outside its row",
              which == PORTABLE ? "portable" : "AVX-512", (long long)w);
    free(m), free(dst), free(start), free(work);
}

int main(void)
{
    unsigned long long seed = 0x3a7e11ULL;
    int versions = 1;
#ifdef __AVX512F__
    versions = 2;
#endif
    for (int v = 0; v < versions; v++)
        for (int64_t w = 1; w <= MAX_W; w++) {
            check_input(w, (version)v, &seed);
            check_output(w, 0, (version)v, &seed);
            check_output(w, 1, (version)v, &seed);
        }
    printf("checked the portable%s x transforms on rows of 1 to %d floats\n",
           versions == 2 ? " and AVX-512" : "", MAX_W);
    return check_summary("test_nn_winograd_x");
}
