/* Every kernel table (reference and fast) against the textbook formulas
 * of PyTorch's Conv, strided Conv and ConvTranspose, summed here in double
 * with no cleverness: 2D and 3D, odd sizes, widths of 1, accumulation into
 * the output, and the same bits for any thread count. */
#include "check.h"
#include "cbct/denoiser.h"
#include "nn/kernels.h"
#include "test_nn_util.h"

#define TOLERANCE 1e-5 /* float sums of at most a few hundred terms */

typedef struct {
    int64_t n, c_in, c_out, d, h, w; /* input sizes */
    int k_d;                         /* 3 (conv3) or 2 (down/up) in 3D, 1 in 2D */
} shape;

static double at(const cbct_nn_tensor *t, int64_t b, int64_t c, int64_t z, int64_t y, int64_t x)
{
    if (z < 0 || z >= t->d || y < 0 || y >= t->h || x < 0 || x >= t->w)
        return 0.0; /* zero padding */
    return t->data[(((b * t->c + c) * t->d + z) * t->h + y) * t->w + x];
}

/* out[b, oc, z, y, x] by the definition of each layer. */
static double expected(cbct_nn_op op, const cbct_nn_tensor *in, const float *wt, int k_d,
                       int64_t c_out, int64_t b, int64_t oc, int64_t z, int64_t y, int64_t x)
{
    double sum = 0.0;
    for (int64_t ic = 0; ic < in->c; ic++) {
        for (int a = 0; a < k_d; a++) {
            int kh = op == CBCT_NN_OP_CONV3 ? 3 : 2;
            for (int by = 0; by < kh; by++) {
                for (int bx = 0; bx < kh; bx++) {
                    if (op == CBCT_NN_OP_CONV3) { /* (out, in, k_d, 3, 3), padding (k_d/2, 1, 1) */
                        double w = wt[(((oc * in->c + ic) * k_d + a) * 3 + by) * 3 + bx];
                        sum += w * at(in, b, ic, z + a - k_d / 2, y + by - 1, x + bx - 1);
                    } else if (op == CBCT_NN_OP_DOWN2) { /* (out, in, k_d, 2, 2), stride */
                        double w = wt[(((oc * in->c + ic) * k_d + a) * 2 + by) * 2 + bx];
                        sum += w * at(in, b, ic, z * k_d + a, 2 * y + by, 2 * x + bx);
                    } else if (z % k_d == a && y % 2 == by && x % 2 == bx) { /* (in, out, ...) */
                        double w = wt[(((ic * c_out + oc) * k_d + a) * 2 + by) * 2 + bx];
                        sum += w * at(in, b, ic, z / k_d, y / 2, x / 2);
                    }
                }
            }
        }
    }
    return sum;
}

