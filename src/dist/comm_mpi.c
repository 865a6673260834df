/* The MPI half of the communicator: initialisation, the failure agreement
 * and the collectives. Compiled to nothing without CBCT_HAVE_MPI. */
#include "dist/comm_internal.h"

#ifdef CBCT_HAVE_MPI
#include <stdlib.h>
#include <string.h>

/* MPI counts are int: large arrays go in pieces of this many elements. */
#define MAX_CHUNK ((int64_t)1 << 30)
/* Room for the failing rank's message (cbct's messages are shorter). */
#define MESSAGE_BYTES 1024

static cbct_status mpi_failed(int code, const char *what)
{
    char text[MPI_MAX_ERROR_STRING];
    int len = 0;
    MPI_Error_string(code, text, &len);
    return cbct_error(CBCT_ERR_IO, "MPI: %s failed: %s", what, text);
}

cbct_status comm_mpi_create(cbct_comm **out)
{
    cbct_comm *c = calloc(1, sizeof *c);
    if (!c)
        return cbct_error(CBCT_ERR_MEMORY, "no memory for a communicator");
    int initialised = 0;
    MPI_Initialized(&initialised);
    if (!initialised) {
        int provided = 0;
        /* Only the main thread calls MPI (OpenMP regions never do). */
        int rc = MPI_Init_thread(NULL, NULL, MPI_THREAD_FUNNELED, &provided);
        if (rc != MPI_SUCCESS) {
            free(c);
            return mpi_failed(rc, "MPI_Init_thread");
        }
        c->initialised_mpi = 1;
    }
    /* Errors come back as codes, so that a failure is reported, not fatal. */
    MPI_Comm_dup(MPI_COMM_WORLD, &c->world);
    MPI_Comm_set_errhandler(c->world, MPI_ERRORS_RETURN);
    MPI_Comm_rank(c->world, &c->rank);
    MPI_Comm_size(c->world, &c->size);
    c->mpi = 1;
    char version[MPI_MAX_LIBRARY_VERSION_STRING];
    int len = 0;
    MPI_Get_library_version(version, &len);
    version[strcspn(version, "\n,")] = '\0';
    size_t keep = strnlen(version, sizeof c->library - 1); /* the start is enough */
    memcpy(c->library, version, keep);
    c->library[keep] = '\0';
    *out = c;
    return CBCT_OK;
}

void comm_mpi_destroy(cbct_comm *c)
{
    if (!c->mpi)
        return;
    MPI_Comm_free(&c->world);
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (c->initialised_mpi && !finalized)
        MPI_Finalize();
}

cbct_status comm_mpi_agree(cbct_comm *c, cbct_status local)
{
    if (c->failed)
        return cbct_error(c->failed, "%s", c->failed_message);
    double t0 = cbct_seconds();
    /* The lowest failing rank, or size when none failed: one all-reduce. */
    int mine = local != CBCT_OK ? c->rank : c->size, lowest = c->size;
    int rc = MPI_Allreduce(&mine, &lowest, 1, MPI_INT, MPI_MIN, c->world);
    if (rc != MPI_SUCCESS)
        return mpi_failed(rc, "the failure agreement (MPI_Allreduce)");
    cbct_status agreed = CBCT_OK;
    if (lowest < c->size) {
        struct {
            int status;
            char message[MESSAGE_BYTES];
        } note;
        memset(&note, 0, sizeof note);
        if (c->rank == lowest) {
            note.status = (int)local;
            snprintf(note.message, sizeof note.message, "%s", cbct_last_error());
        }
        rc = MPI_Bcast(&note, (int)sizeof note, MPI_BYTE, lowest, c->world);
        if (rc != MPI_SUCCESS)
            return mpi_failed(rc, "passing on a failure (MPI_Bcast)");
        agreed = (cbct_status)note.status;
        cbct_error(agreed, "rank %d: %s", lowest, note.message);
        c->failed = agreed;
        snprintf(c->failed_message, sizeof c->failed_message, "%s", cbct_last_error());
    }
    c->seconds += cbct_seconds() - t0;
    return agreed;
}

