#!/usr/bin/env bash
# cbct denoise end to end with a small random DRUNet: output shape, the
# report (time, peak memory), --max-batch 1 / 3 / auto giving the same
# bytes, --blend, and bad input (missing or broken model, bad patch,
# negative sigma, ...) giving a clear error and no output file.
source "$(dirname "$0")/lib_cli.sh"

# expect NAME RC NEEDLE -- ARGS...: exit code RC, NEEDLE on stderr, no
# crash report, and no $T/bad.npy left behind. This script's own version,
# replacing lib_cli.sh's: a fixed output and the stderr in the exit message.
expect() {
    local name=$1 want=$2 needle=$3
    shift 4
    rm -f "$T/bad.npy"
    "$TOOL" "$@" >"$T/out" 2>"$T/err"
    local rc=$? ok=1
    [ $rc -ne "$want" ] && { fail "$name: exit $rc, expected $want: $(cat "$T/err")"; ok=0; }
    grep -qF -- "$needle" "$T/err" || { fail "$name: stderr lacks '$needle': $(cat "$T/err")"; ok=0; }
    grep -qE 'Sanitizer|: runtime error:|core dumped|Segmentation fault' "$T/err" &&
        { fail "$name: crash report on stderr"; ok=0; }
    [ -e "$T/bad.npy" ] && { fail "$name: output file was created"; ok=0; }
    [ $ok -eq 1 ] && pass
    return 0
}

# --- help -------------------------------------------------------------------------
run "denoise --help" denoise --help && check "help shows --max-batch" grep -q -- '--max-batch' "$T/out"
run "help lists denoise" help && check "command list has denoise" grep -q 'denoise' "$T/out"

# --- a small volume, not divisible by the patch ------------------------------------
run phantom phantom --shape 20,40,36 -o "$T/vol.npy"
NET="--random-model 4,8,16,32,1 --sigma 0.05 --patch 8,16,16 --overlap 2,4,4"
# shellcheck disable=SC2086
run "max batch 1" denoise $NET --max-batch 1 -i "$T/vol.npy" -o "$T/b1.npy"
check "reports time and patches" grep -q 'denoised 20 x 40 x 36 voxels in .* s: 27 patches of 8 x 16 x 16' "$T/err"
check "reports peak memory" grep -q 'peak memory .* tracked.* RSS' "$T/err"
run "info output" info "$T/b1.npy" && check "output shape" grep -q 'shape *20 x 40 x 36' "$T/out"
# shellcheck disable=SC2086
run "max batch 3" denoise $NET --max-batch 3 -i "$T/vol.npy" -o "$T/b3.npy"
check "batch 1 and 3 give the same bytes" cmp -s "$T/b1.npy" "$T/b3.npy"
# shellcheck disable=SC2086
run "max batch auto" denoise $NET --max-batch auto --mem 64M --verbose -i "$T/vol.npy" -o "$T/ba.npy"
check "auto prints its batch" grep -q 'per call (largest that fits)' "$T/err"
check "auto gives the same bytes" cmp -s "$T/b1.npy" "$T/ba.npy"
# shellcheck disable=SC2086
run "threads 1" denoise $NET --max-batch 2 --threads 1 -i "$T/vol.npy" -o "$T/t1.npy"
check "1 thread gives the same bytes" cmp -s "$T/b1.npy" "$T/t1.npy"
# shellcheck disable=SC2086
run "blend" denoise $NET --max-batch 4 --blend -i "$T/vol.npy" -o "$T/blend.npy"
run "info blend" info "$T/blend.npy" && check "blend shape" grep -q 'shape *20 x 40 x 36' "$T/out"
check "blending changes the result" bash -c "! cmp -s '$T/b1.npy' '$T/blend.npy'"
# A 2D volume (one slice) with the default patch and overlap.
run "slice phantom" phantom --shape 1,24,24 -o "$T/slice.npy"
run "one slice" denoise --random-model 4,8,16,32,1 -i "$T/slice.npy" -o "$T/slice_out.npy"
run "info slice" info "$T/slice_out.npy" && check "slice shape" grep -q 'shape *1 x 24 x 24' "$T/out"

