/* PNG previews: written files read back with libpng (size, pixel values),
 * the window mapping, slice orientations (z up in coronal and sagittal),
 * volumes side by side with a black gap, and errors. */
#include <unistd.h>

#include <png.h>

#include "check.h"

/* Reads an 8-bit grey PNG; returns malloc'd pixels or NULL. */
static unsigned char *read_png(const char *path, int *height, int *width)
{
    png_image image;
    memset(&image, 0, sizeof image);
    image.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_file(&image, path))
        return NULL;
    image.format = PNG_FORMAT_GRAY;
    unsigned char *pixels = malloc(PNG_IMAGE_SIZE(image));
    if (!pixels || !png_image_finish_read(&image, NULL, pixels, 0, NULL)) {
        free(pixels);
        png_image_free(&image);
        return NULL;
    }
    *height = (int)image.height;
    *width = (int)image.width;
    return pixels;
}

static void test_gray(void)
{
    char path[2048];
    check_tmpfile("gray.png", path, sizeof path);
    float image[2 * 4] = {0.0f, 1.0f, 0.5f, -3.0f, 7.0f, NAN, 0.25f, 0.998f};
    CHECK_OK(cbct_png_write_gray(path, image, 2, 4, 0.0f, 1.0f));
    int h = 0, w = 0;
    unsigned char *p = read_png(path, &h, &w);
    CHECK(p && h == 2 && w == 4);
    if (p) {
        CHECK(p[0] == 0 && p[1] == 255 && p[2] == 128 && p[3] == 0); /* 127.5 rounds up */
        CHECK(p[4] == 255 && p[5] == 0 && p[6] == 64 && p[7] == 254);
    }
    free(p);
    /* Another window: [-1, 3]. */
    CHECK_OK(cbct_png_write_gray(path, image, 2, 4, -1.0f, 3.0f));
    p = read_png(path, &h, &w);
    CHECK(p && p[0] == 64 && p[1] == 128 && p[3] == 0 && p[4] == 255);
    free(p);

    char bad[2048];
    check_tmpfile("bad.png", bad, sizeof bad);
    unlink(bad);
    CHECK_FAILS(cbct_png_write_gray(bad, image, 2, 4, 1.0f, 1.0f), CBCT_ERR_ARG, "window");
    CHECK_FAILS(cbct_png_write_gray(bad, image, 2, 4, 0.0f, NAN), CBCT_ERR_ARG, bad);
    CHECK_FAILS(cbct_png_write_gray(bad, image, 0, 4, 0.0f, 1.0f), CBCT_ERR_ARG, "0 x 4");
    CHECK_FAILS(cbct_png_write_gray(bad, image, 2, 2000000, 0.0f, 1.0f), CBCT_ERR_ARG, bad);
    CHECK(access(bad, F_OK) != 0);
    check_tmpfile("missing_folder/x.png", bad, sizeof bad);
    CHECK_FAILS(cbct_png_write_gray(bad, image, 2, 4, 0.0f, 1.0f), CBCT_ERR_IO, bad);
}

/* A (nz, ny, nx) volume with value f(z, y, x) = 100 z + 10 y + x. */
static void fill_volume(cbct_array *v, float offset)
{
    for (int64_t z = 0; z < v->shape[0]; z++)
        for (int64_t y = 0; y < v->shape[1]; y++)
            for (int64_t x = 0; x < v->shape[2]; x++)
                v->data[(z * v->shape[1] + y) * v->shape[2] + x] =
                    (float)(100 * z + 10 * y + x) + offset;
}

