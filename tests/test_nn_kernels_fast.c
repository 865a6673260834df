/* The fast kernel tables (im2col + OpenBLAS) against the reference kernels
 * on random data: every op, 2D (k_d = 1) and 3D, odd and even sizes, 1 to
 * 1800 channels (several GEMM depth chunks, split output-channel groups),
 * accumulation on and off. Also: the same bits for 1, 2 and 3 threads,
 * no write past scratch_bytes (exact tracked allocations under ASan, and
 * a guard zone), scratch of a few MiB per thread for full-size layers,
 * an output that is overwritten, never read, without accumulation, and
 * Winograd's slice-range calls equal to its whole-tensor call bit for bit. */
#include <math.h>
#include <omp.h>

#include "check.h"
#include "nn/kernels.h"
#include "test_nn_util.h"
#ifdef CBCT_HAVE_DNNL
#include "nn/conv_dnnl.h"
#endif

/* Max |fast - reference| relative to max |reference|: float sums of up to
 * a few thousand terms in a different order. */
#define TOLERANCE 1e-5
#define GUARD_FLOATS 1024 /* canary zone after the scratch (4 KiB) */
#define GUARD_VALUE 12345.0f

typedef struct {
    int64_t n, c_in, c_out, d, h, w; /* input sizes */
    int k_d;                         /* 3 (conv3) or 2 (down/up) in 3D, 1 in 2D */
} shape;

static const char *op_name[] = {"conv3", "down2", "up2"};

static cbct_nn_tensor output_of(cbct_nn_op op, const shape *s)
{
    cbct_nn_tensor out = {s->n, s->c_out, s->d, s->h, s->w, NULL};
    if (op == CBCT_NN_OP_DOWN2)
        out.d = s->d / s->k_d, out.h = s->h / 2, out.w = s->w / 2;
    else if (op == CBCT_NN_OP_UP2)
        out.d = s->d * s->k_d, out.h = s->h * 2, out.w = s->w * 2;
    return out;
}

/* Runs one op; the scratch is an exact tracked allocation, or one with a
 * guard zone behind it that must come back untouched. */
static void run(const cbct_nn_kernels *k, cbct_nn_op op, const cbct_nn_tensor *in,
                const float *weight, int k_d, cbct_nn_tensor *out, int accumulate, int guard)
{
    size_t bytes = k->scratch_bytes(op, in, out->c, k_d);
    size_t floats = bytes / sizeof(float) + (guard ? GUARD_FLOATS : 0);
    float *scratch = floats ? cbct_alloc(floats * sizeof(float), "test scratch") : NULL;
    CHECK(floats == 0 || scratch != NULL);
    for (size_t i = bytes / sizeof(float); i < floats; i++)
        scratch[i] = GUARD_VALUE;
    if (op == CBCT_NN_OP_CONV3)
        k->conv3(in, weight, k_d, out, accumulate, scratch);
    else if (op == CBCT_NN_OP_DOWN2)
        k->down2(in, weight, k_d, out, scratch);
    else
        k->up2(in, weight, k_d, out, scratch);
    int intact = 1;
    for (size_t i = bytes / sizeof(float); i < floats; i++)
        intact &= scratch[i] == GUARD_VALUE;
    CHECK_MSG(intact, "%s %s: wrote past scratch_bytes = %zu", k->name, op_name[op], bytes);
    cbct_free(scratch);
}

static void compare(const cbct_nn_kernels *k, cbct_nn_op op, const shape *s, int accumulate)
{
    cbct_nn_tensor in = {s->n, s->c_in, s->d, s->h, s->w, NULL};
    cbct_nn_tensor want = output_of(op, s), got = want;
    const int64_t taps = op == CBCT_NN_OP_CONV3 ? 9 * s->k_d : 4 * s->k_d;
    const int64_t out_floats = cbct_nn_numel(&want);
    const size_t out_bytes = (size_t)out_floats * sizeof(float);
    in.data = nn_test_random_floats(cbct_nn_numel(&in), 11);
    /* Weights of size 1 / sqrt(fan-in), as in a trained network. */
    float *weight = nn_test_random_floats(s->c_in * s->c_out * taps, 12);
    for (int64_t i = 0; i < s->c_in * s->c_out * taps; i++)
        weight[i] /= (float)sqrt((double)(s->c_in * taps));
    float *start = nn_test_random_floats(out_floats, 13);
    want.data = malloc(out_bytes);
    got.data = malloc(out_bytes);
    float *first = malloc(out_bytes);

    memcpy(want.data, start, out_bytes);
    run(&cbct_nn_kernels_reference, op, &in, weight, s->k_d, &want, accumulate, 0);
    const int threads_before = cbct_threads();
    const size_t scratch_1 = (cbct_set_threads(1), k->scratch_bytes(op, &in, s->c_out, s->k_d));
    for (int threads = 1; threads <= 3; threads++) {
        cbct_set_threads(threads);
        CHECK(k->scratch_bytes(op, &in, s->c_out, s->k_d) == scratch_1);
        if (accumulate)
            memcpy(got.data, start, out_bytes);
        else /* must be overwritten, never read */
            for (int64_t i = 0; i < out_floats; i++)
                got.data[i] = NAN;
        run(k, op, &in, weight, s->k_d, &got, accumulate, threads == 2);
        if (threads == 1)
            memcpy(first, got.data, out_bytes);
        else
            CHECK_MSG(memcmp(first, got.data, out_bytes) == 0,
                      "%s %s: 1 and %d threads give different bits", k->name, op_name[op],
                      threads);
    }
    cbct_set_threads(threads_before);

    double worst = 0.0, largest = 0.0;
    for (int64_t i = 0; i < out_floats; i++) {
        double err = fabs((double)got.data[i] - want.data[i]);
        worst = err > worst || isnan(err) ? err : worst;
        largest = fmax(largest, fabs((double)want.data[i]));
    }
    CHECK_MSG(largest > 0.0 && worst <= TOLERANCE * largest,
              "%s %s n %lld c %lld->%lld %lldx%lldx%lld k_d %d acc %d: error %g of max %g",
              k->name, op_name[op], (long long)s->n, (long long)s->c_in, (long long)s->c_out,
              (long long)s->d, (long long)s->h, (long long)s->w, s->k_d, accumulate, worst,
              largest);
    free(in.data), free(weight), free(start), free(want.data), free(got.data), free(first);
}

