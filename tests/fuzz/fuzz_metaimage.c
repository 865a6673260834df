/* Fuzz target: the MetaImage header (cbct_mha_parse_header), as the start
 * of a .mha file. An accepted header must describe a sane grid. */
#include <math.h>
#include <string.h>

#include "cbct/io.h"
#include "fuzz.h"

static void check_header(const cbct_mha_header *h, size_t size)
{
    if (h->ndim != 2 && h->ndim != 3)
        cbct_fuzz_fail("metaimage", "NDims other than 2 or 3 accepted");
    for (int i = 0; i < 3; i++) {
        if (h->shape[i] < 1)
            cbct_fuzz_fail("metaimage", "a dimension below 1 accepted");
        if (!isfinite(h->spacing[i]) || !isfinite(h->offset[i]) || !isfinite(h->origin[i]))
            cbct_fuzz_fail("metaimage", "a non-finite spacing, offset or origin accepted");
    }
    if (cbct_met_type_bytes(h->element_type) == 0)
        cbct_fuzz_fail("metaimage", "unknown ElementType accepted");
    if (!memchr(h->data_path, '\0', sizeof h->data_path))
        cbct_fuzz_fail("metaimage", "data path not NUL-terminated");
    if (strcmp(h->data_path, "fuzz/in.mha") == 0 && h->data_offset > size)
        cbct_fuzz_fail("metaimage", "LOCAL data starts beyond the header bytes given");
}

int cbct_fuzz_metaimage(const uint8_t *data, size_t size)
{
    size_t before = cbct_mem_current();
    cbct_mha_header h;
    cbct_clear_error();
    cbct_status s = cbct_mha_parse_header(data, size, "fuzz/in.mha", &h);
    cbct_fuzz_check_status("metaimage", s);
    if (s == CBCT_OK)
        check_header(&h, size);
    cbct_fuzz_check_memory("metaimage", before);
    return 0;
}

CBCT_FUZZ_ENTRY(cbct_fuzz_metaimage)
