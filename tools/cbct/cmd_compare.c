/* cbct compare: image quality of a test volume against a reference. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "args.h"
#include "inputs.h"

static const cli_option options[] = {
    {"--json", 0, NULL, 0, NULL,
     "print one JSON object {\"rmse\", \"psnr\", \"ssim\", \"max_abs_diff\", \"data_range\"}"},
    {"--range", 0, "R", 0, "max - min of the reference", "data range for PSNR and SSIM (1/mm)"},
    {"--fov", 0, NULL, 0, NULL,
     "only voxels in the cylinder inscribed in the x-y square (a circular scan's field of view)"},
    {NULL, 0, NULL, 0, NULL, NULL}};

static const cli_command command = {
    "compare reference.npy test.npy [--json] [--range R] [--fov]",
    "Prints RMSE (1/mm), PSNR (dB, 20 log10(range / RMSE)), 3D SSIM (7^3 window) and\n"
    "the largest absolute difference between two volumes of the same shape.",
    options, 2, 2};

static cbct_status load(const char *path, cbct_array *a)
{
    cbct_status s = cbct_volume_read(path, a); /* any volume format */
    if (s == CBCT_OK)
        s = cli_check_finite(a->data, a->shape, 0, path, "z, y, x");
    return cli_name_file(s, path);
}

/* 1 inside the cylinder along z inscribed in the volume's x-y extent. */
static unsigned char *fov_mask(const cbct_array *a)
{
    int64_t nz = a->shape[0], ny = a->shape[1], nx = a->shape[2];
    unsigned char *mask = cbct_alloc((size_t)cbct_array_numel(a), "field-of-view mask");
    if (!mask)
        return NULL;
    for (int64_t iy = 0; iy < ny; iy++)
        for (int64_t ix = 0; ix < nx; ix++) {
            double y = ((double)iy - 0.5 * (double)(ny - 1)) / (0.5 * (double)ny);
            double x = ((double)ix - 0.5 * (double)(nx - 1)) / (0.5 * (double)nx);
            mask[iy * nx + ix] = x * x + y * y <= 1.0;
        }
    for (int64_t iz = 1; iz < nz; iz++)
        memcpy(mask + iz * ny * nx, mask, (size_t)(ny * nx));
    return mask;
}

/* A JSON number, or null for inf/NaN (PSNR of identical volumes). */
static void json_number(const char *key, double value, int last)
{
    if (isfinite(value))
        printf("  \"%s\": %.9g%s\n", key, value, last ? "" : ",");
    else
        printf("  \"%s\": null%s\n", key, last ? "" : ",");
}

static void print_metrics(const cbct_metrics *m, int json)
{
    if (json) {
        printf("{\n");
        json_number("rmse", m->rmse, 0);
        json_number("psnr", m->psnr_db, 0);
        json_number("ssim", m->ssim, 0);
        json_number("max_abs_diff", m->max_abs_diff, 0);
        json_number("data_range", m->data_range, 1);
        printf("}\n");
        return;
    }
    printf("rmse          %.6g /mm\n", m->rmse);
    printf("psnr          %.3f dB (data range %.6g /mm)\n", m->psnr_db, m->data_range);
    printf("ssim          %.5f\n", m->ssim);
    printf("max_abs_diff  %.6g /mm\n", m->max_abs_diff);
}

int cmd_compare(cli_context *ctx, int argc, char **argv)
{
    cli_args args;
    int rc = cli_parse(ctx, &command, argc, argv, &args);
    if (rc != CLI_PARSED)
        return rc;
    double range = 0;
    if (cli_double(&args, "--range", 1e-30, INFINITY, &range))
        return CLI_EXIT_USAGE;
    const char *ref_path = args.positional[0], *test_path = args.positional[1];
    cbct_array ref, test;
    memset(&ref, 0, sizeof ref);
    memset(&test, 0, sizeof test);
    unsigned char *mask = NULL;
    cbct_metrics m;
    char a[64], b[64];
    cbct_status s = load(ref_path, &ref);
    if (s == CBCT_OK)
        s = load(test_path, &test);
    if (s == CBCT_OK && memcmp(ref.shape, test.shape, sizeof ref.shape) != 0)
        s = cbct_error(CBCT_ERR_FORMAT, "shapes differ: %s is %s, %s is %s", ref_path,
                       cli_shape_text(ref.shape, a, sizeof a), test_path,
                       cli_shape_text(test.shape, b, sizeof b));
    if (s == CBCT_OK && cli_flag(&args, "--fov") && !(mask = fov_mask(&ref)))
        s = CBCT_ERR_MEMORY;
    if (s == CBCT_OK)
        s = cbct_compare(&ref, &test, mask, range, &m);
    cbct_free(mask);
    cbct_array_destroy(&ref);
    cbct_array_destroy(&test);
    if (s != CBCT_OK)
        return cli_runtime_error(ctx);
    print_metrics(&m, cli_flag(&args, "--json"));
    cli_report_resources(ctx);
    return CLI_EXIT_OK;
}
