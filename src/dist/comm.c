/* The communicator: MPI_COMM_WORLD when the library has MPI (CBCT_HAVE_MPI)
 * and the process was started by an MPI launcher, else one rank where every
 * collective is a no-op. Every collective starts with agree(): one small
 * all-reduce that tells every rank whether some rank has failed, so that a
 * failing rank (cbct_comm_fail) never leaves the others waiting. */
#include <stdlib.h>
#include <string.h>

#include "dist/comm_internal.h"

/* Launchers say so in the environment: Open MPI's mpirun, PMIx / PMI
 * (MPICH, SLURM's srun with --mpi=pmix). */
static int started_by_launcher(void)
{
    static const char *const vars[] = {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK",
                                       "PMI_SIZE", NULL};
    for (int i = 0; vars[i]; i++)
        if (getenv(vars[i]))
            return 1;
    return 0;
}

cbct_status cbct_comm_create_single(cbct_comm **out)
{
    cbct_comm *c = calloc(1, sizeof *c);
    if (!c)
        return cbct_error(CBCT_ERR_MEMORY, "no memory for a communicator");
    c->size = 1;
    snprintf(c->library, sizeof c->library, "none");
    *out = c;
    return CBCT_OK;
}

cbct_status cbct_comm_create(cbct_comm **out)
{
    *out = NULL;
    if (!started_by_launcher())
        return cbct_comm_create_single(out);
#ifdef CBCT_HAVE_MPI
    return comm_mpi_create(out);
#else
    cbct_log(CBCT_LOG_WARN, "started by an MPI launcher, but this cbct was built without MPI "
                            "(-DCBCT_MPI=OFF): every process runs alone");
    return cbct_comm_create_single(out);
#endif
}

void cbct_comm_destroy(cbct_comm *c)
{
    if (!c)
        return;
#ifdef CBCT_HAVE_MPI
    comm_mpi_destroy(c);
#endif
    free(c);
}

int cbct_comm_rank(const cbct_comm *c) { return c ? c->rank : 0; }
int cbct_comm_size(const cbct_comm *c) { return c ? c->size : 1; }
int cbct_comm_is_mpi(const cbct_comm *c) { return c ? c->mpi : 0; }
const char *cbct_comm_library_version(const cbct_comm *c) { return c ? c->library : "none"; }
double cbct_comm_seconds(const cbct_comm *c) { return c ? c->seconds : 0.0; }
uint64_t cbct_comm_bytes(const cbct_comm *c) { return c ? c->bytes : 0; }

/* Single rank: nothing to agree on, nothing to move. */
static int alone(const cbct_comm *c)
{
    return !c || !c->mpi;
}

cbct_status cbct_comm_fail(cbct_comm *c, cbct_status s)
{
    if (alone(c) || s == CBCT_OK)
        return s;
#ifdef CBCT_HAVE_MPI
    comm_mpi_agree(c, s);
#endif
    return s;
}

cbct_status cbct_comm_finish(cbct_comm *c, cbct_status local)
{
    if (alone(c))
        return local;
#ifdef CBCT_HAVE_MPI
    return comm_mpi_agree(c, local);
#else
    return local;
#endif
}

cbct_status cbct_comm_sum_f32(cbct_comm *c, float *data, int64_t n)
{
    if (alone(c))
        return CBCT_OK;
#ifdef CBCT_HAVE_MPI
    return comm_mpi_sum(c, data, n, 0);
#else
    return CBCT_OK;
#endif
}

cbct_status cbct_comm_sum_f64(cbct_comm *c, double *data, int64_t n)
{
    if (alone(c))
        return CBCT_OK;
#ifdef CBCT_HAVE_MPI
    return comm_mpi_sum(c, data, n, 1);
#else
    return CBCT_OK;
#endif
}

cbct_status cbct_comm_min_max_f32(cbct_comm *c, float *lo, float *hi)
{
    if (alone(c))
        return CBCT_OK;
#ifdef CBCT_HAVE_MPI
    return comm_mpi_min_max(c, lo, hi);
#else
    return CBCT_OK;
#endif
}

cbct_status cbct_comm_max_u64(cbct_comm *c, uint64_t *value)
{
    if (alone(c))
        return CBCT_OK;
#ifdef CBCT_HAVE_MPI
    return comm_mpi_max_u64(c, value);
#else
    return CBCT_OK;
#endif
}

cbct_status cbct_comm_allgather_f64(cbct_comm *c, const double *mine, int64_t n, double *all)
{
    if (alone(c)) {
        memmove(all, mine, (size_t)n * sizeof(double));
        return CBCT_OK;
    }
#ifdef CBCT_HAVE_MPI
    return comm_mpi_allgather_f64(c, mine, n, all);
#else
    return CBCT_OK;
#endif
}

cbct_status cbct_comm_fetch_rows_f32(cbct_comm *c, const float *own, int64_t z0, int64_t nz,
                                     int64_t row_numel, int64_t need0, int64_t need1,
                                     float *dst)
{
    if (!alone(c)) {
#ifdef CBCT_HAVE_MPI
        return comm_mpi_fetch_rows(c, own, z0, nz, row_numel, need0, need1, dst);
#endif
    }
    if (need1 <= need0)
        return CBCT_OK;
    if (need0 < z0 || need1 > z0 + nz)
        return cbct_error(CBCT_ERR_ARG, "rows [%lld, %lld) asked, but only [%lld, %lld) exist",
                          (long long)need0, (long long)need1, (long long)z0,
                          (long long)(z0 + nz));
    memmove(dst, own + (need0 - z0) * row_numel,
            (size_t)(need1 - need0) * (size_t)row_numel * sizeof(float));
    return CBCT_OK;
}
