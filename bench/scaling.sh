#!/usr/bin/env bash
# Strong scaling of `cbct recon` (PnP) on 1 and 2 MPI ranks of this machine
# (issue 6): ranks x OpenMP threads = CORES (2), the same problem each time.
#   bench/scaling.sh [CBCT] [OUT]       (defaults: build/cbct, out/scaling)
# Environment: SIZE (volume edge, voxels; 128), ITERS (PnP iterations; 3),
# REPEAT (rounds; 2), CORES (2), MODES ("physics volume"), PATCH and
# OVERLAP (z,y,x; default the reference's 8,256,256 and 2,16,16 scaled to
# SIZE in y and x: SIZE/2 and SIZE/32, so that a z row holds 2 x 2 patches
# as at 501^3).
# Modes: physics = distribute_physics + distribute_denoiser (the reference's
# placement), volume = distribute_volume (z-slabs). A round runs, for each
# mode, 1 rank and 2 ranks one after the other (ratios side by side on a
# shared machine), plus a 1-iteration 2-rank run whose bytes, subtracted
# from the ITERS-iteration run's, give the bytes sent per iteration (the
# run's total also holds the initialisation, the norm and the final gather).
# Prints a table and writes OUT/summary.json (read by scripts/scaling_model.py).
# SUMMARY_ONLY=1 only re-reads OUT/runs (e.g. REPEAT=1 after a cut-short run).
# Not in ctest: it is a benchmark (minutes).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
CBCT=$(realpath "${1:-$ROOT/build/cbct}")
OUT=${2:-$ROOT/out/scaling}
SIZE=${SIZE:-128}
ITERS=${ITERS:-3}
REPEAT=${REPEAT:-2}
CORES=${CORES:-2}
MODES=${MODES:-physics volume}
PATCH=${PATCH:-8,$((SIZE / 2)),$((SIZE / 2))}
OVERLAP=${OVERLAP:-2,$((SIZE / 32)),$((SIZE / 32))}
[ -x "$CBCT" ] || { echo "scaling.sh: no cbct binary at $CBCT" >&2; exit 2; }
command -v mpirun >/dev/null || { echo "scaling.sh: mpirun not found (openmpi-bin)" >&2; exit 2; }
[ "$ITERS" -ge 2 ] || { echo "scaling.sh: ITERS must be >= 2 (bytes per iteration)" >&2; exit 2; }
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
# Threads that wait at an OpenMP barrier sleep instead of spinning: on a
# machine shared with other jobs a spinning thread holds a core that the
# thread it waits for needs (measured under a load of 9 on 2 cores: PnP
# denoiser 13.4 s per iteration with active waiting, 2.2 s passive).
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
mkdir -p "$OUT"

# The reference experiment's PnP (configs/tomography_3d.yml) at SIZE^3,
# 4 patches per call. FDK start: the bench times PnP iterations, not CGLS.
# (The reference's 8 x 256 x 256 patches on a volume under 256 wide would
# denoise mirrored windows of 12 x 288 x 288, mostly outside the volume.)
cat >"$OUT/scaling.yml" <<YML
dataset:
  tomography_3d: {phantom: walnut, shape: [$SIZE, $SIZE, $SIZE], num_projections: 50,
                  num_operators: 2, noise: {photons: 10000, seed: 1}}
solver:
  PnP: {model: $ROOT/models/drunet3d_small.safetensors, init_method: fdk,
        max_iterations: $ITERS, mode: normalized, denoiser_sigma: 0.03,
        denoiser_lambda_relaxation: 0.1, clip: [0, 1], patch_size: [$PATCH],
        overlap: [$OVERLAP], max_batch_size: 4, tolerance: -1}
YML

mode_sets() {
    case $1 in
    physics) echo "--set solver.PnP.distribute_physics=true --set solver.PnP.distribute_denoiser=true" ;;
    volume) echo "--set solver.PnP.distribute_volume=true" ;;
    *) echo "scaling.sh: unknown mode '$1'" >&2; exit 2 ;;
    esac
}

# run NAME RANKS ITERATIONS MODE: one recon into OUT/runs/NAME, with the
# load average before and after in OUT/runs/NAME/load.
run() {
    local name=$1 ranks=$2 iters=$3 mode=$4 dir="$OUT/runs/$1"
    local threads=$((CORES / ranks))
    rm -rf "$dir"
    mkdir -p "$dir"
    local load0
    load0=$(cut -d' ' -f1 /proc/loadavg)
    local cmd=("$CBCT" recon "$OUT/scaling.yml" -o "$dir" --quiet
               --set "solver.PnP.max_iterations=$iters")
    # shellcheck disable=SC2207
    cmd+=($(mode_sets "$mode"))
    if [ "$ranks" -gt 1 ]; then
        cmd=(mpirun -np "$ranks" --oversubscribe --bind-to none -x "OMP_NUM_THREADS=$threads" -x OMP_WAIT_POLICY
             "${cmd[@]}")
    fi
    echo "  $name: ${cmd[*]}" >&2
    OMP_NUM_THREADS=$threads "${cmd[@]}" >"$dir/log" 2>&1 ||
        { echo "scaling.sh: $name failed:" >&2; tail -5 "$dir/log" >&2; exit 1; }
    echo "$load0 $(cut -d' ' -f1 /proc/loadavg)" >"$dir/load"
}

