/* The 3D Shepp-Logan head phantom (ten ellipsoids). */
#include <math.h>

#include "ct/phantom_internal.h"

#define SHEPP_LOGAN_COUNT 10

/* Source: the 'Modified Shepp-Logan' table of M. Schabel's phantom3d.m
 * (MATLAB Central File Exchange 9416), whose ellipsoids extend the 2D head
 * of Kak & Slaney, "Principles of Computerized Tomographic Imaging", Table
 * 3.1, into 3D, with the higher-contrast intensities of P. Toft, "The Radon
 * Transform" (1996), pp. 199-200. Coordinates are in the unit cube [-1, 1]^3.
 *
 * Rotation: phi is the angle about +z from +x to the ellipsoid's a axis,
 * counter-clockwise seen from +z (cbct_ellipsoid's convention, as in
 * MATLAB's 2D phantom). Only ellipsoids 3 and 4 are rotated, by -18 and +18
 * degrees as in Kak & Slaney. phantom3d.m also lists psi = 10 degrees for
 * these two; with theta = 0 its Euler angles add up to a z rotation of
 * phi + psi (-8 and +28 degrees), which we do not copy so that the z = 0
 * slice is Kak & Slaney's 2D head. */
static const struct {
    double value;        /* Toft's modified intensity (before value_scale) */
    double a, b, c;      /* semi-axes along the rotated x, y, z */
    double x0, y0, z0;   /* centre */
    double phi_deg;      /* rotation about z */
} shepp_logan_table[SHEPP_LOGAN_COUNT] = {
    {1.0, 0.6900, 0.920, 0.810, 0.00, 0.0000, 0.00, 0},
    {-0.8, 0.6624, 0.874, 0.780, 0.00, -0.0184, 0.00, 0},
    {-0.2, 0.1100, 0.310, 0.220, 0.22, 0.0000, 0.00, -18},
    {-0.2, 0.1600, 0.410, 0.280, -0.22, 0.0000, 0.00, 18},
    {0.1, 0.2100, 0.250, 0.410, 0.00, 0.3500, -0.15, 0},
    {0.1, 0.0460, 0.046, 0.050, 0.00, 0.1000, 0.25, 0},
    {0.1, 0.0460, 0.046, 0.050, 0.00, -0.1000, 0.25, 0},
    {0.1, 0.0460, 0.023, 0.050, -0.08, -0.6050, 0.00, 0},
    {0.1, 0.0230, 0.023, 0.020, 0.00, -0.6060, 0.00, 0},
    {0.1, 0.0230, 0.046, 0.020, 0.06, -0.6050, 0.00, 0},
};

cbct_status cbct_phantom_shepp_logan(double radius_mm, double value_scale, cbct_ellipsoid *out,
                                     int cap, int *n_out)
{
    if (!out || !n_out)
        return cbct_error(CBCT_ERR_ARG, "Shepp-Logan phantom: output list or count is NULL");
    *n_out = 0;
    if (!(radius_mm > 0) || !isfinite(radius_mm))
        return cbct_error(CBCT_ERR_ARG, "Shepp-Logan phantom: radius %g mm: expected positive "
                          "and finite", radius_mm);
    if (!isfinite(value_scale))
        return cbct_error(CBCT_ERR_ARG, "Shepp-Logan phantom: value scale %g /mm: expected "
                          "finite", value_scale);
    if (cap < SHEPP_LOGAN_COUNT)
        return cbct_error(CBCT_ERR_ARG, "Shepp-Logan phantom: room for %d ellipsoids: it needs "
                          "%d", cap, SHEPP_LOGAN_COUNT);
    const double deg = acos(-1.0) / 180.0;
    for (int i = 0; i < SHEPP_LOGAN_COUNT; i++) {
        cbct_ellipsoid *e = &out[i];
        e->centre[0] = shepp_logan_table[i].x0 * radius_mm;
        e->centre[1] = shepp_logan_table[i].y0 * radius_mm;
        e->centre[2] = shepp_logan_table[i].z0 * radius_mm;
        e->semi_axes[0] = shepp_logan_table[i].a * radius_mm;
        e->semi_axes[1] = shepp_logan_table[i].b * radius_mm;
        e->semi_axes[2] = shepp_logan_table[i].c * radius_mm;
        e->phi_rad = shepp_logan_table[i].phi_deg * deg;
        e->value = shepp_logan_table[i].value * value_scale;
    }
    *n_out = SHEPP_LOGAN_COUNT;
    return CBCT_OK;
}
