/* 3x3x3 convolution (stride 1, zero padding 1) by Winograd's minimal
 * filtering (Lavin and Gray 2016), in 3D as F(2x4x4, 3x3x3): each tile of
 * 2 x 4 x 4 outputs (z, y, x) comes from the 4 x 6 x 6 input block around
 * it as
 *
 *     y = A^T [ (G g G^T) (.) (B^T d B) ] A        (applied along z, y, x)
 *
 * with F(2, 3) along z and F(4, 3) along y and x, so that the 27 x 32 = 864
 * multiplications per tile, input channel and output channel of the direct
 * method become 144 (6x fewer; F(2x2x2) saved 3.4x): the products for the
 * 144 transform positions xi are 144 independent GEMMs
 *
 *     M[xi] (c_out x tiles) = U[xi] (c_out x c_in) * V[xi] (c_in x tiles).
 *
 * z keeps two outputs per tile so that the slab-wise ResBlocks
 * (src/nn/drunet_forward.c) can ask for any even range of slices, and the
 * patches are only 8-16 slices deep.
 *
 * The 1D transforms (correlation, as PyTorch's convolution):
 *   F(2, 3)  input   B^T d = (d0 - d2, d1 + d2, d2 - d1, d1 - d3)
 *            weights G g   = (g0, (g0 + g1 + g2) / 2, (g0 - g1 + g2) / 2, g2)
 *            output  A^T m = (m0 + m1 + m2, m1 - m2 - m3)
 *   F(4, 3)  input   B^T d = (4 d0 - 5 d2 + d4, -4 d1 - 4 d2 + d3 + d4,
 *                             4 d1 - 4 d2 - d3 + d4, -2 d1 - d2 + 2 d3 + d4,
 *                             2 d1 - d2 - 2 d3 + d4, 4 d1 - 5 d3 + d5)
 *            weights G g   = (g0 / 4, -(g0 + g1 + g2) / 6, -(g0 - g1 + g2) / 6,
 *                             g0 / 24 + g1 / 12 + g2 / 6, g0 / 24 - g1 / 12 + g2 / 6, g2)
 *            output  A^T m = (m0 + m1 + m2 + m3 + m4, m1 - m2 + 2 m3 - 2 m4,
 *                             m1 + m2 + 4 m3 + 4 m4, m1 - m2 + 8 m3 - 8 m4 + m5)
 * (the points 0, +-1, +-2 and infinity) give y_i = g0 d_i + g1 d_(i+1) +
 * g2 d_(i+2) exactly in real arithmetic; in float the error grows with the
 * larger coefficients of F(4, 3): about 1e-6 of the output's range
 * (tests/test_nn_kernels_fast.c bounds it against the reference loops).
 *
 * Work is cut into tasks by shape only (sample, tile slice, block of tile
 * rows), each writing its own outputs with single-threaded GEMMs in a fixed
 * order: results are bit-identical for any thread count. Layers with one
 * output channel (the tail) run cbct_nn_conv3_to_one (src/nn/conv_single.c);
 * other 2D layers (k_d = 1) and layers outside the channel counts where
 * Winograd is faster fall back to the base table's conv3 (oneDNN when built
 * with it, else im2col). */
#include <cblas.h>
#include <omp.h>
#include <string.h>

#include "nn/conv_gemm.h"
#include "nn/kernels.h"
#include "nn/winograd_x.h"