cbct_status comm_mpi_sum(cbct_comm *c, void *data, int64_t n, int is_double)
{
    cbct_status s = comm_mpi_agree(c, CBCT_OK);
    if (s)
        return s;
    double t0 = cbct_seconds();
    size_t element = is_double ? sizeof(double) : sizeof(float);
    MPI_Datatype type = is_double ? MPI_DOUBLE : MPI_FLOAT;
    for (int64_t done = 0; done < n; done += MAX_CHUNK) {
        int count = (int)(n - done < MAX_CHUNK ? n - done : MAX_CHUNK);
        int rc = MPI_Allreduce(MPI_IN_PLACE, (char *)data + (size_t)done * element, count, type,
                               MPI_SUM, c->world);
        if (rc != MPI_SUCCESS)
            return mpi_failed(rc, "a sum over ranks (MPI_Allreduce)");
    }
    c->bytes += (uint64_t)n * element;
    c->seconds += cbct_seconds() - t0;
    return CBCT_OK;
}

cbct_status comm_mpi_min_max(cbct_comm *c, float *lo, float *hi)
{
    cbct_status s = comm_mpi_agree(c, CBCT_OK);
    if (s)
        return s;
    double t0 = cbct_seconds();
    float v[2] = {-*lo, *hi}; /* max of -lo is -min of lo: one reduction */
    int rc = MPI_Allreduce(MPI_IN_PLACE, v, 2, MPI_FLOAT, MPI_MAX, c->world);
    if (rc != MPI_SUCCESS)
        return mpi_failed(rc, "a min/max over ranks (MPI_Allreduce)");
    *lo = -v[0];
    *hi = v[1];
    c->bytes += sizeof v;
    c->seconds += cbct_seconds() - t0;
    return CBCT_OK;
}

cbct_status comm_mpi_max_u64(cbct_comm *c, uint64_t *value)
{
    cbct_status s = comm_mpi_agree(c, CBCT_OK);
    if (s)
        return s;
    int rc = MPI_Allreduce(MPI_IN_PLACE, value, 1, MPI_UINT64_T, MPI_MAX, c->world);
    return rc == MPI_SUCCESS ? CBCT_OK : mpi_failed(rc, "a maximum over ranks (MPI_Allreduce)");
}

cbct_status comm_mpi_allgather_f64(cbct_comm *c, const double *mine, int64_t n, double *all)
{
    cbct_status s = comm_mpi_agree(c, CBCT_OK);
    if (s)
        return s;
    if (n > MAX_CHUNK)
        return cbct_error(CBCT_ERR_ARG, "MPI: gathering %lld values per rank: too many",
                          (long long)n);
    double t0 = cbct_seconds();
    int rc = MPI_Allgather(mine, (int)n, MPI_DOUBLE, all, (int)n, MPI_DOUBLE, c->world);
    if (rc != MPI_SUCCESS)
        return mpi_failed(rc, "gathering values (MPI_Allgather)");
    c->bytes += (uint64_t)n * sizeof(double);
    c->seconds += cbct_seconds() - t0;
    return CBCT_OK;
}

/* Rows of [a0, a1) and [b0, b1) in common. */
static int64_t common_rows(int64_t a0, int64_t a1, int64_t b0, int64_t b1, int64_t *start)
{
    *start = a0 > b0 ? a0 : b0;
    int64_t end = a1 < b1 ? a1 : b1;
    return end > *start ? end - *start : 0;
}

/* Every rank's (z0, z1, need0, need1), gathered. */
static cbct_status gather_ranges(cbct_comm *c, int64_t z0, int64_t nz, int64_t need0,
                                 int64_t need1, int64_t *ranges)
{
    int64_t mine[4] = {z0, z0 + nz, need0, need1 > need0 ? need1 : need0};
    int rc = MPI_Allgather(mine, 4, MPI_INT64_T, ranges, 4, MPI_INT64_T, c->world);
    return rc == MPI_SUCCESS ? CBCT_OK : mpi_failed(rc, "gathering slab ranges");
}

