#!/usr/bin/env bash
# Builds the firmware example (embedded/) for Cortex-M4F and Cortex-M55 with the same core
# sources as the host build, runs each in QEMU (mps2-an386, mps3-an547) and fails unless every
# output is byte-equal to the golden data. Prints flash/RAM from the ELF and the firmware's
# arena, stack and QEMU instruction counts (from -icount: not real timing).
# It also runs clip.elf: a real 10 s clip's PCM through the front end and the model on the device.
# Before building, the host CLI enrols a compact machine profile (rank $RANK, default 16 = enrol --compact) from the
# slider train clips and scores the firmware's clip with it; the firmware embeds both and checks
# its window distances against the host's. The CLI: $MICRONET_AD_CLI, else build/micronet-ad
# (scripts/test.sh builds it first), else this script builds that target.
#   bash scripts/embedded.sh            # both CPUs
#   CPUS=cortex-m55 bash scripts/embedded.sh
#   RANK=32 CPUS=cortex-m4 bash scripts/embedded.sh   # another profile rank (build dir ...-k32)
#   KERNELS=reference bash scripts/embedded.sh        # the main run on one kernel level (auto, reference, dsp, mve)
#   EMBEDDED_BUILD_SUFFIX=-mine bash scripts/embedded.sh  # build in build-embedded-m4-mine etc.
set -euo pipefail
source "$(dirname "$0")/shared_data.sh"  # cd to the top, MICRONET_AD_SHARED checked
QEMU_TIMEOUT="${QEMU_TIMEOUT:-120}"
MODEL="${MODEL:-ad_small}"
RANK="${RANK:-16}"

bash scripts/setup-deps.sh --embedded

# ---- the host side: a compact profile and the host's distances for the firmware's clip ---------
cli="${MICRONET_AD_CLI:-}"
if [ -z "$cli" ]; then
  cli="$PWD/build/micronet-ad"
  if [ ! -x "$cli" ]; then
    echo "== embedded: building the host CLI (build/micronet-ad) to enrol the profile"
    bash scripts/setup-deps.sh
    cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DMICRONET_AD_SHARED="$MICRONET_AD_SHARED" >/dev/null
    cmake --build build --target micronet-ad
  fi
fi
model_file="$MICRONET_AD_SHARED/models/${MODEL}_int8.tflite"
train="$MICRONET_AD_SHARED/data/dcase2020_task2/slider/train"
clip_wav="$MICRONET_AD_SHARED/data/dcase2020_task2/slider/test/anomaly_id_00_00000000.wav"
clip_golden="$MICRONET_AD_SHARED/golden/frontend/clip_slider_anomaly_id_00/centered-average_input_${MODEL}_13x1024.i8"
gen="$(mktemp -d)"
trap 'rm -rf "$gen"' EXIT
echo "== embedded: enrolling a rank-$RANK profile of slider id_00 ($MODEL) with $cli"
# The firmware's clip windows are the golden ones: the host must score exactly those bytes.
"$cli" features --model "$model_file" --stage input -o "$gen/input.npy" "$clip_wav" >"$gen/features.log" 2>&1 ||
  { cat "$gen/features.log" >&2; exit 1; }
golden_bytes=$(stat -c %s "$clip_golden")
tail -c "$golden_bytes" "$gen/input.npy" | cmp -s - "$clip_golden" &&
  [ "$(stat -c %s "$gen/input.npy")" -le $((golden_bytes + 256)) ] ||
  { echo "the host's windows of $clip_wav differ from $clip_golden" >&2; exit 1; }
"$cli" enrol --model "$model_file" --rank "$RANK" --name slider_id_00 -o "$gen/profile.mnprof" "$train" \
  >"$gen/enrol.log" 2>&1 || { cat "$gen/enrol.log" >&2; exit 1; }
grep -A1 '^machine ' "$gen/enrol.log" || true
"$cli" score --model "$model_file" --profile "$gen/profile.mnprof" --format json "$clip_wav" \
  >"$gen/scores.json" 2>"$gen/score.log" || { cat "$gen/score.log" >&2; exit 1; }

