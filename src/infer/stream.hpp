// infer/stream.hpp — stateful (streaming) execution: one recurrent step per tick, the state kept
// inside the context, one state slot per symbol.
//
//   auto spec = parse_stream_spec(engine->graph());        // setup: which inputs/outputs are state
//   auto sc   = StreamContext::create(engine, *spec, {.slots = 8, .max_batch = 8});
//   sc->reset(sym);                                        // session start, resync, long gap
//   if (sc->step(sym, x) != Code::ok) ...;  sc->output(0)  // logits [n_out] of that step
//   sc->step_batch(syms, n, xs);  sc->output(i)            // symbols that step at the same time
//
// The model is a one-step graph: non-state input x [B, F], state inputs S_k, outputs = the result
// (logits) plus the next state S_k' for every pair. The pairs are declared in the model package
// (ONNX metadata_props, see docs/STREAMING.md):
//   tickrt.state   "h:h_out,c:c_out,ring:ring_out"  input:output pairs, same shape and dtype
//   tickrt.stream  "1"                              (informational; tickrt.state is what counts)
//   tickrt.warmup  W                                steps after a reset before the output is used
// Every tensor has one batch axis: axis 0 when dynamic, else its only dynamic axis (h [L, B, H]).
// A graph with no dynamic axis runs at batch 1 only.
//
// No copies of the state (step(), batch 1): every slot owns two buffers per state pair; the state
// input is bound to the slot's current buffer and the state output to the other one (pointer writes
// into the prepared plan, ExecutionContext::bind_input/bind_output), then the slot flips. Pairs named in
// metadata tickrt.state_inplace (set by the engine's pass passes/stream_ring.cpp, which turns the ring
// shifts into circular writes when that is provably safe) have ONE buffer, bound as both input and
// output: the graph overwrites one row of the ring per step instead of shifting it (no R*H-float copy).
// Their content is then in rotated order (state() of a ring is not oldest-first; the tickrt.ring_head
// pair holds the next row to write). step_batch() of n > 1 symbols gathers the slots' state into the
// batch plan's inputs and scatters the outputs back (one copy each way; a batch of symbols is not
// contiguous in [L, B, H] layout): use it when the saved run overhead beats the copy.
//
// Threading: one StreamContext per thread (it owns an ExecutionContext). Hot path (step, step_batch,
// reset, output): no allocation, no exceptions, no locks, no virtual calls.
// Limits: state initial value is zero (reset); slots are fixed at create(); at most 16 state pairs.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/status.hpp"
#include "infer/engine.hpp"

namespace tickrt::infer {

inline constexpr std::size_t kMaxStatePairs = 16;

struct StatePair {
  std::string in_name, out_name;
  int in = -1, out = -1;          // graph input / output index
  int in_axis = 0, out_axis = 0;  // batch axis of each
  std::size_t bytes = 0;          // one symbol's state (batch 1)
  bool in_place = false;          // metadata tickrt.state_inplace: the graph updates it in place (one buffer)
};

struct StreamSpec {
  std::vector<StatePair> pairs;
  int x = -1;                     // the non-state input
  std::vector<int> results;       // the non-state outputs (graph output indices), in graph order
  int x_axis = 0;
  std::size_t x_floats = 0;       // one symbol's x (F)
  std::vector<std::size_t> result_floats;  // per result, one symbol's
  std::uint32_t warmup = 0;       // tickrt.warmup (0 when absent)
  bool batchable = false;         // every tensor has a batch axis (else batch 1 only)
};

// True when the graph declares state pairs (metadata tickrt.state).
bool is_streaming(const Graph& g);
// Setup path. Checks the declaration against the graph: names exist, same dtype and shape, one
// non-state input (float32), at least one non-state output. Errors name the key and the pair.
Result<StreamSpec> parse_stream_spec(const Graph& g);

struct StreamOptions {
  int slots = 1;                  // symbols
  int max_batch = 1;              // step_batch() up to this many (<= the engine's profile max)
};

class StreamContext {
 public:
  static Result<std::unique_ptr<StreamContext>> create(std::shared_ptr<const Engine> engine, const StreamSpec& spec,
                                                       const StreamOptions& opt);
  StreamContext(const StreamContext&) = delete;
  StreamContext& operator=(const StreamContext&) = delete;

