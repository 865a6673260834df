/* Reading safetensors files: the header through the parser, then tensors
 * one at a time, converted to float32. */
#include <errno.h>
#include <math.h>
#include <string.h>
#include <sys/stat.h>

#include "nn/safetensors.h"

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the safetensors reader assumes a little-endian host"
#endif

/* IEEE half precision: 1 sign, 5 exponent (bias 15), 10 mantissa bits. */
static float half_to_float(uint16_t bits)
{
    int exponent = (bits >> 10) & 0x1f;
    int mantissa = bits & 0x3ff;
    float value;
    if (exponent == 0)
        value = ldexpf((float)mantissa, -24); /* zero and subnormals */
    else if (exponent == 31)
        value = mantissa ? NAN : INFINITY;
    else
        value = ldexpf((float)(mantissa | 0x400), exponent - 25);
    return (bits & 0x8000) ? -value : value;
}

void cbct_nn_st_to_f32(cbct_nn_st_dtype dtype, const void *src, int64_t numel, float *dst)
{
    const unsigned char *p = src;
    for (int64_t i = 0; i < numel; i++) {
        switch (dtype) {
        case CBCT_NN_ST_F32:
            memcpy(&dst[i], p + 4 * i, 4);
            break;
        case CBCT_NN_ST_F16: {
            uint16_t bits;
            memcpy(&bits, p + 2 * i, 2);
            dst[i] = half_to_float(bits);
            break;
        }
        case CBCT_NN_ST_BF16: { /* the top half of a float32 */
            uint16_t bits;
            memcpy(&bits, p + 2 * i, 2);
            uint32_t wide = (uint32_t)bits << 16;
            memcpy(&dst[i], &wide, 4);
            break;
        }
        case CBCT_NN_ST_F64: {
            double v;
            memcpy(&v, p + 8 * i, 8);
            dst[i] = (float)v;
            break;
        }
        }
    }
}

cbct_status cbct_nn_safetensors_open(const char *path, FILE **fp, cbct_nn_safetensors *st)
{
    memset(st, 0, sizeof *st);
    *fp = fopen(path, "rb");
    if (!*fp)
        return cbct_error(CBCT_ERR_IO, "cannot open '%s': %s", path, strerror(errno));
    struct stat info;
    cbct_status s = CBCT_OK;
    if (fstat(fileno(*fp), &info) != 0 || !S_ISREG(info.st_mode))
        s = cbct_error(CBCT_ERR_IO, "cannot read '%s': not a regular file", path);
    uint64_t file_bytes = s ? 0 : (uint64_t)info.st_size;
    unsigned char prefix[8];
    size_t got = s ? 0 : fread(prefix, 1, sizeof prefix, *fp);
    uint64_t header_len = 0;
    if (!s)
        s = cbct_nn_safetensors_header_length(prefix, got, file_bytes, path, &header_len);
    if (s) {
        fclose(*fp);
        *fp = NULL;
        return s;
    }
    size_t n_bytes = (size_t)(8 + header_len);
    unsigned char *header = cbct_alloc(n_bytes, "safetensors header");
    if (!header)
        s = cbct_error_prefix(CBCT_ERR_MEMORY, "reading '%s'", path);
    if (!s && (fseek(*fp, 0, SEEK_SET) != 0 || fread(header, 1, n_bytes, *fp) != n_bytes))
        s = cbct_error(CBCT_ERR_IO, "cannot read the header of '%s': %s", path,
                       ferror(*fp) ? strerror(errno) : "file changed while reading");
    if (!s)
        s = cbct_nn_safetensors_parse(header, n_bytes, file_bytes, path, st);
    cbct_free(header);
    if (s) {
        fclose(*fp);
        *fp = NULL;
    }
    return s;
}

cbct_status cbct_nn_safetensors_read_f32(FILE *fp, const char *path,
                                         const cbct_nn_safetensors *st,
                                         const cbct_nn_st_tensor *t, float *dst)
{
    size_t bytes = (size_t)(t->end - t->begin);
    if (bytes == 0)
        return CBCT_OK;
    /* float32 goes straight into dst; other dtypes through a buffer. */
    void *raw = dst;
    if (t->dtype != CBCT_NN_ST_F32) {
        raw = cbct_alloc(bytes, "safetensors tensor");
        if (!raw)
            return cbct_error_prefix(CBCT_ERR_MEMORY, "reading tensor '%s' of '%s'", t->name,
                                     path);
    }
    cbct_status s = CBCT_OK;
    if (fseeko(fp, (off_t)(st->data_start + t->begin), SEEK_SET) != 0 ||
        fread(raw, 1, bytes, fp) != bytes)
        s = cbct_error(CBCT_ERR_IO, "cannot read tensor '%s' of '%s': %s", t->name, path,
                       ferror(fp) ? strerror(errno) : "the file is shorter than its header says");
    if (!s && t->dtype != CBCT_NN_ST_F32)
        cbct_nn_st_to_f32(t->dtype, raw, t->numel, dst);
    if (raw != dst)
        cbct_free(raw);
    return s;
}
