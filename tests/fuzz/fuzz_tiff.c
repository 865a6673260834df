/* Fuzz target: TIFF in memory (cbct_tiff_parse, then cbct_tiff_decode of
 * every page as float32, capped so that a hostile header cannot ask for
 * more memory than the fuzzer allows). */
#include <math.h>

#include "cbct/io.h"
#include "fuzz.h"

/* Values decoded at most (4 MiB of float32). */
#define MAX_VALUES ((int64_t)1 << 20)

int cbct_fuzz_tiff(const uint8_t *data, size_t size)
{
    size_t before = cbct_mem_current();
    cbct_tiff_header h;
    cbct_clear_error();
    cbct_status s = cbct_tiff_parse(data, size, "fuzz.tiff", &h);
    cbct_fuzz_check_status("tiff", s);
    if (s == CBCT_OK) {
        for (int i = 0; i < 3; i++)
            if (h.shape[i] < 1 || !isfinite(h.spacing[i]) || !isfinite(h.origin[i]))
                cbct_fuzz_fail("tiff", "a dimension below 1 or a non-finite grid accepted");
        cbct_array a = {0};
        cbct_clear_error();
        s = cbct_tiff_decode(data, size, "fuzz.tiff", MAX_VALUES, &a);
        cbct_fuzz_check_status("tiff", s);
        if (s == CBCT_OK && (a.shape[0] != h.shape[0] || a.shape[1] != h.shape[1] ||
                             a.shape[2] != h.shape[2] || !a.data))
            cbct_fuzz_fail("tiff", "decoded shape differs from the parsed header");
        cbct_array_destroy(&a);
    }
    cbct_fuzz_check_memory("tiff", before);
    return 0;
}

CBCT_FUZZ_ENTRY(cbct_fuzz_tiff)
