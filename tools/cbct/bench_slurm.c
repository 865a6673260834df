/* cbct bench --slurm: one batch script per point, RESULTS/slurm/ID.sbatch,
 * asking for one node with the point's ranks (--ntasks-per-node), its
 * --gres, a --time and a --mem; the job runs `cbct bench CONFIG --only ID
 * --launcher srun` on the node, which writes the point's records as a
 * local bench does (with the node's machine description). The scripts are
 * submitted with sbatch when it is there, and the bench waits for the
 * records to appear (or for the jobs to end without one). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench.h"
#include "inputs.h"

/* Seconds between two looks at the records and the queue. */
#define WAIT_POLL_SECONDS 2
/* Memory of a job beyond the ranks' budgets: the runtime, MPI, libraries. */
#define JOB_MEMORY_MARGIN_MIB 1024

/* The script's --mem: --slurm-mem, or the point's budget times its ranks
 * plus a margin; empty (the partition's default) without a budget. */
static void job_memory(const bench_plan *p, int point, const char *given, char *out, size_t cap)
{
    const cbct_recon_config *c = &p->configs[point];
    size_t budget = 0;
    out[0] = 0;
    if (given) {
        snprintf(out, cap, "%s", given);
        return;
    }
    if (p->mem && cbct_parse_size(p->mem, &budget) != CBCT_OK)
        budget = 0;
    if (!budget)
        budget = c->memory_bytes;
    if (budget)
        snprintf(out, cap, "%lluM",
                 (unsigned long long)(budget >> 20) *
                         (unsigned long long)(c->slurm_ntasks_per_node > 0
                                                  ? c->slurm_ntasks_per_node : 1) +
                     JOB_MEMORY_MARGIN_MIB);
}

static cbct_status write_script(const bench_plan *p, int point, const bench_slurm_opts *o,
                                const char *path)
{
    const cbct_recon_config *c = &p->configs[point];
    const char *id = p->grid.points[point].id;
    char mem[64], line[16384], *argv[BENCH_MAX_ARGS], repeat[16];
    int n = 0;
    const char *fixed[] = {p->self, "bench", p->config, "-o", p->results, "--only", id,
                           "--repeat", repeat, "--launcher", "srun"};
    snprintf(repeat, sizeof repeat, "%d", p->repeat);
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        argv[n++] = (char *)fixed[i];
    for (int i = 0; i < p->n_sets && n + 6 < BENCH_MAX_ARGS; i++) {
        argv[n++] = "--set";
        argv[n++] = (char *)p->sets[i];
    }
    if (p->mem) {
        argv[n++] = "--mem";
        argv[n++] = (char *)p->mem;
    }
    if (p->threads) {
        argv[n++] = "--threads";
        argv[n++] = (char *)p->threads;
    }
    argv[n] = NULL;
    bench_quote_argv(argv, line, sizeof line);
    job_memory(p, point, o->mem, mem, sizeof mem);
    FILE *f = fopen(path, "w");
    if (!f)
        return cbct_error(CBCT_ERR_IO, "cannot write the batch script '%s': %s", path,
                          strerror(errno));
    fprintf(f, "#!/bin/bash\n");
    fprintf(f, "# Point %d (%s) of %s, written by cbct bench --slurm.\n", point, id, p->config);
    fprintf(f, "#SBATCH --job-name=cbct-%s\n", id);
    fprintf(f, "#SBATCH --output=%s/slurm/%s-%%j.out\n", p->results, id);
    fprintf(f, "#SBATCH --nodes=1\n");
    fprintf(f, "#SBATCH --ntasks-per-node=%lld\n",
            (long long)(c->slurm_ntasks_per_node > 0 ? c->slurm_ntasks_per_node : 1));
    if (c->slurm_gres[0])
        fprintf(f, "#SBATCH --gres=%s\n", c->slurm_gres);
    fprintf(f, "#SBATCH --time=%s\n", o->time);
    if (mem[0])
        fprintf(f, "#SBATCH --mem=%s\n", mem);
    fprintf(f, "set -u\n");
    char cwd[2 * BENCH_PATH_MAX], *cwd_argv[] = {(char *)p->cwd, NULL};
    bench_quote_argv(cwd_argv, cwd, sizeof cwd);
    fprintf(f, "cd %s || exit 1\n", cwd);
    fprintf(f, "exec %s\n", line);
    int bad = ferror(f);
    bad |= fclose(f) != 0;
    if (bad)
        return cbct_error(CBCT_ERR_IO, "cannot write the batch script '%s'", path);
    chmod(path, 0755);
    return CBCT_OK;
}

