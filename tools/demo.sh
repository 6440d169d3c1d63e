#!/usr/bin/env bash
# README command 1: set up, build, and run the lem tool on the bundled default model.
# The bundled model is tiny-a, a random-weight Gemma 3 test model: it exercises the whole
# pipeline but its output is gibberish. Pass another model path as the first argument.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/tools/build.sh"
model=${1:-$root/examples/models/tiny-a-Q8_0.gguf}
exec "$root/build/bin/lem" info "$model"
