#!/usr/bin/env bash
# Installs the built project into a temporary prefix, builds examples/consumer against it with
# find_package(micronet_ad), and checks the consumer's logits equal the CLI's for the same input.
set -euo pipefail
build_dir=$1; source_dir=$2; model=$3
prefix=$(mktemp -d); trap 'rm -rf "$prefix"' EXIT
cmake --install "$build_dir" --prefix "$prefix" >/dev/null
test -x "$prefix/bin/micronet-ad" || { echo "CLI not installed"; exit 1; }
test -f "$prefix/include/micronet_ad/model.h" || { echo "headers not installed"; exit 1; }
cmake -S "$source_dir/examples/consumer" -B "$prefix/consumer-build" -G Ninja -DCMAKE_PREFIX_PATH="$prefix" >"$prefix/log" 2>&1 ||
  { cat "$prefix/log"; exit 1; }
cmake --build "$prefix/consumer-build" >"$prefix/log" 2>&1 || { cat "$prefix/log"; exit 1; }
got=$("$prefix/consumer-build/consumer" "$model")
echo "consumer: $got"
# The same input through the installed CLI: 1024 bytes of the input zero point (11 = 0x0b).
head -c 1024 /dev/zero | tr '\0' '\013' > "$prefix/zp.i8"
"$prefix/bin/micronet-ad" infer --model "$model" --input "$prefix/zp.i8" --output "$prefix/out.i8" 2>/dev/null
want="$(od -An -v -t d1 "$prefix/out.i8" | xargs)"
[ "${got#*logits }" = "$want" ] || { echo "consumer logits '${got#*logits }' != CLI '$want'"; exit 1; }
echo "install test passed"
