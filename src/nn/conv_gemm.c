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

/* One chunk of input channels [ic0, ic0 + channels) of a task: tile
 * (oc_count x columns) = weight rows oc0.. times col (channels taps x
 * columns), added to the tile for every chunk after the first. */
static void weight_times_col(const cbct_gemm_task *t, const float *weight, int64_t c_in,
                             int64_t taps, int64_t ic0, int64_t channels, const float *col,
                             float *tile)
{
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)t->oc_count, (int)t->columns,
                (int)(channels * taps), 1.0f, weight + (t->oc0 * c_in + ic0) * taps,
                (int)(c_in * taps), col, (int)t->columns, ic0 == 0 ? 0.0f : 1.0f, tile,
                (int)t->columns);
}

size_t cbct_gemm_im2col_scratch_floats(const cbct_gemm_plan *plan, int64_t c_in, int64_t taps)
{
    const int64_t chunk_rows = cbct_gemm_chunk_channels(c_in, taps) * taps;
    return (size_t)cbct_gemm_slots(plan) *
           (size_t)((chunk_rows + plan->group_size) * plan->columns);
}

void cbct_gemm_im2col_run(const cbct_gemm_plan *plan, const cbct_nn_tensor *in,
                          const float *weight, int k_d, int64_t taps, cbct_gemm_im2col_fn im2col,
                          cbct_nn_tensor *out, int accumulate, float *scratch)
{
    const int64_t c_in = in->c, c_out = out->c;
    const int64_t chunk = cbct_gemm_chunk_channels(c_in, taps);
    const int64_t slot = (chunk * taps + plan->group_size) * plan->columns;
    cbct_gemm_single_threaded_blas();
#pragma omp parallel num_threads(cbct_gemm_threads(plan))
    {
        float *col = scratch + slot * omp_get_thread_num();
        float *tile = col + chunk * taps * plan->columns;
#pragma omp for schedule(dynamic)
        for (int64_t i = 0; i < plan->tasks; i++) {
            const cbct_gemm_task t = cbct_gemm_task_get(plan, c_out, i);
            for (int64_t ic0 = 0; ic0 < c_in; ic0 += chunk) {
                const int64_t channels = c_in - ic0 < chunk ? c_in - ic0 : chunk;
                im2col(in, &t, k_d, out->w, ic0, channels, col);
                weight_times_col(&t, weight, c_in, taps, ic0, channels, col, tile);
            }
            cbct_gemm_store_tile(tile, &t, out, accumulate);
        }
    }
}

void cbct_gemm_single_threaded_blas(void)
{
    openblas_set_num_threads(1);
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
    .relu = cbct_nn_relu,
    .add = cbct_nn_add,
    .scratch_bytes = scratch_gemm,
};
