#!/usr/bin/env bash
# readme_library_example test: the C program in README.md's "Using the library" section compiles
# as written (C99, warnings as errors) against the built libLEM.so and runs on a fixture model.
#
#   check_readme_example.sh README.md PUBLIC_INCLUDE GENERATED_INCLUDE LIB_DIR WORK_DIR MODEL
set -euo pipefail
readme=$1 inc=$2 geninc=$3 libdir=$4 work=$5 model=$6
mkdir -p "$work"
# The first ```c block after the "## Using the library" heading.
awk '/^## Using the library/{s=1} s&&/^```c$/{c=1;next} c&&/^```$/{exit} c{print}' "$readme" > "$work/readme_example.c"
if [ ! -s "$work/readme_example.c" ]; then
  echo "no \`\`\`c block under '## Using the library' in $readme"; exit 1
fi
cc -std=c99 -Wall -Wextra -Werror -pedantic -I"$inc" -I"$geninc" "$work/readme_example.c" -o "$work/readme_example" \
  -L"$libdir" -lLEM -Wl,-rpath,"$libdir"
"$work/readme_example" "$model"
