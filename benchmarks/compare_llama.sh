#!/usr/bin/env bash
# Side-by-side speed of libLEM and llama.cpp on the same GGUF and thread count, alternating runs
# (the machines are shared and noisy: compare ratios of medians, not absolute numbers).
#
#   benchmarks/compare_llama.sh MODEL.gguf [THREADS=2] [ROUNDS=3] [N_PROMPT=512] [N_GEN=128]
#
# Needs build/bin/lem and llama.cpp's llama-bench: set LLAMA_BENCH, or build it with
# the peer-llama.sh tool of the shared tools folder (found in ~/.cache/lem-peer by default).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
model=$1; threads=${2:-2}; rounds=${3:-3}; np=${4:-512}; ng=${5:-128}
lem=$root/build/bin/lem
llama=${LLAMA_BENCH:-$HOME/.cache/lem-peer/llama.cpp/build/bin/llama-bench}
[ -x "$llama" ] || { echo "llama-bench not found (set LLAMA_BENCH)"; exit 77; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
for r in $(seq "$rounds"); do
  "$lem" bench -m "$model" -t "$threads" -p "$np" -n "$ng" -r 1 --json 2>/dev/null >> "$tmp/lem.jsonl"
  "$llama" -m "$model" -t "$threads" -p "$np" -n "$ng" -r 1 -o jsonl 2>/dev/null >> "$tmp/llama.jsonl"
done
python3 - "$tmp" "$model" "$threads" "$np" "$ng" <<'PY'
import json, statistics, sys
tmp, model, threads, np_, ng = sys.argv[1:]
lem = [json.loads(l) for l in open(f"{tmp}/lem.jsonl") if l.strip()]
llama = [json.loads(l) for l in open(f"{tmp}/llama.jsonl") if l.strip()]
lem_pp = statistics.median(x["pp_tokens_per_s"] for x in lem)
lem_tg = statistics.median(x["tg_tokens_per_s"] for x in lem)
ll_pp = statistics.median(x["avg_ts"] for x in llama if x["n_prompt"] > 0)
ll_tg = statistics.median(x["avg_ts"] for x in llama if x["n_gen"] > 0)
print(f"| {model.split('/')[-1]} | {threads} | pp{np_} | {lem_pp:.1f} | {ll_pp:.1f} | {lem_pp / ll_pp:.2f}x |")
print(f"| {model.split('/')[-1]} | {threads} | tg{ng} | {lem_tg:.1f} | {ll_tg:.1f} | {lem_tg / ll_tg:.2f}x |")
PY
