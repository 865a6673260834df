/* cbct recon CONFIG: a reconstruction run described by a YAML config
 * (docs/config.md): the dataset, the initialisation, the solver with a
 * progress line and metrics per iteration, then recon.npy, init.npy,
 * record.json and PNG previews (ground truth | init | result). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "args.h"
#include "inputs.h"
#include "recon.h"

#define MAX_SETS 32
#define N_OUTPUTS 5

static const cli_option options[] = {
    {"--output", 'o', "DIR", 0, "run.output of the config", "folder for the results (created)"},
    {"--set", 0, "KEY=VALUE", 0, NULL,
     "override a config key, e.g. solver.PnP.max_iterations=10 (repeatable)"},
    {NULL, 0, NULL, 0, NULL, NULL}};

static const cli_command command = {
    "recon CONFIG.yml [-o DIR] [--set KEY=VALUE ...]",
    "Runs the reconstruction a YAML config describes (docs/config.md): builds the\n"
    "dataset, initialises, runs the solver (PnP, CGLS, SIRT or FDK) and writes\n"
    "recon.npy, init.npy, record.json (config, geometry, per-iteration metrics and\n"
    "times, peak memory, version), axial.png and coronal.png into DIR.",
    options, 1, 1};

static cbct_status on_iteration(cbct_iteration_stats *stats, const float *x, void *user)
{
    recon_run *r = user;
    if (r->n_iters == r->cap_iters) {
        int cap = r->cap_iters ? 2 * r->cap_iters : 64;
        cbct_iteration_stats *grown = realloc(r->iters, (size_t)cap * sizeof *grown);
        if (!grown)
            return cbct_error(CBCT_ERR_MEMORY, "cannot record iteration %d", stats->iteration);
        r->iters = grown;
        r->cap_iters = cap;
    }
    r->iters[r->n_iters++] = *stats;
    if (!r->quiet)
        fprintf(stderr, "  iteration %3d/%d: %6.2f s, PSNR %6.2f dB, SSIM %.4f, change %.2e\n",
                stats->iteration, r->max_iterations, stats->seconds_total, stats->psnr_db,
                stats->ssim, stats->relative_change);
    return CBCT_OK;
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

static cbct_status solve(const cbct_recon_config *c, recon_dataset *d, cbct_array *init,
                         cbct_array *x, recon_run *r)
{
    cbct_operator_opts oo = {.num_operators = c->num_operators, .kernel = CBCT_KERNEL_FAST};
    cbct_operator *op = NULL;
    cbct_drunet *net = NULL;
    const int64_t *shape = d->geom.vol.shape;
    cbct_status s = cbct_array_zeros(x, shape[0], shape[1], shape[2], "reconstruction");
    if (s == CBCT_OK)
        s = cbct_array_create(init, shape[0], shape[1], shape[2], "initialisation");
    if (s == CBCT_OK)
        s = cbct_operator_create(&d->geom, &oo, &op);
    if (s == CBCT_OK && c->solver == CBCT_SOLVER_PNP)
        s = cbct_drunet_load(c->model_path, &net);
    if (s != CBCT_OK)
        goto done;
    for (int i = 0; i < 3; i++)
        x->spacing[i] = init->spacing[i] = d->geom.vol.voxel_size[i];
    double t0 = cbct_seconds();
    if (c->solver == CBCT_SOLVER_FDK)
        s = cbct_fdk_reconstruct(&d->geom, NULL, d->proj.data, x->data);
    else
        s = cbct_solver_initialize(op, d->proj.data, c->init_method, x->data);
    r->seconds_init = cbct_seconds() - t0;
    if (s != CBCT_OK)
        goto done;
    memcpy(init->data, x->data, (size_t)cbct_array_numel(x) * sizeof(float));
    quality(d, init, &r->init_psnr_db, &r->init_ssim);
    if (!r->quiet)
        fprintf(stderr, "  init %s: %.2f s, PSNR %.2f dB\n",
                c->solver == CBCT_SOLVER_FDK ? "fdk" : cbct_init_name(c->init_method),
                r->seconds_init, r->init_psnr_db);
    cbct_solver_opts so = {.max_iterations = c->max_iterations,
                           .tolerance = c->tolerance,
                           .ground_truth = d->truth.data,
                           .callback = on_iteration,
                           .callback_user = r};
    r->max_iterations = c->max_iterations;
    t0 = cbct_seconds();
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
        s = cbct_solve_pnp(op, d->proj.data, net, &pnp, &so, x->data);
    }
    r->seconds_solver = cbct_seconds() - t0;
    if (s == CBCT_OK)
        quality(d, x, &r->final_psnr_db, &r->final_ssim);
done:
    cbct_drunet_destroy(net);
    cbct_operator_destroy(op);
    return s;
}

static float max_value(const cbct_array *a)
{
    float m = a->data[0];
    for (int64_t i = 1; i < cbct_array_numel(a); i++)
        m = a->data[i] > m ? a->data[i] : m;
    return m;
}

static cbct_status write_outputs(const char *dir, const cbct_recon_config *c,
                                 const recon_dataset *d, const cbct_array *init,
                                 const cbct_array *x, const recon_run *r,
                                 char files[N_OUTPUTS][CBCT_CONFIG_PATH_MAX + 16], int *n_files)
{
    cbct_status s = cli_make_folder(dir);
    const char *names[N_OUTPUTS] = {"recon.npy", "init.npy", "axial.png", "coronal.png",
                                    "record.json"};
    for (int i = 0; i < N_OUTPUTS; i++)
        snprintf(files[i], sizeof files[0], "%s/%s", dir, names[i]);
    /* Ground truth | init | result in one window, that of the truth (or of
     * the result without one), so that differences show as grey levels. */
    const cbct_array *panels[3];
    int n_panels = 0;
    if (d->truth.data)
        panels[n_panels++] = &d->truth;
    panels[n_panels++] = init;
    panels[n_panels++] = x;
    float hi = max_value(d->truth.data ? &d->truth : x);
    /* *n_files counts the files started, for the caller to remove. */
    for (int i = 0; s == CBCT_OK && i < N_OUTPUTS; i++) {
        *n_files = i + 1;
        if (i < 2)
            s = cbct_npy_write(files[i], i == 0 ? x : init);
        else if (i < 4)
            s = cbct_png_write_slices(files[i], panels, n_panels,
                                      i == 2 ? CBCT_SLICE_AXIAL : CBCT_SLICE_CORONAL, 0, hi);
        else
            s = recon_record_write(files[i], c, d, r);
    }
    return s;
}

