#!/usr/bin/env bash
# Session 17 device call 2: step (whole / prepared) and tick->order, before (trickle + book touch, no prepare) vs after (prepare).
set -u
OUT=${OUT:-/tmp/out}; mkdir -p "$OUT"
[ -e /work/main ] || { mkdir -p /work && ln -s "$PWD" /work/main; }
export LD_LIBRARY_PATH=$PWD/.leadgpu/lib:/usr/local/cuda/lib64:/usr/local/cuda/lib
B=.leadgpu/bin
for f in $B/*.xz; do xz -dc "$f" > "${f%.xz}" && chmod +x "${f%.xz}"; done
M=models/trained/lstm_attn_stream/model.onnx
{ echo "host: $(nproc) CPUs, $(lscpu | grep 'Model name' | sed 's/ \+/ /g')"; uptime; } > "$OUT/host.txt"
for r in 1 2; do
  for b in bench_stream_before bench_stream; do
    echo "== $b round $r" >> "$OUT/bench_stream.txt"
    taskset -c 2 $B/$b --seconds 3 --batch 1 --window none --stream $M --data tests/infer_stream/data/real10k_x.npy >> "$OUT/bench_stream.txt" 2>&1
  done
done
DUR=${DUR:-60}
for r in 1 2; do
  for b in tickrt_before tickrt; do
    echo "== $b round $r $(date +%T) load $(cut -d' ' -f1 /proc/loadavg)" > "$OUT/run_${b}_r$r.txt"
    $B/$b run --model $M --duration $DUR --cpus 2 --gateway-cpu 4 >> "$OUT/run_${b}_r$r.txt" 2>&1
  done
done
uptime >> "$OUT/host.txt"
