/* The NIfTI-1 header from memory: size, type, byte order, scaling and the
 * grid (sform, qform or pixdim) in cbct's terms; and writing one. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cbct/core.h"
#include "io/nifti_internal.h"

/* NIfTI-1 datatype codes (nifti1.h). */
enum {
    DT_UINT8 = 2, DT_INT16 = 4, DT_INT32 = 8, DT_FLOAT32 = 16, DT_FLOAT64 = 64,
    DT_INT8 = 256, DT_UINT16 = 512, DT_UINT32 = 768
};
/* xyzt_units: the spatial part (low 3 bits). */
enum { UNITS_METER = 1, UNITS_MM = 2, UNITS_MICRON = 3 };
/* Relative size of an off-diagonal grid term still taken as zero (float
 * rounding of a computed rotation matrix). */
#define DIAGONAL_TOLERANCE 1e-6

typedef struct raw_header {
    const unsigned char *b;
    int swap;
} raw_header;

static uint32_t u32_at(const raw_header *h, size_t off)
{
    const unsigned char *p = h->b + off;
    return h->swap ? (uint32_t)p[3] | (uint32_t)p[2] << 8 | (uint32_t)p[1] << 16 |
                         (uint32_t)p[0] << 24
                   : (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
                         (uint32_t)p[3] << 24;
}

static int16_t i16_at(const raw_header *h, size_t off)
{
    const unsigned char *p = h->b + off;
    return (int16_t)(h->swap ? (uint16_t)(p[1] | p[0] << 8) : (uint16_t)(p[0] | p[1] << 8));
}

static double f32_at(const raw_header *h, size_t off)
{
    uint32_t u = u32_at(h, off);
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

static cbct_status element_type(int code, int bitpix, const char *name, cbct_met_type *out)
{
    static const struct { int code, bits; cbct_met_type type; } table[] = {
        {DT_UINT8, 8, CBCT_MET_UCHAR}, {DT_INT8, 8, CBCT_MET_CHAR},
        {DT_INT16, 16, CBCT_MET_SHORT}, {DT_UINT16, 16, CBCT_MET_USHORT},
        {DT_INT32, 32, CBCT_MET_INT}, {DT_UINT32, 32, CBCT_MET_UINT},
        {DT_FLOAT32, 32, CBCT_MET_FLOAT}, {DT_FLOAT64, 64, CBCT_MET_DOUBLE}};
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (table[i].code == code) {
            if (bitpix != table[i].bits)
                return cbct_error(CBCT_ERR_FORMAT, "'%s': datatype %d with bitpix %d: expected "
                                  "bitpix %d", name, code, bitpix, table[i].bits);
            *out = table[i].type;
            return CBCT_OK;
        }
    return cbct_error(CBCT_ERR_FORMAT, "'%s': NIfTI datatype %d: expected uint8 (2), int8 (256), "
                      "int16 (4), uint16 (512), int32 (8), uint32 (768), float32 (16) or "
                      "float64 (64)", name, code);
}

/* The 3x4 voxel-to-world matrix (rows x, y, z) from the qform. */
static void qform_matrix(const raw_header *h, const double pix[3], double m[3][4])
{
    double b = f32_at(h, 256), c = f32_at(h, 260), d = f32_at(h, 264);
    double a2 = 1.0 - (b * b + c * c + d * d);
    double a = a2 > 0 ? sqrt(a2) : 0.0; /* tiny negative: rounding of a 180-degree turn */
    double qfac = f32_at(h, 76) < 0 ? -1.0 : 1.0;
    double r[3][3] = {
        {a * a + b * b - c * c - d * d, 2 * (b * c - a * d), 2 * (b * d + a * c)},
        {2 * (b * c + a * d), a * a + c * c - b * b - d * d, 2 * (c * d - a * b)},
        {2 * (b * d - a * c), 2 * (c * d + a * b), a * a + d * d - c * c - b * b}};
    double step[3] = {pix[0], pix[1], pix[2] * qfac};
    for (int i = 0; i < 3; i++) {
        for (int j = 0; j < 3; j++)
            m[i][j] = r[i][j] * step[j];
        m[i][3] = f32_at(h, 268 + 4 * (size_t)i);
    }
}

/* Diagonal grid -> spacing, flips and centre (cbct order z, y, x). */
static cbct_status grid_from_matrix(const char *name, const char *source, double m[3][4],
                                    const int64_t n_xyz[3], double unit_mm,
                                    cbct_nifti_header *out)
{
    for (int j = 0; j < 3; j++) {
        double scale = fabs(m[0][j]) + fabs(m[1][j]) + fabs(m[2][j]);
        for (int i = 0; i < 3; i++)
            if (i != j && fabs(m[i][j]) > DIAGONAL_TOLERANCE * scale)
                return cbct_error(CBCT_ERR_FORMAT, "'%s': the %s rotates or shears the grid "
                                  "(term [%d][%d] = %g): cbct volumes are axis-aligned, expected "
                                  "a diagonal matrix (resample the volume first)", name, source,
                                  i, j, m[i][j]);
        if (!(scale > 0) || !isfinite(scale) || !isfinite(m[j][3]))
            return cbct_error(CBCT_ERR_FORMAT, "'%s': the %s gives axis %d a step of %g: "
                              "expected a finite non-zero voxel size", name, source, j,
                              m[j][j]);
    }
    for (int j = 0; j < 3; j++) { /* j: x, y, z; cbct index 2 - j */
        double centre = m[j][3] + m[j][j] * 0.5 * (double)(n_xyz[j] - 1);
        out->spacing[2 - j] = fabs(m[j][j]) * unit_mm;
        out->origin[2 - j] = centre * unit_mm;
        out->flipped[2 - j] = m[j][j] < 0;
    }
    return CBCT_OK;
}

cbct_status cbct_nifti_parse_header(const void *bytes, size_t n_bytes, const char *name,
                                    cbct_nifti_header *out)
{
    memset(out, 0, sizeof *out);
    if (!bytes || n_bytes < NIFTI1_HEADER_BYTES)
        return cbct_error(CBCT_ERR_FORMAT, "'%s': %zu bytes: a NIfTI-1 header has %d (truncated "
                          "file?)", name, n_bytes, NIFTI1_HEADER_BYTES);
    raw_header h = {bytes, 0};
    uint32_t size = u32_at(&h, 0);
    if (size != NIFTI1_HEADER_BYTES) {
        h.swap = 1;
        if (u32_at(&h, 0) != NIFTI1_HEADER_BYTES)
            return cbct_error(CBCT_ERR_FORMAT, "'%s': sizeof_hdr is %u: expected 348 (NIfTI-1; "
                              "%s)", name, size, size == 540 ? "NIfTI-2 is not supported"
                                                             : "not a NIfTI file?");
    }
    out->swapped = h.swap;
    const unsigned char *magic = h.b + 344;
    if (memcmp(magic, "n+1\0", 4) != 0)
        return cbct_error(CBCT_ERR_FORMAT, "'%s': magic '%.3s': expected 'n+1' (single-file "
                          "NIfTI-1%s)", name, (const char *)magic,
                          memcmp(magic, "ni1\0", 4) == 0 ? "; .hdr/.img pairs are not supported"
                                                        : "");
    int ndim = i16_at(&h, 40);
    if (ndim < 1 || ndim > 7)
        return cbct_error(CBCT_ERR_FORMAT, "'%s': dim[0] = %d: expected 1..7", name, ndim);
    int64_t n_xyz[3] = {1, 1, 1};
    for (int i = 1; i <= ndim; i++) {
        int d = i16_at(&h, 40 + 2 * (size_t)i);
        if (d < 1)
            return cbct_error(CBCT_ERR_FORMAT, "'%s': dim[%d] = %d: expected >= 1", name, i, d);
        if (i <= 3)
            n_xyz[i - 1] = d;
        else if (d != 1)
            return cbct_error(CBCT_ERR_FORMAT, "'%s': dim[%d] = %d: expected a 3D volume (time "
                              "and further dimensions of 1)", name, i, d);
    }
    cbct_status s = element_type(i16_at(&h, 70), i16_at(&h, 72), name, &out->element_type);
    if (s)
        return s;
    double offset = f32_at(&h, 108);
    if (!(offset >= NIFTI1_HEADER_BYTES) || offset > 1e15 || offset != floor(offset))
        return cbct_error(CBCT_ERR_FORMAT, "'%s': vox_offset %g: expected a whole number >= 348",
                          name, offset);
    out->data_offset = (uint64_t)offset;
    double slope = f32_at(&h, 112), inter = f32_at(&h, 116);
    out->slope = 1.0;
    out->intercept = 0.0;
    if (slope != 0 && isfinite(slope)) { /* 0 (or NaN, as nibabel writes): no scaling */
        out->slope = slope;
        out->intercept = isfinite(inter) ? inter : 0.0;
    }
    int units = h.b[123] & 7;
    double unit_mm = units == UNITS_METER ? 1e3 : units == UNITS_MICRON ? 1e-3 : 1.0;
    double pix[3] = {f32_at(&h, 80), f32_at(&h, 84), f32_at(&h, 88)};
    double m[3][4];
    memset(m, 0, sizeof m);
    int sform = i16_at(&h, 254), qform = i16_at(&h, 252);
    const char *source;
    if (sform > 0) {
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 4; j++)
                m[i][j] = f32_at(&h, 280 + 16 * (size_t)i + 4 * (size_t)j);
        out->grid_source = 2;
        source = "sform (srow_x/y/z)";
    } else {
        for (int j = 0; j < 3; j++)
            if (!(pix[j] > 0) || !isfinite(pix[j]))
                return cbct_error(CBCT_ERR_FORMAT, "'%s': pixdim[%d] = %g: expected a positive "
                                  "voxel size", name, j + 1, pix[j]);
        if (qform > 0) {
            qform_matrix(&h, pix, m);
            out->grid_source = 1;
            source = "qform";
        } else { /* "method 1" of nifti1.h: pixdim only, first voxel at 0 */
            for (int j = 0; j < 3; j++)
                m[j][j] = pix[j];
            source = "pixdim";
        }
    }
    if ((s = grid_from_matrix(name, source, m, n_xyz, unit_mm, out)))
        return s;
    out->shape[0] = n_xyz[2];
    out->shape[1] = n_xyz[1];
    out->shape[2] = n_xyz[0];
    /* nx * ny * nz * 8 < 2^63: each dim < 2^15. */
    return CBCT_OK;
}

static void put_u32(unsigned char *p, uint32_t v)
{
    memcpy(p, &v, 4); /* little-endian host (checked where the data are read) */
}

static void put_i16(unsigned char *p, int16_t v)
{
    memcpy(p, &v, 2);
}

static void put_f32(unsigned char *p, double v)
{
    float f = (float)v;
    memcpy(p, &f, 4);
}

void cbct_nifti_format_header(const int64_t shape[3], const double spacing[3],
                              const double origin[3], unsigned char out[NIFTI1_DATA_OFFSET])
{
    memset(out, 0, NIFTI1_DATA_OFFSET);
    put_u32(out, NIFTI1_HEADER_BYTES);
    out[38] = 'r'; /* "regular", as nifti1.h asks */
    int64_t n_xyz[3] = {shape[2], shape[1], shape[0]};
    double d_xyz[3] = {spacing[2], spacing[1], spacing[0]};
    double first[3]; /* world position of voxel (0, 0, 0) */
    for (int j = 0; j < 3; j++)
        first[j] = origin[2 - j] - 0.5 * (double)(n_xyz[j] - 1) * d_xyz[j];
    put_i16(out + 40, 3);
    for (int j = 0; j < 3; j++)
        put_i16(out + 42 + 2 * j, (int16_t)n_xyz[j]);
    for (int j = 3; j < 7; j++)
        put_i16(out + 42 + 2 * j, 1);
    put_i16(out + 70, DT_FLOAT32);
    put_i16(out + 72, 32);
    put_f32(out + 76, 1.0); /* qfac */
    for (int j = 0; j < 3; j++)
        put_f32(out + 80 + 4 * j, d_xyz[j]);
    put_f32(out + 108, NIFTI1_DATA_OFFSET);
    put_f32(out + 112, 1.0); /* scl_slope */
    out[123] = UNITS_MM;
    snprintf((char *)out + 148, 80, "cbct");
    put_i16(out + 252, 1); /* qform_code: scanner anatomical */
    put_i16(out + 254, 1); /* sform_code */
    /* qform: identity rotation (b = c = d = 0), offset = first voxel */
    for (int j = 0; j < 3; j++)
        put_f32(out + 268 + 4 * j, first[j]);
    for (int i = 0; i < 3; i++) {
        put_f32(out + 280 + 16 * i + 4 * i, d_xyz[i]);
        put_f32(out + 280 + 16 * i + 12, first[i]);
    }
    memcpy(out + 344, "n+1\0", 4);
}
