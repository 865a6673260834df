/* cbct phantom: a test volume written as .npy. */
#include <string.h>

#include "args.h"
#include "inputs.h"

/* The default scene: a 128 mm cube, which the default geometry (cbct
 * geometry circular) sees whole; 128^3 voxels of 1 mm. */
#define SCENE_EXTENT_MM 128.0
/* Shepp-Logan's outer ellipsoid spans this fraction of the smallest extent
 * (its half-axis), leaving a margin inside the field of view. */
#define SHEPP_LOGAN_RADIUS_FRACTION 0.45
/* Attenuation scale of the phantoms: about water at 70 keV (1/mm). */
#define PHANTOM_VALUE_PER_MM 0.02
/* The ball: a uniform sphere of this fraction of the smallest extent. */
#define BALL_RADIUS_FRACTION 0.35

static const cli_option options[] = {
    {"--kind", 0, "KIND", 0, "shepp-logan", "shepp-logan, walnut or ball"},
    {"--shape", 0, "NZ,NY,NX", 0, "128,128,128", "volume size in voxels (one number: a cube)"},
    {"--voxel", 0, "MM", 0, "128 mm / largest size (1 mm at 128)",
     "voxel size in mm, or DZ,DY,DX"},
    {"--seed", 0, "N", 0, "1", "random seed of the walnut"},
    {"--supersample", 0, "S", 0, "2", "S^3 samples per voxel for the ellipsoid phantoms"},
    {"--output", 'o', "FILE", 1, NULL, "output volume .npy (float32, 1/mm)"},
    {NULL, 0, NULL, 0, NULL, NULL}};

static const cli_command command = {
    "phantom [--kind KIND] [--shape NZ,NY,NX] [--voxel MM] -o vol.npy",
    "Writes a test volume in 1/mm: the 3D Shepp-Logan head (radius 0.45 x the smallest\n"
    "extent, values x 0.02 /mm), a procedural walnut, or a uniform ball. The default\n"
    "voxel size keeps the object inside the default 'cbct geometry circular' scan.",
    options, 0, 0};

static const char *const kinds[] = {"shepp-logan", "walnut", "ball", NULL};
enum { KIND_SHEPP_LOGAN, KIND_WALNUT, KIND_BALL };

static cbct_status make_phantom(int kind, const cbct_volume_geom *vg, uint64_t seed,
                                int supersample, float *data)
{
    double extent = vg->shape[0] * vg->voxel_size[0];
    for (int i = 1; i < 3; i++)
        if (vg->shape[i] * vg->voxel_size[i] < extent)
            extent = vg->shape[i] * vg->voxel_size[i];
    cbct_ellipsoid e[16];
    int n = 0;
    if (kind == KIND_WALNUT)
        return cbct_phantom_walnut(vg, seed, data);
    if (kind == KIND_SHEPP_LOGAN) {
        cbct_status s = cbct_phantom_shepp_logan(SHEPP_LOGAN_RADIUS_FRACTION * extent,
                                                 PHANTOM_VALUE_PER_MM, e, 16, &n);
        if (s != CBCT_OK)
            return s;
    } else {
        memset(e, 0, sizeof e[0]);
        for (int k = 0; k < 3; k++)
            e[0].semi_axes[k] = BALL_RADIUS_FRACTION * extent;
        e[0].value = PHANTOM_VALUE_PER_MM;
        n = 1;
    }
    return cbct_phantom_voxelize(e, n, vg, supersample, data);
}

int cmd_phantom(cli_context *ctx, int argc, char **argv)
{
    cli_args args;
    int rc = cli_parse(ctx, &command, argc, argv, &args);
    if (rc != CLI_PARSED)
        return rc;
    int kind = KIND_SHEPP_LOGAN;
    int64_t shape[3] = {128, 128, 128}, seed = 1, supersample = 2;
    double voxel[3];
    if (cli_choice(&args, "--kind", kinds, &kind) ||
        cli_ints(&args, "--shape", 3, 1, INT64_MAX, shape) ||
        cli_int(&args, "--seed", 0, INT64_MAX, &seed) ||
        cli_int(&args, "--supersample", 1, 16, &supersample))
        return CLI_EXIT_USAGE;
    int64_t largest = shape[0] > shape[1] ? shape[0] : shape[1];
    largest = largest > shape[2] ? largest : shape[2];
    for (int i = 0; i < 3; i++)
        voxel[i] = SCENE_EXTENT_MM / (double)largest;
    if (cli_doubles(&args, "--voxel", 3, 1e-9, 1e9, voxel))
        return CLI_EXIT_USAGE;
    const char *out_path = cli_value(&args, "--output");

    cbct_volume_geom vg;
    memset(&vg, 0, sizeof vg);
    for (int i = 0; i < 3; i++) {
        vg.shape[i] = shape[i];
        vg.voxel_size[i] = voxel[i];
    }
    cbct_array vol;
    cbct_status s = cbct_array_create(&vol, shape[0], shape[1], shape[2], "phantom volume");
    if (s == CBCT_OK)
        s = make_phantom(kind, &vg, (uint64_t)seed, (int)supersample, vol.data);
    if (s == CBCT_OK) {
        for (int i = 0; i < 3; i++)
            vol.spacing[i] = voxel[i];
        s = cbct_npy_write(out_path, &vol);
    }
    cbct_array_destroy(&vol);
    if (s != CBCT_OK)
        return cli_runtime_error(ctx);
    char text[64];
    cbct_log(CBCT_LOG_INFO, "wrote %s: %s %s, %s voxels of %g x %g x %g mm", out_path,
             kinds[kind], "phantom", cli_shape_text(shape, text, sizeof text), voxel[0],
             voxel[1], voxel[2]);
    cli_report_resources(ctx);
    return CLI_EXIT_OK;
}
