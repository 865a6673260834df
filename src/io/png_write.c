/* 8-bit grey PNG previews with libpng, written atomically. libpng reports
 * errors by longjmp; the jump lands in one small function that only frees
 * libpng's own structures, and the caller removes the temporary file. */
#include <math.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>

#include <png.h>

#include "cbct/io.h"
#include "io/png_internal.h"

typedef struct {
    char message[256]; /* libpng's last error */
} png_error_context;

static void on_png_error(png_structp png, png_const_charp message)
{
    png_error_context *ctx = png_get_error_ptr(png);
    snprintf(ctx->message, sizeof ctx->message, "%s", message);
    png_longjmp(png, 1);
}

/* The library never prints: warnings (e.g. about ancillary chunks) go to
 * the log at debug level. */
static void on_png_warning(png_structp png, png_const_charp message)
{
    (void)png;
    cbct_log(CBCT_LOG_DEBUG, "libpng warning: %s", message);
}

/* One row of floats to bytes: [lo, hi] -> [0, 255], clamped; NaN -> 0. */
static void row_to_gray(const float *src, int64_t width, double lo, double scale,
                        unsigned char *dst)
{
    for (int64_t x = 0; x < width; x++) {
        double v = ((double)src[x] - lo) * scale;
        if (!(v > 0))
            dst[x] = 0;
        else if (v >= 255)
            dst[x] = 255;
        else
            dst[x] = (unsigned char)(v + 0.5);
    }
}

/* Returns 0 on success, -1 with ctx->message set on failure. */
static int encode_png(FILE *fp, const float *image, int64_t height, int64_t width, float lo,
                      float hi, unsigned char *row, png_error_context *ctx)
{
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, ctx, on_png_error,
                                              on_png_warning);
    if (!png) {
        snprintf(ctx->message, sizeof ctx->message, "cannot create the PNG writer");
        return -1;
    }
    png_infop info = png_create_info_struct(png);
    if (!info) {
        png_destroy_write_struct(&png, NULL);
        snprintf(ctx->message, sizeof ctx->message, "cannot create the PNG header");
        return -1;
    }
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        return -1;
    }
    png_init_io(png, fp);
    png_set_IHDR(png, info, (png_uint_32)width, (png_uint_32)height, 8, PNG_COLOR_TYPE_GRAY,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    double scale = 255.0 / ((double)hi - (double)lo);
    for (int64_t y = 0; y < height; y++) {
        row_to_gray(image + y * width, width, lo, scale, row);
        png_write_row(png, row);
    }
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    return 0;
}

cbct_status cbct_png_check_size(const char *path, int64_t height, int64_t width)
{
    if (height < 1 || width < 1 || height > CBCT_PNG_MAX_SIDE || width > CBCT_PNG_MAX_SIDE)
        return cbct_error(CBCT_ERR_ARG, "cannot write '%s': image %lld x %lld pixels, expected "
                          "1 to %d pixels a side", path, (long long)height, (long long)width,
                          CBCT_PNG_MAX_SIDE);
    return CBCT_OK;
}

cbct_status cbct_png_write_gray(const char *path, const float *image, int64_t height,
                                int64_t width, float lo, float hi)
{
    cbct_status s = cbct_png_check_size(path, height, width);
    if (s)
        return s;
    if (!image)
        return cbct_error(CBCT_ERR_ARG, "cannot write '%s': no image data", path);
    if (!isfinite(lo) || !isfinite(hi) || !(hi > lo))
        return cbct_error(CBCT_ERR_ARG, "cannot write '%s': grey window [%g, %g] must be finite "
                          "with lo < hi", path, (double)lo, (double)hi);
    unsigned char *row = cbct_alloc((size_t)width, "png row");
    if (!row)
        return cbct_error_prefix(CBCT_ERR_MEMORY, "writing '%s'", path);
    cbct_atomic_file f;
    if ((s = cbct_atomic_open(path, &f))) {
        cbct_free(row);
        return s;
    }
    png_error_context ctx = {""};
    if (encode_png(f.fp, image, height, width, lo, hi, row, &ctx) != 0) {
        cbct_atomic_abort(&f);
        s = cbct_error(CBCT_ERR_IO, "cannot write '%s': libpng: %s", path, ctx.message);
    } else {
        s = cbct_atomic_commit(&f);
    }
    cbct_free(row);
    return s;
}
