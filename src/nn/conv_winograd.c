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
 * (k_d = 1) and layers whose transformed weights would be large fall back to
 * the base table's conv3 (oneDNN when built with it, else im2col). */
#include <cblas.h>
#include <omp.h>
#include <string.h>

#include "nn/conv_gemm.h"
#include "nn/kernels.h"

#define TILE 2          /* outputs per tile and axis */
#define WINDOW 4        /* inputs per tile and axis: TILE + 3 - 1 */
#define POSITIONS 64    /* WINDOW^3 transform positions xi */
/* Target tiles per task, as the GEMM's columns: the task's transformed
 * input and products (64 x (c_in + c_out) x tiles floats) stay near 4 MiB,
 * within the L3 share of a core, and the GEMMs stay at least 32 wide. */
#define TASK_BYTES (4u << 20)
#define MIN_TILES 32
#define MAX_TILES 256
/* Transformed weights (64 c_out c_in floats) above this go to the base
 * kernel: 256 x 256 channels is 16 MiB, more than the activations of the
 * levels where such layers run (docs/denoiser.md, "Kernels"). */
#define MAX_WEIGHT_FLOATS ((int64_t)POSITIONS * 256 * 256)

static const cbct_nn_kernels *base_table(void)
{
    return cbct_nn_kernels_get(CBCT_NN_KERNEL_DIRECT);
}

static int64_t ceil_div(int64_t a, int64_t b)
{
    return (a + b - 1) / b;
}

