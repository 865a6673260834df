/* cbct dashboard RESULTS -o dashboard.html: the runs of a `cbct bench`
 * results folder as one self-contained HTML page (Chart.js embedded from
 * Debian's libjs-chart.js, previews as base64 PNG; no network), and a
 * plain-text summary table on the terminal. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "args.h"
#include "bench.h"

/* Where Debian's libjs-chart.js puts the minified library. */
#define DEFAULT_JS "/usr/share/javascript/chart.js/chart.min.js"

static const cli_option options[] = {
    {"--output", 'o', "FILE", 0, "dashboard.html", "the HTML page to write"},
    {"--js", 0, "PATH", 0, DEFAULT_JS, "Chart.js (UMD build) to embed in the page"},
    {NULL, 0, NULL, 0, NULL, NULL}};

static const cli_command command = {
    "dashboard RESULTS [-o dashboard.html] [--js chart.min.js]",
    "Reads the records of a cbct bench results folder and writes one HTML page\n"
    "that needs no network: peak memory, time per iteration and total time against\n"
    "max_batch_size, PSNR against time and iteration, the time of each phase, one\n"
    "series per configuration, details on hover, and the axial and coronal previews\n"
    "of every run. Prints a summary table.",
    options, 1, 1};

int cmd_dashboard(cli_context *ctx, int argc, char **argv)
{
    cli_args args;
    int rc = cli_parse(ctx, &command, argc, argv, &args);
    if (rc != CLI_PARSED)
        return rc;
    const char *results = args.positional[0];
    const char *out = cli_string(&args, "--output", "dashboard.html");
    const char *js = cli_string(&args, "--js", DEFAULT_JS);
    if (access(js, R_OK) != 0) {
        cbct_error(CBCT_ERR_IO,
                   "cannot read the charting library '%s': install the Debian package "
                   "libjs-chart.js (scripts/install-deps.sh) or give --js PATH to chart.min.js",
                   js);
        return cli_runtime_error(ctx);
    }
    bench_results r;
    if (bench_results_load(results, &r) != CBCT_OK)
        return cli_runtime_error(ctx);
    if (r.n == 0) {
        bench_results_free(&r);
        cbct_error(CBCT_ERR_FORMAT, "'%s' holds no run records (RUN/record.json with a "
                                    "\"bench\" object, as cbct bench writes them)",
                   results);
        return cli_runtime_error(ctx);
    }
    bench_print_table(&r, stdout);
    int n_runs = r.n;
    cbct_status s = dashboard_write(results, &r, js, out);
    bench_results_free(&r);
    if (s != CBCT_OK)
        return cli_runtime_error(ctx);
    printf("wrote %s (%d runs)\n", out, n_runs);
    return CLI_EXIT_OK;
}
