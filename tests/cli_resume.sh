#!/usr/bin/env bash
# Kill and resume: a PnP run (and a CGLS run) killed with SIGKILL at several
# random points and continued with `cbct recon --resume DIR` (or started
# again when it died before its first checkpoint) ends with a recon.npy
# bit-identical to an uninterrupted run. SIGINT stops a run after the
# current iteration with a checkpoint and exit status 130, and the resumed
# run is identical too. Bad resumes (no checkpoint, corrupt checkpoint,
# config changed since, CONFIG and --resume together) fail clearly.
source "$(dirname "$0")/lib_cli.sh"
ROOT=$(cd "$(dirname "$0")/.." && pwd)
ITERATIONS=6

cat >"$T/pnp.yml" <<YML
dataset: {tomography_3d: {phantom: walnut, shape: [32, 32, 32], num_projections: 20,
                          num_operators: 2, noise: {photons: 10000, seed: 3}}}
solver:
  PnP: {model: $ROOT/models/drunet3d_small.safetensors, init_method: fdk,
        max_iterations: $ITERATIONS, denoiser_sigma: 0.03, denoiser_lambda_relaxation: 0.1,
        mode: normalized, clip: [0, 1], patch_size: [16, 32, 32], overlap: [2, 4, 4]}
YML
cat >"$T/cgls.yml" <<YML
dataset: {tomography_3d: {phantom: shepp-logan, shape: [32, 32, 32], num_projections: 20}}
solver: {CGLS: {max_iterations: 12}}
YML

# --- uninterrupted references ------------------------------------------------------
start=$(date +%s.%N)
run "pnp uninterrupted" recon "$T/pnp.yml" -o "$T/full" --quiet --checkpoint-every 2
seconds=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { print b - a }')
run "cgls uninterrupted" recon "$T/cgls.yml" -o "$T/cgls_full" --quiet
check "checkpoint written beside the results" test -s "$T/full/checkpoint.cbct"

# kill_and_resume NAME CONFIG REFERENCE DELAY_S: SIGKILL after DELAY_S, then
# resume (or start again without a checkpoint) and compare with REFERENCE.
kill_and_resume() {
    local name=$1 config=$2 reference=$3 delay=$4 dir="$T/$1"
    "$TOOL" recon "$config" -o "$dir" --quiet --checkpoint-every 1 >/dev/null 2>&1 &
    local pid=$!
    sleep "$delay"
    kill -KILL $pid 2>/dev/null
    wait $pid 2>/dev/null
    if [ -f "$dir/checkpoint.cbct" ]; then
        echo "$name: killed after $delay s, checkpoint at" \
            "$(head -c 300 "$dir/checkpoint.cbct" | grep -ao '"iteration":[0-9]*' | head -1)"
        run "$name: resume" recon --resume "$dir" --quiet || return
    else
        run "$name: start again (killed before the first checkpoint)" \
            recon "$config" -o "$dir" --quiet || return
    fi
    check "$name: no temporary file left" test -z "$(find "$dir" -name '*.tmp.*')"
    check "$name: result bit-identical to the uninterrupted run" \
        cmp -s "$dir/recon.npy" "$reference/recon.npy"
    check "$name: record has every iteration" \
        test "$(grep -c '"iteration":' "$dir/record.json")" -eq "$(grep -c '"iteration":' "$reference/record.json")"
}

# Random points spread over the run: early, middle, late (and jittered).
for fraction in 0.25 0.5 0.75 0.9; do
    jitter=$(( RANDOM % 20 ))
    delay=$(awk -v s="$seconds" -v f="$fraction" -v j="$jitter" 'BEGIN { print s * f * (90 + j) / 100 }')
    kill_and_resume "pnp killed at ${fraction}" "$T/pnp.yml" "$T/full" "$delay"
done
kill_and_resume "cgls killed" "$T/cgls.yml" "$T/cgls_full" 0.3

# --- SIGINT: a last checkpoint and a clean exit -----------------------------------------
"$TOOL" recon "$T/pnp.yml" -o "$T/int" >"$T/int.out" 2>"$T/int.err" &
pid=$!
for _ in $(seq 1 600); do # wait for the first iteration (at most 60 s)
    grep -q 'iteration *1/' "$T/int.err" && break
    sleep 0.1
done
kill -INT $pid
wait $pid
rc=$?
check "SIGINT: exit status 130 (got $rc)" test $rc -eq 130
check "SIGINT: message says where the checkpoint is" grep -q 'stopped by signal 2' "$T/int.err"
check "SIGINT: checkpoint written" test -s "$T/int/checkpoint.cbct"
check "SIGINT: no result written" test ! -e "$T/int/recon.npy"
run "SIGINT: resume" recon --resume "$T/int" --quiet &&
    check "SIGINT: resumed result bit-identical" cmp -s "$T/int/recon.npy" "$T/full/recon.npy"

# --- more iterations from a finished run -----------------------------------------------
run "continue a finished run for 2 more iterations" \
    recon --resume "$T/full" --quiet --set solver.PnP.max_iterations=$((ITERATIONS + 2))
check "continued record has $((ITERATIONS + 2)) iterations" \
    test "$(grep -c '"iteration":' "$T/full/record.json")" -eq $((ITERATIONS + 2))

# --- bad resumes ----------------------------------------------------------------------
mkdir -p "$T/empty"
expect "resume without a checkpoint" 1 "checkpoint.cbct" - -- recon --resume "$T/empty"
mkdir -p "$T/bad"
head -c 1000 "$T/int/checkpoint.cbct" >"$T/bad/checkpoint.cbct"
expect "resume from a truncated checkpoint" 1 "truncated" - -- recon --resume "$T/bad"
echo "# edited" >>"$T/pnp.yml"
expect "resume after the config changed" 1 "changed since the checkpoint" - -- \
    recon --resume "$T/int"
expect "CONFIG and --resume together" 2 "either CONFIG.yml or --resume" - -- \
    recon "$T/pnp.yml" --resume "$T/int"
expect "resume with -o" 2 "leave out -o" - -- recon --resume "$T/int" -o "$T/other"
expect "negative --checkpoint-every" 2 "--checkpoint-every" - -- \
    recon "$T/cgls.yml" --checkpoint-every -1

summary
