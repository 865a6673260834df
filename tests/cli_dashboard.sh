#!/usr/bin/env bash
# cbct dashboard on the results of a tiny cbct bench grid (max_batch_size 4
# and 2, each with a budget that runs out of memory and one that does not):
# the summary table, a self-contained page (no network), clear errors (no
# charting library, no records); then the page opened in headless Chromium:
# the render report the page writes into its DOM must count 6 charts, the
# expected points in each and no error, and a screenshot is saved.
source "$(dirname "$0")/lib_cli.sh"
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" || exit 1 # the grid names models/... relative to the repository
JS=${CBCT_CHART_JS:-/usr/share/javascript/chart.js/chart.min.js}

cat >"$T/grid.yml" <<'YML'
dataset:
  - tomography_3d: {num_operators: 2, num_projections: 8, phantom: walnut, shape: [16, 16, 16]}
solver:
  - PnP:
      model: models/drunet3d_small.safetensors
      init_method: ["fdk"]
      max_iterations: 2
      mode: normalized
      denoiser_lambda_relaxation: 0.1
      patch_size: [8, 8, 8]
      overlap: [2, 2, 2]
      max_batch_size: [4, 2]
run:
  memory: [1M, 1G]
YML
"$TOOL" bench "$T/grid.yml" -o "$T/res" --quiet >"$T/bench.out" 2>&1
check "bench ran the grid" test "$(grep -c '\] max_batch_size' "$T/bench.out")" -eq 4

# --- the page and the table ------------------------------------------------------
run "dashboard" dashboard "$T/res" -o "$T/dash.html" --js "$JS"
check "table header" grep -qE '^run +status +batch' "$T/out"
check "table: ok run" grep -qE '^max_batch_size-2_memory-1G +ok +2 ' "$T/out"
check "table: out of memory" grep -qE '^max_batch_size-4_memory-1M +out_of_memory +4 ' "$T/out"
check "page written" test -s "$T/dash.html"
check "library embedded" grep -q 'Chart.js v' "$T/dash.html"
check "no network" test -z "$(grep -oE '(src|href)="(https?:)?//' "$T/dash.html")"
check "previews embedded" test "$(grep -o 'data:image/png;base64,' "$T/dash.html" | wc -l)" -eq 4
check "page under 1 MB" test "$(stat -c %s "$T/dash.html")" -lt 1000000
check "no temporary file" test -z "$(find "$T" -name '*.tmp*')"

expect "no library" 1 "cannot read the charting library '/no/chart.min.js': install the Debian package libjs-chart.js" \
    "$T/none.html" -- dashboard "$T/res" -o "$T/none.html" --js /no/chart.min.js
mkdir -p "$T/empty"
expect "no records" 1 "holds no run records" "$T/none.html" -- dashboard "$T/empty" -o "$T/none.html" \
    --js "$JS"
expect "no folder" 1 "cannot read the results folder '$T/nothere'" "$T/none.html" -- \
    dashboard "$T/nothere" -o "$T/none.html" --js "$JS"

# --- the page in a browser -----------------------------------------------------------
if ! command -v chromium >/dev/null; then
    echo "SKIP: chromium is not installed (Debian package chromium): the page was not rendered"
    summary
    exit
fi
browse() { # ARGS...: headless Chromium on the page, with a fresh profile
    local profile
    profile=$(mktemp -d)
    timeout 120 chromium --headless --no-sandbox --disable-gpu --no-first-run \
        --disable-background-networking --user-data-dir="$profile" --hide-scrollbars \
        "$@" "file://$T/dash.html" 2>>"$T/chromium.err"
    rm -rf "$profile"
}
browse --virtual-time-budget=10000 --dump-dom >"$T/dom.html"
check "DOM dumped" grep -q 'id="render-report"' "$T/dom.html"
python3 - "$T/dom.html" <<'PY' >"$T/report.txt" 2>&1
import html, json, re, sys
dom = open(sys.argv[1]).read()
text = re.search(r'<pre id="render-report">(.*?)</pre>', dom, re.S).group(1)
r = json.loads(html.unescape(text))
# 2 runs ok and 2 out of memory; 2 iterations per run plus the initialisation.
want = {"memory": 2 + 2 + 2,        # tracked and RSS per ok run, a cross per out of memory
        "time_iteration": 2, "time_total": 2 + 2,  # solver and wall per ok run
        "psnr_time": 2 * 3, "psnr_iteration": 2 * 3,
        "breakdown": 4 * 2}         # 4 phases per ok run
problems = []
if r["errors"]:
    problems.append("errors: %s" % r["errors"])
if r["charts"] != 6:
    problems.append("charts: %d, expected 6" % r["charts"])
if r["runs"] != 4 or r["ok"] != 2:
    problems.append("runs %d ok %d, expected 4 and 2" % (r["runs"], r["ok"]))
for k, v in want.items():
    if r["points"].get(k) != v:
        problems.append("%s: %s points, expected %d" % (k, r["points"].get(k), v))
print("\n".join(problems) if problems else "ok")
PY
if [ "$(cat "$T/report.txt")" = ok ]; then pass; else fail "render report: $(cat "$T/report.txt")"; fi
browse --window-size=1400,1800 --screenshot="$T/dashboard.png"
check "screenshot saved" test "$(stat -c %s "$T/dashboard.png" 2>/dev/null || echo 0)" -gt 20000
check "screenshot is a PNG" test "$(head -c 4 "$T/dashboard.png" | tail -c 3)" = PNG
echo "screenshot: $T/dashboard.png"

summary