passed=0; failed=0
# run_firmware ELF LOG WHAT [HIDE]: runs ELF in QEMU ($machine, $cpu), prints its log without the
# lines matching HIDE, and counts it passed only if it exits 0 with a PASS: line.
run_firmware() {
  local elf="$1" log="$2" what="$3" hide="${4:-^$}" rc
  set +e
  timeout "$QEMU_TIMEOUT" qemu-system-arm -machine "$machine" -cpu "$cpu" -nographic -monitor none \
    -semihosting-config enable=on,target=native -icount shift=0 -kernel "$elf" >"$log" 2>&1 </dev/null
  rc=$?
  set -e
  grep -v "$hide" "$log" || true
  if [ "$rc" -eq 0 ] && grep -q '^PASS:' "$log"; then
    passed=$((passed + 1))
  else
    [ "$rc" -eq 124 ] && echo "qemu timed out after ${QEMU_TIMEOUT} s" >&2
    echo "FAILED: $what (exit code $rc; full log: $log)" >&2
    failed=$((failed + 1))
  fi
}
for cpu in ${CPUS:-cortex-m4 cortex-m55}; do
  case "$cpu" in
    cortex-m4)  machine=mps2-an386; dir=build-embedded-m4 ;;
    cortex-m55) machine=mps3-an547; dir=build-embedded-m55 ;;
    *) echo "unknown CPU $cpu" >&2; exit 2 ;;
  esac
  [ "$MODEL" = ad_small ] || dir="$dir-$MODEL"
  [ "$RANK" = 16 ] || dir="$dir-k$RANK"
  dir="$dir${EMBEDDED_BUILD_SUFFIX:-}"  # a separate build directory, e.g. per engineer
  echo "== embedded: $cpu firmware ($MODEL) on QEMU $machine"
  # Generated data lives in the build directory; unchanged files keep their time (no rebuild).
  mkdir -p "$dir/profile"
  profile="$dir/profile/slider_id_00_k$RANK.mnprof"; scores="$dir/profile/slider_id_00_k$RANK.json"
  cmp -s "$gen/profile.mnprof" "$profile" || cp "$gen/profile.mnprof" "$profile"
  cmp -s "$gen/scores.json" "$scores" || cp "$gen/scores.json" "$scores"
  cmake -S embedded -B "$dir" -G Ninja -DCMAKE_TOOLCHAIN_FILE="$PWD/cmake/arm-none-eabi.cmake" \
        -DMICRONET_AD_CPU="$cpu" -DMICRONET_AD_MODEL="$MODEL" -DMICRONET_AD_SHARED="$MICRONET_AD_SHARED" \
        -DMICRONET_AD_PROFILE="$PWD/$profile" -DMICRONET_AD_PROFILE_SCORES="$PWD/$scores" -DMICRONET_AD_KERNELS="${KERNELS:-auto}" >/dev/null
  cmake --build "$dir"
  # Flash = what the board stores (vectors, code, constants, .data's initial image);
  # RAM = .data + .bss (interpreter arena, model tables) + libc heap + stack.
  arm-none-eabi-size -A "$dir/fw.elf" | awk '
    $1 ~ /^\.(vectors|text|rodata|ARM\.exidx|ARM\.extab|blobs)$/ { flash += $2 }
    $1 == ".data" { data = $2 } $1 == ".bss" { bss = $2 } $1 == ".heap" { heap = $2 } $1 == ".stack" { stack = $2 }
    END { printf "size: flash %d B (text+rodata %d + data image %d); RAM %d B (data %d + bss %d + heap %d + stack %d)\n",
                 flash + data, flash, data, data + bss + heap + stack, data, bss, heap, stack }'
  # The engine against the golden data, per-operator and per-level counts (golden/clip/dist rows hidden).
  run_firmware "$dir/fw.elf" "$dir/qemu.log" "$cpu on $machine" '^golden \|^clip  \|^dist  '
  # Every kernel level of this CPU against the reference kernels, on the device.
  echo "== embedded: $cpu kernel sweep on QEMU $machine"
  run_firmware "$dir/kernel_sweep.elf" "$dir/kernel_sweep.log" "$cpu kernel sweep on $machine"
  # The real clip end to end on the device: PCM → front end → 13 inferences, against the golden
  # windows and outputs, with instruction counts and a real-time estimate.
  echo "== embedded: $cpu clip end to end on QEMU $machine"
  run_firmware "$dir/clip.elf" "$dir/clip.log" "$cpu clip end to end on $machine"
done
echo "embedded: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
