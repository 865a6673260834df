/* FDK voxel-driven back-projection kernels (internal to the library and its
 * tests): a fast one (incremental along x, vectorised, OpenMP over lines)
 * and a plain reference that states the arithmetic once, per voxel. */
#ifndef CBCT_CPU_FDK_KERNELS_H
#define CBCT_CPU_FDK_KERNELS_H

#include "cbct/geometry.h"

/* Voxels closer to the source than this fraction of the source-axis
 * distance are not updated (the weight 1 / depth^2 blows up there; no real
 * volume comes this close to the source). */
#define CBCT_FDK_MIN_DEPTH 1e-3

/* One view: world (x, y, z, 1) -> (col * w, row * w, w) where w is the depth
 * along the detector normal divided by the source-axis distance, so that
 * the FDK distance weight (sod / depth)^2 is simply 1 / w^2. */
typedef struct cbct_fdk_bp_view {
    double m[3][4];
} cbct_fdk_bp_view;

typedef struct cbct_fdk_bp_task {
    const cbct_volume_geom *vol;
    int64_t det_rows, det_cols;
    int64_t n_views;
    const cbct_fdk_bp_view *views; /* n_views */
    const float *proj;             /* n_views x det_rows x det_cols, filtered */
    int64_t z0, nz;                /* slab [z0, z0 + nz) of the volume */
    float *slab;                   /* nz x ny x nx; contributions are added */
} cbct_fdk_bp_task;

/* Adds sum_v proj_v(col, row) / w^2 (bilinear, zero outside the detector)
 * to every voxel of the slab, views in order 0, 1, ... per voxel. */
cbct_status cbct_fdk_backproject_fast(const cbct_fdk_bp_task *t);
cbct_status cbct_fdk_backproject_reference(const cbct_fdk_bp_task *t);

/* One view on one line of voxels, in the shifted, padded frame of the
 * fast kernel: ((col + 1) w, (row + 1) w, w) = start + x * step for voxel
 * x, so that (col + 1, row + 1) indexes the padded view. */
typedef struct cbct_fdk_line_view {
    float nu0, dnu, nv0, dnv, w0, dw;
    int pitch;               /* floats per padded detector row */
    float col_end, row_end;  /* clamp limits of the shifted coordinates */
} cbct_fdk_line_view;

/* `view` points at padded pixel (0, 0) (real pixel (-1, -1)); the buffer is
 * followed by CBCT_FDK_LINE_SLACK readable floats. Voxels [lo, hi) must be
 * in front of the source (w > 0). Uses AVX-512 when compiled for it. */
#define CBCT_FDK_LINE_SLACK 64
void cbct_fdk_add_view_to_line(const cbct_fdk_line_view *lv, int64_t lo, int64_t hi,
                               const float *view, float *line);
/* The plain C loop (what the vector code computes, for tests). */
void cbct_fdk_add_view_to_line_portable(const cbct_fdk_line_view *lv, int64_t lo, int64_t hi,
                                        const float *view, float *line);

#endif
