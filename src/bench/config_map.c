/* Maps the dataset and solver blocks of a run config onto
 * cbct_recon_config: the keys each block allows, and the checks that need
 * several keys (one data source, files that exist, shapes that agree). */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cbct/io.h" /* the Walnut reference volume */
#include "config_internal.h"

#define DS "dataset.tomography_3d"
#define MAX_VOXELS_PER_AXIS 65536 /* sanity bound for shapes and detectors */
#define MAX_VIEWS 1000000

static const char *const solver_names[] = {"PnP", "CGLS", "SIRT", "FDK", NULL};
static const char *const init_names[] = {"zeros", "adjoint", "fdk", "pseudo_inverse", NULL};
/* The pseudo-inverse's options (docs/config.md), for every solver that
 * takes an init_method. */
#define PINV_KEYS                                                                          \
    "pseudo_inverse_iterations", "pseudo_inverse_nonnegative", "pseudo_inverse_damping",  \
        "pseudo_inverse_start", "pseudo_inverse_discrepancy"

const char *cbct_solver_kind_name(cbct_solver_kind k)
{
    return k >= CBCT_SOLVER_PNP && k <= CBCT_SOLVER_FDK ? solver_names[k] : "?";
}

const char *cbct_init_name(cbct_init m)
{
    return m >= CBCT_INIT_ZEROS && m <= CBCT_INIT_PSEUDO_INVERSE ? init_names[m] : "?";
}

static cbct_status need_file(cfg_doc *d, yaml_node_t *map, const char *key_path,
                             const char *key, const char *file)
{
    if (access(file, R_OK) == 0)
        return CBCT_OK;
    return cfg_fail(d, cfg_get(d, map, key), key_path, "cannot read file '%s'", file);
}

