// book/replay.hpp — replay capture files through feed/ and book/: the library behind
// `tickrt replay` and `tickrt demo`, also driven line by line by tests, the fuzzer and benches.
//
// Who calls: one thread. A ReplaySession is one continuous market-data session: files replayed
// into it continue each other (a file without a snapshot continues the previous file's books);
// start a new session (or reset()) for unrelated captures. Setup: the constructor reserves
// parser, reader and per-symbol storage; replay_file() returns a Status naming the file on I/O or
// gzip errors (bad *lines* are not errors: they are counted by reason and the first
// Options::max_reports are kept with file:line, reason and the start of the line).
// Per line (process_line): parse -> book -> checks, noexcept, no allocation once each symbol has
// been seen (tests/feed proves it over a second pass of a capture).
//
// Checks: each bookTicker is compared with its symbol's book as soon as the book is tradable and
// its last applied update id is >= the ticker's u: at once if the book is already there, else
// when the diff that reaches u is applied (bookTickers arrive before the depth diff that contains
// them, always for @100ms spot depth and in practice for @0ms futures depth, so comparing only at
// arrival would check nothing). Best bid/ask price and quantity must be equal. Agreement is
// reported over all checked tickers and separately over exact-id matches (book id == u), where
// book and ticker describe the same instant and must agree exactly; when the book is past u
// (one diff covers many updates) the top may legitimately have moved on.
// Pending tickers wait in a per-symbol FIFO (kTickerQueue, oldest dropped and counted when full).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "book/l2_book.hpp"
#include "core/status.hpp"
#include "feed/feed.hpp"

namespace tickrt::book {

struct ReplayOptions {
  std::size_t max_reports = 8;   // malformed lines kept verbatim (all are counted)
  std::size_t excerpt_chars = 120;
  L2Book::Config book;
};

struct MalformedReport {
  std::string file;
  std::uint64_t line = 0;
  feed::LineError reason = feed::LineError::ok;
  std::string excerpt;
};

struct TickerCheck {
  std::uint64_t tickers = 0;       // bookTickers seen for symbols with a book
  std::uint64_t checked = 0;       // book tradable and book id >= ticker u
  std::uint64_t agreed = 0;        // ... and best bid/ask price and qty equal
  std::uint64_t exact = 0;         // book id == ticker u
  std::uint64_t exact_agreed = 0;
  std::uint64_t dropped = 0;       // never checkable: queue overflow or the book was not tradable
};

struct SymbolStats {
  std::uint64_t events[feed::kEventKindCount] = {};
  TickerCheck ticker;
};

struct ReplayStats {
  std::uint64_t files = 0;
  std::uint64_t lines = 0;
  std::uint64_t events[feed::kEventKindCount] = {};
  std::uint64_t malformed = 0;
  std::uint64_t malformed_by_reason[feed::kLineErrorCount] = {};
  std::vector<MalformedReport> reports;
  TickerCheck ticker;              // all symbols together
  std::uint64_t file_bytes = 0;    // on disk (compressed)
  std::uint64_t plain_bytes = 0;   // after gunzip
  std::int64_t wall_ns = 0;        // inside replay_file(): read + gunzip + parse + book
  std::int64_t inflate_ns = 0;     // inside zlib
};

class ReplaySession {
 public:
  explicit ReplaySession(ReplayOptions opt = {});
  ~ReplaySession();
  ReplaySession(const ReplaySession&) = delete;
  ReplaySession& operator=(const ReplaySession&) = delete;

  // Replays one file into this session (continuing its books).
  Status replay_file(const std::string& path);
  // Replays files in order; stops at the first file that cannot be read.
  Status replay_files(const std::vector<std::string>& paths);

  // Line-level driving (tests, fuzzer, benches): begin_file() starts a new file context (ts unit,
  // market, file symbol); process_line() handles one line; end_file() reports a snapshot whose
  // symbol was never resolved.
  void begin_file(std::string_view name);
  void process_line(std::string_view line, std::uint64_t line_no) noexcept;
  void end_file() noexcept;

  // A fresh session (books back to awaiting_snapshot, counters zeroed); capacity and symbol ids
  // are kept, so a second pass over the same data allocates nothing.
  void reset() noexcept;

  const ReplayStats& stats() const noexcept { return stats_; }
  const feed::SymbolTable& symbols() const noexcept { return parser_.symbols(); }
  // The book of a symbol, or nullptr if no depth message for it was seen.
  const L2Book* book(feed::SymbolId id) const noexcept;
  const SymbolStats* symbol_stats(feed::SymbolId id) const noexcept;
  std::string_view parser_isa() const noexcept { return parser_.isa_name(); }

  // Human-readable summary: counts per message type, malformed lines (first reports), per-symbol
  // book state, counters and top `levels` levels, bookTicker agreement, throughput.
  std::string summary(std::size_t levels = 5) const;

 private:
  static constexpr std::size_t kTickerQueue = 4096;
  struct PendingTicker {
    feed::BookTickerFields t;
  };
  struct TickerQueue {  // FIFO ring, storage reserved when the symbol's book is made
    std::vector<PendingTicker> ring;
    std::size_t head = 0, size = 0;
  };

  void handle(const feed::Event& ev) noexcept;
  void check_ticker(feed::SymbolId id, const L2Book& b, const feed::BookTickerFields& t) noexcept;
  void drain_tickers(feed::SymbolId id, const L2Book& b) noexcept;
  void report(feed::LineError e, std::uint64_t line_no, std::string_view line) noexcept;
  L2Book* book_for(feed::SymbolId id, feed::Market m) noexcept;

  ReplayOptions opt_;
  feed::LineParser parser_;
  std::unique_ptr<feed::CaptureReader> reader_;  // made by the first replay_file() (5 MB of buffers)
  feed::FileContext file_;
  feed::Event ev_;
  std::string file_name_;
  std::string pending_snapshot_;       // a snapshot line seen before its file's symbol was known
  std::uint64_t pending_line_no_ = 0;
  std::vector<std::unique_ptr<L2Book>> books_;  // by SymbolId; slots reserved, books made on first depth
  std::vector<SymbolStats> sym_;                // by SymbolId
  std::vector<TickerQueue> tq_;                 // by SymbolId
  ReplayStats stats_;
};

}  // namespace tickrt::book
