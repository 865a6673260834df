#!/usr/bin/env bash
# Builds and runs every test: a Release build with warnings as errors, then
# the same tests again under AddressSanitizer + UndefinedBehaviorSanitizer.
# Long runs are behind the ctest label "long" (scripts/test.sh --long runs
# them too). Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."

jobs=$(nproc)
label_args=(-LE long)
if [ "${1:-}" = "--long" ]; then
  label_args=()
fi

scripts/install-deps.sh

echo "== Release build (-Werror) =="
cmake -S . -B build-test -DCMAKE_BUILD_TYPE=Release -DCBCT_WERROR=ON > /dev/null
cmake --build build-test -j "$jobs"
(cd build-test && ctest --output-on-failure -j "$jobs" "${label_args[@]}")

echo "== AddressSanitizer + UndefinedBehaviorSanitizer =="
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCBCT_WERROR=ON \
      -DCBCT_SANITIZE=ON -DCBCT_BENCH=OFF > /dev/null
cmake --build build-asan -j "$jobs"
(cd build-asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
   UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
   ctest --output-on-failure -j "$jobs" "${label_args[@]}")
