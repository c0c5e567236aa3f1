#!/usr/bin/env bash
# Sets up, builds and runs every test: the Release build, the same tests under AddressSanitizer
# and UBSan, short libFuzzer runs of the parsers of untrusted input (models, profiles, audio, HTTP
# requests, MQTT clip messages), the Cortex-M firmware under QEMU and the AArch64 NEON levels under
# qemu-aarch64. Shared data: $MICRONET_AD_SHARED or
# ../shared beside the checkout.
set -euo pipefail
source "$(dirname "$0")/shared_data.sh"  # cd to the top, MICRONET_AD_SHARED checked
jobs=$(nproc)
# Each stage's wall time, so the CI budget (45 min on 2 cores) can be watched stage by stage.
stage_start=$SECONDS
stage() {
  echo "   ($(( SECONDS - stage_start )) s)"
  stage_start=$SECONDS
  echo "== $1"
}

bash scripts/setup-deps.sh

stage "Release build and tests"
# With the Python module (Debian's python3, which the python3-* packages serve); ctest runs its
# pytest suite (tests/python) as the test python_pytest. The kernel benchmarks are built (not run)
# so that the measurements docs/kernels.md cites keep compiling.
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DMICRONET_AD_SHARED="$MICRONET_AD_SHARED" \
      -DMICRONET_AD_PYTHON=ON -DPython3_EXECUTABLE=/usr/bin/python3 -DMICRONET_AD_BENCH=ON >/dev/null
cmake --build build -j"$jobs"
ctest --test-dir build --output-on-failure -j"$jobs"

stage "AddressSanitizer + UBSan build and tests"
cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMICRONET_AD_SANITIZE=ON \
      -DMICRONET_AD_SHARED="$MICRONET_AD_SHARED" >/dev/null
cmake --build build-asan -j"$jobs"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-asan --output-on-failure -j"$jobs"

if [ -f scripts/fuzz.sh ]; then
  stage "libFuzzer: model loader, profile parser, audio decoding, HTTP requests, MQTT clips (${FUZZ_SECONDS:-16} s each)"
  FUZZ_SECONDS="${FUZZ_SECONDS:-16}" bash scripts/fuzz.sh
fi
stage "Cortex-M4F/M55 firmware under QEMU"
bash scripts/embedded.sh  # the core on Cortex-M4F/M55 under QEMU, byte-equal to the golden data
stage "AArch64 NEON levels under qemu-aarch64"
bash scripts/aarch64.sh   # neon and neon_dotprod: kernel sweep and golden models, byte-equal
stage "all tests passed in $SECONDS s"
