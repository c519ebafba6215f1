#!/usr/bin/env bash
# Installs the Debian 12 packages comb needs, and only those that are missing.
# Used by `make demo` and `make test`; safe to run repeatedly (a no-op when all is present).
set -euo pipefail

PACKAGES=(
  build-essential cmake pkg-config
  gcc-arm-none-eabi libnewlib-arm-none-eabi binutils-arm-none-eabi
  qemu-system-arm
  libsqlite3-dev sqlite3
  libserialport-dev libftdi1-dev libusb-1.0-0-dev
  gnuplot-nox
  chromium                 # comb dashboard's page test (tests/e2e/test_dashboard.py)
  python3 python3-pytest
  valgrind
  clang libclang-rt-14-dev
)

missing=()
for p in "${PACKAGES[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done

if ((${#missing[@]} == 0)); then
  exit 0
fi

echo "bootstrap: installing missing packages: ${missing[*]}" >&2
SUDO=()
if [[ $(id -u) -ne 0 ]]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO=(sudo)
  else
    echo "bootstrap: not root and sudo is not available; install: ${missing[*]}" >&2
    exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -qq
"${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "bootstrap: done" >&2
