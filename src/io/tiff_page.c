/* One TIFF page (directory): its size and sample type, decoding it to
 * float32 (strips or tiles, any compression libtiff knows), its grid tags,
 * and writing one. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/metaimage_internal.h"
#include "io/tiff_internal.h"

cbct_status cbct_tiff_page_info(TIFF *t, const char *name, int64_t page, tiff_page *out)
{
    uint32_t rows = 0, cols = 0;
    uint16_t spp = 1, bits = 1, format = SAMPLEFORMAT_UINT;
    TIFFGetField(t, TIFFTAG_IMAGEWIDTH, &cols);
    TIFFGetField(t, TIFFTAG_IMAGELENGTH, &rows);
    TIFFGetFieldDefaulted(t, TIFFTAG_SAMPLESPERPIXEL, &spp);
    TIFFGetFieldDefaulted(t, TIFFTAG_BITSPERSAMPLE, &bits);
    TIFFGetFieldDefaulted(t, TIFFTAG_SAMPLEFORMAT, &format);
    if (rows == 0 || cols == 0)
        return cbct_error(CBCT_ERR_FORMAT, "'%s' page %lld: image of %u x %u pixels: expected "
                          "a positive size", name, (long long)page, rows, cols);
    if (spp != 1)
        return cbct_error(CBCT_ERR_FORMAT, "'%s' page %lld: %u samples per pixel: expected 1 "
                          "(grey-level images only; colour cannot be a CT slice)", name,
                          (long long)page, spp);
    int type = -1;
    if (format == SAMPLEFORMAT_UINT || format == SAMPLEFORMAT_VOID)
        type = bits == 8 ? CBCT_MET_UCHAR : bits == 16 ? CBCT_MET_USHORT
             : bits == 32 ? CBCT_MET_UINT : -1;
    else if (format == SAMPLEFORMAT_INT)
        type = bits == 8 ? CBCT_MET_CHAR : bits == 16 ? CBCT_MET_SHORT
             : bits == 32 ? CBCT_MET_INT : -1;
    else if (format == SAMPLEFORMAT_IEEEFP)
        type = bits == 32 ? CBCT_MET_FLOAT : bits == 64 ? CBCT_MET_DOUBLE : -1;
    if (type < 0)
        return cbct_error(CBCT_ERR_FORMAT, "'%s' page %lld: %u-bit samples of SampleFormat %u: "
                          "expected 8, 16 or 32-bit integers or 32 or 64-bit floats", name,
                          (long long)page, bits, format);
    out->rows = rows;
    out->cols = cols;
    out->type = (cbct_met_type)type;
    return CBCT_OK;
}

/* Decoded rows [row0, row0 + n) of `cols` samples at `src` into dst. */
static void convert_rows(const tiff_page *p, void *src, uint32_t row0, uint32_t n,
                         uint32_t src_cols, uint32_t col0, uint32_t width, float *dst)
{
    size_t item = cbct_met_type_bytes(p->type);
    for (uint32_t r = 0; r < n; r++)
        cbct_mha_convert(p->type, 0, (unsigned char *)src + ((size_t)r * src_cols) * item,
                         width, dst + (size_t)(row0 + r) * p->cols + col0);
}

static cbct_status read_strips(TIFF *t, const char *name, int64_t page, const tiff_page *p,
                               tiff_diag *d, float *dst)
{
    uint32_t per_strip = p->rows;
    TIFFGetFieldDefaulted(t, TIFFTAG_ROWSPERSTRIP, &per_strip);
    if (per_strip == 0 || per_strip > p->rows)
        per_strip = p->rows;
    size_t item = cbct_met_type_bytes(p->type);
    size_t strip_bytes = (size_t)per_strip * p->cols * item;
    void *buf = cbct_alloc(strip_bytes, "TIFF strip");
    if (!buf)
        return cbct_error_prefix(CBCT_ERR_MEMORY, "reading '%s'", name);
    cbct_status s = CBCT_OK;
    for (uint32_t row = 0, strip = 0; row < p->rows && !s; row += per_strip, strip++) {
        uint32_t n = p->rows - row < per_strip ? p->rows - row : per_strip;
        tmsize_t want = (tmsize_t)((size_t)n * p->cols * item);
        tmsize_t got = TIFFReadEncodedStrip(t, strip, buf, want);
        if (got < want)
            s = cbct_error(CBCT_ERR_FORMAT, "'%s' page %lld: strip %u (rows %u..%u) cannot be "
                           "read: expected %lld bytes, got %lld (truncated or corrupt file?)%s",
                           name, (long long)page, strip, row, row + n - 1, (long long)want,
                           (long long)got, cbct_tiff_said(d));
        else
            convert_rows(p, buf, row, n, p->cols, 0, p->cols, dst);
    }
    cbct_free(buf);
    return s;
}

