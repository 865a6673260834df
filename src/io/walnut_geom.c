/* The Walnut dataset's geometry file (scan_geom_corrected.geom): one row
 * of 12 numbers per view, ASTRA cone_vec order, read as numpy.loadtxt
 * would (whitespace, '#' comments, blank lines). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cbct/io.h"

#define GEOM_COLUMNS 12
/* Longest number accepted ("-1.2345678901234567e+123" is 24). */
#define MAX_TOKEN 64

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

cbct_status cbct_walnut_parse_geom(const char *text, size_t n, const char *name,
                                   double **rows_out, int64_t *n_rows)
{
    *rows_out = NULL;
    *n_rows = 0;
    /* At most one row per line: count lines for the allocation. */
    size_t lines = 1;
    for (size_t i = 0; i < n; i++)
        lines += text[i] == '\n';
    double *rows = cbct_alloc(lines * GEOM_COLUMNS * sizeof(double), "Walnut geometry rows");
    if (!rows)
        return cbct_error_prefix(CBCT_ERR_MEMORY, "reading '%s'", name);
    int64_t row = 0;
    size_t i = 0;
    for (int line = 1; i < n; line++) {
        int col = 0;
        double values[GEOM_COLUMNS];
        while (i < n && text[i] != '\n') {
            if (is_space(text[i])) {
                i++;
                continue;
            }
            if (text[i] == '#') { /* comment to the end of the line */
                while (i < n && text[i] != '\n')
                    i++;
                break;
            }
            char token[MAX_TOKEN + 1];
            size_t len = 0;
            while (i < n && text[i] != '\n' && !is_space(text[i]) && text[i] != '#') {
                if (len < MAX_TOKEN)
                    token[len] = text[i];
                len++;
                i++;
            }
            token[len < MAX_TOKEN ? len : MAX_TOKEN] = '\0';
            char *end;
            double v = len <= MAX_TOKEN ? strtod(token, &end) : NAN;
            if (len > MAX_TOKEN || *end != '\0' || !isfinite(v)) {
                cbct_free(rows);
                return cbct_error(CBCT_ERR_FORMAT, "'%s' line %d: '%s%s' is not a finite "
                                  "number (expected %d numbers per row: source, detector "
                                  "centre, u, v)", name, line, token,
                                  len > MAX_TOKEN ? "..." : "", GEOM_COLUMNS);
            }
            if (col == GEOM_COLUMNS) {
                cbct_free(rows);
                return cbct_error(CBCT_ERR_FORMAT, "'%s' line %d: more than %d numbers (expected "
                                  "one view per row: source, detector centre, u, v)", name,
                                  line, GEOM_COLUMNS);
            }
            values[col++] = v;
        }
        if (i < n)
            i++; /* the newline */
        if (col == 0)
            continue;
        if (col != GEOM_COLUMNS) {
            cbct_free(rows);
            return cbct_error(CBCT_ERR_FORMAT, "'%s' line %d: %d numbers, expected %d (source, "
                              "detector centre, u, v; truncated file?)", name, line, col,
                              GEOM_COLUMNS);
        }
        memcpy(rows + row * GEOM_COLUMNS, values, sizeof values);
        row++;
    }
    if (row == 0) {
        cbct_free(rows);
        return cbct_error(CBCT_ERR_FORMAT, "'%s' holds no geometry rows (expected one row of "
                          "%d numbers per view)", name, GEOM_COLUMNS);
    }
    *rows_out = rows;
    *n_rows = row;
    return CBCT_OK;
}

int64_t cbct_walnut_view_row(int64_t k, int64_t count, int64_t n_available)
{
    /* k < count <= N: k * N fits in 64 bits for any N below 2^31. */
    return count <= 0 ? k : k * n_available / count;
}