cbct_status cfg_map_dataset(cfg_doc *d, yaml_node_t *root, cbct_recon_config *c)
{
    static const char *const top[] = {"tomography_3d", NULL};
    static const char *const keys[] = {
        "num_operators", "num_projections", "geometry_type", "use_dataset_sinogram",
        "phantom", "shape", "seed", "volume", "value_scale", "projections", "geometry_file",
        "noise", "sod", "sdd", "detector", "pixel", "path", "orbit", "voxel_size", NULL};
    static const char *const noise_keys[] = {"photons", "seed", NULL};
    static const char *const geometry_types[] = {"conebeam", NULL};
    static const char *const phantoms[] = {"walnut", "shepp-logan", NULL};
    yaml_node_t *block = NULL, *t = NULL;
    cbct_status s = cfg_block(d, cfg_get(d, root, "dataset"), "dataset", &block);
    if (s == CBCT_OK)
        s = cfg_check_keys(d, block, "dataset", top);
    if (s == CBCT_OK && !(t = cfg_get(d, block, "tomography_3d")))
        s = cfg_fail(d, block, "dataset", "expected a tomography_3d block");
    if (s == CBCT_OK)
        s = cfg_block(d, t, DS, &t);
    if (s == CBCT_OK)
        s = cfg_check_keys(d, t, DS, keys);
    int geometry_type = 0, phantom = (int)c->phantom;
    int64_t seed = 1, noise_seed = 1;
    if (s == CBCT_OK)
        s = cfg_int(d, t, DS, "num_operators", 1, MAX_VIEWS, &c->num_operators);
    if (s == CBCT_OK)
        s = cfg_int(d, t, DS, "num_projections", 1, MAX_VIEWS, &c->num_projections);
    if (s == CBCT_OK)
        s = cfg_choice(d, t, DS, "geometry_type", geometry_types, &geometry_type);
    if (s == CBCT_OK)
        s = cfg_bool(d, t, DS, "use_dataset_sinogram", &c->use_dataset_sinogram);
    if (s == CBCT_OK)
        s = cfg_choice(d, t, DS, "phantom", phantoms, &phantom);
    if (s == CBCT_OK)
        s = cfg_ints(d, t, DS, "shape", 3, 1, MAX_VOXELS_PER_AXIS, c->shape);
    if (s == CBCT_OK)
        s = cfg_int(d, t, DS, "seed", 0, INT64_MAX, &seed);
    if (s == CBCT_OK)
        s = cfg_string(d, t, DS, "volume", c->volume_path, sizeof c->volume_path);
    if (s == CBCT_OK)
        s = cfg_double(d, t, DS, "value_scale", 0, 1e30, 1, &c->value_scale);
    if (s == CBCT_OK)
        s = cfg_string(d, t, DS, "projections", c->projections_path,
                       sizeof c->projections_path);
    if (s == CBCT_OK)
        s = cfg_string(d, t, DS, "geometry_file", c->geometry_path, sizeof c->geometry_path);
    if (s == CBCT_OK)
        s = cfg_double(d, t, DS, "sod", 0, 1e9, 1, &c->sod_mm);
    if (s == CBCT_OK)
        s = cfg_double(d, t, DS, "sdd", 0, 1e9, 1, &c->sdd_mm);
    if (s == CBCT_OK)
        s = cfg_ints(d, t, DS, "detector", 2, 1, MAX_VOXELS_PER_AXIS, c->detector);
    if (s == CBCT_OK)
        s = cfg_doubles(d, t, DS, "pixel", 2, 1e-9, 1e9, c->pixel_mm);
    if (s == CBCT_OK)
        s = cfg_string(d, t, DS, "path", c->walnut_path, sizeof c->walnut_path);
    if (s == CBCT_OK)
        s = cfg_int(d, t, DS, "orbit", 1, 3, &c->orbit);
    if (s == CBCT_OK)
        s = cfg_double(d, t, DS, "voxel_size", 1e-9, 1e9, 1, &c->voxel_mm);
    yaml_node_t *noise = cfg_get(d, t, "noise");
    if (s == CBCT_OK && noise)
        s = cfg_check_keys(d, noise, DS ".noise", noise_keys);
    if (s == CBCT_OK && noise)
        s = cfg_double(d, noise, DS ".noise", "photons", 0, 1e15, 1, &c->photons);
    if (s == CBCT_OK && noise)
        s = cfg_int(d, noise, DS ".noise", "seed", 0, INT64_MAX, &noise_seed);
    if (s != CBCT_OK)
        return s;
    c->phantom = (cbct_phantom_kind)phantom;
    c->seed = (uint64_t)seed;
    c->noise_seed = (uint64_t)noise_seed;

    /* One source of data. */
    int n_sources = (cfg_get(d, t, "phantom") != NULL) + (c->volume_path[0] != 0) +
                    (c->projections_path[0] != 0) + (c->walnut_path[0] != 0);
    if (n_sources > 1)
        return cfg_fail(d, t, DS, "give one of phantom, volume, projections or path (a Walnut "
                                  "dataset), not several");
    c->source = c->volume_path[0]        ? CBCT_SOURCE_VOLUME
                : c->projections_path[0] ? CBCT_SOURCE_PROJECTIONS
                : c->walnut_path[0]      ? CBCT_SOURCE_WALNUT
                                         : CBCT_SOURCE_PHANTOM;
    if (c->source != CBCT_SOURCE_WALNUT && (cfg_get(d, t, "orbit") || cfg_get(d, t, "voxel_size")))
        return cfg_fail(d, cfg_get(d, t, cfg_get(d, t, "orbit") ? "orbit" : "voxel_size"),
                        DS, "orbit and voxel_size belong to a Walnut dataset (path)");
    if (c->source == CBCT_SOURCE_WALNUT) {
        char geom[CBCT_CONFIG_PATH_MAX + 64];
        snprintf(geom, sizeof geom, "%s/Projections/tubeV%lld/scan_geom_corrected.geom",
                 c->walnut_path, (long long)c->orbit);
        s = need_file(d, t, DS ".path", "path", geom);
        if (s == CBCT_OK && noise && c->use_dataset_sinogram)
            s = cfg_fail(d, noise, DS ".noise", "noise is simulated only: with a Walnut "
                                                "dataset set use_dataset_sinogram: false");
        if (s != CBCT_OK)
            return s;
        if (!cfg_get(d, t, "shape")) /* the reference volume, not the phantom default */
            for (int i = 0; i < 3; i++)
                c->shape[i] = CBCT_WALNUT_VOLUME_VOXELS;
    }
    if (c->source == CBCT_SOURCE_VOLUME)
        s = need_file(d, t, DS ".volume", "volume", c->volume_path);
    if (c->source == CBCT_SOURCE_PROJECTIONS) {
        s = need_file(d, t, DS ".projections", "projections", c->projections_path);
        if (s == CBCT_OK && !c->geometry_path[0])
            s = cfg_fail(d, t, DS ".geometry_file", "measured projections need a geometry file");
        if (s == CBCT_OK)
            s = need_file(d, t, DS ".geometry_file", "geometry_file", c->geometry_path);
        if (s == CBCT_OK && noise)
            s = cfg_fail(d, noise, DS ".noise", "noise is simulated only, not added to "
                                                "measured projections");
    } else if (s == CBCT_OK && c->geometry_path[0]) {
        s = cfg_fail(d, cfg_get(d, t, "geometry_file"), DS ".geometry_file",
                     "only used with measured projections");
    }
    if (s == CBCT_OK && c->num_operators > c->num_projections)
        s = cfg_fail(d, cfg_get(d, t, "num_operators"), DS ".num_operators",
                     "%lld blocks of views but only %lld projections",
                     (long long)c->num_operators, (long long)c->num_projections);
    if (s == CBCT_OK && c->sdd_mm <= c->sod_mm)
        s = cfg_fail(d, cfg_get(d, t, "sdd"), DS ".sdd",
                     "the detector (%g mm) must be farther than the object (sod %g mm)",
                     c->sdd_mm, c->sod_mm);
    return s;
}

