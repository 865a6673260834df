#!/usr/bin/env bash
# Builds the libFuzzer harnesses (tests/fuzz, clang, ASan + UBSan) and runs
# each for a bounded time, one after the other:
#     scripts/fuzz.sh [SECONDS_PER_FUZZER]      (default 60)
# Each fuzzer starts from its seed corpus tests/fuzz/corpus/<parser>/ and the
# saved crashes tests/fuzz/regressions/<parser>/, and adds what it finds to
# a working corpus in the build folder (kept between runs, never committed).
# Prints and records, per fuzzer, the number of inputs tried
# ($CBCT_FUZZ_BUILD/fuzz-results.txt). Exits non-zero on any crash, leak,
# timeout or broken invariant; the input is then in $CBCT_FUZZ_BUILD/crashes/
# and belongs in tests/fuzz/regressions/<parser>/ once the parser is fixed
# (test_fuzz_regressions replays that folder in the normal test suite).
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-60}
build=${CBCT_FUZZ_BUILD:-build-fuzz}
jobs=$(nproc)
# An input that takes longer than this (seconds) is reported as a hang.
per_input_timeout=20
# libFuzzer's default: an input that needs more memory is a finding.
rss_limit_mb=2048

if ! command -v clang > /dev/null; then
  echo "fuzz.sh: clang is needed for libFuzzer (scripts/install-deps.sh installs it)" >&2
  exit 1
fi
# Warnings are the gcc builds' business (-Werror in scripts/test.sh); clang
# has warnings of its own that should not stop the fuzzing.
CC=clang cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCBCT_FUZZ=ON \
      -DCBCT_WERROR=OFF -DCBCT_TESTS=OFF -DCBCT_BENCH=OFF > /dev/null
cmake --build "$build" -j "$jobs" --target fuzzers

mkdir -p "$build/crashes"
results="$build/fuzz-results.txt"
echo "# fuzzer executions seconds corpus_files result ($(date -u +%Y-%m-%dT%H:%MZ))" > "$results"
status=0
for exe in "$build"/tests/fuzz/fuzz_*; do
  name=$(basename "$exe")
  parser=${name#fuzz_}
  work="$build/corpus/$parser"
  mkdir -p "$work"
  seeds=(tests/fuzz/corpus/"$parser")
  [ -d tests/fuzz/regressions/"$parser" ] && seeds+=(tests/fuzz/regressions/"$parser")
  log="$build/$name.log"
  result=ok
  # One thread: the parsers are serial, and two fuzzers' worth of OpenMP
  # threads on 2 cores would only slow the run.
  if ! OMP_NUM_THREADS=1 "$exe" -max_total_time="$seconds" -timeout="$per_input_timeout" \
         -rss_limit_mb="$rss_limit_mb" -print_final_stats=1 \
         -artifact_prefix="$build/crashes/$parser-" "$work" "${seeds[@]}" > "$log" 2>&1; then
    result=CRASH
    status=1
  fi
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  files=$(find "$work" -type f | wc -l)
  printf '%-20s %12s inputs in %4s s, corpus %5s files: %s\n' "$name" "${execs:-?}" \
         "$seconds" "$files" "$result"
  echo "$name ${execs:-0} $seconds $files $result" >> "$results"
  if [ "$result" != ok ]; then
    grep -m 5 -E 'ERROR|SUMMARY|fuzz target|Test unit written' "$log" >&2 || true
  fi
done
exit $status
