/* Geometry JSON: bit-exact round trip, the circular form equals
 * cbct_geometry_circular, and every kind of mistake is an error naming the
 * file and the key. */
#include <unistd.h>

#include "check.h"

static const double PI = 3.14159265358979323846;

static int same_geometry(const cbct_geometry *a, const cbct_geometry *b)
{
    return memcmp(&a->vol, &b->vol, sizeof a->vol) == 0 && a->det_rows == b->det_rows &&
           a->det_cols == b->det_cols && a->n_views == b->n_views && a->views && b->views &&
           memcmp(a->views, b->views, (size_t)a->n_views * sizeof(cbct_view)) == 0;
}

static void test_round_trip(void)
{
    cbct_geometry g = {0}, back = {0};
    cbct_circular c = {.n_views = 7, .first_angle_rad = 0.1, .arc_rad = 2 * PI / 3,
                       .sod_mm = 66.0 / 7, .sdd_mm = 199.9, .det_rows = 9, .det_cols = 11,
                       .pixel_mm = {0.1, 1.0 / 3}, .det_offset_mm = {-0.05, 1e-300}};
    CHECK_OK(cbct_geometry_circular(&c, &g));
    g.vol = (cbct_volume_geom){{5, 6, 7}, {0.1, 0.2, 1.0 / 3}, {-0.0, 1e-17, 12345.678}};
    /* Values with every bit significant. */
    unsigned long long seed = 3;
    for (int64_t i = 0; i < g.n_views; i++)
        g.views[i].src[2] += check_random(&seed) * 1e-3;
    char path[2048];
    check_tmpfile("geom.json", path, sizeof path);
    CHECK_OK(cbct_geometry_write_json(path, &g));
    CHECK_OK(cbct_geometry_read_json(path, &back));
    CHECK(same_geometry(&g, &back));
    CHECK(signbit(back.vol.origin[0]));
    cbct_geometry_destroy(&back);

    /* A geometry that fails validation is not written. */
    char bad_path[2048];
    check_tmpfile("bad_geom.json", bad_path, sizeof bad_path);
    unlink(bad_path);
    g.views[2].u[0] = NAN;
    CHECK_FAILS(cbct_geometry_write_json(bad_path, &g), CBCT_ERR_GEOMETRY, "view 2");
    CHECK(strstr(cbct_last_error(), bad_path) != NULL);
    CHECK(access(bad_path, F_OK) != 0);
    cbct_geometry_destroy(&g);
}

static void test_circular(void)
{
    const char *text =
        "{\"volume\": {\"shape\": [8, 9, 10], \"voxel_size\": [0.5, 0.25, 0.125]},\n"
        " \"detector\": {\"rows\": 12, \"cols\": 16},\n"
        " \"circular\": {\"views\": 30, \"sod\": 100, \"sdd\": 150.5, \"pixel\": [0.2, 0.3],\n"
        "              \"arc_deg\": 200, \"first_angle_deg\": -10, \"offset\": [1.5, -2]}}";
    cbct_geometry g, expected = {0};
    CHECK_OK(cbct_geometry_parse_json(text, "circ.json", &g));
    cbct_circular c = {.n_views = 30, .first_angle_rad = -10 * (PI / 180),
                       .arc_rad = 200 * (PI / 180), .sod_mm = 100, .sdd_mm = 150.5,
                       .det_rows = 12, .det_cols = 16, .pixel_mm = {0.2, 0.3},
                       .det_offset_mm = {1.5, -2}};
    CHECK_OK(cbct_geometry_circular(&c, &expected));
    expected.vol = (cbct_volume_geom){{8, 9, 10}, {0.5, 0.25, 0.125}, {0, 0, 0}};
    CHECK(same_geometry(&g, &expected));
    cbct_geometry_destroy(&g);
    cbct_geometry_destroy(&expected);

    /* Defaults: a full turn from angle 0, no offset, origin 0. */
    text = "{\"volume\": {\"shape\": [4, 4, 4], \"voxel_size\": [1, 1, 1], \"origin\": [0, 0, 0]},"
           " \"detector\": {\"rows\": 5, \"cols\": 6},"
           " \"circular\": {\"views\": 8, \"sod\": 50, \"sdd\": 80, \"pixel\": [1, 1]}}";
    CHECK_OK(cbct_geometry_parse_json(text, "circ.json", &g));
    cbct_circular d = {.n_views = 8, .first_angle_rad = 0, .arc_rad = 360 * (PI / 180),
                       .sod_mm = 50, .sdd_mm = 80, .det_rows = 5, .det_cols = 6,
                       .pixel_mm = {1, 1}};
    CHECK_OK(cbct_geometry_circular(&d, &expected));
    expected.vol = (cbct_volume_geom){{4, 4, 4}, {1, 1, 1}, {0, 0, 0}};
    CHECK(same_geometry(&g, &expected));
    CHECK_NEAR(g.views[2].src[0], 50, 1e-12); /* 90 degrees: source on +x */
    cbct_geometry_destroy(&g);
    cbct_geometry_destroy(&expected);
}

