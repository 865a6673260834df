/* Checkpoint and resume: for CGLS, SIRT and PnP (tiny random DRUNet), a run
 * stopped after iteration STOP, written to a checkpoint file, read back and
 * resumed ends bit-identical to an uninterrupted run of ITERATIONS. The
 * file is refused when corrupt, truncated, of another solver or of another
 * problem. The numerical guards stop a diverging PnP run and a NaN in the
 * data with CBCT_ERR_NUMERIC and a message naming the iteration. */
#include <stdio.h>
#include <unistd.h>

#include "test_solver_util.h"

enum { N = 16, VIEWS = 12, DET = 20, ITERATIONS = 6, STOP = 3 };

typedef enum { RUN_CGLS, RUN_SIRT, RUN_PNP } which_solver;
static const char *const solver_names[] = {"CGLS", "SIRT", "PnP"};

typedef struct {
    const char *path; /* checkpoint written after iteration STOP */
    int stop_at;      /* 0 = run to the end */
    int last_iteration;
} stopper;

static cbct_status checkpoint_and_stop(cbct_iteration_stats *st, const float *x, void *user)
{
    (void)x;
    stopper *s = user;
    s->last_iteration = st->iteration;
    if (s->stop_at && st->iteration == s->stop_at) {
        st->stop = 1;
        return cbct_checkpoint_write(s->path, st->state, "{\"note\": \"test\"}");
    }
    return CBCT_OK;
}

typedef struct {
    cbct_operator *op;
    cbct_drunet *net;
    const float *y, *x0;
    int64_t nv;
} problem;

static cbct_status run(const problem *p, which_solver w, const cbct_solver_state *resume,
                       stopper *stop, float *x)
{
    memcpy(x, p->x0, (size_t)p->nv * sizeof(float));
    cbct_solver_opts so = {.max_iterations = ITERATIONS, .tolerance = -1,
                           .callback = checkpoint_and_stop, .callback_user = stop,
                           .resume = resume};
    if (w == RUN_CGLS)
        return cbct_solve_cgls(p->op, p->y, &so, x);
    if (w == RUN_SIRT)
        return cbct_solve_sirt(p->op, p->y, &so, x);
    cbct_pnp_opts pnp = cbct_pnp_defaults();
    pnp.lambda = 0.5;
    pnp.lambda_mode = CBCT_PNP_LAMBDA_NORMALIZED;
    return cbct_solve_pnp(p->op, p->y, p->net, &pnp, &so, x);
}

static void check_resume(const problem *p, which_solver w, const char *path)
{
    const char *name = solver_names[w];
    float *full = solver_test_alloc(p->nv), *resumed = solver_test_alloc(p->nv);
    stopper uninterrupted = {0};
    CHECK_OK(run(p, w, NULL, &uninterrupted, full));
    CHECK_MSG(uninterrupted.last_iteration == ITERATIONS, "%s ran %d iterations", name,
          uninterrupted.last_iteration);

    stopper first = {.path = path, .stop_at = STOP};
    CHECK_OK(run(p, w, NULL, &first, resumed));
    CHECK_MSG(first.last_iteration == STOP, "%s stopped at %d", name, first.last_iteration);

    cbct_solver_state saved;
    char *extra = NULL;
    CHECK_OK(cbct_checkpoint_read(path, &saved, &extra));
    CHECK_MSG(saved.iteration == STOP && strcmp(saved.solver, name) == 0,
          "%s checkpoint holds iteration %d of %s", name, saved.iteration, saved.solver);
    CHECK_MSG(extra && strstr(extra, "\"note\""), "%s checkpoint keeps the caller's data: %s", name,
          extra ? extra : "(none)");
    free(extra);
    /* The resumed run starts from the checkpoint, not from x0: give it zeros. */
    stopper second = {0};
    memset(resumed, 0, (size_t)p->nv * sizeof(float));
    problem p_zero = *p;
    p_zero.x0 = resumed;
    float *out = solver_test_alloc(p->nv);
    CHECK_OK(run(&p_zero, w, &saved, &second, out));
    CHECK_MSG(second.last_iteration == ITERATIONS, "%s resumed run ended at %d", name,
          second.last_iteration);
    CHECK_MSG(memcmp(out, full, (size_t)p->nv * sizeof(float)) == 0,
          "%s: resumed after %d is bit-identical to the uninterrupted run (max rel diff %g)",
          name, STOP, solver_test_max_rel_diff(out, full, p->nv));

    /* Another solver's checkpoint is refused by name. */
    if (w == RUN_SIRT) {
        CHECK_FAILS(run(p, RUN_CGLS, &saved, &second, out), CBCT_ERR_ARG, "CGLS");
    }
    cbct_solver_state_free(&saved);
    cbct_free(full);
    cbct_free(resumed);
    cbct_free(out);
}

static void write_bytes(const char *path, const unsigned char *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    CHECK_MSG(f && fwrite(data, 1, n, f) == n, "writing %s", path);
    fclose(f);
}

