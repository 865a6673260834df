/* Reading a results folder back: every sub-folder whose record.json has a
 * "bench" object is a run; runs are ordered by point, then repetition. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bench.h"
#include "cbct/io.h"

/* Records are small; a larger file is not one of ours. */
#define RECORD_MAX_BYTES ((size_t)64 << 20)

static int by_point(const void *a, const void *b)
{
    const bench_result *x = a, *y = b;
    double px = bench_number(x->bench, "point"), py = bench_number(y->bench, "point");
    if (px != py)
        return px < py ? -1 : 1;
    double rx = bench_number(x->bench, "repeat"), ry = bench_number(y->bench, "repeat");
    if (rx != ry)
        return rx < ry ? -1 : 1;
    return strcmp(x->name, y->name);
}

cJSON *bench_read_json(const char *path)
{
    char *text = NULL;
    size_t len = 0;
    if (cbct_read_text_file(path, RECORD_MAX_BYTES, &text, &len) != CBCT_OK) {
        cbct_clear_error();
        return NULL;
    }
    cJSON *j = cJSON_ParseWithLength(text, len);
    free(text);
    return j;
}

cbct_status bench_results_load(const char *dir, bench_results *out)
{
    memset(out, 0, sizeof *out);
    DIR *d = opendir(dir);
    if (!d)
        return cbct_error(CBCT_ERR_IO, "cannot read the results folder '%s' (expected the -o "
                                       "folder of cbct bench)",
                          dir);
    int cap = 0;
    cbct_status s = CBCT_OK;
    for (struct dirent *e; s == CBCT_OK && (e = readdir(d));) {
        char path[BENCH_PATH_MAX + 2 * BENCH_NAME_MAX];
        if (e->d_name[0] == '.' || strlen(e->d_name) >= BENCH_NAME_MAX)
            continue;
        snprintf(path, sizeof path, "%s/%s/%s", dir, e->d_name, BENCH_RECORD);
        cJSON *record = bench_read_json(path);
        const cJSON *bench = cJSON_GetObjectItemCaseSensitive(record, "bench");
        if (!cJSON_IsObject(bench)) {
            cJSON_Delete(record);
            continue;
        }
        if (out->n == cap) {
            cap = cap ? 2 * cap : 16;
            bench_result *grown = realloc(out->runs, (size_t)cap * sizeof *grown);
            if (!grown) {
                cJSON_Delete(record);
                s = cbct_error(CBCT_ERR_MEMORY, "'%s': out of memory reading the records", dir);
                break;
            }
            out->runs = grown;
        }
        bench_result *r = &out->runs[out->n++];
        memcpy(r->name, e->d_name, strlen(e->d_name) + 1); /* shorter: checked above */
        r->record = record;
        r->bench = bench;
    }
    closedir(d);
    if (s != CBCT_OK) {
        bench_results_free(out);
        return s;
    }
    if (out->n > 1)
        qsort(out->runs, (size_t)out->n, sizeof *out->runs, by_point);
    return CBCT_OK;
}

void bench_results_free(bench_results *r)
{
    for (int i = 0; i < r->n; i++)
        cJSON_Delete(r->runs[i].record);
    free(r->runs);
    memset(r, 0, sizeof *r);
}
