/* Times cbct's projector pair, FDK's voxel-driven back-projection and a whole
 * FDK on a given geometry file and volume (so a peer code can be timed on the
 * same problem: bench/peers/rtk_vs_cbct.py), in-process, file I/O excluded.
 * Each operation runs --repeat times; the median wall time, the median CPU
 * time of the process (all threads: on a shared machine the wall time grows
 * with the load, the CPU time much less) and every run are printed as JSON, and the outputs are written for the agreement checks:
 *   forward.npy    A x (Joseph), the input of the three operations below;
 *   adjoint.npy    A^T (A x), the matched adjoint (Joseph transpose);
 *   voxel_bp.npy   FDK's voxel-driven back-projection of A x, unfiltered
 *                  (with FDK's distance weights);
 *   fdk.npy        FDK of A x (ram-lak, cut-off 1, no short-scan weights).
 *
 * Usage: bench_ops --geometry geom.json --volume vol.npy --out DIR
 *                  [--threads T] [--repeat R] [--skip-adjoint] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "cbct.h"

#define BENCH_OPS_MAX_REPEAT 64 /* enough for a median; bounds the stack array */
#define BENCH_OPS_PATH_MAX 4096

typedef struct ops_opts {
    const char *geometry, *volume, *out;
    int threads, repeat, skip_adjoint;
} ops_opts;

static int parse_args(int argc, char **argv, ops_opts *o)
{
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (!strcmp(arg, "--skip-adjoint")) {
            o->skip_adjoint = 1;
            continue;
        }
        const char *value = i + 1 < argc ? argv[i + 1] : NULL;
        if (!value) {
            fprintf(stderr, "bench_ops: %s needs a value\n", arg);
            return 0;
        }
        if (!strcmp(arg, "--geometry"))
            o->geometry = value;
        else if (!strcmp(arg, "--volume"))
            o->volume = value;
        else if (!strcmp(arg, "--out"))
            o->out = value;
        else if (!strcmp(arg, "--threads"))
            o->threads = atoi(value);
        else if (!strcmp(arg, "--repeat"))
            o->repeat = atoi(value);
        else {
            fprintf(stderr, "bench_ops: unknown option %s\n", arg);
            return 0;
        }
        i++;
    }
    if (!o->geometry || !o->volume || !o->out) {
        fprintf(stderr, "bench_ops: --geometry, --volume and --out are required\n");
        return 0;
    }
    if (o->threads <= 0 || o->repeat <= 0 || o->repeat > BENCH_OPS_MAX_REPEAT) {
        fprintf(stderr, "bench_ops: --threads must be positive and --repeat in 1..%d\n",
                BENCH_OPS_MAX_REPEAT);
        return 0;
    }
    return 1;
}

typedef struct ops_ctx {
    const cbct_geometry *geom;
    cbct_projector *projector;
    cbct_fdk *fdk;
    const float *vol;
    float *proj, *out;
} ops_ctx;

typedef cbct_status (*ops_fn)(ops_ctx *c);

static cbct_status run_forward(ops_ctx *c) { return cbct_project(c->projector, c->vol, c->proj); }

static cbct_status run_adjoint(ops_ctx *c)
{
    return cbct_backproject(c->projector, c->proj, c->out);
}

static cbct_status run_voxel_bp(ops_ctx *c)
{
    return cbct_fdk_backproject(c->fdk, 0, c->geom->n_views, c->proj, 0, c->geom->vol.shape[0],
                                c->out, 0);
}

static cbct_status run_fdk(ops_ctx *c)
{
    cbct_fdk_opts opts = {.filter = CBCT_FILTER_RAM_LAK, .cutoff = 1.0,
                          .short_scan = CBCT_SHORT_SCAN_OFF};
    return cbct_fdk_reconstruct(c->geom, &opts, c->proj, c->out);
}

