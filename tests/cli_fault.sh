#!/usr/bin/env bash
# Fault injection through the whole tool (tools/cbct/debug_faults.c): each
# command runs once with CBCT_FAULT_COUNTS=1 to count its tracked
# allocations and output operations, then again with the N-th of them
# failing (CBCT_FAIL_ALLOC_AFTER / CBCT_FAIL_WRITE_AFTER = N - 1), for every
# N (sampled evenly beyond MAX_POINTS). Each failing run must exit with a
# runtime code (3 for memory, 1 for a write) and a message on stderr, crash
# nowhere, and leave its output folder empty: no output, no temporary
# file. A run that recovers on purpose (the projector's optional scratch
# copies) must then give the fault-free result.
source "$(dirname "$0")/lib_cli.sh"

SRC=$(cd "$(dirname "$0")/.." && pwd)
# Failure points per command and kind: enough to reach every phase of these
# small runs, few enough to keep the test to seconds under ASan.
MAX_POINTS=${CBCT_FAULT_MAX_POINTS:-40}

IN="$T/in"
mkdir -p "$IN"
# Inputs, made without faults: an 8^3 phantom, 6 views of 12 x 12 pixels.
"$TOOL" phantom --kind shepp-logan --shape 8 --voxel 4 -o "$IN/vol.npy" --quiet &&
"$TOOL" geometry circular --views 6 --det 12,12 --pixel 6 --volume 8 -o "$IN/geom.json" \
    --quiet > /dev/null &&
"$TOOL" project --geometry "$IN/geom.json" --volume "$IN/vol.npy" -o "$IN/proj.npy" --quiet ||
    { fail "making the inputs"; summary; exit 1; }
cat > "$IN/fdk.yml" <<YML
dataset:
  - tomography_3d:
      num_projections: 6
      phantom: shepp-logan
      shape: [8, 8, 8]
solver: {FDK: }
YML

# counts NAME ARGS...: sets ALLOCS and WRITES from a fault-free run.
counts() {
    local name=$1; shift
    rm -rf "$T/out"; mkdir -p "$T/out"
    if ! CBCT_FAULT_COUNTS=1 "$TOOL" "$@" > "$T/stdout" 2> "$T/err"; then
        fail "$name: fault-free run failed: $(cat "$T/err")"
        return 1
    fi
    ALLOCS=$(sed -n 's/.*fault counts: \([0-9]*\) tracked allocations.*/\1/p' "$T/err")
    WRITES=$(sed -n 's/.*tracked allocations, \([0-9]*\) output operations.*/\1/p' "$T/err")
    rm -rf "$T/ref"; mkdir -p "$T/ref"
    cp "$T"/out/*.npy "$T/ref/" 2> /dev/null || true
    rm -rf "$T/out"; mkdir -p "$T/out"
    [ -n "$ALLOCS" ] && [ -n "$WRITES" ] || { fail "$name: no fault counts printed"; return 1; }
}

# same_as_reference: every .npy in out/ equals the fault-free one within
# float rounding (recovered runs sum in another order).
same_as_reference() {
    local f
    for f in "$T"/ref/*.npy; do
        [ -e "$f" ] || continue
        "$TOOL" compare "$f" "$T/out/$(basename "$f")" --json > "$T/cmp" 2> /dev/null || return 1
        python3 -c 'import json, sys; d = json.load(open(sys.argv[1]))
sys.exit(0 if d["max_abs_diff"] <= 1e-5 * d["data_range"] else 1)' "$T/cmp" || return 1
    done
}

# sweep NAME KIND TOTAL RC ARGS...: KIND alloc or write; RC the exit code
# a failure must give.
sweep() {
    local name=$1 kind=$2 total=$3 want=$4; shift 4
    local var=CBCT_FAIL_ALLOC_AFTER
    [ "$kind" = write ] && var=CBCT_FAIL_WRITE_AFTER
    local step=$(( (total + MAX_POINTS - 1) / MAX_POINTS )) n clean=0 recovered=0 points=0
    [ "$step" -ge 1 ] || step=1
    for (( n = 1; n <= total; n += step )); do
        points=$((points + 1))
        rm -rf "$T/out"; mkdir -p "$T/out"
        env "$var=$((n - 1))" "$TOOL" "$@" > "$T/stdout" 2> "$T/err"
        local rc=$? ok=1
        if grep -qE 'Sanitizer|runtime error|core dumped|Segmentation fault' "$T/err"; then
            fail "$name: $kind $n of $total: crash: $(head -5 "$T/err")"; continue
        fi
        if [ $rc -eq 0 ] && [ "$kind" = alloc ] && same_as_reference; then
            recovered=$((recovered + 1)); continue
        fi
        [ $rc -eq "$want" ] || { fail "$name: $kind $n of $total: exit $rc, expected $want"; ok=0; }
        grep -q 'error: ..*' "$T/err" || { fail "$name: $kind $n of $total: no message"; ok=0; }
        if [ -n "$(ls -A "$T/out")" ]; then
            fail "$name: $kind $n of $total: left $(ls -A "$T/out" | tr '\n' ' ')"; ok=0
        fi
        [ $ok -eq 1 ] && clean=$((clean + 1))
    done
    echo "$name: $total ${kind}s, $points failure points: $clean clean errors, $recovered recovered"
    [ $clean -ge 1 ] && pass || fail "$name: no clean $kind failure"
}

# check_command NAME ARGS...: both sweeps of one command (outputs in $T/out).
check_command() {
    local name=$1; shift
    counts "$name" "$@" || return
    sweep "$name" alloc "$ALLOCS" 3 "$@"
    sweep "$name" write "$WRITES" 1 "$@"
}

O="$T/out"
check_command phantom phantom --kind walnut --shape 8 -o "$O/vol.npy" --threads 1 --quiet
check_command geometry geometry circular --views 6 --det 12,12 --pixel 6 --volume 8 \
    -o "$O/geom.json" --threads 1 --quiet
check_command project project --geometry "$IN/geom.json" --volume "$IN/vol.npy" \
    -o "$O/proj.npy" --threads 1 --quiet
check_command fdk fdk --geometry "$IN/geom.json" --projections "$IN/proj.npy" -o "$O/rec.mha" \
    --threads 1 --quiet
check_command convert convert "$IN/vol.npy" "$O/vol.mhd" --threads 1 --quiet
check_command denoise denoise --model "$SRC/tests/data/drunet/net3d_nb1.safetensors" \
    -i "$IN/vol.npy" -o "$O/den.npy" --patch 4,8,8 --overlap 1,2,2 --max-batch 2 \
    --threads 1 --quiet
# Several outputs: a failure must remove those already written.
check_command recon recon "$IN/fdk.yml" -o "$O" --threads 1 --quiet

summary
