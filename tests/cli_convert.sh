#!/usr/bin/env bash
# cbct convert: .npy -> .mha -> .mhd -> .npy is bit-exact; the head CT
# converts with the right shape, values, spacing and origin, in slabs under a
# small memory budget too; bad inputs exit 1 (2 for a usage error) with a
# message naming the file, and leave no output behind.
export LC_ALL=C # sed below edits the text header of a binary file

DATA=${CBCT_SHARED_DATA:-$(dirname "$0")/../../shared/data}
HEAD=$DATA/vtk_headsq.mha
EXPECT_RAW_SIDECAR=1 # expect: no .raw beside a refused output either
source "$(dirname "$0")/lib_cli.sh"

# A float32 .npy of random finite bit patterns (no numpy here), 7 x 5 x 3.
python3 - "$T/rand.npy" <<'PY'
import random, struct, sys
random.seed(3)
dims = (7, 5, 3)
header = "{'descr': '<f4', 'fortran_order': False, 'shape': (7, 5, 3), }"
header += ' ' * (64 - (10 + len(header) + 1) % 64) + '\n'
words = []
while len(words) < 7 * 5 * 3:
    w = random.getrandbits(32)
    if (w >> 23) & 0xff != 0xff:  # not Inf or NaN
        words.append(w)
with open(sys.argv[1], 'wb') as f:
    f.write(b'\x93NUMPY\x01\x00' + struct.pack('<H', len(header)) + header.encode())
    f.write(struct.pack('<%dI' % len(words), *words))
PY

# --- round trips ---------------------------------------------------------------
q="--quiet"
"$TOOL" convert $q "$T/rand.npy" "$T/a.mha" --spacing 0.5,0.25,2 --origin 1,-2,3 &&
    "$TOOL" convert $q "$T/a.mha" "$T/b.mhd" &&
    "$TOOL" convert $q "$T/b.mhd" "$T/c.mha" &&
    "$TOOL" convert $q "$T/c.mha" "$T/back.npy" || fail "round trip: a conversion failed"
if cmp -s "$T/rand.npy" "$T/back.npy"; then pass; else fail "npy -> mha -> mhd -> mha -> npy differs"; fi
# The data part of the .mha is the .npy's data, byte for byte (the .raw too).
if cmp -s <(tail -c 420 "$T/rand.npy") <(tail -c 420 "$T/a.mha") &&
    cmp -s <(tail -c 420 "$T/rand.npy") "$T/b.raw"; then pass; else fail "MetaImage data differs"; fi
# Spacing and origin are carried through .mha and .mhd: the origin (1, -2, 3)
# is the centre, Offset the first voxel = origin - (n - 1)/2 spacing (x y z).
if grep -qx 'ElementSpacing = 2 0.25 0.5' "$T/c.mha" &&
    grep -qx 'Offset = 1 -2.5 -0.5' "$T/c.mha" &&
    grep -qx 'ElementDataFile = b.raw' "$T/b.mhd"; then pass
else fail "spacing / offset not carried: $(head -c 400 "$T/c.mha" | grep -a -E 'Spacing|Offset')"; fi

# --- the head CT ---------------------------------------------------------------
"$TOOL" convert $q "$HEAD" "$T/head.npy" || fail "head CT -> npy"
"$TOOL" info "$T/head.npy" >"$T/info" 2>/dev/null
if grep -q 'shape    93 x 64 x 64' "$T/info" && grep -q 'min 0, max 3926' "$T/info"; then pass
else fail "head CT: $(cat "$T/info")"; fi
# In slabs of a few slices under a small budget: the same file.
"$TOOL" convert $q --mem 1200K "$HEAD" "$T/head_slabs.npy" || fail "head CT in slabs"
if cmp -s "$T/head.npy" "$T/head_slabs.npy"; then pass; else fail "slab conversion differs"; fi
"$TOOL" convert $q "$HEAD" "$T/head.mhd" || fail "head CT -> mhd"
if grep -qx 'ElementSpacing = 3.2000000476837158 3.2000000476837158 1.5' "$T/head.mhd" &&
    grep -qx 'Offset = 0 0 0' "$T/head.mhd" && grep -qx 'DimSize = 64 64 93' "$T/head.mhd"
then pass; else fail "head CT .mhd header: $(cat "$T/head.mhd")"; fi

# --- bad inputs ------------------------------------------------------------------
OUT=$T/out.mha
head -c 100000 "$HEAD" >"$T/cut.mha"
expect "truncated data" 1 "cut.mha" "$OUT" -- convert "$T/cut.mha" "$OUT"
expect "truncated data says so" 1 "truncated" "$OUT" -- convert "$T/cut.mha" "$OUT"
head -c 150 "$HEAD" >"$T/cut_header.mha"
expect "truncated header" 1 "ElementDataFile" "$OUT" -- convert "$T/cut_header.mha" "$OUT"
sed -e '1,20s/^DimSize = 64 64 93/DimSize = 64 64/' "$HEAD" >"$T/dims.mha"
expect "bad DimSize" 1 "DimSize" "$OUT" -- convert "$T/dims.mha" "$OUT"
sed -e '1,20s/^ElementType = MET_USHORT/ElementType = MET_FLOAT16/' "$HEAD" >"$T/type.mha"
expect "unknown ElementType" 1 "ElementType" "$OUT" -- convert "$T/type.mha" "$OUT"
sed -e '1,20s/^CompressedData = False/CompressedData = True/' "$HEAD" >"$T/zip.mha"
expect "compressed" 1 "CompressedData" "$OUT" -- convert "$T/zip.mha" "$OUT"
printf 'NDims = 3\nDimSize = 2 2 2\nElementType = MET_FLOAT\nElementDataFile = gone.raw\n' \
    >"$T/gone.mhd"
expect "missing .raw" 1 "gone.raw" "$OUT" -- convert "$T/gone.mhd" "$OUT"
expect "missing input" 1 "nope.mha" "$T/out.npy" -- convert "$T/nope.mha" "$T/out.npy"
head -c 200 "$T/rand.npy" >"$T/cut.npy"
expect "corrupt .npy" 1 "cut.npy" "$OUT" -- convert "$T/cut.npy" "$OUT"
expect "unknown extension" 2 "vol.vtk" - -- convert "$T/rand.npy" "$T/vol.vtk"
expect "output folder missing" 1 "nowhere" "$T/nowhere/x.mhd" -- \
    convert "$T/rand.npy" "$T/nowhere/x.mhd"
expect "bad --spacing" 2 "--spacing" "$OUT" -- convert "$T/rand.npy" "$OUT" --spacing 0,1,1

# --- info reads MetaImage headers and values ------------------------------------
if "$TOOL" info "$HEAD" > "$T/info.txt" 2> /dev/null &&
    grep -q "shape    93 x 64 x 64" "$T/info.txt" &&
    grep -q "spacing  1.5 x 3.2 x 3.2 mm" "$T/info.txt" &&
    grep -q "min 0, max 3926" "$T/info.txt"; then
    pass
else
    fail "info of the head CT: $(cat "$T/info.txt")"
fi

summary
