/* record.json of `cbct recon`: the config as mapped, the geometry, one
 * entry per iteration (metrics and phase times), totals, peak memory and
 * the version, so that a run can be compared and plotted later. */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "json_file.h"
#include "recon.h"

static cJSON *int_list(const int64_t *v, int n)
{
    cJSON *a = cJSON_CreateArray();
    for (int i = 0; a && i < n; i++)
        cJSON_AddItemToArray(a, cJSON_CreateNumber((double)v[i]));
    return a;
}

static cJSON *config_json(const cbct_recon_config *c)
{
    static const char *const sources[] = {"phantom", "volume", "projections", "walnut"};
    static const char *const phantoms[] = {"walnut", "shepp-logan"};
    cJSON *o = cJSON_CreateObject(), *ds = cJSON_AddObjectToObject(o, "dataset");
    cJSON_AddStringToObject(o, "file", c->source_name);
    cJSON_AddNumberToObject(ds, "num_operators", (double)c->num_operators);
    cJSON_AddNumberToObject(ds, "num_projections", (double)c->num_projections);
    cJSON_AddStringToObject(ds, "geometry_type", "conebeam");
    cJSON_AddBoolToObject(ds, "use_dataset_sinogram", c->use_dataset_sinogram);
    cJSON_AddStringToObject(ds, "source", sources[c->source]);
    if (c->source == CBCT_SOURCE_PHANTOM) {
        cJSON_AddStringToObject(ds, "phantom", phantoms[c->phantom]);
        cJSON_AddItemToObject(ds, "shape", int_list(c->shape, 3));
        cJSON_AddNumberToObject(ds, "seed", (double)c->seed);
    }
    if (c->source == CBCT_SOURCE_VOLUME) {
        cJSON_AddStringToObject(ds, "volume", c->volume_path);
        cJSON_AddNumberToObject(ds, "value_scale", c->value_scale);
    }
    if (c->source == CBCT_SOURCE_WALNUT) {
        cJSON_AddStringToObject(ds, "path", c->walnut_path);
        cJSON_AddNumberToObject(ds, "orbit", (double)c->orbit);
        cJSON_AddItemToObject(ds, "shape", int_list(c->shape, 3));
    }
    if (c->source == CBCT_SOURCE_PROJECTIONS) {
        cJSON_AddStringToObject(ds, "projections", c->projections_path);
        cJSON_AddStringToObject(ds, "geometry_file", c->geometry_path);
    }
    cJSON_AddNumberToObject(ds, "noise_photons", c->photons);
    cJSON *sv = cJSON_AddObjectToObject(o, "solver");
    cJSON_AddStringToObject(sv, "name", cbct_solver_kind_name(c->solver));
    cJSON_AddStringToObject(sv, "init_method", cbct_init_name(c->init_method));
    cJSON_AddNumberToObject(sv, "max_iterations", c->max_iterations);
    cJSON_AddNumberToObject(sv, "tolerance", c->tolerance);
    if (c->solver == CBCT_SOLVER_PNP) {
        cJSON_AddStringToObject(sv, "denoiser", "drunet");
        cJSON_AddStringToObject(sv, "model", c->model_path);
        cJSON_AddNumberToObject(sv, "denoiser_sigma", c->denoiser_sigma);
        cJSON_AddNumberToObject(sv, "denoiser_lambda_relaxation", c->denoiser_lambda);
        cJSON_AddItemToObject(sv, "patch_size", int_list(c->tiling.patch, 3));
        cJSON_AddItemToObject(sv, "overlap", int_list(c->tiling.overlap, 3));
        cJSON_AddNumberToObject(sv, "max_batch_size", (double)c->tiling.max_batch);
        cJSON_AddStringToObject(sv, "mode", c->mode == CBCT_PNP_LAMBDA_NORMALIZED
                                                ? "normalized" : "reference");
        if (c->clip) {
            cJSON *clip = cJSON_AddArrayToObject(sv, "clip");
            cJSON_AddItemToArray(clip, cJSON_CreateNumber(c->clip_range[0]));
            cJSON_AddItemToArray(clip, cJSON_CreateNumber(c->clip_range[1]));
        }
    }
    cJSON *run = cJSON_AddObjectToObject(o, "run");
    cJSON_AddNumberToObject(run, "memory_bytes", (double)c->memory_bytes);
    cJSON_AddStringToObject(run, "output", c->output_dir);
    cJSON_AddNumberToObject(run, "threads", cbct_threads());
    return o;
}

static cJSON *geometry_json(const cbct_geometry *g)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "volume_shape", int_list(g->vol.shape, 3));
    cJSON *v = cJSON_AddArrayToObject(o, "voxel_size_mm");
    for (int i = 0; i < 3; i++)
        cJSON_AddItemToArray(v, cJSON_CreateNumber(g->vol.voxel_size[i]));
    cJSON_AddNumberToObject(o, "n_views", (double)g->n_views);
    cJSON_AddNumberToObject(o, "det_rows", (double)g->det_rows);
    cJSON_AddNumberToObject(o, "det_cols", (double)g->det_cols);
    return o;
}

