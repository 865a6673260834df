/* Times the forward projector, its matched adjoint (Joseph transpose), FDK's
 * voxel-driven back-projection and a whole FDK on a cone-beam problem, and
 * prints giga voxel-view updates per second (GUPS = nx ny nz n_views /
 * seconds / 1e9) as JSON. Each figure is the best of --repeat runs.
 *
 * Usage: bench_projectors [--size N] [--views V] [--det D] [--threads T]
 *                         [--repeat R] [--kernel fast|reference]
 * Defaults: the case, 256^3 volume, 256 views of 256 x 256. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cbct.h"

typedef struct bench_opts {
    int64_t size, views, det;
    int threads, repeat;
    cbct_kernel kernel;
} bench_opts;

static int parse_args(int argc, char **argv, bench_opts *o)
{
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i], *value = i + 1 < argc ? argv[i + 1] : NULL;
        if (!value) {
            fprintf(stderr, "bench_projectors: %s needs a value\n", arg);
            return 0;
        }
        if (!strcmp(arg, "--size"))
            o->size = atoll(value);
        else if (!strcmp(arg, "--views"))
            o->views = atoll(value);
        else if (!strcmp(arg, "--det"))
            o->det = atoll(value);
        else if (!strcmp(arg, "--threads"))
            o->threads = atoi(value);
        else if (!strcmp(arg, "--repeat"))
            o->repeat = atoi(value);
        else if (!strcmp(arg, "--kernel"))
            o->kernel = strcmp(value, "reference") ? CBCT_KERNEL_FAST : CBCT_KERNEL_REFERENCE;
        else {
            fprintf(stderr, "bench_projectors: unknown option %s\n", arg);
            return 0;
        }
        i++;
    }
    if (o->size <= 0 || o->views <= 0 || o->det <= 0 || o->repeat <= 0) {
        fprintf(stderr, "bench_projectors: sizes and --repeat must be positive\n");
        return 0;
    }
    return 1;
}

/* Best of `repeat` runs, in seconds. */
typedef cbct_status (*bench_fn)(void *ctx);

static double time_best(bench_fn fn, void *ctx, int repeat)
{
    double best = 1e300;
    for (int r = 0; r < repeat; r++) {
        double t0 = cbct_seconds();
        if (fn(ctx) != CBCT_OK) {
            fprintf(stderr, "bench_projectors: %s\n", cbct_last_error());
            exit(1);
        }
        double t = cbct_seconds() - t0;
        if (t < best)
            best = t;
    }
    return best;
}

typedef struct bench_ctx {
    cbct_projector *projector;
    const cbct_geometry *geom;
    float *vol, *proj;
} bench_ctx;

static cbct_status run_forward(void *p)
{
    bench_ctx *c = p;
    return cbct_project(c->projector, c->vol, c->proj);
}

static cbct_status run_adjoint(void *p)
{
    bench_ctx *c = p;
    return cbct_backproject(c->projector, c->proj, c->vol);
}

/* FDK's voxel-driven back-projection alone (filtered views already made). */
typedef struct bench_bp_ctx {
    cbct_fdk *fdk;
    const cbct_geometry *geom;
    const float *filtered;
    float *vol;
} bench_bp_ctx;

static cbct_status run_voxel_bp(void *p)
{
    bench_bp_ctx *c = p;
    return cbct_fdk_backproject(c->fdk, 0, c->geom->n_views, c->filtered, 0,
                                c->geom->vol.shape[0], c->vol, 0);
}

static cbct_status run_fdk(void *p)
{
    bench_ctx *c = p;
    cbct_fdk_opts opts = {.filter = CBCT_FILTER_RAM_LAK};
    return cbct_fdk_reconstruct(c->geom, &opts, c->proj, c->vol);
}

