#!/bin/bash
# bench/pipeline/run_bench_perf.sh [BIN_DIR] — issue 8's latency work, before/after in one run
# (docs/BENCHMARKS.md "## pipeline", docs/PIPELINE.md "Where the time goes"):
#  1. peers: the engine alone, lstm_attn_s batch 1, FP32 and INT8 (`tickrt bench`), pinned;
#  2. the gateway alone against the venue (bench_pipeline_gateway): IO thread sleeping between
#     orders (the old default) vs pinned + spinning, REST vs the WebSocket API gateway;
#  3. tick-to-order, inline, sim 1x, DURATION s each: keep_warm off + gateway unpinned (the old
#     defaults), keep_warm touch / infer with the gateway pinned, and INT8 with touch + pinned;
#  4. hot swap: swap warm-up off (adopt cold, the old behaviour) vs on.
# Needs >= 6 free cores (CPUs 2..5). Set DURATION to change the tick-to-order runs (default 25 s).
set -uo pipefail
BIN=${1:-build/bin}
DURATION=${DURATION:-25}
MODEL=models/trained/lstm_attn_s/model.onnx
I8=${TMPDIR:-/tmp}/lstm_attn_s.int8.engine
echo "== machine: $(lscpu | grep 'Model name' | sed 's/ \+/ /g'), $(nproc) CPUs; load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== 1. peers: engine alone, batch 1, CPU 2"
$BIN/tickrt build $MODEL -o $I8 --int8 --calib models/trained/parity_x.npy --batch 1:1:8 2>&1 | tail -2
taskset -c 2 $BIN/tickrt bench $MODEL --batch 1 --seconds 3 2>&1 | tail -3
taskset -c 2 $BIN/tickrt bench $I8 --batch 1 --seconds 3 2>&1 | tail -3
echo "== 2. gateway alone (200 orders + cancels, one every 5 ms; OMS side on CPU 3)"
$BIN/bench_pipeline_gateway --orders 200 --interval-us 5000 --cpu-main 3 2>&1
$BIN/bench_pipeline_gateway --orders 200 --interval-us 5000 --cpu-main 3 --cpu 4 2>&1
$BIN/bench_pipeline_gateway --orders 200 --interval-us 5000 --cpu-main 3 --cpu 4 --gateway ws 2>&1
summ() { sed -n '/== tickrt run summary/,$p'; }
echo "== 3a. inline, keep_warm off, gateway unpinned (spin 50 us, sleep 20 us) — the old defaults"
$BIN/tickrt run --duration $DURATION --cpus 2 --keep-warm off 2>&1 | summ
echo "== 3b. inline, keep_warm touch, gateway pinned to CPU 4"
$BIN/tickrt run --duration $DURATION --cpus 2 --keep-warm touch --gateway-cpu 4 2>&1 | summ
echo "== 3c. inline, keep_warm infer, gateway pinned to CPU 4"
$BIN/tickrt run --duration $DURATION --cpus 2 --keep-warm infer --gateway-cpu 4 2>&1 | summ
echo "== 3d. inline, INT8 ([engine] precision = int8), keep_warm touch, gateway pinned to CPU 4"
$BIN/tickrt run --duration $DURATION --cpus 2 --keep-warm touch --gateway-cpu 4 --precision int8 2>&1 | summ
echo "== 4. hot swap, warm-up off then on"
$BIN/bench_pipeline_swap --swaps 5 --cpu-infer 2 --cpu-feed 3 --swap-warm 0
$BIN/bench_pipeline_swap --swaps 5 --cpu-infer 2 --cpu-feed 3 --swap-warm 1
echo "== load after: $(cut -d' ' -f1-3 /proc/loadavg)"
