// features/replay.hpp — drive capture files through feed -> book -> FeatureEngine and hand every
// sampled row to a sink. The one code path behind `tickrt features` (the dataset export) and the
// replay-side parity test: what is exported is exactly what a replay computes.
//
// Who calls: one thread (CLI, tests, bench). Setup: the constructor reserves parser, reader, one
// book per market and the engine; per line the work is parse -> book -> engine -> sink with no
// allocation in steady state (the sink decides what it stores).
//
// Sessions (grouping like `tickrt replay`: a continuation file follows the one before it): files
// are taken in the order given. A file CONTINUES the current session when it is in the same
// directory, has the same symbol prefix (file name up to its last '_', e.g. "btcusdt" of
// btcusdt_20240809.gz) and its first line's receive stamp is at most kMaxContinuationGap after
// the last stamp of the session; otherwise it starts a new session (books and features reset).
// A session follows one symbol: the first symbol seen in its first file (messages of other
// symbols are counted and skipped). A session whose book never becomes tradable produces no rows.
//
// Sampling: see features/features.hpp. Clock mode: rows at each boundary k*P (P = sample period)
// crossed by an event's local ts, from the state before that event, starting at the first
// boundary after the book first became tradable. Event mode: a row after every trade/depth
// event of the symbol once the book has been tradable.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "book/l2_book.hpp"
#include "core/status.hpp"
#include "feed/capture_reader.hpp"
#include "feed/line_parser.hpp"
#include "features/features.hpp"

namespace tickrt::features {

inline constexpr std::int64_t kMaxContinuationGap = 60'000'000'000;  // 60 s

struct SessionInfo {
  int index = 0;                    // 0-based, in order of appearance
  std::vector<std::string> files;
  std::string symbol;               // e.g. "BTCUSDT" as interned by the parser
  feed::Market market = feed::Market::unknown;
  std::int64_t first_ts_ns = 0;     // first / last sampled row (0 when none)
  std::int64_t last_ts_ns = 0;
  std::uint64_t rows = 0;
  std::uint64_t lines = 0, malformed = 0, other_symbol = 0;
  std::uint64_t gaps = 0, resyncs = 0;
};

// What a sampled row carries besides its features: the label inputs.
struct RowInfo {
  std::int64_t ts_ns;
  double mid;       // mid of the last tradable book
  bool tradable;    // the book was tradable at ts
};

class RowSink {
 public:
  // Not virtual in the hot path sense: one indirect call per ROW (every 100 ms), not per event.
  virtual ~RowSink() = default;
  virtual void begin_session(const SessionInfo&) {}
  virtual void row(const RowInfo& info, const float* features) = 0;
  virtual void end_session(const SessionInfo&) {}
};

struct ReplayProgress {
  std::function<void(const std::string& file, std::size_t index, std::size_t total)> on_file;
};

class FeatureReplay {
 public:
  explicit FeatureReplay(FeatureConfig cfg = {});
  ~FeatureReplay();
  FeatureReplay(const FeatureReplay&) = delete;
  FeatureReplay& operator=(const FeatureReplay&) = delete;

  // Replays all files (grouped into sessions as above) into `sink`. Status names the file on I/O
  // or gzip errors.
  Status run(const std::vector<std::string>& files, RowSink& sink, const ReplayProgress* progress = nullptr);

  const std::vector<SessionInfo>& sessions() const noexcept { return sessions_; }
  const FeatureEngine& engine() const noexcept { return engine_; }

 private:
  void start_session(const std::string& file, RowSink& sink);
  void finish_session(RowSink& sink);
  void on_line(std::string_view line, std::uint64_t line_no, RowSink& sink) noexcept;
  void handle(const feed::Event& ev, RowSink& sink) noexcept;
  void emit(std::int64_t ts, RowSink& sink) noexcept;
  book::L2Book* book_for(feed::Market m);

  FeatureConfig cfg_;
  FeatureEngine engine_;
  feed::LineParser parser_;
  feed::CaptureReader reader_;
  feed::FileContext file_;
  feed::Event ev_;
  std::unique_ptr<book::L2Book> spot_, fut_;
  book::L2Book* book_ = nullptr;
  feed::SymbolId sym_ = feed::kNoSymbol;
  std::string pending_snapshot_;
  std::int64_t next_sample_ = 0;   // next clock boundary (0: not started)
  std::int64_t last_ts_ = 0;       // last receive stamp of the session
  std::string cur_dir_, cur_prefix_;
  bool in_session_ = false;
  std::vector<SessionInfo> sessions_;
  float row_[kNumFeatures] = {};
};

// Reads the receive stamp (ns) of a capture's first line; 0 if unreadable.
std::int64_t first_stamp_ns(const std::string& path);

}  // namespace tickrt::features