#define TILE_Z 2                         /* outputs per tile along z: F(2, 3) */
#define WINDOW_Z 4                       /* inputs per tile along z: TILE_Z + 3 - 1 */
#define TILE_YX 4                        /* outputs per tile along y and x: F(4, 3) */
#define WINDOW_YX 6                      /* inputs per tile along y and x */
#define PLANE (WINDOW_YX * WINDOW_YX)    /* transform positions per z position: 36 */
#define POSITIONS (WINDOW_Z * PLANE)     /* transform positions xi: 144 */
/* Target tiles per task, as the GEMMs' columns: the task's transformed
 * input and products (144 x (c_in + c_out) x tiles floats) stay near 2 MiB,
 * the L2 of a core and a half. Measured on Zen 5 (one thread, 16 -> 16
 * channels on 16 x 128 x 128 and 16 x 256 x 256, 64 -> 64 on 8 x 128 x 128):
 * 0.5, 1, 2 and 4 MiB within 3% of each other (F(2x2x2) was 10% slower at
 * 4 MiB and 45% at 8 MiB). The GEMMs stay at least 32 wide. */
#define TASK_BYTES (2u << 20)
#define MIN_TILES 32
#define MAX_TILES 1024
/* Where Winograd runs, measured per layer against oneDNN (bench/bench_drunet,
 * docs/denoiser_kernels.md): from 16 x 16 channel pairs (2.2x faster) to
 * 128 x 128 (2.5x); not the head (2 -> c0, 32 pairs), nor 256 x 256: 1.5x
 * faster, but its transformed weights take 36 MiB per layer, which raised
 * the full net's peak by 38% for about 5% of its time. */
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
 * tile rows [ty0, ty0 + rows) of all tiles_x tiles along x. Tiles are
 * TILE_Z x TILE_YX x TILE_YX outputs. */
typedef struct {
    int64_t tiles_z, tiles_y, tiles_x;
    int64_t rows;       /* tile rows per task (the last block may be shorter) */
    int64_t row_blocks; /* per tile slice */
    int64_t tiles;      /* columns of the GEMMs: rows * tiles_x at most */
    int64_t tasks;
    int64_t slot_floats; /* per thread: V, M and the transform rows */
} wino_plan;

/* The transform rows of a task: two sets of 144 rows of tiles_x floats (the
 * output transform; the input transform's 2 x 24 rows of w <= 4 tiles_x
 * floats and a row of zeros fit there) and the work space of the x
 * transforms (src/nn/winograd_x.h). */
static int64_t row_floats(int64_t tiles_x)
{
    return 2 * POSITIONS * tiles_x + winograd_x_work_floats(tiles_x);
}

