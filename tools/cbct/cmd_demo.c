/* cbct demo: the whole chain on a built-in example, in seconds: a walnut
 * phantom, a circular scan fitted to it, projection, FDK, quality figures
 * and PNG previews. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "args.h"
#include "inputs.h"

/* The scene of the other commands' defaults: a 128 mm cube seen with
 * magnification 2 (source-axis 400 mm, source-detector 800 mm) by a detector
 * 1.25 times the volume's width in pixels of 1.6 voxels (mm at the detector),
 * so that the walnut (80% of the cube) is inside every view. */
#define DEMO_EXTENT_MM 128.0
#define DEMO_SOD_MM 400.0
#define DEMO_SDD_MM 800.0
#define DEMO_DETECTOR_OVERSIZE 1.25
#define DEMO_PIXEL_PER_VOXEL 1.6
#define DEMO_SEED 1
#define DEMO_N_FILES 6

static const cli_option options[] = {
    {"--output", 'o', "DIR", 0, "out/demo", "folder for the results (created)"},
    {"--size", 0, "N", 0, "128", "volume of N^3 voxels (128 mm cube)"},
    {"--views", 0, "N", 0, "50", "number of views over a full turn"},
    {NULL, 0, NULL, 0, NULL, NULL}};

static const cli_command command = {
    "demo [-o DIR] [--size N] [--views N]",
    "Runs the main job on a built-in example: a walnut phantom, a circular scan\n"
    "fitted to it, forward projection, FDK, PSNR/SSIM against the phantom and the\n"
    "time of each step. Writes phantom.npy, geom.json, proj.npy, fdk.npy, axial.png\n"
    "and coronal.png (phantom | FDK) into DIR.",
    options, 0, 0};

typedef struct demo_run {
    cbct_geometry geom;
    cbct_array phantom, proj, rec;
    char files[DEMO_N_FILES][1100]; /* written so far: removed on failure */
    int n_files;
    double t_phantom, t_project, t_fdk;
    cbct_metrics metrics;
} demo_run;

static const char *file_in(demo_run *r, const char *dir, const char *name)
{
    char *path = r->files[r->n_files++];
    snprintf(path, sizeof r->files[0], "%s/%s", dir, name);
    return path;
}

static cbct_status scan_geometry(cbct_geometry *g, int64_t size, int64_t n_views)
{
    double voxel_mm = DEMO_EXTENT_MM / (double)size;
    int64_t det = (int64_t)(DEMO_DETECTOR_OVERSIZE * (double)size + 0.999);
    cbct_circular c = {.n_views = n_views,
                       .first_angle_rad = 0,
                       .arc_rad = 2 * CLI_PI,
                       .sod_mm = DEMO_SOD_MM,
                       .sdd_mm = DEMO_SDD_MM,
                       .det_rows = det,
                       .det_cols = det,
                       .pixel_mm = {DEMO_PIXEL_PER_VOXEL * voxel_mm, DEMO_PIXEL_PER_VOXEL * voxel_mm},
                       .det_offset_mm = {0, 0}};
    cbct_status s = cbct_geometry_circular(&c, g);
    for (int i = 0; s == CBCT_OK && i < 3; i++) {
        g->vol.shape[i] = size;
        g->vol.voxel_size[i] = voxel_mm;
        g->vol.origin[i] = 0;
    }
    return s;
}

static cbct_status compute(demo_run *r, int64_t size, int64_t n_views)
{
    cbct_geometry *g = &r->geom;
    cbct_status s = scan_geometry(g, size, n_views);
    if (s == CBCT_OK)
        s = cbct_array_create(&r->phantom, size, size, size, "phantom");
    if (s == CBCT_OK)
        s = cbct_array_create(&r->proj, n_views, g->det_rows, g->det_cols, "projections");
    if (s == CBCT_OK)
        s = cbct_array_create(&r->rec, size, size, size, "FDK volume");
    if (s != CBCT_OK)
        return s;
    for (int i = 0; i < 3; i++)
        r->phantom.spacing[i] = r->rec.spacing[i] = g->vol.voxel_size[i];
    double t0 = cbct_seconds();
    s = cbct_phantom_walnut(&g->vol, DEMO_SEED, r->phantom.data);
    double t1 = cbct_seconds();
    cbct_projector *p = NULL;
    cbct_projector_opts opts = {.kernel = CBCT_KERNEL_FAST};
    if (s == CBCT_OK)
        s = cbct_projector_create(g, &opts, &p);
    if (s == CBCT_OK)
        s = cbct_project(p, r->phantom.data, r->proj.data);
    if (p)
        cbct_projector_destroy(p);
    double t2 = cbct_seconds();
    cbct_fdk_opts fdk_opts = {.filter = CBCT_FILTER_RAM_LAK, .cutoff = 1.0,
                              .short_scan = CBCT_SHORT_SCAN_AUTO};
    if (s == CBCT_OK)
        s = cbct_fdk_reconstruct(g, &fdk_opts, r->proj.data, r->rec.data);
    double t3 = cbct_seconds();
    if (s == CBCT_OK)
        s = cbct_compare(&r->phantom, &r->rec, NULL, 0, &r->metrics);
    r->t_phantom = t1 - t0;
    r->t_project = t2 - t1;
    r->t_fdk = t3 - t2;
    return s;
}

