/* Finding the grid keys of a config document. A grid is written as in the
 * reference benchmark:
 *   - zipped: "a, b, c: [[a1, b1, c1], [a2, b2, c2]]", one row per point;
 *   - product: "key: [v1, v2, ...]" for a key whose value is one value, or
 *     "key: [[..], [..]]" for a key whose value is itself a list
 *     (patch_size, overlap, shape, ...), so that "patch_size: [8, 256, 256]"
 *     stays a value. A list of one value is a value too (the reference's
 *     init_method: ["pseudo_inverse"]), left to the mapper.
 * Grid keys are looked for in every block of keys, also inside the
 * reference's lists of one block ("- PnP:"). The points are the cartesian
 * product of all grid keys, the first one varying slowest. */
#include <stdio.h>
#include <string.h>

#include "config_grid_scan.h"

/* Keys whose value is a list (config_map.c): a list of scalars there is a
 * value, a list of lists a grid. */
static const char *const list_keys[] = {"shape", "detector", "pixel", "patch_size",
                                        "overlap", "clip", NULL};

static int is_list_key(const char *key)
{
    for (int i = 0; list_keys[i]; i++)
        if (strcmp(list_keys[i], key) == 0)
            return 1;
    return 0;
}

static int n_items(const yaml_node_t *n)
{
    return (int)(n->data.sequence.items.top - n->data.sequence.items.start);
}

/* All items of sequence `n` have node type `type`. */
static int all_items(cfg_doc *d, const yaml_node_t *n, yaml_node_type_t type)
{
    for (yaml_node_item_t *i = n->data.sequence.items.start; i < n->data.sequence.items.top; i++)
        if (cfg_node(d, *i)->type != type)
            return 0;
    return 1;
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        s[--n] = 0;
    return s;
}

static cbct_status new_axis(cfg_doc *d, grid_scan *g, const yaml_node_t *key, int n_keys,
                            int n_rows, grid_axis **out)
{
    if (g->n_axes == GRID_MAX_AXES)
        return cfg_fail(d, key, (const char *)key->data.scalar.value,
                        "more than %d grid keys in one config", GRID_MAX_AXES);
    grid_axis *a = &g->axes[g->n_axes++];
    memset(a, 0, sizeof *a);
    a->n_keys = n_keys;
    a->n_rows = n_rows;
    a->line = key->start_mark.line;
    a->paths = cbct_calloc((size_t)n_keys, sizeof *a->paths, "grid key paths");
    a->values = cbct_calloc((size_t)n_keys * (size_t)n_rows, sizeof *a->values, "grid values");
    a->row_lines = cbct_calloc((size_t)n_rows, sizeof *a->row_lines, "grid rows");
    *out = a;
    return a->paths && a->values && a->row_lines ? CBCT_OK : cbct_last_status();
}

