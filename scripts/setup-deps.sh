#!/usr/bin/env bash
# Installs the Debian 12 packages micronet-ad builds and tests with. Run as root (or with sudo).
# `setup-deps.sh --embedded` installs the bare-metal Arm toolchain (newlib and its C++ library)
# and QEMU's Arm system emulator for scripts/embedded.sh instead.
set -euo pipefail
if [ "${1:-}" = "--embedded" ]; then
  pkgs=(gcc-arm-none-eabi libnewlib-arm-none-eabi libstdc++-arm-none-eabi-newlib qemu-system-arm)
else
  pkgs=(
    build-essential cmake ninja-build pkg-config
    flatbuffers-compiler libflatbuffers-dev
    libsndfile1-dev libsoxr-dev libkissfft-dev libfftw3-dev libeigen3-dev libvorbis-dev libmpg123-dev
    libcli11-dev nlohmann-json3-dev libfmt-dev
    libgtest-dev libgmock-dev libbenchmark-dev
    clang libclang-rt-14-dev clang-format
    g++-aarch64-linux-gnu qemu-user
    libcpp-httplib-dev libboost-dev nettle-dev libasound2-dev alsa-utils
    libmosquitto-dev mosquitto mosquitto-clients openssl
    chromium fonts-dejavu-core libpng-dev
    pybind11-dev python3-pybind11 python3-dev python3-numpy python3-pytest python3-sklearn
    python3-setuptools python3-wheel python3-pip python3-venv
  )
fi
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