/* Scratch of full-size DRUNet layers: a few MiB per thread for im2col
 * (not a copy of the im2col matrix, 27 x the input); for oneDNN the
 * blocked weights and about 32 MiB of blocked slabs. */
static void check_scratch_size(const cbct_nn_kernels *k)
{
    const size_t mib = (size_t)1 << 20;
    size_t limit = (size_t)omp_get_num_procs() * 4 * mib;
#ifdef CBCT_HAVE_DNNL
    if (k != &cbct_nn_kernels_gemm) /* slabs + weights of 512 x 512 x 27 + scratchpad */
        limit = 2 * (size_t)CBCT_DNNL_SLAB_BYTES + 29 * mib + limit;
#endif
    if (k == &cbct_nn_kernels_winograd) /* per thread ~2 MiB tasks; 64^2 x 144 weights */
        limit += (size_t)omp_get_num_procs() * 2 * mib + 4 * mib;
    const cbct_nn_tensor top = {1, 64, 8, 128, 128, NULL}, deep = {1, 512, 1, 16, 16, NULL};
    const cbct_nn_tensor wide = {1, 64, 1, 512, 512, NULL};
    CHECK(k->scratch_bytes(CBCT_NN_OP_CONV3, &top, 64, 3) <= limit);
    CHECK(k->scratch_bytes(CBCT_NN_OP_CONV3, &deep, 512, 3) <= limit);
    CHECK(k->scratch_bytes(CBCT_NN_OP_CONV3, &wide, 64, 1) <= limit);
    CHECK(k->scratch_bytes(CBCT_NN_OP_DOWN2, &top, 128, 2) <= limit);
    CHECK(k->scratch_bytes(CBCT_NN_OP_UP2, &deep, 256, 2) <= limit);
}

/* conv3_slices: output slices computed two at a time from bands of input
 * slices (as the slab-wise ResBlock reads them) into a band of output
 * slices give the bits of the whole-tensor call. */
static void check_slices(const cbct_nn_kernels *k)
{
    const int64_t n = 2, c_in = 16, c_out = 24, d = 7, h = 9, w = 11, plane = h * w;
    cbct_nn_tensor in = {n, c_in, d, h, w, nn_test_random_floats(n * c_in * d * plane, 31)};
    float *weight = nn_test_random_floats(c_out * c_in * 27, 32);
    cbct_nn_tensor whole = {n, c_out, d, h, w, malloc((size_t)(n * c_out * d * plane) * 4)};
    const size_t bytes = k->scratch_bytes(CBCT_NN_OP_CONV3, &in, c_out, 3);
    float *scratch = cbct_alloc(bytes, "test scratch");
    CHECK(k->slices_apply(&in, c_out, 3));
    k->conv3(&in, weight, 3, &whole, 0, scratch);
    float *prepared = malloc(k->prepared_floats(c_in, c_out) * sizeof(float));
    k->prepare_weights(weight, c_in, c_out, prepared);
    /* input band: slices [z0 - 1, z0 + 3); output band: slices [z0, z0 + 2) */
    cbct_nn_tensor band_in = {n, c_in, 4, h, w, malloc((size_t)(n * c_in * 4 * plane) * 4)};
    cbct_nn_tensor band_out = {n, c_out, 2, h, w, malloc((size_t)(n * c_out * 2 * plane) * 4)};
    int same = 1;
    for (int64_t z0 = 0; z0 < d; z0 += 2) {
        const int64_t z1 = z0 + 2 < d ? z0 + 2 : d;
        for (int64_t bc = 0; bc < n * c_in; bc++)
            for (int64_t i = 0; i < 4; i++) {
                const int64_t z = z0 - 1 + i;
                float *dst = band_in.data + (bc * 4 + i) * plane;
                for (int64_t j = 0; j < plane; j++) /* outside: garbage, never read */
                    dst[j] = z >= 0 && z < d ? in.data[(bc * d + z) * plane + j] : NAN;
            }
        k->conv3_slices(&band_in, z0 - 1, d, prepared, &band_out, z0, z0, z1, 0, scratch);
        for (int64_t bc = 0; bc < n * c_out; bc++)
            same &= memcmp(band_out.data + bc * 2 * plane, whole.data + (bc * d + z0) * plane,
                           (size_t)((z1 - z0) * plane) * 4) == 0;
    }
    CHECK_MSG(same, "%s: conv3_slices differs from the whole-tensor conv3", k->name);
    cbct_free(scratch);
    free(in.data), free(weight), free(whole.data), free(band_in.data), free(band_out.data);
    free(prepared);
}

