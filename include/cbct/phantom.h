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
    double phi_rad;      /* rotation about z (applied to the axes): the a axis points along
                            (cos phi, sin phi, 0), counter-clockwise from +x towards +y */
    double value;        /* added attenuation (1/mm); may be negative */
} cbct_ellipsoid;

/* The 3D Shepp-Logan head (Kak & Slaney's ellipsoids, the "modified"
 * contrast of Toft so that structures are visible), centred on the world
 * origin. The table's unit cube [-1, 1]^3 is scaled to [-radius_mm,
 * radius_mm]^3 (positions and semi-axes), so the head spans 0.92 radius_mm
 * along y, 0.81 along z and 0.69 along x; values are multiplied by
 * `value_scale` (1/mm). Writes up to `cap` ellipsoids into `out` and the
 * number into `n_out` (10). */
cbct_status cbct_phantom_shepp_logan(double radius_mm, double value_scale, cbct_ellipsoid *out,
                                     int cap, int *n_out);

/* Checks an ellipsoid list: n >= 0, e non-NULL when n > 0, finite centres
 * and values, positive finite semi-axes. The message names the ellipsoid. */
cbct_status cbct_phantom_validate(const cbct_ellipsoid *e, int n);

/* Voxelises the ellipsoids: each voxel gets the mean over a `supersample`^3
 * grid of sample points inside it (1 = centre only, at most 32). vol is
 * nz x ny x nx; the ellipsoids are in world coordinates (mm). */
cbct_status cbct_phantom_voxelize(const cbct_ellipsoid *e, int n, const cbct_volume_geom *vg,
                                  int supersample, float *vol);
/* Only z rows [z0, z0 + rows) of the same volume, into vol (rows x ny x nx):
 * the same values, bit for bit (a rank's slab). */
cbct_status cbct_phantom_voxelize_rows(const cbct_ellipsoid *e, int n,
                                       const cbct_volume_geom *vg, int supersample, int64_t z0,
                                       int64_t rows, float *vol);

/* Length (mm) of the part of the segment from -> to (world x, y, z in mm)
 * that lies inside the ellipsoid (0 when it misses). */
double cbct_ellipsoid_chord_mm(const cbct_ellipsoid *e, const double from[3], const double to[3]);

/* Exact line integrals from the source to each detector pixel centre,
 * proj is n_views x rows x cols. */
cbct_status cbct_phantom_line_integrals(const cbct_ellipsoid *e, int n, const cbct_geometry *g,
                                        float *proj);

/* A walnut-like object: a rough ellipsoidal shell, an air gap, and a
 * kernel with folds; deterministic from `seed`. Fills ~80% of the volume's
 * smallest extent. Values about 0.02..0.06 /mm (wood-like). */
cbct_status cbct_phantom_walnut(const cbct_volume_geom *vg, uint64_t seed, float *vol);
/* Only z rows [z0, z0 + rows), the same values bit for bit. */
cbct_status cbct_phantom_walnut_rows(const cbct_volume_geom *vg, uint64_t seed, int64_t z0,
                                     int64_t rows, float *vol);

#ifdef __cplusplus
}
#endif
#endif
