/* The plain-text summary of a results folder, one line per run: status,
 * batch size, ranks, iterations, final PSNR, time per iteration, solver
 * and wall time, peak tracked memory and RSS (the largest over ranks when
 * the record has per-rank entries). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "bench.h"

/* Mean of iterations[].seconds_total; NAN without iterations. */
static double seconds_per_iteration(const cJSON *record)
{
    const cJSON *its = cJSON_GetObjectItemCaseSensitive(record, "iterations");
    double sum = 0;
    int n = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, its)
    {
        double s = bench_number(it, "seconds_total");
        if (!isnan(s)) {
            sum += s;
            n++;
        }
    }
    return n ? sum / n : NAN;
}

/* The largest `key` over record.ranks[], or record.totals.key. */
static double peak(const cJSON *record, const char *key)
{
    const cJSON *ranks = cJSON_GetObjectItemCaseSensitive(record, "ranks"), *r;
    double best = NAN;
    cJSON_ArrayForEach(r, ranks)
    {
        double v = bench_number(r, key);
        if (!isnan(v) && (isnan(best) || v > best))
            best = v;
    }
    if (isnan(best)) {
        char path[64];
        snprintf(path, sizeof path, "totals.%s", key);
        best = bench_number(record, path);
    }
    return best;
}

static const char *size_text(double bytes, char *buf, size_t cap)
{
    if (isnan(bytes))
        return "-";
    return cbct_format_size((size_t)bytes, buf, cap);
}

static const char *number_text(double v, const char *fmt, char *buf, size_t cap)
{
    if (isnan(v))
        return "-";
    snprintf(buf, cap, fmt, v);
    return buf;
}

void bench_print_table(const bench_results *r, FILE *out)
{
    int width = 4;
    for (int i = 0; i < r->n; i++)
        if ((int)strlen(r->runs[i].name) > width)
            width = (int)strlen(r->runs[i].name);
    fprintf(out, "%-*s  %-13s %5s %5s %5s %8s %8s %8s %8s %12s %12s\n", width, "run", "status",
            "batch", "ranks", "iters", "PSNR dB", "s/iter", "solver s", "wall s", "peak tracked",
            "peak RSS");
    for (int i = 0; i < r->n; i++) {
        const cJSON *rec = r->runs[i].record, *b = r->runs[i].bench;
        char a[32], c[32], d[32], e[32], f[32], g[32], h[32];
        fprintf(out, "%-*s  %-13s %5.0f %5.0f %5s %8s %8s %8s %8s %12s %12s\n", width,
                r->runs[i].name, bench_string(b, "status", "?"),
                bench_number(b, "params.max_batch_size"), bench_number(b, "params.ranks"),
                number_text(bench_number(rec, "totals.iterations"), "%.0f", a, sizeof a),
                number_text(bench_number(rec, "totals.final_psnr"), "%.2f", c, sizeof c),
                number_text(seconds_per_iteration(rec), "%.3f", d, sizeof d),
                number_text(bench_number(rec, "totals.seconds_solver"), "%.2f", e, sizeof e),
                number_text(bench_number(b, "seconds_wall"), "%.2f", f, sizeof f),
                size_text(peak(rec, "mem_peak_bytes"), g, sizeof g),
                size_text(peak(rec, "rss_peak_bytes"), h, sizeof h));
        const char *message = bench_string(b, "message", NULL);
        if (message && strcmp(bench_string(b, "status", ""), "ok") != 0)
            fprintf(out, "%-*s  `- %s\n", width, "", message);
    }
}
