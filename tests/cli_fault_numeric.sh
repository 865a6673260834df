#!/usr/bin/env bash
# Numeric guards at load: a NaN or Inf in an input volume, in projections or
# in DRUNet weights is refused with the file and where it is (the index in
# the array, the tensor's name), and nothing is written.
source "$(dirname "$0")/lib_cli.sh"

SRC=$(cd "$(dirname "$0")/.." && pwd)
NET="$SRC/tests/data/drunet/net3d_nb1.safetensors"

# poison IN OUT INDEX VALUE: a copy of the float32 .npy IN with element
# INDEX (flat) set to VALUE (nan, inf, -inf).
poison() {
    python3 - "$@" <<'PY'
import struct, sys
src, dst, index, value = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
raw = bytearray(open(src, 'rb').read())
start = 10 + struct.unpack('<H', raw[8:10])[0]
raw[start + 4 * index:start + 4 * index + 4] = struct.pack('<f', value)
open(dst, 'wb').write(raw)
PY
}
# poison_weights IN OUT TENSOR INDEX: a copy of the safetensors IN with
# element INDEX of TENSOR (a float32 one) set to +Inf.
poison_weights() {
    python3 - "$@" <<'PY'
import json, struct, sys
src, dst, name, index = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
raw = bytearray(open(src, 'rb').read())
n = struct.unpack('<Q', raw[:8])[0]
entry = json.loads(raw[8:8 + n])[name]
assert entry['dtype'] == 'F32', entry
at = 8 + n + entry['data_offsets'][0] + 4 * index
raw[at:at + 4] = struct.pack('<f', float('inf'))
open(dst, 'wb').write(raw)
PY
}

"$TOOL" phantom --shape 8 --voxel 4 -o "$T/vol.npy" --quiet &&
"$TOOL" geometry circular --views 6 --det 12,12 --pixel 6 --volume 8 -o "$T/geom.json" \
    --quiet > /dev/null &&
"$TOOL" project --geometry "$T/geom.json" --volume "$T/vol.npy" -o "$T/proj.npy" --quiet ||
    { fail "making the inputs"; summary; exit 1; }
OUT="$T/out.npy"

# Volume element (z, y, x) = (3, 2, 1) of 8^3 is flat index 3*64 + 2*8 + 1 = 209.
poison "$T/vol.npy" "$T/vol_nan.npy" 209 nan
expect "NaN volume (project)" 1 "vol_nan.npy: non-finite value (nan) at (z, y, x) = (3, 2, 1)" \
    "$OUT" -- project --geometry "$T/geom.json" --volume "$T/vol_nan.npy" -o "$OUT"
expect "NaN volume (denoise)" 1 "(z, y, x) = (3, 2, 1)" "$OUT" -- \
    denoise --model "$NET" -i "$T/vol_nan.npy" -o "$OUT" --patch 8 --overlap 0
# Projection (view, row, column) = (5, 11, 0) of 6 x 12 x 12 is 5*144 + 11*12 = 852.
poison "$T/proj.npy" "$T/proj_inf.npy" 852 -inf
expect "-Inf projections (fdk)" 1 "proj_inf.npy: non-finite value (-inf)" "$OUT" -- \
    fdk --geometry "$T/geom.json" --projections "$T/proj_inf.npy" -o "$OUT"
check "fdk names the view, row and column" grep -q "(5, 11, 0)" "$T/err"
expect "-Inf projections (backproject)" 1 "(5, 11, 0)" "$OUT" -- \
    backproject --geometry "$T/geom.json" --projections "$T/proj_inf.npy" -o "$OUT"

# cbct recon on a volume file and on measured projections.
printf 'dataset: {tomography_3d: {volume: %s, num_projections: 6}}\nsolver: {SIRT: {max_iterations: 2}}\n' \
    "$T/vol_nan.npy" >"$T/recon_nan.yml"
expect "NaN volume (recon)" 1 "vol_nan.npy: non-finite value (nan) at (z, y, x) = (3, 2, 1)" \
    - -- recon "$T/recon_nan.yml" -o "$T/recon_nan"
check "recon wrote nothing" test ! -e "$T/recon_nan/recon.npy"
printf 'dataset: {tomography_3d: {projections: %s, geometry_file: %s}}\nsolver: {SIRT: {max_iterations: 2}}\n' \
    "$T/proj_inf.npy" "$T/geom.json" >"$T/recon_inf.yml"
expect "Inf projections (recon)" 1 "(5, 11, 0)" - -- recon "$T/recon_inf.yml" -o "$T/recon_inf"

# Weights: the file, the tensor and the index.
tensor=$(python3 -c 'import json, struct, sys
raw = open(sys.argv[1], "rb").read(); n = struct.unpack("<Q", raw[:8])[0]
print(sorted(k for k in json.loads(raw[8:8 + n]) if k != "__metadata__")[-1])' "$NET")
poison_weights "$NET" "$T/net_inf.safetensors" "$tensor" 3
expect "Inf in DRUNet weights" 1 "net_inf.safetensors" "$OUT" -- \
    denoise --model "$T/net_inf.safetensors" -i "$T/vol.npy" -o "$OUT" --patch 8 --overlap 0
check "the weight's tensor and index are named" \
    grep -q "$tensor: non-finite value (inf) at flat index 3" "$T/err"

summary
