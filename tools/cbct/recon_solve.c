/* The solve of `cbct recon` on this rank: the operator (placed over the
 * ranks), the initialisation (or the one a checkpoint holds), the solver
 * with a callback that records, prints and checkpoints every iteration,
 * and, on a volume split over ranks, the volumes gathered on rank 0. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "recon.h"

/* Where ||A^T A|| is cached between runs (a power iteration at the
 * reference size costs about 10 gradients): $CBCT_CACHE_DIR (empty = no
 * cache), else $XDG_CACHE_HOME/cbct, else $HOME/.cache/cbct. Made when
 * missing; "" when it cannot be. */
static void norm_cache_dir(char *dir, size_t len)
{
    const char *env = getenv("CBCT_CACHE_DIR"), *xdg = getenv("XDG_CACHE_HOME");
    const char *home = getenv("HOME");
    dir[0] = 0;
    if (env) {
        snprintf(dir, len, "%s", env);
    } else if (xdg && *xdg) {
        if (snprintf(dir, len, "%s/cbct", xdg) >= (int)len)
            dir[0] = 0;
    } else if (home && *home) {
        char parent[CBCT_CONFIG_PATH_MAX];
        if (snprintf(parent, sizeof parent, "%s/.cache", home) >= (int)sizeof parent ||
            (mkdir(parent, 0755) != 0 && errno != EEXIST) ||
            snprintf(dir, len, "%s/cbct", parent) >= (int)len)
            dir[0] = 0;
    }
    if (dir[0] && ((mkdir(dir, 0755) != 0 && errno != EEXIST) || access(dir, W_OK) != 0)) {
        cbct_log(CBCT_LOG_INFO, "no operator norm cache: cannot write to '%s': %s", dir,
                 strerror(errno));
        dir[0] = 0;
    }
}

/* ||A^T A|| up front, from the cache when there, for the solvers that
 * need it (PnP's step, damping); the operator remembers it for them. */
static cbct_status operator_norm(const cbct_recon_config *c, cbct_operator *op, recon_run *r)
{
    int pinv_damped = c->init_method == CBCT_INIT_PSEUDO_INVERSE && c->pinv.damping > 0;
    if (!(c->solver == CBCT_SOLVER_PNP || c->damping > 0 || pinv_damped))
        return CBCT_OK;
    char dir[CBCT_CONFIG_PATH_MAX];
    norm_cache_dir(dir, sizeof dir);
    cbct_norm_opts o = c->pinv.norm;
    o.cache_dir = dir[0] ? dir : NULL;
    double t0 = cbct_seconds();
    cbct_status s = cbct_operator_norm(op, &o, &r->operator_norm, &r->norm_iterations);
    if (s == CBCT_ERR_IO && o.cache_dir) { /* the cache file only: L is remembered */
        cbct_log(CBCT_LOG_WARN, "%s (continuing without the cache)", cbct_last_error());
        cbct_clear_error();
        o.cache_dir = NULL;
        s = cbct_operator_norm(op, &o, &r->operator_norm, NULL);
    }
    r->seconds_norm = cbct_seconds() - t0;
    if (s == CBCT_OK && !r->quiet)
        fprintf(stderr, "  ||A^T A|| = %.6g mm^2: %s (%.2f s)\n", r->operator_norm,
                r->norm_iterations ? "power iteration" : "from the cache", r->seconds_norm);
    return s;
}

