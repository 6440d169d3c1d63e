#!/usr/bin/env bash
# Installs everything libLEM needs to build and test, from Debian 12 packages.
# Used by the README's two commands and by .ci/run. Safe to run again (apt is idempotent).
set -euo pipefail
PKGS=(
  build-essential cmake ninja-build pkg-config
  libeigen3-dev libxsimd-dev xtl-dev libfmt-dev catch2 pybind11-dev python3-dev
  nlohmann-json3-dev
  clang libclang-rt-14-dev   # libFuzzer + sanitizer runtimes for the fuzz smoke test
  zstd                        # test data is stored zstd-compressed
  python3-numpy               # tools/ scripts (grid table generation)
  tmux                        # the chat REPL test drives `lem chat` in a terminal
  abigail-tools               # abidw/abidiff: the ABI of libLEM.so is checked against a committed baseline
)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
