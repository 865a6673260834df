/* cbct recon CONFIG: a reconstruction run described by a YAML config
 * (docs/config.md): the dataset, the initialisation, the solver with a
 * progress line and metrics per iteration, then recon.npy, init.npy,
 * record.json and PNG previews (ground truth | init | result). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "args.h"
#include "inputs.h"
#include "recon.h"

#define MAX_SETS RECON_MAX_SETS
#define N_OUTPUTS 5
/* Exit status of a run stopped by a signal, as shells report it. */
#define EXIT_SIGNAL_BASE 128

static const cli_option options[] = {
    {"--output", 'o', "DIR", 0, "run.output of the config", "folder for the results (created)"},
    {"--set", 0, "KEY=VALUE", 0, NULL,
     "override a config key, e.g. solver.PnP.max_iterations=10 (repeatable)"},
    {"--checkpoint-every", 0, "N", 0, "0 (only on SIGINT/SIGTERM)",
     "write DIR/checkpoint.cbct after the init and every N iterations"},
    {"--resume", 0, "DIR", 0, NULL,
     "continue the run whose checkpoint is in DIR (same result as uninterrupted)"},
    {"--point", 0, "N", 0, "0 (the first)",
     "point N of a grid of runs in the config (docs/experiments.md; cbct bench runs all)"},
    {NULL, 0, NULL, 0, NULL, NULL}};

static const cli_command command = {
    "recon CONFIG.yml [-o DIR] [--set KEY=VALUE ...] [--checkpoint-every N]\n"
    "       cbct recon --resume DIR [--set KEY=VALUE ...]",
    "Runs the reconstruction a YAML config describes (docs/config.md): builds the\n"
    "dataset, initialises, runs the solver (PnP, CGLS, SIRT or FDK) and writes\n"
    "recon.npy, init.npy, record.json (config, geometry, per-iteration metrics and\n"
    "times, peak memory, version), axial.png and coronal.png into DIR.\n"
    "SIGINT or SIGTERM stops it after the current iteration with a checkpoint;\n"
    "--resume DIR continues from DIR/checkpoint.cbct (same config file, unchanged,\n"
    "from the same working folder; extra --set options apply on top, e.g. more\n"
    "iterations).",
    options, 0, 1};

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


/* What is asked: a config with --set overrides, or the run of a checkpoint
 * (whose overrides come first, the new ones after), with its state. */
static cbct_status make_request(const cli_args *args, const char **sets, int n_sets,
                                int point, recon_request *q, cbct_solver_state *resume,
                                recon_run *r, int rank)
{
    const char *resume_dir = cli_value(args, "--resume");
    memset(q, 0, sizeof *q);
    q->point = point; /* a checkpoint brings its own */
    if (resume_dir) {
        cbct_status s = recon_checkpoint_load(resume_dir, rank, resume, q, r);
        uint64_t now = 0;
        if (!s)
            s = recon_config_hash(q->config_path, &now);
        if (!s && now != q->config_hash)
            s = cbct_error(CBCT_ERR_ARG,
                           "--resume '%s': the config '%s' changed since the checkpoint "
                           "(the run would not be the same)",
                           resume_dir, q->config_path);
        if (s)
            cbct_solver_state_free(resume);
        if (s)
            return s;
    } else {
        snprintf(q->config_path, sizeof q->config_path, "%s", args->positional[0]);
        cbct_status s = recon_config_hash(q->config_path, &q->config_hash);
        if (s)
            return s;
    }
    for (int i = 0; i < n_sets; i++) {
        if (q->n_sets == RECON_MAX_SETS || strlen(sets[i]) >= RECON_SET_MAX)
            return cbct_error(CBCT_ERR_ARG, "--set '%s': too many or too long (at most %d of "
                                            "%d characters, those of the checkpoint included)",
                              sets[i], RECON_MAX_SETS, RECON_SET_MAX - 1);
        snprintf(q->sets[q->n_sets++], RECON_SET_MAX, "%s", sets[i]);
    }
    return CBCT_OK;
}

static int run_recon(cli_context *ctx, const cli_args *argsp, const char **sets, int n_sets,
                     const char *resume_dir, int64_t every, int64_t point, cbct_comm *comm);

int cmd_recon(cli_context *ctx, int argc, char **argv)
{
    const char *sets[MAX_SETS];
    int n_sets = 0;
    argc = cli_take_sets(argc, argv, "--set", sets, MAX_SETS, &n_sets);
    if (argc < 0)
        return cli_usage_error(ctx, "--set needs KEY=VALUE (at most %d of them)", MAX_SETS);
    cli_args args;
    int rc = cli_parse(ctx, &command, argc, argv, &args);
    if (rc != CLI_PARSED)
        return rc;
    const char *resume_dir = cli_value(&args, "--resume");
    if ((args.n_positional == 1) == (resume_dir != NULL))
        return cli_usage_error(ctx, "give either CONFIG.yml or --resume DIR");
    if (resume_dir && cli_value(&args, "--output"))
        return cli_usage_error(ctx, "--resume writes into its own folder: leave out -o");
    int64_t every = 0, point = 0;
    if (cli_int(&args, "--checkpoint-every", 0, 1 << 30, &every) ||
        cli_int(&args, "--point", 0, INT32_MAX, &point))
        return CLI_EXIT_USAGE;

    cbct_comm *comm = NULL;
    if (cbct_comm_create(&comm) != CBCT_OK)
        return cli_runtime_error(ctx);
    int rank = cbct_comm_rank(comm);
    if (rank != 0)
        ctx->quiet = 1; /* one voice: rank 0 prints and writes */
    /* A rank whose launcher dies (mpirun killed) would run on alone: it is
     * asked to stop as by SIGTERM (a last checkpoint, then exit). */
    if (cbct_comm_is_mpi(comm))
        prctl(PR_SET_PDEATHSIG, SIGTERM);
    rc = run_recon(ctx, &args, sets, n_sets, resume_dir, every, point, comm);
    cbct_comm_destroy(comm);
    return rc;
}

