/* The YAML run config: a valid config maps to the right values (reference
 * style lists and plain blocks), overrides replace and add keys, and every
 * bad case (unknown key, wrong type, out of range, missing file, YAML
 * syntax, inconsistent shapes, grids) fails naming the key and the line. */
#include <stdio.h>
#include <string.h>

#include "cbct.h"
#include "cbct/config.h"
#include "check.h"

static char model[1100];

/* Parses `text` (with "MODEL" replaced by the model file) as "t.yml". */
static cbct_status parse(const char *text, const char *const *sets, int n_sets,
                         cbct_recon_config *c)
{
    char buf[4096];
    const char *m = strstr(text, "MODEL");
    if (m)
        snprintf(buf, sizeof buf, "%.*s%s%s", (int)(m - text), text, model, m + 5);
    else
        snprintf(buf, sizeof buf, "%s", text);
    return cbct_config_parse(buf, strlen(buf), "t.yml", sets, n_sets, c);
}

static const char *valid =
    "dataset:\n"
    "  - tomography_3d:\n"
    "      num_operators: 2\n"
    "      num_projections: 50\n"
    "      geometry_type: conebeam\n"
    "      use_dataset_sinogram: true\n"
    "      phantom: shepp-logan\n"
    "      shape: [24, 32, 40]\n"
    "      noise: {photons: 1e4, seed: 7}\n"
    "solver:\n"
    "  - PnP:\n"
    "      denoiser: drunet\n"
    "      model: MODEL\n"
    "      init_method: [\"fdk\"]\n"
    "      max_iterations: 10\n"
    "      denoiser_sigma: 0.05\n"
    "      denoiser_lambda_relaxation: 2.5\n"
    "      patch_size: [8, 256, 256]\n"
    "      overlap: [2, 16, 16]\n"
    "      max_batch_size: 3\n"
    "      mode: normalized\n"
    "      clip: [0, 0.5]\n"
    "run:\n"
    "  memory: 512M\n"
    "  output: out/x\n"
    "  threads: 2\n";

static void test_valid(void)
{
    cbct_recon_config c;
    CHECK_OK(parse(valid, NULL, 0, &c));
    CHECK(c.num_operators == 2 && c.num_projections == 50 && c.use_dataset_sinogram == 1);
    CHECK(c.source == CBCT_SOURCE_PHANTOM && c.phantom == CBCT_PHANTOM_SHEPP_LOGAN);
    CHECK(c.shape[0] == 24 && c.shape[1] == 32 && c.shape[2] == 40);
    CHECK(c.photons == 1e4 && c.noise_seed == 7);
    CHECK(c.solver == CBCT_SOLVER_PNP && c.init_method == CBCT_INIT_FDK);
    CHECK(c.max_iterations == 10 && c.denoiser_sigma == 0.05 && c.denoiser_lambda == 2.5);
    CHECK(c.tiling.patch[0] == 8 && c.tiling.patch[2] == 256 && c.tiling.overlap[1] == 16);
    CHECK(c.tiling.max_batch == 3 && c.mode == CBCT_PNP_LAMBDA_NORMALIZED);
    CHECK(c.clip == 1 && c.clip_range[0] == 0 && c.clip_range[1] == 0.5);
    CHECK(c.memory_bytes == (size_t)512 << 20 && c.threads == 2);
    CHECK(strcmp(c.output_dir, "out/x") == 0 && strcmp(c.model_path, model) == 0);
    CHECK(strcmp(cbct_solver_kind_name(c.solver), "PnP") == 0);
    CHECK(strcmp(cbct_init_name(c.init_method), "fdk") == 0);

    /* Overrides replace values, add keys and blocks, and are validated. */
    const char *sets[] = {"solver.PnP.max_iterations=3", "dataset.tomography_3d.shape=[8,8,8]",
                          "run.output=elsewhere", "dataset.tomography_3d.noise.photons=50"};
    CHECK_OK(parse(valid, sets, 4, &c));
    CHECK(c.max_iterations == 3 && c.shape[0] == 8 && c.shape[2] == 8 && c.photons == 50);
    CHECK(strcmp(c.output_dir, "elsewhere") == 0);
    const char *bad_set[] = {"solver.PnP.denoiser_sigma=abc"};
    CHECK_FAILS(parse(valid, bad_set, 1, &c), CBCT_ERR_ARG,
                "t.yml: --set solver.PnP.denoiser_sigma: expected a number in (0, 1], got \"abc\"");
    const char *no_eq[] = {"solver.PnP.max_iterations"};
    CHECK_FAILS(parse(valid, no_eq, 1, &c), CBCT_ERR_ARG, "expected KEY.PATH=VALUE");
    const char *new_key[] = {"solver.PnP.bogus=1"};
    CHECK_FAILS(parse(valid, new_key, 1, &c), CBCT_ERR_ARG, "--set solver.PnP.bogus: unknown key");

    /* Plain blocks (no lists), other solvers and their defaults. */
    CHECK_OK(parse("dataset: {tomography_3d: {num_projections: 20}}\nsolver: {CGLS: }\n", NULL,
                   0, &c));
    CHECK(c.solver == CBCT_SOLVER_CGLS && c.max_iterations == 50 && c.num_projections == 20);
    CHECK(c.init_method == CBCT_INIT_ZEROS && c.shape[0] == 64 && c.photons == 0);
    CHECK_OK(parse("dataset: {tomography_3d: {}}\nsolver: {SIRT: {max_iterations: 7}}\n", NULL,
                   0, &c));
    CHECK(c.solver == CBCT_SOLVER_SIRT && c.max_iterations == 7);
    CHECK_OK(parse("dataset: {tomography_3d: {}}\nsolver: {FDK: }\n", NULL, 0, &c));
    CHECK(c.solver == CBCT_SOLVER_FDK);
}

