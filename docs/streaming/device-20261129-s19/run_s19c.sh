#!/usr/bin/env bash
# Session 19 device call 3: two more runs of HEAD's defaults (infer_at_boundary on, keep_warm infer), for more
# order ticks behind the tick->order P99.
set -u
. docs/streaming/device_env.sh
M=models/trained/lstm_attn_stream/model.onnx
for r in 1 2; do
  echo "== final$r 190 s defaults $(date +%T) load $(cut -d' ' -f1 /proc/loadavg)" > "$OUT/final$r.txt"
  "$B"/tickrt run --model $M --duration 190 --cpus 2 --gateway-cpu 4 >> "$OUT/final$r.txt" 2>&1
  rm -f tickrt-journal.db*
done
