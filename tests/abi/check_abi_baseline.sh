#!/usr/bin/env bash
# abi_baseline test: the built libLEM.so is ABI-compatible with the committed baseline
# (tests/abi/baseline/libLEM.abi, written by tools/update_abi_baseline.sh when the ABI was last
# frozen). Fails on any incompatible change: a removed or changed function, a changed field
# offset or type, a removed field. Allowed: new functions, fields appended at the end of a struct.
# An intentional break must bump the soname (the project's major version) and the baseline together.
#
#   check_abi_baseline.sh LIBLEM_SO PUBLIC_INCLUDE_DIR BASELINE_ABI WORK_DIR
set -euo pipefail
lib=$1 headers=$2 baseline=$3 work=$4
if ! command -v abidw >/dev/null || ! command -v abidiff >/dev/null; then
  echo "abidw/abidiff not installed (Debian package abigail-tools; tools/install-deps.sh installs it)"
  exit 1
fi
mkdir -p "$work"
current=$work/libLEM.current.abi
abidw --headers-dir "$headers" --exported-interfaces-only --drop-private-types --no-show-locs --no-corpus-path --out-file "$current" "$lib"

soname() { sed -n 's/.*soname=.\([^"'"'"']*\).*/\1/p' "$1" | head -1; }
if [ "$(soname "$baseline")" != "$(soname "$current")" ]; then
  echo "soname changed: baseline $(soname "$baseline"), built $(soname "$current")."
  echo "An intentional ABI break bumps the soname AND regenerates the baseline (tools/update_abi_baseline.sh)."
  exit 1
fi

set +e
report=$(abidiff --no-show-locs "$baseline" "$current")
rc=$?
set -e
echo "$report"
if (( rc & 3 )); then echo "abidiff failed to run (exit $rc)"; exit 1; fi
if (( rc & 8 )); then echo "INCOMPATIBLE ABI change against the baseline (abidiff exit $rc)"; exit 1; fi
if (( rc & 4 )); then
  # A change abidiff does not call incompatible can still move a field (a member inserted in
  # the middle): allow only appended members (size growth) and added functions.
  bad=$(echo "$report" | grep -E "offset changed|member deletion|members deletion|type of '.*' changed|name of '.*' changed|return type changed|removed|value changed|parameter [0-9]+ .*(added|removed)" || true)
  if [ -n "$bad" ]; then
    echo "ABI change that breaks existing callers:"; echo "$bad"; exit 1
  fi
  echo "ok: compatible additions only (abidiff exit $rc)"
  exit 0
fi
echo "ok: ABI identical to the baseline"
