#!/bin/bash
# The speed table: reference vs AVX2 vs the best kernels per model, achieved G MAC/s against
# this core's peak with the level's instruction (measured by `bench` in the same run), arena, ms
# per 10 s clip, 2-worker scaling. Usage: bash bench/speed_table.sh [BUILD_DIR]  (a Release
# build). Run it on an idle machine.
set -e
cd "$(dirname "$0")/.."
B=${1:-build}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
echo "load before: $(uptime)"
for m in small medium large; do
  $B/micronet-ad bench --model $m --kernels reference --no-clip --iterations 100 --json > $out/$m-ref.json
  $B/micronet-ad bench --model $m --kernels avx2 --no-clip --json > $out/$m-avx2.json
  $B/micronet-ad bench --model $m --json > $out/$m-auto.json
done
python3 - "$out" <<'PY'
import json,sys
out=sys.argv[1]
print("| model | reference µs | AVX2 µs | AVX-512 VNNI µs (p90) | speed-up | GMAC/s | of this core's peak | arena B | clip ms/10 s | 2-worker scaling |")
print("|---|---|---|---|---|---|---|---|---|---|")
for m in ["small","medium","large"]:
    r=json.load(open(f"{out}/{m}-ref.json")); a2=json.load(open(f"{out}/{m}-avx2.json")); a=json.load(open(f"{out}/{m}-auto.json"))
    g=a['macs_per_second']/1e9; c=a['clip']; s=c['scaling']
    peak=a.get('peak_macs_per_second')
    pk=f"{g/(peak/1e9)*100:.0f} % of {peak/1e9:.0f} ({a['peak_instruction']})" if peak else "-"
    print(f"| {m} | {r['median_us']:,.0f} | {a2['median_us']:,.0f} | {a['median_us']:.1f} ({a['p90_us']:.0f}) | {r['median_us']/a['median_us']:.0f}× | {g:.0f} | {pk} | {a.get('arena_bytes','?'):,} | {c['ms_per_10s']:.2f} | {s['speedup']:.2f}× |")
for m in ["small","medium","large"]:
    a=json.load(open(f"{out}/{m}-auto.json"))
    print(m, "per-op µs:", [round(o['median_us'],1) for o in a['ops']], "clip stages:", {k:round(v,3) for k,v in a['clip'].items() if k.endswith('_ms')})
PY
echo "load after: $(uptime)"
