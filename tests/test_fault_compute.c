/* Fault-injection sweeps of the compute paths (tests/fault_sweep.h): every
 * tracked allocation of a small FDK, a forward and back projection, a few
 * CGLS and SIRT iterations, loading DRUNet weights (a test net and the
 * shipped model) and a tiled denoise fails in turn. Each must return
 * CBCT_ERR_MEMORY with a message and give back every byte it took; where
 * the code recovers on purpose (the projector's optional scratch copies),
 * the result must equal the fault-free one. */
#include "cbct/denoiser.h"
#include "cbct/fdk.h"
#include "cbct/solver.h"
#include "fault_sweep.h"
#include "test_solver_util.h"

/* Small enough that a whole sweep takes well under a second per path. */
#define N_VOXELS 8
#define N_VIEWS 12
#define DET_ROWS 10
#define DET_COLS 14

typedef struct {
    cbct_geometry geom;
    float *volume;      /* caller-owned buffers (allocated before the sweeps) */
    float *projections;
    float *scratch_volume;
    float *scratch_projections;
    float *ref_backprojection;  /* fault-free results, for recovered runs */
    float *ref_cgls, *ref_sirt;
    int64_t n_volume, n_projections;
    cbct_drunet *net;   /* 3D test net, for the tiled denoise */
    cbct_array noisy;   /* 8 x 12 x 12 */
    char net_path[4096], model_path[4096];
} fixtures;

static cbct_status run_fdk(const char *folder, void *user)
{
    fixtures *f = user;
    return cbct_fdk_reconstruct(&f->geom, NULL, f->projections, f->scratch_volume);
}

/* Recovered runs take another order of sums: equal within float rounding. */
#define RECOVERED_TOLERANCE 1e-5

static int same(const float *a, const float *b, int64_t n)
{
    return solver_test_max_rel_diff(a, b, n) <= RECOVERED_TOLERANCE;
}

static int projector_right(void *user)
{
    fixtures *f = user;
    return same(f->scratch_projections, f->projections, f->n_projections) &&
           same(f->scratch_volume, f->ref_backprojection, f->n_volume);
}

static int cgls_right(void *user)
{
    fixtures *f = user;
    return same(f->scratch_volume, f->ref_cgls, f->n_volume);
}

static int sirt_right(void *user)
{
    fixtures *f = user;
    return same(f->scratch_volume, f->ref_sirt, f->n_volume);
}

static cbct_status run_projector(const char *folder, void *user)
{
    fixtures *f = user;
    cbct_projector *p = NULL;
    cbct_status s = cbct_projector_create(&f->geom, NULL, &p);
    if (!s)
        s = cbct_project(p, f->volume, f->scratch_projections);
    if (!s)
        s = cbct_backproject(p, f->projections, f->scratch_volume);
    cbct_projector_destroy(p);
    return s;
}

/* Two blocks of views, as `num_operators: 2` configs run. */
static cbct_status run_solver(fixtures *f, int sirt)
{
    cbct_operator_opts opts = {.num_operators = 2};
    cbct_operator *op = NULL;
    cbct_status s = cbct_operator_create(&f->geom, &opts, &op);
    memset(f->scratch_volume, 0, (size_t)f->n_volume * sizeof(float));
    cbct_solver_opts so = {.max_iterations = 3, .tolerance = -1, .ground_truth = f->volume};
    if (!s)
        s = sirt ? cbct_solve_sirt(op, f->projections, &so, f->scratch_volume)
                 : cbct_solve_cgls(op, f->projections, &so, f->scratch_volume);
    cbct_operator_destroy(op);
    return s;
}

static cbct_status run_cgls(const char *folder, void *user) { return run_solver(user, 0); }
static cbct_status run_sirt(const char *folder, void *user) { return run_solver(user, 1); }

static cbct_status load_net(const char *path)
{
    cbct_drunet *net = NULL;
    cbct_status s = cbct_drunet_load(path, &net);
    cbct_drunet_destroy(net);
    return s;
}

static cbct_status run_load_test_net(const char *folder, void *user)
{
    return load_net(((fixtures *)user)->net_path);
}

static cbct_status run_load_model(const char *folder, void *user)
{
    return load_net(((fixtures *)user)->model_path);
}

static cbct_status run_denoise(const char *folder, void *user)
{
    fixtures *f = user;
    cbct_tiling t = {.patch = {4, 8, 8}, .overlap = {1, 2, 2}, .max_batch = 2, .blend = 1};
    cbct_array out = {0};
    cbct_status s = cbct_denoise_volume(f->net, &f->noisy, 0.03f, &t, &out);
    cbct_array_destroy(&out);
    return s;
}

