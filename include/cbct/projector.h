/* Matched cone-beam projector pair: ray-driven Joseph forward projection A
 * and its exact adjoint A^T (same weights, transposed), on the CPU with
 * OpenMP. Plan / execute / destroy.
 *
 * Units: volumes in 1/mm (linear attenuation), projections are line
 * integrals (dimensionless): A sums value * path length in mm.
 *
 * Work can be restricted to a block of views and to a z-slab of the volume,
 * so that callers (the chunked drivers, later the MPI volume split) never
 * need the whole problem in memory. A on a slab gives the part of each line
 * integral that comes from the slab's voxels; summing over slabs gives A.
 *
 * Results are bit-identical for any number of threads. */
#ifndef CBCT_PROJECTOR_H
#define CBCT_PROJECTOR_H

#include "cbct/geometry.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    CBCT_KERNEL_FAST = 0,    /* optimised CPU kernel, SIMD where available (default) */
    CBCT_KERNEL_REFERENCE,   /* plain loops in double precision, for tests */
    CBCT_KERNEL_FAST_SCALAR  /* the fast kernel without SIMD: same bits as FAST */
} cbct_kernel;

typedef struct cbct_projector_opts {
    cbct_kernel kernel;
} cbct_projector_opts;

typedef struct cbct_projector cbct_projector;

/* Validates and copies the geometry; precomputes per-view ray data. */
cbct_status cbct_projector_create(const cbct_geometry *g, const cbct_projector_opts *opts,
                                  cbct_projector **out);
void cbct_projector_destroy(cbct_projector *p);
const cbct_geometry *cbct_projector_geometry(const cbct_projector *p);

/* A block: views [view0, view0 + n_views) and volume z-slab [z0, z0 + nz)
 * whose data is `slab` (nz * ny * nx floats, x fastest). */
typedef struct cbct_block {
    int64_t view0, n_views;
    int64_t z0, nz;
} cbct_block;

/* Whole problem: all views, all slices. */
cbct_block cbct_block_all(const cbct_geometry *g);

/* proj (n_views x rows x cols) = A_block slab, or += when `accumulate`. */
cbct_status cbct_project_block(cbct_projector *p, cbct_block b, const float *slab, float *proj,
                               int accumulate);
/* slab = A_block^T proj, or += when `accumulate`. */
cbct_status cbct_backproject_block(cbct_projector *p, cbct_block b, const float *proj,
                                   float *slab, int accumulate);

/* Whole-volume conveniences. */
cbct_status cbct_project(cbct_projector *p, const float *vol, float *proj);
cbct_status cbct_backproject(cbct_projector *p, const float *proj, float *vol);

/* Number of voxel-ray updates (nx * ny * nz * n_views) of a block, the unit
 * of the GUPS figures in the benchmarks. */
double cbct_block_updates(const cbct_geometry *g, cbct_block b);

#ifdef __cplusplus
}
#endif
#endif
