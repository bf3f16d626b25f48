#include "feed/line_parser.hpp"

#include <simdjson.h>

#include <algorithm>
#include <cstring>
#include <new>

#include "feed/isa_entry.hpp"

namespace tickrt::feed {

std::string_view line_error_name(LineError e) noexcept {
  switch (e) {
    case LineError::ok: return "ok";
    case LineError::empty_line: return "empty_line";
    case LineError::bad_timestamp: return "bad_timestamp";
    case LineError::timestamp_unit_changed: return "timestamp_unit_changed";
    case LineError::line_too_long: return "line_too_long";
    case LineError::bad_json: return "bad_json";
    case LineError::not_object: return "not_object";
    case LineError::wrong_type: return "wrong_type";
    case LineError::missing_field: return "missing_field";
    case LineError::bad_number: return "bad_number";
    case LineError::bad_decimal: return "bad_decimal";
    case LineError::negative_value: return "negative_value";
    case LineError::unknown_stream: return "unknown_stream";
    case LineError::unknown_message: return "unknown_message";
    case LineError::event_type_mismatch: return "event_type_mismatch";
    case LineError::market_mismatch: return "market_mismatch";
    case LineError::too_many_levels: return "too_many_levels";
    case LineError::bad_symbol: return "bad_symbol";
    case LineError::snapshot_symbol_unknown: return "snapshot_symbol_unknown";
    case LineError::snapshot_symbol_ambiguous: return "snapshot_symbol_ambiguous";
    case LineError::data_before_stream: return "data_before_stream";
    case LineError::trailing_content: return "trailing_content";
    case LineError::count_: break;
  }
  return "unknown";
}

namespace detail {
bool LevelBuffer::grow() noexcept {
  const std::size_t ncap = cap == 0 ? 1024 : cap * 2;
  if (ncap > LineParser::kMaxLevels) return false;
  std::unique_ptr<Level[]> n(new (std::nothrow) Level[ncap]);
  if (!n) return false;
  if (size) std::memcpy(static_cast<void*>(n.get()), data, size * sizeof(Level));
  storage = std::move(n);
  data = storage.get();
  cap = ncap;
  return true;
}
}  // namespace detail

namespace {
// SWAR digit helpers (as simdjson's parse_eight_digits_unrolled). t = 8 bytes ^ '0' (little
// endian: the first byte is the lowest); a byte is a digit iff its t is <= 9.
inline std::uint64_t nondigit_bits(std::uint64_t t) noexcept {
  return (((t & 0x7F7F7F7F7F7F7F7Full) + 0x7676767676767676ull) | t) & 0x8080808080808080ull;
}
// Value of the first n (1..8) digits of t: shifted to the top so the bytes below read as zeros.
inline std::uint64_t digits_value(std::uint64_t t, unsigned n) noexcept {
  std::uint64_t x = t << (8 * (8 - n));
  x = (x * 10) + (x >> 8);
  x = (((x & 0x000000FF000000FFull) * (100 + (1000000ull << 32))) +
       (((x >> 16) & 0x000000FF000000FFull) * (1 + (10000ull << 32)))) >> 32;
  return x;
}
// p has >= 24 readable bytes. True when they start with 12-19 digits: n = that count, ts = their
// value (same as the byte loop). False (n, ts untouched) for any other count: the byte loop runs.
inline bool stamp_swar(const char* p, std::size_t& n, std::uint64_t& ts) noexcept {
  std::uint64_t t[3];
  std::memcpy(t, p, 24);
  unsigned len = 0;
  for (int k = 0; k < 3; ++k) {
    t[k] ^= 0x3030303030303030ull;
    const std::uint64_t nd = nondigit_bits(t[k]);
    if (nd) { len += static_cast<unsigned>(__builtin_ctzll(nd)) >> 3; break; }
    len += 8;
  }
  if (len < 12 || len > 19) return false;  // not a 12-19 digit stamp: the byte loop decides
  const unsigned head = len % 8;  // leading digits before whole 8-digit blocks
  std::uint64_t v = 0;
  unsigned pos = 0;
  if (head) {
    v = digits_value(t[0], head);
    pos = head;
  }
  while (pos < len) {  // whole blocks starting at byte pos (may straddle two words)
    const std::uint64_t lo = t[pos / 8], hi = pos / 8 + 1 < 3 ? t[pos / 8 + 1] : 0;
    const unsigned sh = 8 * (pos % 8);
    const std::uint64_t blk = sh ? (lo >> sh) | (hi << (64 - sh)) : lo;
    v = v * 100000000ull + digits_value(blk, 8);
    pos += 8;
  }
  n = len;
  ts = v;
  return true;
}

bool haswell_supported() noexcept {
#if defined(TICKRT_FEED_HAS_HASWELL)
  const auto* impl = simdjson::get_available_implementations()["haswell"];
  return impl != nullptr && impl->supported_by_runtime_system();
#else
  return false;
#endif
}
}  // namespace

LineParser::LineParser() {
#if defined(TICKRT_FEED_HAS_HASWELL)
  if (haswell_supported()) {
    isa_ = Isa::haswell;
    impl_ = static_cast<detail::IsaParser*>(detail::haswell::create_parser());
  }
#endif
  if (!impl_) {
    isa_ = Isa::fallback;
    impl_ = static_cast<detail::IsaParser*>(detail::fallback::create_parser());
  }
  if (!impl_) throw std::bad_alloc();  // setup path: construction may fail loudly
  // Capture lines are ~150-700 bytes; snapshots ~35-65 KB. Reserve for the snapshot up front.
  if (!reserve_json(256u << 10)) throw std::bad_alloc();
  if (!scratch_.bids.grow() || !scratch_.asks.grow()) throw std::bad_alloc();
  // 1024 levels per side after the first grow; one more doubling covers a 1000-level snapshot
  // plus slack, so do it now rather than at the first snapshot.
  if (!scratch_.bids.grow() || !scratch_.asks.grow()) throw std::bad_alloc();
}

LineParser::~LineParser() {
#if defined(TICKRT_FEED_HAS_HASWELL)
  if (isa_ == Isa::haswell) { detail::haswell::destroy_parser(impl_); return; }
#endif
  detail::fallback::destroy_parser(impl_);
}

std::string_view LineParser::isa_name() const noexcept {
  return isa_ == Isa::haswell ? "haswell" : "fallback";
}

bool LineParser::reserve_json(std::size_t n) noexcept {
  const std::size_t need = n + simdjson::SIMDJSON_PADDING;
  if (need <= scratch_.json_cap) return true;
  std::size_t cap = std::max<std::size_t>(need, scratch_.json_cap * 2);
  // Value-initialised: simdjson reads the padding, and zeroed memory keeps valgrind quiet.
  std::unique_ptr<char[]> b(new (std::nothrow) char[cap]());
  if (!b) return false;
  json_buf_ = std::move(b);
  scratch_.json = json_buf_.get();
  scratch_.json_cap = cap;
  return true;
}

LineError LineParser::parse(std::string_view line, FileContext& file, Event& out) noexcept {
  // Tolerate a CRLF file and trailing blanks.
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) {
    line.remove_suffix(1);
  }
  if (line.empty()) return LineError::empty_line;
  if (line.size() > kMaxLine) return LineError::line_too_long;
  std::size_t i = 0;
  std::uint64_t ts = 0;
  // A 12-19 digit stamp in a line of >= 24 bytes: found and valued 8 bytes at a time (the
  // per-digit multiply chain was ~9% of the parse in perf). Anything else: the byte loop.
  if (line.size() < 24 || !stamp_swar(line.data(), i, ts)) {
    while (i < line.size() && static_cast<unsigned>(line[i] - '0') <= 9u) {
      if (i < 19) ts = ts * 10 + static_cast<unsigned>(line[i] - '0');
      ++i;
    }
  }
  const std::size_t ndig = i;
  if (ndig == 0 || i == line.size() || (line[i] != ' ' && line[i] != '\t')) return LineError::bad_timestamp;
  TsUnit unit;
  std::uint64_t mul;
  if (ndig >= 18 && ndig <= 19) { unit = TsUnit::ns; mul = 1; }
  else if (ndig >= 15 && ndig <= 16) { unit = TsUnit::us; mul = 1'000; }
  else if (ndig >= 12 && ndig <= 13) { unit = TsUnit::ms; mul = 1'000'000; }
  else return LineError::bad_timestamp;
  if (ts > static_cast<std::uint64_t>(INT64_MAX) / mul) return LineError::bad_timestamp;
  if (file.ts_unit != TsUnit::unknown && file.ts_unit != unit) return LineError::timestamp_unit_changed;
  while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
  if (i == line.size()) return LineError::bad_timestamp;  // a stamp and nothing else
  const LineError e = parse_json(line.substr(i), static_cast<std::int64_t>(ts * mul), file, out);
  // The unit is fixed by the file's first stamped line, even if its JSON is bad: the stamp is fine.
  if (file.ts_unit == TsUnit::unknown) file.ts_unit = unit;
  return e;
}

LineError LineParser::parse_json(std::string_view json, std::int64_t local_ts_ns, FileContext& file,
                                 Event& out) noexcept {
  if (json.size() > kMaxLine) return LineError::line_too_long;
  if (!reserve_json(json.size())) return LineError::line_too_long;
  std::memcpy(json_buf_.get(), json.data(), json.size());
  scratch_.json_len = json.size();

  detail::RawMessage raw;
  LineError e;
#if defined(TICKRT_FEED_HAS_HASWELL)
  if (isa_ == Isa::haswell) e = detail::haswell::walk_line(impl_, scratch_, out, raw);
  else
#endif
    e = detail::fallback::walk_line(impl_, scratch_, out, raw);
  if (e != LineError::ok) return e;

  // Market: the message's own content, else the file's (a trade carrying neither "X" nor "M").
  Market m = raw.market != Market::unknown ? raw.market : file.market;
  if (m == Market::unknown) return LineError::market_mismatch;
  if (file.market != Market::unknown && file.market != m) return LineError::market_mismatch;

  SymbolId id;
  if (raw.kind == EventKind::depth_snapshot && raw.symbol.empty()) {
    if (file.multi_symbol) return LineError::snapshot_symbol_ambiguous;
    if (file.file_symbol == kNoSymbol) return LineError::snapshot_symbol_unknown;
    id = file.file_symbol;
  } else {
    id = symbols_.intern(m, raw.symbol);
    if (id == kNoSymbol) return LineError::bad_symbol;
  }
  // Commit per-file state only for a good message.
  file.market = m;
  if (raw.kind != EventKind::depth_snapshot) {
    if (file.file_symbol == kNoSymbol) file.file_symbol = id;
    else if (file.file_symbol != id) file.multi_symbol = true;
  }
  out.kind = raw.kind;
  out.market = m;
  out.symbol = id;
  out.local_ts_ns = local_ts_ns;
  return LineError::ok;
}

}  // namespace tickrt::feed
