// pipeline/model.hpp — the model the pipeline runs: load + check + validate, and hot swap.
//
// load_model() (setup path, any thread): ONNX file (or a tickrt engine file) -> model package
// (features/model_package.hpp: feature list, window, sampling must match the running feature code)
// -> Engine::build for batches 1..max_batch within the workspace limit -> validation on golden
// data: when <model dir>/parity_logits.npy and a parity_x.npy (the model's dir or its parent) are
// present, every window is run and max |engine - reference| must be <= tol (and the argmax equal
// except for ties within tol); without golden data only finite outputs on a synthetic window are
// required (or the load fails when require_golden). Every failure names the file and the reason.
//
// ModelSlot (hot swap): one per inference thread. The inference thread calls `current()` at the
// top of each inference (one relaxed atomic load when nothing is pending; adopting a published
// instance is one pointer exchange) and keeps using the instance for the whole batch, so an
// in-flight inference always finishes on the engine it started with. The retired instance goes
// back through an SPSC ring to the swapper's background thread, which frees it: no free, no
// allocation, no lock on the hot path.
//
// ModelSwapper: owns the background thread (SCHED_IDLE / nice 19). request_swap(path) (control
// endpoint, CLI, tests; any thread) queues a build; the thread also polls the model file's mtime
// when watching. A model that fails to load or validate is refused: the old one keeps running and
// last_result() says why.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/spsc_ring.hpp"
#include "core/status.hpp"
#include "features/features.hpp"
#include "features/model_package.hpp"
#include "infer/engine.hpp"
#include "pipeline/warm.hpp"
#include "pipeline/prefix_infer.hpp"
#include "pipeline/stream_infer.hpp"
#if defined(TICKRT_HAVE_CUDA)
#include "infer/cuda/cuda_backend.hpp"
#endif

