/* The YAML document of a run config: parsing with libyaml's document API,
 * overrides "a.b.c=value" applied to the tree, and error messages that
 * name the file, line and key. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "config_internal.h"

cbct_status cfg_load(cfg_doc *d, const char *text, size_t len, const char *name)
{
    memset(d, 0, sizeof *d);
    d->name = name;
    yaml_parser_t parser;
    if (!yaml_parser_initialize(&parser))
        return cbct_error(CBCT_ERR_MEMORY, "%s: cannot start the YAML parser", name);
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    int ok = yaml_parser_load(&parser, &d->doc);
    cbct_status s = CBCT_OK;
    if (!ok) {
        s = cbct_error(CBCT_ERR_FORMAT, "%s:%zu: YAML syntax error: %s", name,
                       parser.problem_mark.line + 1,
                       parser.problem ? parser.problem : "unknown problem");
        memset(&d->doc, 0, sizeof d->doc);
    } else if (!yaml_document_get_root_node(&d->doc)) {
        s = cbct_error(CBCT_ERR_FORMAT, "%s: the config is empty", name);
    }
    yaml_parser_delete(&parser);
    if (s != CBCT_OK)
        cfg_free(d);
    return s;
}

void cfg_free(cfg_doc *d)
{
    if (d->doc.nodes.start)
        yaml_document_delete(&d->doc);
    memset(&d->doc, 0, sizeof d->doc);
}

yaml_node_t *cfg_node(cfg_doc *d, int id)
{
    return yaml_document_get_node(&d->doc, id);
}

static const char *scalar_text(const yaml_node_t *n)
{
    return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

yaml_node_t *cfg_get(cfg_doc *d, yaml_node_t *map, const char *key)
{
    if (!map || map->type != YAML_MAPPING_NODE)
        return NULL;
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
         p++) {
        const char *k = scalar_text(cfg_node(d, p->key));
        if (k && strcmp(k, key) == 0)
            return cfg_node(d, p->value);
    }
    return NULL;
}

cbct_status cfg_fail(cfg_doc *d, const yaml_node_t *at, const char *key, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (at && at->start_mark.line == CFG_LINE_OVERRIDE)
        return cbct_error(CBCT_ERR_ARG, "%s: --set %s: %s", d->name, key, msg);
    if (at)
        return cbct_error(CBCT_ERR_ARG, "%s:%zu: %s: %s", d->name, at->start_mark.line + 1, key,
                          msg);
    return cbct_error(CBCT_ERR_ARG, "%s: %s: %s", d->name, key, msg);
}

/* Marks node `id` as made by an override. */
static int mark_override(cfg_doc *d, int id)
{
    if (id)
        cfg_node(d, id)->start_mark.line = CFG_LINE_OVERRIDE;
    return id;
}

static int add_scalar(cfg_doc *d, const char *text, size_t len);

/* Copies node `id` of `src` (a parsed override value) into d, marked as
 * an override; returns the new id, 0 when out of memory. */
static int copy_node(cfg_doc *d, yaml_document_t *src, int id, int depth)
{
    yaml_node_t *n = yaml_document_get_node(src, id);
    int out = 0;
    if (!n || depth > 8) /* override values are short lists or blocks */
        return 0;
    if (n->type == YAML_SCALAR_NODE)
        return mark_override(d, yaml_document_add_scalar(&d->doc, NULL, n->data.scalar.value,
                                                         (int)n->data.scalar.length,
                                                         n->data.scalar.style));
    if (n->type == YAML_SEQUENCE_NODE) {
        out = mark_override(d, yaml_document_add_sequence(&d->doc, NULL,
                                                          YAML_FLOW_SEQUENCE_STYLE));
        for (yaml_node_item_t *i = n->data.sequence.items.start;
             out && i < n->data.sequence.items.top; i++) {
            int item = copy_node(d, src, *i, depth + 1);
            if (!item || !yaml_document_append_sequence_item(&d->doc, out, item))
                return 0;
        }
        return out;
    }
    out = mark_override(d, yaml_document_add_mapping(&d->doc, NULL, YAML_FLOW_MAPPING_STYLE));
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start;
         out && p < n->data.mapping.pairs.top; p++) {
        int k = copy_node(d, src, p->key, depth + 1), v = copy_node(d, src, p->value, depth + 1);
        if (!k || !v || !yaml_document_append_mapping_pair(&d->doc, out, k, v))
            return 0;
    }
    return out;
}

/* The value of an override, read as YAML ("3", "[8,8,8]", "{photons: 1e4}");
 * text that is not valid YAML is kept as a plain string, for the mapper's
 * type check to reject with the key's name. */
static int add_value(cfg_doc *d, const char *text, size_t len)
{
    yaml_parser_t parser;
    yaml_document_t value;
    int id = 0, parsed = 0;
    if (len > 0 && yaml_parser_initialize(&parser)) {
        yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
        parsed = yaml_parser_load(&parser, &value);
        yaml_parser_delete(&parser);
    }
    if (parsed) {
        if (yaml_document_get_root_node(&value))
            id = copy_node(d, &value, 1, 0);
        yaml_document_delete(&value);
    }
    return id ? id : add_scalar(d, text, len);
}