/* Keys of the reference grid that place the run on ranks; every solver takes
 * them (FDK and the pseudo-inverse distribute their physics too). */
#define DIST_KEYS                                                                          \
    "distribute_physics", "distribute_denoiser", "distribute_volume", "slurm_gres",      \
        "slurm_ntasks_per_node"

static cbct_status map_distribution(cfg_doc *d, yaml_node_t *p, const char *path,
                                    cbct_recon_config *c)
{
    cbct_status s = cfg_bool(d, p, path, "distribute_physics", &c->distribute_physics);
    if (s == CBCT_OK)
        s = cfg_bool(d, p, path, "distribute_denoiser", &c->distribute_denoiser);
    if (s == CBCT_OK)
        s = cfg_bool(d, p, path, "distribute_volume", &c->distribute_volume);
    if (s == CBCT_OK)
        s = cfg_string(d, p, path, "slurm_gres", c->slurm_gres, sizeof c->slurm_gres);
    if (s == CBCT_OK)
        s = cfg_int(d, p, path, "slurm_ntasks_per_node", 1, 1 << 20, &c->slurm_ntasks_per_node);
    return s;
}

/* The discrepancy principle (key `key` of block `path`) needs the noise
 * level, known only for simulated noise (dataset noise.photons, mapped
 * before) or noise-free simulated data. */
static cbct_status need_noise_level(cfg_doc *d, yaml_node_t *p, const char *path,
                                    const char *key, const cbct_recon_config *c)
{
    int simulated = c->source == CBCT_SOURCE_PHANTOM || c->source == CBCT_SOURCE_VOLUME;
    if (simulated || c->photons > 0)
        return CBCT_OK;
    char key_path[96];
    snprintf(key_path, sizeof key_path, "%s.%s", path, key);
    return cfg_fail(d, cfg_get(d, p, key), key_path,
                    "the discrepancy principle needs the noise level, known only for "
                    "simulated data (" DS ".noise.photons); with measured projections stop "
                    "by the iteration count or use damping");
}

/* pseudo_inverse_* */
static cbct_status map_pseudo_inverse(cfg_doc *d, yaml_node_t *p, const char *path,
                                      cbct_recon_config *c)
{
    static const char *const starts[] = {"zeros", "fdk", NULL};
    int64_t iterations = c->pinv.max_iterations;
    int start = c->pinv.start == CBCT_INIT_FDK;
    cbct_status s = cfg_int(d, p, path, "pseudo_inverse_iterations", 1, 1000000, &iterations);
    if (s == CBCT_OK)
        s = cfg_bool(d, p, path, "pseudo_inverse_nonnegative", &c->pinv.nonnegative);
    if (s == CBCT_OK) /* relative to ||A^T A||: beyond 1 the data hardly count */
        s = cfg_double(d, p, path, "pseudo_inverse_damping", 0, 1, 0, &c->pinv.damping);
    if (s == CBCT_OK)
        s = cfg_choice(d, p, path, "pseudo_inverse_start", starts, &start);
    if (s == CBCT_OK) /* a factor tau of the noise norm; usual values 1 to 1.5 */
        s = cfg_double(d, p, path, "pseudo_inverse_discrepancy", 0, 100, 0,
                       &c->pinv.discrepancy);
    if (s == CBCT_OK && c->pinv.discrepancy > 0)
        s = need_noise_level(d, p, path, "pseudo_inverse_discrepancy", c);
    c->pinv.max_iterations = (int)iterations;
    c->pinv.start = start ? CBCT_INIT_FDK : CBCT_INIT_ZEROS;
    return s;
}

