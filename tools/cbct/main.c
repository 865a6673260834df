/* cbct: the command-line tool. Dispatches sub-commands; each one lives in
 * its own cmd_<name>.c and parses its options with args.c. */
#include <limits.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <stdio.h>
#include <string.h>

#include "args.h"
#include "cli.h"

/* cmd_denoise.c (not in cli.h: the denoiser's command was added later). */
int cmd_denoise(cli_context *ctx, int argc, char **argv);
/* cmd_convert.c (also added later). */
int cmd_convert(cli_context *ctx, int argc, char **argv);
int cmd_recon(cli_context *ctx, int argc, char **argv); /* cmd_recon.c */
int cmd_import(cli_context *ctx, int argc, char **argv); /* cmd_import.c */
void cli_debug_faults_from_env(void); /* debug_faults.c: CBCT_FAIL_*_AFTER */
int cmd_bench(cli_context *ctx, int argc, char **argv);     /* cmd_bench.c */
int cmd_dashboard(cli_context *ctx, int argc, char **argv); /* cmd_dashboard.c */

typedef int (*cli_command_fn)(cli_context *ctx, int argc, char **argv);

typedef struct command_entry {
    const char *name;
    cli_command_fn run;
    const char *summary;
} command_entry;

static const command_entry commands[] = {
    {"phantom", cmd_phantom, "make a test volume (Shepp-Logan, walnut, ball)"},
    {"geometry", cmd_geometry, "write a circular scan geometry, or describe one"},
    {"project", cmd_project, "forward-project a volume (line integrals)"},
    {"backproject", cmd_backproject, "back-project projections (adjoint of project)"},
    {"fdk", cmd_fdk, "FDK reconstruction from projections"},
    {"denoise", cmd_denoise, "denoise a volume with a DRUNet, patch by patch"},
    {"compare", cmd_compare, "RMSE, PSNR, SSIM and max difference of two volumes"},
    {"convert", cmd_convert, "convert a volume between .npy, .mha/.mhd, TIFF, NIfTI, HDF5"},
    {"import", cmd_import, "read a dataset (the Walnut scans) into proj.npy + geom.json"},
    {"info", cmd_info, "describe a volume file or a geometry .json"},
    {"recon", cmd_recon, "reconstruction run described by a YAML config"},
    {"bench", cmd_bench, "run every point of a config's grid of runs, one record each"},
    {"dashboard", cmd_dashboard, "one HTML page of charts from a cbct bench results folder"},
    {"demo", cmd_demo, "phantom, scan, FDK and previews in one go"},
};
#define N_COMMANDS (int)(sizeof commands / sizeof commands[0])

static void print_usage(FILE *out)
{
    fprintf(out, "Usage: cbct <command> [options]\n\n"
                 "Cone-beam CT: phantoms, ASTRA-compatible geometry, projectors, FDK.\n\n"
                 "Commands:\n");
    for (int i = 0; i < N_COMMANDS; i++)
        fprintf(out, "  %-12s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "  %-12s %s\n", "help", "this list, or 'cbct help <command>'");
    fprintf(out, "\nEvery command accepts --mem SIZE, --threads N, --quiet, --verbose and "
                 "-h/--help.\n'cbct --version' prints the version. Exit codes: 0 ok, "
                 "1 runtime error, 2 usage error.\n");
}

static const command_entry *find_command(const char *name)
{
    for (int i = 0; i < N_COMMANDS; i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

/* "cbct help [command]". */
static int run_help(cli_context *ctx, int argc, char **argv)
{
    if (argc < 2) {
        print_usage(stdout);
        return CLI_EXIT_OK;
    }
    const command_entry *c = find_command(argv[1]);
    if (!c)
        return cli_usage_error(ctx, "unknown command '%s'", argv[1]);
    char *help_argv[] = {argv[1], "--help", NULL};
    snprintf(ctx->command, sizeof ctx->command, "%s", c->name);
    return c->run(ctx, 2, help_argv);
}

/* Large buffers (DRUNet activations, projections, gradients) are allocated
 * and freed many times in a run. glibc serves blocks above its mmap
 * threshold (at most 32 MiB) with fresh mappings whose pages fault and are
 * zeroed again at each first touch: 118 M page faults and 8% of the CPU
 * time of a reference-size PnP run (docs/performance.md). Keep every block
 * in the heap instead, and do not give the heap back while running; the
 * resident peak is the same, the tracked figures are unchanged. */
static void keep_large_blocks_in_heap(void)
{
#ifdef __GLIBC__
    mallopt(M_MMAP_MAX, 0);
    mallopt(M_TRIM_THRESHOLD, INT_MAX);
#endif
}

int main(int argc, char **argv)
{
    keep_large_blocks_in_heap();
    cli_context ctx;
    memset(&ctx, 0, sizeof ctx);
    ctx.t_start = cbct_seconds();
    snprintf(ctx.command, sizeof ctx.command, "%s", argc > 1 ? argv[1] : "");
    cli_progress_init(&ctx.progress, 0); /* enabled by cli_parse after --quiet is known */
    cbct_set_log(cli_log, &ctx, CBCT_LOG_DEBUG);
    cbct_set_progress(cli_progress_update, &ctx.progress);
    cli_debug_faults_from_env();

    if (argc < 2) {
        print_usage(stderr);
        return CLI_EXIT_USAGE;
    }
    const char *name = argv[1];
    if (strcmp(name, "--version") == 0 || strcmp(name, "version") == 0) {
        printf("cbct %s\n", CBCT_VERSION);
        return CLI_EXIT_OK;
    }
    if (strcmp(name, "-h") == 0 || strcmp(name, "--help") == 0) {
        print_usage(stdout);
        return CLI_EXIT_OK;
    }
    if (strcmp(name, "help") == 0)
        return run_help(&ctx, argc - 1, argv + 1);
    const command_entry *c = find_command(name);
    if (!c) {
        fprintf(stderr, "cbct: unknown command '%s'\n", name);
        print_usage(stderr);
        return CLI_EXIT_USAGE;
    }
    int rc = c->run(&ctx, argc - 1, argv + 1);
    cli_progress_clear(&ctx.progress);
    return rc;
}
