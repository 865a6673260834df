/* Shared by the phantom files: the frame in which an ellipsoid is the unit
 * sphere, and the volume-geometry check. */
#ifndef CBCT_CT_PHANTOM_INTERNAL_H
#define CBCT_CT_PHANTOM_INTERNAL_H

#include <math.h>

#include "cbct/phantom.h"

/* Maps world offsets from the centre to the unit-sphere frame:
 * local = diag(1/a, 1/b, 1/c) R(-phi) (p - centre). */
typedef struct phantom_frame {
    double centre[3];
    double cos_phi, sin_phi;
    double inv_axes[3]; /* 1/a, 1/b, 1/c (1/mm) */
} phantom_frame;

static inline phantom_frame phantom_frame_of(const cbct_ellipsoid *e)
{
    phantom_frame f;
    for (int k = 0; k < 3; k++) {
        f.centre[k] = e->centre[k];
        f.inv_axes[k] = 1.0 / e->semi_axes[k];
    }
    f.cos_phi = cos(e->phi_rad);
    f.sin_phi = sin(e->phi_rad);
    return f;
}

/* A direction (or offset from the centre) in the unit-sphere frame. */
static inline void phantom_frame_apply(const phantom_frame *f, const double d[3], double out[3])
{
    out[0] = (f->cos_phi * d[0] + f->sin_phi * d[1]) * f->inv_axes[0];
    out[1] = (-f->sin_phi * d[0] + f->cos_phi * d[1]) * f->inv_axes[1];
    out[2] = d[2] * f->inv_axes[2];
}

/* Shape positive, voxel sizes positive and finite, origin finite; `who`
 * names the caller in the message. */
cbct_status cbct_phantom_check_volume(const cbct_volume_geom *vg, const char *who);

#endif
