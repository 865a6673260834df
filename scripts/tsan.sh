#!/usr/bin/env bash
# ThreadSanitizer on the OpenMP kernels: builds with clang, libomp and
# -fsanitize=thread (CBCT_TSAN=ON) and runs the tests that drive the
# threaded kernels with 2 threads. libgomp (gcc's OpenMP) is not
# TSan-aware; libomp's Archer tool (OMP_TOOL_LIBRARIES) tells TSan about
# OpenMP's barriers, reductions and tasks. oneDNN (built on libgomp) is
# left out (-DCBCT_DNNL=OFF: the im2col + OpenBLAS path runs instead) and
# OpenBLAS runs one thread: neither is instrumented. A planted race is
# checked first, so a TSan that sees nothing cannot pass silently.
#     scripts/tsan.sh            (about 2 minutes on 2 cores)
set -euo pipefail
cd "$(dirname "$0")/.."

build=${CBCT_TSAN_BUILD:-build-tsan}
jobs=$(nproc)
archer=$(ls /usr/lib/llvm-*/lib/libarcher.so 2> /dev/null | sort -V | tail -1 || true)
if ! command -v clang > /dev/null || [ -z "$archer" ]; then
  echo "tsan.sh: needs clang and libomp-dev (libarcher.so); skipped" >&2
  exit 1
fi
export OMP_TOOL_LIBRARIES="$archer"
export TSAN_OPTIONS="halt_on_error=1 ignore_noninstrumented_modules=1 second_deadlock_stack=1"
export OPENBLAS_NUM_THREADS=1

# The kernels' tests whose results do not depend on the compiler.
# test_projector_adjoint and test_projector_simd are left out: they check
# that the scalar and AVX-512 paths give the same bits, which holds with gcc
# (scripts/test.sh) but not with clang, which contracts a * b + c into
# fused multiply-adds in other places.
tests=(test_projector_analytic test_fdk_kernels test_fdk_ball test_nn_kernels
       test_nn_kernels_fast test_phantom_voxelize test_phantom_walnut test_solver_operator
       test_solver_norm test_solver_cgls test_nn_tiling_drunet)

# 1. The canary: a race on purpose must be reported.
canary=$(mktemp -d)
trap 'rm -rf "$canary"' EXIT
cat > "$canary/race.c" <<'C'
#include <stdio.h>
int main(void)
{
    long sum = 0;
#pragma omp parallel for num_threads(2)
    for (int i = 0; i < 100000; i++)
        sum += i; /* unsynchronised on purpose */
    printf("%ld\n", sum);
    return 0;
}
C
clang -g -fsanitize=thread -fopenmp=libomp "$canary/race.c" -o "$canary/race"
if "$canary/race" > "$canary/log" 2>&1 || ! grep -q 'ThreadSanitizer: data race' "$canary/log"; then
  echo "tsan.sh: ThreadSanitizer did not report the planted race: the check is not working" >&2
  exit 1
fi
echo "tsan canary: planted race reported"

# 2. The kernels.
CC=clang cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCBCT_TSAN=ON \
      -DCBCT_DNNL=OFF -DCBCT_BENCH=OFF -DCBCT_WERROR=OFF > /dev/null
cmake --build "$build" -j "$jobs" --target "${tests[@]}"
regex="^($(IFS='|'; echo "${tests[*]}"))\$"
(cd "$build" && ctest --output-on-failure -j 1 -R "$regex")
