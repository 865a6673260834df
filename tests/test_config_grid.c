/* Grids of runs in a config: the reference's zipped keys, cartesian
 * products (and which lists are values instead), grids made by --set, the
 * ids and overrides of the points, mapping one point, and bad grids as
 * errors naming the key and the line. */
#include <stdio.h>
#include <string.h>

#include "cbct.h"
#include "cbct/config.h"
#include "check.h"

static char model[1100];

/* `text` with "MODEL" replaced by the model file. */
static const char *with_model(const char *text)
{
    static char buf[8192];
    const char *m = strstr(text, "MODEL");
    if (m)
        snprintf(buf, sizeof buf, "%.*s%s%s", (int)(m - text), text, model, m + 5);
    else
        snprintf(buf, sizeof buf, "%s", text);
    return buf;
}

static cbct_status grid(const char *text, const char *const *sets, int n, cbct_config_grid *g)
{
    const char *t = with_model(text);
    return cbct_config_grid_parse(t, strlen(t), "t.yml", sets, n, g);
}

static cbct_status point(const char *text, int i, cbct_recon_config *c)
{
    const char *t = with_model(text);
    return cbct_config_parse_point(t, strlen(t), "t.yml", NULL, 0, i, c);
}

/* The reference experiment's grid (line 11 holds the grid key). */
static const char *reference =
    "dataset:\n"
    "  - tomography_3d:\n"
    "      num_operators: 2\n"
    "      shape: [16, 16, 16]\n"
    "solver:\n"
    "  - PnP:\n"
    "      denoiser: drunet\n"
    "      model: MODEL\n"
    "      init_method: [\"pseudo_inverse\"]\n"
    "      mode: normalized\n"
    "      slurm_gres, slurm_ntasks_per_node, distribute_physics, distribute_denoiser, "
    "patch_size, overlap, max_batch_size, denoiser_sigma, denoiser_lambda_relaxation: [\n"
    "        [\"gpu:2\", 2, true, true, [8,256,256], [2,16,16], 10, 0.03, 10.0],\n"
    "        [\"gpu:2\", 2, true, true, [8,256,256], [2,16,16], 8, 0.03, 10.0],\n"
    "        [\"gpu:2\", 2, true, true, [8,256,256], [2,16,16], 4, 0.03, 10.0],\n"
    "        [\"gpu:2\", 2, true, true, [8,256,256], [2,16,16], 2, 0.03, 10.0],\n"
    "      ]\n";

static void test_zipped(void)
{
    cbct_config_grid g;
    CHECK_OK(grid(reference, NULL, 0, &g));
    CHECK(g.n_points == 4 && g.is_grid == 1);
    CHECK(g.n_varying == 1 && g.n_varying > 0 &&
          strcmp(g.varying[0], "solver.PnP.max_batch_size") == 0);
    const char *ids[] = {"max_batch_size-10", "max_batch_size-8", "max_batch_size-4",
                         "max_batch_size-2"};
    for (int i = 0; i < g.n_points && i < 4; i++)
        CHECK_MSG(strcmp(g.points[i].id, ids[i]) == 0, "point %d: id %s", i, g.points[i].id);
    CHECK(g.points[0].n_overrides == 9);
    if (g.points[0].n_overrides == 9) {
        CHECK(strcmp(g.points[0].overrides[0], "solver.PnP.slurm_gres=\"gpu:2\"") == 0);
        CHECK(strcmp(g.points[0].overrides[2], "solver.PnP.distribute_physics=true") == 0);
        CHECK(strcmp(g.points[0].overrides[4], "solver.PnP.patch_size=[8, 256, 256]") == 0);
        CHECK(strcmp(g.points[3].overrides[6], "solver.PnP.max_batch_size=2") == 0);
    }
    cbct_config_grid_free(&g);
    CHECK(g.points == NULL && g.n_points == 0);

    cbct_recon_config c;
    CHECK_OK(point(reference, 2, &c));
    CHECK(c.tiling.max_batch == 4 && c.slurm_ntasks_per_node == 2);
    CHECK(c.distribute_physics == 1 && c.distribute_denoiser == 1 && c.distribute_volume == 0);
    CHECK(strcmp(c.slurm_gres, "gpu:2") == 0);
    CHECK(c.tiling.patch[0] == 8 && c.tiling.patch[2] == 256 && c.tiling.overlap[1] == 16);
    CHECK(c.denoiser_sigma == 0.03 && c.denoiser_lambda == 10.0);
    CHECK(c.init_method == CBCT_INIT_PSEUDO_INVERSE && c.shape[0] == 16);
    CHECK_OK(point(reference, 0, &c));
    CHECK(c.tiling.max_batch == 10);
    /* A grid without a point is refused, naming the grid key's line. */
    const char *t = with_model(reference);
    CHECK_FAILS(cbct_config_parse(t, strlen(t), "t.yml", NULL, 0, &c), CBCT_ERR_ARG,
                "t.yml:11: solver.PnP.slurm_gres, slurm_ntasks_per_node,");
    CHECK_FAILS(cbct_config_parse(t, strlen(t), "t.yml", NULL, 0, &c), CBCT_ERR_ARG,
                "grid of 4 points");
    CHECK_FAILS(point(reference, 4, &c), CBCT_ERR_ARG, "point 4 does not exist: the config has "
                                                       "4 points (0 to 3)");
    CHECK_FAILS(point(reference, -1, &c), CBCT_ERR_ARG, "numbered from 0");
}

