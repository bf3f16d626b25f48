// bus/wire.hpp — the binary encoding of everything tickrt sends over NATS (docs/SCALING.md).
//
// Who calls: the feed node (encode market data, its publisher thread sends it), the strategy
// nodes (decode market data, encode intents, decode answers / account views), the execution node
// (decode intents and control, encode answers and account views). Header-only so the libFuzzer
// target (fuzz/fuzz_bus_wire.cpp) builds it without the NATS library.
//
// Layout: every message is a fixed 48-byte header followed by a kind-specific body. All integers
// are little-endian and written byte by byte (no struct memcpy: padding and host order never leak
// onto the wire). Prices and quantities are the exact fixed-point raw int64 (1e-8), never doubles.
//
//   off size header field
//     0  1   version (kWireVersion; a decoder refuses any other: a mixed-version cluster fails loudly)
//     1  1   kind (MsgKind; market-data kinds equal feed::EventKind)
//     2  1   market (feed::Market)
//     3  1   symbol length (<= 23)
//     4  4   body length (bytes after the header; must equal the rest of the message)
//     8  8   seq: market data: per-symbol sequence number (1, 2, ... per symbol, all kinds share
//            it: a consumer checks seq == last + 1); intents: the shard's request counter
//    16  8   stamp_ns: now_ns() (CLOCK_MONOTONIC) when the feed received the frame (market data)
//            or when the request / answer was sent (hop latency on one host)
//    24 24   symbol (ASCII, zero padded)
//
// Market-data bodies carry the normalised feed::Event (feed/events.hpp) field for field, so a
// strategy node rebuilds the same book and the same features as the single process.
//
// Decoding never trusts the input: every length and count is checked against the bytes present;
// a short, garbled or over-long message gives a WireError, never a crash or an out-of-bounds read.
// Hot path: no allocation (encoders write into the caller's buffer; depth levels decode into the
// caller's level span).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>

#include "exec/order_types.hpp"
#include "feed/events.hpp"

