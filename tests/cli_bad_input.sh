#!/usr/bin/env bash
# Bad input of every kind gives a clear error: the exit code (1 runtime,
# 2 usage), a message on stderr naming the file / option / value, no crash
# or sanitizer report, and no output file.
source "$(dirname "$0")/lib_cli.sh"

# write_npy PATH DESCR SHAPE VALUE: a .npy written by hand (no numpy here);
# DESCR '<f4' or '<i8', SHAPE like 4,4,4, VALUE a number or nan; with a
# fifth argument INDEX, VALUE goes to that flat index only (zeros elsewhere).
write_npy() {
    python3 - "$@" <<'PY'
import struct, sys
path, descr, shape, value = sys.argv[1:5]
at = int(sys.argv[5]) if len(sys.argv) > 5 else -1
dims = [int(d) for d in shape.split(',')]
header = "{'descr': '%s', 'fortran_order': False, 'shape': (%s), }" % (
    descr, ''.join('%d, ' % d for d in dims))
pad = 64 - (10 + len(header) + 1) % 64
header += ' ' * pad + '\n'
count = 1
for d in dims:
    count *= d
fmt = {'<f4': '<f', '<i8': '<q'}[descr]
number = float(value) if descr == '<f4' else int(value)
with open(path, 'wb') as f:
    f.write(b'\x93NUMPY\x01\x00' + struct.pack('<H', len(header)) + header.encode('latin1'))
    values = [number] * count if at < 0 else [0] * count
    if at >= 0:
        values[at] = number
    f.write(struct.pack('<%d%s' % (count, fmt[1]), *values))
PY
}

# Good inputs to break one at a time: 16^3 volume, 8 views of 24x24.
"$TOOL" geometry circular --quiet --views 8 --det 24,24 --pixel 12 --volume 16 \
    -o "$T/geom.json" || fail "setup: geometry"
"$TOOL" phantom --quiet --shape 16 -o "$T/vol.npy" || fail "setup: phantom"
"$TOOL" project --quiet --geometry "$T/geom.json" --volume "$T/vol.npy" -o "$T/proj.npy" ||
    fail "setup: project"
OUT=$T/result.npy

# --- missing files -------------------------------------------------------------
expect "missing volume" 1 "nope.npy" "$OUT" -- \
    project --geometry "$T/geom.json" --volume "$T/nope.npy" -o "$OUT"
expect "missing geometry" 1 "nope.json" "$OUT" -- \
    fdk --geometry "$T/nope.json" --projections "$T/proj.npy" -o "$OUT"
expect "missing projections" 1 "nope_proj.npy" "$OUT" -- \
    backproject --geometry "$T/geom.json" --projections "$T/nope_proj.npy" -o "$OUT"
expect "info of a missing file" 1 "nope.npy" - -- info "$T/nope.npy"
expect "compare with a missing file" 1 "nope.npy" - -- compare "$T/vol.npy" "$T/nope.npy"
expect "output folder missing" 1 "no_such_dir" - -- \
    phantom --shape 8 -o "$T/no_such_dir/vol.npy"

# --- wrong dtype -------------------------------------------------------------------
write_npy "$T/int64.npy" '<i8' 16,16,16 1
expect "int64 volume" 1 "int64.npy" "$OUT" -- \
    project --geometry "$T/geom.json" --volume "$T/int64.npy" -o "$OUT"
expect "int64 info" 1 "<i8" - -- info "$T/int64.npy"

# --- shapes that do not match ---------------------------------------------------
write_npy "$T/vol_small.npy" '<f4' 8,16,16 0.01
expect "volume shape vs geometry" 1 "8 x 16 x 16" "$OUT" -- \
    project --geometry "$T/geom.json" --volume "$T/vol_small.npy" -o "$OUT"
write_npy "$T/proj_short.npy" '<f4' 7,24,24 0.5
expect "projection shape vs geometry" 1 "proj_short.npy" "$OUT" -- \
    fdk --geometry "$T/geom.json" --projections "$T/proj_short.npy" -o "$OUT"
expect "projection shape names the expected one" 1 "8 x 24 x 24" "$OUT" -- \
    backproject --geometry "$T/geom.json" --projections "$T/proj_short.npy" -o "$OUT"
expect "compare of different shapes" 1 "vol_small.npy" - -- \
    compare "$T/vol.npy" "$T/vol_small.npy"

# --- NaN in the data -----------------------------------------------------------------
write_npy "$T/vol_nan.npy" '<f4' 16,16,16 nan
expect "NaN volume" 1 "vol_nan.npy" "$OUT" -- \
    project --geometry "$T/geom.json" --volume "$T/vol_nan.npy" -o "$OUT"
write_npy "$T/proj_nan.npy" '<f4' 8,24,24 nan
expect "NaN projections (fdk)" 1 "proj_nan.npy" "$OUT" -- \
    fdk --geometry "$T/geom.json" --projections "$T/proj_nan.npy" -o "$OUT"
expect "NaN projections (backproject)" 1 "proj_nan.npy" "$OUT" -- \
    backproject --geometry "$T/geom.json" --projections "$T/proj_nan.npy" -o "$OUT"