/* Takes the --set options out of argv (the option table keeps one value
 * per option); returns the new argc, or -1 when a --set lacks its value or
 * there are more than MAX_SETS. */
static int take_sets(int argc, char **argv, const char **sets, int *n_sets)
{
    int kept = 0;
    for (int i = 0; i < argc; i++) {
        int bare = strcmp(argv[i], "--set") == 0;
        int joined = strncmp(argv[i], "--set=", 6) == 0;
        if (!bare && !joined) {
            argv[kept++] = argv[i];
            continue;
        }
        if (*n_sets == MAX_SETS || (bare && i + 1 >= argc))
            return -1;
        sets[(*n_sets)++] = bare ? argv[++i] : argv[i] + 6;
    }
    return kept;
}

int cmd_recon(cli_context *ctx, int argc, char **argv)
{
    const char *sets[MAX_SETS];
    int n_sets = 0;
    argc = take_sets(argc, argv, sets, &n_sets);
    if (argc < 0)
        return cli_usage_error(ctx, "--set needs KEY=VALUE (at most %d of them)", MAX_SETS);
    cli_args args;
    int rc = cli_parse(ctx, &command, argc, argv, &args);
    if (rc != CLI_PARSED)
        return rc;
    cbct_recon_config c;
    if (cbct_config_load(args.positional[0], sets, n_sets, &c) != CBCT_OK)
        return cli_runtime_error(ctx);
    /* The command line wins over the config's run block. */
    if (c.threads > 0 && !cli_value(&args, "--threads"))
        cbct_set_threads(c.threads);
    if (c.memory_bytes > 0 && !cli_value(&args, "--mem"))
        cbct_mem_set_budget(c.memory_bytes);
    c.memory_bytes = cbct_mem_budget(); /* recorded as in force */
    c.threads = cbct_threads();    const char *dir = cli_string(&args, "--output", c.output_dir);

    double t0 = cbct_seconds();
    recon_dataset d;
    recon_run r;
    memset(&r, 0, sizeof r);
    r.quiet = ctx->quiet;
    r.init_psnr_db = r.init_ssim = r.final_psnr_db = r.final_ssim = NAN;
    cbct_array init, x;
    memset(&init, 0, sizeof init);
    memset(&x, 0, sizeof x);
    char files[N_OUTPUTS][CBCT_CONFIG_PATH_MAX + 16];
    int n_files = 0;
    cbct_status s = recon_dataset_build(&c, &d);
    if (s == CBCT_OK && !ctx->quiet)
        fprintf(stderr, "recon: %s, %lld views of %lld x %lld pixels, volume %lld x %lld x %lld "
                        "(%.2f s)\n",
                cbct_solver_kind_name(c.solver), (long long)d.geom.n_views,
                (long long)d.geom.det_rows, (long long)d.geom.det_cols,
                (long long)d.geom.vol.shape[0], (long long)d.geom.vol.shape[1],
                (long long)d.geom.vol.shape[2], d.seconds);
    if (s == CBCT_OK)
        s = solve(&c, &d, &init, &x, &r);
    r.seconds_total = cbct_seconds() - t0;
    if (s == CBCT_OK)
        s = write_outputs(dir, &c, &d, &init, &x, &r, files, &n_files);
    if (s != CBCT_OK)
        for (int i = 0; i < n_files; i++)
            unlink(files[i]); /* no partial set of results */
    recon_dataset_destroy(&d);
    cbct_array_destroy(&init);
    cbct_array_destroy(&x);
    free(r.iters);
    if (s != CBCT_OK)
        return cli_runtime_error(ctx);
    printf("recon: %s, %d iterations in %.2f s; PSNR init %.2f dB, result %.2f dB; "
           "SSIM result %.4f\n",
           cbct_solver_kind_name(c.solver), r.n_iters, r.seconds_solver, r.init_psnr_db,
           r.final_psnr_db, r.final_ssim);
    printf("  wrote %s/{recon.npy, init.npy, axial.png, coronal.png, record.json}\n", dir);
    cli_report_resources(ctx);
    return CLI_EXIT_OK;
}
