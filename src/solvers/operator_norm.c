/* L = ||A^T A|| by power iteration, remembered in the operator and in a
 * small cache file keyed by a hash of the geometry, because for large
 * problems it costs tens of projector passes and the geometry rarely
 * changes between runs. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "solvers/solver_internal.h"

#define DEFAULT_MAX_ITERATIONS 100
#define DEFAULT_TOLERANCE 1e-3

uint64_t cbct_geometry_hash(const cbct_geometry *g)
{
    uint64_t h = CBCT_FNV1A_OFFSET;
    h = cbct_fnv1a(h, g->vol.shape, sizeof g->vol.shape);
    h = cbct_fnv1a(h, g->vol.voxel_size, sizeof g->vol.voxel_size);
    h = cbct_fnv1a(h, g->vol.origin, sizeof g->vol.origin);
    h = cbct_fnv1a(h, &g->det_rows, sizeof g->det_rows);
    h = cbct_fnv1a(h, &g->det_cols, sizeof g->det_cols);
    h = cbct_fnv1a(h, &g->n_views, sizeof g->n_views);
    for (int64_t v = 0; v < g->n_views; v++)
        h = cbct_fnv1a(h, &g->views[v], sizeof g->views[v]);
    return h;
}

static void cache_path(const char *dir, const cbct_geometry *g, char *buf, size_t len)
{
    snprintf(buf, len, "%s/opnorm_%016llx.txt", dir, (unsigned long long)cbct_geometry_hash(g));
}

/* A missing or unreadable cache file is not an error: L is recomputed. */
static int cache_read(const char *path, double *L)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    double value = 0.0;
    int ok = fscanf(f, "%lf", &value) == 1 && isfinite(value) && value > 0.0;
    fclose(f);
    if (ok)
        *L = value;
    return ok;
}

static cbct_status cache_write(const char *path, double L, int iterations)
{
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f)
        return cbct_error(CBCT_ERR_IO, "cannot write operator norm cache '%s': %s", tmp,
                          strerror(errno));
    int bad = fprintf(f, "%.17g\n# ||A^T A|| (mm^2), %d power iterations\n", L, iterations) < 0;
    bad |= fclose(f) != 0;
    if (bad || rename(tmp, path) != 0) {
        remove(tmp);
        return cbct_error(CBCT_ERR_IO, "cannot write operator norm cache '%s'", path);
    }
    return CBCT_OK;
}

static cbct_status power_iteration(cbct_operator *op, int max_iterations, double tolerance,
                                   double *L, int *iterations)
{
    int64_t n = cbct_operator_volume_numel(op);
    float *x = cbct_alloc((size_t)n * sizeof(float), "power iteration x");
    float *ax = cbct_alloc((size_t)n * sizeof(float), "power iteration A^T A x");
    float *scratch = cbct_alloc((size_t)cbct_operator_scratch_numel(op) * sizeof(float),
                                "power iteration projections");
    cbct_status s = (x && ax && scratch) ? CBCT_OK : CBCT_ERR_MEMORY;
    /* All ones: A^T A has non-negative entries, so its top eigenvector is
     * non-negative and never orthogonal to this start. */
    float start = (float)(1.0 / sqrt((double)cbct_operator_global_volume_numel(op)));
    for (int64_t i = 0; s == CBCT_OK && i < n; i++)
        x[i] = start;
    double estimate = 0.0;
    int k = 0;
    while (s == CBCT_OK && k < max_iterations) {
        s = cbct_operator_gradient(op, x, NULL, ax, scratch, NULL);
        if (s)
            break;
        k++;
        /* Rayleigh quotient of the unit vector x: converges twice as fast
         * as ||A^T A x|| for a symmetric matrix. */
        double sums[2] = {cbct_vec_dot(x, ax, n), cbct_vec_dot(ax, ax, n)};
        s = cbct_operator_sum(op, CBCT_SPACE_VOLUME, sums, 2);
        if (s)
            break;
        double next = sums[0];
        double norm = sqrt(sums[1]);
        if (!(norm > 0.0) || !isfinite(norm)) {
            s = cbct_error(CBCT_ERR_NUMERIC,
                           "power iteration: A^T A x has norm %g (empty operator?)", norm);
            break;
        }
        double change = fabs(next - estimate) / next;
        estimate = next;
#pragma omp parallel for schedule(static) if (n > CBCT_SOLVER_PAR_MIN)
        for (int64_t i = 0; i < n; i++)
            x[i] = (float)(ax[i] / norm);
        if (change < tolerance)
            break;
    }
    cbct_free(x);
    cbct_free(ax);
    cbct_free(scratch);
    if (s == CBCT_OK) {
        *L = estimate;
        *iterations = k;
    }
    return s;
}

cbct_status cbct_operator_norm(cbct_operator *op, const cbct_norm_opts *opts, double *L,
                               int *iterations)
{
    if (!op || !L)
        return cbct_error(CBCT_ERR_ARG, "cbct_operator_norm: NULL argument");
    cbct_norm_opts o = {0};
    if (opts)
        o = *opts;
    int max_iterations = o.max_iterations > 0 ? o.max_iterations : DEFAULT_MAX_ITERATIONS;
    double tolerance = o.tolerance > 0.0 ? o.tolerance : DEFAULT_TOLERANCE;
    int used = 0;
    char path[4096] = "";
    /* Several ranks would race on the file, and a rank that found it would
     * skip the collectives the others run: the cache is one process's. */
    if (o.cache_dir && *o.cache_dir && op->n_ranks == 1)
        cache_path(o.cache_dir, &op->geom, path, sizeof path);
    if (op->norm > 0.0) {
        *L = op->norm;
    } else if (path[0] && cache_read(path, &op->norm)) {
        *L = op->norm;
    } else {
        cbct_status s = power_iteration(op, max_iterations, tolerance, &op->norm, &used);
        if (s)
            return s;
        *L = op->norm;
        if (iterations) /* also when the cache file then fails */
            *iterations = used;
        if (path[0]) {
            s = cache_write(path, op->norm, used);
            if (s)
                return s;
        }
    }
    if (iterations)
        *iterations = used;
    return CBCT_OK;
}
