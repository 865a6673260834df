/* The dashboard page: one HTML file with the charting library, the runs'
 * records as JSON, their previews as base64 PNG, and the page script
 * (dashboard_page.c) that draws the charts and writes a render report
 * into the page (read by tests/cli_dashboard.sh through headless Chromium).
 * Written atomically. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "cbct/io.h"

/* chart.min.js is 200 kB; a file 100 times that is not the library. */
#define JS_MAX_BYTES ((size_t)20 << 20)
/* Previews are a few kB; larger ones are left out of the page. */
#define PREVIEW_MAX_BYTES ((size_t)8 << 20)

char *dashboard_base64_file(const char *path)
{
    static const char table[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    unsigned char *bytes = malloc(PREVIEW_MAX_BYTES);
    size_t n = bytes ? fread(bytes, 1, PREVIEW_MAX_BYTES, f) : 0;
    int whole = feof(f);
    fclose(f);
    char *out = whole && n ? malloc((n + 2) / 3 * 4 + 1) : NULL;
    size_t o = 0;
    for (size_t i = 0; out && i < n; i += 3) {
        unsigned v = (unsigned)bytes[i] << 16 | (i + 1 < n ? (unsigned)bytes[i + 1] << 8 : 0) |
                     (i + 2 < n ? bytes[i + 2] : 0);
        out[o++] = table[v >> 18 & 63];
        out[o++] = table[v >> 12 & 63];
        out[o++] = i + 1 < n ? table[v >> 6 & 63] : '=';
        out[o++] = i + 2 < n ? table[v & 63] : '=';
    }
    if (out)
        out[o] = 0;
    free(bytes);
    return out;
}

typedef struct page {
    cbct_atomic_file file;
    cbct_status status;
} page;

static void put(page *p, const char *text)
{
    if (p->status == CBCT_OK)
        p->status = cbct_atomic_write(&p->file, text, strlen(text));
}

/* Text inside HTML elements: &, <, > escaped. */
static void put_escaped(page *p, const char *text)
{
    char buf[512];
    size_t n = 0;
    for (const char *c = text; *c; c++) {
        const char *e = *c == '&' ? "&amp;" : *c == '<' ? "&lt;" : *c == '>' ? "&gt;"
                        : *c == '"' ? "&quot;" : NULL;
        size_t len = e ? strlen(e) : 1;
        if (n + len >= sizeof buf) {
            buf[n] = 0;
            put(p, buf);
            n = 0;
        }
        memcpy(buf + n, e ? e : c, len);
        n += len;
    }
    buf[n] = 0;
    put(p, buf);
}

/* JSON inside <script>: "</" would end the element; "<\/" is the same JSON. */
static void put_json(page *p, const cJSON *j)
{
    char *text = cJSON_PrintUnformatted(j);
    if (!text) {
        p->status = cbct_error(CBCT_ERR_MEMORY, "cannot print the dashboard's data");
        return;
    }
    char *start = text;
    for (char *c = strstr(start, "</"); c; c = strstr(start, "</")) {
        *c = 0;
        put(p, start);
        put(p, "<\\/");
        start = c + 2;
    }
    put(p, start);
    cJSON_free(text);
}

/* The records without their copies of the machine description. */
static cJSON *page_data(const bench_results *r)
{
    cJSON *data = cJSON_CreateObject(), *runs = cJSON_AddArrayToObject(data, "runs");
    const cJSON *machine = cJSON_GetObjectItemCaseSensitive(r->runs[0].bench, "machine");
    cJSON_AddItemToObject(data, "machine", cJSON_Duplicate(machine, 1));
    for (int i = 0; i < r->n; i++) {
        cJSON *rec = cJSON_Duplicate(r->runs[i].record, 1);
        cJSON_DeleteItemFromObject(cJSON_GetObjectItemCaseSensitive(rec, "bench"), "machine");
        cJSON_AddStringToObject(rec, "name", r->runs[i].name);
        cJSON_AddItemToArray(runs, rec);
    }
    return data;
}

static void put_previews(page *p, const char *dir, const bench_results *r)
{
    put(p, "<h2>Previews</h2>\n<p class=\"note\">Middle slices; ground truth | "
           "initialisation | result, in the window of the ground truth.</p>\n"
           "<div class=\"previews\">\n");
    for (int i = 0; i < r->n; i++) {
        put(p, "<figure><figcaption>");
        put_escaped(p, r->runs[i].name);
        put(p, " &mdash; ");
        put_escaped(p, bench_string(r->runs[i].bench, "status", "?"));
        put(p, "</figcaption>");
        static const char *const views[] = {"axial", "coronal"};
        int shown = 0;
        for (int v = 0; v < 2; v++) {
            char path[BENCH_PATH_MAX + 2 * BENCH_NAME_MAX];
            snprintf(path, sizeof path, "%s/%s/%s.png", dir, r->runs[i].name, views[v]);
            char *b64 = dashboard_base64_file(path);
            if (!b64)
                continue;
            put(p, "<img class=\"preview\" alt=\"");
            put(p, views[v]);
            put(p, "\" title=\"");
            put(p, views[v]);
            put(p, "\" src=\"data:image/png;base64,");
            put(p, b64);
            put(p, "\">");
            free(b64);
            shown++;
        }
        if (!shown)
            put(p, "<p class=\"note\">no preview (the run did not finish)</p>");
        put(p, "</figure>\n");
    }
    put(p, "</div>\n");
}

cbct_status dashboard_write(const char *results_dir, const bench_results *r, const char *js_path,
                            const char *out_path)
{
    char *js = NULL;
    size_t js_len = 0;
    cbct_status s = cbct_read_text_file(js_path, JS_MAX_BYTES, &js, &js_len);
    if (s != CBCT_OK)
        return s;
    if (strstr(js, "</script")) {
        free(js);
        return cbct_error(CBCT_ERR_FORMAT, "'%s' contains \"</script\": it cannot be embedded "
                                           "as it is",
                          js_path);
    }
    page p = {.status = cbct_atomic_open(out_path, &p.file)};
    if (p.status != CBCT_OK) {
        free(js);
        return p.status;
    }
    put(&p, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            "<title>cbct bench: ");
    put_escaped(&p, results_dir);
    /* Errors of every later script are caught for the render report. */
    put(&p, "</title>\n<script>window.cbctErrors = [];\nwindow.onerror = function (m, src, "
            "line) { window.cbctErrors.push(String(m) + ' (line ' + line + ')'); };</script>\n"
            "<style>\n");
    put(&p, dashboard_page_css);
    put(&p, "</style>\n<script>\n");
    put(&p, js);
    free(js);
    put(&p, "\n</script>\n</head>\n<body>\n<h1>cbct bench: ");
    put_escaped(&p, results_dir);
    put(&p, "</h1>\n<p id=\"machine\" class=\"note\"></p>\n"
            "<table id=\"summary\"></table>\n<div class=\"charts\">\n");
    static const char *const charts[][2] = {
        {"memory", "Peak memory vs max_batch_size"},
        {"time_iteration", "Time per iteration vs max_batch_size"},
        {"time_total", "Total solver time vs max_batch_size"},
        {"psnr_time", "PSNR vs time"},
        {"psnr_iteration", "PSNR vs iteration"},
        {"breakdown", "Time per phase (sum over iterations)"}};
    for (size_t i = 0; i < sizeof charts / sizeof charts[0]; i++) {
        put(&p, "<div class=\"chart\"><h3>");
        put(&p, charts[i][1]);
        put(&p, "</h3><div class=\"canvas\"><canvas id=\"chart-");
        put(&p, charts[i][0]);
        put(&p, "\"></canvas></div></div>\n");
    }
    put(&p, "</div>\n");
    put_previews(&p, results_dir, r);
    put(&p, "<pre id=\"render-report\">not drawn</pre>\n"
            "<script type=\"application/json\" id=\"bench-data\">");
    cJSON *data = page_data(r);
    put_json(&p, data);
    cJSON_Delete(data);
    put(&p, "</script>\n<script>\n");
    put(&p, dashboard_page_script);
    put(&p, "</script>\n</body>\n</html>\n");
    if (p.status == CBCT_OK)
        return cbct_atomic_commit(&p.file);
    cbct_atomic_abort(&p.file);
    return p.status;
}