/* Every rank checks every rank's request the same way, so that all of
 * them stop (or go on) together. */
static cbct_status check_coverage(const cbct_comm *c, const int64_t *ranges)
{
    for (int r = 0; r < c->size; r++) {
        int64_t covered = 0, start;
        for (int q = 0; q < c->size; q++)
            covered += common_rows(ranges[4 * q], ranges[4 * q + 1], ranges[4 * r + 2],
                                   ranges[4 * r + 3], &start);
        if (covered != ranges[4 * r + 3] - ranges[4 * r + 2])
            return cbct_error(CBCT_ERR_ARG,
                              "rank %d asks for rows [%lld, %lld) that the slabs of the ranks "
                              "do not cover exactly once", r, (long long)ranges[4 * r + 2],
                              (long long)ranges[4 * r + 3]);
    }
    return CBCT_OK;
}

cbct_status comm_mpi_fetch_rows(cbct_comm *c, const float *own, int64_t z0, int64_t nz,
                                int64_t row_numel, int64_t need0, int64_t need1, float *dst)
{
    cbct_status s = comm_mpi_agree(c, CBCT_OK);
    if (s)
        return s;
    if (row_numel > INT32_MAX)
        return cbct_error(CBCT_ERR_ARG, "MPI: rows of %lld values are too long",
                          (long long)row_numel);
    double t0 = cbct_seconds();
    int p = c->size;
    int64_t *ranges = malloc((size_t)p * 4 * sizeof *ranges);
    int *counts = malloc((size_t)p * 4 * sizeof *counts);
    if (!ranges || !counts) {
        free(ranges);
        free(counts);
        return cbct_error(CBCT_ERR_MEMORY, "MPI: no memory for the row exchange");
    }
    int *send_n = counts, *send_at = counts + p, *recv_n = counts + 2 * p,
        *recv_at = counts + 3 * p;
    s = gather_ranges(c, z0, nz, need0, need1, ranges);
    if (!s)
        s = check_coverage(c, ranges);
    MPI_Datatype row;
    int have_type = 0;
    if (!s) {
        int64_t start;
        for (int q = 0; q < p; q++) {
            /* to q: my rows that q needs; from q: q's rows that I need */
            send_n[q] = (int)common_rows(z0, z0 + nz, ranges[4 * q + 2], ranges[4 * q + 3],
                                         &start);
            send_at[q] = (int)(start - z0);
            recv_n[q] = (int)common_rows(ranges[4 * q], ranges[4 * q + 1], need0, need1, &start);
            recv_at[q] = (int)(start - need0);
            if (send_n[q] == 0)
                send_at[q] = 0;
            if (recv_n[q] == 0)
                recv_at[q] = 0;
            if (q != c->rank)
                c->bytes += (uint64_t)send_n[q] * (uint64_t)row_numel * sizeof(float);
        }
        int rc = MPI_Type_contiguous((int)row_numel, MPI_FLOAT, &row);
        if (rc == MPI_SUCCESS)
            rc = MPI_Type_commit(&row);
        have_type = rc == MPI_SUCCESS;
        if (rc == MPI_SUCCESS)
            rc = MPI_Alltoallv(own, send_n, send_at, row, dst, recv_n, recv_at, row, c->world);
        if (rc != MPI_SUCCESS)
            s = mpi_failed(rc, "exchanging volume rows (MPI_Alltoallv)");
    }
    if (have_type)
        MPI_Type_free(&row);
    free(ranges);
    free(counts);
    c->seconds += cbct_seconds() - t0;
    return s;
}

#else
/* ISO C wants at least one declaration in a translation unit. */
typedef int comm_mpi_unused;
#endif
