#!/usr/bin/env bash
# cbct recon end to end: the shipped config made tiny with --set (24^3, 12
# views, 3 PnP iterations), its outputs and record.json (iterations with
# PSNR), a CGLS run, a volume file with noise through SIRT, and bad configs
# (unknown key, wrong type, out of range, missing files, YAML syntax,
# inconsistent shapes) exiting 1 with the key named and no output written.
source "$(dirname "$0")/lib_cli.sh"
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" || exit 1 # the config names models/... relative to the repository
CONFIG=configs/tomography_3d.yml
TINY=(--set dataset.tomography_3d.shape=[24,24,24] --set dataset.tomography_3d.num_projections=12
      --set solver.PnP.max_iterations=3 --set solver.PnP.init_method=fdk)

# --- help and the command list ----------------------------------------------------
run "recon --help" recon --help && check "help shows --set" grep -q -- '--set' "$T/out"
run "help lists recon" help && check "command list has recon" grep -q 'recon' "$T/out"

# --- the shipped config, tiny -----------------------------------------------------
run "recon tiny" recon "$CONFIG" -o "$T/run" "${TINY[@]}"
for f in recon.npy init.npy record.json axial.png coronal.png; do
    check "wrote $f" test -s "$T/run/$f"
done
check "no temporary files left" test -z "$(find "$T/run" -name '*.tmp*')"
check "progress line per iteration" grep -q 'iteration   3/3' "$T/err"
run "info recon.npy" info "$T/run/recon.npy" && check "recon shape" grep -q 'shape *24 x 24 x 24' "$T/out"
check "record has 3 iterations" test "$(grep -c '"iteration":' "$T/run/record.json")" -eq 3
check "record has psnr values" grep -qE '"psnr":[[:space:]]*[0-9]' "$T/run/record.json"
check "record echoes the override" grep -qE '"max_iterations":[[:space:]]*3' "$T/run/record.json"
check "record has the version" grep -q '"version"' "$T/run/record.json"
check "record has peak memory" grep -q '"rss_peak_bytes"' "$T/run/record.json"

# --- the operator norm cache: a second run reads ||A^T A|| back, same bits ---------
export CBCT_CACHE_DIR="$T/cache"
run "recon norm cached 1" recon "$CONFIG" -o "$T/c1" "${TINY[@]}" &&
    check "first run computes the norm" grep -q 'power iteration' "$T/err"
check "cache file written" test -n "$(ls "$T/cache"/opnorm_*.txt 2>/dev/null)"
run "recon norm cached 2" recon "$CONFIG" -o "$T/c2" "${TINY[@]}" &&
    check "second run reads the cache" grep -q 'from the cache' "$T/err"
check "record says cached (0 power iterations)" grep -qE '"norm_iterations":[[:space:]]*0' "$T/c2/record.json"
check "cached norm gives the same bits" cmp -s "$T/c1/recon.npy" "$T/c2/recon.npy"
check "uncached run gives the same bits" cmp -s "$T/run/recon.npy" "$T/c2/recon.npy"
: >"$T/not_a_folder" # a cache that cannot be written: a warning, the same result
export CBCT_CACHE_DIR="$T/not_a_folder"
run "recon norm cache unwritable" recon "$CONFIG" -o "$T/c3" "${TINY[@]}" &&
    check "unwritable cache is a warning" grep -q 'continuing without the cache' "$T/err"
check "unwritable cache gives the same bits" cmp -s "$T/c1/recon.npy" "$T/c3/recon.npy"
export CBCT_CACHE_DIR=

# --- another solver, selected by a whole override block ---------------------------
cat >"$T/cgls.yml" <<'YML'
dataset: {tomography_3d: {phantom: shepp-logan, shape: [16, 16, 16], num_projections: 10}}
solver: {CGLS: {max_iterations: 4}}
YML
run "recon cgls" recon "$T/cgls.yml" -o "$T/cgls" --quiet
check "cgls record has 4 iterations" test "$(grep -c '"iteration":' "$T/cgls/record.json")" -eq 4
# the CGLS block's own options: clamped >= 0, damped, stopped by the
# discrepancy principle on noisy data before its 30 iterations
cat >"$T/cgls_opts.yml" <<'YML'
dataset: {tomography_3d: {phantom: shepp-logan, shape: [16, 16, 16], num_projections: 10,
                          noise: {photons: 300}}}
