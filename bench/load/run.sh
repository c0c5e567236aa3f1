#!/usr/bin/env bash
# Load test of `micronet-ad serve` and latency of `micronet-ad stream` (not part of CI).
#   bench/load/run.sh [BUILD_DIR]      (default: build; needs build/micronet-ad)
# Env: SECONDS_PER_RUN (default 10), THREADS (default "1 2 8"), WORKERS (server, default: cores).
# Builds bench/load/load_client against Debian's cpp-httplib, starts the server on a free port,
# runs the client against /v1/score (a real 10 s slider clip) and /healthz, stops the server with
# SIGTERM; then writes 30 s of clips in real time into `stream -` and prints its summary line
# (latency_ms: from the read that delivered a window's last sample to the window's line).
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build}
cli="$build/micronet-ad"
[ -x "$cli" ] || { echo "no $cli: build the project first" >&2; exit 1; }
export MICRONET_AD_SHARED="${MICRONET_AD_SHARED:-$(cd .. && pwd)/shared}"
clip="$MICRONET_AD_SHARED/data/dcase2020_task2/slider/test/normal_id_00_00000000.wav"
[ -f "$clip" ] || { echo "missing $clip" >&2; exit 1; }
seconds=${SECONDS_PER_RUN:-10}
work=$(mktemp -d)
server_pid=""
cleanup() { [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

echo "== building load_client"
# shellcheck disable=SC2046
g++ -O2 -std=c++17 -Wall -Wextra bench/load/load_client.cc -o "$work/load_client" \
  $(pkg-config --cflags --libs cpp-httplib) -pthread

echo "== serve on $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs))"
"$cli" serve --listen 127.0.0.1:0 ${WORKERS:+--workers "$WORKERS"} --max-queue 1024 >"$work/serve.out" 2>"$work/serve.err" &
server_pid=$!
for _ in $(seq 100); do grep -q listening "$work/serve.out" && break; sleep 0.1; done
port=$(sed -n 's/.*listening on http:\/\/127\.0\.0\.1:\([0-9]*\).*/\1/p' "$work/serve.out")
[ -n "$port" ] || { cat "$work/serve.err" >&2; exit 1; }
head -1 "$work/serve.out"
for threads in ${THREADS:-1 2 8}; do
  "$work/load_client" --port "$port" --threads "$threads" --seconds "$seconds" --clip "$clip"
done
"$work/load_client" --port "$port" --threads 8 --seconds "$seconds" --endpoint /healthz
kill -TERM "$server_pid"; wait "$server_pid"; server_pid=""
cat "$work/serve.err"

echo "== stream: 30 s of slider clips written in real time (512-sample chunks every 32 ms) into stream -"
clips=("$MICRONET_AD_SHARED"/data/dcase2020_task2/slider/test/*.wav
       "$MICRONET_AD_SHARED"/data/dcase2020_task2/slider/train/normal_id_00_00000000.wav)
python3 - "${clips[@]}" <<'EOF' | "$cli" stream - --machine-id 00 | tail -1
import sys, time, wave
data = b""
for path in sys.argv[1:]:
    with wave.open(path) as w:
        data += w.readframes(w.getnframes())
chunk = 512 * 2
start = time.monotonic()
for i in range(0, len(data), chunk):
    time.sleep(max(0.0, start + (i // chunk) * 0.032 - time.monotonic()))
    sys.stdout.buffer.write(data[i:i + chunk])
    sys.stdout.buffer.flush()
EOF