/* "a, b: [[..], ..]" in the mapping `map_id` at `path`. */
static cbct_status zipped_axis(cfg_doc *d, grid_scan *g, int map_id, const char *path,
                               yaml_node_pair_t *p)
{
    yaml_node_t *key = cfg_node(d, p->key), *rows = cfg_node(d, p->value);
    char text[GRID_PATH_MAX], names[GRID_PATH_MAX];
    const char *written = (const char *)key->data.scalar.value;
    snprintf(text, sizeof text, "%s%s%s", path, *path ? "." : "", written);
    if (rows->type != YAML_SEQUENCE_NODE || n_items(rows) == 0 ||
        !all_items(d, rows, YAML_SEQUENCE_NODE))
        return cfg_fail(d, rows, text, "a grid of zipped keys needs a list of rows, one "
                                       "value per key: [[v1, v2, ...], ...]");
    snprintf(names, sizeof names, "%s", written);
    char *name[GRID_MAX_KEYS];
    int n_keys = 0;
    for (char *save = NULL, *t = strtok_r(names, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (n_keys == GRID_MAX_KEYS)
            return cfg_fail(d, key, text, "more than %d zipped keys", GRID_MAX_KEYS);
        name[n_keys++] = trim(t);
    }
    int n_commas = 0;
    for (const char *c = written; *c; c++)
        n_commas += *c == ',';
    if (n_keys != n_commas + 1) /* strtok_r skips the empty names of "a,,b" and "a," */
        return cfg_fail(d, key, text, "empty key name in a grid of zipped keys");
    for (int k = 0; k < n_keys; k++) {
        if (!*name[k] || strchr(name[k], '.'))
            return cfg_fail(d, key, text, "key %d: expected a plain key name, got \"%s\"",
                            k + 1, name[k]);
        for (int j = 0; j < k; j++)
            if (strcmp(name[j], name[k]) == 0)
                return cfg_fail(d, key, text, "%s is given twice", name[k]);
    }
    /* A key also set by --set keeps that value for every point: its column
     * is left out. The same key written twice in the file is an error. */
    int column[GRID_MAX_KEYS], n_kept = 0;
    for (int k = 0; k < n_keys; k++) {
        yaml_node_t *plain = cfg_get(d, cfg_node(d, map_id), name[k]);
        if (plain && plain->start_mark.line != CFG_LINE_OVERRIDE)
            return cfg_fail(d, key, text, "%s is also given on line %zu", name[k],
                            plain->start_mark.line + 1);
        if (!plain)
            column[n_kept++] = k;
    }
    grid_axis *a;
    cbct_status s = new_axis(d, g, key, n_kept ? n_kept : 1, n_items(rows), &a);
    if (s != CBCT_OK)
        return s;
    a->n_keys = n_kept;
    a->zipped = 1;
    a->map_id = map_id;
    a->key_id = p->key;
    snprintf(a->text, sizeof a->text, "%s", text);
    for (int k = 0; k < n_kept; k++)
        snprintf(a->paths[k], GRID_PATH_MAX, "%s%s%s", path, *path ? "." : "", name[column[k]]);
    int r = 0;
    for (yaml_node_item_t *i = rows->data.sequence.items.start; i < rows->data.sequence.items.top;
         i++, r++) {
        yaml_node_t *row = cfg_node(d, *i);
        if (n_items(row) != n_keys)
            return cfg_fail(d, row, text, "row %d has %d values, expected %d (one per key)",
                            r + 1, n_items(row), n_keys);
        a->row_lines[r] = row->start_mark.line;
        for (int k = 0; k < n_kept; k++)
            a->values[r * n_kept + k] = row->data.sequence.items.start[column[k]];
    }
    return CBCT_OK;
}

/* "key: [v1, v2]": a product over the values. */
static cbct_status product_axis(cfg_doc *d, grid_scan *g, const char *path, yaml_node_pair_t *p)
{
    yaml_node_t *key = cfg_node(d, p->key), *list = cfg_node(d, p->value);
    grid_axis *a;
    cbct_status s = new_axis(d, g, key, 1, n_items(list), &a);
    if (s != CBCT_OK)
        return s;
    snprintf(a->paths[0], GRID_PATH_MAX, "%s%s%s", path, *path ? "." : "",
             (const char *)key->data.scalar.value);
    snprintf(a->text, sizeof a->text, "%s", a->paths[0]);
    a->map_id = 0;
    a->key_id = p->key;
    int r = 0;
    for (yaml_node_item_t *i = list->data.sequence.items.start; i < list->data.sequence.items.top;
         i++, r++) {
        a->values[r] = *i;
        a->row_lines[r] = cfg_node(d, *i)->start_mark.line;
    }
    return CBCT_OK;
}

static cbct_status scan_node(cfg_doc *d, grid_scan *g, int id, const char *path, int depth);

static cbct_status scan_mapping(cfg_doc *d, grid_scan *g, int map_id, const char *path,
                                int depth)
{
    yaml_node_t *map = cfg_node(d, map_id);
    cbct_status s = CBCT_OK;
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start;
         s == CBCT_OK && p < map->data.mapping.pairs.top; p++) {
        yaml_node_t *key = cfg_node(d, p->key), *value = cfg_node(d, p->value);
        if (key->type != YAML_SCALAR_NODE)
            continue; /* the mapper rejects it, naming the line */
        const char *k = (const char *)key->data.scalar.value;
        char sub[GRID_PATH_MAX];
        snprintf(sub, sizeof sub, "%s%s%s", path, *path ? "." : "", k);
        if (strchr(k, ','))
            s = zipped_axis(d, g, map_id, path, p);
        else if (value->type == YAML_SEQUENCE_NODE && n_items(value) == 0 && !is_list_key(k))
            s = cfg_fail(d, value, sub, "an empty list: a grid needs at least one value");
        else if (value->type == YAML_SEQUENCE_NODE && n_items(value) > 1 &&
                 (is_list_key(k) ? all_items(d, value, YAML_SEQUENCE_NODE)
                                 : all_items(d, value, YAML_SCALAR_NODE)))
            s = product_axis(d, g, path, p);
        else
            s = scan_node(d, g, p->value, sub, depth + 1);
    }
    return s;
}

/* Blocks of keys, and lists of one block as the reference writes them. */
static cbct_status scan_node(cfg_doc *d, grid_scan *g, int id, const char *path, int depth)
{
    yaml_node_t *n = cfg_node(d, id);
    if (!n || depth > 16) /* configs are 4 levels deep; deeper is left to the mapper */
        return CBCT_OK;
    if (n->type == YAML_MAPPING_NODE)
        return scan_mapping(d, g, id, path, depth);
    if (n->type == YAML_SEQUENCE_NODE && n_items(n) == 1)
        return scan_node(d, g, *n->data.sequence.items.start, path, depth + 1);
    return CBCT_OK;
}

