#!/usr/bin/env bash
# The AArch64 NEON kernel levels (src/core/kernels/arm_neon) checked where they run: cross-builds
# the core and its two checks (tests/aarch64: the portable kernel sweep and the 256-input golden
# test of ad_small/ad_medium/ad_large) with Debian's aarch64-linux-gnu-g++, statically, and runs
# them under qemu-aarch64 on two CPUs at once:
#   -cpu max         has dotprod: the sweep runs both levels (neon, neon_dotprod), the golden
#                    test runs neon_dotprod (the level `auto` picks there);
#   -cpu cortex-a53  Armv8.0, no dotprod: neon_dotprod must be refused (cpu_supports), the sweep
#                    and the golden test run neon.
# Exits non-zero on any byte that differs from the reference kernels or TFLite Micro.
#   bash scripts/aarch64.sh
#   INSN_COUNTS=1 bash scripts/aarch64.sh   # also instructions per inference (TCG plugin), per level
#   JOBS=1 AARCH64_BUILD_DIR=build-aarch64-mine bash scripts/aarch64.sh
set -euo pipefail
source "$(dirname "$0")/shared_data.sh"  # cd to the top, MICRONET_AD_SHARED checked
dir="${AARCH64_BUILD_DIR:-build-aarch64}"
JOBS="${JOBS:-2}"
QEMU_TIMEOUT="${QEMU_TIMEOUT:-600}"
start=$SECONDS

bash scripts/setup-deps.sh  # g++-aarch64-linux-gnu, qemu-user, flatbuffers-compiler among the rest

echo "== aarch64: cross build (core + kernel_sweep + golden) in $dir"
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
cmake -S tests/aarch64 -B "$dir" -G Ninja -DCMAKE_TOOLCHAIN_FILE="$PWD/cmake/aarch64-linux-gnu.cmake" \
      -DCMAKE_BUILD_TYPE=Release "${launcher[@]}" >/dev/null
cmake --build "$dir" -j "$JOBS" --target kernel_sweep golden
echo "   built in $((SECONDS - start)) s"

# run CPU NAME PROGRAM ARGS...: one program under qemu-aarch64, its log in $dir/NAME.log.
run() {
  local cpu="$1" name="$2"
  shift 2
  timeout "$QEMU_TIMEOUT" qemu-aarch64 -cpu "$cpu" "$@" >"$dir/$name.log" 2>&1 </dev/null
}
# Both CPUs at once (one core each): the sweep, then the golden test of the CPU's own level.
( run max sweep-max "$dir/kernel_sweep" && run max golden-max "$dir/golden" "$MICRONET_AD_SHARED" neon_dotprod ) &
pid_max=$!
( run cortex-a53 sweep-a53 "$dir/kernel_sweep" && run cortex-a53 golden-a53 "$dir/golden" "$MICRONET_AD_SHARED" neon ) &
pid_a53=$!
rc_max=0; rc_a53=0
wait "$pid_max" || rc_max=$?
wait "$pid_a53" || rc_a53=$?

passed=0; failed=0
# check NAME WHAT PATTERN...: the log must exist, end in PASS, and hold every pattern.
check() {
  local name="$1" what="$2" log="$dir/$1.log"
  shift 2
  echo "== aarch64: $what"
  [ -f "$log" ] && cat "$log"
  local ok=1
  [ -f "$log" ] && grep -q '^PASS:' "$log" || ok=0
  for pattern in "$@"; do grep -q "$pattern" "$log" 2>/dev/null || { echo "missing in $log: $pattern" >&2; ok=0; }; done
  if [ "$ok" -eq 1 ]; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAILED: $what" >&2; fi
}
check sweep-max "kernel sweep, -cpu max (dotprod)" '^level neon: .* 0 differ' '^level neon_dotprod: .* 0 differ'
check sweep-a53 "kernel sweep, -cpu cortex-a53 (no dotprod)" '^level neon: .* 0 differ' \
  '^level neon_dotprod: not supported by this CPU'
check golden-max "golden models through neon_dotprod, -cpu max" '^ad_large  neon_dotprod: 256 golden inputs, 0 differ'
check golden-a53 "golden models through neon, -cpu cortex-a53" '^ad_large  neon        : 256 golden inputs, 0 differ'
[ "$rc_max" -eq 0 ] && [ "$rc_a53" -eq 0 ] || { echo "a qemu run exited non-zero (max $rc_max, cortex-a53 $rc_a53)" >&2; failed=$((failed + 1)); }

if [ "${INSN_COUNTS:-0}" = 1 ]; then
  # Guest instructions per inference: a run of N inferences minus a run of none (model load and
  # interpreter init), divided by N. Counted by a TCG plugin (tests/aarch64/insn_count_plugin.c).
  echo "== aarch64: instructions per inference (qemu-aarch64 -cpu max, TCG plugin; not timing)"
  cc -shared -fPIC -O2 -o "$dir/libinsn_count.so" tests/aarch64/insn_count_plugin.c
  count() {
    qemu-aarch64 -cpu max -plugin "$dir/libinsn_count.so" -d plugin "$dir/golden" "$MICRONET_AD_SHARED" \
      --count "$1" "$2" "$3" 2>&1 | sed -n 's/.*insns: //p'
  }
  n=4
  printf '%-10s %-13s %14s %10s\n' model level insns/inference vs_ref
  for model in ${INSN_MODELS:-small medium}; do
    ref=0
    for level in reference neon neon_dotprod; do
      c0=$(count "$model" "$level" 0); cn=$(count "$model" "$level" "$n")
      per=$(( (cn - c0) / n ))
      [ "$level" = reference ] && ref=$per
      awk -v m="ad_$model" -v l="$level" -v p="$per" -v r="$ref" 'BEGIN { printf "%-10s %-13s %14d %9.2fx\n", m, l, p, r / p }'
    done
  done
fi
echo "aarch64: $passed passed, $failed failed ($((SECONDS - start)) s)"
[ "$failed" -eq 0 ]