static cbct_status on_iteration(cbct_iteration_stats *stats, const float *x, void *user)
{
    (void)x;
    recon_run *r = user;
    cbct_status s = recon_add_iteration(r, stats);
    if (s)
        return s;
    if (!r->quiet) /* rank 0 only */
        fprintf(stderr, "  iteration %3d/%d: %6.2f s, PSNR %6.2f dB, SSIM %.4f, change %.2e\n",
                stats->iteration, r->max_iterations, stats->seconds_total, stats->psnr_db,
                stats->ssim, stats->relative_change);
    int signo = recon_signal_pending();
    if (cbct_comm_size(r->comm) > 1) { /* stop on the same iteration on every rank */
        uint64_t any = (uint64_t)signo;
        s = cbct_comm_max_u64(r->comm, &any);
        signo = (int)any;
        if (s)
            return s;
    }
    int due = r->checkpoint_every > 0 && stats->iteration % r->checkpoint_every == 0;
    if (due || signo)
        s = recon_checkpoint_save(r, stats->state);
    if (!s && signo)
        s = cbct_error(CBCT_ERR_INTERRUPTED,
                       "stopped by signal %d after iteration %d; checkpoint in '%s' "
                       "(continue with: cbct recon --resume DIR)",
                       signo, stats->iteration, r->checkpoint_path);
    return s;
}

static void quality(const recon_dataset *d, const cbct_array *x, double *psnr, double *ssim)
{
    cbct_metrics m;
    *psnr = *ssim = NAN;
    if (d->truth.data && cbct_compare(&d->truth, x, NULL, 0, &m) == CBCT_OK) {
        *psnr = m.psnr_db;
        *ssim = m.ssim;
    }
}

/* The initialisation: computed, or taken from the checkpoint being resumed. */
static cbct_status initialize(const cbct_recon_config *c, recon_dataset *d, cbct_operator *op,
                              const cbct_solver_state *resume, cbct_array *x, recon_run *r)
{
    if (resume) {
        const float *saved = NULL;
        cbct_status s = cbct_solver_state_vector(resume, "init", cbct_array_numel(x), &saved);
        if (!s)
            memcpy(x->data, saved, (size_t)cbct_array_numel(x) * sizeof(float));
        return s;
    }
    double t0 = cbct_seconds();
    cbct_status s = cbct_solver_initialize_opts(
        op, d->proj.data, c->solver == CBCT_SOLVER_FDK ? CBCT_INIT_FDK : c->init_method,
        &c->pinv, x->data);
    r->seconds_init = cbct_seconds() - t0;
    return s;
}

/* The CGLS and SIRT blocks' options onto the solver's: damping relative to
 * ||A^T A|| becomes mu in mm^2, the discrepancy factor tau times the
 * expected noise norm of the dataset's photon count. */
static cbct_status least_squares_opts(const cbct_recon_config *c, cbct_operator *op,
                                      const float *y, cbct_solver_opts *so)
{
    cbct_status s = CBCT_OK;
    so->nonnegative = c->nonnegative;
    if (c->damping > 0) {
        double L = 0;
        s = cbct_operator_norm(op, &c->pinv.norm, &L, NULL);
        so->damping = c->damping * L;
    }
    if (s == CBCT_OK && c->discrepancy > 0) {
        double delta = 0;
        s = cbct_noise_norm_poisson(op, y, c->pinv.photons, &delta);
        so->discrepancy = c->discrepancy * delta;
    }
    return s;
}

