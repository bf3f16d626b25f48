#!/usr/bin/env bash
# Session 19 device call 1: inference at the boundary ([engine] infer_at_boundary), on / off / on, tick->order
# with the trained streaming model against the in-process simulator (1x), --cpus 2 --gateway-cpu 4.
set -u
. docs/streaming/device_env.sh
M=models/trained/lstm_attn_stream/model.onnx
lscpu | grep -E 'Model name|^CPU\(s\)' > "$OUT/host.txt"
run() {   # name seconds on|off
  echo "== $1 $2 s infer_at_boundary $3 $(date +%T) load $(cut -d' ' -f1 /proc/loadavg)" > "$OUT/$1.txt"
  "$B"/tickrt run --model $M --duration "$2" --cpus 2 --gateway-cpu 4 --infer-at-boundary "$3" >> "$OUT/$1.txt" 2>&1
  rm -f tickrt-journal.db*
}
run on1 150 on
run off1 120 off
run on2 150 on
