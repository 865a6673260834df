/* safetensors files (Hugging Face): an 8-byte little-endian header length
 * N, N bytes of JSON {name: {"dtype", "shape", "data_offsets": [begin,
 * end]}, "__metadata__": {...}}, then the data section; offsets count from
 * the start of the data section. Not part of the public API; the parser is
 * meant for hostile input (fuzzed) and never reads past what it is given. */
#ifndef CBCT_NN_SAFETENSORS_H
#define CBCT_NN_SAFETENSORS_H

#include <stdint.h>
#include <stdio.h>

#include "cbct/core.h"

/* Most dimensions of a tensor accepted (PyTorch weights have 1 to 5). */
#define CBCT_NN_ST_MAX_DIMS 8
/* Longest header accepted: the limit of the reference implementation. */
#define CBCT_NN_ST_MAX_HEADER_BYTES ((uint64_t)100 << 20)

typedef enum {
    CBCT_NN_ST_F32 = 0,
    CBCT_NN_ST_F16,
    CBCT_NN_ST_BF16,
    CBCT_NN_ST_F64
} cbct_nn_st_dtype;

typedef struct cbct_nn_st_tensor {
    char *name;
    cbct_nn_st_dtype dtype;
    int ndim;
    int64_t shape[CBCT_NN_ST_MAX_DIMS];
    int64_t numel;
    uint64_t begin, end; /* bytes, from the start of the data section */
} cbct_nn_st_tensor;

typedef struct cbct_nn_safetensors {
    cbct_nn_st_tensor *tensors; /* in the order of the header */
    int64_t n_tensors;
    uint64_t data_start; /* 8 + header length */
    uint64_t data_bytes; /* bytes of the file after the header */
} cbct_nn_safetensors;

/* Parses the header: `bytes` holds the first `n_bytes` of a file of
 * `file_bytes` bytes called `name` (for messages); it must contain the
 * whole header. Checks every entry (dtype, shape, offsets inside the file,
 * sizes that match the shapes, no overlaps, unique names). On error `out`
 * is left empty. */
cbct_status cbct_nn_safetensors_parse(const void *bytes, size_t n_bytes, uint64_t file_bytes,
                                      const char *name, cbct_nn_safetensors *out);
/* Reads and checks the header length (the first 8 of `n_bytes`): at least
 * 2, at most CBCT_NN_ST_MAX_HEADER_BYTES, inside the file. */
cbct_status cbct_nn_safetensors_header_length(const void *bytes, size_t n_bytes,
                                              uint64_t file_bytes, const char *name,
                                              uint64_t *header_len);
void cbct_nn_safetensors_free(cbct_nn_safetensors *st);
/* Index of the tensor called `tensor_name`, or -1. */
int64_t cbct_nn_safetensors_find(const cbct_nn_safetensors *st, const char *tensor_name);

size_t cbct_nn_st_item_bytes(cbct_nn_st_dtype dtype);
const char *cbct_nn_st_dtype_name(cbct_nn_st_dtype dtype);
/* `numel` little-endian items of `dtype` at `src` -> float32. */
void cbct_nn_st_to_f32(cbct_nn_st_dtype dtype, const void *src, int64_t numel, float *dst);

/* Opens a file and parses its header; the caller closes *fp and frees st. */
cbct_status cbct_nn_safetensors_open(const char *path, FILE **fp, cbct_nn_safetensors *st);
/* Reads one tensor as float32 into dst (numel floats). */
cbct_status cbct_nn_safetensors_read_f32(FILE *fp, const char *path,
                                         const cbct_nn_safetensors *st,
                                         const cbct_nn_st_tensor *t, float *dst);

#endif
