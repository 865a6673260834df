/* The Walnut loader on a miniature dataset in the real layout
 * (walnut_mini.h): geometry rows and views as the reference scripts pick
 * them, projections that FDK turns back into the phantom (PSNR floor),
 * a wrong flip or transpose failing that floor by far, the ground truth,
 * `cbct import walnut`, and clear errors for broken datasets. */
#include <sys/wait.h>
#include <unistd.h>

/* Test paths are short; -Wformat-truncation cannot know it. */
#pragma GCC diagnostic ignored "-Wformat-truncation"
#include "walnut_mini.h"

#define VIEWS_TAKEN 60
/* FDK of 60 noisy views of the 40^3 phantom measured 20.59 dB (FDK is
 * bit-identical for any thread count; the noise is seeded). Views flipped
 * along rows or columns measured 12.77 and 13.16 dB, geometry rows paired
 * with the images in forward order 17.00 dB. */
#define PSNR_FLOOR_DB 19.5
#define MISORIENTED_MARGIN_DB 5.0   /* a flip must fall this far below the floor */
#define MISORDERED_MARGIN_DB 1.5    /* views in the wrong order: this far */

static double fdk_psnr(const cbct_geometry *g, const float *proj, const float *truth)
{
    int64_t n = (int64_t)MINI_N * MINI_N * MINI_N;
    float *vol = cbct_alloc((size_t)n * sizeof(float), "FDK volume");
    cbct_metrics m = {0};
    CHECK_OK(cbct_fdk_reconstruct(g, NULL, proj, vol));
    cbct_array a = {.shape = {MINI_N, MINI_N, MINI_N}, .spacing = {1, 1, 1},
                    .data = (float *)truth};
    cbct_array b = a;
    b.data = vol;
    CHECK_OK(cbct_compare(&a, &b, NULL, 0.0, &m));
    cbct_free(vol);
    return m.psnr_db;
}

/* Every view flipped along rows (up-down) or along columns. */
static void flip_views(const float *in, float *out, int64_t views, int rows)
{
    for (int64_t k = 0; k < views; k++)
        for (int r = 0; r < MINI_ROWS; r++)
            for (int c = 0; c < MINI_COLS; c++) {
                int rr = rows ? MINI_ROWS - 1 - r : r, cc = rows ? c : MINI_COLS - 1 - c;
                out[(k * MINI_ROWS + r) * MINI_COLS + c] =
                    in[(k * MINI_ROWS + rr) * MINI_COLS + cc];
            }
}

