/* Fuzz target: the Walnut .geom text (cbct_walnut_parse_geom): rows of 12
 * finite numbers. The input is given without a terminating NUL. */
#include <math.h>

#include "cbct/io.h"
#include "fuzz.h"

int cbct_fuzz_walnut_geom(const uint8_t *data, size_t size)
{
    size_t before = cbct_mem_current();
    double *rows = NULL;
    int64_t n_rows = -1;
    cbct_clear_error();
    cbct_status s = cbct_walnut_parse_geom((const char *)data, size, "fuzz.geom", &rows,
                                           &n_rows);
    cbct_fuzz_check_status("walnut_geom", s);
    if (s == CBCT_OK) {
        if (n_rows < 1 || !rows)
            cbct_fuzz_fail("walnut_geom", "accepted without rows");
        for (int64_t i = 0; rows && i < n_rows * 12; i++)
            if (!isfinite(rows[i])) {
                cbct_fuzz_fail("walnut_geom", "a non-finite number accepted");
                break;
            }
    }
    cbct_free(rows);
    cbct_fuzz_check_memory("walnut_geom", before);
    return 0;
}

CBCT_FUZZ_ENTRY(cbct_fuzz_walnut_geom)
