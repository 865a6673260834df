/* Issue 5's PSNR ordering on the head CT of the shared data
 * ($CBCT_SHARED_DATA/vtk_headsq.mha), averaged down 2x per axis to 46 x 32 x
 * 32 voxels so that the test takes seconds: 50 simulated cone-beam views,
 * without noise and with Poisson noise at 10^4 photons per pixel.
 * PSNR(PnP) > PSNR(pseudo-inverse) + 1 dB > PSNR(FDK) + 2 dB, with the
 * pseudo-inverse and PnP of configs/head_ct.yml: CGLS from zero stopped by
 * the discrepancy principle (tau 1; on noise-free data it runs its 50
 * iterations), clamped >= 0; PnP in the normalized mode (lambda 0.1, sigma
 * 0.03) with models/drunet3d_small.safetensors, clip [0, 0.08] / mm.
 * Without the data file it is skipped (exit 77). */
#include <libgen.h>
#include <unistd.h>

#include "cbct/io.h"
#include "test_solver_util.h"

enum { VIEWS = 50, DOWN = 2, PNP_ITERATIONS = 10, SKIP = 77 };
#define VALUE_SCALE 2e-5 /* raw values up to 3926 -> up to 0.079 / mm */
#define PHOTONS 1e4
#define CLIP_HI 0.08 /* / mm, above the head's largest value */

/* splitmix64 and Poisson counts, as `cbct recon` simulates them. */
static double uniform(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return ((double)(z >> 11) + 0.5) / 9007199254740992.0;
}

static double poisson(double mean, uint64_t *state)
{
    if (mean < 30.0) { /* Knuth; the normal approximation above */
        double limit = exp(-mean), p = 1.0;
        int k = -1;
        do {
            k++;
            p *= uniform(state);
        } while (p > limit);
        return k;
    }
    double g = sqrt(-2.0 * log(uniform(state))) * cos(2 * M_PI * uniform(state));
    double k = floor(mean + sqrt(mean) * g + 0.5);
    return k > 0 ? k : 0;
}

/* The head in 1/mm, averaged over DOWN^3 blocks. */
static void downsample(const cbct_array *raw, cbct_array *out)
{
    const int64_t *s = raw->shape;
    CHECK_OK(cbct_array_zeros(out, s[0] / DOWN, s[1] / DOWN, s[2] / DOWN, "head CT"));
    const int64_t *o = out->shape;
    for (int64_t z = 0; z < o[0]; z++)
        for (int64_t y = 0; y < o[1]; y++)
            for (int64_t x = 0; x < o[2]; x++) {
                double sum = 0;
                for (int dz = 0; dz < DOWN; dz++)
                    for (int dy = 0; dy < DOWN; dy++)
                        for (int dx = 0; dx < DOWN; dx++)
                            sum += raw->data[((z * DOWN + dz) * s[1] + y * DOWN + dy) * s[2] +
                                             x * DOWN + dx];
                out->data[(z * o[1] + y) * o[2] + x] =
                    (float)(sum / (DOWN * DOWN * DOWN) * VALUE_SCALE);
            }
    for (int i = 0; i < 3; i++)
        out->spacing[i] = raw->spacing[i] * DOWN;
}

/* The circular scan `cbct recon` fits to a volume (recon_dataset.c):
 * detector 1.25 times the volume in pixels of 1.6 voxels, magnification 2. */
static void fit_geometry(const cbct_array *v, cbct_geometry *g)
{
    cbct_circular c = {.n_views = VIEWS, .arc_rad = 2 * M_PI, .sod_mm = 400, .sdd_mm = 800,
                       .det_rows = (int64_t)ceil(1.25 * (double)v->shape[0]),
                       .det_cols = (int64_t)ceil(1.25 * (double)v->shape[2]),
                       .pixel_mm = {1.6 * v->spacing[2], 1.6 * v->spacing[2]}};
    CHECK_OK(cbct_geometry_circular(&c, g));
    for (int i = 0; i < 3; i++) {
        g->vol.shape[i] = v->shape[i];
        g->vol.voxel_size[i] = v->spacing[i];
        g->vol.origin[i] = 0;
    }
}

static double psnr(const cbct_array *truth, float *x)
{
    cbct_array b = *truth;
    b.data = x;
    cbct_metrics m = {0};
    CHECK_OK(cbct_compare(truth, &b, NULL, 0.0, &m));
    return m.psnr_db;
}

