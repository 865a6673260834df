/* cbct bench CONFIG -o RESULTS: runs every point of the config's grid as
 * its own `cbct recon` process (under mpirun for several ranks), one
 * progress line per run, one JSON record per run and RESULTS/index.json;
 * runs with a finished record are skipped, so that a rerun after an
 * interruption completes only the missing ones (docs/experiments.md). */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "args.h"
#include "bench.h"
#include "inputs.h"

#define MAX_SETS 32
/* Exit status of a command stopped by SIGINT, as shells report it. */
#define EXIT_INTERRUPTED 130

static const cli_option options[] = {
    {"--output", 'o', "DIR", 0, "results", "results folder: one sub-folder per run, index.json"},
    {"--set", 0, "KEY=VALUE", 0, NULL, "override a config key for every point (repeatable)"},
    {"--only", 0, "ID[,ID...]", 0, NULL, "run only these points (ids as --dry-run lists them)"},
    {"--repeat", 0, "N", 0, "1", "run each point N times (folders ID.r1 ... ID.rN)"},
    {"--dry-run", 0, NULL, 0, NULL, "print the commands of the runs still to do; run nothing"},
    {"--force", 0, NULL, 0, NULL, "run again the points that have a finished record"},
    {"--timeout", 0, "SECONDS", 0, "none", "stop a run after this long (recorded as error)"},
    {"--launcher", 0, "NAME", 0, "mpirun", "mpirun (for points with ranks > 1), srun, or none"},
    {"--mpirun", 0, "PROGRAM", 0, "mpirun", "the mpirun to use"},
    {"--slurm", 0, NULL, 0, NULL, "write one SLURM batch script per point and submit them"},
    {"--slurm-time", 0, "HH:MM:SS", 0, "01:00:00", "--time of each SLURM job"},
    {"--slurm-mem", 0, "SIZE", 0, "from run.memory", "--mem of each SLURM job"},
    {"--no-submit", 0, NULL, 0, NULL, "with --slurm: write the scripts only"},
    {"--no-wait", 0, NULL, 0, NULL, "with --slurm: submit and return without waiting"},
    {NULL, 0, NULL, 0, NULL, NULL}};

static const cli_command command = {
    "bench CONFIG.yml [-o RESULTS] [--only ID,...] [--repeat N] [--dry-run] [--slurm]",
    "Runs every point of the grid of runs in CONFIG.yml (docs/experiments.md), each as\n"
    "its own process: 'cbct recon CONFIG --point I -o RESULTS/ID', under\n"
    "'mpirun -np <slurm_ntasks_per_node> --oversubscribe' when that is above 1.\n"
    "Writes RESULTS/ID/record.json (recon's record with a \"bench\" object: status ok,\n"
    "out_of_memory or error, command, machine, wall time) and RESULTS/index.json.\n"
    "Runs with a finished record (ok or out_of_memory) are skipped: after an\n"
    "interruption, running the same command again completes the missing ones.",
    options, 1, 1};


/* `path` made absolute against the current folder (it may not exist yet);
 * 0 when it does not fit. */
static int absolute(const char *cwd, const char *path, char *out, size_t cap)
{
    int n = path[0] == '/' ? snprintf(out, cap, "%s", path)
                           : snprintf(out, cap, "%s/%s", cwd, path);
    if (n < 0 || (size_t)n >= cap)
        return 0;
    while (n > 1 && out[n - 1] == '/')
        out[--n] = 0;
    return 1;
}

/* Expands the grid and maps every point, so that a bad point stops the
 * bench before anything runs. */
static cbct_status load_plan(bench_plan *p)
{
    cbct_status s = cbct_config_grid_load(p->config, p->sets, p->n_sets, &p->grid);
    if (s != CBCT_OK)
        return s;
    p->configs = calloc((size_t)p->grid.n_points, sizeof *p->configs);
    if (!p->configs)
        return cbct_error(CBCT_ERR_MEMORY, "out of memory for %d points", p->grid.n_points);
    for (int i = 0; i < p->grid.n_points; i++)
        if (cbct_config_load_point(p->config, p->sets, p->n_sets, i, &p->configs[i]) !=
            CBCT_OK) {
            char message[1024];
            snprintf(message, sizeof message, "%s", cbct_last_error());
            return cbct_error(cbct_last_status(), "%s (point %d, %s)", message, i,
                              p->grid.points[i].id);
        }
    return CBCT_OK;
}

static void free_plan(bench_plan *p)
{
    cbct_config_grid_free(&p->grid);
    free(p->configs);
}

