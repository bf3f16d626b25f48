#!/usr/bin/env bash
# Session 18 device call 2: per-tick latency of the streaming step (issue 10's per-tick p99 <= 5 us goal) on one
# core of the device host, three sweeps of bench_stream (the step, the prepared step, the prepare), HEAD's binary.
set -u
OUT=${OUT:-/tmp/out}; mkdir -p "$OUT"
[ -e /work/main ] || { mkdir -p /work && ln -s "$PWD" /work/main; }
export LD_LIBRARY_PATH=$PWD/.leadgpu/lib:/usr/local/cuda/lib64:/usr/local/cuda/lib
B=.leadgpu/bin
{ echo "host: $(nproc) CPUs, $(lscpu | grep 'Model name' | sed 's/ \+/ /g')"; uptime; } > "$OUT/host.txt"
for r in 1 2 3; do
  echo "== sweep $r $(date +%T) load $(cut -d' ' -f1 /proc/loadavg)" >> "$OUT/bench_stream.txt"
  taskset -c 2 $B/bench_stream --seconds 3 --batch 1 --window none --stream models/trained/lstm_attn_stream/model.onnx >> "$OUT/bench_stream.txt" 2>&1
done
uptime >> "$OUT/host.txt"
