#!/usr/bin/env bash
# The streaming benchmarks of docs/BENCHMARKS.md "## streaming", one sweep per repetition:
#   bench/infer_stream/run_bench_stream.sh [BIN_DIR=build/bin] [REPEAT=2] [SECONDS=3] [CPU=1]
# Per sweep: tickrt (bench_stream: stream step, batch of 4 symbols, lstm_attn_s window) then ONNX Runtime
# (ort_stream_bench.js: the same step graph with the state passed in and out, and the window model), both
# pinned to CPU, the machine's load average printed before each. Models: the trained lstm_attn_stream and
# lstm_attn_s (models/trained/); data: the 10,000 real ticks of tests/infer_stream/data.
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${1:-build/bin}
REPEAT=${2:-2}
SECS=${3:-3}
CPU=${4:-1}
OVERHEAD=${OVERHEAD:-build-stream/peers/lstm_attn_stream_step_overhead.onnx}
[ -f "$OVERHEAD" ] || /usr/bin/python3 tools/stream/make_overhead_step.py -o "$OVERHEAD" --window-out "${OVERHEAD%.onnx}_window.onnx"
lscpu | grep 'Model name'
for r in $(seq 1 "$REPEAT"); do
  echo "== sweep $r: $(uptime | sed 's/.*load/load/')"
  taskset -c "$CPU" "$BIN/bench_stream" --seconds "$SECS" --batch 4 --stream models/trained/lstm_attn_stream/model.onnx \
    --window models/trained/lstm_attn_s/model.onnx
  echo "   $(uptime | sed 's/.*load/load/')"
  taskset -c "$CPU" node bench/infer_stream/ort_stream_bench.js --seconds "$SECS" --stream models/trained/lstm_attn_stream/model.onnx \
    --overhead "$OVERHEAD"
done
