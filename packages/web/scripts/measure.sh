#!/usr/bin/env bash
# pnpm --filter @fer/web measure [--pause-training] [measure.ts flags]: measure.ts, optionally with this user's
# `fer train` processes paused (SIGSTOP) so that they do not compete for the CPU; they are resumed (SIGCONT)
# when it ends, fails or is interrupted, and after 170 s at the latest.
set -euo pipefail
cd "$(dirname "$0")/.."
pids=()
if [[ "${1:-}" == "--pause-training" ]]; then
  shift
  mapfile -t pids < <(pgrep -u "$(id -u)" -f 'fer train' || true)
fi
resume() { for p in "${pids[@]}"; do kill -CONT "$p" 2>/dev/null || true; done; }
if ((${#pids[@]})); then
  trap resume EXIT INT TERM
  echo "pausing fer train (pids ${pids[*]}) while measuring"
  for p in "${pids[@]}"; do kill -STOP "$p"; done
  # (its output goes nowhere: a sleep holding this script's stdout would keep pnpm waiting for it)
  (sleep 170 && for p in "${pids[@]}"; do kill -CONT "$p" 2>/dev/null || true; done) >/dev/null 2>&1 &
  watchdog=$!
fi
status=0
timeout 165 node --conditions=source --import tsx scripts/measure.ts "$@" || status=$?
if ((${#pids[@]})); then
  pkill -P "$watchdog" 2>/dev/null || true
  kill "$watchdog" 2>/dev/null || true
  resume
  echo "resumed fer train"
fi
exit $status