static const char *product =
    "dataset: {tomography_3d: {shape: [16, 16, 16], noise: {photons: [1000, 10000]}}}\n"
    "solver:\n"
    "  PnP:\n"
    "    model: MODEL\n"
    "    init_method: [\"fdk\"]\n"
    "    patch_size: [8, 256, 256]\n"
    "    clip: [0, 1]\n"
    "    max_batch_size: [2, 4]\n"
    "    denoiser_sigma: [0.01, 0.03, 0.05]\n";

static void test_product(void)
{
    cbct_config_grid g;
    CHECK_OK(grid(product, NULL, 0, &g));
    /* photons 2 x max_batch_size 2 x sigma 3; patch_size, clip and the list
     * of one init_method are values. */
    CHECK(g.n_points == 12 && g.is_grid && g.n_varying == 3);
    if (g.n_points == 12) {
        CHECK_MSG(strcmp(g.points[0].id, "photons-1000_max_batch_size-2_denoiser_sigma-0.01") == 0,
                  "%s", g.points[0].id);
        CHECK(strcmp(g.points[4].id, "photons-1000_max_batch_size-4_denoiser_sigma-0.03") == 0);
        CHECK(strcmp(g.points[11].id, "photons-10000_max_batch_size-4_denoiser_sigma-0.05") == 0);
        CHECK(strcmp(g.points[11].overrides[0], "dataset.tomography_3d.noise.photons=10000") == 0);
    }
    /* The overrides of a point, given as --set, select the same values. */
    for (int i = 0; i < g.n_points; i += 5) {
        cbct_recon_config a, b;
        const char *t = with_model(product);
        CHECK_OK(cbct_config_parse(t, strlen(t), "t.yml", (const char *const *)g.points[i].overrides,
                                   g.points[i].n_overrides, &a));
        CHECK_OK(point(product, i, &b));
        CHECK(a.tiling.max_batch == b.tiling.max_batch && a.denoiser_sigma == b.denoiser_sigma &&
              a.photons == b.photons);
        CHECK(b.clip == 1 && b.clip_range[1] == 1 && b.tiling.patch[1] == 256);
    }
    cbct_config_grid_free(&g);

    /* A list of lists for a key whose value is a list. */
    const char *patches = "dataset: {tomography_3d: {shape: [[8, 8, 8], [16, 16, 16]]}}\n"
                          "solver: {FDK: }\n";
    CHECK_OK(grid(patches, NULL, 0, &g));
    CHECK(g.n_points == 2 && strcmp(g.points[1].id, "shape-16x16x16") == 0);
    cbct_config_grid_free(&g);
    cbct_recon_config c;
    CHECK_OK(point(patches, 1, &c));
    CHECK(c.shape[0] == 16 && c.solver == CBCT_SOLVER_FDK);

    /* A grid made by --set, on top of a plain config. */
    const char *plain = "dataset: {tomography_3d: {shape: [8, 8, 8]}}\n"
                        "solver: {CGLS: {max_iterations: 2}}\n";
    const char *sets[] = {"solver.CGLS.max_iterations=[3, 5, 7]"};
    CHECK_OK(grid(plain, sets, 1, &g));
    CHECK(g.n_points == 3 && strcmp(g.points[2].id, "max_iterations-7") == 0);
    cbct_config_grid_free(&g);
    CHECK_OK(cbct_config_parse_point(plain, strlen(plain), "t.yml", sets, 1, 1, &c));
    CHECK(c.max_iterations == 5);
    /* --set on a key of a zipped grid: that value for every point. */
    const char *sigma[] = {"solver.PnP.max_batch_size=7"};
    const char *t = with_model(reference);
    CHECK_OK(cbct_config_parse_point(t, strlen(t), "t.yml", sigma, 1, 3, &c));
    CHECK(c.tiling.max_batch == 7 && c.slurm_ntasks_per_node == 2);
    CHECK_OK(cbct_config_grid_parse(t, strlen(t), "t.yml", sigma, 1, &g));
    CHECK(g.n_points == 4 && g.n_varying == 0 && g.points[0].n_overrides == 8);
    CHECK(strcmp(g.points[3].id, "point-3") == 0);
    cbct_config_grid_free(&g);
    /* A plain config is one point, "run". */
    CHECK_OK(grid(plain, NULL, 0, &g));
    CHECK(g.n_points == 1 && !g.is_grid && strcmp(g.points[0].id, "run") == 0);
    CHECK(g.points[0].n_overrides == 0 && g.n_varying == 0);
    cbct_config_grid_free(&g);
    CHECK_OK(point(plain, 0, &c));
    CHECK_FAILS(point(plain, 1, &c), CBCT_ERR_ARG, "the config has 1 point (0 to 0)");

    /* Long ids are cut and given a hash of the whole: still unique. */
    char longs[1024], a[121], b[121];
    memset(a, 'a', 120);
    memcpy(b, a, 120);
    a[120] = b[120] = 0;
    b[119] = 'b';
    snprintf(longs, sizeof longs, "%srun: {output: [%s, %s]}\n", plain, a, b);
    CHECK_OK(grid(longs, NULL, 0, &g));
    CHECK(g.n_points == 2 && strlen(g.points[0].id) == 89 && strlen(g.points[1].id) == 89);
    CHECK(strncmp(g.points[0].id, "output-aaaa", 11) == 0);
    CHECK(strcmp(g.points[0].id, g.points[1].id) != 0);
    cbct_config_grid_free(&g);
    /* Equal rows get distinct ids; a zip and a product multiply. */
    const char *equal = "dataset: {tomography_3d: {shape: [8, 8, 8]}}\n"
                        "solver:\n"
                        "  CGLS:\n" /* block style: in a flow block a comma ends the key */
                        "    max_iterations, tolerance: [[2, 0.1], [4, 0.1], [2, 0.1]]\n"
                        "run: {threads: [1, 2]}\n";
    CHECK_OK(grid(equal, NULL, 0, &g));
    CHECK(g.n_points == 6);
    if (g.n_points == 6) {
        CHECK_MSG(strcmp(g.points[0].id, "max_iterations-2_threads-1") == 0, "%s", g.points[0].id);
        CHECK_MSG(strcmp(g.points[4].id, "max_iterations-2_threads-1-4") == 0, "%s",
                  g.points[4].id);
        CHECK(strcmp(g.points[5].id, "max_iterations-2_threads-2-5") == 0);
    }
    cbct_config_grid_free(&g);
    CHECK_OK(cbct_config_parse_point(equal, strlen(equal), "t.yml", NULL, 0, 3, &c));
    CHECK(c.max_iterations == 4 && c.threads == 2 && c.tolerance == 0.1);
}