/* Whether every repetition of `point` has a record (any status). */
static int point_recorded(const bench_plan *p, int point, int finished_only)
{
    for (int rep = 1; rep <= p->repeat; rep++) {
        bench_run r;
        char path[BENCH_DIR_MAX + 32];
        bench_run_init(p, point, rep, &r);
        snprintf(path, sizeof path, "%s/%s", r.dir, BENCH_RECORD);
        cJSON *rec = finished_only ? bench_record_finished(r.dir) : bench_read_json(path);
        int has = cJSON_GetObjectItemCaseSensitive(rec, "bench") != NULL;
        cJSON_Delete(rec);
        if (!has)
            return 0;
    }
    return 1;
}

/* Runs `command` and reads the first line of its output. */
static int first_line(const char *command, char *out, size_t cap)
{
    FILE *f = popen(command, "r");
    out[0] = 0;
    if (!f)
        return -1;
    if (fgets(out, (int)cap, f))
        out[strcspn(out, "\n")] = 0;
    return pclose(f);
}

/* Waits for the records of the submitted points, or their jobs' end. */
static void wait_for(const bench_plan *p, const int *job, int n_points)
{
    if (n_points <= 0)
        return;
    int left = 0;
    for (int i = 0; i < n_points; i++)
        left += job[i] > 0;
    int *open = calloc((size_t)n_points, sizeof *open);
    for (int i = 0; open && i < n_points; i++)
        open[i] = job[i] > 0;
    while (open && left > 0 && !bench_interrupted()) {
        for (int i = 0; i < n_points; i++) {
            if (!open[i])
                continue;
            char cmd[64], state[128];
            snprintf(cmd, sizeof cmd, "squeue -h -j %d -o %%T 2>/dev/null", job[i]);
            int recorded = point_recorded(p, i, 0);
            int queued = !recorded && first_line(cmd, state, sizeof state) == 0 && state[0];
            if (recorded || !queued) {
                printf("%s (job %d): %s\n", p->grid.points[i].id, job[i],
                       recorded ? "recorded"
                                : "the job ended without a record; see its slurm/*.out");
                fflush(stdout);
                open[i] = 0;
                left--;
            }
        }
        if (left > 0)
            sleep(WAIT_POLL_SECONDS);
    }
    free(open);
}

int bench_slurm(cli_context *ctx, bench_plan *p, const int *selected, const bench_slurm_opts *o)
{
    char folder[BENCH_PATH_MAX + 16];
    snprintf(folder, sizeof folder, "%s/slurm", p->results);
    if (cli_make_folder(folder) != CBCT_OK)
        return cli_runtime_error(ctx);
    char sbatch[BENCH_PATH_MAX];
    int have_sbatch = first_line("command -v sbatch", sbatch, sizeof sbatch) == 0 && sbatch[0];
    int *job = calloc((size_t)p->grid.n_points, sizeof *job), n_written = 0, n_submitted = 0;
    if (!job)
        return cbct_error(CBCT_ERR_MEMORY, "out of memory"), cli_runtime_error(ctx);
    bench_signals_install();
    for (int i = 0; i < p->grid.n_points; i++) {
        if (!selected[i] || point_recorded(p, i, 1))
            continue;
        char path[BENCH_PATH_MAX + 2 * CBCT_GRID_ID_MAX], cmd[2 * BENCH_PATH_MAX], out[256];
        snprintf(path, sizeof path, "%s/%s.sbatch", folder, p->grid.points[i].id);
        if (write_script(p, i, o, path) != CBCT_OK) {
            free(job);
            return cli_runtime_error(ctx);
        }
        n_written++;
        printf("wrote %s\n", path);
        if (!o->submit || !have_sbatch)
            continue;
        char *sb_argv[] = {"sbatch", "--parsable", path, NULL};
        bench_quote_argv(sb_argv, cmd, sizeof cmd);
        strncat(cmd, " 2>&1", sizeof cmd - strlen(cmd) - 1);
        int rc = first_line(cmd, out, sizeof out);
        job[i] = rc == 0 ? atoi(out) : 0;
        if (job[i] <= 0) {
            fprintf(stderr, "cbct bench: warning: sbatch refused %s: %s\n", path, out);
            continue;
        }
        n_submitted++;
        printf("submitted %s as job %d\n", p->grid.points[i].id, job[i]);
    }
    fflush(stdout);
    if (o->submit && !have_sbatch && n_written)
        printf("sbatch is not installed here: submit the scripts in %s with sbatch; then run "
               "'cbct dashboard %s'\n",
               folder, p->results);
    if (n_submitted && o->wait)
        wait_for(p, job, p->grid.n_points);
    free(job);
    cJSON *machine = bench_machine_json(p->mpirun);
    bench_index_write(p, machine);
    cJSON_Delete(machine);
    return bench_interrupted() ? 130 : CLI_EXIT_OK;
}