/* The CGLS and SIRT blocks' own options: nonnegative (both), damping and
 * discrepancy (CGLS; the same meaning as the pseudo_inverse_ keys). */
static cbct_status map_least_squares(cfg_doc *d, yaml_node_t *p, const char *path,
                                     cbct_recon_config *c)
{
    cbct_status s = cfg_bool(d, p, path, "nonnegative", &c->nonnegative);
    if (s == CBCT_OK) /* relative to ||A^T A||, as pseudo_inverse_damping */
        s = cfg_double(d, p, path, "damping", 0, 1, 0, &c->damping);
    if (s == CBCT_OK) /* tau, as pseudo_inverse_discrepancy */
        s = cfg_double(d, p, path, "discrepancy", 0, 100, 0, &c->discrepancy);
    const char *cgls_only = cfg_get(d, p, "damping")       ? "damping"
                            : cfg_get(d, p, "discrepancy") ? "discrepancy"
                                                           : NULL;
    char key[96];
    if (s == CBCT_OK && cgls_only && c->solver != CBCT_SOLVER_CGLS) {
        snprintf(key, sizeof key, "%s.%s", path, cgls_only);
        s = cfg_fail(d, cfg_get(d, p, cgls_only), key,
                     "only for CGLS (SIRT takes nonnegative, max_iterations and tolerance)");
    }
    if (s == CBCT_OK && c->discrepancy > 0)
        s = need_noise_level(d, p, path, "discrepancy", c);
    return s;
}

