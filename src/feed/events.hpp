// feed/events.hpp — normalized market-data events produced by the line parser.
//
// Plain value structs, no ownership: an Event is filled in place by LineParser::parse() and is
// valid until the next parse() on the same parser, because depth levels are spans into the
// parser's reusable level buffers (copy them if you need them longer; the book copies into its
// own arrays). All timestamps are int64 nanoseconds:
//   local_ts_ns  the capture's receive stamp (ns or µs in the file, normalised to ns per file),
//   event_ts_ns  Binance "E" (ms -> ns), 0 when the message has none (spot bookTicker/snapshot),
//   txn_ts_ns    Binance "T" (trade/transaction time; ms -> ns), 0 when absent.
// Prices and quantities are exact fixed-point (core/fixed_point.hpp), never doubles.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "core/fixed_point.hpp"

namespace tickrt::feed {

// Symbol ids are dense small integers handed out by SymbolTable (feed/symbols.hpp) in order of
// first appearance; they index per-symbol arrays (books, counters) directly.
using SymbolId = std::uint16_t;
inline constexpr SymbolId kNoSymbol = 0xFFFF;

// Spot and futures share symbol names (BTCUSDT) but are different books with different sequence
// rules (spot: U == prev u + 1; futures: pu == prev u), so the market is part of a symbol's key.
// USD-M and COIN-M both follow the futures rules.
enum class Market : std::uint8_t { unknown = 0, spot, futures };

constexpr std::string_view market_name(Market m) noexcept {
  switch (m) {
    case Market::spot: return "spot";
    case Market::futures: return "futures";
    case Market::unknown: break;
  }
  return "unknown";
}

enum class EventKind : std::uint8_t {
  none = 0,
  trade,           // <sym>@trade
  book_ticker,     // <sym>@bookTicker
  depth_update,    // <sym>@depth[@100ms|@0ms|...] diff
  mark_price,      // <sym>@markPrice[@1s] (futures)
  depth_snapshot,  // REST /depth response line {"lastUpdateId":..,"bids":..,"asks":..}
};
inline constexpr int kEventKindCount = 6;

constexpr std::string_view event_kind_name(EventKind k) noexcept {
  switch (k) {
    case EventKind::none: return "none";
    case EventKind::trade: return "trade";
    case EventKind::book_ticker: return "bookTicker";
    case EventKind::depth_update: return "depthUpdate";
    case EventKind::mark_price: return "markPrice";
    case EventKind::depth_snapshot: return "depthSnapshot";
  }
  return "?";
}

// Funding rate: same exact decimal representation, its own tag so it never mixes with prices.
struct RateTag {};
using Rate = Fixed<RateTag>;

struct Level {
  Price price;
  Qty qty;  // absolute quantity at the level; 0 deletes it (diffs only)
  friend constexpr bool operator==(const Level&, const Level&) noexcept = default;
};
static_assert(sizeof(Level) == 16, "Level is two int64: the book memmoves arrays of them");

struct TradeFields {
  std::uint64_t trade_id = 0;  // "t"
  Price price;                 // "p"
  Qty qty;                     // "q"
  bool buyer_is_maker = false; // "m": true = the aggressor sold
};

struct BookTickerFields {
  std::uint64_t update_id = 0;  // "u": order-book update id this top-of-book reflects
  Price bid_price;              // "b"
  Qty bid_qty;                  // "B"
  Price ask_price;              // "a"
  Qty ask_qty;                  // "A"
};

struct DepthUpdateFields {
  std::uint64_t first_update_id = 0;       // "U"
  std::uint64_t final_update_id = 0;       // "u"
  std::uint64_t prev_final_update_id = 0;  // "pu" (futures only; see has_prev)
  bool has_prev = false;                   // true iff "pu" was present (futures)
  std::span<const Level> bids;             // as sent (Binance sends bids descending, asks ascending)
  std::span<const Level> asks;
};

struct MarkPriceFields {
  Price mark_price;                   // "p"
  Price index_price;                  // "i" (0 when absent)
  Price est_settle_price;             // "P" (0 when absent)
  Rate funding_rate;                  // "r" (0 when absent)
  std::int64_t next_funding_ts_ns = 0;// "T" (ms -> ns)
};

struct DepthSnapshotFields {
  std::uint64_t last_update_id = 0;  // "lastUpdateId"
  std::span<const Level> bids;       // best first (descending) as Binance sends them
  std::span<const Level> asks;       // best first (ascending)
};

// One parsed line. Only the member matching `kind` is meaningful; the others keep stale values.
struct Event {
  EventKind kind = EventKind::none;
  Market market = Market::unknown;
  SymbolId symbol = kNoSymbol;
  std::int64_t local_ts_ns = 0;
  std::int64_t event_ts_ns = 0;
  std::int64_t txn_ts_ns = 0;
  TradeFields trade;
  BookTickerFields ticker;
  DepthUpdateFields depth;
  MarkPriceFields mark;
  DepthSnapshotFields snapshot;
};

}  // namespace tickrt::feed