static void test_load(const char *root, const float *phantom)
{
    char walnut[1100];
    snprintf(walnut, sizeof walnut, "%s/Walnut1", root);
    cbct_walnut_options o = {.path = walnut, .orbit = 2, .num_projections = VIEWS_TAKEN,
                             .volume_shape = {MINI_N, MINI_N, MINI_N},
                             .voxel_size_mm = MINI_VOXEL_MM, .load_truth = 1};
    cbct_geometry g, ref;
    cbct_array proj, truth;
    cbct_walnut_report r;
    CHECK_OK(cbct_walnut_load(&o, &g, &proj, &truth, &r));
    CHECK_OK(mini_geometry(&ref));
    CHECK(r.views_available == MINI_VIEWS && r.truth_found);
    CHECK(r.image_rows == MINI_COLS && r.image_cols == MINI_ROWS);
    CHECK(proj.shape[0] == VIEWS_TAKEN && proj.shape[1] == MINI_ROWS &&
          proj.shape[2] == MINI_COLS);
    CHECK(g.n_views == VIEWS_TAKEN && g.det_rows == MINI_ROWS && g.det_cols == MINI_COLS);
    /* View k is geometry row 2k: 120 views, 60 taken evenly. */
    int same = 1;
    for (int64_t k = 0; ref.views && k < g.n_views; k++)
        same &= memcmp(&g.views[k], &ref.views[2 * k], sizeof(cbct_view)) == 0;
    CHECK(same);
    CHECK(g.vol.shape[0] == MINI_N && g.vol.voxel_size[0] == MINI_VOXEL_MM);
    CHECK(truth.data && memcmp(truth.data, phantom, sizeof(float) * MINI_N * MINI_N * MINI_N) == 0);
    /* FDK recovers the phantom; wrong orientations do not. */
    double psnr = fdk_psnr(&g, proj.data, phantom);
    printf("walnut mini: FDK of %d views, PSNR %.2f dB (floor %.1f)\n", VIEWS_TAKEN, psnr,
           PSNR_FLOOR_DB);
    CHECK_MSG(psnr >= PSNR_FLOOR_DB, "PSNR %.2f dB", psnr);
    float *bad = cbct_alloc((size_t)cbct_array_numel(&proj) * sizeof(float), "flipped");
    for (int rows = 0; rows < 2; rows++) {
        flip_views(proj.data, bad, VIEWS_TAKEN, rows);
        double p = fdk_psnr(&g, bad, phantom);
        printf("walnut mini: views flipped along %s: PSNR %.2f dB\n", rows ? "rows" : "columns",
               p);
        CHECK_MSG(p < PSNR_FLOOR_DB - MISORIENTED_MARGIN_DB, "flipped %d: %.2f dB", rows, p);
    }
    /* Geometry rows paired with images in forward order (not reversed). */
    cbct_geometry rev;
    CHECK_OK(cbct_geometry_copy(&g, &rev));
    for (int64_t k = 0; rev.views && k < rev.n_views; k++)
        rev.views[k] = ref.views[(MINI_VIEWS - 1 - 2 * k) % MINI_VIEWS];
    double p = fdk_psnr(&rev, proj.data, phantom);
    printf("walnut mini: views in forward order: PSNR %.2f dB\n", p);
    CHECK_MSG(p < PSNR_FLOOR_DB - MISORDERED_MARGIN_DB, "forward order: %.2f dB", p);
    cbct_free(bad);
    /* All views; no truth asked. */
    cbct_array all;
    cbct_geometry g_all;
    o.num_projections = 0;
    o.load_truth = 0;
    CHECK_OK(cbct_walnut_load(&o, &g_all, &all, NULL, NULL));
    CHECK(all.shape[0] == MINI_VIEWS &&
          memcmp(all.data + (size_t)2 * MINI_ROWS * MINI_COLS,
                 proj.data + (size_t)MINI_ROWS * MINI_COLS,
                 sizeof(float) * MINI_ROWS * MINI_COLS) == 0);
    /* The default volume is the reference one: 501^3 of 0.1 mm. */
    o.volume_shape[0] = o.volume_shape[1] = o.volume_shape[2] = 0;
    o.voxel_size_mm = 0;
    o.load_truth = 1;
    cbct_array_destroy(&all);
    cbct_geometry_destroy(&g_all);
    cbct_array t2;
    CHECK_OK(cbct_walnut_load(&o, &g_all, &all, &t2, &r));
    CHECK(g_all.vol.shape[0] == 501 && g_all.vol.voxel_size[2] == 0.1);
    CHECK(!r.truth_found && !t2.data); /* the 40^3 truth does not fit 501^3 */
    cbct_array_destroy(&all);
    cbct_geometry_destroy(&g_all);
    cbct_geometry_destroy(&rev);
    cbct_geometry_destroy(&ref);
    cbct_geometry_destroy(&g);
    cbct_array_destroy(&proj);
    cbct_array_destroy(&truth);
}

