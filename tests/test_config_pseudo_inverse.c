/* The pseudo_inverse_* keys of the solver block and the CGLS/SIRT blocks'
 * own nonnegative, damping and discrepancy: defaults (the reference's
 * pseudo-inverse), mapping, the noise level taken from dataset noise, and
 * errors naming the file, line and key. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cbct.h"
#include "cbct/config.h"
#include "check.h"

static cbct_status parse(const char *text, cbct_recon_config *c)
{
    return cbct_config_parse(text, strlen(text), "t.yml", NULL, 0, c);
}

int main(void)
{
    cbct_recon_config c;
    CHECK_OK(parse("dataset: {tomography_3d: {}}\nsolver: {CGLS: }\n", &c));
    cbct_pinv_opts def = cbct_pinv_defaults();
    CHECK(c.pinv.max_iterations == 50 && def.max_iterations == 50);
    CHECK(c.pinv.nonnegative == 1 && c.pinv.damping == 0 && c.pinv.discrepancy == 0);
    CHECK(c.pinv.start == CBCT_INIT_ZEROS && c.pinv.tolerance == def.tolerance);
    CHECK(isinf(c.pinv.photons)); /* simulated without noise */

    const char *full = "dataset:\n"
                       "  tomography_3d:\n"
                       "    noise: {photons: 2000}\n"
                       "solver:\n"
                       "  SIRT:\n"
                       "    init_method: pseudo_inverse\n"
                       "    pseudo_inverse_iterations: 20\n"
                       "    pseudo_inverse_nonnegative: false\n"
                       "    pseudo_inverse_damping: 0.0025\n"
                       "    pseudo_inverse_start: fdk\n"
                       "    pseudo_inverse_discrepancy: 1.1\n";
    CHECK_OK(parse(full, &c));
    CHECK(c.init_method == CBCT_INIT_PSEUDO_INVERSE && c.pinv.max_iterations == 20);
    CHECK(c.pinv.nonnegative == 0 && c.pinv.damping == 0.0025 && c.pinv.discrepancy == 1.1);
    CHECK(c.pinv.start == CBCT_INIT_FDK && c.pinv.photons == 2000);

    /* The least-squares solvers' own keys. */
    CHECK_OK(parse("dataset: {tomography_3d: {}}\nsolver: {CGLS: }\n", &c));
    CHECK(c.nonnegative == 0 && c.damping == 0 && c.discrepancy == 0);
    CHECK_OK(parse("dataset: {tomography_3d: {noise: {photons: 500}}}\nsolver:\n  CGLS:\n"
                   "    nonnegative: true\n    damping: 0.01\n    discrepancy: 1.2\n", &c));
    CHECK(c.nonnegative == 1 && c.damping == 0.01 && c.discrepancy == 1.2);
    CHECK(c.pinv.photons == 500);
    CHECK_OK(parse("dataset: {tomography_3d: {}}\nsolver: {SIRT: {nonnegative: true}}\n", &c));
    CHECK(c.nonnegative == 1);
    CHECK_FAILS(parse("dataset: {tomography_3d: {}}\nsolver:\n  SIRT:\n"
                      "    damping: 0.01\n", &c),
                CBCT_ERR_ARG, "t.yml:4: solver.SIRT.damping: only for CGLS");
    CHECK_FAILS(parse("dataset: {tomography_3d: {}}\nsolver:\n  CGLS:\n"
                      "    damping: -1\n", &c),
                CBCT_ERR_ARG, "t.yml:4: solver.CGLS.damping: expected a number in [0, 1]");
    CHECK_FAILS(parse("dataset: {tomography_3d: {}}\nsolver: {FDK: {nonnegative: true}}\n", &c),
                CBCT_ERR_ARG, "solver.FDK.nonnegative: unknown key");
    CHECK_FAILS(parse("dataset: {tomography_3d: {}}\nsolver:\n  CGLS:\n"
                      "    pseudo_inverse_damping: 2\n", &c),
                CBCT_ERR_ARG, "t.yml:4: solver.CGLS.pseudo_inverse_damping: expected a number "
                              "in [0, 1]");
    CHECK_FAILS(parse("dataset: {tomography_3d: {}}\nsolver:\n  CGLS:\n"
                      "    pseudo_inverse_start: adjoint\n", &c),
                CBCT_ERR_ARG, "t.yml:4: solver.CGLS.pseudo_inverse_start: expected one of "
                              "zeros, fdk");
    CHECK_FAILS(parse("dataset: {tomography_3d: {}}\nsolver:\n  CGLS:\n"
                      "    pseudo_inverse_iterations: 0\n", &c),
                CBCT_ERR_ARG, "t.yml:4: solver.CGLS.pseudo_inverse_iterations: expected an "
                              "integer in [1,");
    CHECK_FAILS(parse("dataset: {tomography_3d: {}}\nsolver:\n  CGLS:\n"
                      "    pseudo_inverse_nonnegative: 1.5\n", &c),
                CBCT_ERR_ARG, "t.yml:4: solver.CGLS.pseudo_inverse_nonnegative: expected true "
                              "or false");
    CHECK_FAILS(parse("dataset: {tomography_3d: {}}\nsolver: {FDK: {pseudo_inverse_damping: 0}}\n",
                      &c),
                CBCT_ERR_ARG, "solver.FDK.pseudo_inverse_damping: unknown key");

    /* Measured projections: the noise level is unknown. */
    const char *tmp = getenv("CBCT_TEST_TMP");
    char dir[1024], proj[1100], geom[1100], text[4096];
    snprintf(dir, sizeof dir, "%s", tmp && *tmp ? tmp : "/tmp/cbct_test_config_pinv");
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s'", dir);
    CHECK(system(cmd) == 0);
    snprintf(proj, sizeof proj, "%s/p.npy", dir);
    snprintf(geom, sizeof geom, "%s/g.json", dir);
    FILE *f = fopen(proj, "w"), *f2 = fopen(geom, "w");
    CHECK(f && f2);
    if (f)
        fclose(f);
    if (f2)
        fclose(f2);
    snprintf(text, sizeof text,
             "dataset: {tomography_3d: {projections: '%s', geometry_file: '%s'}}\n"
             "solver:\n  CGLS:\n    init_method: pseudo_inverse\n"
             "    pseudo_inverse_discrepancy: 1\n", proj, geom);
    CHECK_FAILS(parse(text, &c), CBCT_ERR_ARG,
                "t.yml:5: solver.CGLS.pseudo_inverse_discrepancy: the discrepancy principle "
                "needs the noise level");
    snprintf(text, sizeof text,
             "dataset: {tomography_3d: {projections: '%s', geometry_file: '%s'}}\n"
             "solver:\n  CGLS:\n    discrepancy: 1\n", proj, geom);
    CHECK_FAILS(parse(text, &c), CBCT_ERR_ARG,
                "t.yml:4: solver.CGLS.discrepancy: the discrepancy principle needs the noise "
                "level");
    unlink(proj);
    unlink(geom);
    return check_summary("test_config_pseudo_inverse");
}
