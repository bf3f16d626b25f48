// feed/parse_impl.inl — the simdjson On-Demand walk, compiled once per ISA.
//
// Included only by parse_<isa>.cpp, each of which defines TICKRT_FEED_ISA_NS and is compiled
// with that ISA's flags; simdjson's On-Demand API resolves to simdjson::<isa>::ondemand there.
// Everything here lives in tickrt::feed::detail::<isa>, so the two copies never collide.
// Hot path: no allocation (levels go to Scratch buffers; grow() is out of line, rare), no
// exceptions (simdjson error codes only), no virtual calls.
#ifndef TICKRT_FEED_ISA_NS
#error "define TICKRT_FEED_ISA_NS before including parse_impl.inl"
#endif

#include <simdjson.h>

#include <cstdint>
#include <cstring>
#include <new>
#include <string_view>

#include "core/fixed_point.hpp"
#include "feed/line_parser.hpp"

namespace tickrt::feed::detail::TICKRT_FEED_ISA_NS {

namespace od = simdjson::ondemand;
using simdjson::error_code;

struct Parser {
  od::parser parser;
};

[[nodiscard]] inline LineError from_sj(error_code e) noexcept {
  switch (e) {
    case simdjson::INCORRECT_TYPE: return LineError::wrong_type;
    case simdjson::NUMBER_OUT_OF_RANGE:
    case simdjson::NUMBER_ERROR: return LineError::bad_number;
    case simdjson::NO_SUCH_FIELD: return LineError::missing_field;
    default: return LineError::bad_json;
  }
}

// Raw (escaped) text of a JSON string whose opening quote precedes p. Keys and values we match
// or parse contain no escapes; one with a backslash is returned up to it and then fails matching.
[[nodiscard]] inline std::string_view raw_text(const char* p, const char* end) noexcept {
  const char* q = p;
  while (q < end && *q != '"' && *q != '\\') ++q;
  return {p, static_cast<std::size_t>(q - p)};
}

[[nodiscard]] inline std::string_view key_of(od::field& f, const char* end) noexcept {
  return raw_text(f.key().raw(), end);
}

template <class Tag>
[[nodiscard]] inline LineError scan_decimal_body(const char*& p, const char* e, Fixed<Tag>& out) noexcept;

// A JSON string value holding a decimal. flatten (here and in scan_decimal_body): parse_decimal,
// a core/ inline function, must be inlined into this ISA file, never emitted as a weak
// out-of-line copy that the linker could hand to non-AVX2 callers.
template <class Tag>
[[nodiscard]] [[gnu::flatten]] inline LineError get_fixed(od::value& v, Fixed<Tag>& out, const char* end,
                                                          bool allow_negative = false, bool allow_empty = false) noexcept {
  od::raw_json_string r;
  if (error_code e = v.get_raw_json_string().get(r)) return from_sj(e);
  const char* p = r.raw();
  if (allow_empty && p < end && *p == '"') { out.raw = 0; return LineError::ok; }
  if (LineError le = scan_decimal_body(p, end, out); le != LineError::ok) return le;
  if (!allow_negative && out.raw < 0) return LineError::negative_value;
  return LineError::ok;
}

// A number that is not a uint64 (negative, fractional, > 2^64) is bad_number, not wrong_type.
[[nodiscard]] inline LineError number_error(od::value& v, error_code e) noexcept {
  od::json_type t;
  if (e == simdjson::INCORRECT_TYPE && v.type().get(t) == simdjson::SUCCESS && t == od::json_type::number) {
    return LineError::bad_number;
  }
  return from_sj(e);
}

[[nodiscard]] inline LineError get_u64(od::value& v, std::uint64_t& out) noexcept {
  if (error_code e = v.get_uint64().get(out)) return number_error(v, e);
  return LineError::ok;
}

// Binance "E"/"T" are epoch milliseconds; normalised to ns (range-checked, no overflow).
[[nodiscard]] inline LineError get_ms_as_ns(od::value& v, std::int64_t& out) noexcept {
  std::int64_t ms = 0;
  if (error_code e = v.get_int64().get(ms)) return number_error(v, e);
  if (ms < 0 || ms > INT64_MAX / 1'000'000) return LineError::bad_number;
  out = ms * 1'000'000;
  return LineError::ok;
}

[[nodiscard]] inline LineError get_symbol(od::value& v, std::string_view& out) noexcept {
  if (error_code e = v.get_string().get(out)) return from_sj(e);
  return LineError::ok;
}

[[nodiscard]] inline LineError expect_type(od::value& v, std::string_view want) noexcept {
  std::string_view got;
  if (error_code e = v.get_string().get(got)) return from_sj(e);
  return got == want ? LineError::ok : LineError::event_type_mismatch;
}

[[nodiscard]] inline bool is_ws(char c) noexcept { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// Eight ASCII digits at p -> their value, or false if any is not a digit (SWAR, as simdjson's
// parse_eight_digits_unrolled).
[[nodiscard]] [[gnu::always_inline]] inline bool eight_digits(const char* p, std::uint64_t& out) noexcept {
  std::uint64_t x;
  std::memcpy(&x, p, 8);
  if ((((x & 0xF0F0F0F0F0F0F0F0ull) | (((x + 0x0606060606060606ull) & 0xF0F0F0F0F0F0F0F0ull) >> 4)) !=
       0x3333333333333333ull)) {
    return false;
  }
  x -= 0x3030303030303030ull;
  x = (x * 10) + (x >> 8);
  x = (((x & 0x000000FF000000FFull) * (100 + (1000000ull << 32))) +
       (((x >> 16) & 0x000000FF000000FFull) * (1 + (10000ull << 32)))) >> 32;
  out = x;
  return true;
}

inline constexpr std::int64_t kPow10[9] = {1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000};

// SWAR over the 8 bytes at p (the JSON buffer is padded, so reading past the string is safe;
// the caller bounds what it accepts by the text's end). t = bytes ^ '0'; a byte is a digit iff
// its t is <= 9. Returns a mask with bit 7 set in each non-digit byte.
[[nodiscard]] [[gnu::always_inline]] inline std::uint64_t nondigit_mask(std::uint64_t t) noexcept {
  return (((t & 0x7F7F7F7F7F7F7F7Full) + 0x7676767676767676ull) | t) & 0x8080808080808080ull;
}
// Value of the first n (1..8) digit bytes of t (already ^ '0'): shifted to the top so the bytes
// below are leading zeros, then simdjson's eight-digit reduction.
[[nodiscard]] [[gnu::always_inline]] inline std::uint64_t leading_digits_value(std::uint64_t t, unsigned n) noexcept {
  std::uint64_t x = t << (8 * (8 - n));
  x = (x * 10) + (x >> 8);
  x = (((x & 0x000000FF000000FFull) * (100 + (1000000ull << 32))) +
       (((x >> 16) & 0x000000FF000000FFull) * (1 + (10000ull << 32)))) >> 32;
  return x;
}

// The body of a JSON string holding a decimal, p just after the opening quote; advances p past
// the closing quote. Fast path for the canonical shapes Binance sends ("61837.63000000",
// "61800.20", "1001": 1-7 integer digits, optional '.', 0-8 fraction digits): one 8-byte SWAR
// step per part, no per-byte loop (the per-byte loop was the top of get_levels in callgrind).
// Anything else (sign, 9+ fraction digits, 8+ integer digits, ".5", escapes, letters) goes to
// core's parse_decimal on the whole string, so results are exactly core's (tests/feed checks
// random strings against parse_decimal).
template <class Tag>
[[nodiscard]] [[gnu::flatten, gnu::always_inline]] inline LineError scan_decimal_body(const char*& p, const char* e,
                                                                  Fixed<Tag>& out) noexcept {
  const char* const s = p;
  std::uint64_t w;
  std::memcpy(&w, s, 8);
  const std::uint64_t t = w ^ 0x3030303030303030ull;
  const std::uint64_t nd = nondigit_mask(t);
  const unsigned n1 = nd ? static_cast<unsigned>(__builtin_ctzll(nd)) >> 3 : 8u;
  if (n1 >= 1 && n1 <= 7 && e - s > static_cast<std::ptrdiff_t>(n1)) {
    const std::int64_t ip = static_cast<std::int64_t>(leading_digits_value(t, n1));
    const char* q = s + n1;
    if (*q == '"') {
      out.raw = ip * kDecimalScale;
      p = q + 1;
      return LineError::ok;
    }
    if (*q == '.') {
      ++q;
      std::uint64_t eight;
      if (e - q >= 9 && q[8] == '"' && eight_digits(q, eight)) {
        out.raw = ip * kDecimalScale + static_cast<std::int64_t>(eight);
        p = q + 9;
        return LineError::ok;
      }
      std::uint64_t w2;
      std::memcpy(&w2, q, 8);
      const std::uint64_t t2 = w2 ^ 0x3030303030303030ull;
      const std::uint64_t nd2 = nondigit_mask(t2);
      if (nd2) {
        const unsigned n2 = static_cast<unsigned>(__builtin_ctzll(nd2)) >> 3;  // 0..7 digits
        if (e - q > static_cast<std::ptrdiff_t>(n2) && q[n2] == '"') {
          const std::int64_t frac = n2 ? static_cast<std::int64_t>(leading_digits_value(t2, n2)) : 0;
          out.raw = ip * kDecimalScale + frac * kPow10[8 - n2];
          p = q + n2 + 1;
          return LineError::ok;
        }
      }
    }
  }
  // General path: exactly core's rules on the whole string.
  const char* c = s;
  while (c < e && *c != '"' && *c != '\\') ++c;
  if (c == e || *c != '"') return LineError::bad_decimal;
  if (parse_decimal(std::string_view(s, static_cast<std::size_t>(c - s)), out.raw) != DecimalError::ok) {
    return LineError::bad_decimal;
  }
  p = c + 1;
  return LineError::ok;
}

// "<decimal>" at p; advances p past the closing quote. Negative values are rejected.
template <class Tag>
[[nodiscard]] inline LineError scan_decimal(const char*& p, const char* e, Fixed<Tag>& out) noexcept {
  if (p == e || *p != '"') return LineError::wrong_type;
  ++p;
  if (LineError r = scan_decimal_body(p, e, out); r != LineError::ok) return r;
  return out.raw < 0 ? LineError::negative_value : LineError::ok;
}

// [["price","qty"],...] into buf (size reset first). simdjson skips the array by its structural
// index (array::raw_json), then one strict hand scan of its bytes extracts the levels: the
// nested On-Demand iteration cost ~3x more per level than this (measured with callgrind).
// Accepted: exactly that shape with optional JSON whitespace; anything else is wrong_type (or
// bad_decimal/negative_value for the strings), as the typed walk reported it.
[[nodiscard]] inline LineError get_levels(od::value& v, LevelBuffer& buf, const char*) noexcept {
  buf.size = 0;
  od::array arr;
  if (error_code e = v.get_array().get(arr)) return from_sj(e);
  std::string_view raw;
  if (error_code e = arr.raw_json().get(raw)) return from_sj(e);
  const char* p = raw.data();
  const char* const e = p + raw.size();
  auto ws = [&] { while (p < e && is_ws(*p)) ++p; };
  ws();
  if (p == e || *p != '[') return LineError::wrong_type;
  ++p;
  ws();
  if (p < e && *p == ']') return LineError::ok;
  for (;;) {
    Level lvl;
    // Compact form first (what Binance sends: no whitespace): ["<price>","<qty>"] checked two
    // bytes at a time; the general form below re-scans the same level from its start.
    const char* const lvl_start = p;
    if (e - p >= 8 && p[0] == '[' && p[1] == '"') {
      p += 2;
      if (scan_decimal_body(p, e, lvl.price) == LineError::ok && lvl.price.raw >= 0 && e - p >= 3 &&
          p[0] == ',' && p[1] == '"') {
        p += 2;
        if (scan_decimal_body(p, e, lvl.qty) == LineError::ok && lvl.qty.raw >= 0 && p < e && *p == ']') {
          ++p;
          goto level_done;
        }
      }
      p = lvl_start;
    }
    if (p == e || *p != '[') return LineError::wrong_type;
    ++p;
    ws();
    if (LineError r = scan_decimal(p, e, lvl.price); r != LineError::ok) return r;
    ws();
    if (p == e || *p != ',') return LineError::wrong_type;
    ++p;
    ws();
    if (LineError r = scan_decimal(p, e, lvl.qty); r != LineError::ok) return r;
    ws();
    if (p == e || *p != ']') return LineError::wrong_type;
    ++p;
  level_done:
    ws();
    if (buf.size == buf.cap && !buf.grow()) return LineError::too_many_levels;
    buf.data[buf.size++] = lvl;
    if (p == e) return LineError::bad_json;
    if (*p == ']') return LineError::ok;
    if (*p != ',') return LineError::wrong_type;
    ++p;
    ws();
  }
}

// Field-presence bits, to check required fields once after the walk.
enum : std::uint32_t {
  kE = 1u << 0, kEvtTs = 1u << 1, kSym = 1u << 2, kTxnTs = 1u << 3, kId = 1u << 4, kP = 1u << 5,
  kQ = 1u << 6, kM = 1u << 7, kFirst = 1u << 8, kFinal = 1u << 9, kPrev = 1u << 10, kB = 1u << 11,
  kBq = 1u << 12, kA = 1u << 13, kAq = 1u << 14, kFut = 1u << 15, kSpot = 1u << 16,
};

#define TICKRT_TRY(expr)                                  \
  do {                                                    \
    if (LineError _le = (expr); _le != LineError::ok) return _le; \
  } while (0)

[[nodiscard]] inline bool key1(std::string_view k, char c) noexcept { return k.size() == 1 && k[0] == c; }

// flatten (here and on walk): with the helpers out of line, every od::field/od::value was built
// on the stack by scalar stores and copied at once by a 16-byte load, which cannot be forwarded
// from those stores; perf annotate put ~60% of walk_data's samples on those two stalls. Inlined,
// the copies mostly stay in registers (parse alone 13-14.7 ms -> 9.2-10.2 ms on spot).
[[nodiscard]] [[gnu::flatten]] inline LineError walk_data(od::value& data, EventKind kind, Event& ev, RawMessage& raw,
                                         Scratch& s, const char* end) noexcept {
  od::object obj;
  if (error_code e = data.get_object().get(obj)) {
    return e == simdjson::INCORRECT_TYPE ? LineError::not_object : from_sj(e);
  }
  std::uint32_t seen = 0;
  ev.event_ts_ns = 0;
  ev.txn_ts_ns = 0;
  std::string_view etype;
  switch (kind) {
    case EventKind::trade: etype = "trade"; break;
    case EventKind::book_ticker: etype = "bookTicker"; break;
    case EventKind::depth_update: etype = "depthUpdate"; break;
    case EventKind::mark_price: etype = "markPriceUpdate"; break;
    default: return LineError::unknown_stream;
  }
  if (kind == EventKind::mark_price) ev.mark = MarkPriceFields{};
  for (auto fr : obj) {
    // By reference, not get(f): each copy of a field/value is another store-forwarding stall.
    if (error_code e = fr.error()) return from_sj(e);
    od::field& f = fr.value_unsafe();
    const std::string_view k = key_of(f, end);
    od::value& v = f.value();
    if (k.size() == 1) {
      const char c = k[0];
      // Fields common to every kind first.
      if (c == 'e') { TICKRT_TRY(expect_type(v, etype)); seen |= kE; continue; }
      if (c == 'E') { TICKRT_TRY(get_ms_as_ns(v, ev.event_ts_ns)); seen |= kEvtTs; continue; }
      if (c == 's') { TICKRT_TRY(get_symbol(v, raw.symbol)); seen |= kSym; continue; }
      switch (kind) {
        case EventKind::trade:
          switch (c) {
            case 't': TICKRT_TRY(get_u64(v, ev.trade.trade_id)); seen |= kId; break;
            case 'p': TICKRT_TRY(get_fixed(v, ev.trade.price, end)); seen |= kP; break;
            case 'q': TICKRT_TRY(get_fixed(v, ev.trade.qty, end)); seen |= kQ; break;
            case 'T': TICKRT_TRY(get_ms_as_ns(v, ev.txn_ts_ns)); seen |= kTxnTs; break;
            case 'm': {
              bool m = false;
              if (error_code e = v.get_bool().get(m)) return from_sj(e);
              ev.trade.buyer_is_maker = m;
              seen |= kM;
              break;
            }
            case 'X': seen |= kFut; break;   // futures order type ("MARKET"): spot never sends it
            case 'M': seen |= kSpot; break;  // spot "ignore" flag: futures never send it
            default: break;                  // "b"/"a" order ids (2023 spot), unknown: skipped
          }
          break;
        case EventKind::book_ticker:
          switch (c) {
            case 'u': TICKRT_TRY(get_u64(v, ev.ticker.update_id)); seen |= kId; break;
            case 'b': TICKRT_TRY(get_fixed(v, ev.ticker.bid_price, end)); seen |= kB; break;
            case 'B': TICKRT_TRY(get_fixed(v, ev.ticker.bid_qty, end)); seen |= kBq; break;
            case 'a': TICKRT_TRY(get_fixed(v, ev.ticker.ask_price, end)); seen |= kA; break;
            case 'A': TICKRT_TRY(get_fixed(v, ev.ticker.ask_qty, end)); seen |= kAq; break;
            case 'T': TICKRT_TRY(get_ms_as_ns(v, ev.txn_ts_ns)); seen |= kTxnTs; break;
            default: break;
          }
          break;
        case EventKind::depth_update:
          switch (c) {
            case 'U': TICKRT_TRY(get_u64(v, ev.depth.first_update_id)); seen |= kFirst; break;
            case 'u': TICKRT_TRY(get_u64(v, ev.depth.final_update_id)); seen |= kFinal; break;
            case 'b': TICKRT_TRY(get_levels(v, s.bids, end)); seen |= kB; break;
            case 'a': TICKRT_TRY(get_levels(v, s.asks, end)); seen |= kA; break;
            case 'T': TICKRT_TRY(get_ms_as_ns(v, ev.txn_ts_ns)); seen |= kTxnTs; break;
            default: break;
          }
          break;
        case EventKind::mark_price:
          switch (c) {
            case 'p': TICKRT_TRY(get_fixed(v, ev.mark.mark_price, end)); seen |= kP; break;
            case 'i': TICKRT_TRY(get_fixed(v, ev.mark.index_price, end, false, true)); break;
            case 'P': TICKRT_TRY(get_fixed(v, ev.mark.est_settle_price, end, false, true)); break;
            // Funding rate: signed, and "" for delivery contracts.
            case 'r': TICKRT_TRY(get_fixed(v, ev.mark.funding_rate, end, true, true)); break;
            case 'T': TICKRT_TRY(get_ms_as_ns(v, ev.mark.next_funding_ts_ns)); break;
            default: break;
          }
          break;
        default: break;
      }
    } else if (kind == EventKind::depth_update && k == "pu") {
      TICKRT_TRY(get_u64(v, ev.depth.prev_final_update_id));
      seen |= kPrev;
    }
  }
  std::uint32_t need = kSym;
  switch (kind) {
    case EventKind::trade:
      need |= kEvtTs | kTxnTs | kId | kP | kQ | kM;
      raw.market = (seen & kFut) ? Market::futures : (seen & kSpot) ? Market::spot : Market::unknown;
      break;
    case EventKind::book_ticker:
      need |= kId | kB | kBq | kA | kAq;
      // Spot bookTicker carries no "e"/"E"/"T"; futures always does.
      raw.market = (seen & (kE | kEvtTs | kTxnTs)) ? Market::futures : Market::spot;
      break;
    case EventKind::depth_update:
      need |= kEvtTs | kFirst | kFinal | kB | kA;
      raw.market = (seen & kPrev) ? Market::futures : Market::spot;
      ev.depth.has_prev = (seen & kPrev) != 0;
      if (!ev.depth.has_prev) ev.depth.prev_final_update_id = 0;
      ev.depth.bids = {s.bids.data, s.bids.size};
      ev.depth.asks = {s.asks.data, s.asks.size};
      break;
    case EventKind::mark_price:
      need |= kEvtTs | kP;
      raw.market = Market::futures;
      break;
    default: break;
  }
  if ((seen & need) != need) return LineError::missing_field;
  if (kind == EventKind::depth_update && ev.depth.first_update_id > ev.depth.final_update_id) {
    return LineError::bad_number;  // U > u: not a valid range
  }
  return LineError::ok;
}

// "<sym>@<kind>[@<speed>]" -> kind; none if not one we handle.
[[nodiscard]] inline EventKind classify_stream(std::string_view st) noexcept {
  const std::size_t at = st.find('@');
  if (at == std::string_view::npos || at == 0) return EventKind::none;
  std::string_view k = st.substr(at + 1);
  std::string_view speed;
  if (const std::size_t at2 = k.find('@'); at2 != std::string_view::npos) {
    speed = k.substr(at2 + 1);
    k = k.substr(0, at2);
    // @100ms, @0ms, @1s: digits then a unit; anything else is another stream.
    std::size_t i = 0;
    while (i < speed.size() && static_cast<unsigned>(speed[i] - '0') <= 9u) ++i;
    const std::string_view unit = speed.substr(i);
    if (i == 0 || (unit != "ms" && unit != "s")) return EventKind::none;
  }
  if (k == "trade" && speed.empty()) return EventKind::trade;
  if (k == "bookTicker" && speed.empty()) return EventKind::book_ticker;
  if (k == "depth") return EventKind::depth_update;
  if (k == "markPrice") return EventKind::mark_price;
  return EventKind::none;
}

enum : std::uint32_t { kSnapId = 1u << 0, kSnapBids = 1u << 1, kSnapAsks = 1u << 2, kSnapFut = 1u << 3 };

[[nodiscard]] [[gnu::flatten]] inline LineError walk(Parser* p, Scratch& s, Event& ev, RawMessage& raw) noexcept {
  const char* end = s.json + s.json_len;
  od::document doc;
  if (error_code e = p->parser.iterate(s.json, s.json_len, s.json_cap).get(doc)) return from_sj(e);
  od::object root;
  if (error_code e = doc.get_object().get(root)) {
    return e == simdjson::INCORRECT_TYPE ? LineError::not_object : from_sj(e);
  }
  bool have_stream = false, have_data = false;
  std::uint32_t snap = 0;
  EventKind kind = EventKind::none;
  std::int64_t snap_e = 0, snap_t = 0;
  std::string_view snap_symbol;
  for (auto fr : root) {
    // By reference, not get(f): each copy of a field/value is another store-forwarding stall.
    if (error_code e = fr.error()) return from_sj(e);
    od::field& f = fr.value_unsafe();
    const std::string_view k = key_of(f, end);
    od::value& v = f.value();
    if (k == "stream") {
      std::string_view st;
      if (error_code e = v.get_string().get(st)) return from_sj(e);
      kind = classify_stream(st);
      if (kind == EventKind::none) return LineError::unknown_stream;
      have_stream = true;
    } else if (k == "data") {
      if (!have_stream) return LineError::data_before_stream;
      TICKRT_TRY(walk_data(v, kind, ev, raw, s, end));
      have_data = true;
    } else if (k == "lastUpdateId") {
      TICKRT_TRY(get_u64(v, ev.snapshot.last_update_id));
      snap |= kSnapId;
    } else if (k == "bids") {
      TICKRT_TRY(get_levels(v, s.bids, end));
      snap |= kSnapBids;
    } else if (k == "asks") {
      TICKRT_TRY(get_levels(v, s.asks, end));
      snap |= kSnapAsks;
    } else if (key1(k, 'E')) {
      TICKRT_TRY(get_ms_as_ns(v, snap_e));
      snap |= kSnapFut;
    } else if (key1(k, 'T')) {
      TICKRT_TRY(get_ms_as_ns(v, snap_t));
      snap |= kSnapFut;
    } else if (k == "symbol") {
      TICKRT_TRY(get_symbol(v, snap_symbol));
    }
  }
  // After a complete root value simdjson reports OUT_OF_BOUNDS for the location; anything else
  // means bytes follow it ("{..} x", "{..}}").
  const char* loc = nullptr;
  if (doc.current_location().get(loc) == simdjson::SUCCESS) return LineError::trailing_content;

  if (have_stream || have_data) {
    if (snap & (kSnapId | kSnapBids | kSnapAsks)) return LineError::unknown_message;
    if (!have_data) return LineError::missing_field;
    raw.kind = kind;
    return LineError::ok;
  }
  if (snap & (kSnapId | kSnapBids | kSnapAsks)) {
    if ((snap & (kSnapId | kSnapBids | kSnapAsks)) != (kSnapId | kSnapBids | kSnapAsks)) {
      return LineError::missing_field;
    }
    raw.kind = EventKind::depth_snapshot;
    raw.market = (snap & kSnapFut) ? Market::futures : Market::spot;  // spot /depth has no E/T
    raw.symbol = snap_symbol;
    ev.event_ts_ns = snap_e;
    ev.txn_ts_ns = snap_t;
    ev.snapshot.bids = {s.bids.data, s.bids.size};
    ev.snapshot.asks = {s.asks.data, s.asks.size};
    return LineError::ok;
  }
  return LineError::unknown_message;
}

#undef TICKRT_TRY

}  // namespace tickrt::feed::detail::TICKRT_FEED_ISA_NS

namespace tickrt::feed::detail::TICKRT_FEED_ISA_NS {
// Entry points used by line_parser.cpp (declared in isa_entry.hpp).
void* create_parser() noexcept {
  auto* p = new (std::nothrow) Parser;
  // Room for the largest line we expect (a 5000-level REST snapshot is ~330 KB) up front, so the
  // first snapshot does not reallocate simdjson's buffers mid-replay.
  if (p && p->parser.allocate(1u << 20) != simdjson::SUCCESS) { delete p; return nullptr; }
  return p;
}
void destroy_parser(void* p) noexcept { delete static_cast<Parser*>(p); }
LineError walk_line(void* p, Scratch& s, Event& ev, RawMessage& raw) noexcept {
  return walk(static_cast<Parser*>(p), s, ev, raw);
}
}  // namespace tickrt::feed::detail::TICKRT_FEED_ISA_NS
