/* Iterative reconstruction: the cone-beam operator split into blocks of
 * views, its norm ||A^T A|| by power iteration (cached per geometry), and
 * the solvers CGLS (pseudo-inverse), SIRT and PnP proximal gradient with a
 * DRUNet denoiser. See docs/solvers.md for the algorithms and the scaling.
 *
 * Units: x in 1/mm, y line integrals (A sums value * path length in mm), so
 * ||A^T A|| is in mm^2. */
#ifndef CBCT_SOLVER_H
#define CBCT_SOLVER_H

#include "cbct/denoiser.h"
#include "cbct/dist.h"
#include "cbct/projector.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Operator ------------------------------------------------------------ */

typedef struct cbct_operator_opts {
    int64_t num_operators; /* blocks of contiguous views (sizes differ by <= 1); 0 = 1 */
    cbct_kernel kernel;    /* projector kernel */
    /* Distribution over the ranks of `comm` (NULL: one process); see
     * docs/distribution.md for what is split and what is replicated. */
    cbct_comm *comm;
    /* Blocks go round-robin to ranks (rank r owns blocks r, r + P, ...):
     * projection vectors hold only the owned views, in block order; volume
     * vectors are whole on every rank and adjoints are summed over ranks. */
    int distribute_views;
    /* The volume in z-slabs: this rank holds rows [slab_z0, slab_z0 +
     * slab_nz) (cbct_slab_split); volume vectors hold only those rows;
     * projection vectors are whole on every rank, and forward projections
     * are the sum over ranks of each slab's partial line integrals. Takes
     * precedence over distribute_views (the projector is split by slab). */
    int distribute_volume;
    int64_t slab_z0, slab_nz;
} cbct_operator_opts;

typedef struct cbct_operator cbct_operator;

/* `opts` NULL: one block, fast kernel, single process. */
cbct_status cbct_operator_create(const cbct_geometry *g, const cbct_operator_opts *opts,
                                 cbct_operator **out);
void cbct_operator_destroy(cbct_operator *op);
const cbct_geometry *cbct_operator_geometry(const cbct_operator *op);
cbct_comm *cbct_operator_comm(const cbct_operator *op); /* NULL: one process */
int64_t cbct_operator_num_blocks(const cbct_operator *op);
/* Views [*view0, *view0 + *n_views) of block `block` (0 <= block < num_blocks). */
void cbct_operator_block_views(const cbct_operator *op, int64_t block, int64_t *view0,
                               int64_t *n_views);
/* 1 when this rank computes block `block` (all blocks unless distribute_views). */
int cbct_operator_owns_block(const cbct_operator *op, int64_t block);
/* This rank's z rows of the volume: [*z0, *z0 + *nz) (all rows unless
 * distribute_volume). */
void cbct_operator_volume_rows(const cbct_operator *op, int64_t *z0, int64_t *nz);
/* Floats of this rank's volume and projection vectors. */
int64_t cbct_operator_volume_numel(const cbct_operator *op);
int64_t cbct_operator_proj_numel(const cbct_operator *op);
/* Floats of scratch that cbct_operator_gradient needs: the largest block's
 * projections. */
int64_t cbct_operator_scratch_numel(const cbct_operator *op);
/* Copies this rank's views out of a whole stack (views x rows x cols in
 * view order) into the rank's projection layout. */
void cbct_operator_local_projections(const cbct_operator *op, const float *all_views,
                                     float *local);

/* Which vector space a partial sum belongs to. */
typedef enum { CBCT_SPACE_VOLUME = 0, CBCT_SPACE_PROJECTIONS } cbct_space;
/* Completes partial sums over this rank's part of a space (dot products,
 * norms): summed over ranks when that space is split, else unchanged. */
cbct_status cbct_operator_sum(cbct_operator *op, cbct_space space, double *values, int n);

/* y = A x. */
cbct_status cbct_operator_apply(cbct_operator *op, const float *x, float *y);
/* x = sum over blocks, in block order, of A_i^T y_i. */
cbct_status cbct_operator_adjoint(cbct_operator *op, const float *y, float *x);
/* grad = sum_i A_i^T (A_i x - y_i), one block's projections at a time in
 * `scratch` (cbct_operator_scratch_numel floats; NULL: allocated here).
 * y NULL means y = 0 (grad = A^T A x). When residual_sq is not NULL it gets
 * ||A x - y||^2 (over all views and ranks). Two projector passes in all. */
cbct_status cbct_operator_gradient(cbct_operator *op, const float *x, const float *y,
                                   float *grad, float *scratch, double *residual_sq);
