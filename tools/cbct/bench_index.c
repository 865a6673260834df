/* results/index.json: what the folder holds, rebuilt from the records on
 * disk after every run (so that it is right after an interruption, and
 * when SLURM jobs write records side by side): the config, the grid's
 * varying keys, the machine, and per run its status and main numbers; the
 * runs of the grid that have no finished record are listed as missing. */
#include <stdio.h>
#include <string.h>

#include "bench.h"
#include "json_file.h"
#include "cbct/io.h"

static cJSON *run_entry(const bench_result *r)
{
    cJSON *o = cJSON_CreateObject();
    const cJSON *b = r->bench;
    cJSON_AddStringToObject(o, "name", r->name);
    cJSON_AddStringToObject(o, "id", bench_string(b, "id", r->name));
    cJSON_AddNumberToObject(o, "point", bench_number(b, "point"));
    cJSON_AddNumberToObject(o, "repeat", bench_number(b, "repeat"));
    cJSON_AddStringToObject(o, "status", bench_string(b, "status", "?"));
    cJSON_AddNumberToObject(o, "seconds_wall", bench_number(b, "seconds_wall"));
    cJSON_AddNumberToObject(o, "final_psnr", bench_number(r->record, "totals.final_psnr"));
    cJSON_AddNumberToObject(o, "mem_peak_bytes", bench_number(r->record, "totals.mem_peak_bytes"));
    cJSON_AddNumberToObject(o, "rss_peak_bytes", bench_number(r->record, "totals.rss_peak_bytes"));
    char record[BENCH_NAME_MAX + 16];
    snprintf(record, sizeof record, "%s/%s", r->name, BENCH_RECORD);
    cJSON_AddStringToObject(o, "record", record);
    return o;
}

cbct_status bench_index_write(const bench_plan *p, const cJSON *machine)
{
    bench_results res;
    cbct_status s = bench_results_load(p->results, &res);
    if (s != CBCT_OK)
        return s;
    char now[32], path[BENCH_DIR_MAX + 32];
    bench_iso_time(now, sizeof now);
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "version", CBCT_VERSION);
    cJSON_AddStringToObject(root, "config", p->config);
    cJSON_AddStringToObject(root, "updated", now);
    cJSON_AddNumberToObject(root, "n_points", p->grid.n_points);
    cJSON_AddNumberToObject(root, "repeat", p->repeat);
    cJSON *vary = cJSON_AddArrayToObject(root, "varying");
    for (int v = 0; v < p->grid.n_varying; v++)
        cJSON_AddItemToArray(vary, cJSON_CreateString(p->grid.varying[v]));
    cJSON_AddItemToObject(root, "machine", cJSON_Duplicate(machine, 1));
    cJSON *runs = cJSON_AddArrayToObject(root, "runs");
    for (int i = 0; i < res.n; i++)
        cJSON_AddItemToArray(runs, run_entry(&res.runs[i]));
    cJSON *missing = cJSON_AddArrayToObject(root, "missing");
    for (int i = 0; i < p->grid.n_points; i++)
        for (int k = 1; k <= p->repeat; k++) {
            bench_run r;
            bench_run_init(p, i, k, &r);
            int done = 0;
            for (int j = 0; j < res.n && !done; j++) {
                const char *st = bench_string(res.runs[j].bench, "status", "");
                done = strcmp(res.runs[j].name, r.name) == 0 &&
                       (strcmp(st, "ok") == 0 || strcmp(st, "out_of_memory") == 0);
            }
            if (!done)
                cJSON_AddItemToArray(missing, cJSON_CreateString(r.name));
        }
    bench_results_free(&res);
    snprintf(path, sizeof path, "%s/%s", p->results, BENCH_INDEX);
    s = cli_write_json(path, root);
    cJSON_Delete(root);
    return s;
}