static void test_bad(void)
{
    cbct_config_grid g;
    cbct_recon_config c;
    const char *head = "dataset: {tomography_3d: {shape: [8, 8, 8]}}\n"
                       "solver:\n"
                       "  - PnP:\n"
                       "      model: MODEL\n";
    char text[2048];
#define BAD(line, needle)                                                                   \
    do {                                                                                    \
        snprintf(text, sizeof text, "%s%s", head, line);                                   \
        CHECK_FAILS(grid(text, NULL, 0, &g), CBCT_ERR_ARG, needle);                         \
        CHECK(g.points == NULL);                                                            \
    } while (0)
    BAD("      max_batch_size, denoiser_sigma: [[2, 0.1], [4]]\n",
        "t.yml:5: solver.PnP.max_batch_size, denoiser_sigma: row 2 has 1 values, expected 2");
    BAD("      max_batch_size, denoiser_sigma: []\n",
        "t.yml:5: solver.PnP.max_batch_size, denoiser_sigma: a grid of zipped keys needs a list "
        "of rows");
    BAD("      max_batch_size, denoiser_sigma: [2, 0.1]\n", "needs a list of rows");
    BAD("      max_batch_size, denoiser_sigma: 2\n", "needs a list of rows");
    BAD("      max_batch_size: []\n",
        "t.yml:5: solver.PnP.max_batch_size: an empty list: a grid needs at least one value");
    BAD("      max_batch_size,, denoiser_sigma: [[1, 2, 3]]\n", "empty key name");
    BAD("      max_batch_size, max_batch_size: [[1, 2]]\n", "max_batch_size is given twice");
    BAD("      max_batch_size: 3\n      max_batch_size, denoiser_sigma: [[1, 0.1]]\n",
        "t.yml:6: solver.PnP.max_batch_size, denoiser_sigma: max_batch_size is also given on "
        "line 5");
    BAD("      max_batch_size, denoiser_sigma: [[1, 0.1]]\n      denoiser_sigma: [0.1, 0.2]\n",
        "t.yml:5: solver.PnP.max_batch_size, denoiser_sigma: denoiser_sigma is also given on "
        "line 6");
    BAD("      max_batch_size, denoiser_sigma: [[1, 0.1]]\n      overlap, denoiser_sigma: "
        "[[[1, 1, 1], 0.2]]\n",
        "t.yml:6: solver.PnP.overlap, denoiser_sigma: solver.PnP.denoiser_sigma is also in the "
        "grid on line 5");
    BAD("      a.b, c: [[1, 2]]\n", "key 1: expected a plain key name, got \"a.b\"");
    /* Unknown keys and bad values inside a grid: named with their line
     * when the point is mapped. */
    snprintf(text, sizeof text, "%s%s", head,
             "      max_bach_size, denoiser_sigma: [[2, 0.1], [4, 0.2]]\n");
    CHECK_OK(grid(text, NULL, 0, &g));
    cbct_config_grid_free(&g);
    CHECK_FAILS(point(text, 1, &c), CBCT_ERR_ARG,
                "t.yml:5: solver.PnP.max_bach_size: unknown key (expected one of:");
    snprintf(text, sizeof text, "%s%s", head,
             "      max_batch_size, denoiser_sigma: [\n        [2, 0.1],\n        [x, 0.2]]\n");
    CHECK_OK(point(text, 0, &c));
    CHECK(c.tiling.max_batch == 2);
    CHECK_FAILS(point(text, 1, &c), CBCT_ERR_ARG,
                "t.yml:7: solver.PnP.max_batch_size: expected an integer");
    snprintf(text, sizeof text, "%s%s", head, "      max_batch_size: [1, -4]\n");
    CHECK_FAILS(point(text, 1, &c), CBCT_ERR_ARG,
                "t.yml:5: solver.PnP.max_batch_size: expected an integer in [0,");
    /* A list of one is a value, checked by the mapper as before. */
    snprintf(text, sizeof text, "%s%s", head, "      max_batch_size: [4]\n");
    CHECK_FAILS(point(text, 0, &c), CBCT_ERR_ARG, "expected an integer");
    CHECK_FAILS(cbct_config_load_point("no/such/grid.yml", NULL, 0, 0, &c), CBCT_ERR_IO,
                "no/such/grid.yml");
    CHECK_FAILS(cbct_config_grid_load("no/such/grid.yml", NULL, 0, &g), CBCT_ERR_IO,
                "no/such/grid.yml");
#undef BAD
}

int main(void)
{
    FILE *f = fopen(check_tmpfile("model.safetensors", model, sizeof model), "w");
    CHECK(f != NULL);
    if (f)
        fclose(f);
    test_zipped();
    test_product();
    test_bad();
    CHECK(cbct_mem_current() == 0); /* every grid freed */
    return check_summary("test_config_grid");
}