/* Marks the points named by --only; a name that is no point is an error. */
static int select_points(cli_context *ctx, const bench_plan *p, const char *only, int *selected)
{
    for (int i = 0; i < p->grid.n_points; i++)
        selected[i] = only == NULL;
    if (!only)
        return 0;
    char list[4096];
    snprintf(list, sizeof list, "%s", only);
    for (char *save = NULL, *id = strtok_r(list, ",", &save); id; id = strtok_r(NULL, ",", &save)) {
        int found = 0;
        for (int i = 0; i < p->grid.n_points; i++)
            if (strcmp(p->grid.points[i].id, id) == 0)
                selected[i] = found = 1;
        if (!found) {
            char ids[2048] = "";
            for (int i = 0; i < p->grid.n_points && strlen(ids) + 200 < sizeof ids; i++)
                snprintf(ids + strlen(ids), sizeof ids - strlen(ids), "%s%s", i ? ", " : "",
                         p->grid.points[i].id);
            return cli_usage_error(ctx, "--only: no point '%s' (the points are: %s)", id, ids);
        }
    }
    return 0;
}

/* "ok in 3.1 s, PSNR 30.12 dB, peak 120.0 MiB tracked, 300.0 MiB RSS". */
static void print_outcome(const bench_run *r, const char *status, double seconds)
{
    cJSON *rec = bench_record_finished(r->dir);
    char path[BENCH_DIR_MAX + 32], t[32], rss[32];
    snprintf(path, sizeof path, "%s/%s", r->dir, BENCH_RECORD);
    if (!rec)
        rec = bench_read_json(path);
    printf("%s in %.1f s", status, seconds);
    double psnr = bench_number(rec, "totals.final_psnr");
    double peak = bench_number(rec, "totals.mem_peak_bytes");
    double peak_rss = bench_number(rec, "totals.rss_peak_bytes");
    if (psnr == psnr)
        printf(", PSNR %.2f dB", psnr);
    if (peak == peak && peak_rss == peak_rss)
        printf(", peak %s tracked, %s RSS", cbct_format_size((size_t)peak, t, sizeof t),
               cbct_format_size((size_t)peak_rss, rss, sizeof rss));
    const char *message = bench_string(rec, "bench.message", NULL);
    if (message && strcmp(status, "ok") != 0)
        printf(": %s", message);
    printf("\n");
    fflush(stdout);
    cJSON_Delete(rec);
}

/* Runs what is left to run; returns the exit code. */
static int run_all(cli_context *ctx, bench_plan *p, const int *selected, int dry_run, int force)
{
    int n_runs = 0, k = 0, n_failed = 0;
    for (int i = 0; i < p->grid.n_points; i++)
        n_runs += selected[i] * p->repeat;
    cJSON *machine = dry_run ? NULL : bench_machine_json(p->mpirun);
    cbct_status s = dry_run ? CBCT_OK : cli_make_folder(p->results);
    if (s != CBCT_OK) {
        cJSON_Delete(machine);
        return cli_runtime_error(ctx);
    }
    if (!dry_run)
        bench_signals_install();
    for (int i = 0; s == CBCT_OK && i < p->grid.n_points; i++)
        for (int rep = 1; s == CBCT_OK && selected[i] && rep <= p->repeat; rep++) {
            bench_run r;
            char store[BENCH_MAX_ARGS][BENCH_DIR_MAX], *argv[BENCH_MAX_ARGS], line[8192];
            bench_run_init(p, i, rep, &r);
            bench_run_argv(p, &r, store, argv);
            k++;
            cJSON *done = force ? NULL : bench_record_finished(r.dir);
            if (done) {
                printf("[%d/%d] %s: finished before (%s), skipped\n", k, n_runs, r.name,
                       bench_string(done, "bench.status", "?"));
                cJSON_Delete(done);
                continue;
            }
            bench_quote_argv(argv, line, sizeof line);
            if (dry_run) {
                printf("%s\n", line);
                continue;
            }
            printf("[%d/%d] %s: ", k, n_runs, r.name);
            fflush(stdout);
            char log_path[BENCH_DIR_MAX + 32], status[32];
            snprintf(log_path, sizeof log_path, "%s/%s", r.dir, BENCH_LOG);
            bench_outcome o;
            s = cli_make_folder(r.dir);
            if (s == CBCT_OK)
                s = bench_spawn(argv, log_path, p->timeout_s, &o);
            if (s == CBCT_OK && o.interrupted) {
                printf("interrupted; run the same command again to complete the missing "
                       "runs\n");
                bench_index_write(p, machine);
                cJSON_Delete(machine);
                return EXIT_INTERRUPTED;
            }
            if (s == CBCT_OK)
                s = bench_record_write(p, &r, argv, &o, machine, status, sizeof status);
            if (s == CBCT_OK) {
                n_failed += strcmp(status, "error") == 0;
                print_outcome(&r, status, o.seconds_wall);
                s = bench_index_write(p, machine);
            }
        }
    cJSON_Delete(machine);
    if (s != CBCT_OK)
        return cli_runtime_error(ctx);
    if (dry_run)
        return CLI_EXIT_OK;
    bench_results res;
    if (bench_results_load(p->results, &res) == CBCT_OK) {
        printf("\n");
        bench_print_table(&res, stdout);
        bench_results_free(&res);
    }
    printf("wrote %s/%s\n", p->results, BENCH_INDEX);
    if (n_failed) {
        fprintf(stderr, "cbct bench: %d of %d runs failed (status error); their records and "
                        "log.txt say why\n",
                n_failed, n_runs);
        return CLI_EXIT_RUNTIME;
    }
    return CLI_EXIT_OK;
}

