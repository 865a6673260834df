/* Times DRUNet inference on the CPU and prints JSON:
 *   - this machine's sgemm rate (OpenBLAS, 2048^3, --threads threads),
 *     the yardstick of the convolutions (target: half of it);
 *   - each kernel op alone, every table: conv3 at the channel counts of
 *     the full-size and the shipped nets' levels, down2 64->128, up2 128->64;
 *   - a full-size 3D DRUNet (64/128/256/512, nb 4, random weights), and
 *     the model of --model, on patches 8x128x128 (and 8x256x256 with
 *     --large) at batch 1, 2, 4: seconds, patch voxels per second,
 *     GFLOP/s, fraction of the sgemm rate, tracked and RSS peaks;
 *   - the reference kernels on the single ops and the smallest network case
 *     (--no-reference skips them: about ten times slower).
 * Each network case runs with the default kernels (Winograd for the 3D
 * 3x3x3 layers) and the direct ones (oneDNN / im2col) side by side.
 * GFLOP counts the convolutions the network runs, on the padded shape
 * (deepinv pads sizes under 32, so 8 slices run as 16): 2 c_in c_out
 * taps per output voxel (per input voxel for the transposed conv), the
 * direct method's count whatever the kernel: for Winograd, whose GEMMs do
 * 144 / 864 of those multiplications, it is an effective rate.
 *
 * Usage: bench_drunet [--large] [--threads T] [--repeat N] [--no-reference]
 *                     [--ops-only] [--model PATH [--model-only]]
 *                     [--batch N] [--patch D,H,W]
 * --repeat N: each network case is the best of N forward passes (1).
 * --batch N, --patch D,H,W: only that batch size / patch (bench/peers/
 * alternates single cases with PyTorch's, so that a slow phase of a shared
 * machine falls on both sides).
 * --model-only times only the --model network (for bench/peers/, which
 * runs PyTorch on the same weights beside it). */
#include <cblas.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "cbct.h"
#include "nn/kernels.h"

#define SGEMM_SIZE 2048 /* square sgemm that runs near the machine's peak */
#define OP_REPEAT 3     /* best of, for the single ops */

static double cpu_seconds(void);

static void die(const char *what)
{
    fprintf(stderr, "bench_drunet: %s: %s\n", what, cbct_last_error());
    exit(1);
}

static float *random_buffer(int64_t count, uint64_t seed, const char *what)
{
    float *v = cbct_alloc((size_t)count * sizeof *v, what);
    if (!v)
        die(what);
    for (int64_t i = 0; i < count; i++) {
        seed = seed * 6364136223846793005ULL + 1442695040888963407ULL; /* LCG */
        v[i] = (float)((double)(seed >> 40) / 16777216.0 - 0.5);
    }
    return v;
}

/* Best GFLOP/s of a square sgemm: wall clock, and per CPU second. */
static void sgemm_gflops(int threads, double *wall, double *per_cpu)
{
    const int n = SGEMM_SIZE;
    float *a = random_buffer((int64_t)n * n, 1, "sgemm A");
    float *b = random_buffer((int64_t)n * n, 2, "sgemm B");
    float *c = random_buffer((int64_t)n * n, 3, "sgemm C");
    openblas_set_num_threads(threads);
    double best = 1e300, best_cpu = 1e300;
    for (int r = 0; r < OP_REPEAT + 1; r++) { /* the first run warms up */
        double t0 = cbct_seconds(), c0 = cpu_seconds();
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a, n, b, n, 0.0f,
                    c, n);
        double t = cbct_seconds() - t0, tc = cpu_seconds() - c0;
        best = r && t < best ? t : best;
        best_cpu = r && tc < best_cpu ? tc : best_cpu;
    }
    cbct_free(a), cbct_free(b), cbct_free(c);
    *wall = 2.0 * n * n * (double)n / best * 1e-9;
    *per_cpu = 2.0 * n * n * (double)n / best_cpu * 1e-9;
}

