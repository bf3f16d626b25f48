// infer/window_prefix.hpp — a windowed recurrent model run as "prefix ahead of time + last step now".
//
// A window model (lstm_attn_s: x [1, T, F] -> FusedLSTM -> FusedLSTM -> attention over the T outputs ->
// head) is re-run on every sample over a window that shares T-1 rows with the previous one. The LSTM
// restarts from a zero state at the window's first row, so nothing can be carried over from the last
// inference — but the first T-1 rows of the NEXT window are already known when the current inference
// ends. precompute() runs the leading LSTM layers over those rows while the pipeline waits for the
// next tick (idle time), keeping every layer's outputs and final (h, c). When the new row arrives,
// run_last() steps each layer once from those states, writes the layers' full outputs where the rest
// of the plan reads them, and runs the remaining kernels (attention, head) as ExecutionContext::run()
// would. The function is the full-window model's: the same kernels over the same rows; only the last
// step's summation order may differ (its input projection is a one-row product, the window run's is
// batched): tested equal within 1e-5 on real windows (tests/infer/test_window_prefix.cpp).
//
// Which graphs (create() checks, and says why not): the optimized plan at batch 1 starts with a chain of
// tickrt.FusedLSTM nodes, batch-first, zero initial state, the first reading graph input 0 [1, T, F]; each
// layer's output sequence is read only by the next layer (the last layer's by any later step); no later
// step reads graph input 0. lstm_attn_s and lstm_attn_l qualify; convlstm (convolutions first) and
// transformer_s do not.
//
// Who calls: the thread that owns the ExecutionContext (one thread at a time). Setup: create() after
// ctx.prepare_batch(1) (or select_batch(1)); a later prepare*() invalidates this object; run_last()
// refuses (invalid_argument) unless the batch-1 plan is the context's current one. Hot path: precompute(), run_last(), noexcept, no allocation, no locks. Anything else run on the
// context between precompute() and run_last() (ctx.run(), a keep-warm inference) does not disturb the
// prefix: it lives in this object's own buffers and is copied into the plan by run_last().
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/status.hpp"
#include "infer/engine.hpp"

namespace tickrt::infer {

class WindowPrefix {
 public:
  // Why the current plan of ctx cannot be split (empty = it can).
  static std::string why_not(const ExecutionContext& ctx);
  static Result<std::unique_ptr<WindowPrefix>> create(ExecutionContext& ctx);

  WindowPrefix(const WindowPrefix&) = delete;
  WindowPrefix& operator=(const WindowPrefix&) = delete;

  int window() const noexcept { return T_; }       // T
  int row_width() const noexcept { return F_; }    // F (model input features)
  // The additive attention right after the chain is split too (its prefix rows scored ahead of the tick).
  bool attention_split() const noexcept { return attn_split_; }

  // Hot path. rows: the first T-1 rows of the next window, [T-1, F] model input (normalised).
  void precompute(const float* rows) noexcept;
  // The same work in slices, for a thread that must stay responsive between ticks: start() takes the
  // rows (kept by pointer: they must not change until ready()), each advance() runs at most max_steps
  // LSTM steps (layer by layer) and returns ready(). A slice continues from the previous one's (h, c).
  void start(const float* rows) noexcept;
  bool advance(int max_steps) noexcept;
  bool started() const noexcept { return rows_ != nullptr; }
  bool ready() const noexcept { return ready_; }
  // Hot path. last: the window's last row [F]. Runs the model; outputs in ctx.output(i) as after run().
  // out_of_sync when no prefix is ready (nothing is run). The prefix is not consumed: run_last() may run
  // again on it (a keep-warm pass of exactly the tick's path) until start() / invalidate().
  [[nodiscard]] Code run_last(const float* last) noexcept;
  // Drops the prefix (a resync, rows skipped): the next run_last() is refused until precompute().
  void invalidate() noexcept { ready_ = false; rows_ = nullptr; }

 private:
  struct Layer {
    cpu::LstmDims step{};            // T = 1, B = 1
    const float* packed = nullptr;
    float* y_plan = nullptr;         // the plan's [1, T, H] output tensor (read by later steps)
    float* hT_plan = nullptr;        // the plan's Y_h / Y_c outputs (nullable)
    float* cT_plan = nullptr;
    std::size_t y_off = 0, h_off = 0, c_off = 0;   // into buf_: this layer's [T, H] outputs, h, c
    std::size_t h2_off = 0, c2_off = 0;            // (h, c) after the last step (the prefix's stay intact)
  };
  WindowPrefix() = default;

  ExecutionContext* ctx_ = nullptr;
  cpu::Isa isa_ = cpu::Isa::scalar;
  int T_ = 0, F_ = 0;
  std::vector<Layer> layers_;
  std::size_t first_rest_ = 0;       // index of the first plan step after the LSTM chain
  // The chain's output read by a tickrt.AdditiveAttention step right after it: its T-1 prefix scores are
  // computed ahead too, and on the tick only the last row's score, the softmax and the context.
  bool attn_split_ = false;
  std::size_t attn_step_ = 0;        // its index in the plan (run_last computes it there)
  int attn_A_ = 0;
  const float* attn_packed_ = nullptr;
  float* attn_ctx_plan_ = nullptr;   // the attention step's output tensor
  std::size_t scores_off_ = 0;       // into buf_: T scores
  AlignedBytes buf_;                 // every layer's outputs [T, H] and (h, c) after T-1 rows
  AlignedBytes ws_;                  // LSTM workspace (sized for T-1 rows)
  const Plan* plan_ = nullptr;       // the batch-1 plan whose later steps run_last() runs
  const float* rows_ = nullptr;      // started, not ready: the rows being precomputed
  std::size_t layer_ = 0;            // progress of the slices: next layer and step (layers_.size(): the scores)
  int step_ = 0;
  bool ready_ = false;
};

}  // namespace tickrt::infer
