#!/usr/bin/env bash
# Installs the Debian packages cbct needs to build and test, when missing.
# Safe to run again: it does nothing when everything is there.
set -euo pipefail

PACKAGES=(
  build-essential cmake pkg-config  # compiler and build
  libfftw3-dev                      # FDK ramp filter
  libcjson-dev                      # geometry JSON
  libpng-dev                        # PNG previews
  libopenblas-dev                   # DRUNet convolutions (sgemm)
  libdnnl-dev                       # DRUNet convolutions (oneDNN; -DCBCT_DNNL=OFF to skip)
  libyaml-dev                       # configs (solvers)
  python3                           # test helpers
  libopenmpi-dev openmpi-bin        # distribution over MPI ranks
  libtiff-dev                       # TIFF stacks, Walnut projections
  libhdf5-dev                       # HDF5 datasets
  libnifti2-dev zlib1g-dev          # NIfTI-1 .nii / .nii.gz
  clang                             # libFuzzer harnesses (scripts/fuzz.sh)
  libomp-dev                        # ThreadSanitizer on OpenMP: libomp + Archer (scripts/tsan.sh)
  valgrind                          # memcheck of the command line (tests/cli_valgrind.sh)
  chromium                          # dashboard test (headless)
  python3-plotly                    # plotly.min.js embedded in dashboards
  libjs-chart.js                    # chart.min.js embedded by cbct dashboard (200 kB)
  slurm-wlm munge                   # tests/cli_slurm.sh: a one-node SLURM cluster on localhost
)

missing=()
for pkg in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
