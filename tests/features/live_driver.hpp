// A "live" driver for tests: the book stage's own ReplaySession keeps the books (as a pipeline
// thread would), a separate LineParser hands the events to the FeatureEngine, and the clock
// sampler is written out here from the contract in features/features.hpp. It shares no code with
// features/replay.cpp beyond FeatureEngine, so parity with the export checks the driver too.
#pragma once

#include <cstring>
#include <string>
#include <vector>

#include "book/replay.hpp"
#include "feed/capture_reader.hpp"
#include "feed/line_parser.hpp"
#include "features/features.hpp"

namespace tickrt::features::test {

class LiveDriver {
 public:
  explicit LiveDriver(FeatureConfig cfg = {}) : cfg_(cfg), fe_(cfg) {}

  void reserve(std::size_t rows) {
    rows_.reserve(rows * kNumFeatures);
    ts_.reserve(rows);
  }
  // New session: books and engine back to empty (capacity kept).
  void reset() {
    rs_.reset();
    fe_.reset();
    sym_ = feed::kNoSymbol;
    next_ = 0;
    rows_.clear();
    ts_.clear();
  }
  void begin_file(const std::string& name) {
    rs_.begin_file(name);
    fc_.reset();
  }
  void end_file() { rs_.end_file(); }

  void line(std::string_view line, std::uint64_t no) noexcept {
    const bool ok = lp_.parse(line, fc_, ev_) == feed::LineError::ok;
    if (ok && sym_ == feed::kNoSymbol) sym_ = ev_.symbol;
    const bool mine = ok && ev_.symbol == sym_ &&
                      (ev_.kind == feed::EventKind::trade || ev_.kind == feed::EventKind::depth_update ||
                       ev_.kind == feed::EventKind::depth_snapshot);
    const std::int64_t ts = ev_.local_ts_ns;
    const std::int64_t P = cfg_.sample_period_ns;
    if (mine && P > 0 && next_ != 0)
      for (; next_ <= ts; next_ += P) emit(next_);
    rs_.process_line(line, no);  // the book stage updates its book
    if (!mine) return;
    if (ev_.kind == feed::EventKind::trade) {
      fe_.on_trade(ev_.trade, ts);
    } else if (const book::L2Book* b = rs_.book(sym_)) {
      fe_.on_book(*b, ts);
    }
    if (!fe_.ready()) return;
    if (P > 0) {
      if (next_ == 0) next_ = (ts / P + 1) * P;
    } else {
      emit(ts);
    }
  }

  bool replay(const std::vector<std::string>& files) {
    for (const std::string& f : files) {
      if (!reader_.open(f).ok()) return false;
      begin_file(f);
      std::string_view l;
      while (reader_.next(l)) line(l, reader_.line_number());
      end_file();
    }
    return true;
  }

  const std::vector<float>& rows() const { return rows_; }
  const std::vector<std::int64_t>& ts() const { return ts_; }
  std::uint64_t rows_over_capacity() const { return over_; }

 private:
  void emit(std::int64_t t) noexcept {
    float r[kNumFeatures];
    fe_.sample(t, r);
    if (ts_.size() == ts_.capacity()) { ++over_; return; }  // never grow while counting allocations
    rows_.insert(rows_.end(), r, r + kNumFeatures);
    ts_.push_back(t);
  }

  FeatureConfig cfg_;
  FeatureEngine fe_;
  book::ReplaySession rs_;
  feed::LineParser lp_;
  feed::FileContext fc_;
  feed::Event ev_;
  feed::CaptureReader reader_;
  feed::SymbolId sym_ = feed::kNoSymbol;
  std::int64_t next_ = 0;
  std::vector<float> rows_;
  std::vector<std::int64_t> ts_;
  std::uint64_t over_ = 0;
};

}  // namespace tickrt::features::test