static wino_plan plan_make(const cbct_nn_tensor *in, int64_t c_out, int64_t z_count)
{
    wino_plan p;
    p.tiles_z = ceil_div(z_count, TILE_Z);
    p.tiles_y = ceil_div(in->h, TILE_YX);
    p.tiles_x = ceil_div(in->w, TILE_YX);
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

/* The transformed weights U: 144 c_out c_in floats. */
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

/* Channel pairs transformed together: their 144 values per position are
 * then stored as 144 runs of PAIR_BLOCK consecutive floats instead of 144
 * scattered floats per pair (which cost a cache miss each once U outgrows
 * the cache). */
#define PAIR_BLOCK 16

/* The weight transforms G g on 3 values, in double (once per layer). */
static void weight_1d_z(const double g[3], double t[WINDOW_Z])
{
    t[0] = g[0];
    t[1] = 0.5 * (g[0] + g[1] + g[2]);
    t[2] = 0.5 * (g[0] - g[1] + g[2]);
    t[3] = g[2];
}

static void weight_1d_yx(const double g[3], double t[WINDOW_YX])
{
    t[0] = g[0] / 4.0;
    t[1] = -(g[0] + g[1] + g[2]) / 6.0;
    t[2] = -(g[0] - g[1] + g[2]) / 6.0;
    t[3] = g[0] / 24.0 + g[1] / 12.0 + g[2] / 6.0;
    t[4] = g[0] / 24.0 - g[1] / 12.0 + g[2] / 6.0;
    t[5] = g[2];
}

/* u (144 x PAIR_BLOCK) [xi][k] = (G g G^T)[xi] of the 3 x 3 x 3 kernel g,
 * xi = (z * 6 + y) * 6 + x. */
static void transform_kernel(const float *g, int64_t k, float u[POSITIONS][PAIR_BLOCK])
{
    double gx[3][3][WINDOW_YX], gy[3][WINDOW_YX][WINDOW_YX];
    for (int z = 0; z < 3; z++)
        for (int y = 0; y < 3; y++) {
            const float *r = g + (z * 3 + y) * 3;
            const double row[3] = {r[0], r[1], r[2]};
            weight_1d_yx(row, gx[z][y]);
        }
    for (int z = 0; z < 3; z++)
        for (int x = 0; x < WINDOW_YX; x++) {
            const double col[3] = {gx[z][0][x], gx[z][1][x], gx[z][2][x]};
            double t[WINDOW_YX];
            weight_1d_yx(col, t);
            for (int y = 0; y < WINDOW_YX; y++)
                gy[z][y][x] = t[y];
        }
    for (int y = 0; y < WINDOW_YX; y++)
        for (int x = 0; x < WINDOW_YX; x++) {
            const double col[3] = {gy[0][y][x], gy[1][y][x], gy[2][y][x]};
            double t[WINDOW_Z];
            weight_1d_z(col, t);
            for (int z = 0; z < WINDOW_Z; z++)
                u[(z * WINDOW_YX + y) * WINDOW_YX + x][k] = (float)t[z];
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
 * loops the compiler vectorises (each row its own restrict pointer, so
 * that it needs no aliasing checks). */
static inline void input_1d_z(const float *restrict d0, const float *restrict d1,
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

/* winograd_input_1d_yx on rows of n floats `step` apart, into rows `step` apart. */
static inline void input_rows_yx(const float *d, float *o, int64_t step, int64_t n)
{
    winograd_input_1d_yx(d, d + step, d + 2 * step, d + 3 * step, d + 4 * step, d + 5 * step, o,
                         o + step, o + 2 * step, o + 3 * step, o + 4 * step, o + 5 * step, n);
}

static inline void output_1d_z(const float *restrict m0, const float *restrict m1,
                               const float *restrict m2, const float *restrict m3,
                               float *restrict y0, float *restrict y1, int64_t n)
{
    for (int64_t i = 0; i < n; i++) {
        y0[i] = m0[i] + m1[i] + m2[i];
        y1[i] = m1[i] - m2[i] - m3[i];
    }
}

/* winograd_output_1d_yx on rows of n floats `step` apart, into rows `step` apart. */
static inline void output_rows_yx(const float *m, float *y, int64_t step, int64_t n)
{
    winograd_output_1d_yx(m, m + step, m + 2 * step, m + 3 * step, m + 4 * step, m + 5 * step, y,
                          y + step, y + 2 * step, y + 3 * step, n);
}

/* V[xi][ic][t] for the task's tiles: per input channel and tile row, the
 * 4 x 6 input rows (zero outside the volume) are transformed along z
 * straight from the tensor, then along y, each step on whole rows, and last
 * along x into V (the order that moves the fewest floats: 4 x 6 rows of w
 * after z and y instead of 144 rows of tiles_x). `rows` holds
 * row_floats(tiles_x) floats. */
static void transform_input(const cbct_nn_tensor *in, const wino_range *g, int64_t b,
                            int64_t tz, int64_t ty0, int64_t n_rows, const wino_plan *p,
                            float *restrict v, float *restrict rows)
{
    const int64_t tw = p->tiles_x, w = in->w, stride = in->c * p->tiles;
    const int64_t block = WINDOW_YX * w;                /* one z position's 6 rows */
    float *restrict after_z = rows;                     /* [i][j][x] */
    float *restrict after_y = rows + WINDOW_Z * block;  /* [i][l][x] */
    float *restrict zeros = after_y + WINDOW_Z * block; /* one row outside the volume */
    float *restrict work = zeros + w;                   /* winograd_x_work_floats(tw) */
    memset(zeros, 0, (size_t)w * sizeof(float));
    for (int64_t ic = 0; ic < in->c; ic++) {
        const float *channel = cbct_nn_channel(in, b, ic);
        for (int64_t r = 0; r < n_rows; r++) {
            const int64_t ty = ty0 + r;
            for (int j = 0; j < WINDOW_YX; j++) { /* along z: (i, j) rows */
                const int64_t y = TILE_YX * ty - 1 + j;
                const float *d[WINDOW_Z];
                for (int i = 0; i < WINDOW_Z; i++) {
                    const int64_t z = g->z_begin + TILE_Z * tz - 1 + i;
                    const int inside = z >= 0 && z < g->depth && y >= 0 && y < in->h;
                    d[i] = inside ? channel + ((z - g->in_z0) * in->h + y) * w : zeros;
                }
                float *o = after_z + j * w;
                input_1d_z(d[0], d[1], d[2], d[3], o, o + block, o + 2 * block, o + 3 * block, w);
            }
            for (int i = 0; i < WINDOW_Z; i++) /* along y: (i, l) rows */
                input_rows_yx(after_z + i * block, after_y + i * block, w, w);
            for (int i = 0; i < WINDOW_Z; i++) /* along x, into V */
                for (int l = 0; l < WINDOW_YX; l++) {
                    const int64_t xi = (i * WINDOW_YX + l) * WINDOW_YX;
                    winograd_input_x(after_y + i * block + l * w, w, tw,
                                     v + (xi * in->c + ic) * p->tiles + r * tw, stride, work);
                }
        }
    }
}

/* out (+)= A^T M[.][oc][t] A for the task's tiles, clipped to the volume. */
static void transform_output(const float *restrict m, const wino_range *g, int64_t b,
                             int64_t tz, int64_t ty0, int64_t n_rows, const wino_plan *p,
                             cbct_nn_tensor *out, int accumulate, float *restrict rows)
{
    const int64_t tw = p->tiles_x, stride = out->c * p->tiles, plane = PLANE * tw;
    const int64_t block_yx = TILE_YX * WINDOW_YX * tw;       /* one z output after y */
    float *restrict after_z = rows;                         /* [a][l][k][tx] */
    float *restrict after_y = rows + TILE_Z * plane;        /* [a][c][k][tx] */
    float *restrict work = after_y + TILE_Z * block_yx;     /* winograd_x_work_floats(tw) */
    for (int64_t oc = 0; oc < out->c; oc++) {
        float *channel = cbct_nn_channel(out, b, oc);
        for (int64_t r = 0; r < n_rows; r++) {
            const int64_t ty = ty0 + r;
            for (int64_t yx = 0; yx < PLANE; yx++) { /* along z */
                const float *s = m + (yx * out->c + oc) * p->tiles + r * tw;
                const int64_t step = PLANE * stride;
                output_1d_z(s, s + step, s + 2 * step, s + 3 * step, after_z + yx * tw,
                            after_z + plane + yx * tw, tw);
            }
            for (int a = 0; a < TILE_Z; a++) { /* along y */
                output_rows_yx(after_z + a * plane, after_y + a * block_yx, WINDOW_YX * tw,
                               WINDOW_YX * tw);
            }
            for (int a = 0; a < TILE_Z; a++) {
                const int64_t z = g->z_begin + TILE_Z * tz + a;
                if (z >= g->z_end)
                    break;
                for (int c = 0; c < TILE_YX; c++) {
                    const int64_t y = TILE_YX * ty + c;
                    if (y >= out->h)
                        break;
                    float *dst = channel + ((z - g->out_z0) * out->h + y) * out->w;
                    winograd_output_x(after_y + a * block_yx + c * WINDOW_YX * tw, tw, dst,
                                      out->w, accumulate, work);
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
    if (out->c == 1) {
        cbct_nn_conv3_to_one(in, weight, k_d, out, accumulate, scratch);
        return;
    }
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
    if (op == CBCT_NN_OP_CONV3 && c_out == 1)
        return cbct_nn_conv3_to_one_scratch_bytes(in);
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
