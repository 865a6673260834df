/* Messages of the tool: log callback, error reports, the closing summary. */
#include <stdarg.h>
#include <stdio.h>

#include "cli.h"

static void print_line(cli_context *ctx, const char *kind, const char *message)
{
    cli_progress_clear(&ctx->progress);
    fprintf(stderr, "cbct %s: %s%s\n", ctx->command, kind, message);
    fflush(stderr);
}

static void log_line(cli_context *ctx, cbct_log_level level, const char *message)
{
    switch (level) {
    case CBCT_LOG_ERROR: print_line(ctx, "error: ", message); break;
    case CBCT_LOG_WARN: print_line(ctx, "warning: ", message); break;
    case CBCT_LOG_INFO:
        if (!ctx->quiet)
            print_line(ctx, "", message);
        break;
    case CBCT_LOG_DEBUG:
        if (ctx->verbose)
            print_line(ctx, "debug: ", message);
        break;
    }
}

void cli_log(cbct_log_level level, const char *message, void *user)
{
    /* Same lock as the progress bar: both write the bottom line of stderr. */
#pragma omp critical(cbct_cli_progress)
    log_line((cli_context *)user, level, message);
}

int cli_runtime_error(cli_context *ctx)
{
    const char *message = cbct_last_error();
    print_line(ctx, "error: ", *message ? message : "unknown error (no message recorded)");
    return cbct_last_status() == CBCT_ERR_MEMORY ? CLI_EXIT_MEMORY : CLI_EXIT_RUNTIME;
}

int cli_usage_error(cli_context *ctx, const char *fmt, ...)
{
    char message[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    print_line(ctx, "", message);
    fprintf(stderr, "Try 'cbct %s --help' for the options.\n", ctx->command);
    return CLI_EXIT_USAGE;
}

void cli_report_resources(cli_context *ctx)
{
    char tracked[32], rss[32];
    cbct_log(CBCT_LOG_INFO, "done in %.2f s; peak memory %s tracked, %s RSS (%d threads)",
             cbct_seconds() - ctx->t_start,
             cbct_format_size(cbct_mem_peak(), tracked, sizeof tracked),
             cbct_format_size(cbct_rss_peak_bytes(), rss, sizeof rss), cbct_threads());
}
