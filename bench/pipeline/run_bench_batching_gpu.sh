#!/bin/bash
# bench/pipeline/run_bench_batching_gpu.sh [BIN_DIR] — issue 8 item 3 on the GPU: dynamic batching against
# symbol count with the CUDA backend (lstm_attn_s, `--device cuda`), capture source (no network), pipelined,
# no orders, SPEED x (default 4), DURATION s per run (default 8); symbols 1 8 64 256 (renamed copies of the
# bundled capture); max_batch 64, 8 and 1 (1 = the unbatched peer, same run). One line per run: throughput,
# window->output (queue wait + gathering + inference, incl. the copies to and from the GPU) P50/P95/P99.
# SYMBOLS / BATCHES override the lists. Needs a GPU, CPUs 2..4, and a tickrt built with CUDA.
set -uo pipefail
BIN=${1:-build/bin}
SPEED=${SPEED:-4}
DURATION=${DURATION:-8}
DEVICE=${DEVICE:-cuda}
echo "== machine: $(lscpu | grep 'Model name' | sed 's/ \+/ /g'), $(nproc) CPUs; GPU: $(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -1)"
for n in ${SYMBOLS:-1 8 64 256}; do
  for mb in ${BATCHES:-64 8 1}; do
    out=$($BIN/tickrt run --source capture --no-trade --mode pipelined --speed $SPEED --duration $DURATION --device $DEVICE \
          --extra-symbols $((n - 1)) --max-batch $mb --max-delay-us 50 --cpus 2,3,4 2>&1)
    err=$(echo "$out" | grep -iE '^tickrt: |error' | head -1)
    thr=$(echo "$out" | grep '^throughput' | sed 's/throughput: //')
    md=$(echo "$out" | grep '^market data')
    w=$(echo "$out" | grep 'window->output' | awk -F'|' '{printf "P50 %s P95 %s P99 %s", $4, $5, $6}' | tr -s ' ')
    echo "symbols $n max_batch $mb | $thr | window->output us: $w | $md $err"
  done
done