solver: {CGLS: {max_iterations: 30, nonnegative: true, damping: 0.001, discrepancy: 1.0}}
YML
run "recon cgls options" recon "$T/cgls_opts.yml" -o "$T/cgls_opts" --quiet
run "info cgls nonnegative" info "$T/cgls_opts/recon.npy" &&
    check "cgls result clamped >= 0" grep -qE 'values +min [0-9]' "$T/out"
n_its=$(grep -c '"iteration":' "$T/cgls_opts/record.json")
check "discrepancy principle stopped cgls early ($n_its of 30)" test "$n_its" -lt 30

# --- a volume file as the source, with noise, SIRT from FDK -----------------------
run "phantom volume" phantom --shape 16,16,16 -o "$T/v.npy"
cat >"$T/volume.yml" <<YML
dataset: {tomography_3d: {volume: $T/v.npy, num_projections: 12, noise: {photons: 1000}}}
solver: {SIRT: {max_iterations: 3, init_method: fdk}}
YML
run "recon volume" recon "$T/volume.yml" -o "$T/vol"
check "volume record has 3 iterations" test "$(grep -c '"iteration":' "$T/vol/record.json")" -eq 3
check "volume record names the source" grep -q '"source":[[:space:]]*"volume"' "$T/vol/record.json"

# --- bad configs: exit 1, the key named, no output --------------------------------
bad() { # NAME NEEDLE ARGS...
    local name=$1 needle=$2
    shift 2
    rm -rf "$T/bad"
    expect "$name" 1 "$needle" - -- recon "$@" -o "$T/bad"
    if [ -e "$T/bad" ]; then fail "$name: output folder was created"; fi
}
sed 's/num_projections/num_projektions/' "$CONFIG" >"$T/unknown.yml"
bad "unknown key" "unknown.yml:9: dataset.tomography_3d.num_projektions: unknown key" \
    "$T/unknown.yml"
bad "wrong type" '--set solver.PnP.denoiser_sigma: expected a number in (0, 1], got "abc"' \
    "$CONFIG" --set solver.PnP.denoiser_sigma=abc
bad "out of range" "solver.PnP.max_iterations: expected an integer in [1," \
    "$CONFIG" --set solver.PnP.max_iterations=0
bad "missing model" "solver.PnP.model: cannot read file 'no/model.safetensors'" \
    "$CONFIG" --set solver.PnP.model=no/model.safetensors
bad "two data sources" "dataset.tomography_3d: give one of phantom, volume, projections or path" \
    "$CONFIG" --set dataset.tomography_3d.volume=no/vol.npy
printf 'dataset: {tomography_3d: {volume: no/vol.npy}}\nsolver: {FDK: }\n' >"$T/vol.yml"
bad "missing volume" "vol.yml:1: dataset.tomography_3d.volume: cannot read file 'no/vol.npy'" \
    "$T/vol.yml"
bad "more blocks than views" "dataset.tomography_3d.num_operators: 60 blocks of views but only 50" \
    "$CONFIG" --set dataset.tomography_3d.num_operators=60
printf 'dataset: {tomography_3d: {shape: [8, 8}}\n' >"$T/syntax.yml"
bad "YAML syntax" "syntax.yml:1: YAML syntax error" "$T/syntax.yml"
bad "missing config" "no/such.yml" no/such.yml
# Measured projections whose shape disagrees with their geometry.
run "geometry" geometry circular --views 10 --det 16,16 --pixel 1 --sod 100 --sdd 200 -o "$T/g.json" \
    || cat "$T/err"
run "phantom as projections" phantom --shape 9,16,16 -o "$T/p.npy"
cat >"$T/measured.yml" <<YML
dataset: {tomography_3d: {projections: $T/p.npy, geometry_file: $T/g.json, num_projections: 10}}
solver: {FDK: }
YML
bad "inconsistent shapes" "dataset.tomography_3d.projections: '$T/p.npy' holds 9 x 16 x 16" \
    "$T/measured.yml"

summary
