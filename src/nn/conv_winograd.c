/* 3x3x3 convolution (stride 1, zero padding 1) by Winograd's minimal
 * filtering F(2x2x2, 3x3x3) (Lavin and Gray 2016, in 3D): each 2x2x2
 * block of outputs (a "tile") comes from the 4x4x4 input block around it as
 *
 *     y = A^T [ (G g G^T) (.) (B^T d B) ] A        (applied along z, y, x)
 *
 * so that the 27 x 8 = 216 multiplications per tile, input channel and
 * output channel of the direct method become 64: the products for the 64
 * transform positions xi are 64 independent GEMMs
 *
 *     M[xi] (c_out x tiles) = U[xi] (c_out x c_in) * V[xi] (c_in x tiles).
 *
 * The 1D transforms (correlation, as PyTorch's convolution):
 *   input    B^T d = (d0 - d2, d1 + d2, d2 - d1, d1 - d3)
 *   weights  G g   = (g0, (g0 + g1 + g2) / 2, (g0 - g1 + g2) / 2, g2)
 *   output   A^T m = (m0 + m1 + m2, m1 - m2 - m3)
 * give y0 = g0 d0 + g1 d1 + g2 d2 and y1 = g0 d1 + g1 d2 + g2 d3 exactly in
 * real arithmetic; in float the error is a few ulps more than direct
 * summation (tests/test_nn_winograd.c bounds it against the reference).
 *
 * Work is cut into tasks by shape only (sample, tile slice, block of tile
 * rows), each writing its own outputs with single-threaded GEMMs in a fixed
 * order: results are bit-identical for any thread count. 2D networks
 * (k_d = 1) and layers outside the channel counts where it is faster fall
 * back to the base table's conv3 (oneDNN when built with it, else im2col). */
#include <cblas.h>
#include <omp.h>
#include <string.h>

#include "nn/conv_gemm.h"
#include "nn/kernels.h"

#define TILE 2          /* outputs per tile and axis */
#define WINDOW 4        /* inputs per tile and axis: TILE + 3 - 1 */
#define POSITIONS 64    /* WINDOW^3 transform positions xi */
/* Target tiles per task, as the GEMMs' columns: the task's transformed
 * input and products (64 x (c_in + c_out) x tiles floats) stay near 2 MiB,
 * the L2 of a core and a half; measured on Zen 5 (one thread, 64 -> 64
 * channels on 8 x 128 x 128): 0.136 s at 1-2 MiB, 0.150 s at 4 MiB, 0.198 s
 * at 8 MiB. The GEMMs stay at least 32 wide. */
#define TASK_BYTES (2u << 20)
#define MIN_TILES 32
#define MAX_TILES 1024
/* Where Winograd beats the direct kernels (oneDNN), measured per layer on
 * one thread (bench/bench_drunet, docs/denoiser_kernels.md): 64 -> 64
 * channels 1.8x, 128 -> 128 1.5x, 32 -> 32 1.2x, 16 -> 16 0.95x (kept: it
 * lets the widest level of the shipped net run its ResBlocks slab-wise),
 * 256 -> 256 0.7x. So: from 16 x 16 to 128 x 128 channel pairs; not the
 * head (2 -> c0) and tail (c0 -> 1) layers. */
#define MIN_CHANNEL_PAIRS (16 * 16)
#define MAX_CHANNEL_PAIRS (128 * 128)

static const cbct_nn_kernels *base_table(void)
{
    return cbct_nn_kernels_get(CBCT_NN_KERNEL_DIRECT);
}

static int64_t ceil_div(int64_t a, int64_t b)
{
    return (a + b - 1) / b;
}

static int winograd_applies(const cbct_nn_tensor *in, int64_t c_out, int k_d)
{
    const int64_t pairs = c_out * in->c;
    return k_d == 3 && pairs >= MIN_CHANNEL_PAIRS && pairs <= MAX_CHANNEL_PAIRS;
}

/* Which slices a call reads and writes, in the slices of the whole volume
 * (`depth` deep, zero padding outside [0, depth) only): in holds slices
 * [in_z0, in_z0 + in->d), out holds [out_z0, out_z0 + out->d), and the call
 * computes output slices [z_begin, z_end), z_begin even (tiles start there).
 * A whole-tensor call is {0, in->d, 0, 0, in->d}. */
typedef struct {
    int64_t in_z0, depth, out_z0, z_begin, z_end;
} wino_range;

