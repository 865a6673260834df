/* Typed readers of config values: numbers, booleans, strings, choices and
 * short lists, each checked against its range with an error that names the
 * key, the line and the value found. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_internal.h"

static void key_path(char *buf, size_t cap, const char *path, const char *key)
{
    snprintf(buf, cap, "%s%s%s", path, *path ? "." : "", key);
}

/* The text of a scalar for messages: "abc" or "a list" / "a block". */
static const char *shown(const yaml_node_t *n, char *buf, size_t cap)
{
    if (n->type == YAML_SEQUENCE_NODE)
        return "a list";
    if (n->type == YAML_MAPPING_NODE)
        return "a block of keys";
    snprintf(buf, cap, "\"%s\"", (const char *)n->data.scalar.value);
    return buf;
}

static int parse_int(const yaml_node_t *n, int64_t *out)
{
    if (n->type != YAML_SCALAR_NODE || n->data.scalar.length == 0)
        return 0;
    const char *t = (const char *)n->data.scalar.value;
    char *end;
    errno = 0;
    long long v = strtoll(t, &end, 10);
    if (errno || *end)
        return 0;
    *out = v;
    return 1;
}

static int parse_double(const yaml_node_t *n, double *out)
{
    if (n->type != YAML_SCALAR_NODE || n->data.scalar.length == 0)
        return 0;
    const char *t = (const char *)n->data.scalar.value;
    char *end;
    errno = 0;
    double v = strtod(t, &end);
    if (errno || *end || !isfinite(v))
        return 0;
    *out = v;
    return 1;
}

cbct_status cfg_int(cfg_doc *d, yaml_node_t *map, const char *path, const char *key,
                    int64_t lo, int64_t hi, int64_t *out)
{
    yaml_node_t *n = cfg_get(d, map, key);
    if (!n)
        return CBCT_OK;
    char full[256], buf[160];
    key_path(full, sizeof full, path, key);
    int64_t v;
    if (!parse_int(n, &v) || v < lo || v > hi)
        return cfg_fail(d, n, full, "expected an integer in [%lld, %lld], got %s", (long long)lo,
                        (long long)hi, shown(n, buf, sizeof buf));
    *out = v;
    return CBCT_OK;
}

cbct_status cfg_double(cfg_doc *d, yaml_node_t *map, const char *path, const char *key,
                       double lo, double hi, int lo_open, double *out)
{
    yaml_node_t *n = cfg_get(d, map, key);
    if (!n)
        return CBCT_OK;
    char full[256], buf[160];
    key_path(full, sizeof full, path, key);
    double v;
    if (!parse_double(n, &v) || v < lo || v > hi || (lo_open && v == lo))
        return cfg_fail(d, n, full, "expected a number in %c%g, %g], got %s",
                        lo_open ? '(' : '[', lo, hi, shown(n, buf, sizeof buf));
    *out = v;
    return CBCT_OK;
}

cbct_status cfg_bool(cfg_doc *d, yaml_node_t *map, const char *path, const char *key,
                     int *out)
{
    yaml_node_t *n = cfg_get(d, map, key);
    if (!n)
        return CBCT_OK;
    const char *t = n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : "";
    if (strcmp(t, "true") == 0 || strcmp(t, "True") == 0) {
        *out = 1;
        return CBCT_OK;
    }
    if (strcmp(t, "false") == 0 || strcmp(t, "False") == 0) {
        *out = 0;
        return CBCT_OK;
    }
    char full[256], buf[160];
    key_path(full, sizeof full, path, key);
    return cfg_fail(d, n, full, "expected true or false, got %s", shown(n, buf, sizeof buf));
}

