#!/usr/bin/env bash
# Runs one Google Benchmark binary the way docs/BENCHMARKS.md's sections were measured: waits (up
# to WAIT_S seconds, default 300) until both CPUs have been >= 90% idle for 2 s, then runs the
# benchmark with 5 repetitions and prints the median/stddev aggregates, the machine, and how busy
# the CPUs were (from /proc/stat) while it ran, so noise is visible.
#
# usage: bench/run_quiet.sh <bench name, e.g. bench_risk> [build-dir] [extra benchmark args...]
set -euo pipefail
NAME=${1:?usage: bench/run_quiet.sh <bench name> [build-dir] [extra args...]}; shift
BUILD=${1:-build}; shift || true
BIN="$BUILD/bin/$NAME"
[ -x "$BIN" ] || { echo "run_quiet: $BIN not built (cmake --build $BUILD --target $NAME)" >&2; exit 2; }
WAIT_S=${WAIT_S:-300}

busy_pct() {  # CPU busy % of all CPUs over $1 seconds, from /proc/stat
  read -r _ u n s i w q sq st _ < /proc/stat; local b0=$((u+n+s+q+sq+st)) t0=$((u+n+s+i+w+q+sq+st))
  sleep "$1"
  read -r _ u n s i w q sq st _ < /proc/stat; local b1=$((u+n+s+q+sq+st)) t1=$((u+n+s+i+w+q+sq+st))
  echo $(( 100 * (b1-b0) / (t1-t0 > 0 ? t1-t0 : 1) ))
}

waited=0
while :; do
  b=$(busy_pct 2)
  [ "$b" -le 10 ] && break
  waited=$((waited+2))
  if [ "$waited" -ge "$WAIT_S" ]; then echo "run_quiet: CPUs still ${b}% busy after ${WAIT_S}s; running anyway" >&2; break; fi
done
echo "machine: $(lscpu | grep 'Model name' | sed 's/ \+/ /g'), $(nproc) CPUs, clocksource $(cat /sys/devices/system/clocksource/clocksource0/current_clocksource 2>/dev/null || echo '?')"
echo "date: $(date -u '+%Y-%m-%d %H:%M UTC'), waited ${waited}s for idle CPUs, load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
read -r _ u n s i w q sq st _ < /proc/stat; B0=$((u+n+s+q+sq+st)); T0=$((u+n+s+i+w+q+sq+st))
TF=$(mktemp); TIMEFORMAT='%R %U %S'
{ time "$BIN" --benchmark_repetitions=5 --benchmark_report_aggregates_only=true "$@" 2>&1 ; } 2>"$TF"
read -r _ u n s i w q sq st _ < /proc/stat; B1=$((u+n+s+q+sq+st)); T1=$((u+n+s+i+w+q+sq+st))
read -r real usr sys < "$TF"; rm -f "$TF"
HZ=$(getconf CLK_TCK)
# Others' share: CPU time of everything but the benchmark, as % of all CPUs over the run.
awk -v b=$((B1-B0)) -v t=$((T1-T0)) -v hz="$HZ" -v u="$usr" -v s="$sys" -v r="$real" -v name="$NAME" 'BEGIN {
  others = (b / hz - u - s) / (t / hz) * 100; if (others < 0) others = 0;
  printf "run: %.0f s wall; CPU busy: %.0f%% of all CPUs, of which others (not %s): %.0f%%\n", r, 100 * b / t, name, others }'
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
