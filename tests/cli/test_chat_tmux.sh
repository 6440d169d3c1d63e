#!/usr/bin/env bash
# Drives `lem chat` in a real terminal (tmux) as a person would: two turns, a Ctrl-C during an
# answer (the program must survive it), /reset, /exit. Usage: test_chat_tmux.sh LEM MODEL
set -euo pipefail
lem=$1; model=$2
command -v tmux >/dev/null || { echo "tmux not installed"; exit 77; }
session="lemchat$$"
log=$(mktemp)
trap 'tmux kill-session -t "$session" 2>/dev/null || true; rm -f "$log"' EXIT

screen() { tmux capture-pane -p -t "$session" -S -200; }
wait_for() {  # wait_for PATTERN COUNT: until PATTERN occurs COUNT times on screen (10 s max)
  for _ in $(seq 100); do
    [ "$(screen | grep -c -- "$1" || true)" -ge "$2" ] && return 0
    sleep 0.1
  done
  echo "timed out waiting for '$1' x$2; screen:"; screen; return 1
}

start() {  # start EXTRA_ARGS: a fresh lem chat in the tmux session
  tmux kill-session -t "$session" 2>/dev/null || true
  tmux new-session -d -s "$session" -x 200 -y 50 \
    "$lem chat -m '$model' --temp 0 --ignore-eos -t 2 $1 2>>'$log'; echo LEM-EXITED-\$?; sleep 30"
}

start "-n 40"
wait_for '^>' 1
tmux send-keys -t "$session" "Hello there" Enter
wait_for '^>' 2
grep -q "prompt .* new tokens" "$log"   # the turn ran and reported its speed

# Second turn: the conversation is kept; only the new message is evaluated (KV cache reuse).
tmux send-keys -t "$session" "And again?" Enter
wait_for '^>' 3
second=$(grep "prompt .* new tokens" "$log" | tail -1 | sed 's/.*prompt \([0-9]*\) new tokens.*/\1/')
[ "$second" -lt 20 ] || { echo "second turn re-evaluated $second tokens"; exit 1; }

tmux send-keys -t "$session" "/reset" Enter
wait_for 'conversation forgotten' 1
# Ctrl-C at the prompt does not quit either.
tmux send-keys -t "$session" C-c
wait_for 'Ctrl-D quits' 1
tmux send-keys -t "$session" "/exit" Enter
wait_for 'LEM-EXITED-0' 1

# Ctrl-C during a long answer (no token limit: it would run until the context is full) stops
# the answer, not the program.
start "-n -1 -c 4096"
wait_for '^>' 1
tmux send-keys -t "$session" "Tell me a long story" Enter
sleep 0.3
tmux send-keys -t "$session" C-c
wait_for '(stopped)' 1
sleep 0.3
screen | grep -v '^$' | tail -1 | grep -q '^>' || { echo "no prompt after the stopped answer"; screen | tail -5; exit 1; }
screen | grep -q "LEM-EXITED" && { echo "lem chat died on Ctrl-C"; screen; exit 1; }
tmux send-keys -t "$session" "/exit" Enter
wait_for 'LEM-EXITED-0' 1
echo "ok: lem chat kept the conversation, survived Ctrl-C, handled /reset and /exit"
