/* `cbct recon`: a reconstruction run described by a YAML config. The
 * pieces shared by cmd_recon.c (the run), recon_dataset.c (ground truth,
 * geometry and projections) and recon_record.c (record.json). */
#ifndef CBCT_TOOL_RECON_H
#define CBCT_TOOL_RECON_H

#include "cbct/config.h"
#include "cli.h"

typedef struct recon_dataset {
    cbct_geometry geom;
    cbct_array truth;    /* ground truth; data NULL for measured projections */
    cbct_array proj;     /* views x rows x cols line integrals */
    double seconds;      /* building it: phantom, projection, noise */
} recon_dataset;

/* Builds the dataset a config describes: a phantom or a volume file in a
 * circular scan fitted to it, projected, with Poisson noise when asked;
 * or measured projections with their geometry (shapes checked). */
cbct_status recon_dataset_build(const cbct_recon_config *c, cbct_comm *comm, recon_dataset *d);
void recon_dataset_destroy(recon_dataset *d);

#define RECON_MAX_SETS 32
#define RECON_SET_MAX 512
#define RECON_CHECKPOINT_NAME "checkpoint.cbct"

/* How the run was asked for: what a checkpoint stores so that
 * `cbct recon --resume DIR` can rebuild the same run. */
typedef struct recon_request {
    char config_path[CBCT_CONFIG_PATH_MAX];
    char sets[RECON_MAX_SETS][RECON_SET_MAX]; /* --set KEY=VALUE, in order */
    int n_sets;
    uint64_t config_hash; /* FNV-1a of the config file's text */
    int point;            /* --point: which point of a grid */
} recon_request;

/* What a run measured, for record.json, and its checkpointing. */
typedef struct recon_run {
    cbct_iteration_stats *iters; /* one per iteration */
    int n_iters, cap_iters;
    double seconds_init, seconds_solver, seconds_write, seconds_total;
    /* ||A^T A|| when the run needed it: value (mm^2), seconds, power
     * iterations (0 = read from the cache, docs/solvers.md) */
    double operator_norm, seconds_norm;
    int norm_iterations;
    double init_psnr_db, init_ssim, final_psnr_db, final_ssim; /* NAN without truth */
    int quiet;
    int max_iterations;
    /* checkpoints: every `checkpoint_every` iterations (0 = only on a
     * signal) into checkpoint_path, with the initialisation */
    int checkpoint_every;
    char checkpoint_path[CBCT_CONFIG_PATH_MAX + 32];
    const char *dir; /* the run's folder, made when the first file is written */
    const recon_request *request;
    const cbct_array *init;
    const char *solver_name;
    /* MPI: the communicator, this rank's volume rows, and every rank's
     * figures (RECON_RANK_FIGURES per rank: tracked peak, RSS peak,
     * seconds communicating, bytes sent) gathered at the end. */
    cbct_comm *comm;
    int split_volume;
    int64_t z0, nz;
    double *rank_figures;
    int n_ranks;
} recon_run;

#define RECON_RANK_FIGURES 4

/* ---- Several ranks (recon_dist.c) ---- */

/* The operator's options for this rank: blocks, and the view or volume
 * split the config asks for (slabs aligned to the patch rows for PnP). */
cbct_status recon_dist_operator_opts(const cbct_recon_config *c, const cbct_geometry *g,
                                     cbct_comm *comm, cbct_operator_opts *oo);
/* Keeps this rank's views of the projections and rows of the truth. */
cbct_status recon_dist_localize(const cbct_operator *op, recon_dataset *d);
/* Gathers a volume split in rows [z0, z0 + nz) onto rank 0 (whole there;
 * unchanged elsewhere). A collective. */
cbct_status recon_dist_gather(cbct_comm *comm, int64_t z0, int64_t nz, int64_t depth,
                              cbct_array *a);
/* Fills r->rank_figures on every rank. A collective. */
cbct_status recon_dist_rank_figures(cbct_comm *comm, recon_run *r);

/* ---- The solve (recon_solve.c) ---- */

/* Places the operator, initialises (or takes the checkpoint's init),
 * runs the config's solver into x (this rank's rows), init gets the
 * initialisation; metrics per iteration into r. */
cbct_status recon_solve(const cbct_recon_config *c, recon_dataset *d, cbct_array *init,
                        cbct_array *x, recon_run *r, const cbct_solver_state *resume);
/* With a split volume: x, init and the truth gathered on rank 0 and their
 * quality measured there. A collective. */
cbct_status recon_gather_results(recon_run *r, recon_dataset *d, cbct_array *init,
                                 cbct_array *x);

/* ---- Checkpoints (recon_checkpoint.c) ---- */

/* Installs SIGINT / SIGTERM handlers that ask the run to stop after the
 * current iteration (a second signal kills as usual). */
void recon_signals_install(void);
/* The signal received (0 = none). */
int recon_signal_pending(void);
/* Writes the checkpoint of `state` (NULL: iteration 0, x = the init) with
 * the request, the init metrics and the iterations so far. */
cbct_status recon_checkpoint_save(const recon_run *r, const cbct_solver_state *state);
/* DIR/checkpoint.cbct on rank 0, DIR/checkpoint.rank<R>.cbct on rank R
 * (ranks hold different parts of the state). */
void recon_checkpoint_name(const char *dir, int rank, char *path, size_t len);
/* Reads this rank's checkpoint in DIR: the state (owned; free with
 * cbct_solver_state_free), the request, and the run's metrics so far
 * (iterations, init metrics) into r. */
cbct_status recon_checkpoint_load(const char *dir, int rank, cbct_solver_state *state,
                                  recon_request *request, recon_run *r);
/* Removes the temporary files (*.tmp.XXXXXX) a killed run left in its
 * folder: the run's folder belongs to the run. */
void recon_remove_stale_temporaries(const char *dir);
/* FNV-1a 64 of a file's text (for "the config changed since"). */
cbct_status recon_config_hash(const char *path, uint64_t *hash);
/* One iteration as JSON (record.json and checkpoints); a cJSON object. */
struct cJSON *recon_iteration_json(const cbct_iteration_stats *s);
/* Appends a stats record to r->iters (grows it). */
cbct_status recon_add_iteration(recon_run *r, const cbct_iteration_stats *s);

/* Writes record.json (config echo, geometry, iterations, totals, memory,
 * version) atomically. */
cbct_status recon_record_write(const char *path, const cbct_recon_config *c,
                               const recon_dataset *d, const recon_run *r);

#endif