static int add_scalar(cfg_doc *d, const char *text, size_t len)
{
    /* Plain style: the mapper reads the type from the text, as for a file. */
    return mark_override(d, yaml_document_add_scalar(&d->doc, NULL, (yaml_char_t *)text,
                                                     (int)len, YAML_PLAIN_SCALAR_STYLE));
}

/* The value id of `key` in mapping `map_id`, made (an empty mapping, or
 * the scalar `leaf`) when absent or, for a leaf, replaced. */
static int set_child(cfg_doc *d, int map_id, const char *key, size_t key_len, const char *leaf)
{
    yaml_node_t *map = cfg_node(d, map_id);
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
         p++) {
        const char *k = scalar_text(cfg_node(d, p->key));
        if (k && strlen(k) == key_len && strncmp(k, key, key_len) == 0) {
            if (leaf)
                p->value = add_value(d, leaf, strlen(leaf));
            return p->value ? p->value : 0;
        }
    }
    int key_id = add_scalar(d, key, key_len);
    int value_id = leaf ? add_value(d, leaf, strlen(leaf))
                        : mark_override(d, yaml_document_add_mapping(&d->doc, NULL,
                                                                     YAML_BLOCK_MAPPING_STYLE));
    if (!key_id || !value_id || !yaml_document_append_mapping_pair(&d->doc, map_id, key_id,
                                                                   value_id))
        return 0;
    return value_id;
}

cbct_status cfg_override(cfg_doc *d, const char *assignment)
{
    const char *eq = strchr(assignment, '=');
    if (!eq || eq == assignment)
        return cbct_error(CBCT_ERR_ARG, "--set '%s': expected KEY.PATH=VALUE", assignment);
    int id = 1; /* the root */
    const char *key = assignment;
    char path[256];
    snprintf(path, sizeof path, "%.*s", (int)(eq - assignment), assignment);
    while (key < eq) {
        const char *dot = memchr(key, '.', (size_t)(eq - key));
        const char *end = dot ? dot : eq;
        yaml_node_t *node = cfg_node(d, id);
        /* A reference-style block "- PnP: ..." : descend into its one mapping. */
        if (node->type == YAML_SEQUENCE_NODE &&
            node->data.sequence.items.top - node->data.sequence.items.start == 1) {
            id = *node->data.sequence.items.start;
            node = cfg_node(d, id);
        }
        if (end == key || node->type != YAML_MAPPING_NODE)
            return cbct_error(CBCT_ERR_ARG, "%s: --set %s: '%.*s' is not a block of keys",
                              d->name, path, (int)(key - assignment - 1), assignment);
        id = set_child(d, id, key, (size_t)(end - key), dot ? NULL : eq + 1);
        if (!id)
            return cbct_error(CBCT_ERR_MEMORY, "--set %s: out of memory", path);
        key = dot ? dot + 1 : eq;
    }
    return CBCT_OK;
}

cbct_status cfg_check_keys(cfg_doc *d, yaml_node_t *map, const char *path,
                           const char *const *allowed)
{
    if (!map || map->type != YAML_MAPPING_NODE)
        return cfg_fail(d, map, path, "expected a block of keys");
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
         p++) {
        yaml_node_t *kn = cfg_node(d, p->key);
        const char *k = scalar_text(kn);
        char full[256];
        snprintf(full, sizeof full, "%s%s%s", path, *path ? "." : "", k ? k : "?");
        if (!k)
            return cfg_fail(d, kn, full, "keys must be plain names");
        if (strchr(k, ','))
            return cfg_fail(d, kn, full,
                            "grids of runs (keys separated by commas) are read in blocks "
                            "of keys and their lists of one block only, not here");
        for (yaml_node_pair_t *q = map->data.mapping.pairs.start; q < p; q++) {
            yaml_node_t *earlier = cfg_node(d, q->key);
            const char *e = scalar_text(earlier);
            if (e && strcmp(e, k) == 0)
                return cfg_fail(d, kn, full, "given twice (first on line %zu)",
                                earlier->start_mark.line + 1);
        }
        int known = 0;
        for (int i = 0; allowed[i] && !known; i++)
            known = strcmp(allowed[i], k) == 0;
        if (!known) {
            char list[512] = "";
            for (int i = 0; allowed[i]; i++)
                snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s",
                         i ? ", " : "", allowed[i]);
            return cfg_fail(d, kn, full, "unknown key (expected one of: %s)", list);
        }
    }
    return CBCT_OK;
}

cbct_status cfg_block(cfg_doc *d, yaml_node_t *node, const char *path, yaml_node_t **out)
{
    if (node && node->type == YAML_SEQUENCE_NODE) {
        if (node->data.sequence.items.top - node->data.sequence.items.start != 1)
            return cfg_fail(d, node, path, "expected one block (a list of one entry)");
        node = cfg_node(d, *node->data.sequence.items.start);
    }
    if (!node || node->type != YAML_MAPPING_NODE)
        return cfg_fail(d, node, path, "expected a block of keys");
    *out = node;
    return CBCT_OK;
}
