#!/usr/bin/env bash
# Session 19 device call 2: with infer_at_boundary on (default), keep_warm "path" (the tick path warm, not the
# model: no throw-away inferences or trickles) against the default "infer", alternated path / infer / path.
set -u
. docs/streaming/device_env.sh
M=models/trained/lstm_attn_stream/model.onnx
run() {   # name seconds keep_warm
  echo "== $1 $2 s keep_warm $3 $(date +%T) load $(cut -d' ' -f1 /proc/loadavg)" > "$OUT/$1.txt"
  "$B"/tickrt run --model $M --duration "$2" --cpus 2 --gateway-cpu 4 --keep-warm "$3" >> "$OUT/$1.txt" 2>&1
  rm -f tickrt-journal.db*
}
run path1 150 path
run infer1 150 infer
run path2 150 path
