#!/usr/bin/env bash
# cbct recon under mpirun: 2 ranks with distribute_physics + distribute_denoiser,
# with distribute_volume, and with all three give the 1-rank reconstruction
# (PSNR of one against the other >= 110 dB, i.e. within ~3e-6 of the range);
# record.json has one entry per rank; a checkpointed 2-rank run resumes to
# the same result; a failure on one rank (an allocation refused on rank 1
# only) ends the whole job quickly with that rank's message and no result.
# Exit 77 (skipped) without mpirun.
source "$(dirname "$0")/lib_cli.sh"
ROOT=$(cd "$(dirname "$0")/.." && pwd)
if ! command -v mpirun >/dev/null; then
    echo "skipped: mpirun not found (Debian: openmpi-bin)"
    exit 77
fi
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMP_NUM_THREADS=1
MPIRUN=(mpirun --oversubscribe)

cat >"$T/run.yml" <<YML
dataset: {tomography_3d: {phantom: walnut, shape: [32, 32, 32], num_projections: 20,
                          num_operators: 4, noise: {photons: 10000, seed: 3}}}
solver:
  PnP: {model: $ROOT/models/drunet3d_small.safetensors, init_method: fdk, max_iterations: 3,
        denoiser_sigma: 0.03, denoiser_lambda_relaxation: 0.1, mode: normalized,
        clip: [0, 1], patch_size: [8, 32, 32], overlap: [2, 4, 4], max_batch_size: 2}
YML

run "1 rank" recon "$T/run.yml" -o "$T/one" --quiet

# same_result NAME DIR: DIR/recon.npy equals the 1-rank result.
same_result() {
    "$TOOL" compare "$T/one/recon.npy" "$2/recon.npy" >"$T/cmp" 2>&1
    local psnr
    psnr=$(awk '/^psnr/ { print int($2) }' "$T/cmp")
    check "$1: PSNR against 1 rank ${psnr:-?} dB >= 110" test "${psnr:-0}" -ge 110
}

i=0
for keys in "distribute_physics distribute_denoiser" "distribute_volume" \
            "distribute_physics distribute_denoiser distribute_volume"; do
    i=$((i + 1))
    sets=()
    for k in $keys; do sets+=(--set "solver.PnP.$k=true"); done
    if "${MPIRUN[@]}" -np 2 "$TOOL" recon "$T/run.yml" -o "$T/two_$i" --quiet "${sets[@]}" \
        >"$T/out" 2>"$T/err"; then
        pass
        same_result "2 ranks, $keys" "$T/two_$i"
        check "2 ranks, $keys: record has 2 rank entries" \
            test "$(grep -c '"rank":' "$T/two_$i/record.json")" -eq 2
        check "2 ranks, $keys: one result line (rank 0 speaks)" \
            test "$(grep -c '^recon:' "$T/out")" -eq 1
    else
        fail "2 ranks, $keys: exited non-zero: $(tail -5 "$T/err")"
    fi
done

# 3 ranks with a split volume: slabs of 8, 8 and 16 rows.
if "${MPIRUN[@]}" -np 3 "$TOOL" recon "$T/run.yml" -o "$T/three" --quiet \
    --set solver.PnP.distribute_volume=true >"$T/out" 2>"$T/err"; then
    pass
    same_result "3 ranks, distribute_volume" "$T/three"
else
    fail "3 ranks, distribute_volume: $(tail -5 "$T/err")"
fi

# Checkpoints per rank, and a resume on 2 ranks.
"${MPIRUN[@]}" -np 2 "$TOOL" recon "$T/run.yml" -o "$T/ck" --quiet --checkpoint-every 1 \
    --set solver.PnP.distribute_volume=true --set solver.PnP.max_iterations=2 >/dev/null 2>&1
check "a checkpoint per rank" test -s "$T/ck/checkpoint.cbct" -a -s "$T/ck/checkpoint.rank1.cbct"
if "${MPIRUN[@]}" -np 2 "$TOOL" recon --resume "$T/ck" --quiet \
    --set solver.PnP.max_iterations=3 >"$T/out" 2>"$T/err"; then
    pass
    same_result "2 ranks resumed" "$T/ck"
else
    fail "2-rank resume: $(tail -5 "$T/err")"
fi
"${MPIRUN[@]}" -np 3 "$TOOL" recon --resume "$T/ck" --quiet >"$T/out" 2>"$T/err"
check "resume on another number of ranks is refused" grep -q "resume it on 2 ranks" "$T/err"

# A failure on rank 1 only (its 50th tracked allocation is refused).
start=$(date +%s)
"${MPIRUN[@]}" -np 1 "$TOOL" recon "$T/run.yml" -o "$T/fail" --quiet \
    --set solver.PnP.distribute_volume=true : \
    -np 1 -x CBCT_FAIL_ALLOC_AFTER=50 "$TOOL" recon "$T/run.yml" -o "$T/fail" --quiet \
    --set solver.PnP.distribute_volume=true >"$T/out" 2>"$T/err"
rc=$?
seconds=$(( $(date +%s) - start ))
check "failure on rank 1: non-zero exit (got $rc)" test $rc -ne 0
check "failure on rank 1: every rank reports rank 1's message: $(head -3 "$T/err")" \
    grep -q "rank 1: " "$T/err"
check "failure on rank 1: ended in $seconds s (< 60)" test $seconds -lt 60
check "failure on rank 1: no result written" test ! -e "$T/fail/recon.npy"

summary