/* FDK, pseudo-inverse and PnP on one simulated scan; checks the ordering. */
static void run(const cbct_array *truth, const cbct_geometry *g, cbct_drunet *net,
                double photons)
{
    int64_t nv = cbct_array_numel(truth), np = g->n_views * g->det_rows * g->det_cols;
    float *y = solver_test_alloc(np), *x = solver_test_alloc(nv);
    cbct_operator *op = NULL;
    CHECK_OK(cbct_operator_create(g, &(cbct_operator_opts){.num_operators = 2}, &op));
    CHECK_OK(cbct_operator_apply(op, truth->data, y));
    uint64_t seed = 1;
    for (int64_t i = 0; photons > 0 && i < np; i++) {
        double counts = poisson(photons * exp(-(double)y[i]), &seed);
        y[i] = (float)-log((counts > 1 ? counts : 1) / photons);
    }
    double t0 = cbct_seconds();
    CHECK_OK(cbct_solver_initialize(op, y, CBCT_INIT_FDK, x));
    double fdk = psnr(truth, x);

    cbct_pinv_opts pinv = cbct_pinv_defaults();
    pinv.discrepancy = 1.0;
    pinv.photons = photons > 0 ? photons : INFINITY;
    CHECK_OK(cbct_solver_initialize_opts(op, y, CBCT_INIT_PSEUDO_INVERSE, &pinv, x));
    double pinv_db = psnr(truth, x);
    /* the reference's pseudo-inverse (50 iterations), for the record */
    float *x_ref = solver_test_alloc(nv);
    CHECK_OK(cbct_solver_initialize(op, y, CBCT_INIT_PSEUDO_INVERSE, x_ref));
    double ref_db = psnr(truth, x_ref);
    cbct_free(x_ref);

    cbct_pnp_opts pnp = cbct_pnp_defaults();
    pnp.lambda_mode = CBCT_PNP_LAMBDA_NORMALIZED;
    pnp.lambda = 0.1;
    pnp.clip = 1;
    pnp.clip_lo = 0;
    pnp.clip_hi = CLIP_HI;
    cbct_solver_opts popts = {.max_iterations = PNP_ITERATIONS, .tolerance = -1};
    CHECK_OK(cbct_solve_pnp(op, y, net, &pnp, &popts, x));
    double pnp_db = psnr(truth, x);
    printf("head %lld x %lld x %lld, %s: FDK %.2f dB < pseudo-inverse (discrepancy) %.2f dB "
           "(50-iteration CGLS %.2f dB) < PnP %d iterations %.2f dB (%.1f s)\n",
           (long long)truth->shape[0], (long long)truth->shape[1], (long long)truth->shape[2],
           photons > 0 ? "10^4 photons" : "no noise", fdk, pinv_db, ref_db, PNP_ITERATIONS,
           pnp_db, cbct_seconds() - t0);
    CHECK(pinv_db > fdk + 1.0);
    CHECK(pnp_db > pinv_db + 1.0);
    cbct_operator_destroy(op);
    cbct_free(y);
    cbct_free(x);
}

int main(void)
{
    const char *shared = getenv("CBCT_SHARED_DATA");
    char path[4096], model[4096], here[4096];
    snprintf(path, sizeof path, "%s/vtk_headsq.mha", shared && *shared ? shared : "../shared/data");
    if (access(path, R_OK) != 0) {
        printf("SKIP: %s not found (set CBCT_SHARED_DATA to the folder of vtk_headsq.mha)\n",
               path);
        return SKIP;
    }
    const char *source = getenv("CBCT_SOURCE_DIR");
    snprintf(here, sizeof here, "%s", __FILE__);
    if (source && *source)
        snprintf(model, sizeof model, "%s/models/drunet3d_small.safetensors", source);
    else
        snprintf(model, sizeof model, "%s/../models/drunet3d_small.safetensors", dirname(here));
    cbct_array raw = {0}, truth = {0};
    CHECK_OK(cbct_volume_read(path, &raw));
    downsample(&raw, &truth);
    cbct_array_destroy(&raw);
    cbct_geometry g;
    memset(&g, 0, sizeof g);
    fit_geometry(&truth, &g);
    cbct_drunet *net = NULL;
    CHECK_OK(cbct_drunet_load(model, &net));
    run(&truth, &g, net, 0.0);
    run(&truth, &g, net, PHOTONS);
    cbct_drunet_destroy(net);
    cbct_array_destroy(&truth);
    cbct_geometry_destroy(&g);
    CHECK(cbct_mem_current() == 0);
    return check_summary("test_solver_head");
}
