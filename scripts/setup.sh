#!/usr/bin/env bash
# One command on a fresh machine: install what is missing, build, and run
# the main job on its embedded default: a simulated 50-view cone-beam scan
# of a walnut-like phantom reconstructed by FDK (out/demo/), then the
# sparse-view reconstruction of configs/tomography_3d.yml: pseudo-inverse
# initialisation and Plug-and-Play with the shipped 3D DRUNet (out/recon/).
# Each prints PSNR/SSIM and writes axial and coronal PNG previews.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release > /dev/null
cmake --build build -j "$(nproc)"
build/cbct demo -o out/demo "$@"
build/cbct recon configs/tomography_3d.yml -o out/recon
