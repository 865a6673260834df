#!/usr/bin/env bash
# Volume formats on the command line: the head CT through TIFF (multi-page
# and a stack), NIfTI (.nii.gz) and HDF5 and back is bit-exact with its
# spacing; `info` describes each; project reads any format; projections go
# to ASTRA's layout and back; geometries to ASTRA's dictionaries and back;
# broken files exit 1 naming the file and leave no output.
DATA=${CBCT_SHARED_DATA:-$(dirname "$0")/../../shared/data}
HEAD=$DATA/vtk_headsq.mha
source "$(dirname "$0")/lib_cli.sh"
q=--quiet

"$TOOL" convert $q "$HEAD" "$T/head.npy" || fail "head CT -> npy"
mkdir -p "$T/stack"
for out in head.tif head.nii head.nii.gz head.h5 "head2.h5:/ct/head" "stack/z_%03d.tif"; do
    if "$TOOL" convert $q "$HEAD" "$T/$out" && "$TOOL" convert $q "$T/$out" "$T/back.npy" &&
        cmp -s "$T/head.npy" "$T/back.npy"; then pass; else fail "head CT via $out differs"; fi
    "$TOOL" info "$T/$out" >"$T/info" 2>/dev/null
    if grep -q 'shape    93 x 64 x 64' "$T/info" && grep -q 'spacing  1.5 x 3.2 x 3.2 mm' "$T/info" &&
        grep -q 'min 0, max 3926' "$T/info"; then pass; else fail "info $out: $(cat "$T/info")"; fi
done
# The stack as a folder; its files under a small budget.
if "$TOOL" convert $q --mem 1M "$T/stack" "$T/back.npy" && cmp -s "$T/head.npy" "$T/back.npy"
then pass; else fail "stack folder"; fi

# project reads volumes in any format (the geometry's grid decides).
"$TOOL" geometry circular $q --views 8 --det 24,32 --volume 93,64,64 -o "$T/geom.json" ||
    fail "geometry circular"
"$TOOL" project $q --geometry "$T/geom.json" --volume "$T/head.npy" -o "$T/p_npy.npy" &&
    "$TOOL" project $q --geometry "$T/geom.json" --volume "$T/head.h5" -o "$T/p_h5.npy" &&
    "$TOOL" project $q --geometry "$T/geom.json" --volume "$T/head.nii.gz" -o "$T/p_nii.npy" ||
    fail "project from h5 / nii.gz"
if cmp -s "$T/p_npy.npy" "$T/p_h5.npy" && cmp -s "$T/p_npy.npy" "$T/p_nii.npy"; then pass
else fail "projections of the same volume in other formats differ"; fi

# ASTRA: projections (views, rows, cols) <-> (rows, views, cols).
"$TOOL" convert $q --layout astra "$T/p_npy.npy" "$T/p_astra.npy" &&
    "$TOOL" convert $q --layout cbct --mem 200K "$T/p_astra.npy" "$T/p_back.npy" ||
    fail "layout conversion"
"$TOOL" info "$T/p_astra.npy" >"$T/info" 2>/dev/null
if grep -q 'shape    24 x 8 x 32' "$T/info" && cmp -s "$T/p_npy.npy" "$T/p_back.npy"; then pass
else fail "ASTRA layout: $(cat "$T/info")"; fi
# ASTRA geometry dictionaries, both types; a cone file drives fdk directly.
"$TOOL" geometry to-astra $q "$T/geom.json" --type cone -o "$T/astra_cone.json" &&
    "$TOOL" geometry to-astra $q "$T/geom.json" -o "$T/astra_vec.json" &&
    "$TOOL" geometry from-astra $q "$T/astra_vec.json" -o "$T/geom_back.json" ||
    fail "geometry to/from ASTRA"
if grep -q '"type": "cone"' "$T/astra_cone.json" && grep -q '"Vectors"' "$T/astra_vec.json" &&
    cmp -s "$T/geom.json" "$T/geom_back.json"; then pass
else fail "ASTRA geometry round trip: $(diff "$T/geom.json" "$T/geom_back.json" | head -5)"; fi
"$TOOL" fdk $q --geometry "$T/astra_cone.json" --projections "$T/p_npy.npy" -o "$T/f1.npy" &&
    "$TOOL" fdk $q --geometry "$T/geom.json" --projections "$T/p_npy.npy" -o "$T/f2.npy" ||
    fail "fdk with an ASTRA geometry"
"$TOOL" compare "$T/f1.npy" "$T/f2.npy" >"$T/out" 2>/dev/null
# The cone angles are recovered with atan2: the same FDK to the last bit.
if grep -qE '^max_abs_diff +0 /mm' "$T/out"; then pass
else fail "compare of the two FDKs: $(cat "$T/out")"; fi

# --- broken files ------------------------------------------------------------
head -c 300 "$T/head.tif" >"$T/cut.tif"
expect "truncated TIFF" 1 "cut.tif" "$T/x.npy" -- convert "$T/cut.tif" "$T/x.npy"
head -c 2000 "$T/head.nii" >"$T/cut.nii"
expect "truncated NIfTI" 1 "cut.nii': dim 64 x 64 x 93" "$T/x.npy" -- convert "$T/cut.nii" "$T/x.npy"
head -c 3000 "$T/head.h5" >"$T/cut.h5"
expect "truncated HDF5" 1 "cut.h5" "$T/x.npy" -- convert "$T/cut.h5" "$T/x.npy"
expect "missing dataset" 1 "has no dataset '/nope'" "$T/x.npy" -- convert "$T/head.h5:/nope" "$T/x.npy"
expect "unknown format" 2 "cannot tell the volume format" - -- convert "$T/head.npy" "$T/x.vtk"
echo '{"type": "parallel3d", "DetectorRowCount": 2, "DetectorColCount": 2}' >"$T/par.json"
expect "ASTRA parallel" 1 "type 'parallel3d'" "$T/x.json" -- geometry from-astra "$T/par.json" -o "$T/x.json"
summary