int cbct_winograd_applies(const cbct_nn_tensor *in, int64_t c_out, int k_d)
{
    return k_d == 3 && POSITIONS * c_out * in->c <= MAX_WEIGHT_FLOATS;
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

/* The transform rows of a task: two sets of 64 rows of tiles_x floats, and
 * one input row with a zero on each side and up to two at its end. */
static int64_t row_floats(int64_t tiles_x)
{
    return 2 * POSITIONS * tiles_x + TILE * tiles_x + 2;
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

static size_t weight_floats(const cbct_nn_tensor *in, int64_t c_out)
{
    return (size_t)(POSITIONS * c_out * in->c);
}

size_t cbct_winograd_scratch_bytes(const cbct_nn_tensor *in, int64_t c_out)
{
    const wino_plan p = plan_make(in, c_out, in->d);
    return (weight_floats(in, c_out) + (size_t)slots(&p) * (size_t)p.slot_floats) *
           sizeof(float);
}

/* U[xi][co][ci] = (G g G^T)[xi] for the 3 x 3 x 3 kernel g of (co, ci). */
static void transform_weights(const float *weight, int64_t c_out, int64_t c_in, float *u)
{
#pragma omp for schedule(static)
    for (int64_t pair = 0; pair < c_out * c_in; pair++) {
        const float *g = weight + pair * 27;
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
                    u[((z * WINDOW + y) * WINDOW + x) * c_out * c_in + pair] = t[z];
            }
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
    float *restrict tx_ = rows;                     /* [i][j][c][tx] after x */
    float *restrict tzy = rows + POSITIONS * tw;    /* [i][b][c][tx] after y, then z */
    float *restrict padded = tzy + POSITIONS * tw;  /* input x = -1 .. 2 tw */
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
                    float *o = tx_ + (i * WINDOW + j) * WINDOW * tw;
                    if (z < 0 || z >= g->depth || y < 0 || y >= in->h) {
                        memset(o, 0, WINDOW * (size_t)tw * sizeof(float));
                        continue;
                    }
                    memcpy(padded + 1, plane + ((z - g->in_z0) * in->h + y) * w,
                           (size_t)w * sizeof(float));
                    for (int64_t tx = 0; tx < tw; tx++) {
                        const float *e = padded + TILE * tx; /* input x = 2 tx - 1 .. 2 tx + 2 */
                        const float e0 = e[0], e1 = e[1], e2 = e[2], e3 = e[3];
                        o[tx] = e0 - e2;
                        o[tw + tx] = e1 + e2;
                        o[2 * tw + tx] = e2 - e1;
                        o[3 * tw + tx] = e1 - e3;
                    }
                }
            /* along y: (i, j) rows -> (i, b) rows */
            for (int i = 0; i < WINDOW; i++)
                for (int64_t k = 0; k < WINDOW * tw; k++) {
                    const float *s = tx_ + i * WINDOW * WINDOW * tw + k;
                    const float d0 = s[0], d1 = s[WINDOW * tw], d2 = s[2 * WINDOW * tw],
                                d3 = s[3 * WINDOW * tw];
                    float *o = tzy + i * WINDOW * WINDOW * tw + k;
                    o[0] = d0 - d2;
                    o[WINDOW * tw] = d1 + d2;
                    o[2 * WINDOW * tw] = d2 - d1;
                    o[3 * WINDOW * tw] = d1 - d3;
                }
            /* along z, straight into V[xi][ic][r tw + tx] */
            const int64_t plane_yx = WINDOW * WINDOW * tw;
            for (int64_t k = 0; k < plane_yx; k++) {
                const float d0 = tzy[k], d1 = tzy[plane_yx + k], d2 = tzy[2 * plane_yx + k],
                            d3 = tzy[3 * plane_yx + k];
                const int64_t yx = k / tw, tx = k % tw; /* yx = b * 4 + c */
                float *o = v + (yx * in->c + ic) * p->tiles + r * tw + tx;
                o[0] = d0 - d2;
                o[WINDOW * WINDOW * stride] = d1 + d2;
                o[2 * WINDOW * WINDOW * stride] = d2 - d1;
                o[3 * WINDOW * WINDOW * stride] = d1 - d3;
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
    float *restrict sz = rows;                     /* [a][y4][x4][tx] after z */
    float *restrict sy = rows + 2 * plane_yx;      /* [a][b][x4][tx] after y */
    for (int64_t oc = 0; oc < out->c; oc++) {
        float *plane = cbct_nn_channel(out, b, oc);
        for (int64_t r = 0; r < n_rows; r++) {
            const int64_t ty = ty0 + r;
            for (int64_t k = 0; k < plane_yx; k++) {
                const int64_t yx = k / tw, tx = k % tw;
                const float *s = m + (yx * out->c + oc) * p->tiles + r * tw + tx;
                const float m0 = s[0], m1 = s[WINDOW * WINDOW * stride],
                            m2 = s[2 * WINDOW * WINDOW * stride],
                            m3 = s[3 * WINDOW * WINDOW * stride];
                sz[k] = m0 + m1 + m2;
                sz[plane_yx + k] = m1 - m2 - m3;
            }
            for (int a = 0; a < TILE; a++)
                for (int64_t k = 0; k < WINDOW * tw; k++) {
                    const float *s = sz + a * plane_yx + k;
                    const float m0 = s[0], m1 = s[WINDOW * tw], m2 = s[2 * WINDOW * tw],
                                m3 = s[3 * WINDOW * tw];
                    sy[(a * TILE) * WINDOW * tw + k] = m0 + m1 + m2;
                    sy[(a * TILE + 1) * WINDOW * tw + k] = m1 - m2 - m3;
                }
            for (int a = 0; a < TILE; a++) {
                const int64_t z = g->z_begin + TILE * tz + a;
                if (z >= g->z_end)
                    break;
                for (int bb = 0; bb < TILE; bb++) {
                    const int64_t y = TILE * ty + bb;
                    if (y >= out->h)
                        break;
                    const float *s = sy + (a * TILE + bb) * WINDOW * tw;
                    float *dst = plane + ((z - g->out_z0) * out->h + y) * out->w;
                    for (int64_t tx = 0; tx < tw; tx++) {
                        const float m0 = s[tx], m1 = s[tw + tx], m2 = s[2 * tw + tx],
                                    m3 = s[3 * tw + tx];
                        const float y0 = m0 + m1 + m2, y1 = m1 - m2 - m3;
                        const int64_t x = TILE * tx;
                        if (accumulate) {
                            dst[x] += y0;
                            if (x + 1 < out->w)
                                dst[x + 1] += y1;
                        } else {
                            dst[x] = y0;
                            if (x + 1 < out->w)
                                dst[x + 1] = y1;
                        }
                    }
                }
            }
        }
    }
}

static void run(const cbct_nn_tensor *in, const wino_range *g, const float *weight,
                cbct_nn_tensor *out, int accumulate, float *scratch)
{
    const wino_plan p = plan_make(in, out->c, g->z_end - g->z_begin);
    const int64_t c_in = in->c, c_out = out->c;
    float *u = scratch;
    float *slot0 = scratch + weight_floats(in, c_out);
    int threads = omp_get_max_threads();
    threads = threads < slots(&p) ? threads : slots(&p);
    cbct_gemm_single_threaded_blas();
#pragma omp parallel num_threads(threads)
    {
        transform_weights(weight, c_out, c_in, u); /* ends with the for's barrier */
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
    if (!cbct_winograd_applies(in, out->c, k_d)) {
        base_table()->conv3(in, weight, k_d, out, accumulate, scratch);
        return;
    }
    const wino_range whole = {0, in->d, 0, 0, in->d};
    run(in, &whole, weight, out, accumulate, scratch);
}

void cbct_winograd_conv3_slices(const cbct_nn_tensor *in, int64_t in_z0, int64_t depth,
                                const float *weight, cbct_nn_tensor *out, int64_t out_z0,
                                int64_t z_begin, int64_t z_end, int accumulate, float *scratch)
{
    const wino_range g = {in_z0, depth, out_z0, z_begin, z_end};
    run(in, &g, weight, out, accumulate, scratch);
}

static size_t scratch_winograd(cbct_nn_op op, const cbct_nn_tensor *in, int64_t c_out, int k_d)
{
    if (op == CBCT_NN_OP_CONV3 && cbct_winograd_applies(in, c_out, k_d))
        return cbct_winograd_scratch_bytes(in, c_out);
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
    .conv3_slices = cbct_winograd_conv3_slices,
    .slices_apply = cbct_winograd_applies,
};