int main(int argc, char **argv)
{
    bench_opts o = {.size = 256, .views = 256, .det = 256, .threads = 2, .repeat = 2,
                    .kernel = CBCT_KERNEL_FAST};
    if (!parse_args(argc, argv, &o))
        return 2;
    cbct_set_threads(o.threads);
    cbct_geometry g = {0};
    /* Magnification 2, detector covering the volume with a margin. */
    cbct_circular c = {.n_views = o.views, .arc_rad = 6.283185307179586, .sod_mm = 500,
                       .sdd_mm = 1000, .det_rows = o.det, .det_cols = o.det,
                       .pixel_mm = {2.0 * 1.2 * (double)o.size / (double)o.det,
                                    2.0 * 1.2 * (double)o.size / (double)o.det}};
    g.vol = (cbct_volume_geom){.shape = {o.size, o.size, o.size}, .voxel_size = {1, 1, 1}};
    cbct_projector *projector = NULL;
    cbct_array vol = {0}, proj = {0};
    cbct_projector_opts popts = {.kernel = o.kernel};
    if (cbct_geometry_circular(&c, &g) || cbct_projector_create(&g, &popts, &projector) ||
        cbct_array_zeros(&vol, o.size, o.size, o.size, "volume") ||
        cbct_array_zeros(&proj, o.views, o.det, o.det, "projections")) {
        fprintf(stderr, "bench_projectors: %s\n", cbct_last_error());
        return 1;
    }
    /* A centred ball of 0.02 /mm over 80% of the volume. */
    double r = 0.4 * (double)o.size;
    for (int64_t z = 0; z < o.size; z++)
        for (int64_t y = 0; y < o.size; y++)
            for (int64_t x = 0; x < o.size; x++) {
                double dz = z - 0.5 * o.size + 0.5, dy = y - 0.5 * o.size + 0.5,
                       dx = x - 0.5 * o.size + 0.5;
                if (dx * dx + dy * dy + dz * dz < r * r)
                    vol.data[(z * o.size + y) * o.size + x] = 0.02f;
            }
    bench_ctx ctx = {.projector = projector, .geom = &g, .vol = vol.data, .proj = proj.data};
    double updates = cbct_block_updates(&g, cbct_block_all(&g));
    double t_fwd = time_best(run_forward, &ctx, o.repeat);
    /* The adjoint's input in a solver is a dense residual: all ones here. */
    for (int64_t i = 0; i < cbct_array_numel(&proj); i++)
        proj.data[i] = 1.0f;
    double t_adj = time_best(run_adjoint, &ctx, o.repeat);
    cbct_project(projector, vol.data, proj.data); /* FDK of real projections */
    double t_fdk = time_best(run_fdk, &ctx, o.repeat);
    cbct_fdk *fdk = NULL;
    if (cbct_fdk_create(&g, NULL, &fdk) ||
        cbct_fdk_filter_views(fdk, 0, o.views, proj.data, proj.data)) {
        fprintf(stderr, "bench_projectors: %s\n", cbct_last_error());
        return 1;
    }
    bench_bp_ctx bp = {.fdk = fdk, .geom = &g, .filtered = proj.data, .vol = vol.data};
    double t_vbp = time_best(run_voxel_bp, &bp, o.repeat);
    cbct_fdk_destroy(fdk);
    printf("{\"size\": %lld, \"views\": %lld, \"det\": %lld, \"threads\": %d, \"kernel\": \"%s\",\n"
           " \"forward_s\": %.4f, \"forward_gups\": %.3f,\n"
           " \"adjoint_s\": %.4f, \"adjoint_gups\": %.3f,\n"
           " \"voxel_backprojection_s\": %.4f, \"voxel_backprojection_gups\": %.3f,\n"
           " \"fdk_s\": %.4f, \"fdk_gups\": %.3f,\n"
           " \"peak_tracked_bytes\": %zu}\n",
           (long long)o.size, (long long)o.views, (long long)o.det, o.threads,
           o.kernel == CBCT_KERNEL_FAST ? "fast" : "reference", t_fwd, updates / t_fwd / 1e9,
           t_adj, updates / t_adj / 1e9, t_vbp, updates / t_vbp / 1e9, t_fdk,
           updates / t_fdk / 1e9, cbct_mem_peak());
    cbct_array_destroy(&vol);
    cbct_array_destroy(&proj);
    cbct_projector_destroy(projector);
    cbct_geometry_destroy(&g);
    return 0;
}