cbct_status grid_scan_document(cfg_doc *d, grid_scan *g)
{
    memset(g, 0, sizeof *g);
    cbct_status s = scan_node(d, g, 1, "", 0);
    /* A key path in two grids would be set twice per point. */
    for (int a = 0; s == CBCT_OK && a < g->n_axes; a++)
        for (int k = 0; s == CBCT_OK && k < g->axes[a].n_keys; k++)
            for (int b = 0; s == CBCT_OK && b < a; b++)
                for (int j = 0; s == CBCT_OK && j < g->axes[b].n_keys; j++)
                    if (strcmp(g->axes[a].paths[k], g->axes[b].paths[j]) == 0)
                        s = cfg_fail(d, cfg_node(d, g->axes[a].key_id), g->axes[a].text,
                                     "%s is also in the grid on line %zu",
                                     g->axes[a].paths[k], g->axes[b].line + 1);
    long long points = 1;
    for (int a = 0; s == CBCT_OK && a < g->n_axes; a++) {
        points *= g->axes[a].n_rows;
        g->is_grid |= g->axes[a].zipped;
        if (points > GRID_MAX_POINTS)
            s = cfg_fail(d, cfg_node(d, g->axes[a].key_id), g->axes[a].text,
                         "the grid has more than %d points", GRID_MAX_POINTS);
    }
    g->n_points = (int)points;
    g->is_grid |= points > 1;
    if (s != CBCT_OK)
        grid_scan_free(g);
    return s;
}

void grid_scan_free(grid_scan *g)
{
    for (int a = 0; a < g->n_axes; a++) {
        cbct_free(g->axes[a].paths);
        cbct_free(g->axes[a].values);
        cbct_free(g->axes[a].row_lines);
    }
    g->n_axes = 0;
}

int grid_row(const grid_scan *g, int axis, int point)
{
    int stride = 1;
    for (int a = g->n_axes - 1; a > axis; a--)
        stride *= g->axes[a].n_rows;
    return point / stride % g->axes[axis].n_rows;
}

/* Appends text to buf at *len; 0 when it does not fit. */
static int append(char *buf, size_t cap, size_t *len, const char *text, size_t n)
{
    if (*len + n + 1 > cap)
        return 0;
    memcpy(buf + *len, text, n);
    *len += n;
    buf[*len] = 0;
    return 1;
}

static int emit(cfg_doc *d, int id, char *buf, size_t cap, size_t *len, int depth)
{
    yaml_node_t *n = cfg_node(d, id);
    if (!n || depth > 8)
        return 0;
    if (n->type == YAML_SCALAR_NODE) {
        const char *v = (const char *)n->data.scalar.value;
        if (n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE || n->data.scalar.style ==
                                                                   YAML_ANY_SCALAR_STYLE)
            return append(buf, cap, len, v, n->data.scalar.length);
        /* Quoted in the file ("gpu:2", "10" as a string): kept quoted. */
        int ok = append(buf, cap, len, "\"", 1);
        for (size_t i = 0; ok && i < n->data.scalar.length; i++) {
            if (v[i] == '"' || v[i] == '\\')
                ok = append(buf, cap, len, "\\", 1);
            ok = ok && append(buf, cap, len, v + i, 1);
        }
        return ok && append(buf, cap, len, "\"", 1);
    }
    int seq = n->type == YAML_SEQUENCE_NODE, ok = append(buf, cap, len, seq ? "[" : "{", 1);
    if (seq)
        for (yaml_node_item_t *i = n->data.sequence.items.start;
             ok && i < n->data.sequence.items.top; i++)
            ok = (i == n->data.sequence.items.start || append(buf, cap, len, ", ", 2)) &&
                 emit(d, *i, buf, cap, len, depth + 1);
    else
        for (yaml_node_pair_t *p = n->data.mapping.pairs.start;
             ok && p < n->data.mapping.pairs.top; p++)
            ok = (p == n->data.mapping.pairs.start || append(buf, cap, len, ", ", 2)) &&
                 emit(d, p->key, buf, cap, len, depth + 1) && append(buf, cap, len, ": ", 2) &&
                 emit(d, p->value, buf, cap, len, depth + 1);
    return ok && append(buf, cap, len, seq ? "]" : "}", 1);
}

cbct_status grid_value_text(cfg_doc *d, int id, char *buf, size_t cap)
{
    size_t len = 0;
    buf[0] = 0;
    if (!emit(d, id, buf, cap, &len, 0))
        return cfg_fail(d, cfg_node(d, id), "grid", "a value longer than %zu characters",
                        cap - 1);
    return CBCT_OK;
}

cbct_status grid_override_text(cfg_doc *d, const grid_axis *a, int row, int k, char *buf,
                               size_t cap)
{
    int n = snprintf(buf, cap, "%s=", a->paths[k]);
    if (n < 0 || (size_t)n >= cap)
        return cfg_fail(d, NULL, a->paths[k], "key path too long for a grid");
    return grid_value_text(d, a->values[row * a->n_keys + k], buf + n, cap - (size_t)n);
}
