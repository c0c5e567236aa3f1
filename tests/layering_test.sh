#!/usr/bin/env bash
# The layering rule of docs/ARCHITECTURE.md: the host libraries, the CLI and the Python package use
# the core only through its public headers (include/micronet_ad/). The compiler cannot enforce it:
# the host's include path, src/, also holds src/core. So every quoted include there must be
# "micronet_ad/...", "host/..." or a file of the same folder.
set -euo pipefail
source_dir=$1
cd "$source_dir"
leaks=$(grep -rnE --include='*.h' --include='*.cc' --include='*.inc' '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' \
          src/host apps python |
        grep -vE '#[[:space:]]*include[[:space:]]*"(micronet_ad/|host/|[^/"]+")' || true)
if [ -n "$leaks" ]; then
  echo "includes of the core's private headers (use include/micronet_ad/, docs/ARCHITECTURE.md#layers):"
  echo "$leaks"
  exit 1
fi
echo "layering test passed"
