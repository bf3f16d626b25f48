#!/bin/bash
# bench/pipeline/run_bench_pipeline.sh [BIN_DIR] — the docs/BENCHMARKS.md "## pipeline" tables.
#  1. peer: the engine alone, lstm_attn_s batch 1 (`tickrt bench`), same machine, same run;
#  2. goal: tick-to-order latency, inline mode, one pinned core, simulator at 1x for DURATION s;
#  3. the same in pipelined mode (feed, inference, execution threads on their own cores);
#  4. dynamic batching: capture source (no network), pipelined, SYMBOLS in 1 8 64 256 (renamed
#     copies of the capture), max_batch 8 vs 1, throughput and window->output P95;
#  5. hot swap: bench_pipeline_swap.
# Needs >= 6 free cores for the pinning below (CPUs 2..5); set CPUS_* to change.
set -euo pipefail
BIN=${1:-build/bin}
DURATION=${DURATION:-60}
BATCH_DURATION=${BATCH_DURATION:-15}
BATCH_SPEED=${BATCH_SPEED:-4}
MODEL=models/trained/lstm_attn_s/model.onnx
echo "== machine: $(lscpu | grep 'Model name' | sed 's/ \+/ /g'), $(nproc) CPUs; load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== 1. peer: engine alone (lstm_attn_s, batch 1, 1 thread, pinned)"
taskset -c 2 $BIN/tickrt bench $MODEL --batch 1 --seconds 5 2>&1 | tail -3
echo "== 2. tick-to-order, inline, sim 1x, ${DURATION}s, thread on CPU 2"
$BIN/tickrt run --duration $DURATION --cpus 2 2>&1 | sed -n '/== tickrt run summary/,$p'
echo "== 2b. the same, gateway IO thread spinning (no sleep between orders)"
$BIN/tickrt run --duration $DURATION --cpus 2 --gateway-spin-us -1 2>&1 | sed -n '/== tickrt run summary/,$p'
echo "== 3. tick-to-order, pipelined (feed 2, infer 3, exec 4), gateway spinning, sim 1x, ${DURATION}s"
$BIN/tickrt run --duration $DURATION --mode pipelined --max-batch 8 --cpus 2,3,4 --gateway-spin-us -1 2>&1 | sed -n '/== tickrt run summary/,$p'
echo "== 4. batching: capture source, no orders, speed ${BATCH_SPEED}x, ${BATCH_DURATION}s per run"
for n in 1 8 64 256; do
  for mb in 8 1; do
    out=$($BIN/tickrt run --source capture --no-trade --mode pipelined --speed $BATCH_SPEED --duration $BATCH_DURATION \
          --extra-symbols $((n - 1)) --max-batch $mb --max-delay-us 50 --cpus 2,3,4 2>&1)
    thr=$(echo "$out" | grep '^throughput' | sed 's/throughput: //')
    md=$(echo "$out" | grep '^market data')
    w=$(echo "$out" | grep 'window->output' | awk -F'|' '{printf "P50 %s P95 %s P99 %s", $4, $5, $6}' | tr -s ' ')
    q=$(echo "$out" | grep 'queue wait' | awk -F'|' '{printf "P95 %s", $5}' | tr -s ' ')
    echo "symbols $n max_batch $mb | $thr | window->output us: $w | queue wait $q | $md"
  done
done
echo "== 5. hot swap"
$BIN/bench_pipeline_swap --swaps 5 --cpu-infer 2 --cpu-feed 3
