#!/usr/bin/env bash
# One command on a fresh machine: install what is missing, build, and run
# the main job on its embedded default (a simulated 50-view cone-beam scan of
# a walnut-like phantom, reconstructed by FDK; prints PSNR/SSIM and writes
# axial and coronal PNG previews to out/demo/).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release > /dev/null
cmake --build build -j "$(nproc)"
build/cbct demo -o out/demo "$@"
