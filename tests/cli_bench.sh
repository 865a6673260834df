#!/usr/bin/env bash
# cbct bench end to end on tiny grids (16^3 walnut, 8 views, 2 PnP
# iterations, seconds): --dry-run, the records and index.json, skipping
# finished runs, --only, --repeat, cbct recon --point; interrupting the
# bench (SIGINT, then SIGKILL) and running it again completes only the
# missing runs; a point that runs out of memory is recorded as
# out_of_memory and one that fails as error, and the others still run;
# SLURM batch scripts (contents; sbatch is not run here).
source "$(dirname "$0")/lib_cli.sh"
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" || exit 1 # the grid names models/... relative to the repository
# Ranks per point (slurm_ntasks_per_node): 2, as the reference grid (the
# runs go through mpirun -np 2); CBCT_BENCH_RANKS=1 runs without MPI.
RANKS=${CBCT_BENCH_RANKS:-2}
if [ "$RANKS" -gt 1 ] && ! command -v mpirun >/dev/null; then
    echo "mpirun not found: running the grid on 1 rank"
    RANKS=1
fi
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1

GRID=$T/grid.yml
grid() { # BATCH...: a zipped grid over max_batch_size
    cat <<YML
dataset:
  - tomography_3d: {num_operators: 2, num_projections: 8, phantom: walnut, shape: [16, 16, 16]}
solver:
  - PnP:
      model: models/drunet3d_small.safetensors
      init_method: ["fdk"]
      max_iterations: 2
      mode: normalized
      denoiser_lambda_relaxation: 0.1
      clip: [0, 1]
      slurm_gres, slurm_ntasks_per_node, distribute_physics, distribute_denoiser, patch_size, overlap, max_batch_size: [
YML
    for b in "$@"; do
        echo "        [\"gpu:2\", $RANKS, true, true, [8, 8, 8], [2, 2, 2], $b],"
    done
    echo "      ]"
}
grid 4 1 >"$GRID"
# json FILE EXPR: prints a Python expression over the JSON file (as j).
json() { python3 -c "import json,sys; j=json.load(open(sys.argv[1])); print($2)" "$1"; }
# expect_json NAME FILE EXPR WANT
expect_json() {
    local got
    got=$(json "$2" "$3" 2>&1)
    if [ "$got" = "$4" ]; then pass; else fail "$1: $3 = '$got', expected '$4'"; fi
}
R=$T/results

# --- dry run: the commands, nothing written -----------------------------------------
run "dry run" bench "$GRID" -o "$R" --dry-run
check "dry run: two commands" test "$(grep -c ' recon ' "$T/out")" -eq 2
check "dry run: point 1" grep -q -- "--point 1 -o $R/max_batch_size-1" "$T/out"
if [ "$RANKS" -gt 1 ]; then
    check "dry run: mpirun" grep -q "mpirun -np $RANKS --oversubscribe" "$T/out"
fi
check "dry run writes nothing" test ! -e "$R"

# --- the grid, its records and index ------------------------------------------------
run "bench" bench "$GRID" -o "$R"
check "progress line 1" grep -q '^\[1/2\] max_batch_size-4: ok in' "$T/out"
check "progress line 2" grep -q '^\[2/2\] max_batch_size-1: ok in' "$T/out"
check "summary table" grep -qE '^max_batch_size-1 +ok +1 +'"$RANKS"' +2 ' "$T/out"
for id in max_batch_size-4 max_batch_size-1; do
    rec=$R/$id/record.json
    check "$id: record" test -s "$rec"
    check "$id: previews" test -s "$R/$id/axial.png"
    check "$id: log" test -s "$R/$id/log.txt"
    expect_json "$id: status" "$rec" "j['bench']['status']" ok
    expect_json "$id: iterations" "$rec" "len(j['iterations'])" 2
    expect_json "$id: psnr" "$rec" "j['iterations'][1]['psnr'] > 10" True
    expect_json "$id: peak memory" "$rec" "j['totals']['mem_peak_bytes'] > 0" True
    expect_json "$id: ranks" "$rec" "j['bench']['params']['ranks']" "$RANKS"
    expect_json "$id: one memory entry per rank" "$rec" \
        "[e['rank'] for e in j['ranks']] == list(range($RANKS)) and min(e['mem_peak_bytes'] for e in j['ranks']) > 0" True
    expect_json "$id: machine" "$rec" "j['bench']['machine']['cores'] > 0 and 'cbct' in j['bench']['machine']['software']" True
    expect_json "$id: wall time" "$rec" "j['bench']['seconds_wall'] > 0" True
    expect_json "$id: command" "$rec" "'recon $GRID --point' in j['bench']['command']" True
done
expect_json "batch of point 1" "$R/max_batch_size-1/record.json" "j['config']['solver']['max_batch_size']" 1
expect_json "varying value" "$R/max_batch_size-4/record.json" "j['bench']['varying']['solver.PnP.max_batch_size']" 4
expect_json "index: runs" "$R/index.json" "[r['name'] + ':' + r['status'] for r in j['runs']]" \
    "['max_batch_size-4:ok', 'max_batch_size-1:ok']"
expect_json "index: nothing missing" "$R/index.json" "j['missing']" "[]"
expect_json "index: varying" "$R/index.json" "j['varying']" "['solver.PnP.max_batch_size']"

# --- a rerun skips the finished runs; --only and --repeat ---------------------------
before=$(md5sum "$R"/*/record.json)
run "rerun" bench "$GRID" -o "$R"
check "rerun skips both" test "$(grep -c 'finished before (ok), skipped' "$T/out")" -eq 2
check "rerun ran nothing" test "$before" = "$(md5sum "$R"/*/record.json)"
expect "--only unknown" 2 "--only: no point 'nope' (the points are: max_batch_size-4, max_batch_size-1)" - -- \
    bench "$GRID" -o "$R" --only nope
run "--only --repeat" bench "$GRID" -o "$T/rep" --only max_batch_size-4 --repeat 2 --dry-run
check "--repeat names" grep -q "$T/rep/max_batch_size-4.r2" "$T/out"
check "--only leaves the other point out" test "$(grep -c ' recon ' "$T/out")" -eq 2

# --- cbct recon --point ------------------------------------------------------------
run "recon --point 1" recon "$GRID" --point 1 -o "$T/p1" --quiet
expect_json "recon --point 1: batch" "$T/p1/record.json" "j['config']['solver']['max_batch_size']" 1
expect "recon grid --point 5" 1 "point 5 does not exist: the config has 2 points (0 to 1)" - -- \
    recon "$GRID" --point 5 -o "$T/p5"

# --- interrupted, then run again: only the missing runs ----------------------------
grid 4 2 1 >"$GRID"
R=$T/interrupted
# interrupt SIGNAL: starts the bench, sends SIGNAL once the first run has
# its record, waits for the bench to end; its exit status in $T/rc.
# Longer runs here (32^3, 10 iterations), and the signal is sent once the
# second run has begun iterating, so that it reaches that run mid-way.
LONGER=(--set dataset.tomography_3d.shape=[32,32,32] --set solver.PnP.max_iterations=10)
interrupt() {
    "$TOOL" bench "$GRID" -o "$R" "${LONGER[@]}" >"$T/out" 2>"$T/err" &
    local pid=$! i
    for i in $(seq 1 600); do
        grep -qs '"bench"' "$R/max_batch_size-4/record.json" &&
            grep -qs 'iteration' "$R/max_batch_size-2/log.txt" && break
        sleep 0.1
    done
    kill -"$1" "$pid"
    wait "$pid"
    echo $? >"$T/rc"
}
interrupt INT
check "SIGINT: exit 130" test "$(cat "$T/rc")" -eq 130
check "SIGINT: says so" grep -q 'interrupted; run the same command again' "$T/out"
expect_json "SIGINT: first run finished" "$R/max_batch_size-4/record.json" "j['bench']['status']" ok
check "SIGINT: second run has no finished record" test ! -e "$R/max_batch_size-2/record.json"
expect_json "SIGINT: index lists the missing" "$R/index.json" "j['missing']" \
    "['max_batch_size-2', 'max_batch_size-1']"
first=$(md5sum "$R/max_batch_size-4/record.json")
run "after SIGINT" bench "$GRID" -o "$R" "${LONGER[@]}"
check "after SIGINT: first skipped" grep -q '^\[1/3\] max_batch_size-4: finished before (ok), skipped' "$T/out"
check "after SIGINT: two runs" test "$(grep -c ': ok in' "$T/out")" -eq 2
check "after SIGINT: first untouched" test "$first" = "$(md5sum "$R/max_batch_size-4/record.json")"
expect_json "after SIGINT: all done" "$R/index.json" "len(j['runs']), j['missing']" "3 []"

rm -rf "$R"
interrupt KILL
check "SIGKILL: killed" test "$(cat "$T/rc")" -eq 137
# The run in progress dies with the bench (PR_SET_PDEATHSIG; its ranks when
# mpirun dies, the same way): give them a few seconds.
for _ in $(seq 1 50); do
    [ -z "$(pgrep -f "recon $GRID --point 1" || true)" ] && break
    sleep 0.2
done
check "SIGKILL: no run left behind" test -z "$(pgrep -f "recon $GRID --point 1" || true)"
check "SIGKILL: second run unfinished" test ! -e "$R/max_batch_size-2/record.json"
run "after SIGKILL" bench "$GRID" -o "$R"
check "after SIGKILL: one skipped, two run" test "$(grep -c 'skipped' "$T/out")/$(grep -c ': ok in' "$T/out")" = 1/2
expect_json "after SIGKILL: all ok" "$R/index.json" "[r['status'] for r in j['runs']]" "['ok', 'ok', 'ok']"

# --- out of memory and errors are results; the other points still run --------------
mkdir -p "$T/fail"
cp "$T/p1/recon.npy" "$T/fail/v.npy"
echo "not a volume" >"$T/fail/bad.npy"
cat >"$T/fail/grid.yml" <<'YML'
dataset:
  tomography_3d: {volume: [v.npy, bad.npy], num_projections: 8}
solver:
  CGLS: {max_iterations: 2}
run:
  memory: [4K, 1G]
YML
(cd "$T/fail" && "$TOOL" bench grid.yml -o res >"$T/out" 2>"$T/err")
check "failures: exit 1" test $? -eq 1
check "failures: counted" grep -q '2 of 4 runs failed' "$T/err"
F=$T/fail/res
expect_json "4K: out of memory" "$F/volume-v.npy_memory-4K/record.json" "j['bench']['status'], j['bench']['exit_code']" "out_of_memory 3"
expect_json "4K: message" "$F/volume-v.npy_memory-4K/record.json" "'memory budget exceeded' in j['bench']['message']" True
expect_json "1G: ok" "$F/volume-v.npy_memory-1G/record.json" "j['bench']['status'], len(j['iterations'])" "ok 2"
expect_json "bad volume: error" "$F/volume-bad.npy_memory-1G/record.json" "j['bench']['status'], 'bad.npy' in j['bench']['message']" "error True"
expect_json "failed runs keep their values" "$F/volume-v.npy_memory-4K/record.json" "j['bench']['params']['memory_budget_bytes']" 4096
check "no partial results of a failed run" test ! -e "$F/volume-bad.npy_memory-1G/recon.npy"

# --- bad grids stop the bench before anything runs ----------------------------------
printf 'dataset: {tomography_3d: {shape: [8, 8, 8]}}\nsolver:\n  CGLS:\n    max_iterations, tolerance: [[2, 0.1], [3]]\n' >"$T/badgrid.yml"
expect "bad grid" 1 "badgrid.yml:4: solver.CGLS.max_iterations, tolerance: row 2 has 1 values, expected 2" - -- \
    bench "$T/badgrid.yml" -o "$T/badres"
check "bad grid: nothing written" test ! -e "$T/badres"
printf 'dataset: {tomography_3d: {shape: [8, 8, 8]}}\nsolver:\n  CGLS:\n    max_iterations: [2, x]\n' >"$T/badvalue.yml"
expect "bad value in a grid" 1 "badvalue.yml:4: solver.CGLS.max_iterations: expected an integer in [1, 1000000], got \"x\" (point 1, max_iterations-x)" - -- \
    bench "$T/badvalue.yml" -o "$T/badres"

# --- SLURM batch scripts --------------------------------------------------------------
run "slurm scripts" bench "$GRID" -o "$T/slurm" --slurm --no-submit --slurm-time 00:10:00 --mem 512M
S=$T/slurm/slurm/max_batch_size-2.sbatch
check "slurm: one script per point" test "$(ls "$T/slurm/slurm" | grep -c '\.sbatch$')" -eq 3
check "slurm: gres" grep -qx '#SBATCH --gres=gpu:2' "$S"
check "slurm: ranks" grep -qx "#SBATCH --ntasks-per-node=$RANKS" "$S"
check "slurm: time" grep -qx '#SBATCH --time=00:10:00' "$S"
check "slurm: mem" grep -qx "#SBATCH --mem=$((512 * RANKS + 1024))M" "$S"
check "slurm: srun inside" grep -q "bench $GRID -o $T/slurm --only max_batch_size-2 --repeat 1 --launcher srun --mem 512M" "$S"
check "slurm: valid bash" bash -n "$S"
run "srun launcher" bench "$GRID" -o "$T/slurm" --only max_batch_size-2 --launcher srun --dry-run
check "srun launcher: command" grep -q "^srun $TOOL recon" "$T/out"

summary