static int setup(cli_context *ctx, const cli_args *a, bench_plan *p)
{
    int64_t repeat = 1;
    double timeout = 0;
    if (cli_int(a, "--repeat", 1, 10000, &repeat) || cli_double(a, "--timeout", 0, 1e9, &timeout))
        return CLI_EXIT_USAGE;
    p->repeat = (int)repeat;
    p->timeout_s = timeout;
    p->launcher = cli_string(a, "--launcher", "mpirun");
    p->mpirun = cli_string(a, "--mpirun", "mpirun");
    if (strcmp(p->launcher, "mpirun") && strcmp(p->launcher, "srun") &&
        strcmp(p->launcher, "none"))
        return cli_usage_error(ctx, "--launcher: expected mpirun, srun or none, got '%s'",
                               p->launcher);
    p->mem = cli_value(a, "--mem");
    p->threads = cli_value(a, "--threads");
    if (!getcwd(p->cwd, sizeof p->cwd))
        return cbct_error(CBCT_ERR_IO, "cannot read the current folder: %s", strerror(errno)),
               cli_runtime_error(ctx);
    ssize_t n = readlink("/proc/self/exe", p->self, sizeof p->self - 1);
    if (n <= 0)
        return cbct_error(CBCT_ERR_IO, "cannot find the cbct binary (/proc/self/exe): %s",
                          strerror(errno)),
               cli_runtime_error(ctx);
    p->self[n] = 0;
    const char *results = cli_string(a, "--output", "results");
    if (!absolute(p->cwd, a->positional[0], p->config, sizeof p->config) ||
        !absolute(p->cwd, results, p->results, sizeof p->results))
        return cli_usage_error(ctx, "the config or results path is too long (at most %d "
                                    "characters with the current folder)",
                               BENCH_PATH_MAX - 1);
    return CLI_PARSED;
}

int cmd_bench(cli_context *ctx, int argc, char **argv)
{
    const char *sets[MAX_SETS];
    int n_sets = 0;
    argc = cli_take_sets(argc, argv, "--set", sets, MAX_SETS, &n_sets);
    if (argc < 0)
        return cli_usage_error(ctx, "--set needs KEY=VALUE (at most %d of them)", MAX_SETS);
    cli_args args;
    int rc = cli_parse(ctx, &command, argc, argv, &args);
    if (rc != CLI_PARSED)
        return rc;
    bench_plan p;
    memset(&p, 0, sizeof p);
    p.sets = sets;
    p.n_sets = n_sets;
    if ((rc = setup(ctx, &args, &p)) != CLI_PARSED)
        return rc;
    if (load_plan(&p) != CBCT_OK) {
        free_plan(&p);
        return cli_runtime_error(ctx);
    }
    int *selected = calloc((size_t)p.grid.n_points, sizeof *selected);
    rc = selected ? select_points(ctx, &p, cli_value(&args, "--only"), selected)
                  : (cbct_error(CBCT_ERR_MEMORY, "out of memory"), cli_runtime_error(ctx));
    if (rc == 0 && cli_flag(&args, "--slurm")) {
        bench_slurm_opts so = {cli_string(&args, "--slurm-time", "01:00:00"),
                               cli_value(&args, "--slurm-mem"), !cli_flag(&args, "--no-submit"),
                               !cli_flag(&args, "--no-wait")};
        if (cli_flag(&args, "--dry-run"))
            so.submit = 0; /* the scripts are what --dry-run shows */
        rc = bench_slurm(ctx, &p, selected, &so);
    } else if (rc == 0) {
        if (!ctx->quiet)
            fprintf(stderr, "cbct bench: %s: %d point%s, %d run%s each\n", p.config,
                    p.grid.n_points, p.grid.n_points == 1 ? "" : "s", p.repeat,
                    p.repeat == 1 ? "" : "s");
        rc = run_all(ctx, &p, selected, cli_flag(&args, "--dry-run"), cli_flag(&args, "--force"));
    }
    free(selected);
    free_plan(&p);
    return rc;
}