static void make_fixtures(fixtures *f)
{
    memset(f, 0, sizeof *f);
    CHECK_OK(solver_test_geometry(N_VOXELS, N_VIEWS, DET_ROWS, DET_COLS, &f->geom));
    f->n_volume = (int64_t)N_VOXELS * N_VOXELS * N_VOXELS;
    f->n_projections = (int64_t)N_VIEWS * DET_ROWS * DET_COLS;
    f->volume = solver_test_alloc(f->n_volume);
    f->scratch_volume = solver_test_alloc(f->n_volume);
    f->projections = solver_test_alloc(f->n_projections);
    f->scratch_projections = solver_test_alloc(f->n_projections);
    f->ref_backprojection = solver_test_alloc(f->n_volume);
    f->ref_cgls = solver_test_alloc(f->n_volume);
    f->ref_sirt = solver_test_alloc(f->n_volume);
    unsigned long long seed = 7;
    for (int64_t i = 0; i < f->n_volume; i++)
        f->volume[i] = 0.5f + 0.5f * check_random(&seed);
    cbct_projector *p = NULL;
    CHECK_OK(cbct_projector_create(&f->geom, NULL, &p));
    CHECK_OK(cbct_project(p, f->volume, f->projections));
    CHECK_OK(cbct_backproject(p, f->projections, f->ref_backprojection));
    cbct_projector_destroy(p);
    CHECK_OK(run_solver(f, 0));
    memcpy(f->ref_cgls, f->scratch_volume, (size_t)f->n_volume * sizeof(float));
    CHECK_OK(run_solver(f, 1));
    memcpy(f->ref_sirt, f->scratch_volume, (size_t)f->n_volume * sizeof(float));

    const char *src = getenv("CBCT_SOURCE_DIR");
    snprintf(f->net_path, sizeof f->net_path, "%s/tests/data/drunet/net3d_nb1.safetensors",
             src ? src : ".");
    snprintf(f->model_path, sizeof f->model_path, "%s/models/drunet3d_small.safetensors",
             src ? src : ".");
    CHECK_OK(cbct_drunet_load(f->net_path, &f->net));
    CHECK_OK(cbct_array_create(&f->noisy, 8, 12, 12, "noisy volume"));
    for (int64_t i = 0; i < cbct_array_numel(&f->noisy); i++)
        f->noisy.data[i] = 0.5f + 0.1f * check_random(&seed);
}

static void free_fixtures(fixtures *f)
{
    cbct_free(f->volume);
    cbct_free(f->scratch_volume);
    cbct_free(f->projections);
    cbct_free(f->scratch_projections);
    cbct_free(f->ref_backprojection);
    cbct_free(f->ref_cgls);
    cbct_free(f->ref_sirt);
    cbct_drunet_destroy(f->net);
    cbct_array_destroy(&f->noisy);
    cbct_geometry_destroy(&f->geom);
}

int main(void)
{
    /* One thread: the allocations then come in a fixed order, and hundreds
     * of short runs do not pay for idle OpenMP threads spinning on a loaded
     * machine (the threaded kernels run under ThreadSanitizer elsewhere). */
    cbct_set_threads(1);
    fixtures f;
    make_fixtures(&f);
    size_t before = cbct_mem_current();
    struct {
        const char *name;
        fault_path_fn path;
        fault_check_fn recovered_ok;
        long min_points; /* clean failure points expected at least */
    } paths[] = {
        {"fdk", run_fdk, NULL, 4},
        {"projector", run_projector, projector_right, 2},
        {"cgls", run_cgls, cgls_right, 4},
        {"sirt", run_sirt, sirt_right, 4},
        {"load_test_net", run_load_test_net, NULL, 10},
        {"load_shipped_model", run_load_model, NULL, 10},
        {"denoise_tiled", run_denoise, NULL, 10},
    };
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        long clean = fault_sweep(paths[i].name, FAULT_ALLOC, paths[i].path,
                                 paths[i].recovered_ok, &f, CBCT_ERR_MEMORY);
        CHECK_MSG(clean >= paths[i].min_points, "%s: %ld clean failure points, expected >= %ld",
                  paths[i].name, clean, paths[i].min_points);
    }
    CHECK(cbct_mem_current() == before);
    free_fixtures(&f);
    CHECK(cbct_mem_current() == 0);
    return check_summary("test_fault_compute");
}
