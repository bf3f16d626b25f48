#!/bin/bash
# bench/pipeline/run_bench_prefix.sh [BIN_DIR] — issue 8's tick-to-order goal with the window prefix
# (pipeline/prefix_infer.hpp), lstm_attn_s FP32, one pinned core, inline mode, simulator at 1x:
#  1. peer, the engine alone in the same run: the whole window (ExecutionContext::run) vs the prefix's
#     two halves (precompute = between ticks, run_last = on the tick's path), hot and cache-cold;
#  2. tick-to-order, `tickrt run` for DURATION s: --window-prefix off (every sample runs the whole
#     window: the peer) and on, alternated ROUNDS times; keep_warm infer, gateway pinned to CPU 4.
# Needs >= 5 free cores (CPUs 2..4). Deletes ./tickrt-journal.db* before each run: run it in a copy of the tree. DURATION (default 45 s), ROUNDS (default 2).
set -uo pipefail
BIN=${1:-build/bin}
DURATION=${DURATION:-45}
ROUNDS=${ROUNDS:-2}
PREFIXES=${PREFIXES:-off on}
WIRE_TAP=${WIRE_TAP:-on}
SPEED=${SPEED:-1}
ENGINE=${ENGINE:-1}
SIM_CPU=${SIM_CPU:--1}
echo "== machine: $(lscpu | grep 'Model name' | sed 's/ \+/ /g'), $(nproc) CPUs; load: $(cut -d' ' -f1-3 /proc/loadavg)"
if [ "$ENGINE" = 1 ]; then
echo "== 1. engine alone, lstm_attn_s FP32 batch 1, CPU 2: whole window vs prefix (precompute / run_last)"
taskset -c 2 $BIN/bench_window_prefix --iters 20000 2>&1
taskset -c 2 $BIN/bench_window_prefix --iters 3000 --cold 2>&1
fi
summ() { sed -n '/== tickrt run summary/,$p'; }
for r in $(seq 1 $ROUNDS); do
  for p in $PREFIXES; do
    echo "== 2. round $r: inline, window prefix $p, wire tap $WIRE_TAP, speed $SPEED, sim cpu $SIM_CPU, keep_warm infer, gateway pinned to CPU 4, ${DURATION} s"
    rm -f tickrt-journal.db*   # each run's simulator venue is fresh: no journal to recover from
    $BIN/tickrt run --duration $DURATION --cpus 2 --gateway-cpu 4 --window-prefix $p --wire-tap $WIRE_TAP --speed $SPEED --sim-cpu $SIM_CPU 2>&1 | summ
  done
done
echo "== load after: $(cut -d' ' -f1-3 /proc/loadavg)"
