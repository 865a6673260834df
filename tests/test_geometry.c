/* Geometry conventions: ASTRA's cone -> cone_vec conversion, pixel and voxel
 * coordinates, the projection matrix against explicit ray casting, the
 * fitted volume, and validation messages. */
#include "check.h"

int main(void)
{
    cbct_geometry g = {0};
    cbct_circular c = {.n_views = 4, .first_angle_rad = 0, .arc_rad = 2 * M_PI, .sod_mm = 300,
                       .sdd_mm = 500, .det_rows = 10, .det_cols = 20, .pixel_mm = {0.5, 0.25},
                       .det_offset_mm = {1.0, 2.0}};
    CHECK_OK(cbct_geometry_circular(&c, &g));
    /* View 0 (angle 0): source at -y, detector at +y, u along +x, v along +z
     * (ASTRA's conversion), offsets along u and v. */
    cbct_view *w = &g.views[0];
    CHECK_NEAR(w->src[0], 0, 1e-12);
    CHECK_NEAR(w->src[1], -300, 1e-12);
    CHECK_NEAR(w->det[1], 200, 1e-12);
    CHECK_NEAR(w->det[0], 2.0, 1e-12);
    CHECK_NEAR(w->det[2], 1.0, 1e-12);
    CHECK_NEAR(w->u[0], 0.25, 1e-12);
    CHECK_NEAR(w->v[2], 0.5, 1e-12);
    /* View 1 (angle pi/2): source at +x. */
    CHECK_NEAR(g.views[1].src[0], 300, 1e-9);
    CHECK_NEAR(g.views[1].src[1], 0, 1e-9);
    CHECK_NEAR(g.views[1].u[1], 0.25, 1e-12);

    /* Pixel centres: (c - C/2 + 0.5) u + (r - R/2 + 0.5) v from the centre. */
    double p[3];
    cbct_pixel_to_world(&g, 0, 0, 0, p);
    CHECK_NEAR(p[0], 2.0 + (-10 + 0.5) * 0.25, 1e-12);
    CHECK_NEAR(p[2], 1.0 + (-5 + 0.5) * 0.5, 1e-12);

    /* Voxel centres and the inverse transform. */
    cbct_volume_geom vg = {.shape = {4, 6, 8}, .voxel_size = {2, 1, 0.5}, .origin = {1, 2, 3}};
    double xyz[3], idx[3];
    cbct_voxel_to_world(&vg, 0, 0, 0, xyz);
    CHECK_NEAR(xyz[0], (-4 + 0.5) * 0.5 + 3, 1e-12);
    CHECK_NEAR(xyz[1], (-3 + 0.5) * 1 + 2, 1e-12);
    CHECK_NEAR(xyz[2], (-2 + 0.5) * 2 + 1, 1e-12);
    cbct_world_to_voxel(&vg, xyz, idx);
    CHECK_NEAR(idx[0], 0, 1e-12);
    CHECK_NEAR(idx[1], 0, 1e-12);
    CHECK_NEAR(idx[2], 0, 1e-12);

    /* The projection matrix maps a point to the pixel its ray hits. */
    g.vol = vg;
    for (int64_t v = 0; v < g.n_views; v++) {
        double m[3][4];
        CHECK_OK(cbct_view_projection_matrix(&g, v, m));
        double row = 3.3, col = 12.7, on_det[3], point[3];
        cbct_pixel_to_world(&g, v, row, col, on_det);
        for (int k = 0; k < 3; k++) /* 40% of the way from the source */
            point[k] = g.views[v].src[k] + 0.4 * (on_det[k] - g.views[v].src[k]);
        double h[3];
        for (int i = 0; i < 3; i++)
            h[i] = m[i][0] * point[0] + m[i][1] * point[1] + m[i][2] * point[2] + m[i][3];
        CHECK_NEAR(h[0] / h[2], col, 1e-9);
        CHECK_NEAR(h[1] / h[2], row, 1e-9);
        CHECK_NEAR(h[2], 0.4 * 500, 1e-9); /* depth along the detector normal */
    }

    /* Subsets and copies keep the views. */
    cbct_geometry sub;
    CHECK_OK(cbct_geometry_subset(&g, 1, 2, &sub));
    CHECK(sub.n_views == 2 && memcmp(&sub.views[0], &g.views[1], sizeof(cbct_view)) == 0);
    cbct_geometry_destroy(&sub);
    CHECK_FAILS(cbct_geometry_subset(&g, 3, 2, &sub), CBCT_ERR_ARG, "outside");

    /* A fitted volume is seen by every view. */
    cbct_volume_geom fit;
    CHECK_OK(cbct_volume_geom_fit(&g, 32, 32, 32, &fit));
    CHECK(fit.voxel_size[2] > 0 && fit.voxel_size[0] > 0);
    g.vol = fit;
    for (int64_t v = 0; v < g.n_views; v++) {
        double m[3][4];
        CHECK_OK(cbct_view_projection_matrix(&g, v, m));
        for (int corner = 0; corner < 8; corner++) {
            cbct_voxel_to_world(&fit, (corner & 1) ? 31 : 0, (corner & 2) ? 31 : 0,
                                (corner & 4) ? 31 : 0, xyz);
            double h[3];
            for (int i = 0; i < 3; i++)
                h[i] = m[i][0] * xyz[0] + m[i][1] * xyz[1] + m[i][2] * xyz[2] + m[i][3];
            double col = h[0] / h[2], row = h[1] / h[2];
            CHECK_MSG(col > -0.5 && col < 19.5 && row > -0.5 && row < 9.5,
                      "view %lld corner %d projects to (%.2f, %.2f), off the detector",
                      (long long)v, corner, row, col);
        }
    }

    /* Validation names the view and the problem. */
    CHECK_OK(cbct_geometry_validate(&g));
    g.views[2].u[0] = g.views[2].u[1] = g.views[2].u[2] = 0;
    CHECK_FAILS(cbct_geometry_validate(&g), CBCT_ERR_GEOMETRY, "view 2");
    cbct_geometry_destroy(&g);
    CHECK_OK(cbct_geometry_circular(&c, &g));
    g.vol = fit;
    memcpy(g.views[1].src, g.views[1].det, sizeof g.views[1].src);
    CHECK_FAILS(cbct_geometry_validate(&g), CBCT_ERR_GEOMETRY, "detector plane");
    g.views[1].src[0] = INFINITY;
    CHECK_FAILS(cbct_geometry_validate(&g), CBCT_ERR_GEOMETRY, "finite");
    cbct_geometry_destroy(&g);
    CHECK_OK(cbct_geometry_circular(&c, &g));
    g.vol = fit;
    g.vol.voxel_size[1] = -1;
    CHECK_FAILS(cbct_geometry_validate(&g), CBCT_ERR_GEOMETRY, "voxel_size y");
    g.vol.voxel_size[1] = 1;
    g.vol.shape[0] = 0;
    CHECK_FAILS(cbct_geometry_validate(&g), CBCT_ERR_GEOMETRY, "shape z");
    cbct_geometry_destroy(&g);

    /* Circular parameters out of range. */
    cbct_circular bad = c;
    bad.n_views = 0;
    CHECK_FAILS(cbct_geometry_circular(&bad, &g), CBCT_ERR_GEOMETRY, "0 views");
    bad = c;
    bad.sdd_mm = 100;
    CHECK_FAILS(cbct_geometry_circular(&bad, &g), CBCT_ERR_GEOMETRY, "sod < sdd");
    bad = c;
    bad.pixel_mm[0] = 0;
    CHECK_FAILS(cbct_geometry_circular(&bad, &g), CBCT_ERR_GEOMETRY, "pixel size");
    CHECK(cbct_mem_current() == 0);
    return check_summary("test_geometry");
}
