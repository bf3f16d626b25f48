// pipeline/capture_source.hpp — a capture file as an in-process market-data source (no network):
// feed.source = "capture", the benches and the tests.
//
// Who calls: the feed thread; next() per poll. open() (setup) reads the whole file into memory
// (gunzip via feed::CaptureReader), so the hot loop never touches the disk. Snapshot lines without
// a "symbol" get the file's symbol injected (so several copies can be told apart).
//
// Copies: `copies` > 1 replays the capture under copies - 1 extra renamed symbols as well (the
// batching bench: 1, 8, 64, 256 symbols): copy k > 0 renames the file's symbol (e.g. BTCUSDT /
// btcusdt) to a same-length name ("B00000k" / "b00000k"); line i of every copy is sent before
// line i + 1 of any copy (all symbols tick at the recorded instants). The renaming patches a
// per-source scratch buffer: no allocation per line.
//
// Pacing: speed > 0 releases each line at its recorded time / speed after the first line (next()
// returns false until then: the caller idles); speed 0 releases lines as fast as they are taken.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.hpp"

namespace tickrt::pipeline {

class CaptureSource {
 public:
  static Result<std::unique_ptr<CaptureSource>> open(const std::string& path, int copies, double speed,
                                                     std::size_t max_lines = 0);
  CaptureSource(const CaptureSource&) = delete;
  CaptureSource& operator=(const CaptureSource&) = delete;

  // The next due line ("<ts> <json>"), valid until the next call. False when none is due yet or
  // the capture ended (done()).
  [[nodiscard]] bool next(std::string_view& line) noexcept;
  bool done() const noexcept { return pos_ >= lines_.size(); }
  // The capture's clock now (its stamps' time base), for sampling at the boundary by the clock: the recorded
  // stamp due at this wall time (speed > 0, after the first line), and never past the next line's stamp, so no
  // line stamped before the returned time is still to come. -1 when there is no such clock (speed 0: lines as
  // fast as they are taken; not started; ended).
  std::int64_t market_now_ns() const noexcept;
  // Starts again from the first line (pacing restarts at the next call).
  void rewind() noexcept { pos_ = 0; copy_ = 0; t0_wall_ = 0; }

  std::size_t lines() const noexcept { return lines_.size(); }
  int copies() const noexcept { return copies_; }
  const std::string& symbol() const noexcept { return symbol_; }
  // Name of copy k (k = 0: the file's own symbol).
  std::string copy_symbol(int k) const;
  // Recorded span of the capture (last - first stamp), ns.
  std::int64_t span_ns() const noexcept { return lines_.empty() ? 0 : lines_.back().ts_ns - lines_.front().ts_ns; }

 private:
  CaptureSource() = default;
  struct Line {
    std::uint32_t off = 0, len = 0;
    std::int64_t ts_ns = 0;
    std::uint32_t sym_begin = 0, sym_count = 0;  // into sym_pos_: offsets of the symbol in the line
  };
  std::string text_;
  std::vector<Line> lines_;
  std::vector<std::uint32_t> sym_pos_;  // offsets (within the line) where the symbol starts
  std::vector<char> scratch_;
  std::string symbol_;                  // upper case
  int copies_ = 1;
  double speed_ = 0;
  std::size_t pos_ = 0;
  int copy_ = 0;
  std::int64_t t0_wall_ = 0;
};

}  // namespace tickrt::pipeline