/* The cut of a layer into tasks: sample b, tile slice tz (from z_begin),
 * tile rows [ty0, ty0 + rows) of all tiles_x tiles along x. */
typedef struct {
    int64_t tiles_z, tiles_y, tiles_x;
    int64_t rows;       /* tile rows per task (the last block may be shorter) */
    int64_t row_blocks; /* per tile slice */
    int64_t tiles;      /* columns of the GEMMs: rows * tiles_x at most */
    int64_t tasks;
    int64_t slot_floats; /* per thread: V, M and the transform rows */
} wino_plan;

/* The transform rows of a task: two sets of 64 rows of tiles_x floats, one
 * input row with a zero on each side and up to two at its end, and its even
 * and odd elements (tiles_x + 1 each). */
static int64_t row_floats(int64_t tiles_x)
{
    return 2 * POSITIONS * tiles_x + TILE * tiles_x + 2 + 2 * (tiles_x + 1);
}

static wino_plan plan_make(const cbct_nn_tensor *in, int64_t c_out, int64_t z_count)
{
    wino_plan p;
    p.tiles_z = ceil_div(z_count, TILE);
    p.tiles_y = ceil_div(in->h, TILE);
    p.tiles_x = ceil_div(in->w, TILE);
    int64_t target = TASK_BYTES / (POSITIONS * (in->c + c_out) * (int64_t)sizeof(float));
    target = target < MIN_TILES ? MIN_TILES : target > MAX_TILES ? MAX_TILES : target;
    p.rows = target / p.tiles_x;
    p.rows = p.rows < 1 ? 1 : p.rows > p.tiles_y ? p.tiles_y : p.rows;
    p.row_blocks = ceil_div(p.tiles_y, p.rows);
    p.tiles = p.rows * p.tiles_x;
    p.tasks = in->n * p.tiles_z * p.row_blocks;
    p.slot_floats = POSITIONS * (in->c + c_out) * p.tiles + row_floats(p.tiles_x);
    return p;
}

static int slots(const wino_plan *p)
{
    int processors = omp_get_num_procs();
    return p->tasks < processors ? (int)p->tasks : processors;
}

/* The transformed weights U: 64 c_out c_in floats. */
static size_t winograd_weight_floats(int64_t c_in, int64_t c_out)
{
    return (size_t)(POSITIONS * c_out * c_in);
}

static size_t winograd_scratch_bytes(const cbct_nn_tensor *in, int64_t c_out)
{
    const wino_plan p = plan_make(in, c_out, in->d);
    const size_t slot_floats = (size_t)slots(&p) * (size_t)p.slot_floats;
    return (winograd_weight_floats(in->c, c_out) + slot_floats) * sizeof(float);
}

/* Channel pairs transformed together: their 64 values per position are
 * then stored as 64 runs of PAIR_BLOCK consecutive floats instead of 64
 * scattered floats per pair (which cost a cache miss each once U outgrows
 * the cache: 16 MiB at 256 x 256 channels). */
#define PAIR_BLOCK 16

/* u (64 x PAIR_BLOCK) [xi][k] = (G g G^T)[xi] of the 3 x 3 x 3 kernel g. */
static void transform_kernel(const float *g, int64_t k, float u[POSITIONS][PAIR_BLOCK])
{
    float gx[3][3][WINDOW], gy[3][WINDOW][WINDOW];
    for (int z = 0; z < 3; z++)
        for (int y = 0; y < 3; y++) {
            const float *r = g + (z * 3 + y) * 3;
            gx[z][y][0] = r[0];
            gx[z][y][1] = 0.5f * (r[0] + r[1] + r[2]);
            gx[z][y][2] = 0.5f * (r[0] - r[1] + r[2]);
            gx[z][y][3] = r[2];
        }
    for (int z = 0; z < 3; z++)
        for (int x = 0; x < WINDOW; x++) {
            gy[z][0][x] = gx[z][0][x];
            gy[z][1][x] = 0.5f * (gx[z][0][x] + gx[z][1][x] + gx[z][2][x]);
            gy[z][2][x] = 0.5f * (gx[z][0][x] - gx[z][1][x] + gx[z][2][x]);
            gy[z][3][x] = gx[z][2][x];
        }
    for (int y = 0; y < WINDOW; y++)
        for (int x = 0; x < WINDOW; x++) {
            const float a = gy[0][y][x], b = gy[1][y][x], c = gy[2][y][x];
            const float t[WINDOW] = {a, 0.5f * (a + b + c), 0.5f * (a - b + c), c};
            for (int z = 0; z < WINDOW; z++)
                u[(z * WINDOW + y) * WINDOW + x][k] = t[z];
        }
}

