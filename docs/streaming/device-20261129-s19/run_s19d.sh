#!/usr/bin/env bash
# Session 19 device call 4: HEAD's defaults after the streaming hand-over moved to InferStage's kept result, one
# longer run (more order ticks behind the P99).
set -u
. docs/streaming/device_env.sh
M=models/trained/lstm_attn_stream/model.onnx
echo "== head 240 s defaults $(date +%T) load $(cut -d' ' -f1 /proc/loadavg)" > "$OUT/head.txt"
"$B"/tickrt run --model $M --duration 240 --cpus 2 --gateway-cpu 4 >> "$OUT/head.txt" 2>&1
