# bench/cuda/gpu_build.sh — sourced (not run) by run_gpu.sh and run_lstm_attn.sh, the GPU machine's calls:
# the CUDA toolchain on PATH, where the engine files are, the host description and the engine-only CUDA
# build (build-gpu: test_cuda + bench_cuda; no GTest / Google Benchmark / protobuf needed) they both run first.
# Needs $OUT (the caller's output folder, created).
export PATH=/usr/local/cuda/bin:$PATH
# Engine files written beforehand by tickrt_cuda_engines where the ONNX importer exists (docs/CUDA.md).
export TICKRT_GPU_ENGINES=${TICKRT_GPU_ENGINES:-build-cuda/gpu-engines}

# gpu_host [more nvidia-smi query fields, comma separated]: the GPU, driver, host CPU and cores, on stdout.
gpu_host() {
  nvidia-smi --query-gpu=name,uuid,driver_version,memory.total,clocks.max.sm${1:+,$1} --format=csv
  lscpu | grep 'Model name'
  nproc
}

# build_gpu_tree: configure + build build-gpu (log: $OUT/build.log), then say how long it took; on a
# failure, the log's tail and the calling script exits 1.
build_gpu_tree() {
  local t0
  t0=$(date +%s)
  cmake -S . -B build-gpu -DCMAKE_BUILD_TYPE=Release -DTICKRT_ENGINE_ONLY=ON -DTICKRT_CUDA=ON \
    -DTICKRT_BUILD_TESTS=OFF -DTICKRT_BUILD_BENCH=OFF >"$OUT/build.log" 2>&1 &&
    cmake --build build-gpu -j"$(nproc)" --target test_cuda bench_cuda >>"$OUT/build.log" 2>&1 ||
    { tail -40 "$OUT/build.log"; exit 1; }
  echo "build: $(( $(date +%s) - t0 )) s"
}
