/* Preview of the middle slice of one or more volumes, side by side, with
 * the z axis pointing up in the coronal and sagittal views (as in a
 * radiology viewer: the top of the image is the highest z). */
#include <stdio.h>

#include "cbct/io.h"
#include "io/png_internal.h"

/* Black pixels between two volumes. */
#define GAP_PIXELS 4

/* Height and width of the slice image of a (nz, ny, nx) volume. */
static cbct_status slice_size(const char *path, const int64_t shape[3], cbct_slice_plane plane,
                              int64_t *height, int64_t *width)
{
    switch (plane) {
    case CBCT_SLICE_AXIAL: *height = shape[1]; *width = shape[2]; return CBCT_OK;
    case CBCT_SLICE_CORONAL: *height = shape[0]; *width = shape[2]; return CBCT_OK;
    case CBCT_SLICE_SAGITTAL: *height = shape[0]; *width = shape[1]; return CBCT_OK;
    }
    return cbct_error(CBCT_ERR_ARG, "cannot write '%s': unknown slice plane %d", path,
                      (int)plane);
}

/* Copies the middle slice of `vol` into `dst` (rows `stride` floats apart). */
static void copy_slice(const cbct_array *vol, cbct_slice_plane plane, float *dst,
                       int64_t stride)
{
    int64_t nz = vol->shape[0], ny = vol->shape[1], nx = vol->shape[2];
    const float *v = vol->data;
    if (plane == CBCT_SLICE_AXIAL) {
        const float *slice = v + (nz / 2) * ny * nx;
        for (int64_t y = 0; y < ny; y++)
            for (int64_t x = 0; x < nx; x++)
                dst[y * stride + x] = slice[y * nx + x];
    } else if (plane == CBCT_SLICE_CORONAL) {
        for (int64_t z = 0; z < nz; z++)
            for (int64_t x = 0; x < nx; x++)
                dst[(nz - 1 - z) * stride + x] = v[(z * ny + ny / 2) * nx + x];
    } else {
        for (int64_t z = 0; z < nz; z++)
            for (int64_t y = 0; y < ny; y++)
                dst[(nz - 1 - z) * stride + y] = v[(z * ny + y) * nx + nx / 2];
    }
}

cbct_status cbct_png_write_slices(const char *path, const cbct_array *const *volumes,
                                  int n_volumes, cbct_slice_plane plane, float lo, float hi)
{
    if (!volumes || n_volumes < 1)
        return cbct_error(CBCT_ERR_ARG, "cannot write '%s': no volumes given", path);
    for (int i = 0; i < n_volumes; i++) {
        const cbct_array *a = volumes[i], *first = volumes[0];
        if (!a || !a->data)
            return cbct_error(CBCT_ERR_ARG, "cannot write '%s': volume %d has no data", path, i);
        if (a->shape[0] != first->shape[0] || a->shape[1] != first->shape[1] ||
            a->shape[2] != first->shape[2])
            return cbct_error(CBCT_ERR_ARG, "cannot write '%s': volume %d has shape %lld x %lld "
                              "x %lld but volume 0 has %lld x %lld x %lld: the shapes must "
                              "match", path, i, (long long)a->shape[0], (long long)a->shape[1],
                              (long long)a->shape[2], (long long)first->shape[0],
                              (long long)first->shape[1], (long long)first->shape[2]);
    }
    int64_t height = 0, width = 0;
    cbct_status s = slice_size(path, volumes[0]->shape, plane, &height, &width);
    if (s || (s = cbct_png_check_size(path, height, width)))
        return s;
    int64_t total_width = n_volumes * (width + GAP_PIXELS) - GAP_PIXELS;
    if ((s = cbct_png_check_size(path, height, total_width)))
        return s;
    float *image = cbct_alloc((size_t)height * (size_t)total_width * sizeof(float),
                              "png preview image");
    if (!image)
        return cbct_error_prefix(CBCT_ERR_MEMORY, "writing '%s'", path);
    /* The gaps get the bottom of the window, which maps to black. */
    for (int64_t i = 0; i < height * total_width; i++)
        image[i] = lo;
    for (int i = 0; i < n_volumes; i++)
        copy_slice(volumes[i], plane, image + i * (width + GAP_PIXELS), total_width);
    s = cbct_png_write_gray(path, image, height, total_width, lo, hi);
    cbct_free(image);
    return s;
}
