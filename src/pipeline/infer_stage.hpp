// pipeline/infer_stage.hpp — model-input windows -> model outputs, one at a time (inline mode) or
// dynamically batched from an SPSC ring (pipelined mode).
//
// Who calls: the thread that owns the ModelSlot (inline: the one pipeline thread; pipelined: an
// inference thread). Not thread-safe; one InferStage per inference thread.
//
// Dynamic batching (pipelined): poll() pops the first waiting request, then keeps popping until
// max_batch windows are staged or max_delay has passed since the FIRST one was enqueued (so a
// lone request waits at most max_delay; a burst goes out as one batch). With coalescing on, a
// newer window of a symbol already staged replaces the older one (only the newest window per
// symbol is worth inferring: the older decision would be stale before it is made); replaced
// windows are counted (coalesced), never silently lost. With coalescing, gathering also stops once
// every symbol seen so far is staged (a batch cannot grow beyond that): one symbol, no wait. The batch then runs on the slot's
// current model instance (hot swap: adopted between batches, never during one), each window
// normalised with THAT model's package (a swapped model may carry other normalisation stats).
//
// Hot path: no allocation (staging buffers sized at construction for max_batch windows), no locks.
// Limits: a window of at most kMaxWindowFloats floats, at most kMaxOutputs outputs per window.
#pragma once

#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <vector>

#include "core/clock.hpp"
#include "core/latency_histogram.hpp"
#include "core/spsc_ring.hpp"
#include "infer/cpu/kernels.hpp"
#include "pipeline/market.hpp"
#include "pipeline/model.hpp"

namespace tickrt::pipeline {

inline constexpr std::size_t kMaxWindowFloats = 2048;  // T x F: 64 x 24 = 1536 fits
inline constexpr std::size_t kMaxOutputs = 8;

// Feed thread -> inference thread. The raw (un-normalised) window travels by value: the producer
// copies it out of the FeatureEngine ring, which it keeps updating.
struct InferRequest {
  InferRequest(const SampleMeta& m, std::span<const float> w) noexcept
      : meta(m), enqueue_tsc(TscClock::ticks()), n_floats(static_cast<std::uint32_t>(w.size())) {
    std::memcpy(x, w.data(), w.size() * sizeof(float));  // caller checked w.size() <= kMaxWindowFloats
  }
  SampleMeta meta;
  std::uint64_t enqueue_tsc = 0;
  std::uint32_t n_floats = 0;
  // 64-byte aligned: the copy in and out is whole cache lines, and the slot array is 64-aligned.
  alignas(64) float x[kMaxWindowFloats];
};

// Inference thread -> execution (pipelined) / straight on (inline).
struct InferResult {
  SampleMeta meta;
  std::uint64_t enqueue_tsc = 0;   // 0 in inline mode (no queue)
  std::uint64_t infer_start = 0;   // TSC
  std::uint64_t infer_end = 0;
  std::uint64_t model_version = 0;
  std::uint16_t batch = 1;
  std::uint8_t n_out = 0;
  bool ok = false;                 // engine run returned ok
  float out[kMaxOutputs] = {};
};

struct BatchConfig {
  int max_batch = 8;
  std::int64_t max_delay_ns = 50'000;
  bool coalesce = true;
};

struct InferCounters {
  std::uint64_t inferences = 0;   // windows inferred
  std::uint64_t batches = 0;
  std::uint64_t coalesced = 0;    // windows replaced by a newer one of the same symbol
  std::uint64_t run_errors = 0;
  std::uint64_t results_dropped = 0;  // result ring full
  std::uint64_t batch_hist[257] = {}; // batches by size
  std::uint64_t warm_passes = 0;      // keep_warm touch: whole WarmSet passes between ticks
  std::uint64_t warm_runs = 0;        // keep_warm infer: throw-away inferences between ticks
  std::uint64_t trickles = 0;         // keep_warm infer: trickles (vector burst + WarmSet lines) between ticks
  std::uint64_t ahead_runs = 0;       // infer_ahead: model runs (window) / row steps (streaming) at a boundary
  std::uint64_t ahead_used = 0;       // due samples whose result was ready when their tick came (no engine run then)
};
// The window-prefix counters: slot().prefix_counters() (every instance the slot ran) or the current one's.

// Between ticks (warm.hpp): the swap warm-up of a pending instance always comes first; then
// keep_warm of the current instance once no inference ran for after_ns.
struct StageWarmConfig {
  KeepWarm mode = KeepWarm::off;
  std::int64_t after_ns = 1'000'000;
  std::size_t lines = 64;   // per idle() call: ~0.1-0.3 us, the most a tick can wait for it
  // keep_warm infer: every trickle_ns between ticks, cpu::vector_keepalive(trickle_iters) + `lines` lines of the
  // WarmSet (config.hpp keep_warm_trickle_us); 0 = off.
  std::int64_t trickle_ns = 0;
  int trickle_iters = 32;
};

class InferStage {
 public:
  InferStage(ModelSlot& slot, BatchConfig bc, TscClock clock);
  InferStage(const InferStage&) = delete;
  InferStage& operator=(const InferStage&) = delete;

  // Inline: the window of `fe` -> out. False when the model could not run (counted).
  [[nodiscard]] bool infer_one(const SampleMeta& meta, const features::FeatureEngine& fe, InferResult& out) noexcept;

