/* Cone-beam geometry in ASTRA's `cone_vec` form (see docs/geometry.md).
 *
 * World coordinates (x, y, z) in mm; z is the usual rotation axis.
 * Per view, 12 numbers in ASTRA order:
 *   src (x, y, z)   source position
 *   det (x, y, z)   centre of the detector
 *   u   (x, y, z)   step from one detector column to the next (mm per pixel)
 *   v   (x, y, z)   step from one detector row to the next (mm per pixel)
 * Pixel (row r, column c) has its centre at
 *   det + (c - cols/2 + 0.5) u + (r - rows/2 + 0.5) v.
 * Volume arrays are (nz, ny, nx), x fastest; voxel (iz, iy, ix) has its
 * centre at ((ix - nx/2 + 0.5) dx + ox, (iy - ny/2 + 0.5) dy + oy,
 * (iz - nz/2 + 0.5) dz + oz). Projection stacks are (view, row, column). */
#ifndef CBCT_GEOMETRY_H
#define CBCT_GEOMETRY_H

#include "cbct/core.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cbct_volume_geom {
    int64_t shape[3];      /* nz, ny, nx (voxels) */
    double voxel_size[3];  /* dz, dy, dx (mm) */
    double origin[3];      /* oz, oy, ox: world position of the volume centre (mm) */
} cbct_volume_geom;

typedef struct cbct_view {
    double src[3]; /* x, y, z (mm) */
    double det[3];
    double u[3];
    double v[3];
} cbct_view;

typedef struct cbct_geometry {
    cbct_volume_geom vol;
    int64_t det_rows;
    int64_t det_cols;
    int64_t n_views;
    cbct_view *views; /* n_views entries, tracked allocation, owned */
} cbct_geometry;

/* Parameters of a circular scan (ASTRA `cone` plus detector offsets). */
typedef struct cbct_circular {
    int64_t n_views;
    double first_angle_rad;  /* angle of view 0 */
    double arc_rad;          /* angles: first + i * arc / n_views (2 pi: full turn) */
    double sod_mm;           /* source to origin (rotation axis) distance */
    double sdd_mm;           /* source to detector distance */
    int64_t det_rows, det_cols;
    double pixel_mm[2];      /* row pitch (v), column pitch (u) */
    double det_offset_mm[2]; /* shift of the detector centre along v, u */
} cbct_circular;

/* Fills `out->views` from a circular description with ASTRA's cone ->
 * cone_vec conversion (source at angle a: (sin a, -cos a, 0) * sod).
 * `out->vol` is left as given by the caller. */
cbct_status cbct_geometry_circular(const cbct_circular *c, cbct_geometry *out);

/* Allocates `n_views` zeroed views. */
cbct_status cbct_geometry_alloc_views(cbct_geometry *g, int64_t n_views);
void cbct_geometry_destroy(cbct_geometry *g);
cbct_status cbct_geometry_copy(const cbct_geometry *src, cbct_geometry *dst);
/* Views [first, first + count) as a geometry of their own (same volume). */
cbct_status cbct_geometry_subset(const cbct_geometry *g, int64_t first, int64_t count,
                                 cbct_geometry *out);

/* Checks sizes, finiteness, non-degenerate u/v (not parallel, non-zero),
 * source not on the detector plane. Message names the view and the field. */
cbct_status cbct_geometry_validate(const cbct_geometry *g);

/* A default volume of nz x ny x nx voxels centred on the origin, sized to
 * the field of view of the scan: the largest centred box (square in x, y)
 * that every view sees whole, with voxel size dz = height / nz and
 * dx = dy = side / max(nx, ny). */
cbct_status cbct_volume_geom_fit(const cbct_geometry *g, int64_t nz, int64_t ny, int64_t nx,
                                 cbct_volume_geom *out);

/* World position (x, y, z) of voxel centre (iz, iy, ix) (fractional allowed). */
void cbct_voxel_to_world(const cbct_volume_geom *vg, double iz, double iy, double ix,
                         double world_xyz[3]);
/* Continuous voxel index (iz, iy, ix) of a world point (voxel centres integral). */
void cbct_world_to_voxel(const cbct_volume_geom *vg, const double world_xyz[3],
                         double index_zyx[3]);
/* World position of detector pixel centre (row, col) (fractional allowed). */
void cbct_pixel_to_world(const cbct_geometry *g, int64_t view, double row, double col,
                         double world_xyz[3]);

/* The 3x4 matrix that maps homogeneous world (x, y, z, 1) to homogeneous
 * detector (col * w, row * w, w), where (row, col) are continuous pixel
 * indices of the ray from the source through the point, and w is the
 * distance (mm) from the source along the detector normal (so w > 0 in front
 * of the source). Returns CBCT_ERR_GEOMETRY if the view is degenerate. */
cbct_status cbct_view_projection_matrix(const cbct_geometry *g, int64_t view, double m[3][4]);

/* Geometry JSON (docs/geometry.md):
 * {"volume": {"shape": [nz, ny, nx], "voxel_size": [dz, dy, dx], "origin": [oz, oy, ox]},
 *  "detector": {"rows": R, "cols": C},
 *  "vectors": [[12 numbers], ...]}
 * or, instead of "vectors", "circular": {"views", "sod", "sdd", "pixel": [pv, pu],
 * "arc_deg", "first_angle_deg", "offset": [ov, ou]}. Writing is atomic. */
cbct_status cbct_geometry_read_json(const char *path, cbct_geometry *out);
cbct_status cbct_geometry_parse_json(const char *text, const char *name, cbct_geometry *out);
cbct_status cbct_geometry_write_json(const char *path, const cbct_geometry *g);

#ifdef __cplusplus
}
#endif
#endif
