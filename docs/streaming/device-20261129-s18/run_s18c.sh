#!/usr/bin/env bash
# Session 18 device call 3: one long tick->order run of the streaming model at HEAD (more orders for the P99).
set -u
OUT=${OUT:-/tmp/out}; mkdir -p "$OUT"
[ -e /work/main ] || { mkdir -p /work && ln -s "$PWD" /work/main; }
export LD_LIBRARY_PATH=$PWD/.leadgpu/lib:/usr/local/cuda/lib64:/usr/local/cuda/lib
B=.leadgpu/bin
for f in $B/*.xz; do xz -dc "$f" > "${f%.xz}" && chmod +x "${f%.xz}"; done
echo "== stream 170 s $(date +%T) load $(cut -d' ' -f1 /proc/loadavg)" > "$OUT/run_stream_170.txt"
$B/tickrt run --model models/trained/lstm_attn_stream/model.onnx --duration 170 --cpus 2 --gateway-cpu 4 >> "$OUT/run_stream_170.txt" 2>&1
