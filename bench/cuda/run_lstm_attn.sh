#!/usr/bin/env bash
# bench/cuda/run_lstm_attn.sh — the GPU machine's part for the fused LSTM+attention kernel (docs/CUDA.md, docs/gpu/run6, run7):
# build the engine-only tree (gpu_build.sh, as run_gpu.sh), run tests/cuda on the two lstm_attn_s models, then bench_cuda (with the
# kernel's phase cycles) and torch_bench.py on lstm_attn_s in the same call, REPS times.
#   bench/cuda/run_lstm_attn.sh [batches (default 1,64,1024)] [reps (default 2)] [seconds (default 0.3)]
# Files under $OUT (8 at most come back from the device tool): build.log, test_cuda.txt, bench_rep{1,2}.tsv/.log,
# torch_rep.tsv; the environment (nvidia-smi, lscpu) and PyTorch's log go to stdout (keep it as run.log).
set -u -o pipefail
OUT=${OUT:-out/gpu}
BATCHES=${1:-1,64,1024}
REPS=${2:-2}
SECS=${3:-0.3}
mkdir -p "$OUT"
source "$(dirname "$0")/gpu_build.sh"  # PATH, TICKRT_GPU_ENGINES, gpu_host, build_gpu_tree
gpu_host pcie.link.gen.max,pcie.link.width.max
build_gpu_tree
rc=0
{ ./build-gpu/bin/test_cuda lstm_attn_s && ./build-gpu/bin/test_cuda trained_lstm_attn_s; } 2>&1 | tee "$OUT/test_cuda.txt" || rc=1
grep -E "FAIL|passed" "$OUT/test_cuda.txt"
for r in $(seq 1 "$REPS"); do
  ./build-gpu/bin/bench_cuda --models lstm_attn_s --batches "$BATCHES" --seconds "$SECS" --out "$OUT/bench_rep$r.tsv" 2>&1 | tee "$OUT/bench_rep$r.log"
done
PYTHONUNBUFFERED=1 /opt/torch/.venv/bin/python bench/cuda/torch_bench.py --models lstm_attn_s --batches "$BATCHES" --seconds "$SECS" \
  --out "$OUT/torch_rep.tsv" 2>&1
exit $rc
