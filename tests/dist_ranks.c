/* Run under `mpirun -np P` (P = 1, 2, 3, 4; tests/CMakeLists.txt): every
 * rank computes the single-process result itself (an operator without a
 * communicator) and checks that the distributed one equals it within 1e-6
 * relative, for each combination of distribute_physics (views),
 * distribute_denoiser (patches) and distribute_volume (z-slabs): forward,
 * adjoint, gradient and residual, the tiled denoiser, FDK, CGLS and a full
 * PnP run. With P = 4 the tracked peak memory per rank of a PnP run on a
 * volume-dominated problem is at most 40% of the single-process peak.
 * Last, a failure on one rank reaches every rank with its message. */
#include "check.h"
#include "solvers/solver_internal.h"
#include "test_solver_util.h"

enum { N = 16, VIEWS = 12, DET = 20, BLOCKS = 4 };
#define TOLERANCE 1e-6
#define PNP_TOLERANCE 1e-6 /* measured: 2.5e-7 after three iterations */

static int rank_, size_;

static double rel_diff(const float *a, const float *ref, int64_t n)
{
    return solver_test_max_rel_diff(a, ref, n);
}

/* Rows [z0, z0 + nz) of a whole volume. */
static const float *rows_of(const float *vol, int64_t z0)
{
    return vol + z0 * N * N;
}

typedef struct {
    cbct_geometry g;
    cbct_operator *ref;
    cbct_drunet *net;
    cbct_tiling tiling;
    float *truth, *x, *y; /* whole volume and views */
} problem;

