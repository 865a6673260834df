#!/usr/bin/env bash
# The benchmarks behind bench/peers/rtk_vs_cbct.py and docs/performance.md:
# bench_ops times the same operations as the command line (its outputs equal
# `cbct project`, `cbct fdk` and, within float rounding, `cbct backproject`
# on the same files), reports a median per operation and refuses bad input;
# bench_stream prints positive bandwidth and gather rates.
source "$(dirname "$0")/lib_cli.sh"

OPS=$(dirname "$TOOL")/bench/bench_ops
STREAM=$(dirname "$TOOL")/bench/bench_stream
if [ ! -x "$OPS" ] || [ ! -x "$STREAM" ]; then
    # A build without the benchmarks (-DCBCT_BENCH=OFF, the sanitizer stage).
    echo "skipped: bench_ops or bench_stream not built next to $TOOL"
    exit 77
fi
# json_get KEY.SUBKEY < json: prints the value.
json_get() {
    python3 -c 'import json, sys
v = json.load(sys.stdin)
for k in sys.argv[1].split("."):
    v = v[k]
print(v)' "$1"
}
# below A B: A < B as numbers.
below() { python3 -c 'import sys; sys.exit(0 if float(sys.argv[1]) < float(sys.argv[2]) else 1)' "$1" "$2"; }

run phantom phantom --quiet --shape 24 -o "$T/vol.npy"
run geometry geometry circular --quiet --views 7 --det 20,24 --pixel 12 --volume 24 \
    --offset 3,-5 -o "$T/geom.json"
mkdir -p "$T/ops"
if "$OPS" --geometry "$T/geom.json" --volume "$T/vol.npy" --out "$T/ops" --repeat 3 \
        >"$T/ops.json" 2>"$T/err"; then
    pass
    for op in forward adjoint voxel_backprojection fdk; do
        runs=$(json_get "$op.runs_s" <"$T/ops.json" | tr -cd ',' | wc -c)
        [ "$runs" -eq 2 ] && pass || fail "$op: expected 3 runs in $(cat "$T/ops.json")"
        median=$(json_get "$op.median_s" <"$T/ops.json")
        below 0 "$median" && pass || fail "$op: median $median not positive"
    done
else
    fail "bench_ops: $(cat "$T/err")"
fi

# Same operations as the command line, on the same files.
run project project --quiet --geometry "$T/geom.json" --volume "$T/vol.npy" -o "$T/p.npy"
run "compare forward" compare --json "$T/p.npy" "$T/ops/forward.npy"
check "forward equals cbct project" test "$(json_get max_abs_diff <"$T/out")" = 0
run fdk fdk --quiet --geometry "$T/geom.json" --projections "$T/ops/forward.npy" -o "$T/f.npy"
run "compare fdk" compare --json "$T/f.npy" "$T/ops/fdk.npy"
check "fdk equals cbct fdk" test "$(json_get max_abs_diff <"$T/out")" = 0
run backproject backproject --quiet --geometry "$T/geom.json" \
    --projections "$T/ops/forward.npy" -o "$T/b.npy"
run "compare adjoint" compare --json "$T/b.npy" "$T/ops/adjoint.npy"
diff=$(json_get max_abs_diff <"$T/out")
range=$(json_get data_range <"$T/out")
below "$diff" "$(python3 -c "print(1e-5 * $range)")" && pass ||
    fail "adjoint differs from cbct backproject by $diff (range $range)"
check "voxel back-projection written" test -s "$T/ops/voxel_bp.npy"

# Bad input: a clear message, exit 1 or 2.
"$OPS" --volume "$T/vol.npy" --out "$T/ops" >/dev/null 2>"$T/err"
[ $? -eq 2 ] && grep -q -- '--geometry' "$T/err" && pass || fail "missing --geometry: $(cat "$T/err")"
run "other volume" phantom --quiet --shape 16 -o "$T/small.npy"
"$OPS" --geometry "$T/geom.json" --volume "$T/small.npy" --out "$T/ops" >/dev/null 2>"$T/err"
[ $? -eq 1 ] && grep -q 'expects 24 x 24 x 24' "$T/err" && pass ||
    fail "wrong volume shape: $(cat "$T/err")"
"$OPS" --geometry "$T/geom.json" --volume "$T/vol.npy" --out "$T/ops" --repeat 0 \
    >/dev/null 2>"$T/err"
[ $? -eq 2 ] && pass || fail "--repeat 0 accepted"

# bench_stream on small arrays: every rate positive.
if "$STREAM" --mib 8 --table-kib 64 --repeat 2 >"$T/stream.json" 2>"$T/err"; then
    pass
    for key in copy_gbps triad_gbps gather_gelems; do
        below 0 "$(json_get $key <"$T/stream.json")" && pass || fail "$key not positive"
    done
else
    fail "bench_stream: $(cat "$T/err")"
fi
"$STREAM" --mib 0 >/dev/null 2>&1
[ $? -eq 2 ] && pass || fail "bench_stream --mib 0 accepted"
summary