cbct_status cfg_map_solver(cfg_doc *d, yaml_node_t *root, cbct_recon_config *c)
{
    static const char *const pnp_keys[] = {
        "denoiser", "model", "init_method", "max_iterations", "tolerance", "denoiser_sigma",
        "denoiser_lambda_relaxation", "patch_size", "overlap", "max_batch_size", "mode", "clip",
        DIST_KEYS, PINV_KEYS, NULL};
    static const char *const iter_keys[] = {"init_method", "max_iterations", "tolerance",
                                            "nonnegative", "damping", "discrepancy",
                                            DIST_KEYS, PINV_KEYS, NULL};
    static const char *const fdk_keys[] = {DIST_KEYS, NULL};
    static const char *const denoisers[] = {"drunet", NULL};
    static const char *const modes[] = {"reference", "normalized", NULL};
    yaml_node_t *block = NULL, *p = NULL;
    cbct_status s = cfg_block(d, cfg_get(d, root, "solver"), "solver", &block);
    if (s == CBCT_OK)
        s = cfg_check_keys(d, block, "solver", solver_names);
    if (s != CBCT_OK)
        return s;
    if (block->data.mapping.pairs.top - block->data.mapping.pairs.start != 1)
        return cfg_fail(d, block, "solver", "expected exactly one of PnP, CGLS, SIRT, FDK");
    yaml_node_t *name = cfg_node(d, block->data.mapping.pairs.start->key);
    for (int i = 0; solver_names[i]; i++)
        if (strcmp((const char *)name->data.scalar.value, solver_names[i]) == 0)
            c->solver = (cbct_solver_kind)i;
    char path[32];
    snprintf(path, sizeof path, "solver.%s", solver_names[c->solver]);
    yaml_node_t *body = cfg_node(d, block->data.mapping.pairs.start->value);
    if (body->type == YAML_SCALAR_NODE && body->data.scalar.length == 0)
        body = NULL; /* "FDK:" with nothing after it */
    if (body && (s = cfg_block(d, body, path, &p)) != CBCT_OK)
        return s;
    if (c->solver == CBCT_SOLVER_CGLS)
        c->max_iterations = 50;
    if (c->solver == CBCT_SOLVER_SIRT)
        c->max_iterations = 100;
    if (c->solver != CBCT_SOLVER_PNP)
        c->init_method = CBCT_INIT_ZEROS;
    c->pinv = cbct_pinv_defaults();
    /* the noise model; simulated without noise: infinitely many photons, a
     * zero discrepancy */
    c->pinv.photons = c->photons > 0 ? c->photons : INFINITY;
    if (!p)
        return c->solver == CBCT_SOLVER_PNP
                   ? cfg_fail(d, body, path, "PnP needs a block with its model")
                   : CBCT_OK;
    const char *const *keys = c->solver == CBCT_SOLVER_PNP   ? pnp_keys
                              : c->solver == CBCT_SOLVER_FDK ? fdk_keys
                                                             : iter_keys;
    s = cfg_check_keys(d, p, path, keys);
    if (s == CBCT_OK)
        s = map_distribution(d, p, path, c);
    int init = (int)c->init_method, denoiser = 0, mode = (int)c->mode;
    int64_t iterations = c->max_iterations, max_batch = c->tiling.max_batch;
    if (s == CBCT_OK)
        s = cfg_choice(d, p, path, "init_method", init_names, &init);
    if (s == CBCT_OK)
        s = cfg_int(d, p, path, "max_iterations", 1, 1000000, &iterations);
    if (s == CBCT_OK)
        s = cfg_double(d, p, path, "tolerance", -1, 1, 0, &c->tolerance);
    if (s == CBCT_OK)
        s = cfg_choice(d, p, path, "denoiser", denoisers, &denoiser);
    if (s == CBCT_OK)
        s = cfg_string(d, p, path, "model", c->model_path, sizeof c->model_path);
    if (s == CBCT_OK)
        s = cfg_double(d, p, path, "denoiser_sigma", 0, 1, 1, &c->denoiser_sigma);
    if (s == CBCT_OK)
        s = cfg_double(d, p, path, "denoiser_lambda_relaxation", 0, 1e12, 0,
                       &c->denoiser_lambda);
    if (s == CBCT_OK)
        s = cfg_ints(d, p, path, "patch_size", 3, 0, MAX_VOXELS_PER_AXIS, c->tiling.patch);
    if (s == CBCT_OK)
        s = cfg_ints(d, p, path, "overlap", 3, 0, MAX_VOXELS_PER_AXIS, c->tiling.overlap);
    if (s == CBCT_OK)
        s = cfg_int(d, p, path, "max_batch_size", 0, 1 << 20, &max_batch);
    if (s == CBCT_OK)
        s = cfg_choice(d, p, path, "mode", modes, &mode);
    if (s == CBCT_OK)
        s = cfg_doubles(d, p, path, "clip", 2, -1e30, 1e30, c->clip_range);
    c->clip = cfg_get(d, p, "clip") != NULL;
    if (s == CBCT_OK && c->clip && c->clip_range[0] >= c->clip_range[1]) {
        char key[64];
        snprintf(key, sizeof key, "%s.clip", path);
        s = cfg_fail(d, cfg_get(d, p, "clip"), key, "expected [lo, hi] with lo < hi");
    }
    if (s == CBCT_OK)
        s = map_pseudo_inverse(d, p, path, c);
    if (s == CBCT_OK)
        s = map_least_squares(d, p, path, c);
    if (s != CBCT_OK)
        return s;
    c->init_method = (cbct_init)init;
    c->max_iterations = (int)iterations;
    c->tiling.max_batch = max_batch;
    c->mode = (cbct_pnp_lambda_mode)mode;
    if (c->solver != CBCT_SOLVER_PNP)
        return CBCT_OK;
    char key[64];
    snprintf(key, sizeof key, "%s.model", path);
    if (!c->model_path[0])
        return cfg_fail(d, p, key, "PnP needs a DRUNet model file (.safetensors)");
    s = need_file(d, p, key, "model", c->model_path);
    for (int i = 0; s == CBCT_OK && i < 3; i++)
        if (c->tiling.patch[i] > 0 && c->tiling.overlap[i] >= c->tiling.patch[i]) {
            snprintf(key, sizeof key, "%s.overlap", path);
            s = cfg_fail(d, cfg_get(d, p, "overlap"), key,
                         "each overlap must be smaller than patch_size (axis %d: %lld >= %lld)",
                         i, (long long)c->tiling.overlap[i], (long long)c->tiling.patch[i]);
        }
    return s;
}
