/* The plain Joseph kernels: one sample at a time, double precision, every
 * neighbour bounds-checked, one thread. The fast kernels are tested against
 * these. */
#include <math.h>
#include <string.h>

#include "cpu/joseph.h"

/* Calls `visit(voxel_offset, weight)` for the (up to) four voxels that
 * sample k of the ray interpolates, weight including the step length. */
#define JOSEPH_FOR_EACH_VOXEL(ray, slab, k, OFFSET, WEIGHT, BODY)                       \
    do {                                                                                \
        double fb_ = (ray).fb0 + (double)(k) * (ray).db;                                \
        double fc_ = (ray).fc0 + (double)(k) * (ray).dc;                                \
        double ib_ = floor(fb_), ic_ = floor(fc_);                                      \
        double wb_ = fb_ - ib_, wc_ = fc_ - ic_;                                        \
        for (int nb_ = 0; nb_ < 2; nb_++) {                                             \
            int64_t jb_ = (int64_t)ib_ + nb_;                                           \
            if (jb_ < (slab).lo[(ray).axis_b] || jb_ >= (slab).hi[(ray).axis_b])         \
                continue;                                                               \
            for (int nc_ = 0; nc_ < 2; nc_++) {                                         \
                int64_t jc_ = (int64_t)ic_ + nc_;                                       \
                if (jc_ < (slab).lo[(ray).axis_c] || jc_ >= (slab).hi[(ray).axis_c])     \
                    continue;                                                           \
                int64_t OFFSET = (int64_t)(k) * (slab).stride[(ray).axis_a] +           \
                                 jb_ * (slab).stride[(ray).axis_b] +                    \
                                 jc_ * (slab).stride[(ray).axis_c] - (slab).z_offset;   \
                double WEIGHT = (nb_ ? wb_ : 1.0 - wb_) * (nc_ ? wc_ : 1.0 - wc_) *     \
                                (ray).step_mm;                                          \
                BODY;                                                                   \
            }                                                                           \
        }                                                                               \
    } while (0)

static void reference_project(const cbct_geometry *g, const joseph_view *views, cbct_block b,
                              const float *slab_data, float *proj, int accumulate)
{
    joseph_slab slab;
    joseph_slab_setup(g, b.z0, b.nz, &slab);
    int64_t rows = g->det_rows, cols = g->det_cols;
    for (int64_t view = 0; view < b.n_views; view++) {
        for (int64_t r = 0; r < rows; r++) {
            for (int64_t c = 0; c < cols; c++) {
                double sum = 0;
                joseph_ray ray;
                if (joseph_ray_setup(&views[view], &slab, (double)r, (double)c, &ray)) {
                    for (int64_t k = ray.k_first; k <= ray.k_last; k++)
                        JOSEPH_FOR_EACH_VOXEL(ray, slab, k, offset, weight,
                                              sum += weight * slab_data[offset]);
                }
                float *out = &proj[(view * rows + r) * cols + c];
                *out = accumulate ? *out + (float)sum : (float)sum;
            }
        }
    }
}

static void reference_backproject(const cbct_geometry *g, const joseph_view *views,
                                  cbct_block b, const float *proj, float *slab_data,
                                  int accumulate)
{
    joseph_slab slab;
    joseph_slab_setup(g, b.z0, b.nz, &slab);
    int64_t rows = g->det_rows, cols = g->det_cols;
    if (!accumulate)
        memset(slab_data, 0, (size_t)b.nz * (size_t)slab.stride[0] * sizeof(float));
    for (int64_t view = 0; view < b.n_views; view++) {
        for (int64_t r = 0; r < rows; r++) {
            for (int64_t c = 0; c < cols; c++) {
                double value = proj[(view * rows + r) * cols + c];
                joseph_ray ray;
                if (!joseph_ray_setup(&views[view], &slab, (double)r, (double)c, &ray))
                    continue;
                for (int64_t k = ray.k_first; k <= ray.k_last; k++)
                    JOSEPH_FOR_EACH_VOXEL(ray, slab, k, offset, weight,
                                          slab_data[offset] += (float)(weight * value));
            }
        }
    }
}

const joseph_kernels joseph_reference_kernels = {
    .name = "cpu-reference",
    .project = reference_project,
    .backproject = reference_backproject,
};
