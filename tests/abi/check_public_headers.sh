#!/usr/bin/env bash
# Public headers may include only stddef.h, stdint.h, stdbool.h and each other, and must
# compile as C99 and as C++ on their own.
set -euo pipefail
inc=$1; gen=$2
bad=$(grep -h '^#include' "$inc"/lem/*.h | grep -v -E '<(stddef|stdint|stdbool)\.h>|"lem/lem_(export|version)\.h"' || true)
if [ -n "$bad" ]; then echo "forbidden includes in public headers:"; echo "$bad"; exit 1; fi
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
echo '#include <lem/lem.h>' > "$tmp/t.c"
cc -std=c99 -pedantic -Wall -Werror -I"$inc" -I"$gen" -c "$tmp/t.c" -o "$tmp/t.o"
cp "$tmp/t.c" "$tmp/t.cpp"
c++ -std=c++11 -Wall -Werror -I"$inc" -I"$gen" -c "$tmp/t.cpp" -o "$tmp/t2.o"
echo "ok: public headers are self-contained C99/C++11"
