/* Fuzz target: the NIfTI-1 header (cbct_nifti_parse_header). An accepted
 * header must describe a sane grid and a known element type. */
#include <math.h>

#include "cbct/io.h"
#include "fuzz.h"

int cbct_fuzz_nifti(const uint8_t *data, size_t size)
{
    size_t before = cbct_mem_current();
    cbct_nifti_header h;
    cbct_clear_error();
    cbct_status s = cbct_nifti_parse_header(data, size, "fuzz.nii", &h);
    cbct_fuzz_check_status("nifti", s);
    if (s == CBCT_OK) {
        for (int i = 0; i < 3; i++)
            if (h.shape[i] < 1 || !isfinite(h.spacing[i]) || !(h.spacing[i] > 0) ||
                !isfinite(h.origin[i]))
                cbct_fuzz_fail("nifti", "a dimension below 1 or a bad grid accepted");
        if (cbct_met_type_bytes(h.element_type) == 0)
            cbct_fuzz_fail("nifti", "unknown element type accepted");
        if (!isfinite(h.slope) || !isfinite(h.intercept))
            cbct_fuzz_fail("nifti", "non-finite scaling accepted");
    }
    cbct_fuzz_check_memory("nifti", before);
    return 0;
}

CBCT_FUZZ_ENTRY(cbct_fuzz_nifti)