/* Builds a file from pieces; NULL pieces are left out. */
static void check_error(const char *volume, const char *detector, const char *scan,
                        const char *extra, cbct_status code, const char *needle)
{
    char text[2048];
    snprintf(text, sizeof text, "{%s%s%s%s%s%s%s}", volume ? volume : "",
             volume && (detector || scan || extra) ? ", " : "", detector ? detector : "",
             detector && (scan || extra) ? ", " : "", scan ? scan : "", scan && extra ? ", " : "",
             extra ? extra : "");
    cbct_geometry g;
    size_t before = cbct_mem_current();
    if (code == CBCT_OK) {
        CHECK_OK(cbct_geometry_parse_json(text, "geom.json", &g));
        cbct_geometry_destroy(&g);
        return;
    }
    CHECK_FAILS(cbct_geometry_parse_json(text, "geom.json", &g), code, needle);
    CHECK_MSG(strncmp(cbct_last_error(), "geom.json", 9) == 0, "no file name in: %s",
              cbct_last_error());
    CHECK(g.views == NULL && cbct_mem_current() == before);
}

static void test_errors(void)
{
    const char *vol = "\"volume\": {\"shape\": [4, 4, 4], \"voxel_size\": [1, 1, 1]}";
    const char *det = "\"detector\": {\"rows\": 4, \"cols\": 4}";
    const char *vec = "\"vectors\": [[0, -50, 0, 0, 30, 0, 1, 0, 0, 0, 0, 1],"
                      " [50, 0, 0, -30, 0, 0, 0, 1, 0, 0, 0, 1]]";
    const char *circ = "\"circular\": {\"views\": 4, \"sod\": 50, \"sdd\": 80, \"pixel\": [1, 1]}";
    const cbct_status F = CBCT_ERR_FORMAT;
    check_error(vol, det, vec, NULL, CBCT_OK, ""); /* the pieces are valid */
    check_error(vol, det, circ, NULL, CBCT_OK, "");

    check_error("\"volume\": {\"shape\": [4, 4, 4], \"voxel_size\": [0.1, -1, 0.1]}", det, vec,
                NULL, F, "geom.json: \"volume.voxel_size\" must be an array of 3 positive "
                         "numbers, got [0.1,-1,0.1]");
    check_error("\"volume\": {\"shape\": [4, 4, 4], \"voxel_size\": [1, 1]}", det, vec, NULL, F,
                "\"volume.voxel_size\" must be an array of 3");
    check_error("\"volume\": {\"shape\": [4, 4.5, 4], \"voxel_size\": [1, 1, 1]}", det, vec, NULL,
                F, "\"volume.shape\" must be an array of 3 positive integers, got [4,4.5,4]");
    check_error("\"volume\": {\"shape\": \"big\", \"voxel_size\": [1, 1, 1]}", det, vec, NULL, F,
                "\"volume.shape\"");
    check_error("\"volume\": {\"voxel_size\": [1, 1, 1]}", det, vec, NULL, F,
                "missing \"volume.shape\"");
    check_error("\"volume\": {\"shape\": [4, 4, 4], \"voxel_size\": [1, 1, 1], \"origin\": 0}",
                det, vec, NULL, F, "\"volume.origin\" must be an array of 3 finite numbers, got 0");
    check_error("\"volume\": {\"shape\": [4, 4, 4], \"voxel_size\": [1, 1, 1], \"spacing\": 1}",
                det, vec, NULL, F, "unknown key \"volume.spacing\"");
    check_error("\"volume\": [4, 4, 4]", det, vec, NULL, F, "\"volume\" must be an object");
    check_error(NULL, det, vec, NULL, F, "missing \"volume\"");

    check_error(vol, NULL, vec, NULL, F, "missing \"detector\"");
    check_error(vol, "\"detector\": {\"rows\": 0, \"cols\": 4}", vec, NULL, F,
                "\"detector.rows\" must be a positive integer, got 0");
    check_error(vol, "\"detector\": {\"rows\": 4}", vec, NULL, F, "missing \"detector.cols\"");
    check_error(vol, "\"detector\": {\"rows\": 4, \"cols\": \"4\"}", vec, NULL, F,
                "\"detector.cols\" must be a positive integer, got \"4\"");

    check_error(vol, det, "\"vectors\": [[0, -50, 0, 0, 30, 0, 1, 0, 0, 0, 0, 1], "
                          "[50, 0, 0, -30, 0, 0, 0, 1, 0, 0, 0]]", NULL, F,
                "\"vectors[1]\" must be an array of 12 finite numbers, got [50,0,0,-30");
    check_error(vol, det, "\"vectors\": [[0, -50, 0, 0, 30, 0, 1, 0, 0, 0, 0, \"1\"]]", NULL, F,
                "\"vectors[0]\"");
    check_error(vol, det, "\"vectors\": []", NULL, F, "\"vectors\" must be a non-empty array");
    check_error(vol, det, "\"vectors\": {}", NULL, F, "\"vectors\" must be a non-empty array");
    check_error(vol, det, vec, circ, F, "both \"vectors\" and \"circular\" are given");
    check_error(vol, det, NULL, NULL, F, "neither \"vectors\" nor \"circular\" is given");
    check_error(vol, det, vec, "\"comment\": \"hi\"", F, "unknown key \"comment\"");
    check_error(vol, det, vec, "\"volume\": {}", F, "key \"volume\" appears twice");

    check_error(vol, det, "\"circular\": {\"views\": 4, \"sdd\": 80, \"pixel\": [1, 1]}", NULL, F,
                "missing \"circular.sod\"");
    check_error(vol, det, "\"circular\": {\"views\": 0, \"sod\": 50, \"sdd\": 80, \"pixel\": [1, 1]}",
                NULL, F, "\"circular.views\" must be a positive integer, got 0");
    check_error(vol, det, "\"circular\": {\"views\": 4, \"sod\": 50, \"sdd\": 80, \"pixel\": [1]}",
                NULL, F, "\"circular.pixel\" must be an array of 2 positive numbers");
    check_error(vol, det, "\"circular\": {\"views\": 4, \"sod\": 50, \"sdd\": 80, \"pixel\": [1, 1],"
                          " \"arc\": 180}", NULL, F, "unknown key \"circular.arc\"");
    check_error(vol, det, "\"circular\": {\"views\": 4, \"sod\": 50, \"sdd\": 80, \"pixel\": [1, 1],"
                          " \"offset\": [0, null]}", NULL, F, "\"circular.offset\"");
    check_error(vol, det, "\"circular\": {\"views\": 4, \"sod\": 90, \"sdd\": 80, \"pixel\": [1, 1]}",
                NULL, CBCT_ERR_GEOMETRY, "geom.json: \"circular\": circular scan: source-origin");
    /* Validation after parsing: u parallel to v. */
    check_error(vol, det, "\"vectors\": [[0, -50, 0, 0, 30, 0, 1, 0, 0, 2, 0, 0]]", NULL,
                CBCT_ERR_GEOMETRY, "geom.json: view 0: detector steps u and v are parallel");

    cbct_geometry g;
    CHECK_FAILS(cbct_geometry_parse_json("{\"volume\": {\n  \"shape\": [4, 4,, 4]}}", "geom.json",
                                         &g), F, "geom.json: not valid JSON (error at line 2");
    CHECK_FAILS(cbct_geometry_parse_json("[1, 2]", "geom.json", &g), F, "must be an object");
    CHECK_FAILS(cbct_geometry_parse_json("", "geom.json", &g), F, "not valid JSON");
    CHECK_FAILS(cbct_geometry_parse_json("{} trailing", "geom.json", &g), F, "not valid JSON");
    char path[2048];
    check_tmpfile("missing_geom.json", path, sizeof path);
    CHECK_FAILS(cbct_geometry_read_json(path, &g), CBCT_ERR_IO, "missing_geom.json");
}

int main(void)
{
    test_round_trip();
    test_circular();
    test_errors();
    CHECK(cbct_mem_current() == 0);
    return check_summary("test_io_geometry_json");
}
