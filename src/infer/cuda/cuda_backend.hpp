// infer/cuda/cuda_backend.hpp — the CUDA backend: runs an Engine's graph on an NVIDIA GPU.
//
//   auto eng = Engine::load("model.gpu.engine");                    // tickrt build --device cuda (plain graph)
//   auto ctx = cuda::GpuContext::create(eng, {.device = "cuda:0"}); // setup: device, stream, cuBLAS
//   (*ctx)->prepare_batch(64);                                      // setup: plan, device arena, weights,
//                                                                   //        CUDA graph captured once
//   std::copy(x, x + n, (*ctx)->input(0));                          // pinned host buffer
//   if ((*ctx)->run() != Code::ok) ...;  (*ctx)->output(0)          // hot path: one graph launch + sync
//
// Who calls: the CLI (`tickrt bench|run-engine --device cuda:N`), tests/cuda, bench/cuda; a pipeline thread
// owns one GpuContext exactly as it owns one CPU ExecutionContext.
// How it executes: prepare_batch(b) specializes the graph with the CPU planner (runtime/plan: concrete
// shapes, constant folding of shape chains, views, one arena layout) and lowers every remaining step to GPU
// work: cuBLAS GEMMs (FP32, or FP16 tensor cores with FP32 accumulation when Precision::fp16), tickrt's
// own kernels for element-wise ops with broadcasting, softmax, reductions, layer/batch norm, convolution,
// data movement (transpose/slice/concat/split/gather as one strided-copy kernel); a whole "2-layer LSTM (H = 64)
// + attention + MLP head" model as one GEMM + ONE fused persistent kernel (lstm_attn.cuh); otherwise the LSTM: the input
// projection of all steps is one GEMM, the recurrence one persistent kernel per layer (each block owns a
// tile of batch rows for all T steps, R^T held in shared memory, no inter-block synchronisation) when
// 16*H^2 bytes fit in shared memory, else one GEMM + one fused cell kernel per step. The device arena uses
// the CPU plan's offsets (tensors with disjoint lifetimes share bytes). The whole inference, input copy
// from pinned host memory and result copy back included, is captured once into a CUDA graph; run() replays
// it on the context's stream and waits.
// Invariants: one GpuContext per thread at a time; the Engine is shared read-only; run() allocates nothing,
// throws nothing, takes no lock (the CUDA driver's own locking aside).
// Limits: float32 graphs (the engine's FP32 IR; FP16/INT8 are GPU execution precisions, not engine types);
// ops outside the lowered set are refused at prepare with every unsupported node named; MatMul broadcasting
// only where one side is a 2-D matrix or both have the same batch dims; one GPU per context.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/status.hpp"
#include "infer/engine.hpp"

namespace tickrt::infer::cuda {

// fp16: GEMMs on the tensor cores (FP16 inputs, FP32 accumulate), FP16 weights in the fused LSTM+attention
// kernel. int8: the fused kernel's recurrent weights in INT8 (per-row scales, h at 1/127, __dp4a into int32);
// every other GEMM as fp16. Elementwise ops, norms, softmax, cell state: FP32 in every mode.
enum class Precision : std::uint8_t { fp32 = 0, fp16 = 1, int8 = 2 };

struct DeviceInfo {
  int ordinal = -1;            // CUDA runtime ordinal (after CUDA_VISIBLE_DEVICES)
  std::string name;            // "NVIDIA H200"
  std::string uuid;            // "GPU-xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" (MIG instances: as the runtime reports)
  int cc_major = 0, cc_minor = 0;
  std::size_t total_mem = 0;
  int sms = 0;
};

// Number of visible devices; a Status naming the cause (no driver, driver too old, no device) otherwise.
Result<int> device_count();
// "cuda", "cuda:N" (ordinal among visible devices) or "cuda:<UUID>" ("GPU-..." / "MIG-..." or a unique
// prefix of it). Errors list the devices present.
Result<DeviceInfo> resolve_device(const std::string& spec);
std::vector<DeviceInfo> list_devices();
// "tickrt-engine/cuda/sm_90/NVIDIA H200": what a GPU engine is specialised for.
std::string fingerprint(const DeviceInfo& d);
// Records the target device's compute capability in the graph's metadata ("tickrt.cuda.sm"), checked by
// GpuContext::create: an engine built for sm_90 refuses to run on an older device.
void stamp_target(Graph& g, const DeviceInfo& d);

struct GpuOptions {
  std::string device = "cuda:0";
  Precision precision = Precision::fp32;
  int stream_priority = 0;            // 0 = default; negative = higher (CUDA's convention), clamped to the range
  std::size_t memory_limit = 0;       // bytes of device memory this context may allocate; 0 = unlimited
  bool use_graph = true;              // capture into a CUDA graph (off: launch each step per run, for debugging)
  bool fuse_lstm_attn = true;         // 2-layer LSTM + attention + head (H = 64) as one kernel (lstm_attn.cuh)
  // FP16 fused kernel: write the logits to the (mapped) pinned output buffer directly; read x from the pinned input
  // buffer directly when it is <= 1 MiB, else copy it in two parts, the second WHILE the kernel runs (docs/CUDA.md).
  // Off: plain copy nodes before / after the kernel, as every other lowering.
  bool host_direct_io = true;
};

class GpuContext {
 public:
  static Result<std::unique_ptr<GpuContext>> create(std::shared_ptr<const Engine> engine, const GpuOptions& opt);
  ~GpuContext();
  GpuContext(const GpuContext&) = delete;
  GpuContext& operator=(const GpuContext&) = delete;

  // Setup path: plan, device memory (counted against memory_limit), weight upload, graph capture.
  Status prepare_batch(std::int64_t batch);
  // Hot path: make a prepared batch current.
  [[nodiscard]] Code select_batch(std::int64_t batch) noexcept;

  // Pinned host buffers of the current batch (valid until the next prepare*).
  float* input(std::size_t i) const noexcept;
  const float* output(std::size_t i) const noexcept;
  const Dims& input_dims(std::size_t i) const noexcept;
  const Dims& output_dims(std::size_t i) const noexcept;
  std::size_t num_inputs() const noexcept;
  std::size_t num_outputs() const noexcept;

  // Hot path: copies inputs in, runs, copies outputs back, waits. internal if the device reported an error.
  [[nodiscard]] Code run() noexcept;
  // The same without waiting; wait() blocks until the results are in the pinned output buffers.
  [[nodiscard]] Code run_async() noexcept;
  [[nodiscard]] Code wait() noexcept;

  const DeviceInfo& device() const noexcept;
  std::size_t device_bytes() const noexcept;   // device memory held by this context
  int steps() const noexcept;                  // GPU launches per inference in the current batch's plan
  std::string describe() const;                // per-step lowering of the current batch (for inspect/bench)
  std::string last_error() const;              // the CUDA error behind a failed run()
  // Not the hot path: runs the current batch's steps eagerly `reps` times with a CUDA event between steps and
  // returns the mean device time of each step (launch gaps of eager execution included), one line per step.
  std::string profile(int reps = 20);

  struct Impl;
 private:
  explicit GpuContext(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace tickrt::infer::cuda
