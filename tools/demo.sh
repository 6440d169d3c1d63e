#!/usr/bin/env bash
# README command 1: set up, build, and run the lem tool on the bundled default model: a summary
# of the file, then a short chat-formatted generation.
# The bundled model is tiny-a, a random-weight Gemma 3 test model: it exercises the whole
# pipeline but its output is gibberish. Pass another model path (and a prompt) to use a real one.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/tools/build.sh"
model=${1:-$root/examples/models/tiny-a-Q8_0.gguf}
prompt=${2:-Write a haiku about a lighthouse in the fog.}
"$root/build/bin/lem" info "$model"
echo
exec "$root/build/bin/lem" generate -m "$model" -p "$prompt" -n 64 --seed 42