int main(void)
{
#ifdef CBCT_HAVE_DNNL
    const cbct_nn_kernels *tables[] = {&cbct_nn_kernels_gemm, &cbct_nn_kernels_dnnl_all,
                                       &cbct_nn_kernels_dnnl, &cbct_nn_kernels_winograd};
#else
    const cbct_nn_kernels *tables[] = {&cbct_nn_kernels_gemm, &cbct_nn_kernels_winograd};
#endif
    const cbct_nn_kernels *fast = cbct_nn_kernels_get(CBCT_NN_KERNEL_FAST);
    CHECK(fast == tables[sizeof tables / sizeof *tables - 1]);
    CHECK(cbct_nn_kernels_get(CBCT_NN_KERNEL_REFERENCE) == &cbct_nn_kernels_reference);

    const shape conv3[] = {
        {1, 1, 16, 1, 7, 9, 1},     {2, 3, 33, 1, 16, 16, 1}, {1, 33, 3, 1, 5, 300, 1},
        {1, 16, 1, 1, 1, 1, 1},     {1, 200, 16, 1, 5, 6, 1}, /* 2 depth chunks */
        {1, 16, 16, 5, 6, 7, 3},    {2, 33, 1, 4, 9, 8, 3},   {1, 3, 33, 3, 3, 3, 3},
        {1, 80, 16, 2, 4, 5, 3},    /* 2 depth chunks */
        {1, 16, 256, 1, 4, 4, 3},   /* output channels in 2 groups */
        {1, 1, 16, 2, 1, 1, 3},
        /* Winograd: odd sizes (partial tiles), several row blocks per
         * slice and tasks, channels of the shipped net's levels */
        {1, 64, 64, 3, 37, 41, 3},  {2, 16, 32, 4, 30, 200, 3}, {1, 128, 128, 2, 9, 9, 3},
        {1, 300, 2, 1, 3, 3, 3},    /* 600 channel pairs: Winograd */
        {1, 200, 100, 2, 5, 6, 3},  /* 20000 pairs: the direct kernel */
        /* one output channel (the tail): rows of 1, 2 and 37 (vector tail) */
        {2, 16, 1, 1, 7, 1, 1},     {1, 64, 1, 3, 5, 2, 3},     {1, 16, 1, 5, 3, 37, 3},
        {1, 3, 1, 1, 6, 37, 1},
    };
    const shape down2[] = {
        {1, 1, 16, 1, 8, 10, 1}, {2, 3, 33, 1, 7, 9, 1}, {1, 33, 3, 1, 4, 600, 1},
        {1, 16, 16, 4, 6, 8, 2}, {2, 33, 1, 5, 7, 9, 2}, {1, 300, 16, 2, 4, 4, 2},
        {1, 16, 256, 2, 2, 2, 2},
    };
    const shape up2[] = {
        {1, 1, 16, 1, 4, 5, 1},   {2, 3, 33, 1, 7, 9, 1},   {1, 33, 3, 1, 2, 300, 1},
        {1, 16, 16, 2, 3, 4, 2},  {2, 33, 1, 3, 5, 3, 2},   {1, 16, 256, 1, 2, 2, 2},
        {1, 1800, 3, 1, 2, 2, 2}, /* 2 depth chunks */
    };
    const size_t before = cbct_mem_current();
    for (size_t t = 0; t < sizeof tables / sizeof *tables; t++) {
        const cbct_nn_kernels *k = tables[t];
        for (size_t i = 0; i < sizeof conv3 / sizeof *conv3; i++)
            for (int acc = 0; acc < 2; acc++)
                compare(k, CBCT_NN_OP_CONV3, &conv3[i], acc);
        for (size_t i = 0; i < sizeof down2 / sizeof *down2; i++)
            compare(k, CBCT_NN_OP_DOWN2, &down2[i], 0);
        for (size_t i = 0; i < sizeof up2 / sizeof *up2; i++)
            compare(k, CBCT_NN_OP_UP2, &up2[i], 0);
        check_scratch_size(k);
        if (k->conv3_slices)
            check_slices(k);

        /* Element-wise ops: exact, including -0 and values around 0. */
        nn_test_check_add_relu(k, 21, 22, 1);
    }
    CHECK(cbct_mem_current() == before);
    return check_summary("test_nn_kernels_fast");
}
