/* Ellipsoids to voxels: the mean of an s x s x s grid of point samples per
 * voxel (indicator sums), each ellipsoid visiting only the voxels of its
 * bounding box. Threads split the z slices, and every voxel sums the
 * ellipsoids in list order, so the result does not depend on the threads. */
#include <math.h>
#include <string.h>

#include "ct/phantom_internal.h"

/* s^3 samples per voxel must fit an int count; 32^3 is far beyond need. */
#define VOXELIZE_MAX_SUPERSAMPLE 32

/* Voxel index range [lo, hi] (inclusive) along one axis whose samples can
 * lie in the world interval [w_lo, w_hi]; empty when lo > hi. */
typedef struct index_range {
    int64_t lo, hi;
} index_range;

static index_range voxels_touching(const cbct_volume_geom *vg, int axis, double w_lo,
                                   double w_hi)
{
    double n = (double)vg->shape[axis];
    double d = vg->voxel_size[axis], o = vg->origin[axis];
    /* Continuous index (voxel centres integral); voxel i spans i +- 0.5. */
    double i_lo = (w_lo - o) / d + 0.5 * n - 0.5;
    double i_hi = (w_hi - o) / d + 0.5 * n - 0.5;
    double lo = ceil(i_lo - 0.5), hi = floor(i_hi + 0.5);
    index_range r = {1, 0};
    if (hi < 0 || lo > n - 1)
        return r;
    r.lo = lo < 0 ? 0 : (int64_t)lo;
    r.hi = hi > n - 1 ? (int64_t)n - 1 : (int64_t)hi;
    return r;
}

typedef struct ellipsoid_box {
    phantom_frame frame;
    index_range z, y, x;
} ellipsoid_box;

static ellipsoid_box box_of(const cbct_ellipsoid *e, const cbct_volume_geom *vg)
{
    ellipsoid_box b;
    b.frame = phantom_frame_of(e);
    double ca = b.frame.cos_phi * e->semi_axes[0], sa = b.frame.sin_phi * e->semi_axes[0];
    double cb = b.frame.cos_phi * e->semi_axes[1], sb = b.frame.sin_phi * e->semi_axes[1];
    /* Half-extents of an ellipse rotated by phi (axis-aligned bounding box). */
    double half_x = sqrt(ca * ca + sb * sb), half_y = sqrt(sa * sa + cb * cb);
    b.x = voxels_touching(vg, 2, e->centre[0] - half_x, e->centre[0] + half_x);
    b.y = voxels_touching(vg, 1, e->centre[1] - half_y, e->centre[1] + half_y);
    b.z = voxels_touching(vg, 0, e->centre[2] - e->semi_axes[2], e->centre[2] + e->semi_axes[2]);
    return b;
}

/* World coordinate of every sample along one axis: table[i * s + k] for
 * voxel i, sub-sample k at index offset (k + 0.5) / s - 0.5. */
static void sample_positions(const cbct_volume_geom *vg, int axis, int s, double *table)
{
    for (int64_t i = 0; i < vg->shape[axis]; i++)
        for (int k = 0; k < s; k++) {
            double idx[3] = {0, 0, 0}, w[3];
            idx[axis] = (double)i + ((double)k + 0.5) / (double)s - 0.5;
            cbct_voxel_to_world(vg, idx[0], idx[1], idx[2], w);
            table[i * s + k] = w[2 - axis];
        }
}