static void run_op(const cbct_nn_kernels *k, cbct_nn_op op, const shape *s, int accumulate)
{
    cbct_nn_tensor in = {s->n, s->c_in, s->d, s->h, s->w, NULL};
    int64_t d_out = s->d, h_out = s->h, w_out = s->w;
    if (op == CBCT_NN_OP_DOWN2) {
        d_out = s->d / s->k_d, h_out = s->h / 2, w_out = s->w / 2;
    } else if (op == CBCT_NN_OP_UP2) {
        d_out = s->d * s->k_d, h_out = s->h * 2, w_out = s->w * 2;
    }
    cbct_nn_tensor out = {s->n, s->c_out, d_out, h_out, w_out, NULL};
    int taps = op == CBCT_NN_OP_CONV3 ? s->k_d * 9 : s->k_d * 4;
    in.data = nn_test_random_floats(cbct_nn_numel(&in), 1);
    float *weight = nn_test_random_floats(s->c_in * s->c_out * taps, 2);
    float *start = nn_test_random_floats(cbct_nn_numel(&out), 3); /* what accumulate adds to */
    out.data = malloc((size_t)cbct_nn_numel(&out) * sizeof(float));
    float *again = malloc((size_t)cbct_nn_numel(&out) * sizeof(float));
    for (int pass = 0; pass < 2; pass++) { /* 1 thread, then 3 threads */
        memcpy(out.data, start, (size_t)cbct_nn_numel(&out) * sizeof(float));
        cbct_set_threads(pass == 0 ? 1 : 3);
        /* Scratch may grow with the thread count: asked for after setting it. */
        size_t scratch_bytes = k->scratch_bytes(op, &in, s->c_out, s->k_d);
        float *scratch = scratch_bytes ? malloc(scratch_bytes) : NULL;
        if (op == CBCT_NN_OP_CONV3)
            k->conv3(&in, weight, s->k_d, &out, accumulate, scratch);
        else if (op == CBCT_NN_OP_DOWN2)
            k->down2(&in, weight, s->k_d, &out, scratch);
        else
            k->up2(&in, weight, s->k_d, &out, scratch);
        free(scratch);
        if (pass == 0)
            memcpy(again, out.data, (size_t)cbct_nn_numel(&out) * sizeof(float));
    }
    cbct_set_threads(2);
    CHECK_MSG(memcmp(again, out.data, (size_t)cbct_nn_numel(&out) * sizeof(float)) == 0,
              "%s op %d: 1 and 3 threads differ", k->name, op);
    double worst = 0.0;
    for (int64_t b = 0; b < out.n; b++)
        for (int64_t oc = 0; oc < out.c; oc++)
            for (int64_t z = 0; z < out.d; z++)
                for (int64_t y = 0; y < out.h; y++)
                    for (int64_t x = 0; x < out.w; x++) {
                        int64_t i = (((b * out.c + oc) * out.d + z) * out.h + y) * out.w + x;
                        double want = expected(op, &in, weight, s->k_d, s->c_out, b, oc, z, y, x);
                        if (accumulate && op == CBCT_NN_OP_CONV3)
                            want += start[i];
                        double err = fabs(out.data[i] - want);
                        worst = err > worst ? err : worst;
                    }
    CHECK_MSG(worst <= TOLERANCE, "%s op %d (%lldx%lldx%lld, k_d %d, accumulate %d): error %g",
              k->name, op, (long long)s->d, (long long)s->h, (long long)s->w, s->k_d,
              accumulate, worst);
    free(in.data), free(weight), free(start), free(out.data), free(again);
}

int main(void)
{
    const cbct_nn_kernels *tables[] = {cbct_nn_kernels_get(CBCT_NN_KERNEL_REFERENCE),
                                       cbct_nn_kernels_get(CBCT_NN_KERNEL_FAST)};
    CHECK(tables[0] == &cbct_nn_kernels_reference);
    const shape conv3d = {2, 3, 5, 5, 6, 7, 3}, conv2d = {2, 4, 3, 1, 9, 11, 1};
    const shape thin = {1, 2, 3, 3, 2, 1, 3}, line = {1, 2, 2, 1, 1, 5, 1};
    const shape down3d = {2, 3, 4, 4, 6, 8, 2}, down2d = {1, 5, 2, 1, 10, 6, 1};
    const shape up3d = {2, 4, 3, 2, 3, 5, 2}, up2d = {1, 3, 2, 1, 3, 4, 1};
    for (int t = 0; t < 2; t++) {
        for (int acc = 0; acc < 2; acc++) {
            run_op(tables[t], CBCT_NN_OP_CONV3, &conv3d, acc);
            run_op(tables[t], CBCT_NN_OP_CONV3, &conv2d, acc);
            run_op(tables[t], CBCT_NN_OP_CONV3, &thin, acc);
            run_op(tables[t], CBCT_NN_OP_CONV3, &line, acc);
        }
        run_op(tables[t], CBCT_NN_OP_DOWN2, &down3d, 0);
        run_op(tables[t], CBCT_NN_OP_DOWN2, &down2d, 0);
        run_op(tables[t], CBCT_NN_OP_UP2, &up3d, 0);
        run_op(tables[t], CBCT_NN_OP_UP2, &up2d, 0);
        nn_test_check_add_relu(tables[t], 4, 5, 0); /* element-wise ops, exact */
    }
    return check_summary("test_nn_kernels");
}
