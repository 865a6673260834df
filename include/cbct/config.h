/* The YAML configuration of a reconstruction run (`cbct recon`), in the
 * shape of the reference experiment: a `dataset` block (`tomography_3d`),
 * a `solver` block (`PnP`, `CGLS`, `SIRT` or `FDK`) and a `run` block.
 * Parsed with libyaml; every key is validated and an error names the file,
 * the line, the key path and what was expected. See docs/config.md. */
#ifndef CBCT_CONFIG_H
#define CBCT_CONFIG_H

#include "cbct/solver.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CBCT_CONFIG_PATH_MAX 1024

typedef enum {
    CBCT_SOURCE_PHANTOM = 0, /* dataset.tomography_3d.phantom */
    CBCT_SOURCE_VOLUME,      /* dataset.tomography_3d.volume: simulate from a file */
    CBCT_SOURCE_PROJECTIONS, /* dataset.tomography_3d.projections + geometry */
    CBCT_SOURCE_WALNUT       /* dataset.tomography_3d.path: a Walnut dataset folder */
} cbct_data_source;

typedef enum { CBCT_PHANTOM_WALNUT = 0, CBCT_PHANTOM_SHEPP_LOGAN } cbct_phantom_kind;

typedef enum {
    CBCT_SOLVER_PNP = 0,
    CBCT_SOLVER_CGLS,
    CBCT_SOLVER_SIRT,
    CBCT_SOLVER_FDK
} cbct_solver_kind;

typedef struct cbct_recon_config {
    char source_name[CBCT_CONFIG_PATH_MAX]; /* the config file, for messages */

    /* dataset.tomography_3d */
    int64_t num_operators;   /* blocks of views (>= 1) */
    int64_t num_projections; /* views over a full turn */
    int use_dataset_sinogram;
    cbct_data_source source;
    cbct_phantom_kind phantom;
    int64_t shape[3];        /* phantom voxels z, y, x */
    uint64_t seed;           /* walnut seed */
    char volume_path[CBCT_CONFIG_PATH_MAX];
    double value_scale;      /* volume values * value_scale = attenuation in 1/mm */
    char projections_path[CBCT_CONFIG_PATH_MAX];
    char geometry_path[CBCT_CONFIG_PATH_MAX];
    double photons;          /* noise.photons per pixel; 0 = no noise */
    uint64_t noise_seed;
    double sod_mm, sdd_mm;   /* source-object, source-detector distances */
    int64_t detector[2];     /* rows, cols; 0 = fitted to the volume */
    double pixel_mm[2];      /* rows, cols pitch; 0 = fitted */
    char walnut_path[CBCT_CONFIG_PATH_MAX]; /* path: e.g. .../Walnut1 (docs/walnut.md) */
    int64_t orbit;           /* walnut source height: 1, 2 (the reference) or 3 */
    double voxel_mm;         /* voxel_size for the walnut volume; 0 = 0.1 mm */

    /* solver */
    cbct_solver_kind solver;
    char model_path[CBCT_CONFIG_PATH_MAX]; /* PnP: DRUNet .safetensors */
    cbct_init init_method;
    int max_iterations;
    double tolerance;        /* 0 = solver default, < 0 = off */
    /* CGLS and SIRT blocks (docs/config.md): clamp x >= 0 (CGLS after its
     * last iteration, SIRT after each); CGLS only: Tikhonov damping relative
     * to ||A^T A||, and the discrepancy principle's factor tau (0 = off) */
    int nonnegative;
    double damping;
    double discrepancy;
    double denoiser_sigma;
    double denoiser_lambda;  /* denoiser_lambda_relaxation */
    cbct_pnp_lambda_mode mode;
    cbct_tiling tiling;      /* patch_size, overlap, max_batch_size */
    int clip;                /* clip: [lo, hi] given: clamp x after each iteration */
    double clip_range[2];    /* 1/mm */
    /* pseudo_inverse_*: how init_method pseudo_inverse is computed
     * (cbct_pinv_defaults() unless given; photons from dataset noise) */
    cbct_pinv_opts pinv;

    /* distribution over MPI ranks (solver block, as the reference grid) */
    int distribute_physics;  /* view blocks round-robin to ranks */
    int distribute_denoiser; /* denoiser patches round-robin to ranks */
    int distribute_volume;   /* z-slabs of the volume per rank */
    char slurm_gres[64];     /* e.g. "gpu:2"; used by `cbct bench --slurm` */
    int64_t slurm_ntasks_per_node; /* ranks per point for `cbct bench`; 0 = 1 */

    /* run */
    size_t memory_bytes;     /* 0 = no budget */
    char output_dir[CBCT_CONFIG_PATH_MAX];
    int threads;             /* 0 = OMP default */
} cbct_recon_config;