# One Inf at view 5, row 2, column 3, read in batches of 2 views.
write_npy "$T/proj_inf.npy" '<f4' 8,24,24 inf $((5 * 576 + 2 * 24 + 3))
expect "Inf in a later batch" 1 "(5, 2, 3)" "$OUT" -- \
    fdk --views-per-batch 2 --geometry "$T/geom.json" --projections "$T/proj_inf.npy" -o "$OUT"
expect "NaN in compare" 1 "vol_nan.npy" - -- compare "$T/vol.npy" "$T/vol_nan.npy"

# --- zero views and degenerate geometry ------------------------------------------------
expect "zero views option" 2 "--views" "$T/g0.json" -- \
    geometry circular --views 0 -o "$T/g0.json"
VOLUME='"volume": {"shape": [16, 16, 16], "voxel_size": [8, 8, 8], "origin": [0, 0, 0]}'
echo "{$VOLUME, \"detector\": {\"rows\": 24, \"cols\": 24}, \"vectors\": []}" >"$T/zero_views.json"
expect "zero views file" 1 "zero_views.json" "$OUT" -- \
    project --geometry "$T/zero_views.json" --volume "$T/vol.npy" -o "$OUT"
# u parallel to v: the detector is a line.
echo "{$VOLUME, \"detector\": {\"rows\": 24, \"cols\": 24}, \"vectors\": [
      [0, -400, 0,  0, 400, 0,  12, 0, 0,  12, 0, 0]]}" >"$T/degenerate.json"
expect "u parallel to v (project)" 1 "parallel" "$OUT" -- \
    project --geometry "$T/degenerate.json" --volume "$T/vol.npy" -o "$OUT"
expect "u parallel to v (info)" 1 "degenerate.json" - -- geometry info "$T/degenerate.json"
expect "sdd below sod" 2 "--sdd" "$T/g1.json" -- \
    geometry circular --sod 500 --sdd 400 -o "$T/g1.json"

# --- memory budget ---------------------------------------------------------------------
expect "budget 1K (project)" 3 "budget" "$OUT" -- \
    project --mem 1K --geometry "$T/geom.json" --volume "$T/vol.npy" -o "$OUT"
expect "budget 1K (fdk)" 3 "budget" "$OUT" -- \
    fdk --mem 1K --geometry "$T/geom.json" --projections "$T/proj.npy" -o "$OUT"
expect "budget 1K (phantom)" 3 "budget" "$OUT" -- phantom --mem 1K --shape 16 -o "$OUT"
expect "budget 1K (demo)" 3 "budget" "$T/demo/phantom.npy" -- \
    demo --mem 1K --size 16 --views 8 -o "$T/demo"
# The volume (16 KiB) fits in 100K but not even one view of 200x200 (156 KiB).
"$TOOL" geometry circular --quiet --views 8 --det 200,200 --pixel 1.44 --volume 16 \
    -o "$T/geom_big_det.json" || fail "setup: geometry with a large detector"
expect "no room for one view" 3 "one view" "$OUT" -- \
    project --mem 100K --geometry "$T/geom_big_det.json" --volume "$T/vol.npy" -o "$OUT"
expect "bad --mem" 2 "lots" "$OUT" -- phantom --mem lots --shape 8 -o "$OUT"

# --- options ------------------------------------------------------------------------------
expect "unknown option" 2 "--bogus" "$OUT" -- \
    project --bogus --geometry "$T/geom.json" --volume "$T/vol.npy" -o "$OUT"
expect "bad number" 2 "abc" "$T/g2.json" -- geometry circular --views abc -o "$T/g2.json"
expect "bad number names the option" 2 "--views" "$T/g2.json" -- \
    geometry circular --views abc -o "$T/g2.json"
expect "triplet with two values" 2 "--shape" "$OUT" -- phantom --shape 16,16 -o "$OUT"
expect "negative voxel" 2 "--voxel" "$OUT" -- phantom --voxel -1 -o "$OUT"
expect "unknown kind" 2 "cube" "$OUT" -- phantom --kind cube -o "$OUT"
expect "unknown filter" 2 "--filter" "$OUT" -- \
    fdk --filter box --geometry "$T/geom.json" --projections "$T/proj.npy" -o "$OUT"
expect "cutoff above 1" 2 "--cutoff" "$OUT" -- \
    fdk --cutoff 1.5 --geometry "$T/geom.json" --projections "$T/proj.npy" -o "$OUT"
expect "zero threads" 2 "--threads" "$OUT" -- phantom --threads 0 -o "$OUT"
expect "missing value" 2 "--views-per-batch" "$OUT" -- \
    project --geometry "$T/geom.json" --volume "$T/vol.npy" -o "$OUT" --views-per-batch
expect "missing required option" 2 "--volume" "$OUT" -- \
    project --geometry "$T/geom.json" -o "$OUT"
expect "flag with a value" 2 "--json" - -- compare --json=yes "$T/vol.npy" "$T/vol.npy"
expect "unknown command" 2 "frobnicate" - -- frobnicate
expect "unknown geometry sub-command" 2 "spiral" - -- geometry spiral
expect "unknown file type" 2 "vol.txt" - -- info "$T/vol.txt"

summary
