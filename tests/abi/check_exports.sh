#!/usr/bin/env bash
# Fails when libLEM.so exports any dynamic symbol outside the lem_* C ABI.
set -euo pipefail
lib=$1
leaked=$(nm -D --defined-only "$lib" | awk '{print $3}' | sed 's/@.*//' \
  | grep -v -E '^(lem_[A-Za-z0-9_]+|_init|_fini|_edata|_end|__bss_start)$' || true)
if [ -n "$leaked" ]; then
  echo "libLEM exports symbols outside the lem_ ABI:"; echo "$leaked" | head -20; exit 1
fi
count=$(nm -D --defined-only "$lib" | awk '{print $3}' | grep -c '^lem_')
echo "ok: $count lem_* symbols, nothing else"
[ "$count" -gt 0 ]
