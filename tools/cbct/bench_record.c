/* The record of one run: the record.json that `cbct recon` wrote, with a
 * "bench" object added (status, point, values, command, machine, wall
 * time); for a run that failed, the runner writes the record itself, so
 * that an out-of-memory is a result to plot and an error says why. */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "json_file.h"
#include "cbct/io.h"

cJSON *bench_record_finished(const char *dir)
{
    char path[BENCH_DIR_MAX + 32];
    snprintf(path, sizeof path, "%s/%s", dir, BENCH_RECORD);
    cJSON *r = bench_read_json(path);
    const char *status = bench_string(r, "bench.status", "");
    if (strcmp(status, "ok") == 0 || strcmp(status, "out_of_memory") == 0)
        return r;
    cJSON_Delete(r);
    return NULL;
}

/* The last line of the log that says "error:", else its last line. */
static void last_error(const char *log_path, char *out, size_t cap)
{
    FILE *f = fopen(log_path, "r");
    char line[1024], last[1024] = "";
    out[0] = 0;
    while (f && fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = 0;
        if (strstr(line, "error:"))
            snprintf(out, cap, "%s", line);
        if (line[0])
            snprintf(last, sizeof last, "%s", line);
    }
    if (f)
        fclose(f);
    if (!out[0])
        snprintf(out, cap, "%s", last);
}

static cJSON *int_list(const int64_t *v, int n)
{
    cJSON *a = cJSON_CreateArray();
    for (int i = 0; i < n; i++)
        cJSON_AddItemToArray(a, cJSON_CreateNumber((double)v[i]));
    return a;
}

/* The values a dashboard plots against, also for runs without recon's
 * record. */
static cJSON *params_json(const cbct_recon_config *c)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "solver", cbct_solver_kind_name(c->solver));
    cJSON_AddItemToObject(o, "shape", int_list(c->shape, 3));
    cJSON_AddNumberToObject(o, "num_operators", (double)c->num_operators);
    cJSON_AddNumberToObject(o, "num_projections", (double)c->num_projections);
    cJSON_AddNumberToObject(o, "max_iterations", c->max_iterations);
    cJSON_AddNumberToObject(o, "max_batch_size", (double)c->tiling.max_batch);
    cJSON_AddItemToObject(o, "patch_size", int_list(c->tiling.patch, 3));
    cJSON_AddItemToObject(o, "overlap", int_list(c->tiling.overlap, 3));
    cJSON_AddNumberToObject(o, "denoiser_sigma", c->denoiser_sigma);
    cJSON_AddNumberToObject(o, "denoiser_lambda_relaxation", c->denoiser_lambda);
    cJSON_AddBoolToObject(o, "distribute_physics", c->distribute_physics);
    cJSON_AddBoolToObject(o, "distribute_denoiser", c->distribute_denoiser);
    cJSON_AddBoolToObject(o, "distribute_volume", c->distribute_volume);
    cJSON_AddStringToObject(o, "slurm_gres", c->slurm_gres);
    cJSON_AddNumberToObject(o, "ranks", (double)(c->slurm_ntasks_per_node > 0
                                                     ? c->slurm_ntasks_per_node : 1));
    cJSON_AddNumberToObject(o, "memory_budget_bytes", (double)c->memory_bytes);
    return o;
}

static const char *status_of(const bench_outcome *o)
{
    if (o->exit_code == CLI_EXIT_MEMORY)
        return "out_of_memory";
    return o->exit_code == 0 && !o->timed_out ? "ok" : "error";
}