  // Hot path. Zero state, step count 0.
  void reset(int slot) noexcept;
  // Hot path. One step of `slot` on x (spec.x_floats floats); results in output(r)[0 .. result_floats).
  [[nodiscard]] Code step(int slot, const float* x) noexcept;
  // Diagnostics (bench_stream --profile): step() with ExecutionContext::run_profiled's per-kernel ns in `ns`
  // (the real state of the slot, so the kernels see the data they see in step()).
  [[nodiscard]] Code step_profiled(int slot, const float* x, std::vector<std::int64_t>& ns) noexcept;
  // Between ticks (hot path: no allocation). The part of the slot's next step that depends only on its current
  // state: each one-row LSTM layer's (Wb + Rb) + h @ R^T (ops/lstm_step.hpp), kept for the slot until it steps or
  // resets; its next step() then runs only the input half of those layers (bitwise the same result). True when it
  // computed something (false: already prepared, out of range, or no such layer).
  bool prepare(int slot) noexcept;
  bool prepared(int slot) const noexcept { return slot >= 0 && slot < nslots_ && pre_valid_[static_cast<std::size_t>(slot)] != 0; }
  // step() calls that ran from a prepared state (the rest ran the whole step).
  std::uint64_t prepared_steps() const noexcept { return prepared_steps_; }
  // Hot path. One step each of n distinct slots; xs is [n, F]; results in output(r) row i for slots[i].
  [[nodiscard]] Code step_batch(const int* slots, int n, const float* xs) noexcept;
  // Result r of the last step / step_batch (row i of a batch at output(r) + i * result_floats[r]).
  const float* output(std::size_t r = 0) const noexcept { return ctx_->output(static_cast<std::size_t>(spec_.results[r])); }
  // Steps since the slot's last reset; warm() once the model's warm-up is over.
  std::uint32_t steps(int slot) const noexcept { return steps_[static_cast<std::size_t>(slot)]; }
  bool warm(int slot) const noexcept { return steps_[static_cast<std::size_t>(slot)] >= warmup_; }
  std::uint32_t warmup() const noexcept { return warmup_; }
  void set_warmup(std::uint32_t w) noexcept { warmup_ = w; }   // config override (setup)
  // The slot's current state of pair p (read-only; tests, snapshots).
  const std::byte* state(int slot, std::size_t p) const noexcept;

  // The execution context (its batch-1 plan: weights + arena) and the slots' memory [slot 0, `slots`):
  // what a keep-warm pass between ticks should read (pipeline/warm.hpp). Setup path.
  const ExecutionContext& exec() const noexcept { return *ctx_; }
  std::pair<const std::byte*, std::size_t> slot_memory(int slots) const noexcept {
    const int n = slots < nslots_ ? slots : nslots_;
    return {slots_.ptr.get(), slot_stride_ * static_cast<std::size_t>(n < 0 ? 0 : n)};
  }

  // One slot's memory (its state buffers): what keep-warm reads for a symbol that trades.
  std::pair<const std::byte*, std::size_t> slot_range(int slot) const noexcept {
    if (slot < 0 || slot >= nslots_) return {nullptr, 0};
    return {slots_.ptr.get() + static_cast<std::size_t>(slot) * slot_stride_, slot_stride_};
  }

  const StreamSpec& spec() const noexcept { return spec_; }
  int slots() const noexcept { return nslots_; }
  int max_batch() const noexcept { return max_batch_; }
  const Engine& engine() const noexcept { return ctx_->engine(); }
  std::shared_ptr<const Engine> engine_ptr() const noexcept { return engine_; }

 private:
  StreamContext() = default;
  Code step_impl(int slot, const float* x, std::vector<std::int64_t>* prof) noexcept;
  // An in-place pair has one buffer: `which` is ignored.
  std::byte* buf(int slot, std::size_t p, int which) const noexcept {
    return slots_.ptr.get() + static_cast<std::size_t>(slot) * slot_stride_ + pair_off_[p] +
           (spec_.pairs[p].in_place ? 0 : static_cast<std::size_t>(which) * pair_size_[p]);
  }
  std::shared_ptr<const Engine> engine_;
  std::unique_ptr<ExecutionContext> ctx_;
  StreamSpec spec_;
  int nslots_ = 0, max_batch_ = 1;
  std::uint32_t warmup_ = 0;
  // Slot memory: slot s, pair p, buffer b at s * slot_stride_ + pair_off_[p] + b * pair_size_[p];
  // every buffer starts on a 64-byte line (pair_size_ rounded up) so two slots never share a line.
  AlignedBytes slots_;
  std::size_t slot_stride_ = 0;
  std::vector<std::size_t> pair_off_, pair_size_;
  std::vector<std::uint8_t> cur_;      // per slot: which buffer holds the current state
  std::vector<std::uint32_t> steps_;   // per slot
  // Per batch b, per pair: [outer, inner bytes] of the batch-axis split (gather/scatter of step_batch).
  struct Split { std::size_t outer = 1, inner = 0; };
  std::vector<Split> in_split_, out_split_;  // [pairs]: outer/inner do not depend on b
  std::size_t x_row_bytes_ = 0;
  // prepare(): the batch-1 plan's one-row LSTM kernels whose initial h is a state input.
  struct PreLstm {
    const Kernel* k = nullptr;
    std::size_t pair = 0;       // the state pair whose input is the kernel's h0
    std::size_t h0_off = 0;     // floats into that state
    int I = 0, H = 0;
    cpu::Isa isa = cpu::Isa::scalar;
    const float* packed = nullptr;
    std::size_t pre_off = 0;    // floats into a slot's pre block
  };
  std::vector<PreLstm> pre_lstm_;
  std::size_t pre_floats_ = 0;           // per slot
  AlignedBytes pre_;                     // [slots][pre_floats_]
  std::vector<std::uint8_t> pre_valid_;  // per slot
  std::uint64_t prepared_steps_ = 0;
};

}  // namespace tickrt::infer