/* The run on this rank. Every phase ends with an agreement over ranks, so
 * that a failure on one rank ends all of them with its message. */
static int run_recon(cli_context *ctx, const cli_args *argsp, const char **sets, int n_sets,
                     const char *resume_dir, int64_t every, int64_t point, cbct_comm *comm)
{
    const cli_args args = *argsp;
    int rank = cbct_comm_rank(comm);
    recon_run r;
    memset(&r, 0, sizeof r);
    r.comm = comm;
    r.quiet = ctx->quiet;
    r.init_psnr_db = r.init_ssim = r.final_psnr_db = r.final_ssim = NAN;
    r.checkpoint_every = (int)every;
    recon_request request;
    cbct_solver_state resume;
    memset(&resume, 0, sizeof resume);
    if (cbct_comm_finish(comm, make_request(&args, sets, n_sets, (int)point, &request,
                                            &resume, &r, rank)) != CBCT_OK) {
        free(r.iters);
        return cli_runtime_error(ctx);
    }
    r.request = &request;
    const char *all_sets[RECON_MAX_SETS];
    for (int i = 0; i < request.n_sets; i++)
        all_sets[i] = request.sets[i];
    cbct_recon_config c;
    if (cbct_comm_finish(comm, cbct_config_load_point(request.config_path, all_sets,
                                                      request.n_sets, request.point, &c)) !=
        CBCT_OK) {
        cbct_solver_state_free(&resume);
        free(r.iters);
        return cli_runtime_error(ctx);
    }
    /* The command line wins over the config's run block. */
    if (c.threads > 0 && !cli_value(&args, "--threads"))
        cbct_set_threads(c.threads);
    if (c.memory_bytes > 0 && !cli_value(&args, "--mem"))
        cbct_mem_set_budget(c.memory_bytes);
    c.memory_bytes = cbct_mem_budget(); /* recorded as in force */
    c.threads = cbct_threads();
    const char *dir = resume_dir ? resume_dir : cli_string(&args, "--output", c.output_dir);
    recon_checkpoint_name(dir, rank, r.checkpoint_path, sizeof r.checkpoint_path);
    recon_signals_install();
    double t0 = cbct_seconds();
    recon_dataset d;
    cbct_array init, x;
    memset(&init, 0, sizeof init);
    memset(&x, 0, sizeof x);
    char files[N_OUTPUTS][CBCT_CONFIG_PATH_MAX + 16];
    int n_files = 0;
    recon_remove_stale_temporaries(dir);
    r.dir = dir;
    cbct_status s = recon_dataset_build(&c, comm, &d);
    if (s == CBCT_OK && !ctx->quiet)
        fprintf(stderr, "recon: %s, %lld views of %lld x %lld pixels, volume %lld x %lld x %lld "
                        "(%.2f s)\n",
                cbct_solver_kind_name(c.solver), (long long)d.geom.n_views,
                (long long)d.geom.det_rows, (long long)d.geom.det_cols,
                (long long)d.geom.vol.shape[0], (long long)d.geom.vol.shape[1],
                (long long)d.geom.vol.shape[2], d.seconds);
    if (s == CBCT_OK)
        s = recon_solve(&c, &d, &init, &x, &r, resume_dir ? &resume : NULL);
    s = cbct_comm_finish(comm, s);
    if (s == CBCT_OK && r.split_volume)
        s = recon_gather_results(&r, &d, &init, &x);
    r.seconds_total = cbct_seconds() - t0;
    if (s == CBCT_OK && cbct_comm_size(comm) > 1)
        s = recon_dist_rank_figures(comm, &r);
    if (s == CBCT_OK && rank == 0)
        s = write_outputs(dir, &c, &d, &init, &x, &r, files, &n_files);
    s = cbct_comm_finish(comm, s);
    if (s != CBCT_OK)
        for (int i = 0; i < n_files; i++)
            unlink(files[i]); /* no partial set of results */
    recon_dataset_destroy(&d);
    cbct_array_destroy(&init);
    cbct_array_destroy(&x);
    cbct_solver_state_free(&resume);
    free(r.iters);
    free(r.rank_figures);
    if (s == CBCT_ERR_INTERRUPTED) {
        cli_runtime_error(ctx);
        return EXIT_SIGNAL_BASE + recon_signal_pending();
    }
    if (s != CBCT_OK)
        return cli_runtime_error(ctx);
    if (rank != 0)
        return CLI_EXIT_OK;
    printf("recon: %s, %d iterations in %.2f s; PSNR init %.2f dB, result %.2f dB; "
           "SSIM result %.4f\n",
           cbct_solver_kind_name(c.solver), r.n_iters, r.seconds_solver, r.init_psnr_db,
           r.final_psnr_db, r.final_ssim);
    printf("  wrote %s/{recon.npy, init.npy, axial.png, coronal.png, record.json}\n", dir);
    cli_report_resources(ctx);
    return CLI_EXIT_OK;
}