static cbct_status read_tiles(TIFF *t, const char *name, int64_t page, const tiff_page *p,
                              tiff_diag *d, float *dst)
{
    uint32_t tw = 0, th = 0;
    TIFFGetField(t, TIFFTAG_TILEWIDTH, &tw);
    TIFFGetField(t, TIFFTAG_TILELENGTH, &th);
    if (tw == 0 || th == 0 || tw > (1u << 16) || th > (1u << 16))
        return cbct_error(CBCT_ERR_FORMAT, "'%s' page %lld: tiles of %u x %u pixels: expected "
                          "1..65536", name, (long long)page, tw, th);
    size_t item = cbct_met_type_bytes(p->type);
    size_t tile_bytes = (size_t)tw * th * item;
    void *buf = cbct_alloc(tile_bytes, "TIFF tile");
    if (!buf)
        return cbct_error_prefix(CBCT_ERR_MEMORY, "reading '%s'", name);
    cbct_status s = CBCT_OK;
    for (uint32_t y = 0; y < p->rows && !s; y += th)
        for (uint32_t x = 0; x < p->cols && !s; x += tw) {
            tmsize_t got = TIFFReadTile(t, buf, x, y, 0, 0);
            if (got < (tmsize_t)tile_bytes) {
                s = cbct_error(CBCT_ERR_FORMAT, "'%s' page %lld: the tile at row %u, column %u "
                               "cannot be read (truncated or corrupt file?)%s", name,
                               (long long)page, y, x, cbct_tiff_said(d));
                break;
            }
            uint32_t n = p->rows - y < th ? p->rows - y : th;
            uint32_t w = p->cols - x < tw ? p->cols - x : tw;
            convert_rows(p, buf, y, n, tw, x, w, dst);
        }
    cbct_free(buf);
    return s;
}

cbct_status cbct_tiff_read_page(TIFF *t, const char *name, int64_t page, const tiff_page *p,
                                tiff_diag *d, float *dst)
{
    return TIFFIsTiled(t) ? read_tiles(t, name, page, p, d, dst)
                          : read_strips(t, name, page, p, d, dst);
}

/* Three comma-separated numbers after `key` in `text`; 1 when found. */
static int three_after(const char *text, const char *key, double v[3])
{
    const char *p = strstr(text, key);
    if (!p)
        return 0;
    return sscanf(p + strlen(key), "%lf,%lf,%lf", &v[0], &v[1], &v[2]) == 3 &&
           isfinite(v[0]) && isfinite(v[1]) && isfinite(v[2]);
}

/* ImageJ's unit= line as millimetres per unit (mm when unknown). */
static double imagej_unit_mm(const char *text)
{
    const char *p = strstr(text, "\nunit=");
    if (!p)
        return 1.0;
    p += 6;
    if (!strncmp(p, "micron", 6) || !strncmp(p, "um", 2) || !strncmp(p, "\xc2\xb5m", 3) ||
        !strncmp(p, "\\u00B5m", 7))
        return 1e-3;
    if (!strncmp(p, "cm", 2))
        return 10.0;
    if (!strncmp(p, "nm", 2))
        return 1e-6;
    return 1.0;
}

int cbct_tiff_page_grid(TIFF *t, double spacing[3], double origin[3])
{
    for (int i = 0; i < 3; i++) {
        spacing[i] = 1.0;
        origin[i] = 0.0;
    }
    const char *text = NULL;
    TIFFGetField(t, TIFFTAG_IMAGEDESCRIPTION, &text);
    double sp[3], org[3];
    if (text && three_after(text, "cbct spacing=", sp) && sp[0] > 0 && sp[1] > 0 && sp[2] > 0) {
        memcpy(spacing, sp, sizeof sp);
        if (three_after(text, " origin=", org))
            memcpy(origin, org, sizeof org);
        return 1;
    }
    /* Pixel pitch from the resolution tags; z from an ImageJ description. */
    float xres = 0, yres = 0;
    uint16_t unit = RESUNIT_NONE;
    int has_res = TIFFGetField(t, TIFFTAG_XRESOLUTION, &xres) &&
                  TIFFGetField(t, TIFFTAG_YRESOLUTION, &yres) && xres > 0 && yres > 0;
    TIFFGetFieldDefaulted(t, TIFFTAG_RESOLUTIONUNIT, &unit);
    int imagej = text && !strncmp(text, "ImageJ=", 7);
    double mm_per_unit = unit == RESUNIT_CENTIMETER ? 10.0 : unit == RESUNIT_INCH ? 25.4
                       : imagej ? imagej_unit_mm(text) : 0.0;
    int found = 0;
    if (has_res && mm_per_unit > 0 && isfinite(mm_per_unit / xres) &&
        isfinite(mm_per_unit / yres)) {
        spacing[2] = mm_per_unit / xres;
        spacing[1] = mm_per_unit / yres;
        found = 1;
    }
    const char *z = imagej ? strstr(text, "\nspacing=") : NULL;
    double dz;
    if (z && sscanf(z + 9, "%lf", &dz) == 1 && dz > 0 && isfinite(dz)) {
        spacing[0] = dz * imagej_unit_mm(text);
        found = 1;
    }
    return found;
}

