/* Internal to the im2col + OpenBLAS kernels (src/nn/conv_gemm*.c).
 *
 * Every op is cut into the same kind of task: one sample, one slice z of
 * a grid (the output for conv3 and down2, the input for up2), a block of
 * consecutive grid rows (the GEMM's columns, `columns` positions at most)
 * and a group of output channels (the GEMM's rows). The cut depends on
 * the shapes only, never on the number of threads, and every task makes
 * the same single-threaded OpenBLAS calls whichever thread runs it: each
 * output value is summed in one fixed order, so results are bit-identical
 * for any thread count. */
#ifndef CBCT_NN_CONV_GEMM_H
#define CBCT_NN_CONV_GEMM_H

#include "nn/kernels.h"

/* Target GEMM width (output positions per task). Measured with OpenBLAS
 * 0.3.21 on one Zen 4 core: M = 64, K = 1728 runs at 91-93 GFLOP/s for
 * N = 128..256 and drops to 77 GFLOP/s at N = 1024; the im2col block
 * (K x N floats, 1.7 MiB) then still fits the 2 MiB L2. */
#define CBCT_GEMM_COLUMNS 256
/* Target GEMM depth per call (input channels x taps): one 3x3x3 layer of
 * 64 channels. Deeper layers are summed over several calls (beta = 1) so
 * that the im2col block stays this size whatever the channel count. */
#define CBCT_GEMM_DEPTH 1728
/* Fewer tasks than this leave cores idle on the deepest levels (one
 * 16 x 16 slice of a batch of 1), so output channels are then split... */
#define CBCT_GEMM_MIN_TASKS 16
/* ...into groups of at least this many, which keeps the GEMM tall enough
 * to amortise the packing of its im2col block. */
#define CBCT_GEMM_MIN_GROUP 128

typedef struct {
    int64_t n, d, h, w;     /* the grid the tasks cut */
    int64_t rows;           /* grid rows per block (the last may be shorter) */
    int64_t row_blocks;     /* blocks per slice */
    int64_t columns;        /* positions per block at most: rows * w */
    int64_t group_size;     /* output channels per group (the last may be smaller) */
    int64_t groups;         /* groups of output channels */
    int64_t tasks;          /* n * d * row_blocks * groups */
} cbct_gemm_plan;

typedef struct {
    int64_t b, z, y0, rows; /* sample, slice, first row, rows */
    int64_t oc0, oc_count;  /* first output channel, how many */
    int64_t columns;        /* rows * w */
} cbct_gemm_task;

cbct_gemm_plan cbct_gemm_plan_make(int64_t n, int64_t d, int64_t h, int64_t w, int64_t c_out);
cbct_gemm_task cbct_gemm_task_get(const cbct_gemm_plan *plan, int64_t c_out, int64_t index);

/* Scratch slots, one per thread that may run a task: one per processor,
 * at most one per task. Not the current OpenMP thread count, so that a
 * caller may size the scratch once and change the thread count later
 * (cbct_set_threads) without the kernel writing past it. */
int cbct_gemm_slots(const cbct_gemm_plan *plan);
/* Threads that run the tasks: as many as OpenMP would start, at most one
 * per slot. */
int cbct_gemm_threads(const cbct_gemm_plan *plan);
/* Input channels per GEMM call for a kernel of `taps` taps. */
int64_t cbct_gemm_chunk_channels(int64_t c_in, int64_t taps);

/* Writes (or adds, when `accumulate`) a task's tile (oc_count x columns)
 * to `out`, whose grid the task cut: its rows are contiguous there. */
void cbct_gemm_store_tile(const float *tile, const cbct_gemm_task *t, cbct_nn_tensor *out,
                          int accumulate);

/* conv3 and down2 are one driver with their own im2col: it fills `col`
 * with the receptive fields of task t's positions for input channels
 * [ic0, ic0 + channels) (channels x taps rows of t->columns floats);
 * w_out is the output's width (unused by conv3). */
typedef void (*cbct_gemm_im2col_fn)(const cbct_nn_tensor *in, const cbct_gemm_task *t, int k_d,
                                    int64_t w_out, int64_t ic0, int64_t channels, float *col);
/* Scratch floats the driver needs for a plan: per slot, the im2col block
 * of one chunk of channels x taps, then the output tile. */
size_t cbct_gemm_im2col_scratch_floats(const cbct_gemm_plan *plan, int64_t c_in, int64_t taps);
/* Runs the tasks of `plan` (cut on out's grid): per task and chunk of input
 * channels, im2col, then tile (+)= weight * col with PyTorch's
 * (c_out, c_in, taps) weights as the GEMM's A; then the tile is written
 * (added, when `accumulate`) to out. */
void cbct_gemm_im2col_run(const cbct_gemm_plan *plan, const cbct_nn_tensor *in,
                          const float *weight, int k_d, int64_t taps, cbct_gemm_im2col_fn im2col,
                          cbct_nn_tensor *out, int accumulate, float *scratch);

/* OpenBLAS must not start threads of its own inside our parallel loops. */
void cbct_gemm_single_threaded_blas(void);

/* x = max(x, 0) and x += y, element by element (any split is exact). */

void cbct_gemm_conv3(const cbct_nn_tensor *in, const float *weight, int k_d,
                     cbct_nn_tensor *out, int accumulate, float *scratch);
size_t cbct_gemm_conv3_scratch_floats(const cbct_nn_tensor *in, int64_t c_out, int k_d);
void cbct_gemm_down2(const cbct_nn_tensor *in, const float *weight, int k_d,
                     cbct_nn_tensor *out, float *scratch);
size_t cbct_gemm_down2_scratch_floats(const cbct_nn_tensor *in, int64_t c_out, int k_d);
void cbct_gemm_up2(const cbct_nn_tensor *in, const float *weight, int k_d,
                   cbct_nn_tensor *out, float *scratch);
size_t cbct_gemm_up2_scratch_floats(const cbct_nn_tensor *in, int64_t c_out, int k_d);

#endif
