// pipeline/stream_infer.hpp — a streaming (stateful) model in the pipeline and the backtester.
//
// A streaming model (infer/stream.hpp: a one-step graph whose recurrent state is declared in the
// model package, tickrt.state) steps each symbol's state slot once per feature row instead of
// re-running a window. It rides on the same objects as a windowed model: load_model() recognises it,
// make_instance() gives the ModelInstance a StreamRunner instead of an ExecutionContext, and
// InferStage::infer_one() (inline mode; what `tickrt run` inline and `tickrt backtest` call) hands
// the sample to StreamRunner::infer(). Nothing else changes for the strategy: it gets logits.
//
// Rows: the symbol's FeatureEngine counts the rows it produced since its reset (samples()) and keeps
// the last T of them (window(); T = the running FeatureConfig window, 64: the replay buffer). The
// runner remembers, per slot, the row count at its last step and steps every row it has not seen
// (usually one; several after a quiet spell, when one message crosses several sampling boundaries).
//
// Reset policy (docs/STREAMING.md). A slot is zeroed and re-stepped from the rows the window still
// holds (at most T; with row samples, the rows since the reset) when:
//   * session start / first sample of a symbol (slots start zeroed);
//   * the symbol's FeatureEngine was reset (its row count went down: new session, book resync that
//     resets features) or reset_symbol() was called (the feed saw a book gap: integrity loss);
//   * more rows are missing than the window holds (rows lost: the state cannot be caught up);
//   * the sample is more than max_gap_ns after the slot's last step (a long gap in the data).
// Row samples (MarketHandler::set_row_samples, on in `tickrt run` inline and `tickrt backtest` for a
// streaming model): the rows that are not due samples (window not full yet, book not tradable) come
// to step() as they are made, so a session start / features reset is met at its first row and its
// "rebuild" is the rows since the reset (usually one): the first due sample costs one step, not T.
// A replay of up to T rows then remains only for a new instance (hot swap), lost rows, a resync and a
// long gap. Without row samples (direct infer() callers) the first due sample rebuilds from the window.
// Warm-up: after a reset the output is withheld (infer() returns not_warm, the strategy sees no
// result) until the slot has stepped `warmup` rows (tickrt.warmup of the model, or the config).
//
// Hot swap (ModelSwapper): the state is REBUILT, not handed over (a new model's state means nothing
// to the old weights and vice versa). The new instance starts with zeroed slots; the first sample of
// each symbol after the swap replays the symbol's last T rows (the FeatureEngine window) into the
// new slot before that sample's step, so the new model trades at once on a state warmed by T rows
// (T >= warmup: checked at load) instead of waiting `warmup` live samples. The replay runs on the
// inference thread at that first sample (T steps, about T x the step time, once per symbol).
//
// Threading: one StreamRunner per ModelInstance (one inference thread). Hot path: infer(),
// reset_symbol(): no allocation (buffers sized at create()), no exceptions, no locks.
// Limits: symbols with id >= slots are refused (counted); inline mode only (the pipelined ring
// carries a window without the row count).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/status.hpp"
#include "features/model_package.hpp"
#include "infer/stream.hpp"

namespace tickrt::pipeline {

struct ModelOptions;
struct LoadedModel;

// load_model()'s branch for a streaming model (model.cpp calls it once the package parsed): checks
// the package against the running features (the feature list and sampling; its tickrt.window is one
// row per step, the running window T is the replay buffer and must be >= the warm-up), builds the
// engine (unless `engine` came from an engine file), and validates: with golden_x.npy [T, S, F] and
// golden_logits.npy [T, S, C] beside the model, S streams stepped from a reset must match within
// golden_tol; without them, finite outputs over 8 zero rows (or an error when require_golden).
// The feature window (replay buffer) should hold >= the warm-up: replay_rows() says how many; `tickrt run`
// sizes its FeatureEngines with it. With a shorter window a reset slot is rebuilt from what the window
// holds and the remaining warm-up is done by live samples (results withheld until then).
Result<std::shared_ptr<const LoadedModel>> load_stream_model(const ModelOptions& opt, std::shared_ptr<const infer::Engine> engine,
                                                             infer::Graph g, features::ModelPackage pkg,
                                                             std::chrono::steady_clock::time_point t0);

struct StreamConfig {
  int slots = 64;                           // symbols (ids 0 .. slots-1)
  std::int64_t max_gap_ns = 5'000'000'000;  // reset after a gap longer than this (sample clock)
  std::int64_t warmup = -1;                 // -1: the model's tickrt.warmup
};

// Rows the feature window should keep for a streaming model: max(64, its warm-up).
std::size_t replay_rows(const LoadedModel& m);

struct StreamCounters {
  std::uint64_t steps = 0;          // rows stepped (including replays)
  std::uint64_t replayed = 0;       // rows stepped to rebuild a reset slot
  std::uint64_t resets_session = 0; // first sample of a symbol / features reset
  std::uint64_t resets_lost = 0;    // more rows missing than the window holds
  std::uint64_t resets_gap = 0;     // long gap
  std::uint64_t resets_resync = 0;  // reset_symbol() (book integrity)
  std::uint64_t not_warm = 0;       // due samples withheld during warm-up
  std::uint64_t row_steps = 0;      // step() calls: rows stepped ahead of a due sample (no result asked)
  std::uint64_t errors = 0;         // engine errors, symbols beyond the slots
  std::uint64_t warm_steps = 0;     // keep_warm: throw-away steps of the scratch slot between ticks
  std::uint64_t prepares = 0;       // prepare_next(): slots whose next step's recurrent half ran between ticks
  std::uint64_t prepared_steps = 0; // symbols' steps that found their slot prepared (the scratch slot's not counted)
  std::uint64_t reused = 0;         // infer() answered with the output of a step already made on the same rows
};

enum class StreamOutcome : std::uint8_t { ok, not_warm, error };

class StreamRunner {
 public:
  static Result<std::unique_ptr<StreamRunner>> create(std::shared_ptr<const infer::Engine> engine, const infer::StreamSpec& spec,
                                                      const StreamConfig& cfg);
  StreamRunner(const StreamRunner&) = delete;
  StreamRunner& operator=(const StreamRunner&) = delete;