[ "${SUMMARY_ONLY:-0}" = 1 ] && REPEAT_RUN=0 || REPEAT_RUN=$REPEAT
for round in $(seq 1 "$REPEAT_RUN"); do
    for mode in $MODES; do
        echo "round $round, $mode" >&2
        run "${mode}_r${round}_p1" 1 "$ITERS" "$mode"
        run "${mode}_r${round}_p2" 2 "$ITERS" "$mode"
        [ "$round" -eq 1 ] && run "${mode}_p2_one" 2 1 "$mode"
    done
done

python3 - "$OUT" "$SIZE" "$ITERS" "$REPEAT" "$CORES" "$MODES" "$PATCH" "$OVERLAP" <<'PY'
import json, os, statistics, sys
out, size, iters, repeat, cores, modes = sys.argv[1], *map(int, sys.argv[2:6]), sys.argv[6].split()
patch, overlap = ([int(v) for v in a.split(",")] for a in sys.argv[7:9])
MIB = 2.0**20

def load(name):
    d = f"{out}/runs/{name}"
    rec = json.load(open(f"{d}/record.json"))
    rec["load"] = [float(v) for v in open(f"{d}/load").read().split()]
    return rec

def per_iteration(rec):
    # Iteration 1 also builds the DRUNet's plans and touches fresh pages:
    # the steady state is the median of the later iterations.
    its = rec["iterations"][1:] or rec["iterations"]
    keys = ("seconds_gradient", "seconds_denoiser", "seconds_communication", "seconds_total")
    return {k: statistics.median(i[k] for i in its) for k in keys}

summary = {"omp_wait_policy": os.environ.get("OMP_WAIT_POLICY"), "size": size, "iterations": iters, "repeat": repeat, "cores": cores,
           "views": 50, "num_operators": 2, "patch": patch, "overlap": overlap, "max_batch": 4,
           "modes": {}}
print(f"\nPnP on a {size}^3 walnut, 50 views, patch {patch}, overlap {overlap}, batch 4,"
      f" {iters} iterations (median of iterations 2..{iters}), {cores} cores: ranks x threads = {cores},"
      f" OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY')}")
hdr = (f"{'mode':8} {'P':>2} {'round':>5} {'grad s':>7} {'den s':>7} {'comm s':>7} {'total s':>8}"
       f" {'comm %':>6} {'MiB sent/it/rank':>16} {'tracked MiB/rank':>17} {'RSS MiB/rank':>14}"
       f" {'load':>11}")
for mode in modes:
    print("\n" + hdr)
    one = load(f"{mode}_p2_one")
    runs = []
    # rounds that ran completely (a run cut short keeps its finished rounds)
    rounds = [r for r in range(1, repeat + 1)
              if all(os.path.exists(f"{out}/runs/{mode}_r{r}_p{p}/record.json") for p in (1, 2))]
    for r in rounds:
        for p in (1, 2):
            rec = load(f"{mode}_r{r}_p{p}")
            t = per_iteration(rec)
            ranks = rec["ranks"]
            sent = [0.0] * p
            if p == 2:
                sent = [(a["bytes_sent"] - b["bytes_sent"]) / (iters - 1)
                        for a, b in zip(ranks, one["ranks"])]
            row = dict(t, ranks=p, round=r, bytes_sent_per_iteration=sent,
                       mem_peak_bytes=[x["mem_peak_bytes"] for x in ranks],
                       rss_peak_bytes=[x["rss_peak_bytes"] for x in ranks],
                       load=rec["load"], iterations=rec["iterations"],
                       seconds_init=rec["totals"]["seconds_init"],
                       seconds_dataset=rec["totals"]["seconds_dataset"])
            runs.append(row)
            share = 100.0 * t["seconds_communication"] / t["seconds_total"]
            def fmt(v, digits=0):
                return "/".join(f"{x / MIB:.{digits}f}" for x in v)
            print(f"{mode:8} {p:>2} {r:>5} {t['seconds_gradient']:7.2f} {t['seconds_denoiser']:7.2f}"
                  f" {t['seconds_communication']:7.2f} {t['seconds_total']:8.2f} {share:6.1f}"
                  f" {fmt(sent, 1):>16} {fmt(row['mem_peak_bytes']):>17} {fmt(row['rss_peak_bytes']):>14}"
                  f" {row['load'][0]:5.2f}-{row['load'][1]:<5.2f}")
    speedups = []
    for r in rounds:
        t1 = next(x for x in runs if x["round"] == r and x["ranks"] == 1)
        t2 = next(x for x in runs if x["round"] == r and x["ranks"] == 2)
        speedups.append({k: t1[k] / t2[k] if t2[k] > 0 else None
                         for k in ("seconds_gradient", "seconds_denoiser", "seconds_total")})
    for r, s in zip(rounds, speedups):
        print(f"  round {r}: speedup 1 -> 2 ranks: total {s['seconds_total']:.2f}x"
              f" (gradient {s['seconds_gradient']:.2f}x, denoiser {s['seconds_denoiser']:.2f}x;"
              f" ideal 1.00: the same {cores} cores, split by MPI instead of OpenMP)")
    summary["modes"][mode] = {"runs": runs, "speedups": speedups}
json.dump(summary, open(f"{out}/summary.json", "w"), indent=1)
print(f"\nwrote {out}/summary.json")
PY