static void check_corrupt_files(const char *good, const char *bad)
{
    FILE *f = fopen(good, "rb");
    CHECK_MSG(f != NULL, "open %s", good);
    unsigned char *bytes = malloc(1 << 20);
    size_t n = fread(bytes, 1, 1 << 20, f);
    fclose(f);
    CHECK_MSG(n > 100 && n < (1 << 20), "checkpoint of %zu bytes", n);
    cbct_solver_state st;

    bytes[n - 20] ^= 0x40; /* one bit in the last vector */
    write_bytes(bad, bytes, n);
    CHECK_FAILS(cbct_checkpoint_read(bad, &st, NULL), CBCT_ERR_FORMAT, "checksum");
    bytes[n - 20] ^= 0x40;

    write_bytes(bad, bytes, n / 2);
    CHECK_FAILS(cbct_checkpoint_read(bad, &st, NULL), CBCT_ERR_FORMAT, "truncated");

    write_bytes(bad, bytes, n); /* an intact copy reads */
    CHECK_OK(cbct_checkpoint_read(bad, &st, NULL));
    cbct_solver_state_free(&st);

    bytes[0] = 'X';
    write_bytes(bad, bytes, n);
    CHECK_FAILS(cbct_checkpoint_read(bad, &st, NULL), CBCT_ERR_FORMAT, "not a cbct");
    CHECK_FAILS(cbct_checkpoint_read("/nonexistent/ck", &st, NULL), CBCT_ERR_IO,
                     "/nonexistent/ck");
    free(bytes);
    unlink(bad);
}

/* A checkpoint of a 12^3 problem is refused for the 16^3 one. */
static void check_other_problem(const problem *p, const char *path)
{
    float small_x[12 * 12 * 12] = {0};
    cbct_solver_state st = {.solver = "SIRT", .iteration = 2};
    CHECK_OK(cbct_solver_state_add_vector(&st, "x", small_x, 12 * 12 * 12));
    CHECK_OK(cbct_checkpoint_write(path, &st, NULL));
    cbct_solver_state back;
    CHECK_OK(cbct_checkpoint_read(path, &back, NULL));
    float *x = solver_test_alloc(p->nv);
    stopper s = {0};
    CHECK_FAILS(run(p, RUN_SIRT, &back, &s, x), CBCT_ERR_ARG, "another problem");
    cbct_solver_state_free(&back);
    cbct_free(x);
}

static void check_guards(const problem *p, float *y_copy, int64_t np)
{
    float *x = solver_test_alloc(p->nv);
    /* A step 2.5 / L overshoots: the iterates grow without bound. */
    cbct_pnp_opts pnp = cbct_pnp_defaults();
    pnp.lambda = 0;
    pnp.step_scale = 2.5;
    cbct_solver_opts so = {.max_iterations = 200, .tolerance = -1};
    CHECK_FAILS(cbct_solve_pnp(p->op, p->y, NULL, &pnp, &so, x), CBCT_ERR_NUMERIC,
                     "diverging");
    /* A NaN in the data reaches the iterate after one step. */
    memcpy(y_copy, p->y, (size_t)np * sizeof(float));
    y_copy[np / 2 + DET * DET / 2 + DET / 2] = NAN; /* a central ray of a middle view */
    memset(x, 0, (size_t)p->nv * sizeof(float));
    CHECK_FAILS(cbct_solve_sirt(p->op, y_copy, &so, x), CBCT_ERR_NUMERIC, "iteration 1");
    cbct_free(x);
}

int main(void)
{
    const char *dir = check_tmpdir();
    char path[1100], bad[1100];
    snprintf(path, sizeof path, "%s/state.ckpt", dir);
    snprintf(bad, sizeof bad, "%s/bad.ckpt", dir);

    cbct_geometry g;
    CHECK_OK(solver_test_geometry(N, VIEWS, DET, DET, &g));
    int64_t nv = (int64_t)N * N * N, np = (int64_t)VIEWS * DET * DET;
    cbct_operator *op = NULL;
    cbct_operator_opts oopts = {.num_operators = 2};
    CHECK_OK(cbct_operator_create(&g, &oopts, &op));
    cbct_drunet_config config = {.dims = 3, .in_channels = 1, .out_channels = 1,
                                 .channels = {4, 8, 16, 32}, .nb = 1};
    cbct_drunet *net = NULL;
    CHECK_OK(cbct_drunet_create_random(&config, 5, &net));
    float *truth = solver_test_alloc(nv), *y = solver_test_alloc(np);
    float *x0 = solver_test_alloc(nv), *y_copy = solver_test_alloc(np);
    CHECK_OK(cbct_phantom_walnut(&g.vol, 2, truth));
    CHECK_OK(cbct_operator_apply(op, truth, y));
    CHECK_OK(cbct_solver_initialize(op, y, CBCT_INIT_FDK, x0));
    problem p = {.op = op, .net = net, .y = y, .x0 = x0, .nv = nv};

    check_resume(&p, RUN_CGLS, path);
    check_corrupt_files(path, bad);
    check_resume(&p, RUN_SIRT, path);
    check_resume(&p, RUN_PNP, path);
    check_other_problem(&p, path);
    check_guards(&p, y_copy, np);
    unlink(path);

    cbct_free(truth);
    cbct_free(y);
    cbct_free(x0);
    cbct_free(y_copy);
    cbct_drunet_destroy(net);
    cbct_operator_destroy(op);
    cbct_geometry_destroy(&g);
    CHECK_MSG(cbct_mem_current() == 0, "no tracked memory left (%zu bytes)", cbct_mem_current());
    return check_summary("test_solver_checkpoint");
}
