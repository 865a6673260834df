/* Shared state of one run of the command-line tool: which command runs, how
 * chatty it is, when it started. Passed to every sub-command (no globals). */
#ifndef CBCT_TOOL_CLI_H
#define CBCT_TOOL_CLI_H

#include <stdio.h>

#include "cbct.h"
#include "progress.h"

/* pi, for degrees <-> radians (M_PI is not part of C11). */
#define CLI_PI 3.14159265358979323846

/* Exit codes. */
/* Exit codes: 3 is a run refused or stopped by the memory budget (or the
 * system), so that `cbct bench` records it as out_of_memory. */
enum { CLI_EXIT_OK = 0, CLI_EXIT_RUNTIME = 1, CLI_EXIT_USAGE = 2, CLI_EXIT_MEMORY = 3 };

typedef struct cli_context {
    char command[64];       /* "geometry circular": the prefix of every message */
    int quiet;              /* only warnings and errors on stderr */
    int verbose;            /* debug messages too */
    double t_start;         /* cbct_seconds() when the command started */
    cli_progress progress;  /* the bar on stderr */
} cli_context;

/* The log callback (registered with cbct_set_log, user = the context). */
void cli_log(cbct_log_level level, const char *message, void *user);

/* Prints "cbct <cmd>: error: <cbct_last_error()>" and returns CLI_EXIT_RUNTIME
 * (CLI_EXIT_MEMORY when the error was CBCT_ERR_MEMORY). */
int cli_runtime_error(cli_context *ctx);
/* Prints "cbct <cmd>: <message>" and a hint to --help; returns CLI_EXIT_USAGE. */
int cli_usage_error(cli_context *ctx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* "cbct <cmd>: done in 1.23 s, peak memory 10.0 MiB tracked, 40.0 MiB RSS"
 * on stderr unless --quiet. */
void cli_report_resources(cli_context *ctx);

/* Sub-commands: argv[0] is the command name, options follow. */
int cmd_phantom(cli_context *ctx, int argc, char **argv);
int cmd_geometry(cli_context *ctx, int argc, char **argv);
int cmd_project(cli_context *ctx, int argc, char **argv);
int cmd_backproject(cli_context *ctx, int argc, char **argv);
int cmd_fdk(cli_context *ctx, int argc, char **argv);
int cmd_compare(cli_context *ctx, int argc, char **argv);
int cmd_info(cli_context *ctx, int argc, char **argv);
int cmd_demo(cli_context *ctx, int argc, char **argv);

/* Prints what a geometry describes (views, detector, volume, magnification,
 * field of view) to `out`; shared by `geometry info` and `info`. */
void cli_print_geometry(const cbct_geometry *g, const char *name, FILE *out);

#endif
