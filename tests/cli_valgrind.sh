#!/usr/bin/env bash
# valgrind memcheck on the command line's main paths at small sizes:
# phantom, geometry, project, fdk, convert, denoise, and recon with the FDK
# solver. Any memory error or definitely lost block fails the test.
# Label "valgrind" (tests/CMakeLists.txt): scripts/test.sh runs it in a
# build without -march=native (valgrind 3.19 does not know AVX-512). Skips
# (exit 77) without valgrind, with an ASan build, or when valgrind cannot
# run the binary's instructions.
source "$(dirname "$0")/lib_cli.sh"

SRC=$(cd "$(dirname "$0")/.." && pwd)
if ! command -v valgrind > /dev/null; then
    echo "skipped: valgrind is not installed"; exit 77
fi
if ldd "$TOOL" 2> /dev/null | grep -q libasan; then
    echo "skipped: $TOOL is built with AddressSanitizer"; exit 77
fi
if ! valgrind -q "$TOOL" --version > /dev/null 2>&1; then
    echo "skipped: valgrind cannot run $TOOL (built with -march=native? use -DCBCT_NATIVE=OFF)"
    exit 77
fi

# Memory errors exit 99; leaks count only when definitely lost (the thread
# pools of OpenMP and OpenBLAS keep blocks until exit on purpose).
VG=(valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite
    --show-leak-kinds=definite --track-origins=yes)

# vg NAME ARGS...: cbct under memcheck must exit 0 with a clean report.
vg() {
    local name=$1; shift
    "${VG[@]}" "$TOOL" "$@" --threads 2 --quiet > "$T/out" 2> "$T/err"
    local rc=$?
    if [ $rc -ne 0 ]; then
        fail "$name: exit $rc under valgrind: $(head -30 "$T/err")"
        return 1
    fi
    pass
}

vg phantom phantom --kind walnut --shape 16 -o "$T/vol.npy"
vg geometry geometry circular --views 8 --det 20,20 --pixel 2 --volume 16 -o "$T/geom.json"
vg project project --geometry "$T/geom.json" --volume "$T/vol.npy" -o "$T/proj.npy"
vg fdk fdk --geometry "$T/geom.json" --projections "$T/proj.npy" -o "$T/rec.npy"
vg backproject backproject --geometry "$T/geom.json" --projections "$T/proj.npy" -o "$T/bp.npy"
vg convert convert "$T/rec.npy" "$T/rec.mha"
vg compare compare "$T/vol.npy" "$T/rec.npy"
vg denoise denoise --model "$SRC/tests/data/drunet/net3d_nb1.safetensors" -i "$T/vol.npy" \
    -o "$T/den.npy" --patch 8,16,16 --overlap 2,2,2 --max-batch 2
cat > "$T/fdk.yml" <<YML
dataset:
  - tomography_3d:
      num_projections: 8
      phantom: walnut
      shape: [12, 12, 12]
solver: {FDK: }
YML
vg recon recon "$T/fdk.yml" -o "$T/recon"
check "recon wrote its result" test -s "$T/recon/recon.npy"
# An error path too: a bad input must be refused without leaking.
"${VG[@]}" "$TOOL" fdk --geometry "$T/geom.json" --projections "$T/vol.npy" -o "$T/x.npy" \
    --quiet > "$T/out" 2> "$T/err"
rc=$?
[ $rc -eq 1 ] && pass ||
    fail "fdk with wrong projections under valgrind: exit $rc: $(head -20 "$T/err")"

summary