/* U[xi][co][ci] = (G g G^T)[xi] for the kernel g of (co, ci); an orphaned
 * OpenMP for (call it inside a parallel region, or alone). */
static void transform_weights(const float *weight, int64_t c_out, int64_t c_in, float *u)
{
    const int64_t pairs = c_out * c_in;
#pragma omp for schedule(static)
    for (int64_t p0 = 0; p0 < pairs; p0 += PAIR_BLOCK) {
        const int64_t count = pairs - p0 < PAIR_BLOCK ? pairs - p0 : PAIR_BLOCK;
        float block[POSITIONS][PAIR_BLOCK];
        for (int64_t k = 0; k < count; k++)
            transform_kernel(weight + (p0 + k) * 27, k, block);
        for (int xi = 0; xi < POSITIONS; xi++)
            memcpy(u + xi * pairs + p0, block[xi], (size_t)count * sizeof(float));
    }
}

static void winograd_prepare_weights(const float *weight, int64_t c_in, int64_t c_out,
                                     float *prepared)
{
#pragma omp parallel
    transform_weights(weight, c_out, c_in, prepared);
}

/* The 1D transforms on n values at a time (one per tile along x): the
 * loops the compiler vectorises. */
static inline void input_1d(const float *restrict d0, const float *restrict d1,
                            const float *restrict d2, const float *restrict d3,
                            float *restrict o0, float *restrict o1, float *restrict o2,
                            float *restrict o3, int64_t n)
{
    for (int64_t i = 0; i < n; i++) {
        o0[i] = d0[i] - d2[i];
        o1[i] = d1[i] + d2[i];
        o2[i] = d2[i] - d1[i];
        o3[i] = d1[i] - d3[i];
    }
}

static inline void output_1d(const float *restrict m0, const float *restrict m1,
                             const float *restrict m2, const float *restrict m3,
                             float *restrict y0, float *restrict y1, int64_t n)
{
    for (int64_t i = 0; i < n; i++) {
        y0[i] = m0[i] + m1[i] + m2[i];
        y1[i] = m1[i] - m2[i] - m3[i];
    }
}

/* V[xi][ic][t] for the task's tiles: per input channel and tile row, the
 * 4 x 4 input rows (zero outside the volume) are transformed along x for
 * every tile of the row at once, then along y and z. `rows` holds
 * row_floats(tiles_x) floats. */
static void transform_input(const cbct_nn_tensor *in, const wino_range *g, int64_t b,
                            int64_t tz, int64_t ty0, int64_t n_rows, const wino_plan *p,
                            float *restrict v, float *restrict rows)
{
    const int64_t tw = p->tiles_x, w = in->w, stride = in->c * p->tiles;
    const int64_t plane_yx = WINDOW * WINDOW * tw;
    float *restrict after_x = rows;                      /* [i][j][c][tx] */
    float *restrict after_y = rows + POSITIONS * tw;     /* [i][b][c][tx] */
    float *restrict padded = after_y + POSITIONS * tw;   /* input x = -1 .. 2 tw */
    float *restrict even = padded + TILE * tw + 2;       /* x = 2 t - 1, t = 0 .. tw */
    float *restrict odd = even + tw + 1;                 /* x = 2 t */
    padded[0] = 0.0f;
    for (int64_t x = w + 1; x < TILE * tw + 2; x++)
        padded[x] = 0.0f;
    for (int64_t ic = 0; ic < in->c; ic++) {
        const float *plane = cbct_nn_channel(in, b, ic);
        for (int64_t r = 0; r < n_rows; r++) {
            const int64_t ty = ty0 + r;
            for (int i = 0; i < WINDOW; i++)
                for (int j = 0; j < WINDOW; j++) {
                    const int64_t z = g->z_begin + TILE * tz - 1 + i, y = TILE * ty - 1 + j;
                    float *o = after_x + (i * WINDOW + j) * WINDOW * tw;
                    if (z < 0 || z >= g->depth || y < 0 || y >= in->h) {
                        memset(o, 0, WINDOW * (size_t)tw * sizeof(float));
                        continue;
                    }
                    memcpy(padded + 1, plane + ((z - g->in_z0) * in->h + y) * w,
                           (size_t)w * sizeof(float));
                    for (int64_t t = 0; t <= tw; t++) {
                        even[t] = padded[TILE * t];
                        odd[t] = padded[TILE * t + 1];
                    }
                    /* tile tx reads x = 2 tx - 1 .. 2 tx + 2 */
                    input_1d(even, odd, even + 1, odd + 1, o, o + tw, o + 2 * tw, o + 3 * tw,
                             tw);
                }
            for (int i = 0; i < WINDOW; i++) { /* along y: (i, j) rows -> (i, b) rows */
                const float *s = after_x + i * plane_yx;
                float *o = after_y + i * plane_yx;
                const int64_t n = WINDOW * tw;
                input_1d(s, s + n, s + 2 * n, s + 3 * n, o, o + n, o + 2 * n, o + 3 * n, n);
            }
            for (int64_t yx = 0; yx < WINDOW * WINDOW; yx++) { /* along z, into V */
                const float *s = after_y + yx * tw;
                float *o = v + (yx * in->c + ic) * p->tiles + r * tw;
                const int64_t step = WINDOW * WINDOW * stride;
                input_1d(s, s + plane_yx, s + 2 * plane_yx, s + 3 * plane_yx, o, o + step,
                         o + 2 * step, o + 3 * step, tw);
            }
        }
    }
}