cJSON *recon_iteration_json(const cbct_iteration_stats *s)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "iteration", s->iteration);
    cJSON_AddNumberToObject(o, "psnr", s->psnr_db); /* NaN is written as null */
    cJSON_AddNumberToObject(o, "ssim", s->ssim);
    cJSON_AddNumberToObject(o, "relative_change", s->relative_change);
    cJSON_AddNumberToObject(o, "residual_norm", s->residual_norm);
    cJSON_AddNumberToObject(o, "normal_residual", s->normal_residual);
    cJSON_AddNumberToObject(o, "seconds_gradient", s->seconds_gradient);
    cJSON_AddNumberToObject(o, "seconds_denoiser", s->seconds_denoiser);
    cJSON_AddNumberToObject(o, "seconds_communication", s->seconds_communication);
    cJSON_AddNumberToObject(o, "seconds_total", s->seconds_total);
    cJSON_AddNumberToObject(o, "mem_peak_bytes", (double)s->mem_peak_bytes);
    cJSON_AddNumberToObject(o, "rss_peak_bytes", (double)s->rss_peak_bytes);
    return o;
}

cbct_status recon_record_write(const char *path, const cbct_recon_config *c,
                               const recon_dataset *d, const recon_run *r)
{
    cJSON *root = cJSON_CreateObject();
    if (!root)
        return cbct_error(CBCT_ERR_MEMORY, "'%s': cannot build the record", path);
    cJSON_AddStringToObject(root, "version", CBCT_VERSION);
    cJSON_AddItemToObject(root, "config", config_json(c));
    cJSON_AddItemToObject(root, "geometry", geometry_json(&d->geom));
    cJSON *its = cJSON_AddArrayToObject(root, "iterations");
    for (int i = 0; i < r->n_iters; i++)
        cJSON_AddItemToArray(its, recon_iteration_json(&r->iters[i]));
    cJSON *t = cJSON_AddObjectToObject(root, "totals");
    cJSON_AddNumberToObject(t, "iterations", r->n_iters);
    cJSON_AddNumberToObject(t, "seconds_dataset", d->seconds);
    cJSON_AddNumberToObject(t, "seconds_init", r->seconds_init);
    if (r->operator_norm > 0) {
        cJSON_AddNumberToObject(t, "operator_norm", r->operator_norm);
        cJSON_AddNumberToObject(t, "seconds_norm", r->seconds_norm);
        cJSON_AddNumberToObject(t, "norm_iterations", r->norm_iterations);
    }
    cJSON_AddNumberToObject(t, "seconds_solver", r->seconds_solver);
    cJSON_AddNumberToObject(t, "seconds_total", r->seconds_total);
    cJSON_AddNumberToObject(t, "init_psnr", r->init_psnr_db);
    cJSON_AddNumberToObject(t, "init_ssim", r->init_ssim);
    cJSON_AddNumberToObject(t, "final_psnr", r->final_psnr_db);
    cJSON_AddNumberToObject(t, "final_ssim", r->final_ssim);
    cJSON_AddNumberToObject(t, "mem_peak_bytes", (double)cbct_mem_peak());
    cJSON_AddNumberToObject(t, "rss_peak_bytes", (double)cbct_rss_peak_bytes());
    /* One entry per rank (one entry without MPI): memory and communication. */
    cJSON *mpi = cJSON_AddObjectToObject(root, "mpi");
    cJSON_AddNumberToObject(mpi, "ranks", r->n_ranks > 0 ? r->n_ranks : 1);
    cJSON_AddStringToObject(mpi, "library", cbct_comm_library_version(r->comm));
    cJSON_AddBoolToObject(mpi, "distribute_physics", c->distribute_physics);
    cJSON_AddBoolToObject(mpi, "distribute_denoiser", c->distribute_denoiser);
    cJSON_AddBoolToObject(mpi, "distribute_volume", c->distribute_volume);
    cJSON *ranks = cJSON_AddArrayToObject(root, "ranks");
    for (int i = 0; i < (r->n_ranks > 0 ? r->n_ranks : 1); i++) {
        cJSON *e = cJSON_CreateObject();
        const double *f = r->rank_figures ? r->rank_figures + i * RECON_RANK_FIGURES : NULL;
        cJSON_AddNumberToObject(e, "rank", i);
        cJSON_AddNumberToObject(e, "mem_peak_bytes", f ? f[0] : (double)cbct_mem_peak());
        cJSON_AddNumberToObject(e, "rss_peak_bytes", f ? f[1] : (double)cbct_rss_peak_bytes());
        cJSON_AddNumberToObject(e, "seconds_communication", f ? f[2] : 0.0);
        cJSON_AddNumberToObject(e, "bytes_sent", f ? f[3] : 0.0);
        cJSON_AddItemToArray(ranks, e);
    }
    cbct_status s = cli_write_json(path, root);
    cJSON_Delete(root);
    return s;
}
