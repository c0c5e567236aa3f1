#!/usr/bin/env bash
# Installs the Debian 12 packages of the embedded build (scripts/embedded.sh): the bare-metal Arm
# toolchain with newlib and its C++ library, and QEMU's Arm system emulator. Run as root (or with
# sudo). The host packages (cmake, ninja, flatc, flatbuffers headers) come from setup-deps.sh.
set -euo pipefail
pkgs=(gcc-arm-none-eabi libnewlib-arm-none-eabi libstdc++-arm-none-eabi-newlib qemu-system-arm)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