cbct_status cfg_string(cfg_doc *d, yaml_node_t *map, const char *path, const char *key,
                       char *out, size_t cap)
{
    yaml_node_t *n = cfg_get(d, map, key);
    if (!n)
        return CBCT_OK;
    char full[256], buf[160];
    key_path(full, sizeof full, path, key);
    if (n->type != YAML_SCALAR_NODE || n->data.scalar.length == 0 ||
        n->data.scalar.length >= cap)
        return cfg_fail(d, n, full, "expected a file or folder name (1 to %zu characters), got %s",
                        cap - 1, shown(n, buf, sizeof buf));
    memcpy(out, n->data.scalar.value, n->data.scalar.length + 1);
    return CBCT_OK;
}

cbct_status cfg_choice(cfg_doc *d, yaml_node_t *map, const char *path, const char *key,
                       const char *const *choices, int *index)
{
    yaml_node_t *n = cfg_get(d, map, key);
    if (!n)
        return CBCT_OK;
    char full[256], buf[160], list[256] = "";
    key_path(full, sizeof full, path, key);
    yaml_node_t *v = n;
    if (v->type == YAML_SEQUENCE_NODE &&
        v->data.sequence.items.top - v->data.sequence.items.start == 1)
        v = cfg_node(d, *v->data.sequence.items.start);
    for (int i = 0; choices[i]; i++) {
        if (v->type == YAML_SCALAR_NODE && strcmp((const char *)v->data.scalar.value,
                                                  choices[i]) == 0) {
            *index = i;
            return CBCT_OK;
        }
        snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? ", " : "",
                 choices[i]);
    }
    return cfg_fail(d, n, full, "expected one of %s, got %s", list, shown(v, buf, sizeof buf));
}

/* The items of a list of exactly n scalars, or NULL after an error. */
static yaml_node_item_t *list_items(cfg_doc *d, yaml_node_t *n, const char *full, int n_want,
                                    const char *what)
{
    char buf[160];
    if (n->type != YAML_SEQUENCE_NODE ||
        n->data.sequence.items.top - n->data.sequence.items.start != n_want) {
        cfg_fail(d, n, full, "expected a list of %d %s, got %s", n_want, what,
                 n->type == YAML_SEQUENCE_NODE ? "a list of another length"
                                               : shown(n, buf, sizeof buf));
        return NULL;
    }
    return n->data.sequence.items.start;
}

cbct_status cfg_ints(cfg_doc *d, yaml_node_t *map, const char *path, const char *key, int n,
                     int64_t lo, int64_t hi, int64_t *out)
{
    yaml_node_t *node = cfg_get(d, map, key);
    if (!node)
        return CBCT_OK;
    char full[256], buf[160];
    key_path(full, sizeof full, path, key);
    char what[96];
    snprintf(what, sizeof what, "integers in [%lld, %lld]", (long long)lo, (long long)hi);
    yaml_node_item_t *items = list_items(d, node, full, n, what);
    if (!items)
        return CBCT_ERR_ARG;
    for (int i = 0; i < n; i++) {
        yaml_node_t *e = cfg_node(d, items[i]);
        int64_t v;
        if (!parse_int(e, &v) || v < lo || v > hi)
            return cfg_fail(d, e, full, "expected a list of %d %s, got %s", n, what,
                            shown(e, buf, sizeof buf));
        out[i] = v;
    }
    return CBCT_OK;
}

cbct_status cfg_doubles(cfg_doc *d, yaml_node_t *map, const char *path, const char *key, int n,
                        double lo, double hi, double *out)
{
    yaml_node_t *node = cfg_get(d, map, key);
    if (!node)
        return CBCT_OK;
    char full[256], buf[160];
    key_path(full, sizeof full, path, key);
    char what[96];
    snprintf(what, sizeof what, "numbers in [%g, %g]", lo, hi);
    yaml_node_item_t *items = list_items(d, node, full, n, what);
    if (!items)
        return CBCT_ERR_ARG;
    for (int i = 0; i < n; i++) {
        yaml_node_t *e = cfg_node(d, items[i]);
        double v;
        if (!parse_double(e, &v) || v < lo || v > hi)
            return cfg_fail(d, e, full, "expected a list of %d %s, got %s", n, what,
                            shown(e, buf, sizeof buf));
        out[i] = v;
    }
    return CBCT_OK;
}
