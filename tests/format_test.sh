#!/usr/bin/env bash
# The formatting rule of CONTRIBUTING.md: every C/C++ file as `clang-format` (.clang-format at the
# top) writes it. Fails naming the files it would change; `clang-format -i FILE` mends one.
set -euo pipefail
cd "$1"
files=$(find src apps include tests bench fuzz embedded examples python \
          -type f \( -name '*.cc' -o -name '*.h' -o -name '*.c' -o -name '*.inc' \) -not -path '*/build*' | sort)
bad=""
for f in $files; do
  "${CLANG_FORMAT:-clang-format}" --dry-run --Werror "$f" >/dev/null 2>&1 || bad="$bad $f"
done
if [ -n "$bad" ]; then
  echo "not formatted by clang-format (CONTRIBUTING.md, Style):$bad" | tr ' ' '\n'
  exit 1
fi
echo "clang_format test passed: $(echo "$files" | wc -l) files"
