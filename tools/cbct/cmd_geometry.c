/* cbct geometry circular | info | to-astra | from-astra: write a circular
 * scan, describe a file, convert to and from ASTRA's dictionaries. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "args.h"
#include "inputs.h"

/* The default scene (see cmd_phantom.c): a 128 mm cube. */
#define SCENE_EXTENT_MM 128.0

static const cli_option circular_options[] = {
    {"--views", 0, "N", 0, "50", "number of views"},
    {"--det", 0, "ROWS,COLS", 0, "160,160", "detector size in pixels"},
    {"--pixel", 0, "MM", 0, "1.6", "detector pixel pitch in mm, or PV,PU (row, column)"},
    {"--sod", 0, "MM", 0, "400", "source to rotation axis distance in mm"},
    {"--sdd", 0, "MM", 0, "800", "source to detector distance in mm"},
    {"--arc", 0, "DEG", 0, "360", "angular range in degrees (views at first + i * arc / N)"},
    {"--first-angle", 0, "DEG", 0, "0", "angle of the first view in degrees"},
    {"--offset", 0, "OV,OU", 0, "0,0", "detector centre shift along rows, columns in mm"},
    {"--volume", 0, "NZ,NY,NX", 0, "128,128,128", "volume size in voxels (one number: a cube)"},
    {"--voxel", 0, "MM", 0, "128 mm / largest volume size",
     "voxel size in mm, or DZ,DY,DX, or 'fit' (largest cube in the field of view)"},
    {"--origin", 0, "OZ,OY,OX", 0, "0,0,0", "position of the volume centre in mm"},
    {"--output", 'o', "FILE", 1, NULL, "output geometry .json"},
    {NULL, 0, NULL, 0, NULL, NULL}};

static const cli_command circular_command = {
    "geometry circular [options] -o geom.json",
    "Writes the geometry of a circular cone-beam scan (ASTRA 'cone' converted to\n"
    "'cone_vec' vectors) with its reconstruction volume.",
    circular_options, 0, 0};

static const cli_command info_command = {
    "geometry info geom.json",
    "Prints the number of views, the detector, the volume, the magnification and\n"
    "the field of view of a geometry file.",
    NULL, 1, 1};

static const cli_option to_astra_options[] = {
    {"--type", 0, "cone_vec|cone", 0, "cone_vec",
     "ASTRA proj_geom type ('cone' only for a circular scan without detector offsets)"},
    {"--output", 'o', "FILE", 1, NULL, "output ASTRA .json (proj_geom and vol_geom)"},
    {NULL, 0, NULL, 0, NULL, NULL}};

static const cli_command to_astra_command = {
    "geometry to-astra geom.json -o astra.json [--type cone_vec|cone]",
    "Writes a geometry as ASTRA's proj_geom and vol_geom dictionaries (JSON, the\n"
    "keys astra.create_proj_geom / create_vol_geom return). ASTRA stores\n"
    "projections as (rows, views, cols): 'cbct convert --layout astra' makes\n"
    "that from cbct's (views, rows, cols).",
    to_astra_options, 1, 1};

static const cli_option from_astra_options[] = {
    {"--output", 'o', "FILE", 1, NULL, "output cbct geometry .json"},
    {NULL, 0, NULL, 0, NULL, NULL}};

static const cli_command from_astra_command = {
    "geometry from-astra astra.json -o geom.json",
    "Reads ASTRA 'cone' or 'cone_vec' proj_geom (and vol_geom) dictionaries\n"
    "as JSON and writes cbct's geometry JSON (every command also reads the\n"
    "ASTRA file directly).",
    from_astra_options, 1, 1};

static int run_to_astra(cli_context *ctx, int argc, char **argv)
{
    cli_args args;
    int rc = cli_parse(ctx, &to_astra_command, argc, argv, &args);
    if (rc != CLI_PARSED)
        return rc;
    static const char *const types[] = {"cone_vec", "cone", NULL};
    int type = 0;
    if (cli_value(&args, "--type") && cli_choice(&args, "--type", types, &type))
        return CLI_EXIT_USAGE;
    cbct_geometry g;
    if (cli_load_geometry(args.positional[0], &g) != CBCT_OK)
        return cli_runtime_error(ctx);
    cbct_status s = cbct_astra_write_json(cli_value(&args, "--output"), &g,
                                          type ? CBCT_ASTRA_CONE : CBCT_ASTRA_CONE_VEC);
    cbct_geometry_destroy(&g);
    return s == CBCT_OK ? CLI_EXIT_OK : cli_runtime_error(ctx);
}

static int run_from_astra(cli_context *ctx, int argc, char **argv)
{
    cli_args args;
    int rc = cli_parse(ctx, &from_astra_command, argc, argv, &args);
    if (rc != CLI_PARSED)
        return rc;
    cbct_geometry g;
    cbct_status s = cbct_astra_read_json(args.positional[0], &g);
    if (s == CBCT_OK)
        s = cbct_geometry_write_json(cli_value(&args, "--output"), &g);
    if (s == CBCT_OK && !ctx->quiet)
        cli_print_geometry(&g, args.positional[0], stdout);
    cbct_geometry_destroy(&g);
    return s == CBCT_OK ? CLI_EXIT_OK : cli_runtime_error(ctx);
}

