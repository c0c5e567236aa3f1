#!/bin/bash
# The speed table: reference vs AVX2 vs the best kernels per model, achieved G MAC/s
# against 233 and against this core's measured vpdpbusd peak, arena, ms per 10 s clip, 2-worker
# scaling. Usage: bash bench/speed_table.sh [BUILD_DIR]  (a Release build; configure it with
# -DMICRONET_AD_BENCH=ON to get the peak column). Run it on an idle machine.
set -e
cd "$(dirname "$0")/.."
B=${1:-build}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
echo "load before: $(uptime)"
peak=""
if [ -x $B/bench/micronet_ad_kernel_bench ]; then
  peak=$($B/bench/micronet_ad_kernel_bench --benchmark_filter=Peak --benchmark_repetitions=5 --benchmark_report_aggregates_only=true --benchmark_format=json 2>/dev/null \
    | python3 -c "import json,sys; j=json.load(sys.stdin); print([b for b in j['benchmarks'] if b['name'].endswith('_median')][0]['MAC/s'])")
fi
for m in small medium large; do
  $B/micronet-ad bench --model $m --kernels reference --no-clip --iterations 100 --json > $out/$m-ref.json
  $B/micronet-ad bench --model $m --kernels avx2 --no-clip --json > $out/$m-avx2.json
  $B/micronet-ad bench --model $m --json > $out/$m-auto.json
done
python3 - "$peak" "$out" <<'PY'
import json,sys
peak=float(sys.argv[1]) if sys.argv[1] else None
out=sys.argv[2]
print("| model | reference µs | AVX2 µs | AVX-512 VNNI µs (p90) | speed-up | GMAC/s | of 233 | of measured peak | arena B | clip ms/10 s | 2-worker scaling |")
print("|---|---|---|---|---|---|---|---|---|---|---|")
for m in ["small","medium","large"]:
    r=json.load(open(f"{out}/{m}-ref.json")); a2=json.load(open(f"{out}/{m}-avx2.json")); a=json.load(open(f"{out}/{m}-auto.json"))
    g=a['macs_per_second']/1e9; c=a['clip']; s=c['scaling']
    pk=f"{g/(peak/1e9)*100:.0f} % of {peak/1e9:.0f}" if peak else "-"
    print(f"| {m} | {r['median_us']:,.0f} | {a2['median_us']:,.0f} | {a['median_us']:.1f} ({a['p90_us']:.0f}) | {r['median_us']/a['median_us']:.0f}× | {g:.0f} | {g/233*100:.0f} % | {pk} | {a.get('arena_bytes','?'):,} | {c['ms_per_10s']:.2f} | {s['speedup']:.2f}× |")
for m in ["small","medium","large"]:
    a=json.load(open(f"{out}/{m}-auto.json"))
    print(m, "per-op µs:", [round(o['median_us'],1) for o in a['ops']], "clip stages:", {k:round(v,3) for k,v in a['clip'].items() if k.endswith('_ms')})
PY
echo "load after: $(uptime)"
