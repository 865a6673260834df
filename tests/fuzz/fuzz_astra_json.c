/* Fuzz target: ASTRA geometry dictionaries as JSON (cbct_astra_parse_json).
 * An accepted geometry must pass cbct_geometry_validate. */
#include <stdlib.h>

#include "cbct/geometry.h"
#include "cbct/io.h"
#include "fuzz.h"

int cbct_fuzz_astra_json(const uint8_t *data, size_t size)
{
    char *text = cbct_fuzz_text(data, size);
    if (!text)
        return 0;
    size_t before = cbct_mem_current();
    cbct_geometry g;
    cbct_clear_error();
    cbct_status s = cbct_astra_parse_json(text, "fuzz_astra.json", &g);
    cbct_fuzz_check_status("astra_json", s);
    if (s == CBCT_OK && cbct_geometry_validate(&g) != CBCT_OK)
        cbct_fuzz_fail("astra_json", "accepted but cbct_geometry_validate refuses it");
    cbct_geometry_destroy(&g);
    cbct_fuzz_check_memory("astra_json", before);
    free(text);
    return 0;
}

CBCT_FUZZ_ENTRY(cbct_fuzz_astra_json)
