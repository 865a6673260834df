#!/usr/bin/env bash
# Installs the peer codes that bench/peers/ compares cbct against, in a
# virtual environment OUTSIDE the repository (default ~/.cache/cbct-peers, or
# $CBCT_PEERS_VENV):
#   - RTK, the Reconstruction Toolkit (PyPI `itk-rtk`, which pulls `itk`):
#     Joseph forward / back-projection, voxel-based back-projection, FDK;
#   - PyTorch and NumPy come from Debian (python3-torch, python3-numpy, see
#     scripts/install-python-tools.sh) through --system-site-packages, so the
#     DRUNet comparison uses the same torch as scripts/drunet_reference.py.
# Needs network access (PyPI). Not run by CI. Safe to run again: it does
# nothing when the environment already imports itk, RTK, torch and numpy.
#
# Then:  "$CBCT_PEERS_VENV/bin/python" bench/peers/rtk_vs_cbct.py --help
set -euo pipefail

VENV="${CBCT_PEERS_VENV:-$HOME/.cache/cbct-peers}"
# Debian's interpreter: the one that sees python3-torch (a pyenv python3
# earlier on PATH would not).
BASE_PYTHON=/usr/bin/python3
CHECK='import itk, numpy, torch; itk.RTK.ThreeDCircularProjectionGeometry'

case "$VENV" in
  "$(cd "$(dirname "$0")/.." && pwd)"/*)
    echo "install-peers: $VENV is inside the repository; choose a folder outside it" >&2
    exit 2 ;;
esac

if [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c "$CHECK" >/dev/null 2>&1; then
  echo "install-peers: $VENV is ready"
  exit 0
fi

"$(dirname "$0")/install-python-tools.sh"
if [ ! -x "$VENV/bin/python" ]; then
  echo "install-peers: creating $VENV"
  mkdir -p "$(dirname "$VENV")"
  "$BASE_PYTHON" -m venv --system-site-packages "$VENV"
fi
"$VENV/bin/python" -m pip install --quiet --upgrade pip
"$VENV/bin/python" -m pip install --quiet itk-rtk
"$VENV/bin/python" -c "$CHECK"
"$VENV/bin/python" -c 'import itk, numpy, torch; print("itk", itk.Version.GetITKVersion(), "numpy", numpy.__version__, "torch", torch.__version__)'
echo "install-peers: ready: $VENV/bin/python"
