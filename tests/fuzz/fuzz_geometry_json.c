/* Fuzz target: the geometry JSON (cbct_geometry_parse_json). An accepted
 * geometry must pass cbct_geometry_validate and give a projection matrix
 * for its first and last views. */
#include <stdlib.h>

#include "cbct/geometry.h"
#include "fuzz.h"

static void check_geometry(const cbct_geometry *g)
{
    if (g->n_views < 1 || !g->views || g->det_rows < 1 || g->det_cols < 1)
        cbct_fuzz_fail("geometry_json", "accepted without views or detector");
    if (cbct_geometry_validate(g) != CBCT_OK)
        cbct_fuzz_fail("geometry_json", "accepted but cbct_geometry_validate refuses it");
    double m[3][4];
    if (g->n_views >= 1 && g->views) {
        cbct_status s = cbct_view_projection_matrix(g, 0, m);
        cbct_fuzz_check_status("geometry_json", s);
        s = cbct_view_projection_matrix(g, g->n_views - 1, m);
        cbct_fuzz_check_status("geometry_json", s);
    }
}

int cbct_fuzz_geometry_json(const uint8_t *data, size_t size)
{
    char *text = cbct_fuzz_text(data, size);
    if (!text)
        return 0;
    size_t before = cbct_mem_current();
    cbct_geometry g;
    cbct_clear_error();
    cbct_status s = cbct_geometry_parse_json(text, "fuzz.json", &g);
    cbct_fuzz_check_status("geometry_json", s);
    if (s == CBCT_OK)
        check_geometry(&g);
    else if (g.views)
        cbct_fuzz_fail("geometry_json", "a failed parse left views behind");
    cbct_geometry_destroy(&g);
    cbct_fuzz_check_memory("geometry_json", before);
    free(text);
    return 0;
}

CBCT_FUZZ_ENTRY(cbct_fuzz_geometry_json)
