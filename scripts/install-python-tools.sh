#!/usr/bin/env bash
# Installs what the Python helper tools need (scripts/drunet_reference.py,
# scripts/convert_drunet.py): PyTorch (CPU) and NumPy from the Debian
# packages, for the system interpreter /usr/bin/python3 (a pyenv python3
# earlier on PATH does not see them: run the scripts with /usr/bin/python3).
# Safe to run again: it does nothing when both import already.
set -euo pipefail

PYTHON=/usr/bin/python3
PACKAGES=(python3-torch python3-numpy)

if "$PYTHON" -c 'import torch, numpy' >/dev/null 2>&1; then
  exit 0
fi

echo "install-python-tools: installing ${PACKAGES[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${PACKAGES[@]}"
"$PYTHON" -c 'import torch, numpy; print("torch", torch.__version__, "numpy", numpy.__version__)'