namespace tickrt::pipeline {

struct ModelOptions {
  std::string path;
  int max_batch = 8;
  std::size_t workspace_limit = 0;  // bytes; 0 = unlimited
  bool require_golden = false;
  double golden_tol = 1e-4;
  features::FeatureConfig features;
  std::uint64_t version = 1;        // stamped into LoadedModel::version
  std::string device = "cpu";       // "cpu" or a CUDA device string already checked by choose_device()
  // [engine] precision of an ONNX model's engine: "fp32", or a quant spec ("int8", "fp16",
  // "default=int8,*attn*=fp32"; infer/quant/quant.hpp). INT8 calibrates on `calib` (float32 model
  // inputs [n, T, F]; "" = the golden parity_x.npy) unless `calib_cache` matches. A reduced-precision
  // engine is validated on the golden data by argmax agreement >= golden_min_agreement (its logits
  // differ from FP32's by design), max |diff| reported.
  std::string precision = "fp32";
  std::string calib;
  std::string calib_cache;
  double golden_min_agreement = 0.95;
  StreamConfig stream;              // streaming models only (pipeline/stream_infer.hpp)
  // Inline mode, window LSTM models (pipeline/prefix_infer.hpp): LSTM steps per idle slice of the next
  // window's precomputed prefix; 0 = off (every sample runs the whole window).
  int prefix_slice = 0;
};

// [engine] device/fallback -> the device to run on ("cpu" or the CUDA spec). No GPU, no driver, or
// a tickrt built without CUDA: with fallback "cpu" -> "cpu" and `note` says why; with "none" an
// error naming engine.device, the cause, and the fallback key.
Result<std::string> choose_device(const std::string& device, const std::string& fallback, std::string& note);

// Immutable once loaded; shared by all instances made from it.
struct LoadedModel {
  std::shared_ptr<const infer::Engine> engine;
  features::ModelPackage package;
  std::string path;
  std::string validation;     // what was checked, e.g. "golden: 85 windows, max |diff| 4.8e-07"
  std::int64_t load_ms = 0;   // wall time of load + build + validation
  std::uint64_t version = 0;  // 1 for the first model, +1 per adopted swap
  std::size_t in_floats = 0;  // T * F per window
  std::size_t out_floats = 0; // outputs per window (3 for down/flat/up)
  std::string device = "cpu"; // where its instances run (a CUDA model's engine is the plain graph)
  std::string precision = "fp32"; // "fp32" or the quant spec the engine was built with
  // Streaming (stateful one-step) model: tickrt.state in the package (pipeline/stream_infer.hpp).
  // in_floats is then one row (F), and instances get a StreamRunner instead of a context.
  bool streaming = false;
  infer::StreamSpec stream_spec;
  StreamConfig stream;
  int prefix_slice = 0;       // ModelOptions::prefix_slice
};

Result<std::shared_ptr<const LoadedModel>> load_model(const ModelOptions& opt);

// One execution context, prepared for every batch 1..max_batch, bound to one model: a CPU
// ExecutionContext, or a GpuContext when the model's device is CUDA. The members below forward
// to whichever exists with one predictable branch (no virtual call; hot path).
struct ModelInstance {
  std::shared_ptr<const LoadedModel> model;
  WarmSet warm;                                   // what one inference reads (CPU context only; warm.hpp)
  std::unique_ptr<infer::ExecutionContext> ctx;   // null when gpu or streaming
  std::unique_ptr<StreamRunner> stream;           // streaming models only (then ctx is null)
  std::unique_ptr<PrefixRunner> prefix;           // CPU window LSTM models with prefix_slice > 0 (prefix_infer.hpp)
  std::string prefix_note;                        // why there is no prefix runner ("" when there is one or it is off)
#if defined(TICKRT_HAVE_CUDA)
  std::unique_ptr<infer::cuda::GpuContext> gpu;
#endif
  [[nodiscard]] Code select_batch(std::int64_t b) noexcept {
#if defined(TICKRT_HAVE_CUDA)
    if (gpu) return gpu->select_batch(b);
#endif
    return ctx->select_batch(b);
  }
  float* input() const noexcept {
#if defined(TICKRT_HAVE_CUDA)
    if (gpu) return gpu->input(0);
#endif
    return ctx->input(0);
  }
  const float* output() const noexcept {
#if defined(TICKRT_HAVE_CUDA)
    if (gpu) return gpu->output(0);
#endif
    return ctx->output(0);
  }
  [[nodiscard]] Code run() noexcept {
#if defined(TICKRT_HAVE_CUDA)
    if (gpu) return gpu->run();
#endif
    return ctx->run();
  }
  const infer::Dims& output_dims() const noexcept {
#if defined(TICKRT_HAVE_CUDA)
    if (gpu) return gpu->output_dims(0);
#endif
    return ctx->output_dims(0);
  }
};
Result<std::unique_ptr<ModelInstance>> make_instance(std::shared_ptr<const LoadedModel> m, int max_batch);

class ModelSlot {
 public:
  explicit ModelSlot(std::unique_ptr<ModelInstance> first);
  ~ModelSlot();
  ModelSlot(const ModelSlot&) = delete;
  ModelSlot& operator=(const ModelSlot&) = delete;

  // Inference thread (hot path): the instance to use for the next inference. With swap warm-up on,
  // a published instance is adopted once warm_pending() has read its whole WarmSet on this thread
  // (its weights and arena are then in this core's caches), or max_ns after this thread first saw
  // it (a thread that never idles still adopts it, cold).
  ModelInstance* current() noexcept {
    ModelInstance* p = pending_.load(std::memory_order_acquire);
    if (p != nullptr) [[unlikely]] {
      if (!warm_gate_ || p == warmed_ || gate_expired(p)) adopt();
    }
    return cur_;
  }
  // Setup path (before the inference thread runs): swap warm-up on/off and its deadline.
  void set_swap_warm(bool on, std::int64_t max_ns) noexcept {
    warm_gate_ = on;
    warm_max_ns_ = max_ns;
  }
  // Inference thread, between ticks: one slice of the pending instance's warm-up — first its WarmSet
  // (up to `lines` 64-byte lines per call), then, when both it and the current instance have a window
  // prefix runner (prefix_infer.hpp), the prefixes the current one keeps, recomputed on the new model
  // one slice per call, so the first sample after adoption is a one-step run_last like any other.
  // True when nothing is pending (or it is warm: current() adopts it at the next inference).
  bool warm_pending(std::size_t lines) noexcept;
  // Inference thread: the current instance's window prefix runner (if any) wants the prefix of the window
  // the symbol's next row completes (prefix_infer.hpp), and so does a pending instance whose warm-up took
  // the current one's wants (its prefixes stay the ones the next tick needs).
  void want_prefix(feed::SymbolId sym, const features::FeatureEngine& fe) noexcept;
  // Swapper thread: publish a new instance (ownership passes to the slot). False when the slot
  // still has an unadopted instance (the caller keeps ownership and retries).
  [[nodiscard]] bool publish(ModelInstance* inst) noexcept;
  // Swapper thread: frees the instances the inference thread retired. Returns how many.
  int collect() noexcept;
  std::uint64_t adopted() const noexcept { return adopted_.load(std::memory_order_relaxed); }
  // Window prefix counters of every instance this slot ran, the current one included (inference
  // thread, or any thread once it stopped).
  PrefixCounters prefix_counters() const noexcept;
  // The version the inference thread runs now (any thread; relaxed).
  std::uint64_t running_version() const noexcept { return running_version_.load(std::memory_order_relaxed); }