namespace tickrt::bus {

inline constexpr std::uint8_t kWireVersion = 1;
inline constexpr std::size_t kHeaderSize = 48;
inline constexpr std::size_t kSymbolField = 24;
inline constexpr std::size_t kMaxSymbolLen = 23;
inline constexpr std::size_t kMaxIntents = 8;        // strategy::SignalStrategy::kMaxIntents
inline constexpr std::size_t kMaxViewOrders = 32;    // open orders of one symbol in an account view
inline constexpr std::size_t kIdField = 40;          // client order ids (<= 36 chars on Binance)
// Fixed record sizes of the repeated parts (what each count is checked against before reading).
inline constexpr std::size_t kIntentRecord = 8 + 3 * 8 + kIdField + 8;   // one WireIntent: 80
inline constexpr std::size_t kViewOrderRecord = 8 + kIdField + 4 * 8;    // one WireOrder: 80
inline constexpr std::size_t kVerdictRecord = 8 + kIdField;              // one answer verdict: 48
// Largest valid value of each enum carried as a byte (a larger one is WireError::bad_value).
inline constexpr std::uint8_t kMaxSide = 1, kMaxOrderType = 2, kMaxTif = 2, kMaxStp = 3;
inline constexpr std::uint8_t kMaxCancelWhy = 3;  // strategy::CancelWhy: none, wrong_side, stale, reprice
inline constexpr std::uint8_t kMaxBookState = 2;  // book::BookState: awaiting_snapshot, synced, resyncing

enum class MsgKind : std::uint8_t {
  none = 0,
  md_trade = 1,           // = feed::EventKind::trade
  md_book_ticker = 2,
  md_depth_update = 3,
  md_mark_price = 4,
  md_depth_snapshot = 5,
  intent = 16,            // shard -> exec (request): up to 8 strategy intents + the top they saw
  answer = 17,            // exec -> shard (reply): per-intent verdict + the symbol's account view
  account = 18,           // exec -> shards (publish ex.acct.<SYM>): the account view after a report
  control = 19,           // anyone -> everyone (publish ctl.all): kill, cancel-all, reset
};

constexpr bool is_market_data(MsgKind k) noexcept {
  return k >= MsgKind::md_trade && k <= MsgKind::md_depth_snapshot;
}
constexpr std::string_view msg_kind_name(MsgKind k) noexcept {
  switch (k) {
    case MsgKind::md_trade: return "trade";
    case MsgKind::md_book_ticker: return "ticker";
    case MsgKind::md_depth_update: return "depth";
    case MsgKind::md_mark_price: return "mark";
    case MsgKind::md_depth_snapshot: return "snapshot";
    case MsgKind::intent: return "intent";
    case MsgKind::answer: return "answer";
    case MsgKind::account: return "account";
    case MsgKind::control: return "control";
    case MsgKind::none: break;
  }
  return "none";
}

enum class WireError : std::uint8_t {
  ok = 0,
  short_header,     // fewer than 48 bytes
  bad_version,
  bad_kind,
  bad_length,       // body length field != bytes present, or a body shorter than its kind needs
  bad_symbol,       // length > 23, non-printable byte, or non-zero padding
  bad_count,        // level / intent / order count does not fit the body or the limits
  no_room,          // caller's level buffer (decode) or output buffer (encode) too small
  bad_value,        // an enum field out of range
};
inline constexpr int kWireErrorCount = 9;
constexpr std::string_view wire_error_name(WireError e) noexcept {
  switch (e) {
    case WireError::ok: return "ok";
    case WireError::short_header: return "short_header";
    case WireError::bad_version: return "bad_version";
    case WireError::bad_kind: return "bad_kind";
    case WireError::bad_length: return "bad_length";
    case WireError::bad_symbol: return "bad_symbol";
    case WireError::bad_count: return "bad_count";
    case WireError::no_room: return "no_room";
    case WireError::bad_value: return "bad_value";
  }
  return "?";
}

struct Header {
  std::uint8_t version = kWireVersion;
  MsgKind kind = MsgKind::none;
  feed::Market market = feed::Market::unknown;
  std::uint32_t body_len = 0;
  std::uint64_t seq = 0;
  std::int64_t stamp_ns = 0;
  exec::SymbolName symbol;
};

// ---- byte writer / reader (bounds-checked, little-endian) ----------------------------------------

class Writer {
 public:
  Writer(std::uint8_t* p, std::size_t cap) noexcept : p_(p), cap_(cap) {}
  void u8(std::uint8_t v) noexcept {
    if (n_ + 1 > cap_) { ok_ = false; return; }
    p_[n_++] = v;
  }
  void u32(std::uint32_t v) noexcept {
    if (n_ + 4 > cap_) { ok_ = false; return; }
    for (int i = 0; i < 4; ++i) p_[n_++] = static_cast<std::uint8_t>(v >> (8 * i));
  }
  void u64(std::uint64_t v) noexcept {
    if (n_ + 8 > cap_) { ok_ = false; return; }
    for (int i = 0; i < 8; ++i) p_[n_++] = static_cast<std::uint8_t>(v >> (8 * i));
  }
  void i64(std::int64_t v) noexcept { u64(static_cast<std::uint64_t>(v)); }
  void pad(std::size_t k) noexcept {
    for (std::size_t i = 0; i < k; ++i) u8(0);
  }
  // Fixed-width text field: s then zeros up to `width` (s must fit: checked by the caller).
  void text(std::string_view s, std::size_t width) noexcept {
    if (s.size() > width || n_ + width > cap_) { ok_ = false; return; }
    std::memcpy(p_ + n_, s.data(), s.size());
    std::memset(p_ + n_ + s.size(), 0, width - s.size());
    n_ += width;
  }
  void patch_u32(std::size_t at, std::uint32_t v) noexcept {
    if (at + 4 > n_) { ok_ = false; return; }
    for (int i = 0; i < 4; ++i) p_[at + static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(v >> (8 * i));
  }
  std::size_t size() const noexcept { return n_; }
  bool ok() const noexcept { return ok_; }

 private:
  std::uint8_t* p_;
  std::size_t cap_, n_ = 0;
  bool ok_ = true;
};

class Reader {
 public:
  Reader(const std::uint8_t* p, std::size_t n) noexcept : p_(p), n_(n) {}
  std::uint8_t u8() noexcept {
    if (!need(1)) return 0;
    return p_[pos_++];
  }
  std::uint32_t u32() noexcept {
    if (!need(4)) return 0;
    std::uint32_t v = 0;
    for (int i = 0; i < 4; ++i) v |= static_cast<std::uint32_t>(p_[pos_++]) << (8 * i);
    return v;
  }
  std::uint64_t u64() noexcept {
    if (!need(8)) return 0;
    std::uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v |= static_cast<std::uint64_t>(p_[pos_++]) << (8 * i);
    return v;
  }
  std::int64_t i64() noexcept { return static_cast<std::int64_t>(u64()); }
  void skip(std::size_t k) noexcept {
    if (need(k)) pos_ += k;
  }
  // A fixed-width text field whose used length is `len`: the rest must be zero, the used part
  // printable ASCII without spaces. Returns false on a bad field (reader stays consistent).
  template <std::size_t N>
  bool text(exec::FixedString<N>& out, std::size_t len, std::size_t width) noexcept {
    if (!need(width)) return false;
    const std::uint8_t* f = p_ + pos_;
    pos_ += width;
    if (len > N || len > width) return false;
    for (std::size_t i = 0; i < width; ++i) {
      const std::uint8_t c = f[i];
      if (i < len ? (c <= 0x20 || c >= 0x7F) : c != 0) return false;
    }
    return out.assign(std::string_view(reinterpret_cast<const char*>(f), len));
  }
  std::size_t remaining() const noexcept { return n_ - pos_; }
  bool ok() const noexcept { return ok_; }