static void test_slices(void)
{
    char path[2048];
    check_tmpfile("slices.png", path, sizeof path);
    cbct_array v, second, other;
    CHECK_OK(cbct_array_create(&v, 5, 4, 3, "v")); /* nz 5, ny 4, nx 3 */
    CHECK_OK(cbct_array_create(&second, 5, 4, 3, "second"));
    fill_volume(&v, 0);
    fill_volume(&second, 1);
    const cbct_array *one[1] = {&v};
    int h, w;
    /* Window [0, 255]: pixel = value, so pixels show the voxel index. */
    CHECK_OK(cbct_png_write_slices(path, one, 1, CBCT_SLICE_AXIAL, 0, 255));
    unsigned char *p = read_png(path, &h, &w);
    CHECK(p && h == 4 && w == 3);
    if (p) /* z = 2: pixel (y, x) = 200 + 10 y + x, clamped at 255 */
        CHECK(p[0] == 200 && p[1 * 3 + 2] == 212 && p[3 * 3 + 2] == 232);
    free(p);

    /* Coronal: y = 2; the top row is the highest z. */
    CHECK_OK(cbct_png_write_slices(path, one, 1, CBCT_SLICE_CORONAL, 0, 500));
    p = read_png(path, &h, &w);
    CHECK(p && h == 5 && w == 3);
    if (p) {
        /* value 100 z + 20 + x in [0, 500] -> round(value * 255 / 500) */
        CHECK(p[0 * 3 + 0] == (unsigned char)(420 * 0.51 + 0.5)); /* z = 4 on top */
        CHECK(p[4 * 3 + 2] == (unsigned char)(22 * 0.51 + 0.5)); /* z = 0 at the bottom */
        CHECK(p[0] > p[4 * 3]);
    }
    free(p);

    /* Sagittal: x = 1; an nz x ny image, z up. */
    CHECK_OK(cbct_png_write_slices(path, one, 1, CBCT_SLICE_SAGITTAL, 0, 500));
    p = read_png(path, &h, &w);
    CHECK(p && h == 5 && w == 4);
    if (p) {
        CHECK(p[0 * 4 + 3] == (unsigned char)(431 * 0.51 + 0.5)); /* z = 4, y = 3 */
        CHECK(p[4 * 4 + 0] == (unsigned char)(1 * 0.51 + 0.5));   /* z = 0, y = 0 */
    }
    free(p);

    /* A volume bright only at high z is bright at the top of the coronal view. */
    cbct_array top;
    CHECK_OK(cbct_array_zeros(&top, 8, 6, 6, "top"));
    for (int64_t i = 7 * 36; i < 8 * 36; i++)
        top.data[i] = 1;
    const cbct_array *tops[1] = {&top};
    CHECK_OK(cbct_png_write_slices(path, tops, 1, CBCT_SLICE_CORONAL, 0, 1));
    p = read_png(path, &h, &w);
    CHECK(p && h == 8 && w == 6);
    if (p)
        CHECK(p[0] == 255 && p[5] == 255 && p[6] == 0 && p[7 * 6] == 0);
    free(p);
    cbct_array_destroy(&top);

    /* Two volumes side by side with a 4-pixel black gap. */
    const cbct_array *two[2] = {&v, &second};
    CHECK_OK(cbct_png_write_slices(path, two, 2, CBCT_SLICE_AXIAL, 100, 355));
    p = read_png(path, &h, &w);
    CHECK(p && h == 4 && w == 3 + 4 + 3);
    if (p) {
        CHECK(p[0] == 100 && p[2] == 102);            /* first volume, y = 0 */
        CHECK(p[3] == 0 && p[6] == 0 && p[13] == 0);  /* the gap, rows 0 and 1 */
        CHECK(p[7] == 101 && p[10 + 9] == 113);       /* second volume: + 1 */
    }
    free(p);

    CHECK_OK(cbct_array_create(&other, 5, 4, 4, "other"));
    const cbct_array *mismatch[2] = {&v, &other};
    CHECK_FAILS(cbct_png_write_slices(path, mismatch, 2, CBCT_SLICE_AXIAL, 0, 1), CBCT_ERR_ARG,
                "volume 1 has shape 5 x 4 x 4 but volume 0 has 5 x 4 x 3");
    CHECK_FAILS(cbct_png_write_slices(path, one, 0, CBCT_SLICE_AXIAL, 0, 1), CBCT_ERR_ARG,
                "no volumes");
    CHECK_FAILS(cbct_png_write_slices(path, one, 1, (cbct_slice_plane)7, 0, 1), CBCT_ERR_ARG,
                "plane 7");
    cbct_array_destroy(&v);
    cbct_array_destroy(&second);
    cbct_array_destroy(&other);
}

int main(void)
{
    test_gray();
    test_slices();
    CHECK(cbct_mem_current() == 0);
    return check_summary("test_io_png");
}
