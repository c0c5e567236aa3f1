#!/usr/bin/env bash
# Builds the libFuzzer targets with clang into build-fuzz and runs them on a seed corpus made
# from the shared models and small generated profiles (copied into the build directory only).
# Exits non-zero on a crash.
#
#   scripts/fuzz.sh                 # model and profile loaders, FUZZ_SECONDS each (default 45)
#   FUZZ_SECONDS=600 scripts/fuzz.sh
#   FUZZ_TARGETS="model profile npy" scripts/fuzz.sh   # also the .npy parser
#   MICRONET_AD_FUZZ_MAX_MACS=100000000 scripts/fuzz.sh   # also invoke (mutated) real models
#
# Environment: FUZZ_SECONDS (per target), FUZZ_TARGETS (model, profile, npy), BUILD_DIR (default
# <repo>/build-fuzz), MICRONET_AD_SHARED (default <repo>/../shared), FUZZ_JOBS (parallel build jobs).
# A crash leaves its input in $BUILD_DIR/artifacts/; reproduce with
#   $BUILD_DIR/fuzz/fuzz_model_loader $BUILD_DIR/artifacts/crash-...   (or fuzz_profile_loader)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${BUILD_DIR:-$ROOT/build-fuzz}"
SHARED="${MICRONET_AD_SHARED:-$ROOT/../shared}"
# The default run (two targets) stays within CI's 90 s of fuzzing.
SECONDS_PER_TARGET="${FUZZ_SECONDS:-45}"
TARGETS="${FUZZ_TARGETS:-model profile}"

CC=clang CXX=clang++ cmake -S "$ROOT" -B "$BUILD" -G Ninja \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMICRONET_AD_FUZZ=ON -DMICRONET_AD_TESTS=OFF \
  -DMICRONET_AD_SHARED="$SHARED" >/dev/null

build_targets=()
for t in $TARGETS; do
  case "$t" in
    model) build_targets+=(fuzz_model_loader make_fuzz_seeds) ;;
    profile) build_targets+=(fuzz_profile_loader make_profile_seeds) ;;
    npy) build_targets+=(fuzz_npy_parser) ;;
    *) echo "fuzz.sh: unknown target '$t' (expected model, profile or npy)" >&2; exit 2 ;;
  esac
done
cmake --build "$BUILD" --target "${build_targets[@]}" -j "${FUZZ_JOBS:-2}"

mkdir -p "$BUILD/artifacts"

seed_model_corpus() {
  local dir="$BUILD/corpus/model_loader"
  mkdir -p "$dir"
  # Small valid models that run in microseconds, so mutants reach the kernels quickly.
  "$BUILD/fuzz/make_fuzz_seeds" "$dir"
  # The real models, whole and truncated (validated on every run; too slow to invoke by default).
  local m size
  for m in small medium large; do
    local src="$SHARED/models/ad_${m}_int8.tflite"
    [[ -f "$src" ]] || { echo "fuzz.sh: missing $src" >&2; exit 1; }
    cp "$src" "$dir/seed_ad_${m}.tflite"
    size=$(stat -c %s "$src")
    # A few truncated versions: header only, a third, a half, all but the last byte.
    head -c 64 "$src" >"$dir/seed_ad_${m}_head64.tflite"
    head -c $((size / 3)) "$src" >"$dir/seed_ad_${m}_third.tflite"
    head -c $((size / 2)) "$src" >"$dir/seed_ad_${m}_half.tflite"
    head -c $((size - 1)) "$src" >"$dir/seed_ad_${m}_minus1.tflite"
  done
  echo "$dir"
}

seed_profile_corpus() {
  local dir="$BUILD/corpus/profile_loader"
  mkdir -p "$dir"
  # Small valid profiles, each with mode byte 0 (as is) and 1 (harness fixes the CRC).
  "$BUILD/fuzz/make_profile_seeds" "$dir"
  echo "$dir"
}

seed_npy_corpus() {
  local dir="$BUILD/corpus/npy_parser"
  mkdir -p "$dir"
  local f
  for f in "$SHARED"/golden/engine/*.npy; do
    [[ -f "$f" ]] && cp "$f" "$dir/seed_$(basename "$f")"
  done
  printf '\x93NUMPY\x01\x00v\x00{'"'"'descr'"'"': '"'"'<f4'"'"', '"'"'fortran_order'"'"': False, '"'"'shape'"'"': (2,), }' \
    >"$dir/seed_handmade.npy"
  echo "$dir"
}

status=0
for t in $TARGETS; do
  case "$t" in
    model)
      corpus=$(seed_model_corpus)
      echo "== fuzz_model_loader for ${SECONDS_PER_TARGET}s on $corpus"
      "$BUILD/fuzz/fuzz_model_loader" -max_total_time="$SECONDS_PER_TARGET" -rss_limit_mb=2048 \
        -max_len=600000 -print_final_stats=1 -artifact_prefix="$BUILD/artifacts/" "$corpus" || status=$?
      ;;
    profile)
      corpus=$(seed_profile_corpus)
      echo "== fuzz_profile_loader for ${SECONDS_PER_TARGET}s on $corpus"
      "$BUILD/fuzz/fuzz_profile_loader" -max_total_time="$SECONDS_PER_TARGET" -rss_limit_mb=2048 \
        -max_len=4096 -print_final_stats=1 -artifact_prefix="$BUILD/artifacts/" "$corpus" || status=$?
      ;;
    npy)
      corpus=$(seed_npy_corpus)
      echo "== fuzz_npy_parser for ${SECONDS_PER_TARGET}s on $corpus"
      "$BUILD/fuzz/fuzz_npy_parser" -max_total_time="$SECONDS_PER_TARGET" -rss_limit_mb=2048 \
        -max_len=65536 -print_final_stats=1 -artifact_prefix="$BUILD/artifacts/" "$corpus" || status=$?
      ;;
  esac
  if [[ $status -ne 0 ]]; then
    echo "fuzz.sh: $t fuzzer failed (exit $status); see $BUILD/artifacts/" >&2
    exit "$status"
  fi
done
echo "fuzz.sh: no crashes"
