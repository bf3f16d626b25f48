// feed/line_parser.hpp — one capture line -> one normalized Event (simdjson On-Demand).
//
// Who calls: the replay loop (book/replay.hpp), the feed tests, the fuzzer and bench_feed, on one
// thread. One LineParser per thread; it owns the simdjson parser, a padded copy buffer and the
// level buffers, all reused, so parse() does not allocate in steady state (tests/feed proves it by
// counting operator new over a second pass of a capture). Buffers grow only when a line is longer
// than any before (the first REST snapshot, ~64 KB).
//
// Line format: `<local receive ts> <json>`; ts is all digits: 18-19 digits = ns, 15-16 = µs,
// 12-13 = ms. The unit is fixed per file by its first line (FileContext) and every line is
// normalised to ns; a line whose digit count implies another unit is rejected.
//
// JSON accepted (Binance, combined-stream envelope or REST depth snapshot):
//   {"stream":"<sym>@trade|@bookTicker|@depth[@Nms]|@markPrice[@1s]","data":{...}}
//   {"lastUpdateId":N,["E":ms,"T":ms,]["symbol":"..",]"bids":[[p,q],..],"asks":[[p,q],..]}
// "stream" must precede "data" (Binance always sends it first); unknown keys are skipped.
// Market per message from content: futures messages carry fields spot never sends (depth "pu",
// bookTicker "e"/"E"/"T", trade "X", snapshot "E"/"T", any markPrice); the first message of a file
// fixes the file's market and a later message of the other market is rejected (market_mismatch):
// this is what catches a futures diff that lost its "pu".
// A snapshot without "symbol" takes the symbol of the file's streams (FileContext::file_symbol);
// if none was seen yet the parser returns snapshot_symbol_unknown and the caller may retry the
// line later (the replay does), if several were seen: snapshot_symbol_ambiguous.
//
// Errors: parse() never throws and never crashes on any input; it returns a LineError reason
// (counted by the caller, reported with file:line). The Event is unspecified after an error.
//
// ISA: the JSON walk is compiled twice (parse_haswell.cpp with AVX2/BMI/PCLMUL/LZCNT, and
// parse_fallback.cpp for any x86-64) because simdjson On-Demand uses the implementation the
// translation unit is compiled for; the constructor picks one from simdjson's run-time CPU
// detection, and parse() branches on it (one predictable branch, no virtual call).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

#include "feed/events.hpp"
#include "feed/symbols.hpp"

namespace tickrt::feed {

enum class LineError : std::uint8_t {
  ok = 0,
  empty_line,
  bad_timestamp,              // missing/non-digit/odd-length receive stamp, or no JSON after it
  timestamp_unit_changed,     // digit count implies another unit than the file's first line
  line_too_long,              // > LineParser::kMaxLine bytes
  bad_json,                   // simdjson: not JSON, truncated, bad structure
  not_object,                 // root (or "data") is not an object
  wrong_type,                 // a known field has the wrong JSON type
  missing_field,              // a required field is absent
  bad_number,                 // integer out of range / not an integer
  bad_decimal,                // price/qty string not an exact decimal (core/fixed_point.hpp)
  negative_value,             // negative price or quantity
  unknown_stream,             // stream kind we do not handle (e.g. @aggTrade, @depth5)
  unknown_message,            // root object is neither an envelope nor a snapshot
  event_type_mismatch,        // "e" disagrees with the stream name
  market_mismatch,            // spot message in a futures file or vice versa
  too_many_levels,            // more than LineParser::kMaxLevels levels on one side
  bad_symbol,                 // empty/too long symbol, or symbol table full
  snapshot_symbol_unknown,    // snapshot without "symbol" before any stream line of its file
  snapshot_symbol_ambiguous,  // snapshot without "symbol" in a file with several symbols
  data_before_stream,         // "data" before "stream" in the envelope
  trailing_content,           // bytes after the root JSON value
  count_
};
inline constexpr int kLineErrorCount = static_cast<int>(LineError::count_);

std::string_view line_error_name(LineError e) noexcept;

enum class TsUnit : std::uint8_t { unknown = 0, ns, us, ms };

// Per-file state the parser reads and updates. Reset (or construct a new one) per file.
struct FileContext {
  TsUnit ts_unit = TsUnit::unknown;    // fixed by the file's first timestamp
  Market market = Market::unknown;     // fixed by the file's first parsed message
  SymbolId file_symbol = kNoSymbol;    // the symbol of the file's streams (first seen)
  bool multi_symbol = false;           // streams of more than one symbol were seen
  void reset() noexcept { *this = FileContext{}; }
};

namespace detail {
// Growable level buffer shared by the ISA-specific walkers; grow() lives in line_parser.cpp (not
// in an ISA file) so no out-of-line code is compiled with AVX2 flags outside the ISA namespaces.
struct LevelBuffer {
  Level* data = nullptr;
  std::size_t size = 0;
  std::size_t cap = 0;
  std::unique_ptr<Level[]> storage;
  bool grow() noexcept;  // false at LineParser::kMaxLevels (or on allocation failure)
};

// What the ISA walk extracts beyond the Event fields; resolved by the common code.
struct RawMessage {
  EventKind kind = EventKind::none;
  Market market = Market::unknown;  // from content; unknown when the content does not tell
  std::string_view symbol;          // "s" or snapshot "symbol"; empty if absent
};

struct Scratch {
  LevelBuffer bids, asks;
  const char* json = nullptr;  // padded copy of the JSON text (capacity >= len + SIMDJSON_PADDING)
  std::size_t json_len = 0;
  std::size_t json_cap = 0;
};

struct IsaParser;  // per-ISA owner of the simdjson::<isa>::ondemand::parser
}  // namespace detail

class LineParser {
 public:
  static constexpr std::size_t kMaxLine = 64u << 20;     // 64 MiB: refuse absurd lines
  static constexpr std::size_t kMaxLevels = 1u << 20;    // per side per message

  LineParser();
  ~LineParser();
  LineParser(const LineParser&) = delete;
  LineParser& operator=(const LineParser&) = delete;

  // Parses one line (without its '\n'). On ok, `out` holds the event; spans in it stay valid
  // until the next parse(). `file` is read and updated (ts unit, market, file symbol).
  [[nodiscard]] LineError parse(std::string_view line, FileContext& file, Event& out) noexcept;

  // The JSON part only (no timestamp); local_ts_ns is set to `local_ts_ns`.
  [[nodiscard]] LineError parse_json(std::string_view json, std::int64_t local_ts_ns, FileContext& file,
                                     Event& out) noexcept;

  SymbolTable& symbols() noexcept { return symbols_; }
  const SymbolTable& symbols() const noexcept { return symbols_; }
  // "haswell" or "fallback": the simdjson On-Demand kernel chosen at construction.
  std::string_view isa_name() const noexcept;

 private:
  enum class Isa : std::uint8_t { fallback, haswell };
  bool reserve_json(std::size_t n) noexcept;

  Isa isa_ = Isa::fallback;
  detail::IsaParser* impl_ = nullptr;
  std::unique_ptr<char[]> json_buf_;
  detail::Scratch scratch_;
  SymbolTable symbols_;
};

}  // namespace tickrt::feed
