#!/usr/bin/env bash
# Builds the libFuzzer targets with clang into build-fuzz and runs them on a seed corpus made
# from the shared models and small generated profiles (copied into the build directory only).
# Exits non-zero on a crash.
#
#   scripts/fuzz.sh                 # model, profile, audio and http, FUZZ_SECONDS each (default 30)
#   FUZZ_SECONDS=600 scripts/fuzz.sh
#   FUZZ_TARGETS="model profile npy" scripts/fuzz.sh   # also the .npy parser
#   FUZZ_TARGETS=audio scripts/fuzz.sh   # the audio decoding wrapper (load_audio_memory)
#   FUZZ_TARGETS=http scripts/fuzz.sh    # the service's HTTP request, query and multipart parsing
#   FUZZ_TARGETS=mqtt scripts/fuzz.sh    # a fleet worker's handling of one MQTT clip message
#   MICRONET_AD_FUZZ_MAX_MACS=100000000 scripts/fuzz.sh   # also invoke (mutated) real models
#
# Environment: FUZZ_SECONDS (per target), FUZZ_TARGETS (model, profile, npy, audio, http, mqtt), BUILD_DIR (default
# <repo>/build-fuzz), MICRONET_AD_SHARED (default <repo>/../shared), FUZZ_JOBS (parallel build jobs).
# A crash leaves its input in $BUILD_DIR/artifacts/; reproduce with
#   $BUILD_DIR/fuzz/fuzz_model_loader $BUILD_DIR/artifacts/crash-...   (or fuzz_profile_loader)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${BUILD_DIR:-$ROOT/build-fuzz}"
SHARED="${MICRONET_AD_SHARED:-$ROOT/../shared}"
# The default run (five parsers of untrusted input) stays within CI's 2 minutes of fuzzing.
SECONDS_PER_TARGET="${FUZZ_SECONDS:-30}"
TARGETS="${FUZZ_TARGETS:-model profile audio http mqtt}"

CC=clang CXX=clang++ cmake -S "$ROOT" -B "$BUILD" -G Ninja \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMICRONET_AD_FUZZ=ON -DMICRONET_AD_TESTS=OFF \
  -DMICRONET_AD_SHARED="$SHARED" >/dev/null

build_targets=()
for t in $TARGETS; do
  case "$t" in
    model) build_targets+=(fuzz_model_loader make_fuzz_seeds) ;;
    profile) build_targets+=(fuzz_profile_loader make_profile_seeds) ;;
    npy) build_targets+=(fuzz_npy_parser) ;;
    audio) build_targets+=(fuzz_audio_decoder make_audio_seeds) ;;
    http) build_targets+=(fuzz_http_request) ;;
    mqtt) build_targets+=(fuzz_mqtt_clip make_audio_seeds) ;;
    *) echo "fuzz.sh: unknown target '$t' (expected model, profile, npy, audio, http or mqtt)" >&2; exit 2 ;;
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

seed_audio_corpus() {
  local dir="$BUILD/corpus/audio_decoder"
  mkdir -p "$dir"
  # Tiny files of every decoder path, written from a synthetic signal.
  "$BUILD/fuzz/make_audio_seeds" "$dir"
  echo "$dir"
}

seed_http_corpus() {
  local dir="$BUILD/corpus/http_request"
  mkdir -p "$dir"
  # First byte: 0 a whole request, 1 a multipart body (boundary XyZ), 2 a query string.
  local form='--XyZ\r\nContent-Disposition: form-data; name="clip"; filename="a.wav"\r\nContent-Type: audio/wav\r\n\r\nRIFF\r\n--XyZ--\r\n'
  printf '\x00POST /v1/score?machine_id=00&name=a%%20b.wav HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nRIFF' >"$dir/seed_post"
  printf '\x00PUT /v1/machines/fan?rank=compact HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nRIFF\r\n0\r\n\r\n' >"$dir/seed_chunked"
  printf '\x00PUT /v1/machines/fan HTTP/1.1\r\nContent-Type: multipart/form-data; boundary=XyZ\r\nContent-Length: 112\r\n\r\n'"$form" >"$dir/seed_multipart_request"
  printf '\x00GET /healthz HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n' >"$dir/seed_two_lengths"
  printf '\x01'"$form" >"$dir/seed_multipart_body"
  printf '\x02machine_id=00&name=my+clip%%2Ewav&&flag' >"$dir/seed_query"
  echo "$dir"
}

seed_mqtt_corpus() {
  local dir="$BUILD/corpus/mqtt_clip"
  mkdir -p "$dir"
  # topic NUL clip_id NUL machine_id NUL captured_at NUL payload: the audio seeds as payloads of a
  # known machine, plus bad topics and machine ids.
  local audio f n=0
  audio=$(seed_audio_corpus)
  for f in "$audio"/*; do
    { printf 'micronet-ad/v1/m%d/clip\0c%d\0%s\0%s\0' "$n" "$n" 00 2026-12-01T00:00:00Z; cat "$f"; } >"$dir/seed_clip_$n"
    n=$((n + 1))
  done
  printf 'micronet-ad/v1/slider_id_04/clip\0\0\0\0RIFF' >"$dir/seed_dcase_name"
  printf 'micronet-ad/v1/pump7/clip\0x\0%s\0\0RIFF' 07 >"$dir/seed_unknown_id"
  printf 'micronet-ad/v1/a/b/clip\0\0\0\0' >"$dir/seed_bad_topic"
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
    audio)
      corpus=$(seed_audio_corpus)
      echo "== fuzz_audio_decoder for ${SECONDS_PER_TARGET}s on $corpus"
      "$BUILD/fuzz/fuzz_audio_decoder" -max_total_time="$SECONDS_PER_TARGET" -rss_limit_mb=2048 \
        -max_len=65536 -print_final_stats=1 -artifact_prefix="$BUILD/artifacts/" "$corpus" || status=$?
      ;;
    http)
      corpus=$(seed_http_corpus)
      echo "== fuzz_http_request for ${SECONDS_PER_TARGET}s on $corpus"
      "$BUILD/fuzz/fuzz_http_request" -max_total_time="$SECONDS_PER_TARGET" -rss_limit_mb=2048 \
        -max_len=8192 -print_final_stats=1 -artifact_prefix="$BUILD/artifacts/" "$corpus" || status=$?
      ;;
    mqtt)
      corpus=$(seed_mqtt_corpus)
      echo "== fuzz_mqtt_clip for ${SECONDS_PER_TARGET}s on $corpus"
      "$BUILD/fuzz/fuzz_mqtt_clip" -max_total_time="$SECONDS_PER_TARGET" -rss_limit_mb=2048 \
        -max_len=65536 -print_final_stats=1 -artifact_prefix="$BUILD/artifacts/" "$corpus" || status=$?
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
