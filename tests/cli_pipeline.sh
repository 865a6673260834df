#!/usr/bin/env bash
# The command line end to end: phantom -> geometry -> project -> fdk ->
# compare --json (PSNR floor), backproject, info, demo, batching and thread
# count invariance, and every --help.
source "$(dirname "$0")/lib_cli.sh"

# json_value KEY < json: prints the value (python3 is there, numpy is not).
json_value() { python3 -c 'import json, sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }
# npy_dot A B: sum of products of two float32 .npy files of equal size.
npy_dot() {
    python3 - "$1" "$2" <<'PY'
import array, struct, sys
def data(path):
    raw = open(path, 'rb').read()
    header_len = struct.unpack('<H', raw[8:10])[0]
    values = array.array('f')
    values.frombytes(raw[10 + header_len:])
    return values
a, b = data(sys.argv[1]), data(sys.argv[2])
print(sum(x * y for x, y in zip(a, b)))
PY
}
# greater A B: A > B as numbers.
greater() { python3 -c 'import sys; sys.exit(0 if float(sys.argv[1]) > float(sys.argv[2]) else 1)' "$1" "$2"; }

# --- version, help, usage ------------------------------------------------------
run version --version && check "version text" grep -q '^cbct [0-9]' "$T/out"
run help help && check "help lists fdk" grep -q 'fdk' "$T/out"
"$TOOL" >/dev/null 2>&1; [ $? -eq 2 ] && pass || fail "no command: expected exit 2"
for cmd in phantom "geometry" "geometry circular" "geometry info" project backproject fdk \
           compare info demo; do
    # shellcheck disable=SC2086
    if "$TOOL" $cmd --help >"$T/out" 2>"$T/err" && grep -q 'Usage' "$T/out"; then
        pass
    else
        fail "cbct $cmd --help: not exit 0 with 'Usage'"
    fi
done
run "help fdk" help fdk && check "help fdk shows --filter" grep -q -- '--filter' "$T/out"
check "help shows defaults" grep -q 'default: ram-lak' "$T/out"

# --- the example with every default: 128^3 Shepp-Logan, 50 views --------------
run "default phantom" phantom --kind shepp-logan -o "$T/d_vol.npy"
run "default geometry" geometry circular -o "$T/d_geom.json"
check "default volume 128^3 of 1 mm" grep -q 'volume *128 x 128 x 128 voxels (z, y, x) of 1 x 1 x 1 mm' "$T/out"
run "default project" project --geometry "$T/d_geom.json" --volume "$T/d_vol.npy" -o "$T/d_proj.npy"
run "default fdk" fdk --geometry "$T/d_geom.json" --projections "$T/d_proj.npy" -o "$T/d_rec.npy"
run "default compare" compare "$T/d_vol.npy" "$T/d_rec.npy" --json
psnr=$(json_value psnr <"$T/out")
echo "FDK of Shepp-Logan 128^3, 50 views (defaults): PSNR $psnr dB"
check "default example: PSNR above 20 dB" greater "$psnr" 20
for f in d_vol.npy d_geom.json d_proj.npy d_rec.npy; do check "$f exists" test -s "$T/$f"; done
rm -f "$T"/d_*

# --- a smaller scan for the other checks ----------------------------------------
# 64^3 voxels of 2 mm (the 128 mm default scene), 40 views, 80x80 pixels of 3.2 mm.
run phantom phantom --kind shepp-logan --shape 64 -o "$T/vol.npy"
check "phantom written" test -s "$T/vol.npy"
run geometry geometry circular --views 40 --det 80,80 --pixel 3.2 --volume 64 -o "$T/geom.json"
check "geometry written" test -s "$T/geom.json"
run "geometry fitted volume" geometry circular --views 8 --volume 32 --voxel fit -o "$T/fit.json"
check "fitted volume inside the FOV" grep -q 'volume in FOV *all of it' "$T/out"
run "geometry info" geometry info "$T/geom.json"
check "geometry info: magnification 2" grep -q 'magnification *2.0000' "$T/out"
check "geometry info: 40 views" grep -q 'views *40' "$T/out"
check "geometry info: field of view" grep -q 'FOV radius 63.20 mm' "$T/out"
run project project --geometry "$T/geom.json" --volume "$T/vol.npy" -o "$T/proj.npy"
check "projections written" test -s "$T/proj.npy"
check "project reports time and memory" grep -q 'peak memory' "$T/err"
run fdk fdk --geometry "$T/geom.json" --projections "$T/proj.npy" -o "$T/rec.npy"
check "fdk written" test -s "$T/rec.npy"
run compare compare "$T/vol.npy" "$T/rec.npy" --json
psnr=$(json_value psnr <"$T/out")
ssim=$(json_value ssim <"$T/out")
echo "FDK of Shepp-Logan 64^3, 40 views: PSNR $psnr dB, SSIM $ssim"
check "PSNR above 20 dB" greater "$psnr" 20
check "SSIM above 0.5" greater "$ssim" 0.5
for key in rmse max_abs_diff data_range; do
    check "compare --json has $key" grep -q "\"$key\"" "$T/out"
done
run "compare text" compare "$T/vol.npy" "$T/rec.npy" --fov --range 0.02
check "compare text has PSNR" grep -q '^psnr' "$T/out"
run "compare identical" compare "$T/vol.npy" "$T/vol.npy" --json
check "identical: rmse 0" test "$(json_value rmse <"$T/out")" = "0"

# --- batches, budgets and threads do not change the result --------------------
run "project in batches of 7" project --geometry "$T/geom.json" --volume "$T/vol.npy" \
    -o "$T/proj7.npy" --views-per-batch 7
check "batched projections identical" cmp -s "$T/proj.npy" "$T/proj7.npy"
# 1 MiB volume + 25 KiB per view: a 2M budget forces several batches.
run "project under --mem 2M" project --mem 2M --geometry "$T/geom.json" \
    --volume "$T/vol.npy" -o "$T/proj_mem.npy"
check "budgeted projections identical" cmp -s "$T/proj.npy" "$T/proj_mem.npy"
run "project, 1 thread" project --threads 1 --geometry "$T/geom.json" --volume "$T/vol.npy" \
    -o "$T/proj_t1.npy"
check "1-thread projections identical" cmp -s "$T/proj.npy" "$T/proj_t1.npy"
run "fdk in batches of 7" fdk --geometry "$T/geom.json" --projections "$T/proj.npy" \
    -o "$T/rec7.npy" --views-per-batch 7
check "batched fdk identical" cmp -s "$T/rec.npy" "$T/rec7.npy"
run "fdk, 1 thread" fdk --threads 1 --geometry "$T/geom.json" --projections "$T/proj.npy" \
    -o "$T/rec_t1.npy"
check "1-thread fdk identical" cmp -s "$T/rec.npy" "$T/rec_t1.npy"
run "fdk under --mem 2M" fdk --mem 2M --geometry "$T/geom.json" --projections "$T/proj.npy" \
    -o "$T/rec_mem.npy"
check "budgeted fdk identical" cmp -s "$T/rec.npy" "$T/rec_mem.npy"
# A short scan (210 degrees): Parker weights (auto) must beat none.
run "short-scan geometry" geometry circular --views 30 --arc 210 --det 80,80 --pixel 3.2 \
    --volume 64 -o "$T/short.json"
run "short-scan project" project --geometry "$T/short.json" --volume "$T/vol.npy" -o "$T/sp.npy"
run "short-scan fdk auto" fdk --geometry "$T/short.json" --projections "$T/sp.npy" -o "$T/sr.npy"
run "compare short auto" compare "$T/vol.npy" "$T/sr.npy" --json
psnr_auto=$(json_value psnr <"$T/out")
run "short-scan fdk off" fdk --short-scan off --geometry "$T/short.json" \
    --projections "$T/sp.npy" -o "$T/sr_off.npy"
run "compare short off" compare "$T/vol.npy" "$T/sr_off.npy" --json
check "Parker weights help a short scan" greater "$psnr_auto" "$(json_value psnr <"$T/out")"
run "fdk hann" fdk --geometry "$T/geom.json" --projections "$T/proj.npy" \
    -o "$T/rec_hann.npy" --filter hann --cutoff 0.8 --short-scan off
run "compare hann" compare "$T/vol.npy" "$T/rec_hann.npy" --json
check "hann PSNR above 20 dB" greater "$(json_value psnr <"$T/out")" 20

# --- backproject and info ------------------------------------------------------
run backproject backproject --geometry "$T/geom.json" --projections "$T/proj.npy" -o "$T/bp.npy"
check "backprojection written" test -s "$T/bp.npy"
# Adjoint: with y = A x, <A x, y> = <y, y> must equal <x, A^T y>.
yy=$(npy_dot "$T/proj.npy" "$T/proj.npy")
x_aty=$(npy_dot "$T/vol.npy" "$T/bp.npy")
echo "adjoint check: <Ax, y> = $yy, <x, A^T y> = $x_aty"
check "backproject is the adjoint of project" python3 -c \
    'import sys; a, b = map(float, sys.argv[1:]); sys.exit(abs(a - b) > 1e-4 * abs(a))' "$yy" "$x_aty"
run "backproject in batches of 7" backproject --views-per-batch 7 --geometry "$T/geom.json" \
    --projections "$T/proj.npy" -o "$T/bp7.npy"
run "compare batched backprojection" compare "$T/bp.npy" "$T/bp7.npy" --json
check "batched backprojection equal to float rounding" greater 1e-5 \
    "$(python3 -c 'import sys; print(float(sys.argv[1]) / float(sys.argv[2]))' \
       "$(json_value max_abs_diff <"$T/out")" "$(json_value data_range <"$T/out")")"
run "info backprojection" info "$T/bp.npy"
check "info shape" grep -q 'shape *64 x 64 x 64' "$T/out"
check "info dtype" grep -q 'dtype *float32' "$T/out"
run "info projections" info "$T/proj.npy"
check "info projection shape" grep -q 'shape *40 x 80 x 80' "$T/out"
check "info min/max/mean" grep -q 'min .*max .*mean' "$T/out"
run "info geometry" info "$T/geom.json"
check "info geometry: detector" grep -q 'detector *80 rows x 80 cols' "$T/out"

# --- quiet is quiet -------------------------------------------------------------
run "quiet phantom" phantom --quiet --kind ball --shape 16 -o "$T/ball.npy"
check "quiet: nothing on stderr" test ! -s "$T/err"
run "walnut phantom" phantom --kind walnut --shape 32,24,16 --voxel 2,3,4 --seed 7 -o "$T/walnut.npy"
run "info walnut" info "$T/walnut.npy"
check "walnut shape" grep -q 'shape *32 x 24 x 16' "$T/out"

# --- demo -----------------------------------------------------------------------
run demo demo -o "$T/demo" --size 32 --views 24
for f in phantom.npy proj.npy geom.json fdk.npy axial.png coronal.png; do
    check "demo wrote $f" test -s "$T/demo/$f"
done
check "demo prints PSNR" grep -q 'PSNR' "$T/out"
check "axial.png is a PNG" grep -q 'PNG' <(head -c 4 "$T/demo/axial.png")
check "no temporary files left" test -z "$(find "$T" -name '*.tmp*')"

summary