 private:
  bool need(std::size_t k) noexcept {
    if (!ok_ || k > n_ - pos_) { ok_ = false; return false; }
    return true;
  }
  const std::uint8_t* p_;
  std::size_t n_, pos_ = 0;
  bool ok_ = true;
};

// ---- header ----------------------------------------------------------------------------------

// Writes the header with body_len 0; finish() patches the length once the body is written.
inline void put_header(Writer& w, MsgKind kind, feed::Market m, std::uint64_t seq, std::int64_t stamp_ns,
                       std::string_view symbol) noexcept {
  if (symbol.size() > kMaxSymbolLen) symbol = symbol.substr(0, 0);  // caller validated; never overrun
  w.u8(kWireVersion);
  w.u8(static_cast<std::uint8_t>(kind));
  w.u8(static_cast<std::uint8_t>(m));
  w.u8(static_cast<std::uint8_t>(symbol.size()));
  w.u32(0);
  w.u64(seq);
  w.i64(stamp_ns);
  w.text(symbol, kSymbolField);
}
// Patches the body length; returns the message size, 0 when the buffer was too small.
inline std::size_t finish(Writer& w) noexcept {
  if (!w.ok() || w.size() < kHeaderSize) return 0;
  w.patch_u32(4, static_cast<std::uint32_t>(w.size() - kHeaderSize));
  return w.ok() ? w.size() : 0;
}

// Header of any message: checks version, kind, symbol and that the body length matches.
[[nodiscard]] inline WireError decode_header(std::span<const std::uint8_t> msg, Header& h, Reader& body) noexcept {
  if (msg.size() < kHeaderSize) return WireError::short_header;
  Reader r(msg.data(), kHeaderSize);
  h.version = r.u8();
  if (h.version != kWireVersion) return WireError::bad_version;
  const std::uint8_t kind = r.u8();
  const bool known = (kind >= 1 && kind <= 5) || (kind >= 16 && kind <= 19);
  if (!known) return WireError::bad_kind;
  h.kind = static_cast<MsgKind>(kind);
  const std::uint8_t market = r.u8();
  if (market > static_cast<std::uint8_t>(feed::Market::futures)) return WireError::bad_value;
  h.market = static_cast<feed::Market>(market);
  const std::uint8_t slen = r.u8();
  h.body_len = r.u32();
  h.seq = r.u64();
  h.stamp_ns = r.i64();
  if (slen > kMaxSymbolLen || !r.text(h.symbol, slen, kSymbolField)) return WireError::bad_symbol;
  if (h.body_len != msg.size() - kHeaderSize) return WireError::bad_length;
  body = Reader(msg.data() + kHeaderSize, h.body_len);
  return WireError::ok;
}

// The header of a message that must be of `kind`, and a reader over its body.
[[nodiscard]] inline WireError open_body(std::span<const std::uint8_t> msg, MsgKind kind, Header& h, Reader& body) noexcept {
  const WireError he = decode_header(msg, h, body);
  if (he != WireError::ok) return he;
  return h.kind == kind ? WireError::ok : WireError::bad_kind;
}
// A body is read whole: nothing short, nothing left over.
[[nodiscard]] inline WireError body_end(const Reader& r) noexcept {
  return r.ok() && r.remaining() == 0 ? WireError::ok : WireError::bad_length;
}

// ---- market data -----------------------------------------------------------------------------

// Encodes a parsed event of `symbol` with its per-symbol sequence number. Returns the size (0:
// buffer too small, or an event kind that is not market data). Depth messages need
// 108 + 16 x levels bytes.
[[nodiscard]] inline std::size_t encode_event(const feed::Event& ev, std::string_view symbol, std::uint64_t seq,
                                              std::int64_t stamp_ns, std::span<std::uint8_t> out) noexcept {
  Writer w(out.data(), out.size());
  const MsgKind k = static_cast<MsgKind>(ev.kind);
  if (!is_market_data(k) || symbol.size() > kMaxSymbolLen) return 0;
  put_header(w, k, ev.market, seq, stamp_ns, symbol);
  w.i64(ev.local_ts_ns);
  w.i64(ev.event_ts_ns);
  w.i64(ev.txn_ts_ns);
  auto levels = [&w](std::span<const feed::Level> ls) {
    for (const feed::Level& l : ls) {
      w.i64(l.price.raw);
      w.i64(l.qty.raw);
    }
  };
  switch (ev.kind) {
    case feed::EventKind::trade:
      w.u64(ev.trade.trade_id);
      w.i64(ev.trade.price.raw);
      w.i64(ev.trade.qty.raw);
      w.u8(ev.trade.buyer_is_maker ? 1 : 0);
      break;
    case feed::EventKind::book_ticker:
      w.u64(ev.ticker.update_id);
      w.i64(ev.ticker.bid_price.raw);
      w.i64(ev.ticker.bid_qty.raw);
      w.i64(ev.ticker.ask_price.raw);
      w.i64(ev.ticker.ask_qty.raw);
      break;
    case feed::EventKind::depth_update:
      w.u64(ev.depth.first_update_id);
      w.u64(ev.depth.final_update_id);
      w.u64(ev.depth.prev_final_update_id);
      w.u8(ev.depth.has_prev ? 1 : 0);
      w.pad(3);
      w.u32(static_cast<std::uint32_t>(ev.depth.bids.size()));
      w.u32(static_cast<std::uint32_t>(ev.depth.asks.size()));
      levels(ev.depth.bids);
      levels(ev.depth.asks);
      break;
    case feed::EventKind::mark_price:
      w.i64(ev.mark.mark_price.raw);
      w.i64(ev.mark.index_price.raw);
      w.i64(ev.mark.est_settle_price.raw);
      w.i64(ev.mark.funding_rate.raw);
      w.i64(ev.mark.next_funding_ts_ns);
      break;
    case feed::EventKind::depth_snapshot:
      w.u64(ev.snapshot.last_update_id);
      w.u32(static_cast<std::uint32_t>(ev.snapshot.bids.size()));
      w.u32(static_cast<std::uint32_t>(ev.snapshot.asks.size()));
      levels(ev.snapshot.bids);
      levels(ev.snapshot.asks);
      break;
    case feed::EventKind::none: return 0;
  }
  return finish(w);
}

// Decodes a market-data message into `ev` (symbol id left kNoSymbol: the caller maps the name).
// Depth levels land in `levels` (bids first, then asks); ev's spans point into it.
[[nodiscard]] inline WireError decode_event(std::span<const std::uint8_t> msg, Header& h, feed::Event& ev,
                                            std::span<feed::Level> levels) noexcept {
  Reader r(nullptr, 0);
  const WireError he = decode_header(msg, h, r);
  if (he != WireError::ok) return he;
  if (!is_market_data(h.kind)) return WireError::bad_kind;
  ev.kind = static_cast<feed::EventKind>(h.kind);
  ev.market = h.market;
  ev.symbol = feed::kNoSymbol;
  ev.local_ts_ns = r.i64();
  ev.event_ts_ns = r.i64();
  ev.txn_ts_ns = r.i64();
  auto read_levels = [&](std::uint32_t nb, std::uint32_t na, std::span<const feed::Level>& bids,
                         std::span<const feed::Level>& asks) -> WireError {
    const std::uint64_t total = static_cast<std::uint64_t>(nb) + na;
    if (total * 16 != r.remaining()) return WireError::bad_count;
    if (total > levels.size()) return WireError::no_room;
    for (std::uint64_t i = 0; i < total; ++i) {
      levels[i].price = Price::from_raw(r.i64());
      levels[i].qty = Qty::from_raw(r.i64());
    }
    bids = std::span<const feed::Level>(levels.data(), nb);
    asks = std::span<const feed::Level>(levels.data() + nb, na);
    return WireError::ok;
  };
  switch (ev.kind) {
    case feed::EventKind::trade: {
      ev.trade.trade_id = r.u64();
      ev.trade.price = Price::from_raw(r.i64());
      ev.trade.qty = Qty::from_raw(r.i64());
      const std::uint8_t m = r.u8();
      if (m > 1) return WireError::bad_value;
      ev.trade.buyer_is_maker = m == 1;
      break;
    }
    case feed::EventKind::book_ticker:
      ev.ticker.update_id = r.u64();
      ev.ticker.bid_price = Price::from_raw(r.i64());
      ev.ticker.bid_qty = Qty::from_raw(r.i64());
      ev.ticker.ask_price = Price::from_raw(r.i64());
      ev.ticker.ask_qty = Qty::from_raw(r.i64());
      break;
    case feed::EventKind::depth_update: {
      ev.depth.first_update_id = r.u64();
      ev.depth.final_update_id = r.u64();
      ev.depth.prev_final_update_id = r.u64();
      const std::uint8_t hp = r.u8();
      r.skip(3);
      const std::uint32_t nb = r.u32(), na = r.u32();
      if (!r.ok()) return WireError::bad_length;
      if (hp > 1) return WireError::bad_value;
      ev.depth.has_prev = hp == 1;
      const WireError e = read_levels(nb, na, ev.depth.bids, ev.depth.asks);
      if (e != WireError::ok) return e;
      break;
    }
    case feed::EventKind::mark_price:
      ev.mark.mark_price = Price::from_raw(r.i64());
      ev.mark.index_price = Price::from_raw(r.i64());
      ev.mark.est_settle_price = Price::from_raw(r.i64());
      ev.mark.funding_rate = feed::Rate::from_raw(r.i64());
      ev.mark.next_funding_ts_ns = r.i64();
      break;
    case feed::EventKind::depth_snapshot: {
      ev.snapshot.last_update_id = r.u64();
      const std::uint32_t nb = r.u32(), na = r.u32();
      if (!r.ok()) return WireError::bad_length;
      const WireError e = read_levels(nb, na, ev.snapshot.bids, ev.snapshot.asks);
      if (e != WireError::ok) return e;
      break;
    }
    case feed::EventKind::none: return WireError::bad_kind;
  }
  return body_end(r);
}

// ---- intents, answers, account views, control ------------------------------------------------

struct WireTop {          // risk::MarketTop as the strategy saw it
  Price bid, ask;
  std::uint8_t state = 0; // book::BookState
  bool crossed = false;
  std::int64_t update_ns = 0;
};

struct WireIntent {       // strategy::Intent
  std::uint8_t kind = 0;  // 0 new_order, 1 cancel
  std::uint8_t why = 0;   // strategy::CancelWhy
  exec::Side side = exec::Side::buy;
  exec::OrderType type = exec::OrderType::limit;
  exec::TimeInForce tif = exec::TimeInForce::gtc;
  exec::StpMode stp = exec::StpMode::expire_taker;
  Price price;
  Qty qty;
  std::int64_t created_ns = 0;
  exec::ClientOrderId orig_id;        // cancel: the order to cancel
  std::uint64_t exchange_order_id = 0;
};

struct IntentMsg {
  std::uint64_t md_seq = 0;           // the market-data message behind the decision
  std::int64_t recv_ns = 0;           // when the feed received it (tick -> order latency)
  WireTop top;
  float p_down = 0, p_up = 0;         // the model's probabilities (order log)
  std::uint8_t n = 0;
  std::array<WireIntent, kMaxIntents> intents{};
};

enum class Verdict : std::uint8_t { accepted = 0, refused = 1, failed = 2 };  // refused: risk; failed: OMS
constexpr std::string_view verdict_name(Verdict v) noexcept {
  return v == Verdict::accepted ? "accepted" : v == Verdict::refused ? "refused" : "failed";
}

struct WireOrder {        // risk::OpenOrder
  exec::ClientOrderId id;
  std::uint64_t exchange_order_id = 0;
  exec::Side side = exec::Side::buy;
  exec::OrderType type = exec::OrderType::limit;
  bool cancel_pending = false;
  Price price;
  Qty leaves;
  std::int64_t sent_ns = 0;
};

struct AccountView {      // one symbol's state at the execution node (the OMS is the book of record)
  std::uint64_t version = 0;          // exec node's counter: a shard keeps the newest view
  Qty position;
  bool kill = false;                  // the account's kill switch is latched
  std::uint8_t n = 0;
  std::array<WireOrder, kMaxViewOrders> orders{};
};

struct AnswerMsg {
  std::uint8_t n = 0;
  std::array<Verdict, kMaxIntents> verdict{};
  std::array<std::uint8_t, kMaxIntents> reason{};   // risk::Reason when refused
  std::array<exec::ClientOrderId, kMaxIntents> id{};// accepted new orders: the OMS's id
  AccountView view;
};

enum class ControlAction : std::uint8_t { kill = 1, cancel_all = 2, reset = 3 };
struct ControlMsg {
  ControlAction action = ControlAction::cancel_all;
};

namespace detail {
inline void put_view(Writer& w, const AccountView& v) noexcept {
  w.u64(v.version);
  w.i64(v.position.raw);
  w.u8(v.kill ? 1 : 0);
  w.u8(v.n);
  w.pad(6);
  for (std::size_t i = 0; i < v.n && i < kMaxViewOrders; ++i) {
    const WireOrder& o = v.orders[i];
    w.u8(o.id.len);
    w.u8(static_cast<std::uint8_t>(o.side));
    w.u8(static_cast<std::uint8_t>(o.type));
    w.u8(o.cancel_pending ? 1 : 0);
    w.pad(4);
    w.text(o.id.view(), kIdField);
    w.u64(o.exchange_order_id);
    w.i64(o.price.raw);
    w.i64(o.leaves.raw);
    w.i64(o.sent_ns);
  }
}
inline WireError get_view(Reader& r, AccountView& v) noexcept {
  v.version = r.u64();
  v.position = Qty::from_raw(r.i64());
  const std::uint8_t k = r.u8();
  v.n = r.u8();
  r.skip(6);
  if (!r.ok()) return WireError::bad_length;
  if (k > 1) return WireError::bad_value;
  v.kill = k == 1;
  if (v.n > kMaxViewOrders || v.n * kViewOrderRecord > r.remaining()) return WireError::bad_count;
  for (std::size_t i = 0; i < v.n; ++i) {
    WireOrder& o = v.orders[i];
    const std::uint8_t len = r.u8(), side = r.u8(), type = r.u8(), cp = r.u8();
    r.skip(4);
    if (side > kMaxSide || type > kMaxOrderType || cp > 1) return WireError::bad_value;
    o.side = static_cast<exec::Side>(side);
    o.type = static_cast<exec::OrderType>(type);
    o.cancel_pending = cp == 1;
    if (!r.text(o.id, len, kIdField)) return WireError::bad_value;
    o.exchange_order_id = r.u64();
    o.price = Price::from_raw(r.i64());
    o.leaves = Qty::from_raw(r.i64());
    o.sent_ns = r.i64();
  }
  return r.ok() ? WireError::ok : WireError::bad_length;
}
}  // namespace detail

[[nodiscard]] inline std::size_t encode_intent(const IntentMsg& m, std::string_view symbol, std::uint64_t seq,
                                               std::int64_t stamp_ns, std::span<std::uint8_t> out) noexcept {
  if (m.n > kMaxIntents || symbol.size() > kMaxSymbolLen) return 0;
  Writer w(out.data(), out.size());
  put_header(w, MsgKind::intent, feed::Market::spot, seq, stamp_ns, symbol);
  w.u64(m.md_seq);
  w.i64(m.recv_ns);
  w.i64(m.top.bid.raw);
  w.i64(m.top.ask.raw);
  w.i64(m.top.update_ns);
  w.u8(m.top.state);
  w.u8(m.top.crossed ? 1 : 0);
  w.u8(m.n);
  w.pad(1);
  std::uint32_t pd, pu;
  std::memcpy(&pd, &m.p_down, 4);
  std::memcpy(&pu, &m.p_up, 4);
  w.u32(pd);
  w.u32(pu);
  for (std::size_t i = 0; i < m.n; ++i) {
    const WireIntent& in = m.intents[i];
    w.u8(in.kind);
    w.u8(in.why);
    w.u8(static_cast<std::uint8_t>(in.side));
    w.u8(static_cast<std::uint8_t>(in.type));
    w.u8(static_cast<std::uint8_t>(in.tif));
    w.u8(static_cast<std::uint8_t>(in.stp));
    w.u8(in.orig_id.len);
    w.pad(1);
    w.i64(in.price.raw);
    w.i64(in.qty.raw);
    w.i64(in.created_ns);
    w.text(in.orig_id.view(), kIdField);
    w.u64(in.exchange_order_id);
  }
  return finish(w);
}

[[nodiscard]] inline WireError decode_intent(std::span<const std::uint8_t> msg, Header& h, IntentMsg& m) noexcept {
  Reader r(nullptr, 0);
  if (const WireError he = open_body(msg, MsgKind::intent, h, r); he != WireError::ok) return he;
  m.md_seq = r.u64();
  m.recv_ns = r.i64();
  m.top.bid = Price::from_raw(r.i64());
  m.top.ask = Price::from_raw(r.i64());
  m.top.update_ns = r.i64();
  m.top.state = r.u8();
  const std::uint8_t crossed = r.u8();
  m.n = r.u8();
  r.skip(1);
  const std::uint32_t pd = r.u32(), pu = r.u32();
  std::memcpy(&m.p_down, &pd, 4);
  std::memcpy(&m.p_up, &pu, 4);
  if (!r.ok()) return WireError::bad_length;
  if (crossed > 1 || m.top.state > kMaxBookState) return WireError::bad_value;
  m.top.crossed = crossed == 1;
  if (m.n > kMaxIntents || m.n * kIntentRecord != r.remaining()) return WireError::bad_count;
  for (std::size_t i = 0; i < m.n; ++i) {
    WireIntent& in = m.intents[i];
    in.kind = r.u8();
    in.why = r.u8();
    const std::uint8_t side = r.u8(), type = r.u8(), tif = r.u8(), stp = r.u8(), len = r.u8();
    r.skip(1);
    if (in.kind > 1 || in.why > kMaxCancelWhy || side > kMaxSide || type > kMaxOrderType || tif > kMaxTif || stp > kMaxStp)
      return WireError::bad_value;
    in.side = static_cast<exec::Side>(side);
    in.type = static_cast<exec::OrderType>(type);
    in.tif = static_cast<exec::TimeInForce>(tif);
    in.stp = static_cast<exec::StpMode>(stp);
    in.price = Price::from_raw(r.i64());
    in.qty = Qty::from_raw(r.i64());
    in.created_ns = r.i64();
    in.orig_id = {};
    if (!r.text(in.orig_id, len, kIdField)) return WireError::bad_value;
    in.exchange_order_id = r.u64();
  }
  return body_end(r);
}

[[nodiscard]] inline std::size_t encode_answer(const AnswerMsg& a, std::string_view symbol, std::uint64_t seq,
                                               std::int64_t stamp_ns, std::span<std::uint8_t> out) noexcept {
  if (a.n > kMaxIntents || a.view.n > kMaxViewOrders || symbol.size() > kMaxSymbolLen) return 0;
  Writer w(out.data(), out.size());
  put_header(w, MsgKind::answer, feed::Market::spot, seq, stamp_ns, symbol);
  w.u8(a.n);
  w.pad(7);
  for (std::size_t i = 0; i < a.n; ++i) {
    w.u8(static_cast<std::uint8_t>(a.verdict[i]));
    w.u8(a.reason[i]);
    w.u8(a.id[i].len);
    w.pad(5);
    w.text(a.id[i].view(), kIdField);
  }
  detail::put_view(w, a.view);
  return finish(w);
}

[[nodiscard]] inline WireError decode_answer(std::span<const std::uint8_t> msg, Header& h, AnswerMsg& a) noexcept {
  Reader r(nullptr, 0);
  if (const WireError he = open_body(msg, MsgKind::answer, h, r); he != WireError::ok) return he;
  a.n = r.u8();
  r.skip(7);
  if (!r.ok()) return WireError::bad_length;
  if (a.n > kMaxIntents || a.n * kVerdictRecord > r.remaining()) return WireError::bad_count;
  for (std::size_t i = 0; i < a.n; ++i) {
    const std::uint8_t v = r.u8();
    a.reason[i] = r.u8();
    const std::uint8_t len = r.u8();
    r.skip(5);
    if (v > 2) return WireError::bad_value;
    a.verdict[i] = static_cast<Verdict>(v);
    a.id[i] = {};
    if (!r.text(a.id[i], len, kIdField)) return WireError::bad_value;
  }
  if (const WireError ve = detail::get_view(r, a.view); ve != WireError::ok) return ve;
  return body_end(r);
}

[[nodiscard]] inline std::size_t encode_account(const AccountView& v, std::string_view symbol, std::int64_t stamp_ns,
                                                std::span<std::uint8_t> out) noexcept {
  if (v.n > kMaxViewOrders || symbol.size() > kMaxSymbolLen) return 0;
  Writer w(out.data(), out.size());
  put_header(w, MsgKind::account, feed::Market::spot, v.version, stamp_ns, symbol);
  detail::put_view(w, v);
  return finish(w);
}

[[nodiscard]] inline WireError decode_account(std::span<const std::uint8_t> msg, Header& h, AccountView& v) noexcept {
  Reader r(nullptr, 0);
  if (const WireError he = open_body(msg, MsgKind::account, h, r); he != WireError::ok) return he;
  if (const WireError ve = detail::get_view(r, v); ve != WireError::ok) return ve;
  return body_end(r);
}

[[nodiscard]] inline std::size_t encode_control(const ControlMsg& c, std::uint64_t seq, std::int64_t stamp_ns,
                                                std::span<std::uint8_t> out) noexcept {
  Writer w(out.data(), out.size());
  put_header(w, MsgKind::control, feed::Market::unknown, seq, stamp_ns, "");
  w.u8(static_cast<std::uint8_t>(c.action));
  w.pad(7);
  return finish(w);
}

[[nodiscard]] inline WireError decode_control(std::span<const std::uint8_t> msg, Header& h, ControlMsg& c) noexcept {
  Reader r(nullptr, 0);
  if (const WireError he = open_body(msg, MsgKind::control, h, r); he != WireError::ok) return he;
  const std::uint8_t a = r.u8();
  r.skip(7);
  if (const WireError e = body_end(r); e != WireError::ok) return e;
  if (a < 1 || a > 3) return WireError::bad_value;
  c.action = static_cast<ControlAction>(a);
  return WireError::ok;
}

// Subjects (docs/SCALING.md): md.<venue>.<SYMBOL>.<kind>, intents on ex.intent.<SYMBOL>,
// account views on ex.acct.<SYMBOL>, control on ctl.all.
inline constexpr std::string_view kControlSubject = "ctl.all";

}  // namespace tickrt::bus
