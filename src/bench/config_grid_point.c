/* One point of a grid of runs, mapped like a plain config: the zipped grid
 * keys are taken out of the document and every grid key is set to the
 * point's value (the point's overrides, applied as --set would), with the
 * line of the value's row kept so that an error names it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cbct/io.h"
#include "config_grid_scan.h"

static size_t node_count(const cfg_doc *d)
{
    return (size_t)(d->doc.nodes.top - d->doc.nodes.start);
}

/* Takes the pair whose key is node `key_id` out of mapping `map_id`. */
static void remove_pair(cfg_doc *d, int map_id, int key_id)
{
    yaml_node_t *map = cfg_node(d, map_id);
    yaml_node_pair_t *p = map->data.mapping.pairs.start, *top = map->data.mapping.pairs.top;
    for (; p < top; p++)
        if (p->key == key_id) {
            memmove(p, p + 1, (size_t)(top - p - 1) * sizeof *p);
            map->data.mapping.pairs.top--;
            return;
        }
}

/* Applies one override and gives the nodes it made the line `line`. */
static cbct_status apply(cfg_doc *d, const char *text, size_t line)
{
    size_t before = node_count(d);
    cbct_status s = cfg_override(d, text);
    for (size_t i = before; s == CBCT_OK && i < node_count(d); i++)
        if (line != CFG_LINE_OVERRIDE)
            d->doc.nodes.start[i].start_mark.line = line;
    return s;
}

cbct_status cfg_grid_select(cfg_doc *d, int point)
{
    grid_scan g;
    cbct_status s = grid_scan_document(d, &g);
    if (s != CBCT_OK)
        return s;
    if (point == CFG_NO_POINT && g.is_grid) {
        const grid_axis *a = &g.axes[0];
        s = cfg_fail(d, cfg_node(d, a->key_id), a->text,
                     "grids of runs: this config is a grid of %d points; run one with "
                     "'cbct recon --point N' (N from 0 to %d) or all of them with 'cbct bench'",
                     g.n_points, g.n_points - 1);
    } else if (point != CFG_NO_POINT && (point < 0 || point >= g.n_points)) {
        s = cbct_error(CBCT_ERR_ARG, "%s: point %d does not exist: the config has %d point%s "
                                     "(0 to %d)",
                       d->name, point, g.n_points, g.n_points == 1 ? "" : "s",
                       g.n_points - 1);
    }
    if (point == CFG_NO_POINT)
        point = 0;
    for (int a = 0; s == CBCT_OK && a < g.n_axes; a++)
        if (g.axes[a].zipped)
            remove_pair(d, g.axes[a].map_id, g.axes[a].key_id);
    for (int a = 0; s == CBCT_OK && a < g.n_axes; a++) {
        int row = grid_row(&g, a, point);
        for (int k = 0; s == CBCT_OK && k < g.axes[a].n_keys; k++) {
            char text[GRID_PATH_MAX + GRID_VALUE_MAX];
            s = grid_override_text(d, &g.axes[a], row, k, text, sizeof text);
            if (s == CBCT_OK)
                s = apply(d, text, g.axes[a].row_lines[row]);
        }
    }
    grid_scan_free(&g);
    return s;
}

cbct_status cbct_config_parse_point(const char *text, size_t len, const char *name,
                                    const char *const *overrides, int n_overrides, int point,
                                    cbct_recon_config *out)
{
    if (point < 0)
        return cbct_error(CBCT_ERR_ARG, "%s: point %d: points are numbered from 0", name, point);
    return cfg_parse_point(text, len, name, overrides, n_overrides, point, out);
}

cbct_status cbct_config_load_point(const char *path, const char *const *overrides,
                                   int n_overrides, int point, cbct_recon_config *out)
{
    char *text = NULL;
    size_t len = 0;
    /* A config is a few kB; 1 MiB stops a wrong file early (as config_load.c). */
    cbct_status s = cbct_read_text_file(path, (size_t)1 << 20, &text, &len);
    if (s != CBCT_OK)
        return s;
    const char *base = strrchr(path, '/');
    s = cbct_config_parse_point(text, len, base ? base + 1 : path, overrides, n_overrides, point,
                                out);
    free(text);
    return s;
}
