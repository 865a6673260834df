/* ASTRA geometry dictionaries: a `cone` dict gives the views of
 * cbct_geometry_circular (ASTRA's conventions are cbct's), the equivalent
 * `cone_vec` dict gives the same projections bit for bit, cbct -> ASTRA ->
 * cbct is exact, `cone` is refused for views that are not circular, and bad
 * dictionaries give clear errors. */
#include "check.h"

#define VIEWS 12
#define ROWS 20
#define COLS 24
#define TWO_PI 6.283185307179586

/* An ASTRA `cone` proj_geom with its vol_geom, as JSON text. */
static void cone_text(char *buf, size_t cap)
{
    size_t n = (size_t)snprintf(buf, cap, "{\"proj_geom\": {\"type\": \"cone\", "
                                "\"DetectorSpacingX\": 1.3, \"DetectorSpacingY\": 1.1, "
                                "\"DetectorRowCount\": %d, \"DetectorColCount\": %d, "
                                "\"ProjectionAngles\": [", ROWS, COLS);
    for (int i = 0; i < VIEWS; i++)
        n += (size_t)snprintf(buf + n, cap - n, "%s%.17g", i ? ", " : "",
                              TWO_PI * (double)i / (double)VIEWS);
    snprintf(buf + n, cap - n, "], \"DistanceOriginSource\": 300, \"DistanceOriginDetector\": "
             "200}, \"vol_geom\": {\"GridRowCount\": 16, \"GridColCount\": 18, "
             "\"GridSliceCount\": 14, \"option\": {\"WindowMinX\": -9, \"WindowMaxX\": 9, "
             "\"WindowMinY\": -7, \"WindowMaxY\": 9, \"WindowMinZ\": -7, \"WindowMaxZ\": 7}}}");
}

static int same_views(const cbct_geometry *a, const cbct_geometry *b, double tol)
{
    if (a->n_views != b->n_views || a->det_rows != b->det_rows || a->det_cols != b->det_cols)
        return 0;
    for (int64_t i = 0; i < a->n_views; i++) {
        const double *x = &a->views[i].src[0], *y = &b->views[i].src[0];
        for (int k = 0; k < 12; k++)
            if (!(fabs(x[k] - y[k]) <= tol))
                return 0;
    }
    return 1;
}

static float *project(const cbct_geometry *g)
{
    size_t nv = (size_t)g->vol.shape[0] * g->vol.shape[1] * g->vol.shape[2];
    float *vol = cbct_alloc(nv * sizeof(float), "vol");
    float *proj = cbct_alloc((size_t)g->n_views * ROWS * COLS * sizeof(float), "proj");
    CHECK_OK(cbct_phantom_walnut(&g->vol, 7, vol));
    cbct_projector *p = NULL;
    CHECK_OK(cbct_projector_create(g, NULL, &p));
    CHECK_OK(cbct_project(p, vol, proj));
    cbct_projector_destroy(p);
    cbct_free(vol);
    return proj;
}