/* Seconds this operator spent communicating (sums over ranks). */
double cbct_operator_seconds_communication(const cbct_operator *op);

/* ---- Operator norm --------------------------------------------------------- */

typedef struct cbct_norm_opts {
    int max_iterations;    /* 0 = 100 */
    double tolerance;      /* relative change of the estimate; 0 = 1e-3 */
    const char *cache_dir; /* folder of the cache file; NULL = no file */
} cbct_norm_opts;

/* L = ||A^T A|| (largest eigenvalue, mm^2) by power iteration from the
 * all-ones volume, with the Rayleigh quotient as estimate. Remembered in the
 * operator; with a cache_dir also in "<cache_dir>/opnorm_<hash>.txt" where
 * the hash covers the geometry (volume, detector, views), and read back from
 * there when present. `iterations` (optional) gets the iterations run (0
 * when the value came from a cache). */
cbct_status cbct_operator_norm(cbct_operator *op, const cbct_norm_opts *opts, double *L,
                               int *iterations);
/* The 64-bit FNV-1a hash of a geometry that names the cache file. */
uint64_t cbct_geometry_hash(const cbct_geometry *g);

/* ---- Solver state: checkpoint and resume ------------------------------------ */

#define CBCT_STATE_MAX_VECTORS 6
#define CBCT_STATE_MAX_SCALARS 6
#define CBCT_STATE_NAME_MAX 16

/* Everything a solver needs to continue after `iteration` as if it had not
 * stopped: its vectors (x first; CGLS adds the residual r and direction p)
 * and scalars (CGLS gamma, gamma0; PnP L). A caller may append vectors of
 * its own (the recon tool adds the initialisation) before writing. */
typedef struct cbct_solver_state {
    char solver[CBCT_STATE_NAME_MAX]; /* "CGLS", "SIRT", "PnP" */
    int iteration;                    /* iterations completed */
    int n_vectors, n_scalars;
    char vector_name[CBCT_STATE_MAX_VECTORS][CBCT_STATE_NAME_MAX];
    int64_t vector_numel[CBCT_STATE_MAX_VECTORS];
    float *vector[CBCT_STATE_MAX_VECTORS]; /* the solver's own arrays, or
                                               owned after cbct_checkpoint_read */
    char scalar_name[CBCT_STATE_MAX_SCALARS][CBCT_STATE_NAME_MAX];
    double scalar[CBCT_STATE_MAX_SCALARS];
    int owns_vectors;                 /* 1 after cbct_checkpoint_read */
} cbct_solver_state;

/* Appends a vector or a scalar (CBCT_ERR_ARG when full or the name is long). */
cbct_status cbct_solver_state_add_vector(cbct_solver_state *st, const char *name, float *data,
                                         int64_t numel);
cbct_status cbct_solver_state_add_scalar(cbct_solver_state *st, const char *name, double value);
/* The vector `name` with exactly `numel` floats, or an error naming what is
 * missing or the sizes that differ (a checkpoint of another problem). */
cbct_status cbct_solver_state_vector(const cbct_solver_state *st, const char *name,
                                     int64_t numel, const float **out);
cbct_status cbct_solver_state_scalar(const cbct_solver_state *st, const char *name,
                                     double *out);
/* Frees the vectors of a state read from a file (no-op otherwise). */
void cbct_solver_state_free(cbct_solver_state *st);

/* Writes the state and `extra_json` (a JSON object of the caller's, e.g. the
 * config and the metrics so far; NULL = none) to one file, atomically:
 * a magic line, a JSON header, the float32 vectors, an FNV-1a checksum.
 * Format in docs/solvers.md. */
cbct_status cbct_checkpoint_write(const char *path, const cbct_solver_state *st,
                                  const char *extra_json);
/* Reads it back, checking magic, header, sizes and checksum (CBCT_ERR_FORMAT
 * naming the file otherwise). `extra_json` (optional) gets the caller's
 * object as text (free() it); NULL when there was none. */
cbct_status cbct_checkpoint_read(const char *path, cbct_solver_state *st, char **extra_json);

/* ---- Per-iteration statistics and callbacks -------------------------------- */

