/* Fuzz target: the .npy header (cbct_npy_parse_header). The input is the
 * start of a file; it is parsed as the whole file, and again as the start
 * of a huge file (so that the data-size checks meet large shapes). */
#include <string.h>

#include "cbct/io.h"
#include "fuzz.h"

/* A file size beyond any real one, below 2^63 (offsets stay int64_t). */
#define HUGE_FILE_BYTES ((uint64_t)1 << 62)

static void check_header(const cbct_npy_header *h, size_t size, uint64_t file_bytes)
{
    if (h->ndim < 1 || h->ndim > 3)
        cbct_fuzz_fail("npy", "ndim outside 1..3 accepted");
    if (h->dtype != CBCT_DTYPE_F32 && h->dtype != CBCT_DTYPE_F64 && h->dtype != CBCT_DTYPE_U16)
        cbct_fuzz_fail("npy", "unknown dtype accepted");
    if (h->data_offset > size || h->data_offset > file_bytes)
        cbct_fuzz_fail("npy", "data offset beyond the header bytes given");
    uint64_t item = h->dtype == CBCT_DTYPE_F64 ? 8 : h->dtype == CBCT_DTYPE_U16 ? 2 : 4;
    uint64_t bytes = item;
    for (int i = 0; i < 3; i++) {
        if (h->shape[i] < 0) {
            cbct_fuzz_fail("npy", "negative dimension accepted");
            return;
        }
        /* The parser promised the data fits the file: no overflow here. */
        if (h->shape[i] && bytes > UINT64_MAX / (uint64_t)h->shape[i]) {
            cbct_fuzz_fail("npy", "shape overflows 64 bits");
            return;
        }
        bytes *= (uint64_t)h->shape[i];
    }
    if (bytes > file_bytes - h->data_offset)
        cbct_fuzz_fail("npy", "data of the accepted shape does not fit the file");
}

int cbct_fuzz_npy(const uint8_t *data, size_t size)
{
    size_t before = cbct_mem_current();
    const uint64_t file_sizes[2] = {size, HUGE_FILE_BYTES};
    for (int k = 0; k < 2; k++) {
        cbct_npy_header h;
        cbct_clear_error();
        cbct_status s = cbct_npy_parse_header(data, size, file_sizes[k], "fuzz.npy", &h);
        cbct_fuzz_check_status("npy", s);
        if (s == CBCT_OK)
            check_header(&h, size, file_sizes[k]);
    }
    cbct_fuzz_check_memory("npy", before);
    return 0;
}

CBCT_FUZZ_ENTRY(cbct_fuzz_npy)
