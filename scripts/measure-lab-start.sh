#!/usr/bin/env bash
# Measures lite mode: a cold `lab up` (fresh LAB_HOME: no .env, no .lab/, empty Prometheus and
# Alertmanager state) and a warm one (after `lab down`, same .env and .lab/), each until every
# component is healthy, then the resident memory (VmRSS from /proc) of every lab process.
# The lab ports must be free. MySQL schemas persist across runs, so the one-time seeding of
# orders (200,000 rows) is not part of "cold" unless the `orders` schema is new.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.tools/node_modules/.bin:$PATH" NO_COLOR=1 LAB_MODE=native
LAB_HOME=$(mktemp -d /tmp/lab-measure-XXXXXX)
export LAB_HOME
lab() { node lab/bin/lab.js "$@"; }
trap 'lab down >/dev/null 2>&1 || true; rm -rf "$LAB_HOME"' EXIT

seconds() { # command... -> wall seconds until it returns
  local start end
  start=$(date +%s.%N)
  "$@" >/dev/null 2>&1
  end=$(date +%s.%N)
  echo "$end - $start" | bc
}

echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo), $(uname -sr), node $(node --version)"
cold=$(seconds lab up)
lab down >/dev/null 2>&1
warm=$(seconds lab up)
printf 'cold lab up to all healthy: %6.1f s\nwarm lab up to all healthy: %6.1f s\n\n' "$cold" "$warm"

# Let the services settle (first scrapes, caches, traffic) before reading memory.
sleep 20
printf '%-14s %8s %10s\n' PROCESS PID RSS_MIB
total=0
for file in "$LAB_HOME"/.lab/supervisor.pid "$LAB_HOME"/.lab/pids/*.pid; do
  pid=$(cat "$file")
  kb=$(awk '/^VmRSS/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)
  total=$((total + kb))
  printf '%-14s %8s %10.1f\n' "$(basename "$file" .pid)" "$pid" "$(echo "$kb / 1024" | bc -l)"
done
printf '%-14s %8s %10.1f\n' TOTAL '' "$(echo "$total / 1024" | bc -l)"