/* One op of one table on random data: best seconds of OP_REPEAT. */
static double time_op(const cbct_nn_kernels *k, cbct_nn_op op, cbct_nn_tensor in, int64_t c_out,
                      int k_d, double *flops, double *cpu)
{
    cbct_nn_tensor out = {in.n, c_out, in.d, in.h, in.w, NULL};
    int64_t taps = k_d * 9;
    if (op == CBCT_NN_OP_DOWN2)
        out.d /= k_d, out.h /= 2, out.w /= 2, taps = k_d * 4;
    else if (op == CBCT_NN_OP_UP2)
        out.d *= k_d, out.h *= 2, out.w *= 2, taps = k_d * 4;
    /* Per output voxel; the transposed conv per input voxel. */
    const cbct_nn_tensor *counted = op == CBCT_NN_OP_UP2 ? &in : &out;
    *flops = 2.0 * (double)(in.c * c_out * taps) * (double)(counted->n * cbct_nn_spatial(counted));
    in.data = random_buffer(cbct_nn_numel(&in), 4, "op input");
    float *weight = random_buffer(in.c * c_out * taps, 5, "op weights");
    out.data = random_buffer(cbct_nn_numel(&out), 6, "op output");
    size_t bytes = k->scratch_bytes(op, &in, c_out, k_d);
    float *scratch = bytes ? cbct_alloc(bytes, "op scratch") : NULL;
    if (bytes && !scratch)
        die("op scratch");
    double best = 1e300;
    *cpu = 1e300;
    for (int r = 0; r < OP_REPEAT; r++) {
        double t0 = cbct_seconds(), c0 = cpu_seconds();
        if (op == CBCT_NN_OP_CONV3)
            k->conv3(&in, weight, k_d, &out, 0, scratch);
        else if (op == CBCT_NN_OP_DOWN2)
            k->down2(&in, weight, k_d, &out, scratch);
        else
            k->up2(&in, weight, k_d, &out, scratch);
        double t = cbct_seconds() - t0, tc = cpu_seconds() - c0;
        best = t < best ? t : best;
        *cpu = tc < *cpu ? tc : *cpu;
    }
    cbct_free(in.data), cbct_free(weight), cbct_free(out.data), cbct_free(scratch);
    return best;
}

/* Convolution flops of one forward pass at the (padded) size d x h x w. */
static double drunet_flops(const cbct_drunet_config *c, int64_t n, const int64_t size[3])
{
    const double k3 = c->dims == 3 ? 27 : 9, k2 = c->dims == 3 ? 8 : 4;
    double voxels[4];
    for (int l = 0; l < 4; l++)
        voxels[l] = (double)n * (double)(c->dims == 3 ? size[0] >> l : size[0]) *
                    (double)(size[1] >> l) * (double)(size[2] >> l);
    double f = 2.0 * k3 * (c->in_channels + 1) * c->channels[0] * voxels[0] +
               2.0 * k3 * c->channels[0] * c->out_channels * voxels[0];
    for (int l = 0; l < 4; l++) /* ResBlocks: 2 convs; levels 0-2 down and up */
        f += (l < 3 ? 2 : 1) * c->nb * 2 * (2.0 * k3 * c->channels[l] * c->channels[l] * voxels[l]);
    for (int l = 0; l < 3; l++) /* down and up, both counted at the coarse level */
        f += 2 * (2.0 * k2 * c->channels[l] * c->channels[l + 1] * voxels[l + 1]);
    return f;
}

/* CPU seconds of the process (all threads): on a shared machine, flops per
 * CPU second measure the kernels' efficiency whatever else runs. */