/* One row as uint16: whole numbers in range only (no silent rounding). */
static cbct_status to_u16(const char *name, int64_t page, int64_t row, const float *src,
                          int64_t cols, uint16_t *dst)
{
    for (int64_t c = 0; c < cols; c++) {
        float v = src[c];
        if (!(v >= 0.0f && v <= 65535.0f) || v != floorf(v))
            return cbct_error(CBCT_ERR_ARG, "cannot write '%s' as uint16: value %g at slice "
                              "%lld, row %lld, column %lld is not a whole number in [0, 65535]",
                              name, (double)v, (long long)page, (long long)row, (long long)c);
        dst[c] = (uint16_t)v;
    }
    return CBCT_OK;
}

cbct_status cbct_tiff_write_page(TIFF *t, const char *name, int64_t page, int64_t n_pages,
                                 int64_t rows, int64_t cols, cbct_met_type type,
                                 const double spacing[3], const double origin[3],
                                 const float *data)
{
    int u16 = type == CBCT_MET_USHORT;
    char text[256];
    snprintf(text, sizeof text, "cbct spacing=%.17g,%.17g,%.17g origin=%.17g,%.17g,%.17g",
             spacing[0], spacing[1], spacing[2], origin[0], origin[1], origin[2]);
    int ok = TIFFSetField(t, TIFFTAG_IMAGEWIDTH, (uint32_t)cols) &&
             TIFFSetField(t, TIFFTAG_IMAGELENGTH, (uint32_t)rows) &&
             TIFFSetField(t, TIFFTAG_SAMPLESPERPIXEL, (uint16_t)1) &&
             TIFFSetField(t, TIFFTAG_BITSPERSAMPLE, (uint16_t)(u16 ? 16 : 32)) &&
             TIFFSetField(t, TIFFTAG_SAMPLEFORMAT,
                          (uint16_t)(u16 ? SAMPLEFORMAT_UINT : SAMPLEFORMAT_IEEEFP)) &&
             TIFFSetField(t, TIFFTAG_PHOTOMETRIC, (uint16_t)PHOTOMETRIC_MINISBLACK) &&
             TIFFSetField(t, TIFFTAG_PLANARCONFIG, (uint16_t)PLANARCONFIG_CONTIG) &&
             TIFFSetField(t, TIFFTAG_COMPRESSION, (uint16_t)COMPRESSION_NONE) &&
             TIFFSetField(t, TIFFTAG_ROWSPERSTRIP, TIFFDefaultStripSize(t, 0)) &&
             TIFFSetField(t, TIFFTAG_IMAGEDESCRIPTION, text) &&
             /* pixels per cm; the description keeps the exact numbers */
             TIFFSetField(t, TIFFTAG_RESOLUTIONUNIT, (uint16_t)RESUNIT_CENTIMETER) &&
             TIFFSetField(t, TIFFTAG_XRESOLUTION, (float)(10.0 / spacing[2])) &&
             TIFFSetField(t, TIFFTAG_YRESOLUTION, (float)(10.0 / spacing[1]));
    if (ok && n_pages > 1)
        ok = TIFFSetField(t, TIFFTAG_SUBFILETYPE, (uint32_t)FILETYPE_PAGE) &&
             TIFFSetField(t, TIFFTAG_PAGENUMBER, (uint16_t)(page < 65535 ? page : 65535),
                          (uint16_t)(n_pages < 65535 ? n_pages : 65535));
    if (!ok)
        return cbct_error(CBCT_ERR_IO, "cannot write '%s': page %lld's tags were refused",
                          name, (long long)page);
    uint16_t *row16 = NULL;
    if (u16 && !(row16 = cbct_alloc((size_t)cols * sizeof *row16, "TIFF row")))
        return cbct_error_prefix(CBCT_ERR_MEMORY, "writing '%s'", name);
    cbct_status s = CBCT_OK;
    for (int64_t r = 0; r < rows && !s; r++) {
        const float *src = data + (size_t)r * (size_t)cols;
        void *line = (void *)src;
        if (u16) {
            if ((s = to_u16(name, page, r, src, cols, row16)))
                break;
            line = row16;
        }
        if (TIFFWriteScanline(t, line, (uint32_t)r, 0) < 0)
            s = cbct_error(CBCT_ERR_IO, "cannot write '%s': page %lld, row %lld (disk full?)",
                           name, (long long)page, (long long)r);
    }
    cbct_free(row16);
    if (!s && !TIFFWriteDirectory(t))
        s = cbct_error(CBCT_ERR_IO, "cannot write '%s': page %lld's directory (disk full?)",
                       name, (long long)page);
    return s;
}
