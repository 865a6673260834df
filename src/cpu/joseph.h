/* Ray set-up shared by the reference and the fast Joseph kernels, so that
 * both walk exactly the same samples with the same weights and the forward
 * projector and its adjoint are matched by construction.
 *
 * Everything here is in continuous voxel-index space (z, y, x order) of the
 * whole volume, also when a kernel sees only a z-slab of it: the arithmetic
 * of a sample does not depend on where the slab starts, so any split into
 * slabs (threads, memory chunks, MPI ranks) gives the same bits. A ray is sampled
 * at every integer index k of its dominant axis a (the axis it advances
 * along fastest), and each sample interpolates bilinearly in the other two
 * axes b < c, with zero outside the slab (Joseph's method). */
#ifndef CBCT_CPU_JOSEPH_H
#define CBCT_CPU_JOSEPH_H

#include <math.h>
#include <stdint.h>

#include "cbct/projector.h"

/* One view in index space of the full volume (z, y, x order). */
typedef struct joseph_view {
    double src[3];  /* source position (continuous voxel index) */
    double pix0[3]; /* centre of detector pixel (row 0, col 0) */
    double u[3];    /* step to the next column */
    double v[3];    /* step to the next row */
    double proj_matrix[3][4]; /* world (x, y, z, 1) -> (col w, row w, w) */
} joseph_view;

/* The part of the volume a kernel call sees: indices lo <= i < hi on each
 * axis (only z is ever restricted), data starting at slice lo[0]. */
typedef struct joseph_slab {
    int64_t lo[3], hi[3];
    int64_t stride[3];  /* ny * nx, nx, 1 (floats) */
    int64_t z_offset;   /* lo[0] * stride[0]: subtract from full-volume offsets */
    double voxel_mm[3]; /* dz, dy, dx */
} joseph_slab;

typedef struct joseph_ray {
    int axis_a, axis_b, axis_c; /* dominant axis, then the other two (b < c) */
    double fb0, db;             /* index along b at sample k: fb0 + k * db */
    double fc0, dc;             /* index along c at sample k: fc0 + k * dc */
    double step_mm;             /* path length represented by one sample */
    int64_t k_first, k_last;    /* samples that can have non-zero weight */
} joseph_ray;

/* Voxels; far above the rounding error of a float index (~1e-4 at 4096). */
#define JOSEPH_CLIP_MARGIN 1e-2

/* Interval of k where lo < f0 + k d < hi, intersected with [*k0, *k1]
 * (left empty, *k0 > *k1, when there is none). */
static inline void joseph_clip(double f0, double d, double lo, double hi, double *k0, double *k1)
{
    if (!(lo < hi)) { /* empty range (a one-slice slab has no interior) */
        *k0 = 1;
        *k1 = 0;
        return;
    }
    if (d == 0) {
        if (!(f0 > lo && f0 < hi)) {
            *k0 = 1;
            *k1 = 0;
        }
        return;
    }
    double t0 = (lo - f0) / d, t1 = (hi - f0) / d;
    if (t0 > t1) {
        double t = t0;
        t0 = t1;
        t1 = t;
    }
    if (t0 > *k0)
        *k0 = t0;
    if (t1 < *k1)
        *k1 = t1;
}

/* Sets up the ray from the source through pixel (row, col) for a slab.
 * Returns 0 when the ray misses the slab. */
static inline int joseph_ray_setup(const joseph_view *jv, const joseph_slab *slab, double row,
                                   double col, joseph_ray *ray)
{
    const double *src = jv->src;
    double dir[3];
    for (int i = 0; i < 3; i++)
        dir[i] = jv->pix0[i] + col * jv->u[i] + row * jv->v[i] - jv->src[i];
    int a = 0;
    for (int i = 1; i < 3; i++)
        if (fabs(dir[i]) > fabs(dir[a]))
            a = i;
    if (dir[a] == 0)
        return 0;
    int b = a == 0 ? 1 : 0;
    int c = a == 2 ? 1 : 2;
    double len_mm = 0;
    for (int i = 0; i < 3; i++) {
        double d_mm = dir[i] * slab->voxel_mm[i];
        len_mm += d_mm * d_mm;
    }
    ray->axis_a = a;
    ray->axis_b = b;
    ray->axis_c = c;
    ray->db = dir[b] / dir[a];
    ray->dc = dir[c] / dir[a];
    ray->fb0 = src[b] - src[a] * ray->db;
    ray->fc0 = src[c] - src[a] * ray->dc;
    ray->step_mm = sqrt(len_mm) / fabs(dir[a]);
    /* Bilinear support: a sample touches voxels only when lo - 1 < f < hi.
     * The interval is widened by JOSEPH_CLIP_MARGIN so that a sample whose
     * single-precision index falls just inside is never dropped (those just
     * outside have zero weight and are skipped by the bounds checks). */
    double k0 = (double)slab->lo[a], k1 = (double)(slab->hi[a] - 1);
    joseph_clip(ray->fb0, ray->db, (double)slab->lo[b] - 1 - JOSEPH_CLIP_MARGIN,
                (double)slab->hi[b] + JOSEPH_CLIP_MARGIN, &k0, &k1);
    joseph_clip(ray->fc0, ray->dc, (double)slab->lo[c] - 1 - JOSEPH_CLIP_MARGIN,
                (double)slab->hi[c] + JOSEPH_CLIP_MARGIN, &k0, &k1);
    if (k0 > k1)
        return 0;
    /* Round outward: a sample exactly on the support edge has zero weight,
     * so including it is harmless and excluding a real one is not. */
    ray->k_first = (int64_t)ceil(k0 - 1e-9);
    ray->k_last = (int64_t)floor(k1 + 1e-9);
    if (ray->k_first < slab->lo[a])
        ray->k_first = slab->lo[a];
    if (ray->k_last > slab->hi[a] - 1)
        ray->k_last = slab->hi[a] - 1;
    return ray->k_first <= ray->k_last;
}

/* Per-view data of a projector (index space) and the detector window that
 * a slab can cast a shadow on. */
void joseph_view_setup(const cbct_geometry *g, int64_t view, joseph_view *jv);
void joseph_slab_setup(const cbct_geometry *g, int64_t z0, int64_t nz, joseph_slab *slab);
/* Rows [*r0, *r1] and columns [*c0, *c1] whose rays can touch the slab
 * (the whole detector when the source is inside or beside it). */
void joseph_shadow(const cbct_geometry *g, const joseph_view *jv, const joseph_slab *slab,
                   int64_t *r0, int64_t *r1, int64_t *c0, int64_t *c1);

/* The kernels. `views` holds the block's views (index 0 = block.view0);
 * proj is the block's projections, slab the block's slab data. */
typedef struct joseph_kernels {
    const char *name;
    void (*project)(const cbct_geometry *g, const joseph_view *views, cbct_block b,
                    const float *slab, float *proj, int accumulate);
    void (*backproject)(const cbct_geometry *g, const joseph_view *views, cbct_block b,
                        const float *proj, float *slab, int accumulate);
} joseph_kernels;

extern const joseph_kernels joseph_reference_kernels;
extern const joseph_kernels joseph_fast_kernels;
extern const joseph_kernels joseph_fast_scalar_kernels;

/* z-chunk thickness (slices) that threads own in the adjoint; small enough
 * to balance 2..64 threads on 256+ slices, large enough that ray set-up
 * stays a few percent of the work. */
#define JOSEPH_ADJOINT_CHUNK 8

/* Bytes of volume per forward sub-slab: about half of a core's L2 cache. */
#define JOSEPH_FORWARD_SLAB_BYTES (8192 * 1024)

#endif