static void test_import_command(const char *root)
{
    const char *tool = getenv("CBCT_TOOL");
    if (!tool || !*tool) {
        printf("CBCT_TOOL not set: cbct import not tested\n");
        return;
    }
    char cmd[4096], out[1100], path[1200];
    snprintf(out, sizeof out, "%s/imported", root);
    snprintf(cmd, sizeof cmd, "'%s' import walnut '%s/Walnut1' --orbit 2 --views %d "
             "--volume-shape %d --voxel-size %g -o '%s' --quiet", tool, root, VIEWS_TAKEN,
             MINI_N, MINI_VOXEL_MM, out);
    CHECK(system(cmd) == 0);
    char walnut[1100];
    snprintf(walnut, sizeof walnut, "%s/Walnut1", root);
    cbct_walnut_options o = {.path = walnut, .orbit = 2, .num_projections = VIEWS_TAKEN,
                             .volume_shape = {MINI_N, MINI_N, MINI_N},
                             .voxel_size_mm = MINI_VOXEL_MM};
    cbct_geometry g, gi;
    cbct_array proj, pi;
    CHECK_OK(cbct_walnut_load(&o, &g, &proj, NULL, NULL));
    snprintf(path, sizeof path, "%s/proj.npy", out);
    CHECK_OK(cbct_npy_read(path, &pi));
    CHECK(pi.data && proj.data && pi.shape[0] == VIEWS_TAKEN &&
          memcmp(pi.data, proj.data, sizeof(float) * (size_t)cbct_array_numel(&proj)) == 0);
    snprintf(path, sizeof path, "%s/geom.json", out);
    CHECK_OK(cbct_geometry_read_json(path, &gi));
    CHECK(gi.n_views == VIEWS_TAKEN && gi.det_rows == MINI_ROWS && gi.vol.shape[1] == MINI_N);
    CHECK(gi.views && memcmp(gi.views, g.views, sizeof(cbct_view) * VIEWS_TAKEN) == 0);
    /* A missing orbit: exit 1, the message names the file. */
    snprintf(cmd, sizeof cmd, "'%s' import walnut '%s/Walnut1' --orbit 3 -o '%s/x' "
             "2>'%s/err.txt'", tool, root, root, root);
    CHECK(WEXITSTATUS(system(cmd)) == 1);
    snprintf(path, sizeof path, "%s/err.txt", root);
    char *text = NULL;
    size_t len;
    CHECK_OK(cbct_read_text_file(path, 1 << 16, &text, &len));
    CHECK_MSG(text && strstr(text, "tubeV3/scan_geom_corrected.geom"), "%s", text);
    free(text);
    cbct_geometry_destroy(&g);
    cbct_geometry_destroy(&gi);
    cbct_array_destroy(&proj);
    cbct_array_destroy(&pi);
}

/* `cbct recon` on the dataset through the YAML config (path, orbit, shape,
 * voxel_size): SIRT from the measured projections recovers the phantom
 * (the reference reconstruction is the truth), and the simulated sinogram
 * (use_dataset_sinogram: false) works too. */
static void test_recon_config(const char *root)
{
    const char *tool = getenv("CBCT_TOOL");
    if (!tool || !*tool)
        return;
    char config[1200], cmd[4096], record[1300];
    for (int measured = 1; measured >= 0; measured--) {
        snprintf(config, sizeof config, "%s/walnut_%d.yml", root, measured);
        FILE *f = fopen(config, "w");
        CHECK(f != NULL);
        if (!f)
            return;
        fprintf(f, "dataset:\n  tomography_3d: {path: '%s/Walnut1', orbit: 2, num_projections: "
                   "%d,\n    use_dataset_sinogram: %s, shape: [%d, %d, %d], voxel_size: %g}\n"
                   "solver: {SIRT: {max_iterations: 30}}\n",
                root, VIEWS_TAKEN, measured ? "true" : "false", MINI_N, MINI_N, MINI_N,
                MINI_VOXEL_MM);
        fclose(f);
        snprintf(cmd, sizeof cmd, "'%s' recon '%s' -o '%s/recon_%d' --quiet >/dev/null", tool,
                 config, root, measured);
        CHECK_MSG(system(cmd) == 0, "%s", cmd);
        snprintf(record, sizeof record, "%s/recon_%d/record.json", root, measured);
        char *text = NULL;
        size_t len = 0;
        CHECK_OK(cbct_read_text_file(record, 1 << 22, &text, &len));
        const char *at = text ? strstr(text, "\"final_psnr\":") : NULL;
        double psnr = at ? atof(at + strlen("\"final_psnr\":")) : 0;
        printf("walnut mini: recon from %s projections, SIRT 30: %.2f dB\n",
               measured ? "measured" : "simulated", psnr);
        /* 30 SIRT iterations stop short of FDK (20.6 dB); any wrong flip gives < 17.1 */
        CHECK_MSG(psnr > 18.0, "recon (%s): PSNR %.2f dB against the reference",
                  measured ? "measured" : "simulated", psnr);
        CHECK(text && strstr(text, "\"source\":\t\"walnut\"") != NULL);
        free(text);
    }
}