  // Inline, a row that is not a due sample (MarketHandler::kRowOnly): a streaming model steps it into
  // the symbol's state slot, no result (stream_infer.hpp); a window model with a prefix runner wants
  // the prefix of the window the next row completes (the first window, or after a skipped row).
  void step_row(const SampleMeta& meta, const features::FeatureEngine& fe) noexcept {
    ModelInstance* i = slot_.current();
    if (i->stream) (void)i->stream->step(i->model->package, meta.symbol, meta.sample_ts_ns, fe.samples(), fe.window());
    else slot_.want_prefix(meta.symbol, fe);
  }

  // Inline, between ticks (`[engine] infer_at_boundary`): the rows of a boundary were taken by the clock
  // (MarketHandler::sample_boundaries), before the message that will make them a due sample. The model runs
  // on them now: a streaming model steps the symbol's slot (StreamRunner keeps the step's output); a window
  // model with a full window runs it (its prefix, if ready) and the result is kept for the symbol. The tick's
  // infer_one() on the same rows (fe.samples() unchanged) and the same instance then hands that result on
  // without running the engine (counted: ahead_used); anything else (a hot swap between, more rows) runs as
  // before. Same outputs either way. Returns true when the engine ran, with its TSC start/end. Hot path.
  bool infer_ahead(const SampleMeta& meta, const features::FeatureEngine& fe, std::uint64_t& t0, std::uint64_t& t1) noexcept;

  // Pipelined: one batch from `in` into `out`; returns the number of windows inferred (0: idle).
  int poll(SpscRing<InferRequest>& in, SpscRing<InferResult>& out) noexcept;

  // Inline: the symbol's book lost integrity (gap -> resync); a streaming model restarts its state.
  void on_resync(feed::SymbolId sym) noexcept {
    if (ModelInstance* i = slot_.current(); i->stream) i->stream->reset_symbol(sym);
    if (sym < ahead_.size()) ahead_[sym].rows = 0;   // a result kept at the boundary predates the restart
  }

  // Setup path (before the thread runs).
  void set_warm(const StageWarmConfig& w) noexcept;
  // The owning thread, after a poll pass that found no work (hot path: no allocation, no syscall;
  // at most `lines` cache lines read, or one throw-away inference in keep_warm infer mode).
  void idle() noexcept;

  const InferCounters& counters() const noexcept { return c_; }
  // Hot swap: the engine time (infer_start -> infer_end, ns) of the first inference on each newly
  // adopted instance, next to every other inference's — what a swap adds where it can add anything.
  const LatencyHistogram& first_on_new_engine() const noexcept { return swap_first_; }
  const LatencyHistogram& other_inferences() const noexcept { return others_; }
  ModelSlot& slot() noexcept { return slot_; }

 private:
  void stage(const InferRequest& r) noexcept;
  void trickle(std::uint64_t now) noexcept;
  // A window model's batch-1 run on the symbol's window (from its prefix when ready); the result in inst.output().
  bool run_window(ModelInstance& inst, feed::SymbolId sym, const features::FeatureEngine& fe) noexcept;
  void keep_ahead(feed::SymbolId sym, const ModelInstance* inst, std::uint64_t rows, const float* y) noexcept;
  void record_engine_time(const ModelInstance* inst, std::uint64_t t0, std::uint64_t t1) noexcept;

  ModelSlot& slot_;
  BatchConfig bc_;
  TscClock clock_;
  std::int64_t max_delay_ticks_ = 0;
  int staged_ = 0;
  std::vector<InferResult> meta_;          // [max_batch]
  std::vector<float> raw_;                 // [max_batch, kMaxWindowFloats]
  std::vector<std::int16_t> slot_of_sym_;  // [kMaxSymbols], -1 = not staged
  std::vector<std::uint8_t> seen_;         // [kMaxSymbols]: symbol ever staged
  int symbols_seen_ = 0;
  InferCounters c_;
  StageWarmConfig warm_;
  std::uint64_t warm_after_ticks_ = 0;
  std::uint64_t trickle_ticks_ = 0, last_trickle_tsc_ = 0;
  infer::cpu::Isa isa_ = infer::cpu::Isa::scalar;
  float trickle_sink_ = 0.f;
  std::uint64_t last_work_tsc_ = 0;   // end of the last inference (or keep-warm action)
  WarmCursor warm_cursor_;
  const ModelInstance* last_inst_ = nullptr;   // instance of the last inference (null: none yet)
  // infer_ahead's results of window models, per symbol (kMaxSymbols): valid while rows == fe.samples().
  struct Ahead {
    const ModelInstance* inst = nullptr;   // with the model's version (grows with every swap): no reuse of a freed
    std::uint64_t version = 0;             // instance's address can pass for the instance that ran it
    std::uint64_t rows = 0;   // 0: none
    std::uint8_t n_out = 0;
    float out[kMaxOutputs] = {};
  };
  std::vector<Ahead> ahead_;
  LatencyHistogram swap_first_, others_;
};

// Feed side of pipelined mode: copies the symbol's window into the ring. False (counted by the
// caller as a dropped tick) when the ring is full.
[[nodiscard]] bool enqueue_window(SpscRing<InferRequest>& ring, const SampleMeta& meta, const features::FeatureEngine& fe) noexcept;

}  // namespace tickrt::pipeline
