#!/bin/sh
# Builds one libFuzzer target and runs it briefly over a copy of its seed corpus.
#
#   run_fuzz_smoke.sh CLANGXX NAME SOURCE_DIR WORK_DIR GENERATED_INCLUDE_DIR
#
# CLANGXX   clang++ to build with; empty or not executable: exit 77 (CTest: skipped)
# NAME      target name: tests/fuzz/NAME.cpp, seeds in tests/fuzz/corpus/<NAME without fuzz_>/
# WORK_DIR  where the binary, the corpus copy and any crash artifacts go
#
# Only the file parsers are linked (lib/io, lib/util/error.cpp, kernels/ggml_types.cpp), with fmt
# header-only. Exits non-zero if the build fails or the fuzzer finds a crash, a leak, a sanitizer
# report, an input over the memory limits or one that runs past the timeout.
set -eu

if [ "$#" -ne 5 ]; then
  echo "usage: $0 CLANGXX NAME SOURCE_DIR WORK_DIR GENERATED_INCLUDE_DIR" >&2
  exit 2
fi
CLANGXX=$1
NAME=$2
SRC=$3
WORK=$4
GEN_INCLUDE=$5

case "$CLANGXX" in
  */*) ;;
  "") ;;
  *) CLANGXX=$(command -v "$CLANGXX" || true) ;;
esac
if [ -z "$CLANGXX" ] || [ ! -f "$CLANGXX" ] || [ ! -x "$CLANGXX" ]; then
  echo "fuzz smoke $NAME: no usable clang++ ('$1'); skipping"
  exit 77
fi

TARGET_SRC=$SRC/tests/fuzz/$NAME.cpp
if [ ! -f "$TARGET_SRC" ]; then
  echo "fuzz smoke: $TARGET_SRC does not exist" >&2
  exit 2
fi
CORPUS_NAME=${NAME#fuzz_}
SEEDS=$SRC/tests/fuzz/corpus/$CORPUS_NAME
mkdir -p "$WORK"
BIN=$WORK/$NAME

# The parser sources, in a stable order.
SOURCES=$(ls "$SRC"/lib/io/*.cpp | LC_ALL=C sort)
SOURCES="$SOURCES $SRC/lib/util/error.cpp $SRC/kernels/ggml_types.cpp"

# Rebuild when the binary is missing or older than this script, the target, a parser source or
# one of the headers it can include.
needs_build=0
if [ ! -x "$BIN" ]; then
  needs_build=1
elif [ -n "$(find "$0" "$TARGET_SRC" $SOURCES "$SRC/lib/io" "$SRC/lib/api" "$SRC/lib/util" \
               "$SRC/kernels/ggml_types.hpp" "$SRC/include" -newer "$BIN" -print 2>/dev/null | head -n 1)" ]; then
  needs_build=1
fi

if [ "$needs_build" -eq 1 ]; then
  echo "fuzz smoke $NAME: building with $CLANGXX"
  # shellcheck disable=SC2086  # SOURCES is a list of paths without spaces
  "$CLANGXX" -std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
    -fno-omit-frame-pointer -DFMT_HEADER_ONLY \
    -I"$SRC" -I"$SRC/lib" -I"$SRC/include" -I"$GEN_INCLUDE" \
    "$TARGET_SRC" $SOURCES -o "$BIN.tmp.$$"
  mv -f "$BIN.tmp.$$" "$BIN"
fi

# Run over a fresh copy so that the inputs the fuzzer adds never touch the source tree.
RUN_CORPUS=$WORK/corpus-$CORPUS_NAME
rm -rf "$RUN_CORPUS"
mkdir -p "$RUN_CORPUS"
if [ -d "$SEEDS" ]; then
  cp -R "$SEEDS"/. "$RUN_CORPUS"/
else
  echo "fuzz smoke $NAME: no seeds in $SEEDS; starting from an empty corpus"
fi

echo "fuzz smoke $NAME: running for 20 s over $(ls "$RUN_CORPUS" | wc -l) seeds"
status=0
"$BIN" -max_total_time=20 -rss_limit_mb=2048 -malloc_limit_mb=1024 -timeout=10 \
  -print_final_stats=1 -artifact_prefix="$WORK/$NAME-" "$RUN_CORPUS" || status=$?
if [ "$status" -ne 0 ]; then
  echo "fuzz smoke $NAME: FAILED (exit $status); reproduce with: $BIN $WORK/$NAME-<artifact>" >&2
  exit 1
fi
echo "fuzz smoke $NAME: no findings"