/* Replaces line `line_no` (1-based) of the valid config with `line`. */
static cbct_status with_line(int line_no, const char *line, cbct_recon_config *c)
{
    char buf[4096] = "";
    const char *p = valid;
    for (int i = 1; *p; i++) {
        const char *nl = strchr(p, '\n');
        if (i == line_no)
            snprintf(buf + strlen(buf), sizeof buf - strlen(buf), "%s\n", line);
        else
            snprintf(buf + strlen(buf), sizeof buf - strlen(buf), "%.*s", (int)(nl - p + 1), p);
        p = nl + 1;
    }
    return parse(buf, NULL, 0, c);
}

static void test_bad(void)
{
    cbct_recon_config c;
    CHECK_FAILS(with_line(4, "      num_projektions: 50", &c), CBCT_ERR_ARG,
                "t.yml:4: dataset.tomography_3d.num_projektions: unknown key");
    CHECK_FAILS(with_line(16, "      denoiser_sigma: abc", &c), CBCT_ERR_ARG,
                "t.yml:16: solver.PnP.denoiser_sigma: expected a number in (0, 1], got \"abc\"");
    CHECK_FAILS(with_line(16, "      denoiser_sigma: 1.5", &c), CBCT_ERR_ARG,
                "t.yml:16: solver.PnP.denoiser_sigma: expected a number in (0, 1]");
    CHECK_FAILS(with_line(15, "      max_iterations: [1]", &c), CBCT_ERR_ARG,
                "t.yml:15: solver.PnP.max_iterations: expected an integer");
    CHECK_FAILS(with_line(15, "      max_iterations: 0", &c), CBCT_ERR_ARG,
                "t.yml:15: solver.PnP.max_iterations: expected an integer in [1,");
    CHECK_FAILS(with_line(6, "      use_dataset_sinogram: maybe", &c), CBCT_ERR_ARG,
                "t.yml:6: dataset.tomography_3d.use_dataset_sinogram: expected true or false");
    CHECK_FAILS(with_line(5, "      geometry_type: parallel", &c), CBCT_ERR_ARG,
                "t.yml:5: dataset.tomography_3d.geometry_type: expected one of conebeam");
    CHECK_FAILS(with_line(14, "      init_method: magic", &c), CBCT_ERR_ARG,
                "t.yml:14: solver.PnP.init_method: expected one of zeros, adjoint, fdk, "
                "pseudo_inverse, got \"magic\"");
    CHECK_FAILS(with_line(8, "      shape: [24, 32]", &c), CBCT_ERR_ARG,
                "t.yml:8: dataset.tomography_3d.shape: expected a list of 3 integers");
    CHECK_FAILS(with_line(24, "  memory: lots", &c), CBCT_ERR_ARG,
                "t.yml:24: run.memory: expected a size");
    CHECK_FAILS(with_line(13, "      model: no/such/model.safetensors", &c), CBCT_ERR_ARG,
                "t.yml:13: solver.PnP.model: cannot read file 'no/such/model.safetensors'");
    CHECK_FAILS(with_line(7, "      volume: no/such.npy", &c), CBCT_ERR_ARG,
                "t.yml:7: dataset.tomography_3d.volume: cannot read file 'no/such.npy'");
    /* Inconsistent shapes. */
    CHECK_FAILS(with_line(3, "      num_operators: 60", &c), CBCT_ERR_ARG,
                "t.yml:3: dataset.tomography_3d.num_operators: 60 blocks of views but only 50");
    CHECK_FAILS(with_line(19, "      overlap: [2, 16, 300]", &c), CBCT_ERR_ARG,
                "t.yml:19: solver.PnP.overlap: each overlap must be smaller than patch_size");
    CHECK_FAILS(with_line(12, "      model: MODEL", &c), CBCT_ERR_ARG,
                "t.yml:13: solver.PnP.model: given twice (first on line 12)");
    CHECK_FAILS(with_line(22, "      clip: [1, 0]", &c), CBCT_ERR_ARG,
                "t.yml:22: solver.PnP.clip: expected [lo, hi] with lo < hi");
    /* YAML syntax. */
    CHECK_FAILS(with_line(9, "      noise: {photons: 1e4", &c), CBCT_ERR_FORMAT,
                "t.yml:10: YAML syntax error");
    /* Structure: unknown top-level block, two solvers, grids of runs. */
    CHECK_FAILS(parse("dataset: {tomography_3d: {}}\nsolver: {FDK: }\nsolvers: 1\n", NULL, 0,
                      &c),
                CBCT_ERR_ARG, "t.yml:3: solvers: unknown key");
    CHECK_FAILS(parse("dataset: {tomography_3d: {}}\nsolver: {FDK: , CGLS: }\n", NULL, 0, &c),
                CBCT_ERR_ARG, "t.yml:2: solver: expected exactly one of PnP");
    CHECK_FAILS(parse("dataset: {tomography_3d: {}}\nsolver: {FDK: }\n"
                      "slurm_gres, max_batch_size: [[\"gpu:2\", 4]]\n",
                      NULL, 0, &c),
                CBCT_ERR_ARG, "t.yml:3: slurm_gres, max_batch_size: grids of runs");
    CHECK_FAILS(parse("solver: {FDK: }\n", NULL, 0, &c), CBCT_ERR_ARG,
                "t.yml: dataset: expected a block of keys");
    CHECK_FAILS(parse("dataset: {tomography_3d: {}}\nsolver: {PnP: {denoiser: drunet}}\n", NULL,
                      0, &c),
                CBCT_ERR_ARG, "t.yml:2: solver.PnP.model: PnP needs a DRUNet model");
    CHECK_FAILS(cbct_config_load("no/such/config.yml", NULL, 0, &c), CBCT_ERR_IO,
                "no/such/config.yml");
}

int main(void)
{
    FILE *f = fopen(check_tmpfile("model.safetensors", model, sizeof model), "w");
    CHECK(f != NULL);
    if (f)
        fclose(f);
    test_valid();
    test_bad();
    return check_summary("test_config");
}
