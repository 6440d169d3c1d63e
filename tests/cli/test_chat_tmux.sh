#!/usr/bin/env bash
# Drives `lem chat` in a real terminal (tmux) as a person would: /help, two turns, a Ctrl-C during
# an answer (the program must survive it), /reset, /exit, and a context that fills up mid-answer.
# Usage: test_chat_tmux.sh LEM MODEL
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
# /help lists the commands; it is not sent to the model.
tmux send-keys -t "$session" "/help" Enter
wait_for '/reset forget the conversation' 1
wait_for '^>' 2
if grep -q "prompt .* new tokens" "$log"; then echo "/help was sent to the model"; exit 1; fi
tmux send-keys -t "$session" "Hello there" Enter
wait_for '^>' 3
grep -q "prompt .* new tokens" "$log"   # the turn ran and reported its speed

# Second turn: the conversation is kept; only the new message is evaluated (KV cache reuse).
tmux send-keys -t "$session" "And again?" Enter
wait_for '^>' 4
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
# The tiny model answers 4096 tokens in about a second, so on a busy machine the answer can end
# (context full) before the Ctrl-C arrives, or the Ctrl-C can arrive before the line was read:
# such a round proves nothing and is tried again (a few times at most).
start "-n -1 -c 4096"
wait_for '^>' 1
stopped=0
for attempt in 1 2 3 4 5; do
  tmux send-keys -t "$session" "Tell me a long story" Enter
  sleep 0.3
  tmux send-keys -t "$session" C-c
  for _ in $(seq 100); do
    if screen | grep -q '(stopped)'; then stopped=1; break; fi
    if screen | grep -q 'context full after\|Ctrl-D quits'; then break; fi
    sleep 0.1
  done
  [ "$stopped" -eq 1 ] && break
  tmux send-keys -t "$session" "/reset" Enter
  wait_for 'conversation forgotten' 1
  tmux send-keys -t "$session" C-l
  tmux clear-history -t "$session"
  sleep 0.3
done
[ "$stopped" -eq 1 ] || { echo "Ctrl-C never landed during an answer in 5 tries"; screen; exit 1; }
wait_for '^>' 1
sleep 0.3
screen | grep -v '^$' | tail -1 | grep -q '^>' || { echo "no prompt after the stopped answer"; screen | tail -5; exit 1; }
screen | grep -q "LEM-EXITED" && { echo "lem chat died on Ctrl-C"; screen; exit 1; }
tmux send-keys -t "$session" "/exit" Enter
wait_for 'LEM-EXITED-0' 1

# A tiny context fills mid-answer: one clear line, and the next message is refused with the same
# advice instead of an error that repeats itself.
start "-n -1 -c 48"
wait_for '^>' 1
tmux send-keys -t "$session" "Tell me a long story" Enter
wait_for 'context full after [0-9]* tokens: /reset to start over' 1
wait_for '^>' 2
tmux send-keys -t "$session" "Go on" Enter
wait_for 'the context is full: /reset to start over' 1
screen | grep -q "context full: context full" && { echo "repeated context-full message"; screen; exit 1; }
[ "$(screen | grep -c 'context full after')" -eq 1 ] || { echo "context-full message not shown once"; screen; exit 1; }
tmux send-keys -t "$session" "/reset" Enter
wait_for 'conversation forgotten' 1
tmux send-keys -t "$session" "/exit" Enter
wait_for 'LEM-EXITED-0' 1
echo "ok: lem chat kept the conversation, survived Ctrl-C, handled /help, /reset, /exit and a full context"
