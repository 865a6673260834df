/* DRUNet kernels on OpenBLAS sgemm: the table, the cut into tasks, and the
 * element-wise ops. The convolutions are in conv_gemm_conv3.c (im2col of
 * a block of output rows, then one GEMM) and conv_gemm_updown.c.
 *
 * OpenBLAS runs single-threaded inside our own OpenMP loop over tasks
 * (see conv_gemm.h for why this keeps results independent of the thread
 * count). The Debian OpenBLAS is the pthreads build, whose thread count
 * is process-wide: each op sets it to 1 before its loop. */
#include <cblas.h>
#include <omp.h>
#include <string.h>

#include "nn/conv_gemm.h"

static int64_t ceil_div(int64_t a, int64_t b)
{
    return (a + b - 1) / b;
}

cbct_gemm_plan cbct_gemm_plan_make(int64_t n, int64_t d, int64_t h, int64_t w, int64_t c_out)
{
    cbct_gemm_plan p = {.n = n, .d = d, .h = h, .w = w};
    p.rows = ceil_div(CBCT_GEMM_COLUMNS, w);
    p.rows = p.rows > h ? h : p.rows;
    p.row_blocks = ceil_div(h, p.rows);
    p.columns = p.rows * w;
    const int64_t blocks = n * d * p.row_blocks;
    int64_t groups = 1;
    if (blocks < CBCT_GEMM_MIN_TASKS && c_out >= 2 * CBCT_GEMM_MIN_GROUP) {
        groups = ceil_div(CBCT_GEMM_MIN_TASKS, blocks);
        groups = groups > c_out / CBCT_GEMM_MIN_GROUP ? c_out / CBCT_GEMM_MIN_GROUP : groups;
    }
    p.group_size = ceil_div(c_out, groups);
    p.groups = ceil_div(c_out, p.group_size);
    p.tasks = blocks * p.groups;
    return p;
}

/* Groups vary fastest, so that the tasks of one block run side by side
 * and share its input rows in the L3 cache. */
cbct_gemm_task cbct_gemm_task_get(const cbct_gemm_plan *p, int64_t c_out, int64_t index)
{
    cbct_gemm_task t;
    const int64_t group = index % p->groups;
    const int64_t block = index / p->groups;
    const int64_t row_block = block % p->row_blocks;
    t.z = block / p->row_blocks % p->d;
    t.b = block / (p->row_blocks * p->d);
    t.y0 = row_block * p->rows;
    t.rows = t.y0 + p->rows > p->h ? p->h - t.y0 : p->rows;
    t.columns = t.rows * p->w;
    t.oc0 = group * p->group_size;
    t.oc_count = t.oc0 + p->group_size > c_out ? c_out - t.oc0 : p->group_size;
    return t;
}

int cbct_gemm_slots(const cbct_gemm_plan *plan)
{
    int processors = omp_get_num_procs();
    return plan->tasks < processors ? (int)plan->tasks : processors;
}

int cbct_gemm_threads(const cbct_gemm_plan *plan)
{
    int threads = omp_get_max_threads(), slots = cbct_gemm_slots(plan);
    return threads < slots ? threads : slots;
}

int64_t cbct_gemm_chunk_channels(int64_t c_in, int64_t taps)
{
    int64_t channels = CBCT_GEMM_DEPTH / taps;
    channels = channels < 1 ? 1 : channels;
    return channels > c_in ? c_in : channels;
}

void cbct_gemm_store_tile(const float *tile, const cbct_gemm_task *t, cbct_nn_tensor *out,
                          int accumulate)
{
    for (int64_t oc = 0; oc < t->oc_count; oc++) {
        float *restrict dst =
            cbct_nn_channel(out, t->b, t->oc0 + oc) + (t->z * out->h + t->y0) * out->w;
        const float *restrict src = tile + oc * t->columns;
        if (accumulate) {
            for (int64_t i = 0; i < t->columns; i++)
                dst[i] += src[i];
        } else {
            memcpy(dst, src, (size_t)t->columns * sizeof(float));
        }
    }
}

void cbct_gemm_single_threaded_blas(void)
{
    openblas_set_num_threads(1);
}

/* Memory-bound loops the compiler vectorises (-O3 -march=native); each
 * element is independent, so any split between threads is exact. */
void cbct_gemm_relu(cbct_nn_tensor *x)
{
    const int64_t n = cbct_nn_numel(x);
    float *restrict v = x->data;
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < n; i++)
        v[i] = v[i] > 0.0f ? v[i] : 0.0f;
}

void cbct_gemm_add(cbct_nn_tensor *x, const cbct_nn_tensor *y)
{
    const int64_t n = cbct_nn_numel(x);
    float *restrict a = x->data;
    const float *restrict b = y->data;
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < n; i++)
        a[i] += b[i];
}

static size_t scratch_gemm(cbct_nn_op op, const cbct_nn_tensor *in, int64_t c_out, int k_d)
{
    size_t floats = op == CBCT_NN_OP_CONV3   ? cbct_gemm_conv3_scratch_floats(in, c_out, k_d)
                    : op == CBCT_NN_OP_DOWN2 ? cbct_gemm_down2_scratch_floats(in, c_out, k_d)
                                             : cbct_gemm_up2_scratch_floats(in, c_out, k_d);
    return floats * sizeof(float);
}

const cbct_nn_kernels cbct_nn_kernels_gemm = {
    .name = "im2col+openblas",
    .conv3 = cbct_gemm_conv3,
    .down2 = cbct_gemm_down2,
    .up2 = cbct_gemm_up2,
    .relu = cbct_gemm_relu,
    .add = cbct_gemm_add,
    .scratch_bytes = scratch_gemm,
};