/* Adds one ellipsoid's sample fraction to slice iz. */
static void add_to_slice(const cbct_ellipsoid *e, const ellipsoid_box *b, int64_t iz,
                         const cbct_volume_geom *vg, int s, const double *zs, const double *ys,
                         const double *xs, float *slice)
{
    const phantom_frame *f = &b->frame;
    const int64_t nx = vg->shape[2];
    const double per_sample = e->value / ((double)s * s * s);
    double lz2[VOXELIZE_MAX_SUPERSAMPLE]; /* squared local z of each z sub-sample */
    int any = 0;
    for (int kz = 0; kz < s; kz++) {
        double lz = (zs[iz * s + kz] - f->centre[2]) * f->inv_axes[2];
        lz2[kz] = lz * lz;
        any |= lz2[kz] <= 1.0;
    }
    if (!any)
        return;
    for (int64_t iy = b->y.lo; iy <= b->y.hi; iy++) {
        for (int64_t ix = b->x.lo; ix <= b->x.hi; ix++) {
            int count = 0;
            for (int ky = 0; ky < s; ky++) {
                double dy = ys[iy * s + ky] - f->centre[1];
                for (int kx = 0; kx < s; kx++) {
                    double dx = xs[ix * s + kx] - f->centre[0];
                    double lx = (f->cos_phi * dx + f->sin_phi * dy) * f->inv_axes[0];
                    double ly = (-f->sin_phi * dx + f->cos_phi * dy) * f->inv_axes[1];
                    double r2 = lx * lx + ly * ly;
                    for (int kz = 0; kz < s; kz++)
                        count += r2 + lz2[kz] <= 1.0;
                }
            }
            if (count)
                slice[iy * nx + ix] += (float)(per_sample * count);
        }
    }
}

cbct_status cbct_phantom_voxelize(const cbct_ellipsoid *e, int n, const cbct_volume_geom *vg,
                                  int supersample, float *vol)
{
    return cbct_phantom_voxelize_rows(e, n, vg, supersample, 0, vg ? vg->shape[0] : 0, vol);
}

cbct_status cbct_phantom_voxelize_rows(const cbct_ellipsoid *e, int n,
                                       const cbct_volume_geom *vg, int supersample, int64_t z0,
                                       int64_t rows, float *vol)
{
    if (!vol)
        return cbct_error(CBCT_ERR_ARG, "voxelize: output volume is NULL");
    if (supersample < 1 || supersample > VOXELIZE_MAX_SUPERSAMPLE)
        return cbct_error(CBCT_ERR_ARG, "voxelize: supersample %d: expected 1 (voxel centres) "
                          "to %d samples per axis", supersample, VOXELIZE_MAX_SUPERSAMPLE);
    cbct_status st = cbct_phantom_validate(e, n);
    if (st)
        return st;
    st = cbct_phantom_check_volume(vg, "voxelize");
    if (st)
        return st;
    if (z0 < 0 || rows < 0 || z0 + rows > vg->shape[0])
        return cbct_error(CBCT_ERR_ARG, "voxelize: rows [%lld, %lld) outside the volume's %lld",
                          (long long)z0, (long long)(z0 + rows), (long long)vg->shape[0]);
    const int s = supersample;
    const int64_t nz = vg->shape[0], ny = vg->shape[1], nx = vg->shape[2];
    size_t n_samples = (size_t)(nz + ny + nx) * (size_t)s;
    double *positions = cbct_alloc(n_samples * sizeof(double), "voxelize sample positions");
    ellipsoid_box *boxes = cbct_alloc((size_t)(n > 0 ? n : 1) * sizeof(ellipsoid_box),
                                      "voxelize bounding boxes");
    if (!positions || !boxes) {
        cbct_free(positions);
        cbct_free(boxes);
        return CBCT_ERR_MEMORY;
    }
    double *zs = positions, *ys = zs + nz * s, *xs = ys + ny * s;
    sample_positions(vg, 0, s, zs);
    sample_positions(vg, 1, s, ys);
    sample_positions(vg, 2, s, xs);
    for (int i = 0; i < n; i++)
        boxes[i] = box_of(&e[i], vg);

    const size_t slice_voxels = (size_t)ny * (size_t)nx;
    /* Dynamic: slices through the head cost far more than the empty ends. */
#pragma omp parallel for schedule(dynamic, 1)
    for (int64_t iz = z0; iz < z0 + rows; iz++) {
        float *slice = vol + (size_t)(iz - z0) * slice_voxels;
        memset(slice, 0, slice_voxels * sizeof(float));
        for (int i = 0; i < n; i++) {
            const ellipsoid_box *b = &boxes[i];
            if (iz < b->z.lo || iz > b->z.hi || b->y.lo > b->y.hi || b->x.lo > b->x.hi)
                continue;
            add_to_slice(&e[i], b, iz, vg, s, zs, ys, xs, slice);
        }
    }
    cbct_free(positions);
    cbct_free(boxes);
    return CBCT_OK;
}