 private:
  void adopt() noexcept;
  bool gate_expired(ModelInstance* p) noexcept;
  ModelInstance* cur_;                       // inference thread only
  bool warm_gate_ = false;                   // inference thread only (after setup)
  std::int64_t warm_max_ns_ = 0;
  ModelInstance* seen_ = nullptr;            // pending instance being warmed, and when first seen
  std::int64_t seen_ns_ = 0;
  ModelInstance* warmed_ = nullptr;          // pending instance fully warmed (current() adopts it)
  bool touched_ = false;                     // seen_'s WarmSet was read through
  bool prefix_synced_ = false;               // seen_'s prefix runner took the current one's wants
  WarmCursor warm_cursor_;
  std::atomic<ModelInstance*> pending_{nullptr};
  SpscRing<ModelInstance*> retired_{16};     // inference thread -> swapper thread
  ModelInstance* retire_overflow_ = nullptr; // never in practice: the ring holds 16
  PrefixCounters retired_prefix_;            // summed over the instances retired so far
  std::atomic<std::uint64_t> adopted_{0};
  std::atomic<std::uint64_t> running_version_{0};
};

struct SwapResult {
  bool ok = false;
  std::string path;
  std::string message;       // reason on failure, validation summary on success
  std::uint64_t version = 0;
  std::int64_t build_ms = 0;
};

class ModelSwapper {
 public:
  // `slots` are the inference threads' slots (owned by the caller, outliving the swapper).
  ModelSwapper(ModelOptions opt, std::shared_ptr<const LoadedModel> first, std::vector<ModelSlot*> slots,
               bool watch, int watch_ms);
  ~ModelSwapper();
  ModelSwapper(const ModelSwapper&) = delete;
  ModelSwapper& operator=(const ModelSwapper&) = delete;

  void start();
  void stop();
  // Any thread: queue a swap to `path` (empty = reload the current path).
  void request_swap(const std::string& path);
  // Blocks until the queue is empty and the last request finished (tests, CLI); false on timeout.
  bool wait_idle(int timeout_ms);
  SwapResult last_result() const;
  std::uint64_t swaps_ok() const noexcept { return ok_.load(); }
  std::uint64_t swaps_failed() const noexcept { return failed_.load(); }
  std::shared_ptr<const LoadedModel> current_model() const;
  // Called on the background thread after each attempt (metrics, logs).
  void on_result(std::function<void(const SwapResult&)> f) { on_result_ = std::move(f); }

 private:
  void loop();
  void do_swap(const std::string& path);

  ModelOptions opt_;
  std::vector<ModelSlot*> slots_;
  bool watch_;
  int watch_ms_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::string> queue_;
  bool busy_ = false;
  bool stop_ = false;
  std::shared_ptr<const LoadedModel> model_;
  SwapResult last_;
  std::atomic<std::uint64_t> ok_{0}, failed_{0};
  std::function<void(const SwapResult&)> on_result_;
  std::thread thread_;
};

}  // namespace tickrt::pipeline