typedef struct cbct_iteration_stats {
    int iteration;                /* 1, 2, ... */
    double seconds_gradient;      /* projector work of this iteration */
    double seconds_denoiser;      /* PnP: rescale + DRUNet + blend */
    double seconds_communication; /* reduce calls (0 in a single process) */
    double seconds_total;         /* whole iteration, metrics excluded */
    double relative_change;       /* ||x_k - x_{k-1}|| / ||x_{k-1}|| (inf if x_{k-1} = 0) */
    double residual_norm;         /* CGLS: ||y - A x_k||; PnP: ||A x_{k-1} - y||;
                                     SIRT: ||y - A x_{k-1}||_R, weights R (no extra pass) */
    double normal_residual;       /* CGLS: ||A^T (y - A x_k)|| / ||A^T (y - A x_0)||; else NAN */
    double psnr_db, ssim;         /* against opts.ground_truth; NAN without one */
    size_t mem_peak_bytes;        /* cbct_mem_peak() */
    size_t rss_peak_bytes;        /* cbct_rss_peak_bytes() */
    int stop;                     /* the callback sets 1 to stop after this iteration */
    const cbct_solver_state *state; /* what a checkpoint of this iteration holds */
} cbct_iteration_stats;

/* Called after every iteration with the current x (volume numel floats).
 * Metrics, progress, checkpoints go here. A status other than CBCT_OK stops
 * the solver, which returns that status. */
typedef cbct_status (*cbct_iteration_fn)(cbct_iteration_stats *stats, const float *x,
                                         void *user);

typedef struct cbct_solver_opts {
    int max_iterations;         /* 0 = solver default (CGLS 50, SIRT 100, PnP 40) */
    double tolerance;           /* 0 = default (CGLS 1e-4, SIRT and PnP 1e-5); < 0 = off */
    int nonnegative;            /* clamp x >= 0 (CGLS: after the last iteration; SIRT: each) */
    const float *ground_truth;  /* optional, volume numel floats: PSNR and SSIM per iteration */
    cbct_iteration_fn callback; /* optional */
    void *callback_user;
    /* Continue from a checkpoint (same solver, same problem): x is taken
     * from it and the iterations resume after resume->iteration, giving the
     * bits an uninterrupted run gives. NULL = start from x. */
    const cbct_solver_state *resume;
    /* Divergence guard: stop with CBCT_ERR_NUMERIC when the residual norm
     * exceeds this factor times the smallest seen; 0 = 1e3, < 0 = off.
     * A NaN or Inf in x or the residual always stops the solver. */
    double divergence_factor;
    /* CGLS only: Tikhonov damping mu >= 0, in the units of ||A^T A|| (mm^2):
     * minimises ||A x - y||^2 + mu ||x||^2 (CGLS on [A; sqrt(mu) I]).
     * 0 = plain least squares. */
    double damping;
    /* CGLS only: the discrepancy principle, stop after the first iteration
     * with ||y - A x_k|| <= discrepancy (tau times the expected norm of the
     * noise, e.g. cbct_noise_norm_poisson); 0 = off. */
    double discrepancy;
} cbct_solver_opts;

/* ---- Solvers: x holds the initial guess on entry, the result on exit ------- */

/* Least squares min ||A x - y|| by CGLS (Björck): float vectors, double dot
 * products. Stops at max_iterations or when the normal-equation residual
 * ||A^T (y - A x_k)|| falls below tolerance times its initial value. */
cbct_status cbct_solve_cgls(cbct_operator *op, const float *y, const cbct_solver_opts *opts,
                            float *x);

/* SIRT: x += C A^T R (y - A x), R = 1 / (A 1), C = 1 / (A^T 1) (0 where a sum
 * is 0). Stops at max_iterations or when the relative change < tolerance. */
cbct_status cbct_solve_sirt(cbct_operator *op, const float *y, const cbct_solver_opts *opts,
                            float *x);

typedef enum {
    /* a = gamma lambda / (1 + gamma lambda), gamma = step_scale / L: the
     * reference experiment. With our operator in mm (L large) a is tiny. */
    CBCT_PNP_LAMBDA_REFERENCE = 0,
    /* a = g lambda / (1 + g lambda) with g = step_scale: lambda measured for
     * the operator scaled to ||A^T A|| = 1, independent of units and size. */
    CBCT_PNP_LAMBDA_NORMALIZED
} cbct_pnp_lambda_mode;