/* out (+)= A^T M[.][oc][t] A for the task's tiles, clipped to the volume. */
static void transform_output(const float *restrict m, const wino_range *g, int64_t b,
                             int64_t tz, int64_t ty0, int64_t n_rows, const wino_plan *p,
                             cbct_nn_tensor *out, int accumulate, float *restrict rows)
{
    const int64_t tw = p->tiles_x, stride = out->c * p->tiles, plane_yx = WINDOW * WINDOW * tw;
    float *restrict after_z = rows;                 /* [a][y4][x4][tx] */
    float *restrict after_y = rows + 2 * plane_yx;  /* [a][b][x4][tx] */
    float *restrict even = after_y + plane_yx;      /* outputs x = 2 tx */
    float *restrict odd = even + tw;                /* outputs x = 2 tx + 1 */
    const int64_t pairs = out->w / 2;               /* whole tiles along x */
    for (int64_t oc = 0; oc < out->c; oc++) {
        float *plane = cbct_nn_channel(out, b, oc);
        for (int64_t r = 0; r < n_rows; r++) {
            const int64_t ty = ty0 + r;
            for (int64_t yx = 0; yx < WINDOW * WINDOW; yx++) { /* along z */
                const float *s = m + (yx * out->c + oc) * p->tiles + r * tw;
                const int64_t step = WINDOW * WINDOW * stride;
                output_1d(s, s + step, s + 2 * step, s + 3 * step, after_z + yx * tw,
                          after_z + plane_yx + yx * tw, tw);
            }
            for (int a = 0; a < TILE; a++) { /* along y */
                const float *s = after_z + a * plane_yx;
                const int64_t n = WINDOW * tw;
                output_1d(s, s + n, s + 2 * n, s + 3 * n, after_y + a * TILE * n,
                          after_y + (a * TILE + 1) * n, n);
            }
            for (int a = 0; a < TILE; a++) {
                const int64_t z = g->z_begin + TILE * tz + a;
                if (z >= g->z_end)
                    break;
                for (int bb = 0; bb < TILE; bb++) {
                    const int64_t y = TILE * ty + bb;
                    if (y >= out->h)
                        break;
                    const float *s = after_y + (a * TILE + bb) * WINDOW * tw;
                    float *restrict dst = plane + ((z - g->out_z0) * out->h + y) * out->w;
                    output_1d(s, s + tw, s + 2 * tw, s + 3 * tw, even, odd, tw); /* along x */
                    if (accumulate) {
                        for (int64_t tx = 0; tx < pairs; tx++) {
                            dst[TILE * tx] += even[tx];
                            dst[TILE * tx + 1] += odd[tx];
                        }
                        if (out->w % 2)
                            dst[out->w - 1] += even[tw - 1];
                    } else {
                        for (int64_t tx = 0; tx < pairs; tx++) {
                            dst[TILE * tx] = even[tx];
                            dst[TILE * tx + 1] = odd[tx];
                        }
                        if (out->w % 2)
                            dst[out->w - 1] = even[tw - 1];
                    }
                }
            }
        }
    }
}

