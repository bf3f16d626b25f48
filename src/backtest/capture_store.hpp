// backtest/capture_store.hpp — capture files parsed ONCE into memory, replayed many times.
//
// Who calls: the tick backtester (backtester.hpp) on the setup path: load() reads every file
// (feed::CaptureReader, gzip or plain), parses each line with the live parser (feed::LineParser)
// and keeps the events with their book levels copied into one arena, so a replay costs no JSON
// parsing (each engine run and its zero-latency twin replay the same events; the throughput bench
// measures replay, not parsing; docs/BENCHMARKS.md "## backtest" says so).
// Order: events of all files merged by local receive stamp (stable: a file's own order is kept).
// Feed latency (docs/BACKTEST.md "Latency model"): per event with an exchange stamp E, raw =
// local - E; the capture machine's clock is not the exchange's (the bundled spot capture's local
// stamps are ~1.3 s BEHIND E), so per file the smallest raw value is taken as the clock offset
// and feed = raw - offset + feed_floor (>= feed_floor; the fastest message of the file took
// `feed_floor`). Events without E (bookTicker, REST snapshots) get feed_floor. venue_ns = local -
// feed: when the event happened at the exchange, on the local clock.
// Symbols: ids are the store parser's (first appearance); names()/markets() by id, so a consumer
// interns them in the same order (pipeline::MarketHandler::parser().symbols()).
// Limits: everything in memory (~250 B per event, again per depth/trade event for the venue
// copy, plus 16 B per level); malformed lines are
// counted and skipped (as the live feed does).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.hpp"
#include "feed/events.hpp"

namespace tickrt::backtest {

struct StoredEvent {
  feed::Event ev;                 // spans point into CaptureStore's level arena
  std::int64_t venue_ns = 0;      // local_ts_ns - feed_ns
  std::int64_t feed_ns = 0;       // >= feed_floor
  std::uint32_t file = 0;         // index into files()
};

struct CaptureLoadStats {
  std::uint64_t lines = 0, malformed = 0, events = 0, levels = 0;
  std::int64_t parse_ns = 0;       // wall time of read + parse
  std::vector<std::int64_t> clock_offset_ns;  // per file: min(local - E) (0 when no E)
};

class CaptureStore {
 public:
  // feed_floor_ns: the one-way latency of the fastest message of each file (not observable
  // from the data; config latency.feed_floor_us).
  static Result<CaptureStore> load(const std::vector<std::string>& files, std::int64_t feed_floor_ns);

  const std::vector<StoredEvent>& events() const noexcept { return events_; }
  // Indices into events() in exchange (venue) order: the matching engine's replay order.
  const std::vector<std::uint32_t>& venue_order() const noexcept { return venue_order_; }
  // The events the matching engine acts on (depth snapshots/diffs and trades; bookTicker and
  // markPrice dropped), already in venue order and stamped with venue time (local_ts_ns =
  // venue_ns): the replay loop hands them to the engine in place, with no per-event copy.
  const std::vector<feed::Event>& venue_events() const noexcept { return venue_events_; }
  const std::vector<std::string>& files() const noexcept { return files_; }
  const std::vector<std::string>& symbol_names() const noexcept { return names_; }  // by SymbolId
  const std::vector<feed::Market>& symbol_markets() const noexcept { return markets_; }
  const CaptureLoadStats& stats() const noexcept { return stats_; }
  std::int64_t start_ns() const noexcept { return events_.empty() ? 0 : events_.front().ev.local_ts_ns; }
  std::int64_t end_ns() const noexcept { return events_.empty() ? 0 : events_.back().ev.local_ts_ns; }

  CaptureStore(CaptureStore&&) = default;
  CaptureStore& operator=(CaptureStore&&) = default;

 private:
  CaptureStore() = default;
  std::vector<StoredEvent> events_;
  std::vector<feed::Level> levels_;
  std::vector<std::uint32_t> venue_order_;
  std::vector<feed::Event> venue_events_;  // spans into levels_, like events_
  std::vector<std::string> files_, names_;
  std::vector<feed::Market> markets_;
  CaptureLoadStats stats_;
};

}  // namespace tickrt::backtest
