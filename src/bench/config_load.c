/* Reading a run config: the defaults, the run block, overrides, and the
 * entry points that tie the YAML document to cbct_recon_config. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cbct/io.h"
#include "config_internal.h"

static void set_defaults(cbct_recon_config *c)
{
    memset(c, 0, sizeof *c);
    c->num_operators = 1;
    c->num_projections = 50;
    c->use_dataset_sinogram = 1;
    c->source = CBCT_SOURCE_PHANTOM;
    c->phantom = CBCT_PHANTOM_WALNUT;
    for (int i = 0; i < 3; i++)
        c->shape[i] = 64;
    c->seed = 1;
    c->value_scale = 1.0;
    c->noise_seed = 1;
    c->sod_mm = 400.0; /* magnification 2, as `cbct demo` */
    c->sdd_mm = 800.0;
    c->solver = CBCT_SOLVER_PNP;
    c->init_method = CBCT_INIT_PSEUDO_INVERSE;
    c->max_iterations = 40;
    c->denoiser_sigma = 0.03;
    c->denoiser_lambda = 10.0;
    c->mode = CBCT_PNP_LAMBDA_REFERENCE;
    c->tiling.max_batch = 4;
    c->slurm_ntasks_per_node = 1;
    c->orbit = 2;
    snprintf(c->output_dir, sizeof c->output_dir, "out/recon");
}

static cbct_status map_run(cfg_doc *d, yaml_node_t *root, cbct_recon_config *c)
{
    static const char *const keys[] = {"memory", "output", "threads", NULL};
    yaml_node_t *r = cfg_get(d, root, "run");
    if (!r)
        return CBCT_OK;
    cbct_status s = cfg_check_keys(d, r, "run", keys);
    int64_t threads = 0;
    char memory[64] = "";
    if (s == CBCT_OK)
        s = cfg_string(d, r, "run", "memory", memory, sizeof memory);
    if (s == CBCT_OK && memory[0] && cbct_parse_size(memory, &c->memory_bytes) != CBCT_OK)
        s = cfg_fail(d, cfg_get(d, r, "memory"), "run.memory",
                     "expected a size such as 512M or 2G, got \"%s\"", memory);
    if (s == CBCT_OK)
        s = cfg_string(d, r, "run", "output", c->output_dir, sizeof c->output_dir);
    if (s == CBCT_OK)
        s = cfg_int(d, r, "run", "threads", 0, 4096, &threads);
    c->threads = (int)threads;
    return s;
}

cbct_status cbct_config_parse(const char *text, size_t len, const char *name,
                              const char *const *overrides, int n_overrides,
                              cbct_recon_config *out)
{
    return cfg_parse_point(text, len, name, overrides, n_overrides, CFG_NO_POINT, out);
}

cbct_status cfg_parse_point(const char *text, size_t len, const char *name,
                            const char *const *overrides, int n_overrides, int point,
                            cbct_recon_config *out)
{
    static const char *const top[] = {"dataset", "solver", "run", NULL};
    set_defaults(out);
    snprintf(out->source_name, sizeof out->source_name, "%s", name);
    cfg_doc d;
    cbct_status s = cfg_load(&d, text, len, name);
    if (s != CBCT_OK)
        return s;
    for (int i = 0; s == CBCT_OK && i < n_overrides; i++)
        s = cfg_override(&d, overrides[i]);
    if (s == CBCT_OK)
        s = cfg_grid_select(&d, point); /* config_grid_point.c */
    yaml_node_t *root = yaml_document_get_root_node(&d.doc);
    if (s == CBCT_OK)
        s = cfg_check_keys(&d, root, "", top);
    if (s == CBCT_OK)
        s = cfg_map_dataset(&d, root, out);
    if (s == CBCT_OK)
        s = cfg_map_solver(&d, root, out);
    if (s == CBCT_OK)
        s = map_run(&d, root, out);
    cfg_free(&d);
    return s;
}

cbct_status cbct_config_load(const char *path, const char *const *overrides, int n_overrides,
                             cbct_recon_config *out)
{
    /* A config is a few kB; 1 MiB stops a wrong file early. */
    char *text = NULL;
    size_t len = 0;
    cbct_status s = cbct_read_text_file(path, (size_t)1 << 20, &text, &len);
    if (s != CBCT_OK)
        return s;
    const char *base = strrchr(path, '/');
    s = cbct_config_parse(text, len, base ? base + 1 : path, overrides, n_overrides, out);
    free(text);
    return s;
}
