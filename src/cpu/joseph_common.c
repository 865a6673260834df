/* Per-view and per-slab set-up for the Joseph kernels (see joseph.h). */
#include <math.h>

#include "cpu/joseph.h"

void joseph_view_setup(const cbct_geometry *g, int64_t view, joseph_view *jv)
{
    const cbct_volume_geom *vg = &g->vol;
    const cbct_view *w = &g->views[view];
    double pix0[3];
    cbct_pixel_to_world(g, view, 0.0, 0.0, pix0);
    cbct_world_to_voxel(vg, w->src, jv->src);
    cbct_world_to_voxel(vg, pix0, jv->pix0);
    /* Directions: index = world / voxel size, axis order z, y, x. */
    for (int a = 0; a < 3; a++) {
        jv->u[a] = w->u[2 - a] / vg->voxel_size[a];
        jv->v[a] = w->v[2 - a] / vg->voxel_size[a];
    }
    if (cbct_view_projection_matrix(g, view, jv->proj_matrix) != CBCT_OK) {
        /* Validated geometries never get here; a zero matrix makes
         * joseph_shadow fall back to the whole detector. */
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 4; j++)
                jv->proj_matrix[i][j] = 0;
    }
}

void joseph_slab_setup(const cbct_geometry *g, int64_t z0, int64_t nz, joseph_slab *slab)
{
    const cbct_volume_geom *vg = &g->vol;
    slab->lo[0] = z0;
    slab->hi[0] = z0 + nz;
    slab->lo[1] = slab->lo[2] = 0;
    slab->hi[1] = vg->shape[1];
    slab->hi[2] = vg->shape[2];
    slab->stride[2] = 1;
    slab->stride[1] = vg->shape[2];
    slab->stride[0] = vg->shape[1] * vg->shape[2];
    slab->z_offset = z0 * slab->stride[0];
    for (int a = 0; a < 3; a++)
        slab->voxel_mm[a] = vg->voxel_size[a];
}

void joseph_shadow(const cbct_geometry *g, const joseph_view *jv, const joseph_slab *slab,
                   int64_t *r0, int64_t *r1, int64_t *c0, int64_t *c1)
{
    *r0 = 0;
    *r1 = g->det_rows - 1;
    *c0 = 0;
    *c1 = g->det_cols - 1;
    double row_min = INFINITY, row_max = -INFINITY, col_min = INFINITY, col_max = -INFINITY;
    /* Corners of the bilinear support box: index -1 .. n on every axis. */
    for (int corner = 0; corner < 8; corner++) {
        double iz = (double)((corner & 1) ? slab->hi[0] : slab->lo[0] - 1);
        double iy = (double)((corner & 2) ? slab->hi[1] : slab->lo[1] - 1);
        double ix = (double)((corner & 4) ? slab->hi[2] : slab->lo[2] - 1);
        double world[3];
        cbct_voxel_to_world(&g->vol, iz, iy, ix, world);
        const double(*m)[4] = jv->proj_matrix;
        double h[3];
        for (int i = 0; i < 3; i++)
            h[i] = m[i][0] * world[0] + m[i][1] * world[1] + m[i][2] * world[2] + m[i][3];
        if (!(h[2] > 0))
            return; /* a corner at or behind the source plane: no bound */
        double col = h[0] / h[2], row = h[1] / h[2];
        row_min = fmin(row_min, row);
        row_max = fmax(row_max, row);
        col_min = fmin(col_min, col);
        col_max = fmax(col_max, col);
    }
    /* Pixel centres strictly outside the hull see nothing; keep one pixel of
     * margin against rounding. */
    int64_t lo_r = (int64_t)floor(row_min) - 1, hi_r = (int64_t)ceil(row_max) + 1;
    int64_t lo_c = (int64_t)floor(col_min) - 1, hi_c = (int64_t)ceil(col_max) + 1;
    *r0 = lo_r > 0 ? lo_r : 0;
    *r1 = hi_r < g->det_rows - 1 ? hi_r : g->det_rows - 1;
    *c0 = lo_c > 0 ? lo_c : 0;
    *c1 = hi_c < g->det_cols - 1 ? hi_c : g->det_cols - 1;
}