cbct_status recon_solve(const cbct_recon_config *c, recon_dataset *d, cbct_array *init,
                         cbct_array *x, recon_run *r, const cbct_solver_state *resume)
{
    cbct_operator_opts oo;
    cbct_operator *op = NULL;
    cbct_drunet *net = NULL;
    const int64_t *shape = d->geom.vol.shape;
    cbct_status s = recon_dist_operator_opts(c, &d->geom, r->comm, &oo);
    if (s == CBCT_OK)
        s = cbct_operator_create(&d->geom, &oo, &op);
    if (s == CBCT_OK) {
        cbct_operator_volume_rows(op, &r->z0, &r->nz);
        r->split_volume = r->nz < shape[0];
        s = recon_dist_localize(op, d);
    }
    if (s == CBCT_OK)
        s = cbct_array_zeros(x, r->nz, shape[1], shape[2], "reconstruction");
    if (s == CBCT_OK)
        s = cbct_array_create(init, r->nz, shape[1], shape[2], "initialisation");
    if (s == CBCT_OK && c->solver == CBCT_SOLVER_PNP)
        s = cbct_drunet_load(c->model_path, &net);
    if (s != CBCT_OK)
        goto done;
    for (int i = 0; i < 3; i++)
        x->spacing[i] = init->spacing[i] = d->geom.vol.voxel_size[i];
    s = operator_norm(c, op, r);
    if (s == CBCT_OK)
        s = initialize(c, d, op, resume, x, r);
    if (s != CBCT_OK)
        goto done;
    memcpy(init->data, x->data, (size_t)cbct_array_numel(x) * sizeof(float));
    if (!resume && !r->split_volume) /* else on rank 0 after gathering */
        quality(d, init, &r->init_psnr_db, &r->init_ssim);
    r->init = init;
    r->solver_name = cbct_solver_kind_name(c->solver);
    if (!resume && r->checkpoint_every > 0 && c->solver != CBCT_SOLVER_FDK)
        s = recon_checkpoint_save(r, NULL);
    if (s != CBCT_OK)
        goto done;
    if (!r->quiet)
        fprintf(stderr, "  init %s: %.2f s, PSNR %.2f dB\n",
                c->solver == CBCT_SOLVER_FDK ? "fdk" : cbct_init_name(c->init_method),
                r->seconds_init, r->init_psnr_db);
    cbct_solver_opts so = {.max_iterations = c->max_iterations,
                           .tolerance = c->tolerance,
                           .ground_truth = d->truth.data,
                           .callback = on_iteration,
                           .callback_user = r,
                           /* a state after iteration 0 is the init itself */
                           .resume = resume && resume->iteration > 0 ? resume : NULL};
    r->max_iterations = c->max_iterations;
    if (c->solver == CBCT_SOLVER_CGLS || c->solver == CBCT_SOLVER_SIRT)
        s = least_squares_opts(c, op, d->proj.data, &so);
    if (s != CBCT_OK)
        goto done;
    double t0 = cbct_seconds();
    if (c->solver == CBCT_SOLVER_CGLS)
        s = cbct_solve_cgls(op, d->proj.data, &so, x->data);
    if (c->solver == CBCT_SOLVER_SIRT)
        s = cbct_solve_sirt(op, d->proj.data, &so, x->data);
    if (c->solver == CBCT_SOLVER_PNP) {
        cbct_pnp_opts pnp = cbct_pnp_defaults();
        pnp.lambda = c->denoiser_lambda;
        pnp.sigma = c->denoiser_sigma;
        pnp.lambda_mode = c->mode;
        pnp.tiling = c->tiling;
        pnp.clip = c->clip;
        pnp.clip_lo = c->clip_range[0];
        pnp.clip_hi = c->clip_range[1];
        pnp.distribute_denoiser = c->distribute_denoiser;
        s = cbct_solve_pnp(op, d->proj.data, net, &pnp, &so, x->data);
    }
    r->seconds_solver = cbct_seconds() - t0;
    if (s == CBCT_OK && !r->split_volume)
        quality(d, x, &r->final_psnr_db, &r->final_ssim);
done:
    cbct_drunet_destroy(net);
    cbct_operator_destroy(op);
    return s;
}

/* A volume split over ranks: the result, the initialisation and the truth
 * gathered on rank 0, and their quality measured there on whole volumes. */
cbct_status recon_gather_results(recon_run *r, recon_dataset *d, cbct_array *init,
                                  cbct_array *x)
{
    int64_t depth = d->geom.vol.shape[0];
    cbct_status s = recon_dist_gather(r->comm, r->z0, r->nz, depth, x);
    if (!s)
        s = recon_dist_gather(r->comm, r->z0, r->nz, depth, init);
    if (!s && d->truth.data)
        s = recon_dist_gather(r->comm, r->z0, r->nz, depth, &d->truth);
    if (!s && cbct_comm_rank(r->comm) == 0) {
        if (isnan(r->init_psnr_db)) /* not restored from a checkpoint */
            quality(d, init, &r->init_psnr_db, &r->init_ssim);
        quality(d, x, &r->final_psnr_db, &r->final_ssim);
    }
    return s;
}