static void test_broken(const char *root)
{
    char walnut[1100], path[1400];
    snprintf(walnut, sizeof walnut, "%s/Walnut1", root);
    cbct_walnut_options o = {.path = walnut, .orbit = 2, .num_projections = 10,
                             .volume_shape = {MINI_N, MINI_N, MINI_N},
                             .voxel_size_mm = MINI_VOXEL_MM};
    cbct_geometry g;
    cbct_array proj;
    /* A missing projection image is named. */
    snprintf(path, sizeof path, "%s/Projections/tubeV2/scan_000011.tif", walnut);
    char moved[1500];
    snprintf(moved, sizeof moved, "%s.away", path);
    rename(path, moved);
    CHECK_FAILS(cbct_walnut_load(&o, &g, &proj, NULL, NULL), CBCT_ERR_IO, "scan_000011.tif");
    rename(moved, path);
    /* A truncated image. */
    FILE *f = fopen(path, "rb");
    unsigned char bytes[8192];
    size_t n = f ? fread(bytes, 1, sizeof bytes, f) : 0;
    if (f)
        fclose(f);
    f = fopen(path, "wb");
    fwrite(bytes, 1, n / 3, f);
    fclose(f);
    CHECK_FAILS(cbct_walnut_load(&o, &g, &proj, NULL, NULL), CBCT_ERR_FORMAT, "scan_000011.tif");
    f = fopen(path, "wb");
    fwrite(bytes, 1, n, f);
    fclose(f);
    CHECK_FAILS(cbct_walnut_load(&(cbct_walnut_options){.path = walnut, .orbit = 4}, &g, &proj,
                                 NULL, NULL), CBCT_ERR_ARG, "orbit 4");
    o.num_projections = MINI_VIEWS + 1;
    CHECK_FAILS(cbct_walnut_load(&o, &g, &proj, NULL, NULL), CBCT_ERR_ARG, "121 projections");
    /* The geometry parser: bad rows are named with their line. */
    double *rows;
    int64_t nr;
    const char *text = "# comment\n1 2 3 4 5 6 7 8 9 10 11 12\n\n1 2 3 4 5 6 7 8 9 10 11\n";
    CHECK_FAILS(cbct_walnut_parse_geom(text, strlen(text), "g.geom", &rows, &nr),
                CBCT_ERR_FORMAT, "g.geom' line 4: 11 numbers");
    text = "1 2 3 4 5 6 7 8 9 10 11 x12\n";
    CHECK_FAILS(cbct_walnut_parse_geom(text, strlen(text), "g.geom", &rows, &nr),
                CBCT_ERR_FORMAT, "'x12' is not a finite number");
    text = "1 2 3 4 5 6 7 8 9 10 11 12 # first\n-1 2 3 4 5 6 7 8 9 10 11 1e2";
    CHECK_OK(cbct_walnut_parse_geom(text, strlen(text), "g.geom", &rows, &nr));
    CHECK(nr == 2 && rows && rows[12] == -1 && rows[23] == 100);
    cbct_free(rows);
    /* Not NUL-terminated: the parser stops at n. */
    CHECK_OK(cbct_walnut_parse_geom(text, 26, "g.geom", &rows, &nr));
    CHECK(nr == 1);
    cbct_free(rows);
    CHECK(cbct_walnut_view_row(1, 50, 1200) == 24 && cbct_walnut_view_row(49, 50, 1200) == 1176);
}

int main(void)
{
    char root[2048];
    check_tmpfile("walnut_mini", root, sizeof root);
    float *phantom = calloc((size_t)MINI_N * MINI_N * MINI_N, sizeof(float));
    double t0 = cbct_seconds();
    CHECK_OK(mini_make(root, phantom));
    printf("walnut mini: dataset made in %.2f s\n", cbct_seconds() - t0);
    test_load(root, phantom);
    test_import_command(root);
    test_recon_config(root);
    test_broken(root);
    free(phantom);
    return check_summary("test_io_walnut");
}
