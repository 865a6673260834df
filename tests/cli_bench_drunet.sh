#!/usr/bin/env bash
# bench_drunet's single-case mode, which bench/peers/drunet_vs_torch.py
# alternates with PyTorch: --batch N --patch D,H,W times exactly that case
# with both kernel tables (the default Winograd table first), the tracked
# peak equal to the memory model's prediction; bad values are refused.
source "$(dirname "$0")/lib_cli.sh"

DRUNET=$(dirname "$TOOL")/bench/bench_drunet
MODEL=$(dirname "$0")/../models/drunet3d_small.safetensors
if [ ! -x "$DRUNET" ]; then
    echo "skipped: bench_drunet not built next to $TOOL"
    exit 77
fi
if "$DRUNET" --threads 2 --no-reference --model "$MODEL" --model-only --batch 2 \
        --patch 4,16,24 >"$T/one.json" 2>"$T/err"; then
    pass
    python3 - "$T/one.json" <<'PY' && pass || fail "single case: $(cat "$T/one.json")"
import json, sys
runs = json.load(open(sys.argv[1]))["networks"]
assert len(runs) == 2, runs
assert runs[0]["kernel"] == "winograd+openblas", runs  # then the DIRECT table
assert runs[1]["kernel"] in ("onednn+openblas", "im2col+openblas"), runs
for r in runs:
    assert r["batch"] == 2 and r["patch"] == [4, 16, 24], r
    assert r["tracked_peak_bytes"] == r["predicted_peak_bytes"], r
    assert r["seconds"] > 0, r
PY
else
    fail "bench_drunet single case: $(cat "$T/err")"
fi
for bad in "--batch 0" "--patch 0,16,16" "--patch 4,16" "--patch x"; do
    # shellcheck disable=SC2086
    "$DRUNET" --model-only --model "$MODEL" $bad >/dev/null 2>"$T/err"
    [ $? -eq 2 ] && grep -q usage "$T/err" && pass || fail "bench_drunet accepted $bad"
done
summary
