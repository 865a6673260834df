/* The YAML document behind a run config: libyaml's document tree, the
 * overrides applied to it, and typed readers that name the key and line. */
#ifndef CBCT_CONFIG_INTERNAL_H
#define CBCT_CONFIG_INTERNAL_H

#include <stdint.h>
#include <yaml.h>

#include "cbct/config.h"

/* Line of nodes made by an override: reported as "--set" instead. */
#define CFG_LINE_OVERRIDE ((size_t)-1)

typedef struct cfg_doc {
    yaml_document_t doc;
    const char *name; /* the file, for messages */
} cfg_doc;

/* Parses one YAML document; syntax errors name the line. */
cbct_status cfg_load(cfg_doc *d, const char *text, size_t len, const char *name);
void cfg_free(cfg_doc *d);
/* "a.b.c=value": sets (or adds) the scalar at that key path. */
cbct_status cfg_override(cfg_doc *d, const char *assignment);

yaml_node_t *cfg_node(cfg_doc *d, int id);
/* The value of `key` in a mapping node, NULL when absent. */
yaml_node_t *cfg_get(cfg_doc *d, yaml_node_t *map, const char *key);
/* Records "name:LINE: key: <message>" (CBCT_ERR_ARG). */
cbct_status cfg_fail(cfg_doc *d, const yaml_node_t *at, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Checks that `map` is a mapping whose keys are all in `allowed` (NULL
 * terminated); `path` is its key path ("solver.PnP"). */
cbct_status cfg_check_keys(cfg_doc *d, yaml_node_t *map, const char *path,
                           const char *const *allowed);
/* A block that is either a mapping or, as in the reference, a list of one
 * mapping ("- tomography_3d: ..."): returns the mapping. */
cbct_status cfg_block(cfg_doc *d, yaml_node_t *node, const char *path, yaml_node_t **out);

/* Typed readers of map[key]; absent keys keep *out. `path` is the map's
 * key path. Ranges are inclusive. */
cbct_status cfg_int(cfg_doc *d, yaml_node_t *map, const char *path, const char *key,
                    int64_t lo, int64_t hi, int64_t *out);
cbct_status cfg_double(cfg_doc *d, yaml_node_t *map, const char *path, const char *key,
                       double lo, double hi, int lo_open, double *out);
cbct_status cfg_bool(cfg_doc *d, yaml_node_t *map, const char *path, const char *key,
                     int *out);
cbct_status cfg_string(cfg_doc *d, yaml_node_t *map, const char *path, const char *key,
                       char *out, size_t cap);
/* One of `choices` (NULL terminated); a list of one string is accepted too
 * (the reference writes init_method: ["pseudo_inverse"]). */
cbct_status cfg_choice(cfg_doc *d, yaml_node_t *map, const char *path, const char *key,
                       const char *const *choices, int *index);
/* A list of `n` integers in [lo, hi]. */
cbct_status cfg_ints(cfg_doc *d, yaml_node_t *map, const char *path, const char *key, int n,
                     int64_t lo, int64_t hi, int64_t *out);
cbct_status cfg_doubles(cfg_doc *d, yaml_node_t *map, const char *path, const char *key, int n,
                        double lo, double hi, double *out);

/* Grids of runs (config_grid_point.c): sets the grid keys of the document
 * to the values of point `point`; CFG_NO_POINT refuses a grid (more than
 * one point, or a zipped key) and maps a plain config as it is. */
#define CFG_NO_POINT (-1)
cbct_status cfg_grid_select(cfg_doc *d, int point);
/* cbct_config_parse for one point of a grid (config_load.c). */
cbct_status cfg_parse_point(const char *text, size_t len, const char *name,
                            const char *const *overrides, int n_overrides, int point,
                            cbct_recon_config *out);

/* The blocks of a config (config_map.c), onto `c` (defaults already set). */
cbct_status cfg_map_dataset(cfg_doc *d, yaml_node_t *root, cbct_recon_config *c);
cbct_status cfg_map_solver(cfg_doc *d, yaml_node_t *root, cbct_recon_config *c);

#endif
