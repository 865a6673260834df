/* Input checks shared by the phantom generators. */
#include <math.h>

#include "ct/phantom_internal.h"

cbct_status cbct_phantom_validate(const cbct_ellipsoid *e, int n)
{
    if (n < 0)
        return cbct_error(CBCT_ERR_ARG, "phantom: %d ellipsoids: expected a count >= 0", n);
    if (n > 0 && !e)
        return cbct_error(CBCT_ERR_ARG, "phantom: ellipsoid list is NULL with %d ellipsoids", n);
    static const char *axis[3] = {"a", "b", "c"};
    for (int i = 0; i < n; i++) {
        for (int k = 0; k < 3; k++) {
            if (!isfinite(e[i].centre[k]))
                return cbct_error(CBCT_ERR_ARG, "phantom: ellipsoid %d: centre[%d] = %g: "
                                  "expected finite", i, k, e[i].centre[k]);
            if (!(e[i].semi_axes[k] > 0) || !isfinite(e[i].semi_axes[k]))
                return cbct_error(CBCT_ERR_ARG, "phantom: ellipsoid %d: semi-axis %s = %g mm: "
                                  "expected positive and finite", i, axis[k],
                                  e[i].semi_axes[k]);
        }
        if (!isfinite(e[i].phi_rad) || !isfinite(e[i].value))
            return cbct_error(CBCT_ERR_ARG, "phantom: ellipsoid %d: phi %g rad, value %g /mm: "
                              "expected finite", i, e[i].phi_rad, e[i].value);
    }
    return CBCT_OK;
}

cbct_status cbct_phantom_check_volume(const cbct_volume_geom *vg, const char *who)
{
    if (!vg)
        return cbct_error(CBCT_ERR_ARG, "%s: volume geometry is NULL", who);
    static const char *axis[3] = {"z", "y", "x"};
    for (int a = 0; a < 3; a++) {
        if (vg->shape[a] <= 0)
            return cbct_error(CBCT_ERR_GEOMETRY, "%s: volume shape %s = %lld: expected a "
                              "positive number of voxels", who, axis[a], (long long)vg->shape[a]);
        if (!(vg->voxel_size[a] > 0) || !isfinite(vg->voxel_size[a]))
            return cbct_error(CBCT_ERR_GEOMETRY, "%s: voxel size %s = %g mm: expected positive "
                              "and finite", who, axis[a], vg->voxel_size[a]);
        if (!isfinite(vg->origin[a]))
            return cbct_error(CBCT_ERR_GEOMETRY, "%s: volume origin %s = %g mm: expected finite",
                              who, axis[a], vg->origin[a]);
    }
    return CBCT_OK;
}
