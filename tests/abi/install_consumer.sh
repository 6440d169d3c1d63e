#!/usr/bin/env bash
# Installs the build into a scratch prefix, then builds and runs a C consumer three ways:
# find_package(LEM) with LEM::lem (shared) and LEM::lem_static, and pkg-config.
set -euo pipefail
build=$1; work=$2; consumer=$3; model=$4
rm -rf "$work"; mkdir -p "$work"
cmake --install "$build" --prefix "$work/prefix" >/dev/null
cmake -S "$consumer" -B "$work/consumer" -G Ninja -DCMAKE_PREFIX_PATH="$work/prefix" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$work/consumer" >/dev/null
LD_LIBRARY_PATH="$work/prefix/lib" "$work/consumer/consumer_shared" "$model"
"$work/consumer/consumer_static" "$model"
libdir=$(ls -d "$work"/prefix/lib*/pkgconfig | head -1)
cc -std=c99 "$consumer/consumer.c" -o "$work/consumer_pc" $(PKG_CONFIG_PATH="$libdir" pkg-config --cflags --libs lem)
LD_LIBRARY_PATH="$work/prefix/lib" "$work/consumer_pc" "$model"
echo "ok: installed package works with find_package(LEM) and pkg-config"