static float max_value(const cbct_array *a)
{
    float m = a->data[0];
    for (int64_t i = 1; i < cbct_array_numel(a); i++)
        m = a->data[i] > m ? a->data[i] : m;
    return m;
}

static cbct_status write_files(demo_run *r, const char *dir)
{
    cbct_status s = cli_make_folder(dir);
    if (s == CBCT_OK)
        s = cbct_npy_write(file_in(r, dir, "phantom.npy"), &r->phantom);
    if (s == CBCT_OK)
        s = cbct_npy_write(file_in(r, dir, "proj.npy"), &r->proj);
    if (s == CBCT_OK)
        s = cbct_geometry_write_json(file_in(r, dir, "geom.json"), &r->geom);
    if (s == CBCT_OK)
        s = cbct_npy_write(file_in(r, dir, "fdk.npy"), &r->rec);
    /* Same window for both: differences show as differences in grey. */
    const cbct_array *pair[2] = {&r->phantom, &r->rec};
    float hi = max_value(&r->phantom);
    if (s == CBCT_OK)
        s = cbct_png_write_slices(file_in(r, dir, "axial.png"), pair, 2, CBCT_SLICE_AXIAL, 0, hi);
    if (s == CBCT_OK)
        s = cbct_png_write_slices(file_in(r, dir, "coronal.png"), pair, 2, CBCT_SLICE_CORONAL,
                                  0, hi);
    return s;
}

int cmd_demo(cli_context *ctx, int argc, char **argv)
{
    cli_args args;
    int rc = cli_parse(ctx, &command, argc, argv, &args);
    if (rc != CLI_PARSED)
        return rc;
    int64_t size = 128, n_views = 50;
    if (cli_int(&args, "--size", 8, 4096, &size) || cli_int(&args, "--views", 1, 100000, &n_views))
        return CLI_EXIT_USAGE;
    const char *dir = cli_string(&args, "--output", "out/demo");
    demo_run r;
    memset(&r, 0, sizeof r);
    cbct_status s = compute(&r, size, n_views);
    if (s == CBCT_OK)
        s = write_files(&r, dir);
    if (s != CBCT_OK)
        for (int i = 0; i < r.n_files; i++)
            unlink(r.files[i]); /* no partial set of results */
    cbct_array_destroy(&r.phantom);
    cbct_array_destroy(&r.proj);
    cbct_array_destroy(&r.rec);
    cbct_geometry_destroy(&r.geom);
    if (s != CBCT_OK)
        return cli_runtime_error(ctx);
    printf("demo: walnut %lld^3 voxels of %.3g mm, %lld views of %lld x %lld pixels\n",
           (long long)size, DEMO_EXTENT_MM / (double)size, (long long)n_views,
           (long long)r.geom.det_rows, (long long)r.geom.det_cols);
    printf("  phantom   %7.3f s\n  project   %7.3f s\n  fdk       %7.3f s\n", r.t_phantom,
           r.t_project, r.t_fdk);
    printf("  FDK vs phantom: PSNR %.2f dB, SSIM %.4f, RMSE %.4g /mm\n", r.metrics.psnr_db,
           r.metrics.ssim, r.metrics.rmse);
    printf("  wrote %s/{phantom.npy, proj.npy, geom.json, fdk.npy, axial.png, coronal.png}\n",
           dir);
    cli_report_resources(ctx);
    return CLI_EXIT_OK;
}