static int run_circular(cli_context *ctx, int argc, char **argv)
{
    cli_args args;
    int rc = cli_parse(ctx, &circular_command, argc, argv, &args);
    if (rc != CLI_PARSED)
        return rc;
    int64_t n_views = 50, det[2] = {160, 160}, shape[3] = {128, 128, 128};
    double pixel[2] = {1.6, 1.6}, sod = 400, sdd = 800, arc = 360, first = 0;
    double offset[2] = {0, 0}, origin[3] = {0, 0, 0}, voxel[3];
    if (cli_int(&args, "--views", 1, INT64_MAX, &n_views) ||
        cli_ints(&args, "--det", 2, 1, INT64_MAX, det) ||
        cli_doubles(&args, "--pixel", 2, 1e-9, 1e9, pixel) ||
        cli_double(&args, "--sod", 1e-9, 1e9, &sod) ||
        cli_double(&args, "--sdd", 1e-9, 1e9, &sdd) ||
        cli_double(&args, "--arc", -36000, 36000, &arc) ||
        cli_double(&args, "--first-angle", -36000, 36000, &first) ||
        cli_doubles(&args, "--offset", 2, -1e9, 1e9, offset) ||
        cli_ints(&args, "--volume", 3, 1, INT64_MAX, shape) ||
        cli_doubles(&args, "--origin", 3, -1e9, 1e9, origin))
        return CLI_EXIT_USAGE;
    if (arc == 0)
        return cli_usage_error(ctx, "option --arc: '0' is not valid: expected a non-zero "
                                    "angle in degrees");
    if (!(sdd > sod))
        return cli_usage_error(ctx, "options --sod %g and --sdd %g: the source-detector "
                                    "distance must exceed the source-axis distance", sod, sdd);
    const char *voxel_text = cli_value(&args, "--voxel");
    int fit = voxel_text && strcmp(voxel_text, "fit") == 0;
    int64_t largest = shape[0] > shape[1] ? shape[0] : shape[1];
    largest = largest > shape[2] ? largest : shape[2];
    for (int i = 0; i < 3; i++)
        voxel[i] = SCENE_EXTENT_MM / (double)largest;
    if (!fit && cli_doubles(&args, "--voxel", 3, 1e-9, 1e9, voxel))
        return CLI_EXIT_USAGE;

    cbct_circular c = {.n_views = n_views,
                       .first_angle_rad = first * CLI_PI / 180.0,
                       .arc_rad = arc * CLI_PI / 180.0,
                       .sod_mm = sod,
                       .sdd_mm = sdd,
                       .det_rows = det[0],
                       .det_cols = det[1],
                       .pixel_mm = {pixel[0], pixel[1]},
                       .det_offset_mm = {offset[0], offset[1]}};
    cbct_geometry g;
    memset(&g, 0, sizeof g);
    cbct_status s = cbct_geometry_circular(&c, &g);
    if (s == CBCT_OK && fit)
        s = cbct_volume_geom_fit(&g, shape[0], shape[1], shape[2], &g.vol);
    if (s == CBCT_OK && !fit)
        for (int i = 0; i < 3; i++) {
            g.vol.shape[i] = shape[i];
            g.vol.voxel_size[i] = voxel[i];
        }
    for (int i = 0; i < 3; i++)
        g.vol.origin[i] = origin[i];
    const char *out_path = cli_value(&args, "--output");
    if (s == CBCT_OK)
        s = cbct_geometry_validate(&g);
    if (s == CBCT_OK)
        s = cbct_geometry_write_json(out_path, &g);
    if (s != CBCT_OK) {
        cbct_geometry_destroy(&g);
        return cli_runtime_error(ctx);
    }
    if (!ctx->quiet)
        cli_print_geometry(&g, out_path, stdout);
    cbct_geometry_destroy(&g);
    return CLI_EXIT_OK;
}

static int run_info(cli_context *ctx, int argc, char **argv)
{
    cli_args args;
    int rc = cli_parse(ctx, &info_command, argc, argv, &args);
    if (rc != CLI_PARSED)
        return rc;
    cbct_geometry g;
    if (cli_load_geometry(args.positional[0], &g) != CBCT_OK)
        return cli_runtime_error(ctx);
    cli_print_geometry(&g, args.positional[0], stdout);
    cbct_geometry_destroy(&g);
    return CLI_EXIT_OK;
}

int cmd_geometry(cli_context *ctx, int argc, char **argv)
{
    const char *sub = argc > 1 ? argv[1] : "";
    if (strcmp(sub, "to-astra") == 0 || strcmp(sub, "from-astra") == 0) {
        snprintf(ctx->command, sizeof ctx->command, "geometry %s", sub);
        return strcmp(sub, "to-astra") == 0 ? run_to_astra(ctx, argc - 1, argv + 1)
                                            : run_from_astra(ctx, argc - 1, argv + 1);
    }
    if (strcmp(sub, "circular") == 0 || strcmp(sub, "info") == 0) {
        snprintf(ctx->command, sizeof ctx->command, "geometry %s", sub);
        return strcmp(sub, "circular") == 0 ? run_circular(ctx, argc - 1, argv + 1)
                                            : run_info(ctx, argc - 1, argv + 1);
    }
    if (strcmp(sub, "-h") == 0 || strcmp(sub, "--help") == 0) {
        printf("Usage: cbct geometry circular [options] -o geom.json\n"
               "       cbct geometry info geom.json\n"
               "       cbct geometry to-astra geom.json -o astra.json [--type cone_vec|cone]\n"
               "       cbct geometry from-astra astra.json -o geom.json\n\n"
               "'cbct geometry circular --help' lists the scan options.\n");
        return CLI_EXIT_OK;
    }
    if (!*sub)
        return cli_usage_error(ctx, "missing sub-command: expected 'circular', 'info', 'to-astra' or "
                                    "'from-astra'");
    return cli_usage_error(ctx, "unknown sub-command '%s': expected 'circular', 'info', "
                                "'to-astra' or 'from-astra'", sub);
}
