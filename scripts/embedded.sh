#!/usr/bin/env bash
# Builds the firmware example (embedded/) for Cortex-M4F and Cortex-M55 with the same core
# sources as the host build, runs each in QEMU (mps2-an386, mps3-an547) and fails unless every
# output is byte-equal to the golden data. Prints flash/RAM from the ELF and the firmware's
# arena, stack and QEMU instruction counts (from -icount: not real timing).
#   bash scripts/embedded.sh            # both CPUs
#   CPUS=cortex-m55 bash scripts/embedded.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export MICRONET_AD_SHARED="${MICRONET_AD_SHARED:-$(cd .. && pwd)/shared}"
[ -f "$MICRONET_AD_SHARED/SPEC.md" ] || { echo "shared data not found at $MICRONET_AD_SHARED" >&2; exit 1; }
QEMU_TIMEOUT="${QEMU_TIMEOUT:-120}"
MODEL="${MODEL:-ad_small}"

bash scripts/setup-deps.sh --embedded

passed=0; failed=0
for cpu in ${CPUS:-cortex-m4 cortex-m55}; do
  case "$cpu" in
    cortex-m4)  machine=mps2-an386; dir=build-embedded-m4 ;;
    cortex-m55) machine=mps3-an547; dir=build-embedded-m55 ;;
    *) echo "unknown CPU $cpu" >&2; exit 2 ;;
  esac
  [ "$MODEL" = ad_small ] || dir="$dir-$MODEL"
  echo "== embedded: $cpu firmware ($MODEL) on QEMU $machine"
  cmake -S embedded -B "$dir" -G Ninja -DCMAKE_TOOLCHAIN_FILE="$PWD/cmake/arm-none-eabi.cmake" \
        -DMICRONET_AD_CPU="$cpu" -DMICRONET_AD_MODEL="$MODEL" -DMICRONET_AD_SHARED="$MICRONET_AD_SHARED" >/dev/null
  cmake --build "$dir"
  # Flash = what the board stores (vectors, code, constants, .data's initial image);
  # RAM = .data + .bss (interpreter arena, model tables) + libc heap + stack.
  arm-none-eabi-size -A "$dir/fw.elf" | awk '
    $1 ~ /^\.(vectors|text|rodata|ARM\.exidx|ARM\.extab)$/ { flash += $2 }
    $1 == ".data" { data = $2 } $1 == ".bss" { bss = $2 } $1 == ".heap" { heap = $2 } $1 == ".stack" { stack = $2 }
    END { printf "size: flash %d B (text+rodata %d + data image %d); RAM %d B (data %d + bss %d + heap %d + stack %d)\n",
                 flash + data, flash, data, data + bss + heap + stack, data, bss, heap, stack }'
  log="$dir/qemu.log"
  set +e
  timeout "$QEMU_TIMEOUT" qemu-system-arm -machine "$machine" -cpu "$cpu" -nographic -monitor none \
    -semihosting-config enable=on,target=native -icount shift=0 -kernel "$dir/fw.elf" >"$log" 2>&1 </dev/null
  rc=$?
  set -e
  grep -v '^golden \|^clip  ' "$log" || true
  if [ "$rc" -eq 0 ] && grep -q '^PASS:' "$log"; then
    passed=$((passed + 1))
  else
    [ "$rc" -eq 124 ] && echo "qemu timed out after ${QEMU_TIMEOUT} s" >&2
    echo "FAILED: $cpu on $machine (exit code $rc; full log: $log)" >&2
    failed=$((failed + 1))
  fi
done
echo "embedded: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