static void check_mode(problem *p, cbct_comm *comm, int physics, int denoiser, int volume)
{
    char mode[64];
    snprintf(mode, sizeof mode, "P=%d physics=%d denoiser=%d volume=%d", size_, physics,
             denoiser, volume);
    int64_t z0 = 0, nz = N;
    if (volume)
        cbct_slab_split(N, p->tiling.patch[0], rank_, size_, &z0, &nz);
    cbct_operator_opts oo = {.num_operators = BLOCKS, .comm = comm, .distribute_views = physics,
                             .distribute_volume = volume, .slab_z0 = z0, .slab_nz = nz};
    cbct_operator *op = NULL;
    CHECK_OK(cbct_operator_create(&p->g, &oo, &op));
    if (!op)
        return;
    int64_t nv = cbct_operator_volume_numel(op), np = cbct_operator_proj_numel(op);
    int64_t nv_all = (int64_t)N * N * N, np_all = (int64_t)VIEWS * DET * DET;
    float *y_local = solver_test_alloc(np), *ax = solver_test_alloc(np);
    float *ax_ref = solver_test_alloc(np_all), *ax_ref_local = solver_test_alloc(np);
    float *v = solver_test_alloc(nv), *v_ref = solver_test_alloc(nv_all);
    cbct_operator_local_projections(op, p->y, y_local);

    /* forward */
    CHECK_OK(cbct_operator_apply(op, rows_of(p->x, z0), ax));
    CHECK_OK(cbct_operator_apply(p->ref, p->x, ax_ref));
    cbct_operator_local_projections(op, ax_ref, ax_ref_local);
    double d = rel_diff(ax, ax_ref_local, np);
    CHECK_MSG(d < TOLERANCE, "%s: forward differs by %g", mode, d);
    /* adjoint */
    CHECK_OK(cbct_operator_adjoint(op, y_local, v));
    CHECK_OK(cbct_operator_adjoint(p->ref, p->y, v_ref));
    d = rel_diff(v, rows_of(v_ref, z0), nv);
    CHECK_MSG(d < TOLERANCE, "%s: adjoint differs by %g", mode, d);
    /* gradient and residual */
    double res = 0, res_ref = 0;
    CHECK_OK(cbct_operator_gradient(op, rows_of(p->x, z0), y_local, v, NULL, &res));
    CHECK_OK(cbct_operator_gradient(p->ref, p->x, p->y, v_ref, NULL, &res_ref));
    d = rel_diff(v, rows_of(v_ref, z0), nv);
    CHECK_MSG(d < TOLERANCE, "%s: gradient differs by %g", mode, d);
    CHECK_MSG(fabs(res - res_ref) <= TOLERANCE * res_ref, "%s: residual %.9g vs %.9g", mode,
              res, res_ref);
    /* the tiled denoiser */
    cbct_array unit = {0}, out = {0}, whole = {0}, whole_out = {0};
    CHECK_OK(cbct_array_create(&unit, nz, N, N, "unit"));
    CHECK_OK(cbct_array_create(&out, nz, N, N, "denoised"));
    CHECK_OK(cbct_array_create(&whole, N, N, N, "whole"));
    memcpy(unit.data, rows_of(p->truth, z0), (size_t)nv * sizeof(float));
    memcpy(whole.data, p->truth, (size_t)nv_all * sizeof(float));
    CHECK_OK(cbct_pnp_denoise(op, p->net, 0.05f, &p->tiling, denoiser, &unit, &out));
    CHECK_OK(cbct_denoise_volume(p->net, &whole, 0.05f, &p->tiling, &whole_out));
    if (whole_out.data) {
        d = rel_diff(out.data, rows_of(whole_out.data, z0), nv);
        CHECK_MSG(d < TOLERANCE, "%s: tiled denoiser differs by %g", mode, d);
    }
    /* FDK */
    CHECK_OK(cbct_solver_initialize(op, y_local, CBCT_INIT_FDK, v));
    CHECK_OK(cbct_solver_initialize(p->ref, p->y, CBCT_INIT_FDK, v_ref));
    d = rel_diff(v, rows_of(v_ref, z0), nv);
    CHECK_MSG(d < TOLERANCE, "%s: FDK differs by %g", mode, d);
    /* CGLS, 4 iterations from zero */
    cbct_solver_opts so = {.max_iterations = 4, .tolerance = -1};
    memset(v, 0, (size_t)nv * sizeof(float));
    memset(v_ref, 0, (size_t)nv_all * sizeof(float));
    CHECK_OK(cbct_solve_cgls(op, y_local, &so, v));
    CHECK_OK(cbct_solve_cgls(p->ref, p->y, &so, v_ref));
    d = rel_diff(v, rows_of(v_ref, z0), nv);
    CHECK_MSG(d < TOLERANCE, "%s: CGLS differs by %g", mode, d);
    /* PnP, 3 iterations from the same start */
    cbct_pnp_opts pnp = cbct_pnp_defaults();
    pnp.lambda = 0.5;
    pnp.lambda_mode = CBCT_PNP_LAMBDA_NORMALIZED;
    pnp.tiling = p->tiling;
    pnp.distribute_denoiser = denoiser;
    so.max_iterations = 3;
    so.ground_truth = rows_of(p->truth, z0);
    memcpy(v, rows_of(p->x, z0), (size_t)nv * sizeof(float));
    memcpy(v_ref, p->x, (size_t)nv_all * sizeof(float));
    CHECK_OK(cbct_solve_pnp(op, y_local, p->net, &pnp, &so, v));
    so.ground_truth = p->truth;
    CHECK_OK(cbct_solve_pnp(p->ref, p->y, p->net, &pnp, &so, v_ref));
    d = rel_diff(v, rows_of(v_ref, z0), nv);
    CHECK_MSG(d < PNP_TOLERANCE, "%s: PnP differs by %g", mode, d);

    cbct_array_destroy(&unit);
    cbct_array_destroy(&out);
    cbct_array_destroy(&whole);
    cbct_array_destroy(&whole_out);
    cbct_free(y_local);
    cbct_free(ax);
    cbct_free(ax_ref);
    cbct_free(ax_ref_local);
    cbct_free(v);
    cbct_free(v_ref);
    cbct_operator_destroy(op);
}

/* Tracked peak (bytes above what was held before) of 1 PnP iteration on
 * a volume-dominated problem: 160^3 voxels, 4 views of 24 x 24 pixels,
 * small patches. */
static size_t pnp_peak(cbct_comm *comm, int split, cbct_drunet *net)
{
    enum { M = 160 };
    cbct_geometry g;
    CHECK_OK(solver_test_geometry(M, 4, 24, 24, &g));
    cbct_tiling tiling = {.patch = {8, 16, 16}, .overlap = {2, 2, 2}, .max_batch = 1};
    int64_t z0 = 0, nz = M;
    if (split)
        cbct_slab_split(M, tiling.patch[0], rank_, size_, &z0, &nz);
    cbct_operator_opts oo = {.comm = comm, .distribute_volume = split, .slab_z0 = z0,
                             .slab_nz = nz};
    cbct_operator *op = NULL;
    CHECK_OK(cbct_operator_create(&g, &oo, &op));
    float *x = solver_test_alloc(nz * M * M), *y = solver_test_alloc(4 * 24 * 24);
    for (int64_t i = 0; i < nz * M * M; i++)
        x[i] = 0.01f * (float)(i % 97);
    cbct_pnp_opts pnp = cbct_pnp_defaults();
    pnp.lambda = 0.5;
    pnp.lambda_mode = CBCT_PNP_LAMBDA_NORMALIZED;
    pnp.L = 1.0; /* the norm's own memory is not what is measured */
    pnp.tiling = tiling;
    cbct_solver_opts so = {.max_iterations = 1, .tolerance = -1};
    size_t before = cbct_mem_current();
    cbct_mem_reset_peak();
    CHECK_OK(cbct_solve_pnp(op, y, net, &pnp, &so, x));
    size_t peak = cbct_mem_peak() - before;
    cbct_free(x);
    cbct_free(y);
    cbct_operator_destroy(op);
    cbct_geometry_destroy(&g);
    return peak;
}

