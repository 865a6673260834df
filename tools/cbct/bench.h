/* `cbct bench` and `cbct dashboard`: running every point of a grid of
 * runs as its own process, the JSON record of each run, the index of a
 * results folder, SLURM batch scripts, and reading the records back for
 * the summary table and the dashboard (docs/experiments.md). */
#ifndef CBCT_TOOL_BENCH_H
#define CBCT_TOOL_BENCH_H

#include <cjson/cJSON.h>
#include <limits.h>

#include "cbct/config.h"
#include "cli.h"

#define BENCH_PATH_MAX 4096
#define BENCH_NAME_MAX (CBCT_GRID_ID_MAX + 16) /* id, or id.rK with --repeat */
#define BENCH_DIR_MAX (BENCH_PATH_MAX + BENCH_NAME_MAX + 2) /* RESULTS/NAME */
#define BENCH_MAX_ARGS 96
#define BENCH_RECORD "record.json"
#define BENCH_LOG "log.txt"
#define BENCH_INDEX "index.json"

/* What `cbct bench` was asked for, and the expanded grid. */
typedef struct bench_plan {
    char config[BENCH_PATH_MAX];  /* the config, absolute */
    char results[BENCH_PATH_MAX]; /* the results folder, absolute */
    char self[BENCH_PATH_MAX];    /* this cbct binary (/proc/self/exe) */
    char cwd[BENCH_PATH_MAX];     /* where files named in the config are found */
    const char **sets;            /* --set overrides for every point */
    int n_sets;
    const char *mem, *threads;    /* --mem, --threads: passed on to each run */
    const char *launcher;         /* "mpirun" (ranks > 1), "srun", or "none" */
    const char *mpirun;           /* the mpirun program */
    int repeat;
    double timeout_s;             /* per run; 0 = none */
    cbct_config_grid grid;
    cbct_recon_config *configs;   /* grid.n_points mapped points */
} bench_plan;

/* One run: a point and a repetition. */
typedef struct bench_run {
    int point, rep;               /* rep from 1 */
    char name[BENCH_NAME_MAX];    /* folder name: the point's id, "id.r2" with --repeat */
    char dir[BENCH_DIR_MAX];
} bench_run;

void bench_run_init(const bench_plan *p, int point, int rep, bench_run *r);
/* The command line of a run (argv NULL-terminated, pointing into `store`). */
int bench_run_argv(const bench_plan *p, const bench_run *r, char store[][BENCH_DIR_MAX],
                   char **argv);
/* argv as one shell-quoted line. */
void bench_quote_argv(char *const *argv, char *out, size_t cap);

/* How a run ended (bench_process.c). */
typedef struct bench_outcome {
    int exit_code;       /* -1 when killed by a signal */
    int signal;          /* 0 when it exited */
    int timed_out;
    int interrupted;     /* cbct bench itself got SIGINT/SIGTERM: no record */
    double seconds_wall;
    char started[32], finished[32]; /* ISO 8601 UTC */
} bench_outcome;

/* SIGINT/SIGTERM to cbct bench: passed on to the running child, then the
 * bench stops after it (bench_process.c). */
void bench_signals_install(void);
int bench_interrupted(void);
/* Runs argv with stdout and stderr into `log_path`; a child that outlives
 * `timeout_s` (> 0) is stopped. */
cbct_status bench_spawn(char *const *argv, const char *log_path, double timeout_s,
                        bench_outcome *out);

/* Machine and software description (bench_machine.c). */
cJSON *bench_machine_json(const char *mpirun);
void bench_iso_time(char *buf, size_t cap);

/* Records (bench_record.c): run's record.json with a "bench" object added
 * (or written by the runner for a failed run); status "ok",
 * "out_of_memory" or "error". */
cbct_status bench_record_write(const bench_plan *p, const bench_run *r, char *const *argv,
                               const bench_outcome *o, const cJSON *machine,
                               char *status, size_t status_cap);
/* The finished record of a run: status ok or out_of_memory. Returns the
 * parsed record (caller deletes) or NULL. */
cJSON *bench_record_finished(const char *dir);
/* results/index.json from the records on disk (bench_index.c). */
cbct_status bench_index_write(const bench_plan *p, const cJSON *machine);

/* SLURM (bench_slurm.c): one batch script per point. */
typedef struct bench_slurm_opts {
    const char *time;  /* --time, e.g. "01:00:00" */
    const char *mem;   /* --mem; NULL = from the point's memory budget */
    int submit, wait;
} bench_slurm_opts;
int bench_slurm(cli_context *ctx, bench_plan *p, const int *selected, const bench_slurm_opts *o);

/* Records read back for the table and the dashboard (bench_results.c). */
typedef struct bench_result {
    char name[BENCH_NAME_MAX];
    cJSON *record;       /* the whole record */
    const cJSON *bench;  /* record.bench */
} bench_result;

typedef struct bench_results {
    bench_result *runs;
    int n;
} bench_results;

cbct_status bench_results_load(const char *dir, bench_results *out);
/* A JSON file (a record, the index); NULL when absent or not JSON. */
cJSON *bench_read_json(const char *path);
void bench_results_free(bench_results *r);
/* Accessors that give NAN / fallback when absent. */
double bench_number(const cJSON *o, const char *path);
const char *bench_string(const cJSON *o, const char *path, const char *fallback);
/* The plain-text summary table (bench_table.c). */
void bench_print_table(const bench_results *r, FILE *out);

/* cbct dashboard pieces (dashboard_*.c). */
cbct_status dashboard_write(const char *results_dir, const bench_results *r,
                            const char *js_path, const char *out_path);
/* Base64 of a file's bytes (for embedded PNGs); NULL when unreadable. */
char *dashboard_base64_file(const char *path);
extern const char dashboard_page_css[];
extern const char dashboard_page_script[];

/* cmd_bench.c, cmd_dashboard.c. */
int cmd_bench(cli_context *ctx, int argc, char **argv);
int cmd_dashboard(cli_context *ctx, int argc, char **argv);

#endif
