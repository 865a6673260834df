/* Phantoms: ellipsoid sets with analytic line integrals (3D Shepp-Logan)
 * and a procedural walnut-like volume. Values in 1/mm. */
#ifndef CBCT_PHANTOM_H
#define CBCT_PHANTOM_H

#include "cbct/geometry.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cbct_ellipsoid {
    double centre[3];    /* x, y, z (mm) */
    double semi_axes[3]; /* a, b, c (mm) along the rotated x, y, z axes */
    double phi_rad;      /* rotation about z (applied to the axes) */
    double value;        /* added attenuation (1/mm); may be negative */
} cbct_ellipsoid;

/* The 3D Shepp-Logan head (Kak & Slaney's ellipsoids, the "modified"
 * contrast of Toft so that structures are visible), scaled so that the
 * outer ellipsoid spans `radius_mm` along its longest axis, values
 * multiplied by `value_scale` (1/mm). Writes up to `cap` ellipsoids into
 * `out` and the number into `n_out` (10). */
cbct_status cbct_phantom_shepp_logan(double radius_mm, double value_scale, cbct_ellipsoid *out,
                                     int cap, int *n_out);

/* Voxelises the ellipsoids: each voxel gets the mean over a `supersample`^3
 * grid of sample points inside it (1 = centre only). vol is nz x ny x nx. */
cbct_status cbct_phantom_voxelize(const cbct_ellipsoid *e, int n, const cbct_volume_geom *vg,
                                  int supersample, float *vol);

/* Exact line integrals from the source to each detector pixel centre,
 * proj is n_views x rows x cols. */
cbct_status cbct_phantom_line_integrals(const cbct_ellipsoid *e, int n, const cbct_geometry *g,
                                        float *proj);

/* A walnut-like object: a rough ellipsoidal shell, an air gap, and a
 * kernel with folds; deterministic from `seed`. Fills ~80% of the volume's
 * smallest extent. Values about 0.02..0.06 /mm (wood-like). */
cbct_status cbct_phantom_walnut(const cbct_volume_geom *vg, uint64_t seed, float *vol);

#ifdef __cplusplus
}
#endif
#endif