typedef struct cbct_pnp_opts {
    double lambda;          /* denoiser_lambda_relaxation; < 0 = 10 (reference default) */
    double sigma;           /* denoiser_sigma on the [0, 1] scale; 0 = 0.03 */
    double step_scale;      /* gamma = step_scale / L; 0 = 0.99 */
    double L;               /* ||A^T A||; 0 = cbct_operator_norm(op, &norm) */
    cbct_norm_opts norm;
    cbct_pnp_lambda_mode lambda_mode;
    /* The denoiser sees (z - lo) / (hi - lo), its output is mapped back.
     * lo < hi: that fixed range; otherwise lo, hi = min, max of each z. */
    double range_lo, range_hi;
    int clip;               /* clamp x to [clip_lo, clip_hi] after each iteration */
    double clip_lo, clip_hi;
    cbct_tiling tiling;     /* for cbct_denoise_volume; patch 0 = whole volume */
    /* With an operator whose views are distributed (volume whole on every
     * rank): patches go round-robin to ranks and the denoised volume is
     * summed over ranks. (A volume split in slabs always splits patches.) */
    int distribute_denoiser;
} cbct_pnp_opts;

/* The reference's defaults: lambda 10, sigma 0.03, step_scale 0.99,
 * reference lambda mode, min/max rescaling, no clip, whole-volume patch.
 * (A zeroed struct means lambda = 0: plain gradient descent.) */
cbct_pnp_opts cbct_pnp_defaults(void);

/* PnP proximal gradient: z = x - gamma sum_i A_i^T (A_i x - y_i),
 * x = (1 - a) z + a D(z). net NULL is allowed only when lambda = 0 (plain
 * gradient descent). Stops at max_iterations or relative change < tolerance. */
cbct_status cbct_solve_pnp(cbct_operator *op, const float *y, cbct_drunet *net,
                           const cbct_pnp_opts *pnp, const cbct_solver_opts *opts, float *x);
/* The relaxation weight a that cbct_solve_pnp uses for this L. */
double cbct_pnp_weight(const cbct_pnp_opts *pnp, double L);

/* ---- Initialisations --------------------------------------------------------- */

typedef enum {
    CBCT_INIT_ZEROS = 0,
    CBCT_INIT_ADJOINT,       /* A^T y */
    CBCT_INIT_FDK,           /* cbct_fdk_reconstruct with default options */
    CBCT_INIT_PSEUDO_INVERSE /* CGLS from zero, defaults, non-negative */
} cbct_init;

cbct_status cbct_solver_initialize(cbct_operator *op, const float *y, cbct_init method,
                                   float *x);

/* How the pseudo-inverse initialisation is computed (docs/solvers.md,
 * "Which pseudo-inverse"). cbct_pinv_defaults() is the reference's: CGLS
 * from zero, 50 iterations or normal residual 1e-4, clamped >= 0 after. On
 * noisy data CGLS semi-converges (fits the noise after a few tens of
 * iterations); stop it early by the discrepancy principle, or damp it. */
typedef struct cbct_pinv_opts {
    int max_iterations;  /* 0 = 50 */
    double tolerance;    /* as cbct_solver_opts: 0 = 1e-4, < 0 = off */
    int nonnegative;     /* clamp x >= 0 after the last iteration */
    /* Tikhonov damping relative to L = ||A^T A||: mu = damping * L (unit
     * free; cbct_operator_norm is run, and remembered by the operator, when
     * > 0). 0 = none. */
    double damping;
    cbct_init start;     /* CBCT_INIT_ZEROS (default) or CBCT_INIT_FDK */
    /* Discrepancy principle: stop when ||y - A x_k|| <= discrepancy * delta,
     * delta = cbct_noise_norm_poisson(photons) (needs photons > 0; INFINITY
     * for noise-free data, where delta = 0 and CGLS runs to max_iterations
     * or tolerance). 0 = off. */
    double discrepancy;
    double photons;      /* incident photons per pixel of the noise model */
    cbct_norm_opts norm; /* for L when damping > 0 */
} cbct_pinv_opts;

cbct_pinv_opts cbct_pinv_defaults(void);

/* cbct_solver_initialize with the pseudo-inverse's options (NULL = the
 * defaults; ignored by the other methods). */
cbct_status cbct_solver_initialize_opts(cbct_operator *op, const float *y, cbct_init method,
                                        const cbct_pinv_opts *pinv, float *x);

/* The expected norm of the noise of line integrals y = -log(counts / N)
 * with Poisson counts at N = `photons` incident photons per pixel:
 * var(y_i) ~= exp(y_i) / N (delta method), so delta = sqrt(sum_i exp(y_i)
 * / N), summed over all views and ranks. photons = INFINITY gives 0. */
cbct_status cbct_noise_norm_poisson(cbct_operator *op, const float *y, double photons,
                                    double *delta);

#ifdef __cplusplus
}
#endif
#endif