/* The convolution of range g; `prepared` (the transformed weights) or, when
 * NULL, `weight` transformed into the scratch first. */
static void run(const cbct_nn_tensor *in, const wino_range *g, const float *weight,
                const float *prepared, cbct_nn_tensor *out, int accumulate, float *scratch)
{
    const wino_plan p = plan_make(in, out->c, g->z_end - g->z_begin);
    const int64_t c_in = in->c, c_out = out->c;
    float *slot0 = scratch + winograd_weight_floats(in->c, c_out);
    const float *u = prepared ? prepared : scratch;
    int threads = omp_get_max_threads();
    threads = threads < slots(&p) ? threads : slots(&p);
    cbct_gemm_single_threaded_blas();
#pragma omp parallel num_threads(threads)
    {
        if (!prepared) /* ends with the for's barrier */
            transform_weights(weight, c_out, c_in, scratch);
        float *v = slot0 + p.slot_floats * omp_get_thread_num();
        float *m = v + POSITIONS * c_in * p.tiles;
        float *rows = m + POSITIONS * c_out * p.tiles;
#pragma omp for schedule(dynamic)
        for (int64_t task = 0; task < p.tasks; task++) {
            const int64_t block = task % p.row_blocks, tz = task / p.row_blocks % p.tiles_z;
            const int64_t b = task / (p.row_blocks * p.tiles_z);
            const int64_t ty0 = block * p.rows;
            const int64_t n_rows = ty0 + p.rows > p.tiles_y ? p.tiles_y - ty0 : p.rows;
            const int n_tiles = (int)(n_rows * p.tiles_x);
            transform_input(in, g, b, tz, ty0, n_rows, &p, v, rows);
            for (int xi = 0; xi < POSITIONS; xi++)
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)c_out, n_tiles,
                            (int)c_in, 1.0f, u + xi * c_out * c_in, (int)c_in,
                            v + xi * c_in * p.tiles, (int)p.tiles, 0.0f,
                            m + xi * c_out * p.tiles, (int)p.tiles);
            transform_output(m, g, b, tz, ty0, n_rows, &p, out, accumulate, rows);
        }
    }
}

static void winograd_conv3(const cbct_nn_tensor *in, const float *weight, int k_d,
                           cbct_nn_tensor *out, int accumulate, float *scratch)
{
    if (!winograd_applies(in, out->c, k_d)) {
        base_table()->conv3(in, weight, k_d, out, accumulate, scratch);
        return;
    }
    const wino_range whole = {0, in->d, 0, 0, in->d};
    run(in, &whole, weight, NULL, out, accumulate, scratch);
}

static void winograd_conv3_slices(const cbct_nn_tensor *in, int64_t in_z0, int64_t depth,
                                const float *prepared, cbct_nn_tensor *out, int64_t out_z0,
                                int64_t z_begin, int64_t z_end, int accumulate, float *scratch)
{
    const wino_range g = {in_z0, depth, out_z0, z_begin, z_end};
    run(in, &g, NULL, prepared, out, accumulate, scratch);
}

static size_t scratch_winograd(cbct_nn_op op, const cbct_nn_tensor *in, int64_t c_out, int k_d)
{
    if (op == CBCT_NN_OP_CONV3 && winograd_applies(in, c_out, k_d))
        return winograd_scratch_bytes(in, c_out);
    return base_table()->scratch_bytes(op, in, c_out, k_d);
}

static void base_down2(const cbct_nn_tensor *in, const float *weight, int k_d,
                       cbct_nn_tensor *out, float *scratch)
{
    base_table()->down2(in, weight, k_d, out, scratch);
}

static void base_up2(const cbct_nn_tensor *in, const float *weight, int k_d,
                     cbct_nn_tensor *out, float *scratch)
{
    base_table()->up2(in, weight, k_d, out, scratch);
}

const cbct_nn_kernels cbct_nn_kernels_winograd = {
    .name = "winograd+openblas",
    .conv3 = winograd_conv3,
    .down2 = base_down2,
    .up2 = base_up2,
    .relu = cbct_nn_relu,
    .add = cbct_nn_add,
    .scratch_bytes = scratch_winograd,
    .conv3_slices = winograd_conv3_slices,
    .slices_apply = winograd_applies,
    .prepared_floats = winograd_weight_floats,
    .prepare_weights = winograd_prepare_weights,
};
