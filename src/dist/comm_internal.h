/* The communicator's fields and the MPI half of it (src/dist/comm_mpi.c,
 * compiled to nothing without CBCT_HAVE_MPI). */
#ifndef CBCT_DIST_COMM_INTERNAL_H
#define CBCT_DIST_COMM_INTERNAL_H

#include <stdio.h>

#include "cbct/dist.h"

#ifdef CBCT_HAVE_MPI
#include <mpi.h>
#endif

struct cbct_comm {
    int rank, size;
    int mpi;            /* MPI in use */
    int initialised_mpi; /* MPI_Init was ours: MPI_Finalize in destroy */
    double seconds;     /* inside collectives */
    uint64_t bytes;     /* payload sent */
    char library[128];  /* MPI library version, first line */
    /* Once the ranks have agreed that one failed, the communicator is
     * spent: every later collective returns that failure at once (the
     * ranks left the lock-step at different places). */
    cbct_status failed;
    char failed_message[1024];
#ifdef CBCT_HAVE_MPI
    MPI_Comm world;
#endif
};

#ifdef CBCT_HAVE_MPI
cbct_status comm_mpi_create(cbct_comm **out);
void comm_mpi_destroy(cbct_comm *c);
/* The failure agreement every collective starts with (see comm.c). */
cbct_status comm_mpi_agree(cbct_comm *c, cbct_status local);
cbct_status comm_mpi_sum(cbct_comm *c, void *data, int64_t n, int is_double);
cbct_status comm_mpi_min_max(cbct_comm *c, float *lo, float *hi);
cbct_status comm_mpi_max_u64(cbct_comm *c, uint64_t *value);
cbct_status comm_mpi_allgather_f64(cbct_comm *c, const double *mine, int64_t n, double *all);
cbct_status comm_mpi_fetch_rows(cbct_comm *c, const float *own, int64_t z0, int64_t nz,
                                int64_t row_numel, int64_t need0, int64_t need1, float *dst);
#endif

#endif