static void check_failure_reaches_everyone(cbct_comm *comm)
{
    if (size_ == 1)
        return;
    float value = 1.0f;
    cbct_clear_error();
    cbct_status s;
    if (rank_ == size_ - 1)
        s = cbct_comm_fail(comm, cbct_error(CBCT_ERR_IO, "cannot read 'missing.npy'"));
    else
        s = cbct_comm_sum_f32(comm, &value, 1);
    char expected[64];
    snprintf(expected, sizeof expected, "rank %d: cannot read 'missing.npy'", size_ - 1);
    CHECK_MSG(s == CBCT_ERR_IO && strstr(cbct_last_error(), expected),
              "rank %d: expected the failure of rank %d, got %s: %s", rank_, size_ - 1,
              cbct_status_name(s), cbct_last_error());
    /* The communicator is spent: later collectives return the same failure
     * at once, on every rank, instead of waiting. */
    CHECK(cbct_comm_finish(comm, CBCT_OK) == CBCT_ERR_IO);
}

int main(void)
{
    cbct_comm *comm = NULL;
    CHECK_OK(cbct_comm_create(&comm));
    if (!comm)
        return 1;
    rank_ = cbct_comm_rank(comm);
    size_ = cbct_comm_size(comm);
    problem p = {.tiling = {.patch = {4, 16, 16}, .overlap = {1, 2, 2}, .max_batch = 2}};
    CHECK_OK(solver_test_geometry(N, VIEWS, DET, DET, &p.g));
    cbct_operator_opts ro = {.num_operators = BLOCKS};
    CHECK_OK(cbct_operator_create(&p.g, &ro, &p.ref));
    cbct_drunet_config config = {.dims = 3, .in_channels = 1, .out_channels = 1,
                                 .channels = {4, 8, 16, 32}, .nb = 1};
    CHECK_OK(cbct_drunet_create_random(&config, 5, &p.net));
    int64_t nv_all = (int64_t)N * N * N, np_all = (int64_t)VIEWS * DET * DET;
    p.truth = solver_test_alloc(nv_all);
    p.x = solver_test_alloc(nv_all);
    p.y = solver_test_alloc(np_all);
    CHECK_OK(cbct_phantom_walnut(&p.g.vol, 2, p.truth));
    CHECK_OK(cbct_operator_apply(p.ref, p.truth, p.y));
    unsigned long long seed = 7;
    for (int64_t i = 0; i < nv_all; i++)
        p.x[i] = 0.8f * p.truth[i] + 0.05f * check_random(&seed);

    for (int mode = 0; mode < 8; mode++)
        check_mode(&p, comm, mode & 1, (mode >> 1) & 1, (mode >> 2) & 1);

    if (size_ == 4) {
        /* rank 0 runs the single-process reference, and tells the others */
        uint64_t single = rank_ == 0 ? pnp_peak(NULL, 0, p.net) : 0;
        CHECK_OK(cbct_comm_max_u64(comm, &single));
        uint64_t worst = pnp_peak(comm, 1, p.net);
        CHECK_OK(cbct_comm_max_u64(comm, &worst));
        if (rank_ == 0)
            printf("PnP tracked peak: one process %.2f MiB, per rank at 4 ranks %.2f MiB "
                   "(%.0f%%)\n", single / 1048576.0, worst / 1048576.0,
                   100.0 * (double)worst / (double)single);
        CHECK_MSG(worst <= 0.4 * single, "peak per rank %llu bytes > 40%% of %llu",
                  (unsigned long long)worst, (unsigned long long)single);
    }
    check_failure_reaches_everyone(comm);

    cbct_free(p.truth);
    cbct_free(p.x);
    cbct_free(p.y);
    cbct_drunet_destroy(p.net);
    cbct_operator_destroy(p.ref);
    cbct_geometry_destroy(&p.g);
    cbct_comm_destroy(comm);
    CHECK_MSG(cbct_mem_current() == 0, "rank %d: %zu tracked bytes not freed", rank_,
              cbct_mem_current());
    char name[64];
    snprintf(name, sizeof name, "dist_ranks (rank %d of %d)", rank_, size_);
    return check_summary(name);
}
