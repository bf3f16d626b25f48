#!/usr/bin/env bash
# Session 17 device call: bench_stream before/after (fused T=1 LSTM step) and the pipeline with the trickle off/on.
set -u
OUT=${OUT:-/tmp/out}; mkdir -p "$OUT"
[ -e /work/main ] || { mkdir -p /work && ln -s "$PWD" /work/main; }
export LD_LIBRARY_PATH=$PWD/.leadgpu/lib:/usr/local/cuda/lib64:/usr/local/cuda/lib
B=.leadgpu/bin
{ echo "host: $(nproc) CPUs, $(lscpu | grep 'Model name' | sed 's/ \+/ /g')"; uptime; } > "$OUT/host.txt"
for r in 1 2; do
  for b in bench_stream_before bench_stream; do
    echo "== $b round $r" >> "$OUT/bench_stream.txt"
    taskset -c 2 $B/$b --seconds 3 --batch 1 --window none --stream models/trained/lstm_attn_stream/model.onnx >> "$OUT/bench_stream.txt" 2>&1
  done
done
DUR=${DUR:-60}
for r in 1 2; do
  for t in 0 20; do
    echo "== trickle $t round $r $(date +%T) load $(cut -d' ' -f1 /proc/loadavg)" > "$OUT/run_t${t}_r$r.txt"
    $B/tickrt run --model models/trained/lstm_attn_stream/model.onnx --duration $DUR --cpus 2 --gateway-cpu 4 --keep-warm-trickle-us $t >> "$OUT/run_t${t}_r$r.txt" 2>&1
  done
done
uptime >> "$OUT/host.txt"
