#!/usr/bin/env bash
# Fleet benchmark (docs/fleet.md; not in CI): a private mosquitto with TLS and passwords on a free
# loopback port, `micronet-ad worker`s (one session each) and the fleet simulator publishing the
# shared 10 s slider clips. Measures a worker's capacity (clips/s, and per core from its CPU
# time), 1 → 2 workers, end-to-end latency p50/p99 at 50 % and 90 % of the 2-worker capacity,
# and the broker's CPU share.  Usage: bench/fleet/run.sh [BUILD_DIR] [CLIPS]
set -euo pipefail
BUILD=${1:-build}
CLIPS=${2:-2000}
CLI="$(cd "$BUILD" && pwd)/micronet-ad"
SHARED=${MICRONET_AD_SHARED:-$(cd "$(dirname "$0")/../../.." && pwd)/shared}
WAVS=("$SHARED"/data/dcase2020_task2/slider/train/normal_id_00_0000000*.wav)
export PATH=/usr/sbin:$PATH
DIR=$(mktemp -d /tmp/micronet_ad_fleet_bench.XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]}" "${W1:-}" "${W2:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
EC="-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
openssl req -x509 $EC -days 2 -subj /CN=bench-ca -keyout "$DIR/ca.key" -out "$DIR/ca.crt" 2>/dev/null
echo "subjectAltName=IP:127.0.0.1" > "$DIR/ext"
openssl req $EC -subj /CN=127.0.0.1 -keyout "$DIR/server.key" -out "$DIR/server.csr" 2>/dev/null
openssl x509 -req -in "$DIR/server.csr" -CA "$DIR/ca.crt" -CAkey "$DIR/ca.key" -CAcreateserial -days 2 \
  -extfile "$DIR/ext" -out "$DIR/server.crt" 2>/dev/null
echo bench-password > "$DIR/password"
mosquitto_passwd -c -b "$DIR/passwd" bench bench-password
cat > "$DIR/mosquitto.conf" <<CONF
user $(id -un)
listener $PORT 127.0.0.1
cafile $DIR/ca.crt
certfile $DIR/server.crt
keyfile $DIR/server.key
allow_anonymous false
password_file $DIR/passwd
persistence true
persistence_location $DIR/
set_tcp_nodelay true
max_queued_messages 1000000
log_dest file $DIR/broker.log
CONF
mosquitto -c "$DIR/mosquitto.conf" 2>/dev/null & BROKER=$!; PIDS+=($BROKER)
sleep 0.5
OPTS=(--broker "mqtts://127.0.0.1:$PORT" --cafile "$DIR/ca.crt" --username bench --password-file "$DIR/password")

cpu_ticks() { awk '{print $14+$15}' "/proc/$1/stat"; }
start_worker() {
  "$CLI" worker "${OPTS[@]}" --id "$1" --group bench --threads 1 > "$DIR/$1.out" 2> "$DIR/$1.err" & PIDS+=($!)
  for _ in $(seq 100); do grep -q joined "$DIR/$1.out" 2>/dev/null && break; sleep 0.1; done
  echo $!
}
# run NAME RATE CLIPS WORKER_PIDS... : prints the simulator's report with CPU seconds added.
run() {
  local name=$1 rate=$2 clips=$3; shift 3
  local hz; hz=$(getconf CLK_TCK)
  local b0; b0=$(cpu_ticks "$BROKER"); local w0=0 p
  for p in "$@"; do w0=$((w0 + $(cpu_ticks "$p"))); done
  "$CLI" publish "${OPTS[@]}" --run-id "$name" --machines 1000 --clips "$clips" --rate "$rate" --machine-id 00 \
    "${WAVS[@]}" > "$DIR/$name.json"
  local b1; b1=$(cpu_ticks "$BROKER"); local w1=0
  for p in "$@"; do w1=$((w1 + $(cpu_ticks "$p"))); done
  python3 - "$DIR/$name.json" "$(( b1 - b0 ))" "$(( w1 - w0 ))" "$hz" "$name" <<'PY'
import json, sys
r = json.load(open(sys.argv[1])); broker, workers, hz, name = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
wall = r["seconds"]; answered = r["scored"] + r["errors"]
cpu_w = workers / hz; cpu_b = broker / hz
print(f"{name:>14}: {answered} clips in {wall:.2f} s = {r['throughput']:.1f} clips/s; lost {r['lost']}, dup {r['duplicates']}; "
      f"latency p50 {r['latency_p50_ms']:.1f} ms p99 {r['latency_p99_ms']:.1f} ms; "
      f"worker CPU {cpu_w:.2f} s ({answered / cpu_w if cpu_w else 0:.0f} clips per CPU-second); "
      f"broker CPU {cpu_b:.2f} s = {100 * cpu_b / max(cpu_b + cpu_w, 1e-9):.1f} % of broker+workers, {100 * cpu_b / wall:.1f} % of a core")
PY
}

W1=$(start_worker bench-w1)
run one-worker 0 "$CLIPS" "$W1"
W2=$(start_worker bench-w2)
run two-workers 0 "$CLIPS" "$W1" "$W2"
CAP=$(python3 -c "import json; print(json.load(open('$DIR/two-workers.json'))['throughput'])")
for pct in 50 90; do
  RATE=$(python3 -c "print(round($CAP * $pct / 100, 1))")
  N=$(python3 -c "print(int($CAP * $pct / 100 * 15))")  # 15 s of load
  run "at-${pct}pct-${RATE}-per-s" "$RATE" "$N" "$W1" "$W2"
done
echo "details: $DIR"
