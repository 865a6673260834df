# Helpers shared by the shell tests tests/cli_*.sh, which source this file:
#     source "$(dirname "$0")/lib_cli.sh"
# Not a test itself (the CMake glob registers cli_*.sh only). It sets
#   TOOL   the cbct binary (CBCT_TOOL, required),
#   T      the script's scratch folder (CBCT_TEST_TMP, or /tmp/cbct_<script>),
#          emptied here,
# and defines the counters passed / failed with fail, pass, check, run,
# expect and summary. A script may define its own version of any of them
# after sourcing (cli_denoise.sh has its own expect).
set -u

TOOL=${CBCT_TOOL:?set CBCT_TOOL to the cbct binary}
T=${CBCT_TEST_TMP:-/tmp/cbct_$(basename "$0" .sh)}
mkdir -p "$T"
rm -rf "${T:?}"/*

passed=0
failed=0
fail() { echo "FAIL: $*" >&2; failed=$((failed + 1)); }
pass() { passed=$((passed + 1)); }
# check NAME COMMAND...: the command must succeed.
check() { local name=$1; shift; if "$@"; then pass; else fail "$name"; fi; }

# run NAME ARGS...: cbct must exit 0; stdout in $T/out, stderr in $T/err.
run() {
    local name=$1; shift
    "$TOOL" "$@" >"$T/out" 2>"$T/err"
    local rc=$?
    if [ $rc -ne 0 ]; then
        fail "$name: 'cbct $*' exited $rc: $(cat "$T/err")"
        return 1
    fi
    pass
}

# expect NAME RC NEEDLE OUTPUT -- ARGS...: 'cbct ARGS' must exit with RC,
# print NEEDLE on stderr, not crash, and leave no OUTPUT ('-': none) and no
# temporary file. With EXPECT_RAW_SIDECAR=1 (MetaImage outputs), no .raw
# beside OUTPUT either.
EXPECT_RAW_SIDECAR=${EXPECT_RAW_SIDECAR:-0}
expect() {
    local name=$1 want=$2 needle=$3 output=$4
    shift 5
    local raw=-
    [ "$output" != - ] && [ "$EXPECT_RAW_SIDECAR" = 1 ] && raw=${output%.*}.raw
    [ "$output" != - ] && rm -f "$output"
    [ "$raw" != - ] && rm -f "$raw"
    "$TOOL" "$@" >"$T/out" 2>"$T/err"
    local rc=$? ok=1
    if [ $rc -ne "$want" ]; then
        fail "$name: exit $rc, expected $want"; ok=0
    fi
    if ! grep -qF -- "$needle" "$T/err"; then
        fail "$name: stderr lacks '$needle': $(cat "$T/err")"; ok=0
    fi
    if grep -qE 'Sanitizer|: runtime error:|core dumped|Segmentation fault' "$T/err"; then
        fail "$name: crash report on stderr"; ok=0
    fi
    if [ "$output" != - ] && [ -e "$output" ]; then
        fail "$name: output $output was created"; ok=0
    fi
    if [ "$raw" != - ] && [ -e "$raw" ]; then
        fail "$name: $raw was created"; ok=0
    fi
    if [ -n "$(find "$T" -name '*.tmp.*')" ]; then
        fail "$name: temporary file left behind"; ok=0
        find "$T" -name '*.tmp.*' -delete
    fi
    [ $ok -eq 1 ] && pass
    return 0
}

# summary: prints the counts; its status (the script's last command) is the
# test's result.
summary() {
    echo "$passed passed, $failed failed"
    [ "$failed" -eq 0 ]
}