static cJSON *bench_json(const bench_plan *p, const bench_run *r, char *const *argv,
                         const bench_outcome *o, const cJSON *machine, const char *status,
                         const char *message)
{
    const cbct_grid_point *pt = &p->grid.points[r->point];
    char line[8192];
    cJSON *b = cJSON_CreateObject();
    cJSON_AddStringToObject(b, "status", status);
    if (message[0])
        cJSON_AddStringToObject(b, "message", message);
    cJSON_AddNumberToObject(b, "exit_code", o->exit_code);
    if (o->signal)
        cJSON_AddStringToObject(b, "signal", strsignal(o->signal));
    cJSON_AddStringToObject(b, "name", r->name);
    cJSON_AddStringToObject(b, "id", pt->id);
    cJSON_AddNumberToObject(b, "point", r->point);
    cJSON_AddNumberToObject(b, "n_points", p->grid.n_points);
    cJSON_AddNumberToObject(b, "repeat", r->rep);
    cJSON_AddStringToObject(b, "config", p->config);
    cJSON *ov = cJSON_AddArrayToObject(b, "overrides");
    for (int i = 0; i < pt->n_overrides; i++)
        cJSON_AddItemToArray(ov, cJSON_CreateString(pt->overrides[i]));
    cJSON *sets = cJSON_AddArrayToObject(b, "sets");
    for (int i = 0; i < p->n_sets; i++)
        cJSON_AddItemToArray(sets, cJSON_CreateString(p->sets[i]));
    /* The values that vary across the grid, as written in the config. */
    cJSON *vary = cJSON_AddObjectToObject(b, "varying");
    for (int v = 0; v < p->grid.n_varying; v++)
        for (int i = 0; i < pt->n_overrides; i++) {
            size_t n = strlen(p->grid.varying[v]);
            if (strncmp(pt->overrides[i], p->grid.varying[v], n) == 0 &&
                pt->overrides[i][n] == '=')
                cJSON_AddStringToObject(vary, p->grid.varying[v], pt->overrides[i] + n + 1);
        }
    cbct_recon_config c = p->configs[r->point];
    size_t budget = 0;
    if (p->mem && cbct_parse_size(p->mem, &budget) == CBCT_OK)
        c.memory_bytes = budget; /* --mem, passed on to the run, wins */
    cJSON_AddItemToObject(b, "params", params_json(&c));
    bench_quote_argv(argv, line, sizeof line);
    cJSON_AddStringToObject(b, "command", line);
    cJSON_AddStringToObject(b, "launcher", p->launcher);
    cJSON_AddStringToObject(b, "started", o->started);
    cJSON_AddStringToObject(b, "finished", o->finished);
    cJSON_AddNumberToObject(b, "seconds_wall", o->seconds_wall);
    cJSON_AddStringToObject(b, "log", BENCH_LOG);
    cJSON_AddItemToObject(b, "machine", cJSON_Duplicate(machine, 1));
    return b;
}

cbct_status bench_record_write(const bench_plan *p, const bench_run *r, char *const *argv,
                               const bench_outcome *o, const cJSON *machine, char *status,
                               size_t status_cap)
{
    char path[BENCH_DIR_MAX + 32], log_path[BENCH_DIR_MAX + 32], message[1024] = "";
    snprintf(path, sizeof path, "%s/%s", r->dir, BENCH_RECORD);
    snprintf(log_path, sizeof log_path, "%s/%s", r->dir, BENCH_LOG);
    const char *st = status_of(o);
    cJSON *root = strcmp(st, "ok") == 0 ? bench_read_json(path) : NULL;
    if (strcmp(st, "ok") == 0 && !root) {
        st = "error";
        snprintf(message, sizeof message, "the run exited 0 but left no readable %s",
                 BENCH_RECORD);
    }
    if (strcmp(st, "ok") != 0) {
        if (o->timed_out)
            snprintf(message, sizeof message, "stopped after the time limit of %g s",
                     p->timeout_s);
        else if (o->signal)
            snprintf(message, sizeof message, "killed by signal %d (%s)", o->signal,
                     strsignal(o->signal));
        if (!message[0])
            last_error(log_path, message, sizeof message);
        cJSON_Delete(root);
        root = cJSON_CreateObject();
        cJSON_AddStringToObject(root, "version", CBCT_VERSION);
    }
    cJSON_DeleteItemFromObject(root, "bench");
    cJSON_AddItemToObject(root, "bench", bench_json(p, r, argv, o, machine, st, message));
    snprintf(status, status_cap, "%s", st);
    cbct_status s = cli_write_json(path, root);
    cJSON_Delete(root);
    return s;
}

double bench_number(const cJSON *o, const char *path)
{
    char key[128];
    while (o && *path) {
        size_t n = strcspn(path, ".");
        snprintf(key, sizeof key, "%.*s", (int)n, path);
        o = cJSON_GetObjectItemCaseSensitive(o, key);
        path += n + (path[n] == '.');
    }
    return cJSON_IsNumber(o) ? o->valuedouble : cJSON_IsBool(o) ? cJSON_IsTrue(o) : NAN;
}

const char *bench_string(const cJSON *o, const char *path, const char *fallback)
{
    char key[128];
    while (o && *path) {
        size_t n = strcspn(path, ".");
        snprintf(key, sizeof key, "%.*s", (int)n, path);
        o = cJSON_GetObjectItemCaseSensitive(o, key);
        path += n + (path[n] == '.');
    }
    return cJSON_IsString(o) ? o->valuestring : fallback;
}