static double cpu_seconds(void)
{
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return (double)u.ru_utime.tv_sec + (double)u.ru_stime.tv_sec +
           1e-6 * (double)(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

static int compare_doubles(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Median of n values (sorted in place). */
static double median_of(double *v, int n)
{
    qsort(v, (size_t)n, sizeof v[0], compare_doubles);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* Runs fn `repeat` times, prints "name": {medians, runs}; 0 on failure. */
static int time_op(const char *name, ops_fn fn, ops_ctx *c, int repeat, double updates,
                   int last)
{
    double runs[BENCH_OPS_MAX_REPEAT], wall[BENCH_OPS_MAX_REPEAT], cpu[BENCH_OPS_MAX_REPEAT];
    for (int r = 0; r < repeat; r++) {
        double t0 = cbct_seconds(), c0 = cpu_seconds();
        if (fn(c) != CBCT_OK) {
            fprintf(stderr, "bench_ops: %s: %s\n", name, cbct_last_error());
            return 0;
        }
        runs[r] = wall[r] = cbct_seconds() - t0;
        cpu[r] = cpu_seconds() - c0;
    }
    double median = median_of(wall, repeat), median_cpu = median_of(cpu, repeat);
    printf(" \"%s\": {\"median_s\": %.4f, \"median_cpu_s\": %.4f, \"gups\": %.3f, "
           "\"runs_s\": [", name, median, median_cpu, updates / median / 1e9);
    for (int r = 0; r < repeat; r++)
        printf("%s%.4f", r ? ", " : "", runs[r]);
    printf("]}%s\n", last ? "" : ",");
    return 1;
}

static int write_output(const char *folder, const char *name, const int64_t shape[3],
                        float *data)
{
    char path[BENCH_OPS_PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", folder, name);
    cbct_array a = {.shape = {shape[0], shape[1], shape[2]}, .spacing = {1, 1, 1},
                    .data = data};
    if (cbct_npy_write(path, &a) != CBCT_OK) {
        fprintf(stderr, "bench_ops: %s\n", cbct_last_error());
        return 0;
    }
    return 1;
}

int main(int argc, char **argv)
{
    ops_opts o = {.threads = 2, .repeat = 3};
    if (!parse_args(argc, argv, &o))
        return 2;
    cbct_set_threads(o.threads);
    cbct_geometry g;
    memset(&g, 0, sizeof g);
    cbct_array vol = {0}, proj = {0}, out = {0};
    ops_ctx c = {.geom = &g};
    if (cbct_geometry_read_any_json(o.geometry, &g) || cbct_volume_read(o.volume, &vol)) {
        fprintf(stderr, "bench_ops: %s\n", cbct_last_error());
        return 1;
    }
    const int64_t *vs = g.vol.shape;
    if (vol.shape[0] != vs[0] || vol.shape[1] != vs[1] || vol.shape[2] != vs[2]) {
        fprintf(stderr, "bench_ops: %s is %lld x %lld x %lld, the geometry %s expects %lld x "
                        "%lld x %lld\n", o.volume, (long long)vol.shape[0],
                (long long)vol.shape[1], (long long)vol.shape[2], o.geometry,
                (long long)vs[0], (long long)vs[1], (long long)vs[2]);
        return 1;
    }
    int64_t pshape[3] = {g.n_views, g.det_rows, g.det_cols};
    if (cbct_projector_create(&g, NULL, &c.projector) ||
        cbct_fdk_create(&g, NULL, &c.fdk) ||
        cbct_array_zeros(&proj, pshape[0], pshape[1], pshape[2], "projections") ||
        cbct_array_zeros(&out, vs[0], vs[1], vs[2], "output volume")) {
        fprintf(stderr, "bench_ops: %s\n", cbct_last_error());
        return 1;
    }
    c.vol = vol.data;
    c.proj = proj.data;
    c.out = out.data;
    double updates = cbct_block_updates(&g, cbct_block_all(&g));
    printf("{\"volume\": [%lld, %lld, %lld], \"views\": %lld, \"detector\": [%lld, %lld], "
           "\"threads\": %d, \"repeat\": %d, \"timing\": \"in-process, file I/O excluded\",\n",
           (long long)vs[0], (long long)vs[1], (long long)vs[2], (long long)g.n_views,
           (long long)g.det_rows, (long long)g.det_cols, o.threads, o.repeat);
    int ok = time_op("forward", run_forward, &c, o.repeat, updates, 0) &&
             write_output(o.out, "forward.npy", pshape, proj.data);
    if (ok && !o.skip_adjoint)
        ok = time_op("adjoint", run_adjoint, &c, o.repeat, updates, 0) &&
             write_output(o.out, "adjoint.npy", vs, out.data);
    ok = ok && time_op("voxel_backprojection", run_voxel_bp, &c, o.repeat, updates, 0) &&
         write_output(o.out, "voxel_bp.npy", vs, out.data);
    ok = ok && time_op("fdk", run_fdk, &c, o.repeat, updates, 0) &&
         write_output(o.out, "fdk.npy", vs, out.data);
    if (ok)
        printf(" \"peak_tracked_bytes\": %zu}\n", cbct_mem_peak());
    cbct_array_destroy(&vol);
    cbct_array_destroy(&proj);
    cbct_array_destroy(&out);
    cbct_fdk_destroy(c.fdk);
    cbct_projector_destroy(c.projector);
    cbct_geometry_destroy(&g);
    return ok ? 0 : 1;
}
