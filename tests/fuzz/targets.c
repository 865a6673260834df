/* The table of every fuzz target, for the regression test that replays
 * the corpus and the saved crashes (a fuzzer links only its own target). */
#include "fuzz.h"

const cbct_fuzz_target cbct_fuzz_targets[] = {
    {"config", cbct_fuzz_config},
    {"geometry_json", cbct_fuzz_geometry_json},
    {"npy", cbct_fuzz_npy},
    {"metaimage", cbct_fuzz_metaimage},
    {"safetensors", cbct_fuzz_safetensors},
    {"tiff", cbct_fuzz_tiff},
    {"nifti", cbct_fuzz_nifti},
    {"walnut_geom", cbct_fuzz_walnut_geom},
    {"astra_json", cbct_fuzz_astra_json},
    {NULL, NULL},
};
