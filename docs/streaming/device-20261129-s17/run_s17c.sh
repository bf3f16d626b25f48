#!/usr/bin/env bash
# Session 17 device call 4: long runs for a tick->order P99 over ~100 orders (stream) and issue 8's lstm_attn_s.
set -u
OUT=${OUT:-/tmp/out}; mkdir -p "$OUT"
[ -e /work/main ] || { mkdir -p /work && ln -s "$PWD" /work/main; }
export LD_LIBRARY_PATH=$PWD/.leadgpu/lib:/usr/local/cuda/lib64:/usr/local/cuda/lib
B=.leadgpu/bin
for f in $B/*.xz; do xz -dc "$f" > "${f%.xz}" && chmod +x "${f%.xz}"; done
{ echo "host: $(nproc) CPUs, $(lscpu | grep 'Model name' | sed 's/ \+/ /g')"; uptime; } > "$OUT/host.txt"
echo "== stream 240 s $(date +%T) load $(cut -d' ' -f1 /proc/loadavg)" > "$OUT/run_stream_240.txt"
$B/tickrt run --model models/trained/lstm_attn_stream/model.onnx --duration 240 --cpus 2 --gateway-cpu 4 >> "$OUT/run_stream_240.txt" 2>&1
echo "== lstm_attn_s 120 s $(date +%T) load $(cut -d' ' -f1 /proc/loadavg)" > "$OUT/run_s_120.txt"
$B/tickrt run --model models/trained/lstm_attn_s/model.onnx --duration 120 --cpus 2 --gateway-cpu 4 >> "$OUT/run_s_120.txt" 2>&1
uptime >> "$OUT/host.txt"
