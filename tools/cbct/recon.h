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
cbct_status recon_dataset_build(const cbct_recon_config *c, recon_dataset *d);
void recon_dataset_destroy(recon_dataset *d);

/* What a run measured, for record.json. */
typedef struct recon_run {
    cbct_iteration_stats *iters; /* one per iteration */
    int n_iters, cap_iters;
    double seconds_init, seconds_solver, seconds_write, seconds_total;
    double init_psnr_db, init_ssim, final_psnr_db, final_ssim; /* NAN without truth */
    int quiet;
    int max_iterations;
} recon_run;

/* Writes record.json (config echo, geometry, iterations, totals, memory,
 * version) atomically. */
cbct_status recon_record_write(const char *path, const cbct_recon_config *c,
                               const recon_dataset *d, const recon_run *r);

#endif
