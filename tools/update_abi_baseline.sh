#!/usr/bin/env bash
# Freezes the current C ABI as the baseline CI checks against: writes the abidw description of
# build/lib/libLEM.so, a copy of the public headers (the "old header" clients are built against)
# and the struct layout dump. Run it only when the ABI is meant to change incompatibly (together
# with a soname bump) or when first freezing it; commit the result.
#
#   tools/update_abi_baseline.sh [BUILD_DIR]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
lib=$(ls "$build"/lib/libLEM.so.*.*.* | head -1)
out=$root/tests/abi/baseline
mkdir -p "$out/include/lem"
abidw --headers-dir "$root/include/lem" --exported-interfaces-only --drop-private-types --no-show-locs --no-corpus-path \
  --out-file "$out/libLEM.abi" "$lib"
cp "$root/include/lem/lem.h" "$root/include/lem/lem_export.h" "$build/include/lem/lem_version.h" "$out/include/lem/"
"$build/tests/lem_abi_layout_dump" > "$root/tests/abi/layout.json"
echo "baseline written from $lib"
