/* Grids of runs inside a config document: finding the grid keys (zipped
 * "a, b: [[..], ..]" and cartesian "key: [v1, v2]"), the override text of
 * each value, and the mixed-radix numbering of the points. Shared by
 * config_grid.c (the public expansion) and config_grid_point.c (mapping
 * one point). The rules are in docs/experiments.md. */
#ifndef CBCT_CONFIG_GRID_SCAN_H
#define CBCT_CONFIG_GRID_SCAN_H

#include "config_internal.h"

#define GRID_MAX_KEYS 32      /* keys in one zipped grid (the reference has 9) */
#define GRID_MAX_AXES 32      /* grid keys in one config */
#define GRID_MAX_POINTS 100000 /* more is surely a mistake in the config */
#define GRID_PATH_MAX 256
#define GRID_VALUE_MAX 1024   /* override text of one value */

/* One grid key: `n_rows` values of `n_keys` key paths (1 for a product). */
typedef struct grid_axis {
    int zipped;              /* "a, b: [[..]]": the pair is removed before mapping */
    int map_id, key_id;      /* the mapping holding the grid key, and the key's node */
    size_t line;             /* of the key, 0-based as libyaml's marks */
    char text[GRID_PATH_MAX];/* the full key path as written, for messages */
    int n_keys, n_rows;
    char (*paths)[GRID_PATH_MAX]; /* n_keys full key paths */
    int *values;             /* n_rows * n_keys value node ids */
    size_t *row_lines;       /* n_rows */
} grid_axis;

typedef struct grid_scan {
    int n_axes;
    grid_axis axes[GRID_MAX_AXES];
    int n_points;
    int is_grid;             /* a zipped key, or more than one point */
} grid_scan;

/* Finds every grid key of the document (after the --set overrides); checks
 * the shape of each (rows, lengths, duplicates) naming the key and line. */
cbct_status grid_scan_document(cfg_doc *d, grid_scan *g);
void grid_scan_free(grid_scan *g);
/* The row of `axis` in point `point` (the first axis varies slowest). */
int grid_row(const grid_scan *g, int axis, int point);
/* "path=value" for key `k` of row `row` of axis `a`, in the form --set takes. */
cbct_status grid_override_text(cfg_doc *d, const grid_axis *a, int row, int k, char *buf,
                               size_t cap);
/* The value alone, as YAML text ("[8, 256, 256]", "\"gpu:2\"", "10"). */
cbct_status grid_value_text(cfg_doc *d, int id, char *buf, size_t cap);

#endif
