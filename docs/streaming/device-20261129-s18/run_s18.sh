#!/usr/bin/env bash
# Session 18 device call: tick->order with the streaming model, the warm step prepared first (on,
# HEAD) vs the whole-step warm step (off: TICKRT_AB_OFF=1, the A/B switch of that build only),
# alternated twice, 100 s each; plus the CPU topology.
set -u
OUT=${OUT:-/tmp/out}; mkdir -p "$OUT"
[ -e /work/main ] || { mkdir -p /work && ln -s "$PWD" /work/main; }
export LD_LIBRARY_PATH=$PWD/.leadgpu/lib:/usr/local/cuda/lib64:/usr/local/cuda/lib
B=.leadgpu/bin
for f in $B/*.xz; do xz -dc "$f" > "${f%.xz}" && chmod +x "${f%.xz}"; done
{ echo "host: $(nproc) CPUs, $(lscpu | grep 'Model name' | sed 's/ \+/ /g')"; lscpu -e; uptime; } > "$OUT/host.txt"
for r in 1 2; do for m in on off; do
  if [ $m = off ]; then export TICKRT_AB_OFF=1; else unset TICKRT_AB_OFF; fi
  f="$OUT/run_${m}_$r.txt"
  echo "== $m run $r $(date +%T) load $(cut -d' ' -f1 /proc/loadavg)" > "$f"
  $B/tickrt run --model models/trained/lstm_attn_stream/model.onnx --duration 100 --cpus 2 --gateway-cpu 4 >> "$f" 2>&1
done; done
uptime >> "$OUT/host.txt"