/* Reads `path`, applies `n_overrides` overrides "a.b.c=value" (YAML value
 * syntax; they replace or add keys before validation, so an error names the
 * key and "--set"), and maps the result onto `out` with the defaults of
 * docs/config.md. Relative file names inside the config are taken relative
 * to the current directory. Checks that the files named exist. */
cbct_status cbct_config_load(const char *path, const char *const *overrides, int n_overrides,
                             cbct_recon_config *out);
/* The same from text in memory; `name` is used in messages. */
cbct_status cbct_config_parse(const char *text, size_t len, const char *name,
                              const char *const *overrides, int n_overrides,
                              cbct_recon_config *out);

/* ---- Grids of runs (docs/experiments.md) ------------------------------------
 * A config may hold grid keys, as the reference benchmark writes them:
 * "a, b: [[a1, b1], [a2, b2]]" (zipped: one point per row) and
 * "key: [v1, v2]" (a product, for keys whose value is one value; for keys
 * whose value is a list, e.g. patch_size, a list of lists). The points are
 * the cartesian product of all grid keys, the first varying slowest.
 * cbct_config_load/parse refuse a config with more than one point (or a
 * zipped key): choose one with the _point variants. */

#define CBCT_GRID_ID_MAX 96

typedef struct cbct_grid_point {
    char id[CBCT_GRID_ID_MAX]; /* short stable name from the varying values,
                                  e.g. "max_batch_size-10"; a folder name */
    int n_overrides;
    char **overrides;          /* "solver.PnP.max_batch_size=10": the form --set takes */
} cbct_grid_point;

typedef struct cbct_config_grid {
    int n_points;
    cbct_grid_point *points;
    int is_grid;     /* 0: a plain config (one point) */
    int n_varying;
    char **varying;  /* key paths whose value differs between points */
} cbct_config_grid;

/* Expands the grid of a config (after the overrides, which may themselves
 * be grids: --set solver.PnP.max_batch_size=[2,4]). Bad grids (empty, rows
 * of the wrong length, a key in two grids) fail naming the key and line;
 * the values themselves are checked when a point is mapped. */
cbct_status cbct_config_grid_parse(const char *text, size_t len, const char *name,
                                   const char *const *overrides, int n_overrides,
                                   cbct_config_grid *out);
cbct_status cbct_config_grid_load(const char *path, const char *const *overrides,
                                  int n_overrides, cbct_config_grid *out);
void cbct_config_grid_free(cbct_config_grid *g);

/* cbct_config_parse/load for point `point` (0-based) of the grid: the
 * point's values replace the grid keys before validation, and an error in
 * one of them names the line of its row. A plain config has point 0 only. */
cbct_status cbct_config_parse_point(const char *text, size_t len, const char *name,
                                    const char *const *overrides, int n_overrides, int point,
                                    cbct_recon_config *out);
cbct_status cbct_config_load_point(const char *path, const char *const *overrides,
                                   int n_overrides, int point, cbct_recon_config *out);

/* Names used in configs and records ("PnP", "pseudo_inverse", ...). */
const char *cbct_solver_kind_name(cbct_solver_kind k);
const char *cbct_init_name(cbct_init m);

#ifdef __cplusplus
}
#endif
#endif
