/* Writing the geometry JSON: always the "vectors" form, every double with
 * as many significant digits as it needs (at most 17) for reading it back
 * to give the same bits: 0.1 stays "0.1", not "0.10000000000000001". */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cbct/geometry.h"
#include "cbct/io.h"

/* One line of output: 12 numbers of at most 24 characters, separators. */
#define LINE_BYTES 512

/* The shortest of %.15g, %.16g, %.17g that reads back as the same double
 * (%.17g always does). `buf` holds at least 32 bytes. */
static const char *exact(double value, char *buf)
{
    for (int digits = 15; digits < 17; digits++) {
        snprintf(buf, 32, "%.*g", digits, value);
        if (strtod(buf, NULL) == value)
            return buf;
    }
    snprintf(buf, 32, "%.17g", value);
    return buf;
}

/* printf into a line buffer, then to the file (which aborts on error). */
static cbct_status emit(cbct_atomic_file *f, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static cbct_status emit(cbct_atomic_file *f, const char *fmt, ...)
{
    char line[LINE_BYTES];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof line) {
        cbct_atomic_abort(f);
        return cbct_error(CBCT_ERR_INTERNAL, "geometry JSON line longer than %d bytes",
                          LINE_BYTES);
    }
    return cbct_atomic_write(f, line, (size_t)n);
}

/* "[a, b, c]" of `n` doubles, each exact. */
static const char *exact_list(const double *values, int n, char *buf, size_t cap)
{
    char number[32];
    size_t used = (size_t)snprintf(buf, cap, "[");
    for (int i = 0; i < n && used < cap; i++)
        used += (size_t)snprintf(buf + used, cap - used, "%s%s", i ? ", " : "",
                                 exact(values[i], number));
    if (used < cap)
        snprintf(buf + used, cap - used, "]");
    return buf;
}

static cbct_status emit_volume(cbct_atomic_file *f, const cbct_volume_geom *v)
{
    char list[LINE_BYTES];
    cbct_status s = emit(f, "{\n  \"volume\": {\n    \"shape\": [%lld, %lld, %lld],\n",
                         (long long)v->shape[0], (long long)v->shape[1], (long long)v->shape[2]);
    if (!s)
        s = emit(f, "    \"voxel_size\": %s,\n", exact_list(v->voxel_size, 3, list, sizeof list));
    if (!s)
        s = emit(f, "    \"origin\": %s\n  },\n", exact_list(v->origin, 3, list, sizeof list));
    return s;
}

cbct_status cbct_geometry_write_json(const char *path, const cbct_geometry *g)
{
    /* NaN and infinities have no JSON form; a broken geometry is refused. */
    cbct_status s = cbct_geometry_validate(g);
    if (s)
        return cbct_error_prefix(s, "cannot write '%s'", path);
    cbct_atomic_file f;
    if ((s = cbct_atomic_open(path, &f)))
        return s;
    if (!(s = emit_volume(&f, &g->vol)))
        s = emit(&f, "  \"detector\": {\"rows\": %lld, \"cols\": %lld},\n  \"vectors\": [\n",
                 (long long)g->det_rows, (long long)g->det_cols);
    for (int64_t i = 0; i < g->n_views && !s; i++) {
        const cbct_view *w = &g->views[i];
        double x[12]; /* ASTRA order: src, det, u, v */
        for (int k = 0; k < 3; k++) {
            x[k] = w->src[k];
            x[3 + k] = w->det[k];
            x[6 + k] = w->u[k];
            x[9 + k] = w->v[k];
        }
        char list[LINE_BYTES];
        s = emit(&f, "    %s%s\n", exact_list(x, 12, list, sizeof list),
                 i + 1 < g->n_views ? "," : "");
    }
    if (!s)
        s = emit(&f, "  ]\n}\n");
    if (!s)
        s = cbct_atomic_commit(&f);
    return s; /* on error the atomic file has already removed its temporary file */
}
