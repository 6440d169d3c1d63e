#!/usr/bin/env bash
# The user-facing `lem` commands are clients of include/lem/lem.h only: every symbol their object
# files need from outside themselves must be a lem_* function declared in lem.h, the C and C++
# runtimes (std::, libc, the C++ ABI), header-only fmt / nlohmann, or one of the two developer
# tools' entry points. Anything of the library's internals (namespace lem::, xsimd::, ...) fails.
#
# Usage: check_cli_symbols.sh LEM_H OBJECT...
set -euo pipefail
header=$1
shift
[ "$#" -gt 0 ] || { echo "no object files given"; exit 1; }
command -v nm >/dev/null || { echo "nm not found"; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The C ABI: every function lem.h declares (the name follows LEM_API and the return type).
grep -oE 'LEM_API[^(;]*\<lem_[a-z0-9_]+\(' "$header" | grep -oE 'lem_[a-z0-9_]+\($' | tr -d '(' | sort -u \
  > "$work/abi"
[ -s "$work/abi" ] || { echo "no lem_ functions found in $header"; exit 1; }

# What the objects define among themselves, and what they need from outside.
nm -C --defined-only "$@" | sed -nE 's/^[0-9a-fA-F]+ [A-Za-z] //p' | sort -u > "$work/defined"
nm -C --undefined-only "$@" | sed -nE 's/^ +[A-Za-z] //p' | sort -u > "$work/undefined"
comm -23 "$work/undefined" "$work/defined" > "$work/external"

# Developer tools (cmd_tensor.cpp, cmd_synth.cpp) are linked beside the commands; main() calls them.
dev_entry_points='^cli::cmd_(tensor|synth)\(cli::Args&\)$'
# C++ symbols allowed from outside: the standard library and ABI, operator new/delete, fmt, nlohmann.
cxx_allowed='^((typeinfo|typeinfo name|vtable|VTT|construction vtable|guard variable) for )?(std::|__gnu_cxx::|__cxxabiv1::|fmt::|nlohmann::|operator (new|delete))'

bad=0
checked=0
while IFS= read -r sym; do
  checked=$((checked + 1))
  if [[ $sym =~ ^lem_ ]]; then
    grep -qxF "$sym" "$work/abi" || { echo "not in lem.h: $sym"; bad=1; }
  elif [[ $sym =~ $dev_entry_points ]]; then
    :
  elif [[ $sym == *"::"* || $sym == *"("* || $sym == *" "* ]]; then
    [[ $sym =~ $cxx_allowed ]] || { echo "internal or unknown C++ symbol: $sym"; bad=1; }
  elif [[ $sym =~ ^_?_?lem ]]; then
    echo "library symbol outside the lem_ ABI: $sym"; bad=1
  fi
done < "$work/external"

n_lem=$(grep -c '^lem_' "$work/external" || true)
if [ "$bad" -ne 0 ]; then
  echo "FAIL: the user-facing lem commands reach past include/lem/lem.h"
  exit 1
fi
[ "$n_lem" -gt 0 ] || { echo "FAIL: the objects call no lem_ function at all (wrong files?)"; exit 1; }
echo "ok: $checked external symbols of $# objects, $n_lem lem_* functions from lem.h, nothing internal"
