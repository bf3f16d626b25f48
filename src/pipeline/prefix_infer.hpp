// pipeline/prefix_infer.hpp — inline mode: a window LSTM model's next window computed between ticks.
//
// At a due sample the pipeline runs the model on the symbol's last T rows. The first T-1 rows of the
// NEXT window are known as soon as that inference ends, so between ticks (InferStage::idle) this runner
// normalises them and runs the model's LSTM layers over them in slices (infer/window_prefix.hpp); when
// the next due sample brings exactly one new row for the same symbol, try_run() steps each layer once
// and runs the attention and head: the same outputs as the full window (tested to 2e-7 on real rows),
// at the cost of one step instead of T on the tick's path. Anything else (another symbol, a skipped or
// extra row, the prefix not finished when the tick came, a resync) runs the full window as before and
// is counted as a miss.
//
// Who calls: the inline pipeline thread, through InferStage (infer_one / step_row / idle). One runner
// per CPU model instance (model.hpp), made at setup by make_instance() when ModelOptions::prefix_slice
// > 0 and the model qualifies (WindowPrefix::why_not() says why not: ModelInstance::prefix_note). One
// prefix slot per symbol sampled (4 by default, each ~100 KiB: own LSTM outputs, states, workspace).
// Hot path: noexcept, no allocation, no locks; a slice is at most `slice` LSTM steps (8: ~4 us on the VM, ~9 on the device host), the
// longest a tick arriving meanwhile waits for it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/status.hpp"
#include "features/features.hpp"
#include "features/model_package.hpp"
#include "feed/events.hpp"
#include "infer/ir/tensor.hpp"
#include "infer/window_prefix.hpp"

namespace tickrt::pipeline {

struct PrefixCounters {
  std::uint64_t hits = 0;      // samples served from a finished prefix
  std::uint64_t misses = 0;    // samples that ran the full window (see the header)
  std::uint64_t slices = 0;    // idle() calls that did prefix work
  std::uint64_t dropped = 0;   // prefixes abandoned: rows changed (or the slot went to another symbol) first
  PrefixCounters& operator+=(const PrefixCounters& o) noexcept {
    hits += o.hits;
    misses += o.misses;
    slices += o.slices;
    dropped += o.dropped;
    return *this;
  }
};

class PrefixRunner {
 public:
  // Setup. ctx: the instance's context with its batch-1 plan current; slice: LSTM steps per idle();
  // symbols: prefix slots (one per symbol sampled at the same time; a further symbol takes the slot
  // used longest ago).
  static Result<std::unique_ptr<PrefixRunner>> create(infer::ExecutionContext& ctx, const features::ModelPackage& pkg, int slice,
                                                      int symbols = kDefaultSymbols);
  static constexpr int kDefaultSymbols = 4;
  static constexpr int kMaxSymbols = 64;
  PrefixRunner(const PrefixRunner&) = delete;
  PrefixRunner& operator=(const PrefixRunner&) = delete;

  // At a due sample: true when the model ran from the prefix (outputs in the context's output 0).
  [[nodiscard]] bool try_run(feed::SymbolId sym, const features::FeatureEngine& fe) noexcept;
  // After the sample's inference (either way), or at a row that was not a due sample (a warm-up row,
  // a book not tradable): compute the prefix of the window the symbol's next row completes.
  void want(feed::SymbolId sym, const features::FeatureEngine& fe) noexcept;
  // Between ticks: one slice of the wanted prefix wanted longest ago; true when it did work.
  bool idle() noexcept;
  // True while a wanted prefix is not ready yet (idle() has work left).
  bool busy() const noexcept;
  // Hot swap (ModelSlot::adopt, inference thread): want the prefixes `old` (the retired instance's runner)
  // was keeping, for the same symbols and rows; computed by idle() on this instance's model.
  void take_wants_from(const PrefixRunner& old) noexcept;
  // keep_warm infer: when a prefix is ready, runs the tick's path on it (last step + the rest of the
  // plan, on the last row normalised) without consuming it; false when there is none.
  bool warm() noexcept;

  const PrefixCounters& counters() const noexcept { return c_; }
  int slots() const noexcept { return static_cast<int>(slots_.size()); }

 private:
  struct Slot {
    std::unique_ptr<infer::WindowPrefix> wp;
    const features::FeatureEngine* fe = nullptr;   // of this slot's symbol
    feed::SymbolId sym = 0;
    std::uint64_t samples = 0;   // fe->samples() when wanted
    std::uint64_t stamp = 0;     // want() order: idle() serves the oldest wanted first, want() reuses the oldest slot
    bool used = false;
    bool wanted = false;         // a prefix for (sym, samples) is wanted or being computed
    infer::AlignedBytes rows;    // [T-1, F] normalised
  };
  PrefixRunner() = default;
  Slot* find(feed::SymbolId sym, const features::FeatureEngine& fe) noexcept;

  const features::ModelPackage* pkg_ = nullptr;
  std::vector<Slot> slots_;
  std::uint64_t clock_ = 0;
  int slice_ = 8;
  int T_ = 0, F_ = 0;
  infer::AlignedBytes last_;    // [F] normalised (the last tick's row; keep-warm input)
  Slot* last_used_ = nullptr;   // the slot of the last sample (keep-warm runs its prefix)
  PrefixCounters c_;
};

}  // namespace tickrt::pipeline