# --- weights files (tests/data/drunet, from the DRUNet tests) -----------------------
D="$(cd "$(dirname "$0")" && pwd)/data/drunet"
if [ -f "$D/net3d_nb1.safetensors" ] && [ -f "$D/net2d_nb1.safetensors" ]; then
    run "3D model" denoise --model "$D/net3d_nb1.safetensors" --patch 8,16,16 --overlap 2,4,4 \
        --max-batch 2 -i "$T/vol.npy" -o "$T/m3.npy"
    run "info 3D model output" info "$T/m3.npy" && check "3D model shape" grep -q 'shape *20 x 40 x 36' "$T/out"
    run "2D model, slice by slice" denoise --model "$D/net2d_nb1.safetensors" --verbose \
        -i "$T/vol.npy" -o "$T/m2.npy"
    check "2D model: 20 slices" grep -q '20 patches of 1 x 40 x 36 voxels' "$T/err"
    expect "2D model, patch z 8" 1 "slice by slice" -- denoise --model "$D/net2d_nb1.safetensors" \
        --patch 8,16,16 -i "$T/vol.npy" -o "$T/bad.npy"
    [ -f "$D/net2d_rgb_nb2.safetensors" ] &&
        expect "colour model" 1 "a volume needs 1 and 1" -- denoise \
            --model "$D/net2d_rgb_nb2.safetensors" -i "$T/vol.npy" -o "$T/bad.npy"
else
    echo "note: $D has no test weights; --model runs skipped"
fi

# --- bad input ------------------------------------------------------------------------
V="$T/vol.npy"
O="$T/bad.npy"
expect "missing model" 1 "cannot open '$T/none.safetensors'" -- denoise --model "$T/none.safetensors" -i "$V" -o "$O"
head -c 200 /dev/urandom >"$T/broken.safetensors"
expect "broken model" 1 "broken.safetensors" -- denoise --model "$T/broken.safetensors" -i "$V" -o "$O"
expect "no model" 2 "give either --model" -- denoise -i "$V" -o "$O"
expect "two models" 2 "not both" -- denoise --model "$T/x" --random-model 4,8,16,32 -i "$V" -o "$O"
expect "bad random model" 2 "option --random-model: '4,8'" -- denoise --random-model 4,8 -i "$V" -o "$O"
expect "patch 0" 2 "option --patch: '8,0,8'" -- denoise --random-model 4,8,16,32 --patch 8,0,8 -i "$V" -o "$O"
expect "patch text" 2 "option --patch: 'big'" -- denoise --random-model 4,8,16,32 --patch big -i "$V" -o "$O"
expect "negative overlap" 2 "option --overlap" -- denoise --random-model 4,8,16,32 --overlap 2,-1,2 -i "$V" -o "$O"
expect "negative sigma" 2 "option --sigma: '-0.1'" -- denoise --random-model 4,8,16,32 --sigma -0.1 -i "$V" -o "$O"
expect "max batch 0" 2 "expected auto or an integer >= 1" -- denoise --random-model 4,8,16,32 --max-batch 0 -i "$V" -o "$O"
expect "missing input" 1 "$T/none.npy" -- denoise --random-model 4,8,16,32 -i "$T/none.npy" -o "$O"
expect "missing -o" 2 "missing required option --output" -- denoise --random-model 4,8,16,32 -i "$V"
expect "window too large for --mem" 3 "one window of 12 x 24 x 24 voxels needs" -- \
    denoise --random-model 4,8,16,32,1 --patch 8,16,16 --overlap 2,4,4 --mem 1M -i "$V" -o "$O"
check "no temporary files left" test -z "$(find "$T" -name '*.tmp*')"

summary
