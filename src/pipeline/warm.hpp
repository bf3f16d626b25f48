// pipeline/warm.hpp — keeping an engine's memory in this core's caches between ticks.
//
// Why: at ~10 inferences/s a tick finds the weights and activation arena evicted (other work on the
// core, the kernel's networking, the OS), and the pipeline's inference then ran 1.0-1.6x the engine's
// hot figure (docs/BENCHMARKS.md "## pipeline"). A hot swap is the same problem in one shot: the new
// engine's memory has never been in the inference core's caches.
//
// WarmSet (setup path, built with the instance by make_instance): the byte ranges one inference
// reads — every constant tensor of the plan (weights, the pre-packed LSTM/GEMM blobs, folded
// constants) and the whole activation arena (activations + kernel workspace) — deduplicated.
// Not covered: op parameters held outside tensors (Kernel::params; small for lstm_attn_s), code.
// WarmCursor (hot path, the inference thread only): touch(set, lines) reads `lines` 64-byte lines
// from where it stopped last time, one load per line, and says when a whole pass is complete. Called
// between ticks in slices (64 lines ~ 0.1-0.3 us), so a message arriving meanwhile waits for at most
// one slice, never for a whole pass. No allocation, no lock, no syscall.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "infer/engine.hpp"
#include "infer/runtime/plan.hpp"

namespace tickrt::pipeline {

struct WarmRange {
  const std::byte* p = nullptr;
  std::size_t bytes = 0;
};

struct WarmSet {
  std::vector<WarmRange> ranges;  // sorted by address, disjoint
  std::size_t bytes = 0;          // sum of the ranges
  std::size_t lines = 0;          // 64-byte lines in one pass
  // The ranges of `ctx`'s current plan (constants + arena). Setup path.
  static WarmSet of(const infer::ExecutionContext& ctx);
};

class WarmCursor {
 public:
  // Reads up to `lines` lines of `s`, continuing the current pass. True when this call completed a
  // pass (the whole set was read since the pass began); the next call starts a new pass.
  bool touch(const WarmSet& s, std::size_t lines) noexcept;
  void reset() noexcept { r_ = 0; off_ = 0; }

 private:
  std::size_t r_ = 0, off_ = 0;
};

// [engine] keep_warm: what the inference thread does when no inference ran for keep_warm_after_us.
enum class KeepWarm : std::uint8_t {
  off = 0,
  touch = 1,   // WarmCursor slices over the current instance's WarmSet, one slice per idle pass
  infer = 2,   // one throw-away run() of the current instance every keep_warm_after_us of idleness
};

inline WarmSet WarmSet::of(const infer::ExecutionContext& ctx) {
  WarmSet s;
  const infer::Plan& plan = ctx.plan();
  std::vector<WarmRange> r;
  const std::byte* arena = nullptr;
  for (std::size_t v = 0; v < plan.tensors.size(); ++v) {
    const infer::TensorRef& t = plan.tensors[v];
    if (t.data == nullptr || t.numel <= 0) continue;
    if (v < plan.offset.size() && plan.offset[v] >= 0) {
      if (arena == nullptr) arena = t.data - plan.offset[v];  // every arena value sits at base + offset
      continue;
    }
    r.push_back({t.data, static_cast<std::size_t>(t.numel) * infer::dtype_size(t.dtype)});
  }
  if (arena != nullptr && plan.arena_bytes > 0) r.push_back({arena, plan.arena_bytes});
  // Sort and merge overlaps (aliases, views of one constant).
  std::sort(r.begin(), r.end(), [](const WarmRange& a, const WarmRange& b) { return a.p < b.p; });
  for (const WarmRange& x : r) {
    if (!s.ranges.empty() && x.p <= s.ranges.back().p + s.ranges.back().bytes) {
      WarmRange& b = s.ranges.back();
      b.bytes = std::max(b.bytes, static_cast<std::size_t>(x.p + x.bytes - b.p));
    } else {
      s.ranges.push_back(x);
    }
  }
  for (const WarmRange& x : s.ranges) {
    s.bytes += x.bytes;
    s.lines += (x.bytes + 63) / 64;
  }
  return s;
}

inline bool WarmCursor::touch(const WarmSet& s, std::size_t lines) noexcept {
  if (s.ranges.empty()) return true;
  unsigned sink = 0;
  while (lines > 0) {
    if (r_ >= s.ranges.size()) {
      r_ = 0;
      off_ = 0;
      asm volatile("" : : "r"(sink));
      return true;
    }
    const WarmRange& x = s.ranges[r_];
    // One load per line: independent loads, so the core keeps many misses in flight.
    const std::size_t n = std::min(lines, (x.bytes - off_ + 63) / 64);
    const volatile unsigned char* p = reinterpret_cast<const volatile unsigned char*>(x.p + off_);
    for (std::size_t i = 0; i < n; ++i) sink += p[i * 64];
    off_ += n * 64;
    lines -= n;
    if (off_ >= x.bytes) {
      ++r_;
      off_ = 0;
    }
  }
  asm volatile("" : : "r"(sink));
  if (r_ >= s.ranges.size()) {
    r_ = 0;
    off_ = 0;
    return true;
  }
  return false;
}

}  // namespace tickrt::pipeline
