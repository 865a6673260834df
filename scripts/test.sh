#!/usr/bin/env bash
# Builds and runs every test: a Release build with warnings as errors, then
# the same tests again under AddressSanitizer + UndefinedBehaviorSanitizer,
# then valgrind memcheck on the command line, ThreadSanitizer on the OpenMP
# kernels, and each libFuzzer harness for a bounded time (docs/reliability.md).
# Long runs are behind the ctest label "long" (scripts/test.sh --long runs
# them too, and fuzzes longer). CBCT_FUZZ_SECONDS sets the fuzzing time per
# parser (default 20 s; 60 s with --long); CBCT_BUILD_PREFIX names the build
# folders (default "build": build-test, build-asan, ...). Exits non-zero on
# any failure.
set -euo pipefail
cd "$(dirname "$0")/.."

jobs=$(nproc)
b=${CBCT_BUILD_PREFIX:-build}
export CBCT_TSAN_BUILD="$b-tsan" CBCT_FUZZ_BUILD="$b-fuzz"
# valgrind has a build of its own (below); its label is left out elsewhere.
label_args=(-LE 'long|valgrind')
fuzz_seconds=${CBCT_FUZZ_SECONDS:-20}
if [ "${1:-}" = "--long" ]; then
  label_args=(-LE valgrind)
  fuzz_seconds=${CBCT_FUZZ_SECONDS:-60}
fi
started=$(date +%s)
stage() { echo "== $1 ($(( $(date +%s) - started )) s so far) =="; }

scripts/install-deps.sh

stage "Release build (-Werror)"
cmake -S . -B "$b-test" -DCMAKE_BUILD_TYPE=Release -DCBCT_WERROR=ON > /dev/null
cmake --build "$b-test" -j "$jobs"
(cd "$b-test" && ctest --output-on-failure -j "$jobs" "${label_args[@]}")

stage "AddressSanitizer + UndefinedBehaviorSanitizer"
cmake -S . -B "$b-asan" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCBCT_WERROR=ON \
      -DCBCT_SANITIZE=ON -DCBCT_BENCH=OFF > /dev/null
cmake --build "$b-asan" -j "$jobs"
(cd "$b-asan" && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
   UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
   ctest --output-on-failure -j "$jobs" "${label_args[@]}")

stage "valgrind memcheck (command line; build without -march=native)"
cmake -S . -B "$b-valgrind" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCBCT_NATIVE=OFF \
      -DCBCT_WERROR=ON -DCBCT_BENCH=OFF > /dev/null
cmake --build "$b-valgrind" -j "$jobs" --target cbct_tool
(cd "$b-valgrind" && ctest --output-on-failure -L valgrind | tee valgrind.log)
# A skipped memcheck (exit 77: no valgrind, or an unknown instruction) must
# not pass CI as if it had run.
grep -q 'cli_valgrind .* Passed' "$b-valgrind/valgrind.log" ||
  { echo "test.sh: the valgrind test did not run (see above)" >&2; exit 1; }

stage "Portable build (no -march=native): the C paths of the SIMD kernels"
portable_tests="test_nn_winograd_x test_nn_kernels_fast test_nn_shipped_model test_nn_drunet_reference"
portable_tests="$portable_tests test_projector_simd test_projector_adjoint"
cmake --build "$b-valgrind" -j "$jobs" --target $portable_tests
(cd "$b-valgrind" && ctest --output-on-failure -R "^(${portable_tests// /|})\$")

stage "ThreadSanitizer (OpenMP kernels; clang + libomp)"
scripts/tsan.sh

stage "libFuzzer, $fuzz_seconds s per parser"
scripts/fuzz.sh "$fuzz_seconds"

stage "all passed"