  // Hot path. One due sample of `symbol`: steps the rows of `window_raw` (the FeatureEngine's last
  // min(rows_total, T) raw rows, [rows, F], oldest first) that the slot has not seen, normalised
  // with `pkg`; the last step's result (n_out floats) goes to `out`.
  [[nodiscard]] StreamOutcome infer(const features::ModelPackage& pkg, std::uint32_t symbol, std::int64_t sample_ts_ns,
                                    std::uint64_t rows_total, std::span<const float> window_raw, float* out,
                                    std::size_t& n_out) noexcept;
  // Each slot keeps the output of its last step (n_out floats, copied after the step): infer() on rows the
  // slot has already stepped (rows_total unchanged since a step() — the inline loop steps a boundary's rows
  // by the clock, before the message that makes them a due sample: InferStage::infer_ahead) returns that
  // output without stepping again (counted: reused).
  // Hot path. A row that is not a due sample (the window is not full yet, or the book is not
  // tradable): steps it like infer() (same reset policy, same rows) and asks for no result, so the
  // slot is current when the symbol's first due sample comes (one step then, not a replay).
  [[nodiscard]] StreamOutcome step(const features::ModelPackage& pkg, std::uint32_t symbol, std::int64_t sample_ts_ns,
                                   std::uint64_t rows_total, std::span<const float> window_raw) noexcept;
  // Hot path. Book integrity lost for the symbol: its state restarts at its next sample.
  void reset_symbol(std::uint32_t symbol) noexcept;
  // Hot path, between ticks (keep_warm = "infer", InferStage::idle): one throw-away step of a scratch
  // slot that no symbol uses (slot `slots`, on the last row normalised), so the step's code, weights,
  // arena and branch history are hot for the next tick without touching any symbol's state; then one
  // load per cache line of the state of up to `max_symbols` symbols that have stepped (their own slot
  // memory, which the scratch step does not read). The context's output is overwritten: call it only
  // between ticks (never between a step and the read of its output).
  void warm_step(int max_symbols = 4) noexcept;
  // Hot path, between ticks (InferStage::idle, before anything else): the recurrent half of the next step of ONE
  // symbol that stepped since its last prepare (StreamContext::prepare: each LSTM layer's h @ R^T), so that symbol's
  // next row costs only the input half on the tick (~1 us for lstm_attn_stream; bitwise the same result). True when
  // it did that work (the caller's idle pass is then over); false when every stepped symbol is prepared.
  bool prepare_next() noexcept;

  const StreamCounters& counters() const noexcept { return c_; }
  // The output kept from the symbol's last step (result_floats()[0] floats; nullptr for a symbol beyond the slots).
  const float* kept_output(std::uint32_t symbol) const noexcept { return symbol < slot_.size() ? slot_[symbol].out : nullptr; }
  infer::StreamContext& context() noexcept { return *sc_; }
  const infer::StreamContext& context() const noexcept { return *sc_; }
  std::uint32_t warmup() const noexcept { return sc_->warmup(); }

 private:
  StreamRunner() = default;
  // The reset policy and the steps shared by infer() and step(): ok when the slot is warm.
  StreamOutcome advance(const features::ModelPackage& pkg, std::uint32_t symbol, std::int64_t sample_ts_ns,
                        std::uint64_t rows_total, std::span<const float> window_raw) noexcept;
  std::unique_ptr<infer::StreamContext> sc_;
  // Per slot, one cache line: what a tick reads and writes (the reset policy's bookkeeping and the kept output), so
  // a due sample whose rows were stepped at the boundary touches one line of the runner.
  static constexpr std::size_t kSlotOut = 8;   // result floats kept per slot (load_stream_model: <= kMaxOutputs)
  struct alignas(64) Slot {
    std::uint64_t rows_seen = 0;   // the symbol's row count at its last step
    std::int64_t last_ts = 0;      // sample time of the last step (0: never / reset)
    std::uint64_t out_rows = 0;    // rows_seen when `out` was kept (0: none)
    std::uint8_t pending_reset = 0;
    std::uint8_t queued = 0;       // in to_prepare_
    std::uint8_t warm = 0;         // the slot had stepped its warm-up at its last step
    float out[kSlotOut] = {};      // result 0 of its last step
  };
  std::vector<Slot> slot_;
  std::vector<float> x_;                  // one normalised row (the last one: also the scratch step's input)
  std::size_t n_out_ = 0;
  int scratch_ = 0;                       // keep-warm's slot (index cfg.slots: no symbol maps to it)
  std::vector<int> to_prepare_;           // symbols stepped since their last prepare (capacity: slots, no growth)
  std::int64_t max_gap_ns_ = 0;
  StreamCounters c_;
};

}  // namespace tickrt::pipeline