static void test_cone(void)
{
    static char text[8192];
    cone_text(text, sizeof text);
    cbct_geometry a, circ, b, c;
    CHECK_OK(cbct_astra_parse_json(text, "cone.json", &a));
    /* ASTRA's cone is cbct's circular scan from angle 0 over 2 pi. */
    cbct_circular cc = {.n_views = VIEWS, .first_angle_rad = 0, .arc_rad = TWO_PI,
                        .sod_mm = 300, .sdd_mm = 500, .det_rows = ROWS, .det_cols = COLS,
                        .pixel_mm = {1.1, 1.3}};
    CHECK_OK(cbct_geometry_circular(&cc, &circ));
    CHECK(same_views(&a, &circ, 0.0));
    /* vol_geom: 14 x 16 x 18 voxels of 1 mm, centre y = +1. */
    CHECK(a.vol.shape[0] == 14 && a.vol.shape[1] == 16 && a.vol.shape[2] == 18);
    CHECK(a.vol.voxel_size[0] == 1 && a.vol.voxel_size[1] == 1 && a.vol.voxel_size[2] == 1);
    CHECK(a.vol.origin[1] == 1 && a.vol.origin[0] == 0 && a.vol.origin[2] == 0);
    /* The same scan written as cone_vec reads back bit for bit and gives
     * the same projections. */
    char path[1024];
    check_tmpfile("astra_vec.json", path, sizeof path);
    CHECK_OK(cbct_astra_write_json(path, &a, CBCT_ASTRA_CONE_VEC));
    CHECK_OK(cbct_astra_read_json(path, &b));
    CHECK(same_views(&a, &b, 0.0));
    CHECK(memcmp(&a.vol, &b.vol, sizeof a.vol) == 0);
    float *pa = project(&a), *pb = project(&b);
    CHECK(memcmp(pa, pb, sizeof(float) * VIEWS * ROWS * COLS) == 0);
    cbct_free(pa);
    cbct_free(pb);
    /* Back to cone: the angles are recovered to rounding. */
    check_tmpfile("astra_cone.json", path, sizeof path);
    CHECK_OK(cbct_astra_write_json(path, &b, CBCT_ASTRA_CONE));
    CHECK_OK(cbct_geometry_read_any_json(path, &c));
    CHECK(same_views(&a, &c, 1e-12));
    cbct_geometry_destroy(&c);
    /* cbct JSON is read by the same entry point. */
    check_tmpfile("cbct_geom.json", path, sizeof path);
    CHECK_OK(cbct_geometry_write_json(path, &a));
    CHECK_OK(cbct_geometry_read_any_json(path, &c));
    CHECK(same_views(&a, &c, 0.0));
    cbct_geometry_destroy(&c);
    /* A detector offset is not an ASTRA cone. */
    cc.det_offset_mm[1] = 2.0;
    cbct_geometry off;
    CHECK_OK(cbct_geometry_circular(&cc, &off));
    off.vol = a.vol;
    CHECK_FAILS(cbct_astra_write_json(path, &off, CBCT_ASTRA_CONE), CBCT_ERR_GEOMETRY,
                "view 0 is not a view of a circular ASTRA 'cone' scan");
    cbct_geometry_destroy(&off);
    cbct_geometry_destroy(&a);
    cbct_geometry_destroy(&b);
    cbct_geometry_destroy(&circ);
}

static void test_errors(void)
{
    cbct_geometry g;
    CHECK_FAILS(cbct_astra_parse_json("[1, 2]", "x.json", &g), CBCT_ERR_FORMAT,
                "x.json: not a JSON object");
    CHECK_FAILS(cbct_astra_parse_json("{\"type\": \"parallel3d\", \"DetectorRowCount\": 2, "
                                      "\"DetectorColCount\": 2}", "p.json", &g),
                CBCT_ERR_FORMAT, "type 'parallel3d'");
    CHECK_FAILS(cbct_astra_parse_json("{\"type\": \"cone_vec\", \"DetectorRowCount\": 2, "
                                      "\"DetectorColCount\": 2, \"Vectors\": [[1,2,3]]}",
                                      "v.json", &g), CBCT_ERR_FORMAT, "Vectors[0] is not a row");
    CHECK_FAILS(cbct_astra_parse_json("{\"type\": \"cone\", \"DetectorRowCount\": 2, "
                                      "\"DetectorColCount\": 2, \"DetectorSpacingX\": 1}",
                                      "c.json", &g), CBCT_ERR_FORMAT,
                "key 'DetectorSpacingY' is missing");
    CHECK_FAILS(cbct_astra_parse_json("{\"type\": \"cone\", \"DetectorRowCount\": 2.5}",
                                      "r.json", &g), CBCT_ERR_FORMAT, "DetectorRowCount = 2.5");
    /* A bare cone_vec proj_geom: the volume is fitted. */
    const char *bare = "{\"type\": \"cone_vec\", \"DetectorRowCount\": 8, "
                       "\"DetectorColCount\": 10, \"Vectors\": [[0, -100, 0, 0, 100, 0, 1, 0, "
                       "0, 0, 0, 1], [100, 0, 0, -100, 0, 0, 0, 1, 0, 0, 0, 1]]}";
    CHECK_OK(cbct_astra_parse_json(bare, "bare.json", &g));
    CHECK(g.n_views == 2 && g.vol.shape[0] == 8 && g.vol.shape[2] == 10 &&
          g.vol.voxel_size[0] > 0);
    cbct_geometry_destroy(&g);
}

int main(void)
{
    test_cone();
    test_errors();
    return check_summary("test_io_astra");
}