static double cpu_seconds(void)
{
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return (double)u.ru_utime.tv_sec + (double)u.ru_stime.tv_sec +
           1e-6 * (double)(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

static double rss_peak_bytes(void)
{
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return (double)u.ru_maxrss * 1024.0; /* kilobytes on Linux */
}

static int first_record = 1;

/* The sgemm rates the convolutions are compared with. */
typedef struct {
    double wall, per_cpu; /* GFLOP/s on the bench's threads; per CPU second */
} yardstick;

/* One forward pass of `net` on a random batch; prints one JSON record. */
static void time_network(cbct_drunet *net, const char *model, cbct_nn_kernel kernel, int64_t n,
                         int64_t d, int64_t h, int64_t w, int repeat, yardstick sgemm)
{
    const cbct_drunet_config *cfg = cbct_drunet_get_config(net);
    cbct_drunet_set_kernel(net, kernel);
    const int64_t voxels = n * d * h * w;
    float *in = random_buffer(voxels * cfg->in_channels, 7, "network input");
    float *out = cbct_alloc((size_t)(voxels * cfg->out_channels) * sizeof(float), "output");
    if (!out)
        die("network output");
    size_t predicted = cbct_drunet_peak_bytes(net, n, d, h, w);
    size_t base = cbct_mem_current();
    cbct_mem_reset_peak();
    double seconds = 0, cpu = 0; /* the best of `repeat` passes */
    for (int i = 0; i < repeat; i++) {
        double t0 = cbct_seconds(), c0 = cpu_seconds();
        if (cbct_drunet_apply(net, in, n, d, h, w, 0.03f, out) != CBCT_OK)
            die("cbct_drunet_apply");
        double s = cbct_seconds() - t0, c = cpu_seconds() - c0;
        seconds = i == 0 || s < seconds ? s : seconds;
        cpu = i == 0 || c < cpu ? c : cpu;
    }
    int64_t size[3];
    cbct_drunet_padded_shape(net, d, h, w, size);
    const double gflop = drunet_flops(cfg, n, size) * 1e-9;
    printf("%s    {\"model\": \"%s\", \"kernel\": \"%s\", \"batch\": %lld, "
           "\"patch\": [%lld, %lld, %lld], \"padded\": [%lld, %lld, %lld], "
           "\"seconds\": %.3f, \"cpu_seconds\": %.3f, \"voxels_per_s\": %.4g, "
           "\"gflop\": %.1f, \"gflops\": %.1f, \"fraction_of_sgemm\": %.3f, "
           "\"gflops_per_cpu_s\": %.1f, \"fraction_of_sgemm_per_cpu_s\": %.3f, "
           "\"tracked_peak_bytes\": %zu, \"predicted_peak_bytes\": %zu, "
           "\"rss_peak_bytes\": %.0f}",
           first_record ? "" : ",\n", model, cbct_nn_kernels_get(kernel)->name, (long long)n,
           (long long)d, (long long)h, (long long)w, (long long)size[0], (long long)size[1],
           (long long)size[2], seconds, cpu, (double)voxels / seconds, gflop, gflop / seconds,
           gflop / seconds / sgemm.wall, gflop / cpu, gflop / cpu / sgemm.per_cpu,
           cbct_mem_peak() - base, predicted, rss_peak_bytes());
    fflush(stdout);
    first_record = 0;
    cbct_free(in), cbct_free(out);
}

int main(int argc, char **argv)
{
    int large = 0, reference = 1, threads = 0, networks = 1, model_only = 0, repeat = 1;
    int64_t only_batch = 0, only_patch[3] = {0, 0, 0};
    const char *model = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--large"))
            large = 1;
        else if (!strcmp(argv[i], "--no-reference"))
            reference = 0;
        else if (!strcmp(argv[i], "--ops-only"))
            networks = 0;
        else if (!strcmp(argv[i], "--model-only"))
            model_only = 1;
        else if (!strcmp(argv[i], "--threads") && i + 1 < argc)
            threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--repeat") && i + 1 < argc && atoi(argv[i + 1]) > 0)
            repeat = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--model") && i + 1 < argc)
            model = argv[++i];
        else if (!strcmp(argv[i], "--batch") && i + 1 < argc && atoi(argv[i + 1]) > 0)
            only_batch = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--patch") && i + 1 < argc &&
                 sscanf(argv[i + 1], "%" SCNd64 ",%" SCNd64 ",%" SCNd64, &only_patch[0],
                        &only_patch[1], &only_patch[2]) == 3 &&
                 only_patch[0] > 0 && only_patch[1] > 0 && only_patch[2] > 0)
            i++;
        else {
            fprintf(stderr, "usage: bench_drunet [--large] [--threads T] [--repeat N] "
                            "[--no-reference] [--ops-only] [--model PATH [--model-only]] "
                            "[--batch N] [--patch D,H,W]\n");
            return 2;
        }
    }
    cbct_set_threads(threads);
    threads = cbct_threads();
    yardstick sgemm, sgemm_1;
    sgemm_gflops(threads, &sgemm.wall, &sgemm.per_cpu);
    sgemm_gflops(1, &sgemm_1.wall, &sgemm_1.per_cpu);
    printf("{\n  \"threads\": %d,\n  \"sgemm_gflops\": %.1f,\n  \"sgemm_gflops_per_cpu_s\": %.1f,"
           "\n  \"sgemm_1_thread_gflops\": %.1f,\n  \"ops\": [\n",
           threads, sgemm.wall, sgemm.per_cpu, sgemm_1.wall);

    const struct {
        const char *name;
        cbct_nn_op op;
        cbct_nn_tensor in;
        int64_t c_out;
    } ops[] = {
        {"conv3 64->64 8x128x128", CBCT_NN_OP_CONV3, {1, 64, 8, 128, 128, NULL}, 64},
        {"conv3 128->128 4x64x64", CBCT_NN_OP_CONV3, {1, 128, 4, 64, 64, NULL}, 128},
        {"conv3 16->16 16x128x128", CBCT_NN_OP_CONV3, {1, 16, 16, 128, 128, NULL}, 16},
        {"conv3 32->32 8x64x64", CBCT_NN_OP_CONV3, {1, 32, 8, 64, 64, NULL}, 32},
        {"conv3 512->512 1x16x16", CBCT_NN_OP_CONV3, {1, 512, 1, 16, 16, NULL}, 512},
        {"conv3 256->256 2x32x32", CBCT_NN_OP_CONV3, {1, 256, 2, 32, 32, NULL}, 256},
        {"down2 64->128 8x128x128", CBCT_NN_OP_DOWN2, {1, 64, 8, 128, 128, NULL}, 128},
        {"up2 128->64 4x64x64", CBCT_NN_OP_UP2, {1, 128, 4, 64, 64, NULL}, 64},
    };
    const cbct_nn_kernels *tables[] = {
        &cbct_nn_kernels_winograd,
#ifdef CBCT_HAVE_DNNL
        &cbct_nn_kernels_dnnl_all,
#endif
        &cbct_nn_kernels_gemm, &cbct_nn_kernels_reference};
    const size_t n_ops = model_only ? 0 : sizeof ops / sizeof *ops;
    /* the reference loops (last) only without --no-reference */
    const size_t n_tables = sizeof tables / sizeof *tables - (reference ? 0 : 1);
    for (size_t i = 0; i < n_ops; i++) {
        for (size_t t = 0; t < n_tables; t++) {
            double flops, cpu;
            int k_d = ops[i].op == CBCT_NN_OP_CONV3 ? 3 : 2;
            double s = time_op(tables[t], ops[i].op, ops[i].in, ops[i].c_out, k_d, &flops, &cpu);
            printf("    {\"op\": \"%s\", \"kernel\": \"%s\", \"seconds\": %.4f, "
                   "\"gflops\": %.1f, \"fraction_of_sgemm\": %.3f, \"gflops_per_cpu_s\": %.1f, "
                   "\"fraction_of_sgemm_per_cpu_s\": %.3f}%s\n",
                   ops[i].name, tables[t]->name, s, flops / s * 1e-9, flops / s * 1e-9 / sgemm.wall,
                   flops / cpu * 1e-9, flops / cpu * 1e-9 / sgemm.per_cpu,
                   i + 1 < n_ops || t + 1 < n_tables ? "," : "");
            fflush(stdout);
        }
    }
    printf("  ],\n  \"networks\": [\n");
    if (!networks) {
        printf("  ]\n}\n");
        return 0;
    }

    cbct_drunet_config full = {3, 1, 1, {64, 128, 256, 512}, 4};
    cbct_drunet *nets[2] = {NULL, NULL};
    const char *names[2] = {"drunet 64-512 nb4 random", model};
    if (!(model_only && model) && cbct_drunet_create_random(&full, 1, &nets[0]) != CBCT_OK)
        die("cbct_drunet_create_random");
    if (model && cbct_drunet_load(model, &nets[1]) != CBCT_OK)
        die(model);
    int64_t patches[2][3] = {{8, 128, 128}, {8, 256, 256}}, batches[3] = {1, 2, 4};
    int n_patches = 1 + large, n_batches = 3;
    if (only_patch[0]) {
        memcpy(patches[0], only_patch, sizeof only_patch);
        n_patches = 1;
    }
    if (only_batch) {
        batches[0] = only_batch;
        n_batches = 1;
    }
    for (int m = model_only && model ? 1 : 0; m < 2 && nets[m]; m++)
        for (int p = 0; p < n_patches; p++)
            for (int b = 0; b < n_batches; b++)
                for (int k = 0; k < 2; k++) /* Winograd and direct side by side */
                    time_network(nets[m], names[m], k ? CBCT_NN_KERNEL_DIRECT : CBCT_NN_KERNEL_FAST,
                                 batches[b], patches[p][0], patches[p][1], patches[p][2], repeat,
                                 sgemm);
    if (reference && !model_only)
        time_network(nets[0], names[0], CBCT_NN_KERNEL_REFERENCE, 1, 8, 128, 128, 1, sgemm);
    printf("\n  ]\n}\n");
    cbct_drunet_destroy(nets[0]);
    cbct_drunet_destroy(nets[1]);
    return 0;
}
