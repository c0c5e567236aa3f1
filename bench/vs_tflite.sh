#!/bin/bash
# micronet-ad against TensorFlow Lite + XNNPACK (../shared/peers/bench_tflite), measured in the same
# minute: ROUNDS interleaved rounds per model, each one `micronet-ad bench` run and one peer run
# of ITERATIONS inferences on one thread; prints the medians and the median of the per-round
# ratios (peer µs / ours µs), with the CPU and the kernels that ran. The peer also checks its
# outputs against the TFLite Micro goldens and says how many bytes differ. On a machine whose speed
# flips between runs (shared VMs), the per-round ratios spread; the ratio of the two fastest
# rounds (both engines at the machine's best) is printed too.
#   bash bench/vs_tflite.sh [BUILD_DIR]      ROUNDS=7 ITERATIONS=1000 MODELS="small medium large"
#   KERNELS=avx2 bash bench/vs_tflite.sh     # a level other than the best this CPU runs
set -euo pipefail
cd "$(dirname "$0")/.."
B=${1:-build}
S="${MICRONET_AD_SHARED:-$(cd .. && pwd)/shared}"
peer="$S/peers/bench_tflite"
[ -x "$peer" ] || { echo "peer benchmark not found: $peer" >&2; exit 1; }
echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | xargs) (family $(grep -m1 'cpu family' /proc/cpuinfo | cut -d: -f2 | xargs), model $(grep -m1 '^model\s' /proc/cpuinfo | cut -d: -f2 | xargs)); load: $(cut -d' ' -f1-3 /proc/loadavg)"
for m in ${MODELS:-small medium large}; do
  model="$S/models/ad_${m}_int8.tflite"
  rows=()
  for r in $(seq "${ROUNDS:-7}"); do
    ours=$("$B/micronet-ad" bench --model "$model" --kernels "${KERNELS:-auto}" --no-clip --json \
             --iterations "${ITERATIONS:-1000}" | python3 -c 'import json,sys; j=json.load(sys.stdin); print(j["median_us"], j["kernels"])')
    theirs=$("$peer" "$model" "$S/golden/engine/inputs_256x1024.i8" "$S/golden/engine/ad_${m}_outputs_256x8.i8" --xnnpack \
               --iters "${ITERATIONS:-1000}" 2>&1 | tail -1)
    rows+=("$ours|$theirs")
  done
  printf '%s\n' "${rows[@]}" | python3 -c '
import re, statistics, sys
m = sys.argv[1]
ours, peer, ratio, kernels, differ = [], [], [], "", ""
for line in sys.stdin:
    a, b = line.rstrip("\n").split("|", 1)
    us, kernels = a.split()
    t = float(re.search(r"median ([0-9.]+) us", b).group(1))
    differ = re.search(r"([0-9]+/[0-9]+) output bytes differ", b).group(1)
    ours.append(float(us)); peer.append(t); ratio.append(t / float(us))
print(f"ad_{m:6s} micronet-ad ({kernels}) {statistics.median(ours):8.1f} us   tflite+xnnpack {statistics.median(peer):8.1f} us"
      f" ({differ} bytes differ)   ratio {statistics.median(ratio):.2f}x (rounds {min(ratio):.2f}..{max(ratio):.2f});"
      f" fastest rounds {min(ours):.1f} / {min(peer):.1f} us = {min(peer) / min(ours):.2f}x")
' "$m"
done
