// sim/matching_engine.cpp — see matching_engine.hpp for the contract and docs/SIMULATOR.md for
// the model.
//
// Layout: orders live in a deque indexed by exchange order id (ids are consecutive; the oldest
// closed ones are dropped beyond max_closed_orders), linked FIFO per price level and per
// account by id; each symbol side keeps its levels in a vector sorted worst -> best (best at the
// back, as book/ does), so the top is back() and inserting a new best level is a push_back.
// Replay: the displayed book is a book::L2Book; per our level we mirror the displayed quantity at
// that price (displayed_raw), so a diff tells us the change at our level without a lookup.
#include "sim/matching_engine.hpp"

#include <algorithm>
#include <cmath>
#include <deque>
#include <string>

#include "book/l2_book.hpp"

namespace tickrt::sim {

std::string_view queue_model_name(QueueModel m) noexcept {
  switch (m) {
    case QueueModel::proportional: return "proportional";
    case QueueModel::cancels_behind: return "cancels_behind";
    case QueueModel::cancels_ahead: return "cancels_ahead";
  }
  return "?";
}

RejectCode reject_code(RejectReason r, bool for_cancel) noexcept {
  switch (r) {
    case RejectReason::none: return RejectCode::none;
    case RejectReason::unknown_symbol: return RejectCode::bad_symbol;
    case RejectReason::bad_account: return RejectCode::bad_api_key;
    case RejectReason::bad_client_order_id: return RejectCode::invalid_client_order_id;
    case RejectReason::bad_enum: return RejectCode::illegal_chars;
    case RejectReason::bad_qty:
    case RejectReason::bad_price:
    case RejectReason::min_notional: return RejectCode::filter_failure;
    case RejectReason::duplicate_order:
    case RejectReason::insufficient_balance:
    case RejectReason::would_take:
    case RejectReason::fault_reject: return RejectCode::new_order_rejected;
    case RejectReason::unknown_order: return for_cancel ? RejectCode::cancel_rejected : RejectCode::no_such_order;
  }
  return RejectCode::unknown;
}

ExecReport status_report(const OrderState& o) noexcept {
  ExecReport r;
  r.symbol = o.symbol;
  r.client_order_id = o.client_order_id;
  r.exchange_order_id = o.exchange_order_id;
  r.side = o.side;
  r.type = o.type;
  r.tif = o.tif;
  r.exec_type = ExecType::status;
  r.status = o.status;
  r.price = o.price;
  r.qty = o.qty;
  r.cum_qty = o.cum_qty;
  r.cum_quote_raw = o.cum_quote_raw;
  r.commission_raw = o.commission_raw;
  r.transact_ns = o.updated_ns;
  return r;
}

std::string_view reject_message(RejectReason r) noexcept {
  switch (r) {
    case RejectReason::none: return "";
    case RejectReason::unknown_symbol: return "Invalid symbol.";
    case RejectReason::bad_account: return "Invalid API-key, IP, or permissions for action.";
    case RejectReason::bad_client_order_id: return "Invalid newClientOrderId.";
    case RejectReason::bad_enum: return "Illegal characters found in a parameter.";
    case RejectReason::bad_qty: return "Filter failure: LOT_SIZE";
    case RejectReason::bad_price: return "Filter failure: PRICE_FILTER";
    case RejectReason::min_notional: return "Filter failure: NOTIONAL";
    case RejectReason::duplicate_order: return "Duplicate order sent.";
    case RejectReason::insufficient_balance: return "Account has insufficient balance for requested action.";
    case RejectReason::would_take: return "Order would immediately match and take.";
    case RejectReason::fault_reject: return "Simulated reject (fault injection).";
    case RejectReason::unknown_order: return "Unknown order sent.";
  }
  return "?";
}

std::string_view reject_reason_name(RejectReason r) noexcept {
  switch (r) {
    case RejectReason::none: return "none";
    case RejectReason::unknown_symbol: return "unknown_symbol";
    case RejectReason::bad_account: return "bad_account";
    case RejectReason::bad_client_order_id: return "bad_client_order_id";
    case RejectReason::bad_enum: return "bad_enum";
    case RejectReason::bad_qty: return "bad_qty";
    case RejectReason::bad_price: return "bad_price";
    case RejectReason::min_notional: return "min_notional";
    case RejectReason::duplicate_order: return "duplicate_order";
    case RejectReason::insufficient_balance: return "insufficient_balance";
    case RejectReason::would_take: return "would_take";
    case RejectReason::fault_reject: return "fault_reject";
    case RejectReason::unknown_order: return "unknown_order";
  }
  return "?";
}

namespace {

// Orders are addressed by their exchange order id (consecutive), which indexes the order
// history deque directly: no id -> slot hash map.
using Slot = std::uint64_t;
constexpr Slot kNil = ~Slot{0};

// price*qty in 1e-8 quote units, floored (both operands are 1e-8 fixed point and positive).
inline std::int64_t quote_of(Price p, Qty q) noexcept {
  return static_cast<std::int64_t>((static_cast<__int128>(p.raw) * q.raw) / kDecimalScale);
}
// Fee of a quote amount at rate_e4 (1e-4 bps units = 1e-8 fraction), truncated toward zero.
inline std::int64_t fee_of(std::int64_t quote_raw, std::int64_t rate_e4) noexcept {
  return static_cast<std::int64_t>((static_cast<__int128>(quote_raw) * rate_e4) / 100'000'000);
}
// Worst-case fee for a lock: rounded up, never negative.
inline std::int64_t fee_lock(std::int64_t quote_raw, std::int64_t rate_e4) noexcept {
  if (rate_e4 <= 0) return 0;
  const __int128 n = static_cast<__int128>(quote_raw) * rate_e4;
  return static_cast<std::int64_t>((n + 99'999'999) / 100'000'000);
}

// SplitMix64: tiny, seedable, good enough for fault draws; one per fault kind.
struct Rng {
  std::uint64_t s = 0;
  std::uint64_t next() noexcept {
    std::uint64_t z = (s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  double uniform() noexcept { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  bool chance(double p) noexcept { return p > 0.0 && (p >= 1.0 || uniform() < p); }
};

enum RngKind { kRngDropMd = 0, kRngGap, kRngAckDelay, kRngLoseAck, kRngReject, kRngThrottle, kRngCount };

struct Order {
  OrderState st;
  SymbolIndex sym = kNoSymbolIndex;
  Slot prev = kNil, next = kNil;          // FIFO at the price level
  Slot acc_prev = kNil, acc_next = kNil;  // the account's open orders
  std::int64_t locked_raw = 0;     // what this order still holds (quote for buys, base for sells)
  std::int64_t ahead_raw = 0;      // replay: displayed quantity ahead of us
  bool live = false;
  Qty leaves() const noexcept { return st.qty - st.cum_qty; }
};

struct PriceLevel {
  Price price;
  std::int64_t ours_raw = 0;       // remaining qty of our orders here
  std::int64_t displayed_raw = 0;  // replay: displayed qty at this price as last known
  std::int64_t traded_raw = 0;     // replay: real traded qty here since the last diff at this price
  Slot head = kNil, tail = kNil;
};

// One side of our orders: levels sorted worst -> best (best = back()).
struct OurSide {
  bool is_bid = true;
  std::vector<PriceLevel> levels;
  // true if a is a better price than b for this side
  bool better(Price a, Price b) const noexcept { return is_bid ? a > b : a < b; }
  // index of the level with this price, or -1
  std::ptrdiff_t find(Price p) const noexcept {
    // levels are sorted worst -> best: ascending for bids, descending for asks
    auto it = std::lower_bound(levels.begin(), levels.end(), p, [this](const PriceLevel& l, Price x) {
      return better(x, l.price);  // l before x when l is worse than x
    });
    if (it != levels.end() && it->price == p) return it - levels.begin();
    return -1;
  }
  std::size_t insert(Price p) {
    auto it = std::lower_bound(levels.begin(), levels.end(), p, [this](const PriceLevel& l, Price x) {
      return better(x, l.price);
    });
    PriceLevel lv;
    lv.price = p;
    it = levels.insert(it, lv);
    return static_cast<std::size_t>(it - levels.begin());
  }
};

struct Consumed {
  bool bid;
  Price price;
  std::int64_t qty_raw;
};

struct Symbol {
  SymbolSpec spec;
  std::uint16_t base = 0, quote = 0;  // asset indices
  OurSide bids, asks;
  std::unique_ptr<book::L2Book> shown;  // replay only
  std::vector<Consumed> consumed;       // replay: displayed liquidity our takers consumed
  std::uint64_t update_id = 0;
  OurSide& side(bool bid) noexcept { return bid ? bids : asks; }
  const OurSide& side(bool bid) const noexcept { return bid ? bids : asks; }
};

struct Account {
  bool exists = false;
  std::vector<Balance> bal;            // by asset index
  std::vector<std::uint16_t> touched;  // asset indices in first-touch order
  Slot open_head = kNil;               // open orders, newest first
};

// Key of (account, symbol, client id) for the client-id map: fixed size, no allocation.
struct ClidKey {
  AccountId account;
  SymbolIndex symbol;
  ClientOrderId clid;
  friend bool operator==(const ClidKey& a, const ClidKey& b) noexcept {
    return a.account == b.account && a.symbol == b.symbol && a.clid == b.clid;
  }
};
struct ClidHash {
  std::size_t operator()(const ClidKey& k) const noexcept {
    std::uint64_t h = 0xCBF29CE484222325ull ^ (std::uint64_t{k.account} << 16 | k.symbol);
    for (std::uint8_t i = 0; i < k.clid.len && i < ClientOrderId::capacity(); ++i) {
      h ^= static_cast<unsigned char>(k.clid.data[i]);
      h *= 0x100000001B3ull;  // FNV-1a
    }
    return static_cast<std::size_t>(h ^ (h >> 29));
  }
};
// A FixedString from the wire may carry a corrupted length: never view() past its storage.
template <std::size_t N>
inline bool sane(const exec::FixedString<N>& f) noexcept { return f.len <= N; }

inline ClidKey clid_key(AccountId a, SymbolIndex s, const ClientOrderId& c) noexcept { return ClidKey{a, s, c}; }

}  // namespace

struct MatchingEngine::Impl {
  SimConfig cfg;
  Status status;
  std::int64_t maker_e4 = 0, taker_e4 = 0, lock_e4 = 0;
  std::vector<Symbol> syms;
  std::vector<AssetName> assets;
  std::vector<SymbolIndex> feed_map;  // feed::SymbolId -> engine symbol
  std::vector<Account> accounts;
  std::deque<Order> orders;   // every accepted order by id: orders[id - base]; closed ones at the
  Slot base = 1;              // front are dropped beyond max_closed_orders
  std::uint64_t closed_count = 0;
  // (account, symbol, client id) -> latest exchange id: open addressing over ids only; the key
  // of a stored id is read back from the order history (no per-order allocation, 8 bytes a slot).
  std::vector<Slot> clid_slots = std::vector<Slot>(1u << 12, kNil);
  std::size_t clid_used = 0;  // live + tombstones
  static constexpr Slot kTomb = kNil - 1;
  std::vector<Fill> ledger;
  std::uint64_t next_order_id = 1, next_trade_id = 1;
  ReportSink* sink = nullptr;
  Rng rng[kRngCount];
  EngineCounters c;
  std::vector<Level> scratch;  // displayed levels copied out of an L2Book (cursor walks)
  std::vector<Level> lookup;   // shown_at()'s own copy: it runs inside walks (book updates)
  // per-request state
  Slot muted_slot = kNil;  // lost ack: reports of this order during this submit are withheld
  std::int64_t deliver_ns = 0;
  bool touched_book = false;

  // ---- setup ------------------------------------------------------------------------------
  std::uint16_t asset_index(std::string_view name) {
    for (std::size_t i = 0; i < assets.size(); ++i)
      if (assets[i].view() == name) return static_cast<std::uint16_t>(i);
    assets.push_back(AssetName::from(name));
    return static_cast<std::uint16_t>(assets.size() - 1);
  }
  int find_asset(std::string_view name) const noexcept {
    for (std::size_t i = 0; i < assets.size(); ++i)
      if (assets[i].view() == name) return static_cast<int>(i);
    return -1;
  }

  Status add_symbol(const SymbolSpec& s) {
    const std::string where = "sim symbol '" + std::string(s.name.view()) + "': ";
    if (s.name.empty()) return {Code::invalid_argument, "sim symbol: empty name"};
    if (s.base.empty() || s.quote.empty()) return {Code::invalid_argument, where + "base and quote assets are required"};
    if (s.base == s.quote) return {Code::invalid_argument, where + "base == quote"};
    if (s.tick_size.raw <= 0) return {Code::invalid_argument, where + "tick_size must be > 0"};
    if (s.step_size.raw <= 0) return {Code::invalid_argument, where + "step_size must be > 0"};
    if (s.min_qty.raw < 0 || s.max_qty.raw <= 0 || s.max_qty < s.min_qty)
      return {Code::invalid_argument, where + "need 0 <= min_qty <= max_qty, max_qty > 0"};
    if (s.min_notional_raw < 0) return {Code::invalid_argument, where + "min_notional must be >= 0"};
    if (s.book_levels == 0) return {Code::invalid_argument, where + "book_levels must be > 0"};
    for (const Symbol& x : syms)
      if (x.spec.name == s.name) return {Code::invalid_argument, where + "added twice"};
    if (syms.size() >= kNoSymbolIndex) return {Code::resource_exhausted, where + "too many symbols"};
    Symbol sym;
    sym.spec = s;
    sym.base = asset_index(s.base.view());
    sym.quote = asset_index(s.quote.view());
    sym.bids.is_bid = true;
    sym.asks.is_bid = false;
    syms.push_back(std::move(sym));
    return {};
  }

  SymbolIndex find_symbol(const SymbolName& name) const noexcept {
    return sane(name) ? find_symbol(name.view()) : kNoSymbolIndex;
  }
  SymbolIndex find_symbol(std::string_view name) const noexcept {
    for (std::size_t i = 0; i < syms.size(); ++i)
      if (syms[i].spec.name.view() == name) return static_cast<SymbolIndex>(i);
    return kNoSymbolIndex;
  }

  Account* account(AccountId a) {
    if (a >= kMaxAccounts) return nullptr;
    if (accounts.size() <= a) accounts.resize(a + 1);
    Account& acc = accounts[a];
    if (!acc.exists) {
      acc.exists = true;
      for (const auto& [name, raw] : cfg.start_balances) {
        const std::uint16_t i = asset_index(name.view());
        touch_asset(acc, i);
        acc.bal[i].free_raw = raw;
      }
    }
    return &acc;
  }
  static void touch_asset(Account& acc, std::uint16_t i) {
    if (acc.bal.size() <= i) acc.bal.resize(i + 1);
    if (std::find(acc.touched.begin(), acc.touched.end(), i) == acc.touched.end()) acc.touched.push_back(i);
  }
  Balance& bal(Account& acc, std::uint16_t i) {
    touch_asset(acc, i);
    return acc.bal[i];
  }

  // ---- reports ------------------------------------------------------------------------------
  std::int64_t due(std::int64_t now) noexcept {
    std::int64_t d = now + cfg.faults.ack_delay_ns;
    if (cfg.faults.ack_jitter_ns > 0)
      d += static_cast<std::int64_t>(rng[kRngAckDelay].next() % static_cast<std::uint64_t>(cfg.faults.ack_jitter_ns));
    return d;
  }

  void report(Slot slot, ExecType et, std::int64_t now, const Fill* f = nullptr,
              const ClientOrderId* cancel_clid = nullptr) {
    if (!sink || slot == muted_slot) return;
    const Order& o = at(slot);
    ExecReport r;
    r.symbol = o.st.symbol;
    r.client_order_id = o.st.client_order_id;
    if (cancel_clid && !cancel_clid->empty()) {
      r.orig_client_order_id = o.st.client_order_id;
      r.client_order_id = *cancel_clid;
    } else if (et == ExecType::canceled) {
      r.orig_client_order_id = o.st.client_order_id;
    }
    r.exchange_order_id = o.st.exchange_order_id;
    r.side = o.st.side;
    r.type = o.st.type;
    r.tif = o.st.tif;
    r.exec_type = et;
    r.status = o.st.status;
    r.price = o.st.price;
    r.qty = o.st.qty;
    r.cum_qty = o.st.cum_qty;
    r.cum_quote_raw = o.st.cum_quote_raw;
    if (f) {
      r.trade_id = f->trade_id;
      r.is_maker = f->is_maker;
      r.last_price = f->price;
      r.last_qty = f->qty;
      r.commission_raw = f->commission_raw;
    }
    r.transact_ns = now;
    sink->on_exec_report(o.st.account, r, deliver_ns);
  }

  // ---- book helpers -------------------------------------------------------------------------
  bool replay_live(const Symbol& s) const noexcept { return s.shown && s.shown->tradable(); }

  std::int64_t consumed_at(const Symbol& s, bool bid, Price p) const noexcept {
    for (const Consumed& x : s.consumed)
      if (x.bid == bid && x.price == p) return x.qty_raw;
    return 0;
  }
  void add_consumed(Symbol& s, bool bid, Price p, std::int64_t q) {
    for (Consumed& x : s.consumed)
      if (x.bid == bid && x.price == p) { x.qty_raw += q; return; }
    s.consumed.push_back({bid, p, q});
  }
  void clear_consumed(Symbol& s, bool bid, Price p) noexcept {
    for (std::size_t i = 0; i < s.consumed.size(); ++i)
      if (s.consumed[i].bid == bid && s.consumed[i].price == p) {
        s.consumed[i] = s.consumed.back();
        s.consumed.pop_back();
        return;
      }
  }

  // Copies the displayed side best first into scratch (up to n levels); returns how many.
  std::size_t shown_top(const Symbol& s, bool bid, std::size_t n) {
    if (scratch.size() < n) scratch.resize(n);
    return bid ? s.shown->top_bids(scratch.data(), n) : s.shown->top_asks(scratch.data(), n);
  }
  // Level i (best first) of a displayed side, copying more of it into scratch as the walk goes
  // deeper; `have` = levels copied so far (start at 0). nullptr past the end.
  const Level* shown_level(const Symbol& s, bool bid, std::size_t i, std::size_t& have) {
    if (i < have) return &scratch[i];
    const std::size_t total = bid ? s.shown->bid_levels() : s.shown->ask_levels();
    if (have >= total) return nullptr;
    have = shown_top(s, bid, std::min(total, std::max<std::size_t>(64, have * 4)));
    return i < have ? &scratch[i] : nullptr;
  }
  // Best displayed level of a side with something left after our consumption.
  bool best_shown(const Symbol& s, bool bid, Level& out) {
    if (!replay_live(s)) return false;
    std::size_t have = 0;
    for (std::size_t i = 0;; ++i) {
      const Level* l = shown_level(s, bid, i, have);
      if (!l) return false;
      const std::int64_t q = l->qty.raw - consumed_at(s, bid, l->price);
      if (q > 0) { out = Level{l->price, Qty::from_raw(q)}; return true; }
    }
  }
  // Displayed quantity at a price (0 if none or not replaying), before consumption.
  std::int64_t shown_at(const Symbol& s, bool bid, Price p) {
    if (!replay_live(s)) return 0;
    const std::size_t total = bid ? s.shown->bid_levels() : s.shown->ask_levels();
    std::size_t n = std::min<std::size_t>(64, total);
    for (;;) {
      if (lookup.size() < n) lookup.resize(n);
      const std::size_t k = bid ? s.shown->top_bids(lookup.data(), n) : s.shown->top_asks(lookup.data(), n);
      for (std::size_t i = 0; i < k; ++i) {
        const Price lp = lookup[i].price;
        if (lp == p) return lookup[i].qty.raw;
        if (bid ? lp < p : lp > p) return 0;  // passed it
      }
      if (k < n || n >= total) return 0;
      n = std::min(total, n * 4);
    }
  }
  // Visible quantity at a price: displayed (known_shown_raw when the caller knows it, else our
  // level's mirror, else a lookup in the displayed book) minus consumption, plus ours.
  std::int64_t visible_at(Symbol& s, bool bid, Price p, std::int64_t known_shown_raw) {
    const std::ptrdiff_t li = s.side(bid).find(p);
    const PriceLevel* lv = li >= 0 ? &s.side(bid).levels[static_cast<std::size_t>(li)] : nullptr;
    std::int64_t v = 0;
    if (replay_live(s)) {
      const std::int64_t shown = known_shown_raw >= 0 ? known_shown_raw : lv ? lv->displayed_raw : shown_at(s, bid, p);
      v = std::max<std::int64_t>(0, shown - consumed_at(s, bid, p));
    }
    if (lv) v += lv->ours_raw;
    return v;
  }
  void book_update(SymbolIndex si, bool bid, Price p, std::int64_t now, std::int64_t known_shown_raw = -1) {
    touched_book = true;
    if (!sink || !cfg.emit_book_updates) return;
    Symbol& s = syms[si];
    BookUpdate u;
    u.symbol = si;
    u.side = bid ? Side::buy : Side::sell;
    u.price = p;
    u.qty = Qty::from_raw(visible_at(s, bid, p, known_shown_raw));
    u.update_id = s.update_id + 1;
    u.ts_ns = now;
    sink->on_book_update(u);
  }
  void end_request(SymbolIndex si) noexcept {
    if (touched_book && si != kNoSymbolIndex) ++syms[si].update_id;
    touched_book = false;
  }

  // ---- order history ------------------------------------------------------------------------
  Order& at(Slot id) noexcept { return orders[id - base]; }
  const Order& at(Slot id) const noexcept { return orders[id - base]; }
  bool known(std::uint64_t id) const noexcept { return id >= base && id - base < orders.size(); }
  bool is_open(std::uint64_t id) const noexcept { return known(id) && at(id).live; }

  // A new order slot with the next exchange id, linked into its account's open list.
  Slot new_order(Account& acc) {
    const Slot id = next_order_id++;
    if (orders.empty()) base = id;
    orders.emplace_back();
    Order& o = orders.back();
    o.st.exchange_order_id = id;
    o.live = true;
    o.acc_next = acc.open_head;
    if (acc.open_head != kNil) at(acc.open_head).acc_prev = id;
    acc.open_head = id;
    return id;
  }

  void link(Symbol& s, Slot slot) {
    Order& o = at(slot);
    OurSide& side = s.side(o.st.side == Side::buy);
    std::ptrdiff_t li = side.find(o.st.price);
    if (li < 0) {
      li = static_cast<std::ptrdiff_t>(side.insert(o.st.price));
      PriceLevel& lv = side.levels[static_cast<std::size_t>(li)];
      lv.displayed_raw = shown_at(s, side.is_bid, o.st.price);
    }
    PriceLevel& lv = side.levels[static_cast<std::size_t>(li)];
    // Queue position: behind everything displayed at our price (minus what our takers consumed).
    o.ahead_raw = std::max<std::int64_t>(0, lv.displayed_raw - consumed_at(s, side.is_bid, o.st.price));
    o.st.queue_ahead = Qty::from_raw(o.ahead_raw);
    o.prev = lv.tail;
    o.next = kNil;
    if (lv.tail != kNil) at(lv.tail).next = slot; else lv.head = slot;
    lv.tail = slot;
    lv.ours_raw += o.leaves().raw;
  }

  // Removes a resting order from its level (the level goes when empty).
  void unlink(Symbol& s, Slot slot) {
    Order& o = at(slot);
    OurSide& side = s.side(o.st.side == Side::buy);
    const std::ptrdiff_t li = side.find(o.st.price);
    if (li < 0) return;
    PriceLevel& lv = side.levels[static_cast<std::size_t>(li)];
    if (o.prev != kNil) at(o.prev).next = o.next; else lv.head = o.next;
    if (o.next != kNil) at(o.next).prev = o.prev; else lv.tail = o.prev;
    lv.ours_raw -= o.leaves().raw;
    o.prev = o.next = kNil;
    if (lv.head == kNil) side.levels.erase(side.levels.begin() + li);
  }

  // Releases what the order still locks, takes it off its account's open list; the oldest
  // closed orders beyond max_closed_orders are forgotten (query() no longer finds them).
  void close(Slot slot) {
    Order& o = at(slot);
    Account& acc = accounts[o.st.account];
    const Symbol& s = syms[o.sym];
    if (o.locked_raw != 0) {
      Balance& b = bal(acc, o.st.side == Side::buy ? s.quote : s.base);
      b.locked_raw -= o.locked_raw;
      b.free_raw += o.locked_raw;
      o.locked_raw = 0;
    }
    if (o.acc_prev != kNil) at(o.acc_prev).acc_next = o.acc_next; else acc.open_head = o.acc_next;
    if (o.acc_next != kNil) at(o.acc_next).acc_prev = o.acc_prev;
    o.acc_prev = o.acc_next = kNil;
    o.live = false;
    ++closed_count;
    // Only closed orders at the front can go (an old open order holds the ones behind it).
    while (closed_count > cfg.max_closed_orders && !orders.empty() && !orders.front().live) {
      const OrderState& old = orders.front().st;
      clid_erase(clid_key(old.account, orders.front().sym, old.client_order_id), old.exchange_order_id);
      orders.pop_front();
      ++base;
      --closed_count;
    }
  }

  const OrderState* find_state(std::uint64_t id) const noexcept { return known(id) ? &at(id).st : nullptr; }

  // ---- client-id index ------------------------------------------------------------------------
  bool key_is(Slot id, const ClidKey& k) const noexcept {
    const Order& o = at(id);
    return o.st.account == k.account && o.sym == k.symbol && o.st.client_order_id == k.clid;
  }
  // Slot index holding key k, or the first free/tombstone slot to insert at (found = false).
  std::size_t clid_probe(const ClidKey& k, bool& found) const noexcept {
    const std::size_t mask = clid_slots.size() - 1;
    std::size_t i = ClidHash{}(k) & mask, insert_at = SIZE_MAX;
    for (;; i = (i + 1) & mask) {
      const Slot v = clid_slots[i];
      if (v == kNil) { found = false; return insert_at != SIZE_MAX ? insert_at : i; }
      if (v == kTomb) { if (insert_at == SIZE_MAX) insert_at = i; continue; }
      if (key_is(v, k)) { found = true; return i; }
    }
  }
  std::uint64_t clid_find(const ClidKey& k) const noexcept {
    bool found = false;
    const std::size_t i = clid_probe(k, found);
    return found ? clid_slots[i] : kNil;
  }
  void clid_put(const ClidKey& k, Slot id) {
    if ((clid_used + 1) * 2 > clid_slots.size()) clid_rehash();
    bool found = false;
    const std::size_t i = clid_probe(k, found);
    if (!found && clid_slots[i] == kNil) ++clid_used;
    clid_slots[i] = id;
  }
  void clid_erase(const ClidKey& k, Slot id) noexcept {
    bool found = false;
    const std::size_t i = clid_probe(k, found);
    if (found && clid_slots[i] == id) clid_slots[i] = kTomb;
  }
  void clid_rehash() {
    std::vector<Slot> old = std::move(clid_slots);
    std::size_t live = 0;
    for (Slot v : old) live += (v != kNil && v != kTomb);
    std::size_t cap = old.size();
    while ((live + 1) * 4 > cap) cap *= 2;  // rebuilt at most half full
    clid_slots.assign(cap, kNil);
    clid_used = 0;
    for (Slot v : old)
      if (v != kNil && v != kTomb) {
        const Order& o = at(v);
        bool found = false;
        const std::size_t i = clid_probe(ClidKey{o.st.account, o.sym, o.st.client_order_id}, found);
        clid_slots[i] = v;
        ++clid_used;
      }
  }

  // ---- fills --------------------------------------------------------------------------------
  // Books one fill of order `slot` (already matched), updates balances, ledger and reports.
  Fill fill(Slot slot, Price px, Qty q, bool maker, AccountId counterparty, std::uint64_t trade_id,
            std::int64_t now) {
    Order& o = at(slot);
    Symbol& s = syms[o.sym];
    Account& acc = accounts[o.st.account];
    Fill f;
    f.trade_id = trade_id;
    f.account = o.st.account;
    f.counterparty = counterparty;
    f.symbol = o.st.symbol;
    f.exchange_order_id = o.st.exchange_order_id;
    f.client_order_id = o.st.client_order_id;
    f.side = o.st.side;
    f.is_maker = maker;
    f.price = px;
    f.qty = q;
    f.quote_raw = quote_of(px, q);
    f.commission_raw = fee_of(f.quote_raw, maker ? maker_e4 : taker_e4);
    f.transact_ns = now;

    Balance& bq = bal(acc, s.quote);
    Balance& bb = bal(acc, s.base);
    if (o.st.side == Side::buy) {
      std::int64_t release = 0;
      if (o.locked_raw > 0) {
        const std::int64_t at_limit = quote_of(o.st.price, q);
        release = std::min(o.locked_raw, at_limit + fee_lock(at_limit, lock_e4));
        o.locked_raw -= release;
        bq.locked_raw -= release;
      }
      bq.free_raw += release - f.quote_raw - f.commission_raw;
      bb.free_raw += q.raw;
    } else {
      if (o.locked_raw > 0) {
        const std::int64_t release = std::min(o.locked_raw, q.raw);
        o.locked_raw -= release;
        bb.locked_raw -= release;
        bb.free_raw += release;
      }
      bb.free_raw -= q.raw;
      bq.free_raw += f.quote_raw - f.commission_raw;
    }

    o.st.cum_qty = o.st.cum_qty + q;
    o.st.cum_quote_raw += f.quote_raw;
    o.st.commission_raw += f.commission_raw;
    o.st.updated_ns = now;
    o.st.status = o.st.cum_qty == o.st.qty ? OrderStatus::filled : OrderStatus::partially_filled;
    if (cfg.record_fills) ledger.push_back(f);
    ++c.fills;
    report(slot, ExecType::trade, now, &f);
    return f;
  }

  void public_trade(SymbolIndex si, std::uint64_t tid, Price px, Qty q, bool buyer_is_maker, std::int64_t now) {
    ++c.trades;
    if (!sink) return;
    PublicTrade t;
    t.symbol = si;
    t.trade_id = tid;
    t.price = px;
    t.qty = q;
    t.buyer_is_maker = buyer_is_maker;
    t.transact_ns = now;
    sink->on_public_trade(t);
  }

  // Fill a resting (maker) order by q at px from an outside source (replay trade/cross or an
  // engine taker); keeps the level total in step and closes the order when done.
  void maker_fill(Symbol& s, Slot slot, Price px, Qty q, AccountId counterparty, std::uint64_t tid,
                  std::int64_t now) {
    Order& o = at(slot);
    OurSide& side = s.side(o.st.side == Side::buy);
    const std::ptrdiff_t li = side.find(o.st.price);
    if (li >= 0) side.levels[static_cast<std::size_t>(li)].ours_raw -= q.raw;
    fill(slot, px, q, true, counterparty, tid, now);
    if (at(slot).leaves().raw == 0) {
      unlink(s, slot);
      close(slot);
    }
  }

  // ---- matching -----------------------------------------------------------------------------
  // Liquidity available to a taker of side `buy` up to limit (market: no limit), for FOK and
  // market-buy cost checks. Own orders blocked by STP do not count.
  void available(const Symbol& s, bool taker_buy, bool has_limit, Price limit, AccountId acc, StpMode stp,
                 std::int64_t want_raw, std::int64_t& qty_raw, std::int64_t& cost_raw) {
    qty_raw = 0;
    cost_raw = 0;
    const OurSide& ours = s.side(!taker_buy);
    auto crosses = [&](Price p) { return !has_limit || (taker_buy ? p <= limit : p >= limit); };
    auto take = [&](Price p, std::int64_t q) {
      const std::int64_t t = std::min(q, want_raw - qty_raw);
      if (t <= 0) return;
      qty_raw += t;
      cost_raw += quote_of(p, Qty::from_raw(t));
    };
    const bool live = replay_live(s);
    std::size_t have = 0, di = 0;
    std::size_t oi = ours.levels.size();
    while (qty_raw < want_raw) {
      const bool have_o = oi > 0;
      const Level* dl = live ? shown_level(s, !taker_buy, di, have) : nullptr;
      const bool have_d = dl != nullptr;
      if (!have_o && !have_d) break;
      const Price po = have_o ? ours.levels[oi - 1].price : Price{};
      const Price pd = have_d ? dl->price : Price{};
      const bool use_o = have_o && (!have_d || !ours.better(pd, po));
      const bool use_d = have_d && (!have_o || !ours.better(po, pd));
      const Price p = use_o ? po : pd;
      if (!crosses(p)) break;
      std::int64_t shown_avail = use_d ? std::max<std::int64_t>(0, dl->qty.raw - consumed_at(s, !taker_buy, p)) : 0;
      if (use_d) ++di;
      if (use_o) {
        // Same interleaving as match(): displayed ahead of each resting order, then the order;
        // an own order stops a taker-expiring STP mode there and is skipped by expire_maker.
        const PriceLevel& lv = ours.levels[oi - 1];
        std::int64_t shown_taken = 0;
        for (Slot x = lv.head; x != kNil; x = at(x).next) {
          const std::int64_t ahead = std::min(shown_avail, std::max<std::int64_t>(0, at(x).ahead_raw - shown_taken));
          take(p, ahead);
          shown_taken += ahead;
          shown_avail -= ahead;
          if (at(x).st.account == acc && stp != StpMode::none) {
            if (stp == StpMode::expire_taker || stp == StpMode::expire_both) return;
            continue;
          }
          take(p, at(x).leaves().raw);
        }
        --oi;
      }
      take(p, shown_avail);
    }
  }

  // Matches taker `slot` against the opposite side; returns true if the taker was expired by STP.
  bool match(SymbolIndex si, Slot slot, std::int64_t now) {
    Symbol& s = syms[si];
    const bool buy = at(slot).st.side == Side::buy;
    const bool has_limit = at(slot).st.type != OrderType::market;
    const Price limit = at(slot).st.price;
    const AccountId acc = at(slot).st.account;
    const StpMode stp = at(slot).st.stp;
    OurSide& ours = s.side(!buy);
    auto crosses = [&](Price p) { return !has_limit || (buy ? p <= limit : p >= limit); };

    // The displayed book does not change while we match (consumption is kept apart), so one
    // cursor over it stays valid.
    std::size_t have = 0, di = 0;
    const bool live = replay_live(s);
    // takes up to `avail` of displayed liquidity at p; returns what was taken
    auto take_shown = [&](Price p, std::int64_t avail, std::int64_t shown_raw) -> std::int64_t {
      const std::int64_t t = std::min(avail, at(slot).leaves().raw);
      if (t <= 0) return 0;
      add_consumed(s, !buy, p, t);
      ++c.replay_taker_fills;
      const std::uint64_t tid = next_trade_id++;
      fill(slot, p, Qty::from_raw(t), false, kReplayAccount, tid, now);
      public_trade(si, tid, p, Qty::from_raw(t), /*buyer_is_maker=*/!buy, now);
      book_update(si, !buy, p, now, shown_raw);
      return t;
    };

    while (at(slot).leaves().raw > 0) {
      const bool have_o = !ours.levels.empty();
      const Level* dl = live ? shown_level(s, !buy, di, have) : nullptr;
      while (dl && dl->qty.raw - consumed_at(s, !buy, dl->price) <= 0) dl = shown_level(s, !buy, ++di, have);
      const bool have_d = dl != nullptr;
      if (!have_o && !have_d) break;
      const Price po = have_o ? ours.levels.back().price : Price{};
      const Price pd = have_d ? dl->price : Price{};
      const bool use_o = have_o && (!have_d || !ours.better(pd, po));
      const Price p = use_o ? po : pd;
      if (!crosses(p)) break;
      if (!use_o) {  // displayed only at this price
        take_shown(p, dl->qty.raw - consumed_at(s, !buy, p), dl->qty.raw);
        ++di;
        continue;
      }
      // Our resting orders at p, interleaved with the displayed queue ahead of each of them.
      std::int64_t shown_avail = 0, shown_raw = -1;
      const bool shown_here = have_d && pd == p;
      if (shown_here) {
        shown_raw = dl->qty.raw;
        shown_avail = shown_raw - consumed_at(s, !buy, p);
      }
      Slot x = ours.levels.back().head;
      bool stp_taker = false;
      while (x != kNil && at(slot).leaves().raw > 0) {
        const Slot nx = at(x).next;
        if (shown_avail > 0 && at(x).ahead_raw > 0) {
          const std::int64_t t = take_shown(p, std::min(shown_avail, at(x).ahead_raw), shown_raw);
          shown_avail -= t;
          for (Slot y = x; y != kNil; y = at(y).next) {
            at(y).ahead_raw = std::max<std::int64_t>(0, at(y).ahead_raw - t);
            at(y).st.queue_ahead = Qty::from_raw(at(y).ahead_raw);
          }
          if (at(slot).leaves().raw == 0) break;
        }
        if (at(x).st.account == acc && stp != StpMode::none) {
          ++c.stp_expired;
          if (stp == StpMode::expire_maker || stp == StpMode::expire_both) {
            unlink(s, x);
            at(x).st.status = OrderStatus::expired;
            at(x).st.updated_ns = now;
            report(x, ExecType::expired, now);
            book_update(si, !buy, p, now);
            close(x);
          }
          if (stp == StpMode::expire_taker || stp == StpMode::expire_both) { stp_taker = true; break; }
          x = nx;
          continue;
        }
        const Qty q = std::min(at(x).leaves(), at(slot).leaves());
        const std::uint64_t tid = next_trade_id++;
        fill(slot, p, q, false, at(x).st.account, tid, now);
        maker_fill(s, x, p, q, acc, tid, now);
        public_trade(si, tid, p, q, /*buyer_is_maker=*/!buy, now);
        book_update(si, !buy, p, now);
        x = nx;
      }
      if (stp_taker) return true;
      if (at(slot).leaves().raw > 0 && shown_here) {
        // our level at p is exhausted (or gone): the rest of the displayed queue at p
        take_shown(p, shown_avail, shown_raw);
        ++di;
      }
    }
    return false;
  }

  // ---- requests -----------------------------------------------------------------------------
  SubmitResult reject(RejectReason r) noexcept {
    SubmitResult out;
    out.reason = r;
    out.code = reject_code(r);
    ++c.orders_rejected;
    return out;
  }

  SubmitResult submit(AccountId a, const OrderRequest& req, std::int64_t now) {
    deliver_ns = due(now);
    Account* acc = account(a);
    if (!acc) return reject(RejectReason::bad_account);
    const SymbolIndex si = find_symbol(req.symbol);
    if (si == kNoSymbolIndex) return reject(RejectReason::unknown_symbol);
    Symbol& s = syms[si];
    if (static_cast<unsigned>(req.side) > 1 || static_cast<unsigned>(req.type) > 2 ||
        static_cast<unsigned>(req.tif) > 2 || static_cast<unsigned>(req.stp) > 3)
      return reject(RejectReason::bad_enum);
    if (req.client_order_id.len > ClientOrderId::capacity() ||
        (!req.client_order_id.empty() && !exec::valid_client_order_id(req.client_order_id.view())))
      return reject(RejectReason::bad_client_order_id);
    const SymbolSpec& sp = s.spec;
    if (req.qty.raw <= 0 || req.qty < sp.min_qty || req.qty > sp.max_qty || req.qty.raw % sp.step_size.raw != 0)
      return reject(RejectReason::bad_qty);
    const bool is_market = req.type == OrderType::market;
    if (!is_market && (req.price.raw <= 0 || req.price.raw % sp.tick_size.raw != 0))
      return reject(RejectReason::bad_price);
    // Notional must fit int64 1e-8 units with room for sums (|v| < 2^61 ~ 2.3e10 quote units).
    if (!is_market && static_cast<__int128>(req.price.raw) * req.qty.raw / kDecimalScale > (std::int64_t{1} << 61))
      return reject(RejectReason::min_notional);
    if (!is_market && sp.min_notional_raw > 0 && quote_of(req.price, req.qty) < sp.min_notional_raw)
      return reject(RejectReason::min_notional);
    if (!req.client_order_id.empty()) {
      const std::uint64_t prev = clid_find(clid_key(a, si, req.client_order_id));
      if (prev != kNil && is_open(prev)) return reject(RejectReason::duplicate_order);
    }
    if (rng[kRngReject].chance(cfg.faults.reject)) {
      ++c.faults_rejected;
      return reject(RejectReason::fault_reject);
    }
    const bool buy = req.side == Side::buy;
    // Post-only: would it take? (best opposite visible price crosses our limit)
    if (req.type == OrderType::limit_maker) {
      std::int64_t q = 0, cost = 0;
      available(s, buy, true, req.price, a, StpMode::none, 1, q, cost);
      if (q > 0) return reject(RejectReason::would_take);
    }
    // Balance check and lock.
    std::int64_t lock = 0;
    std::int64_t market_cost = 0;
    if (is_market && buy) {
      std::int64_t q = 0;
      available(s, true, false, Price{}, a, req.stp, req.qty.raw, q, market_cost);
      market_cost += fee_lock(market_cost, lock_e4);
    }
    if (cfg.enforce_balances) {
      if (buy) {
        const std::int64_t need = is_market ? market_cost
                                            : quote_of(req.price, req.qty) + fee_lock(quote_of(req.price, req.qty), lock_e4);
        if (bal(*acc, s.quote).free_raw < need) return reject(RejectReason::insufficient_balance);
        if (!is_market) lock = need;
      } else {
        if (bal(*acc, s.base).free_raw < req.qty.raw) return reject(RejectReason::insufficient_balance);
        if (!is_market) lock = req.qty.raw;
      }
    }
    // FOK: all or nothing (checked before anything trades).
    bool fok_expire = false;
    if (req.tif == TimeInForce::fok) {
      std::int64_t q = 0, cost = 0;
      available(s, buy, !is_market, req.price, a, req.stp, req.qty.raw, q, cost);
      fok_expire = q < req.qty.raw;
    }

    // Accepted.
    const Slot slot = new_order(*acc);
    Order& o = at(slot);
    o.sym = si;
    o.st.symbol = s.spec.name;
    if (req.client_order_id.empty()) {
      (void)o.st.client_order_id.assign("sim-" + std::to_string(o.st.exchange_order_id));
    } else {
      o.st.client_order_id = req.client_order_id;
    }
    o.st.account = a;
    o.st.side = req.side;
    o.st.type = req.type;
    o.st.tif = req.type == OrderType::limit_maker ? TimeInForce::gtc : req.tif;  // Binance: no TIF for LIMIT_MAKER
    o.st.stp = req.stp;
    o.st.status = OrderStatus::new_;
    o.st.price = is_market ? Price{} : req.price;
    o.st.qty = req.qty;
    o.st.created_ns = o.st.updated_ns = now;
    if (lock > 0) {
      Balance& b = bal(*acc, buy ? s.quote : s.base);
      b.free_raw -= lock;
      b.locked_raw += lock;
      o.locked_raw = lock;
    }
    clid_put(clid_key(a, si, o.st.client_order_id), o.st.exchange_order_id);
    ++c.orders_accepted;

    SubmitResult out;
    out.exchange_order_id = o.st.exchange_order_id;
    out.deliver_ns = deliver_ns;
    if (rng[kRngLoseAck].chance(cfg.faults.lose_ack)) {
      out.ack_lost = true;
      muted_slot = slot;
      ++c.faults_acks_lost;
    }
    report(slot, ExecType::new_, now);

    bool expire = fok_expire;
    if (!fok_expire) {
      const bool stp_expired = match(si, slot, now);
      if (at(slot).leaves().raw > 0) {
        if (stp_expired || is_market || at(slot).st.tif != TimeInForce::gtc) expire = true;
        else {
          link(s, slot);  // rests (GTC limit / limit_maker)
          book_update(si, buy, req.price, now);
        }
      }
    }
    Order& done = at(slot);
    out.executed = done.st.cum_qty;
    out.cum_quote_raw = done.st.cum_quote_raw;
    if (expire) {
      done.st.status = OrderStatus::expired;
      done.st.updated_ns = now;
      report(slot, ExecType::expired, now);
      out.status = OrderStatus::expired;
      close(slot);
    } else if (done.st.status == OrderStatus::filled) {
      out.status = OrderStatus::filled;
      close(slot);
    } else {
      out.status = done.st.status;
    }
    muted_slot = kNil;
    end_request(si);
    return out;
  }

  CancelResult cancel_reject(RejectReason r) noexcept {
    CancelResult out;
    out.reason = r;
    out.code = reject_code(r, true);
    ++c.cancel_rejects;
    return out;
  }

  // Finds the open order slot of account/symbol by exchange id or client id; kNil if none.
  Slot find_open(AccountId a, SymbolIndex si, std::uint64_t id, const ClientOrderId& clid) const {
    if (id == 0) {
      if (clid.empty()) return kNil;
      id = clid_find(clid_key(a, si, clid));
      if (id == kNil) return kNil;
    }
    if (!is_open(id)) return kNil;
    const Order& o = at(id);
    if (o.st.account != a || o.sym != si) return kNil;
    if (!clid.empty() && !(o.st.client_order_id == clid)) return kNil;
    return id;
  }

  CancelResult cancel(AccountId a, const CancelRequest& req, std::int64_t now) {
    deliver_ns = due(now);
    if (a >= kMaxAccounts) return cancel_reject(RejectReason::bad_account);
    const SymbolIndex si = find_symbol(req.symbol);
    if (si == kNoSymbolIndex) return cancel_reject(RejectReason::unknown_symbol);
    if (!sane(req.orig_client_order_id) || !sane(req.client_order_id)) return cancel_reject(RejectReason::unknown_order);
    const Slot slot = find_open(a, si, req.exchange_order_id, req.orig_client_order_id);
    if (slot == kNil) return cancel_reject(RejectReason::unknown_order);
    CancelResult out;
    out.order = cancel_slot(si, slot, now, &req.client_order_id);
    out.deliver_ns = deliver_ns;
    ++c.cancels;
    end_request(si);
    return out;
  }

  // Cancels an open order; returns its final state (the slot may be forgotten by close()).
  OrderState cancel_slot(SymbolIndex si, Slot slot, std::int64_t now, const ClientOrderId* cancel_clid) {
    Symbol& s = syms[si];
    unlink(s, slot);
    Order& o = at(slot);
    o.st.status = OrderStatus::canceled;
    o.st.updated_ns = now;
    report(slot, ExecType::canceled, now, nullptr, cancel_clid);
    book_update(si, o.st.side == Side::buy, o.st.price, now);
    const OrderState st = o.st;
    close(slot);
    return st;
  }

  RejectCode cancel_all(AccountId a, const SymbolName& symbol, std::int64_t now, std::vector<OrderState>* out) {
    deliver_ns = due(now);
    if (a >= kMaxAccounts) return RejectCode::bad_api_key;
    const SymbolIndex si = find_symbol(symbol);
    if (si == kNoSymbolIndex) return RejectCode::bad_symbol;
    // The account's open list is newest first; cancel oldest first (exchange id order).
    Slot x = accounts.size() > a ? accounts[a].open_head : kNil;
    Slot last = kNil;
    for (; x != kNil; x = at(x).acc_next) last = x;
    for (x = last; x != kNil;) {
      const Slot prev = at(x).acc_prev;  // read before cancel unlinks x
      if (at(x).sym == si) {
        const OrderState st = cancel_slot(si, x, now, nullptr);
        ++c.cancels;
        if (out) out->push_back(st);
      }
      x = prev;
    }
    end_request(si);
    return RejectCode::none;
  }

  // ---- replay -------------------------------------------------------------------------------
  // Displayed quantity at our level changed from lv.displayed_raw to new_raw (a diff): move the
  // queue-ahead estimates of our orders there by the queue model.
  void requeue(PriceLevel& lv, std::int64_t new_raw) noexcept {
    const std::int64_t old_raw = lv.displayed_raw;
    const std::int64_t dec = old_raw - new_raw;
    // Real trades at this price since the last diff already moved the queue: only the rest of
    // the decrease counts as cancels.
    const std::int64_t cancels = std::max<std::int64_t>(0, dec - lv.traded_raw);
    for (Slot x = lv.head; x != kNil; x = at(x).next) {
      std::int64_t& ahead = at(x).ahead_raw;
      if (cancels > 0) {
        switch (cfg.queue_model) {
          case QueueModel::proportional:
            if (old_raw > 0) ahead -= static_cast<std::int64_t>((static_cast<__int128>(cancels) * ahead) / old_raw);
            break;
          case QueueModel::cancels_behind: break;
          case QueueModel::cancels_ahead: ahead -= cancels; break;
        }
      }
      ahead = std::clamp<std::int64_t>(ahead, 0, std::max<std::int64_t>(0, new_raw));
      at(x).st.queue_ahead = Qty::from_raw(ahead);
    }
    lv.displayed_raw = new_raw;
    lv.traded_raw = 0;
  }

  // The displayed opposite side crossed our resting orders: they would have been hit.
  std::uint32_t fill_crossed(SymbolIndex si, std::int64_t now) {
    Symbol& s = syms[si];
    if (!replay_live(s)) return 0;
    std::uint32_t n = 0;
    Level best;
    for (bool bid : {true, false}) {
      OurSide& side = s.side(bid);
      if (!best_shown(s, !bid, best)) continue;
      while (!side.levels.empty() && (bid ? side.levels.back().price >= best.price : side.levels.back().price <= best.price)) {
        const Price p = side.levels.back().price;
        const Slot x = side.levels.back().head;
        const std::uint64_t tid = next_trade_id++;
        const Qty q = at(x).leaves();
        maker_fill(s, x, p, q, kReplayAccount, tid, now);
        public_trade(si, tid, p, q, /*buyer_is_maker=*/bid, now);
        book_update(si, bid, p, now);
        ++c.replay_fills_cross;
        ++n;
      }
    }
    return n;
  }

  void after_snapshot(Symbol& s) {
    s.consumed.clear();
    for (bool bid : {true, false})
      for (PriceLevel& lv : s.side(bid).levels) {
        lv.traded_raw = 0;
        const std::int64_t d = shown_at(s, bid, lv.price);
        lv.displayed_raw = d;
        for (Slot x = lv.head; x != kNil; x = at(x).next) {
          at(x).ahead_raw = std::min(at(x).ahead_raw, d);
          at(x).st.queue_ahead = Qty::from_raw(at(x).ahead_raw);
        }
      }
  }

  void diff_levels(SymbolIndex si, bool bid, std::span<const Level> lv, std::int64_t now) {
    Symbol& s = syms[si];
    OurSide& side = s.side(bid);
    for (const Level& l : lv) {
      clear_consumed(s, bid, l.price);
      const std::ptrdiff_t li = side.find(l.price);
      if (li >= 0) requeue(side.levels[static_cast<std::size_t>(li)], l.qty.raw);
      book_update(si, bid, l.price, now, l.qty.raw);
    }
  }

  std::uint32_t on_trade(SymbolIndex si, const feed::TradeFields& t, std::int64_t now) {
    if (t.qty.raw <= 0 || t.price.raw <= 0) return 0;  // not a trade: ignore (the parser should not produce it)
    Symbol& s = syms[si];
    // buyer_is_maker: the aggressor sold, so the trade hit bids: our bids are at risk.
    const bool bid = t.buyer_is_maker;
    OurSide& side = s.side(bid);
    std::uint32_t n = 0;
    // Strictly through our price: filled fully.
    while (!side.levels.empty() && side.better(side.levels.back().price, t.price)) {
      const Price p = side.levels.back().price;
      const Slot x = side.levels.back().head;
      const std::uint64_t tid = next_trade_id++;
      const Qty q = at(x).leaves();
      maker_fill(s, x, p, q, kReplayAccount, tid, now);
      public_trade(si, tid, p, q, bid, now);
      book_update(si, bid, p, now);
      ++c.replay_fills_through;
      ++n;
    }
    const std::ptrdiff_t li = side.find(t.price);
    if (li < 0) return n;
    // At our price: the trade eats the displayed queue ahead of each of our orders first.
    PriceLevel& lv = side.levels[static_cast<std::size_t>(li)];
    lv.traded_raw += t.qty.raw;
    std::int64_t rem = t.qty.raw;
    std::int64_t shown_taken = 0;
    Slot x = lv.head;
    std::vector<std::pair<Slot, std::int64_t>>& hits = hits_scratch;
    hits.clear();
    while (x != kNil && rem > 0) {
      const std::int64_t need = std::max<std::int64_t>(0, at(x).ahead_raw - shown_taken);
      const std::int64_t tk = std::min(rem, need);
      rem -= tk;
      shown_taken += tk;
      const std::int64_t f = std::min(rem, at(x).leaves().raw);
      if (f > 0) {
        hits.emplace_back(x, f);
        rem -= f;
      }
      x = at(x).next;
    }
    for (Slot y = lv.head; y != kNil; y = at(y).next) {
      at(y).ahead_raw = std::max<std::int64_t>(0, at(y).ahead_raw - shown_taken);
      at(y).st.queue_ahead = Qty::from_raw(at(y).ahead_raw);
    }
    for (const auto& [slot, f] : hits) {  // fills may remove the level: collected first
      const std::uint64_t tid = next_trade_id++;
      maker_fill(s, slot, t.price, Qty::from_raw(f), kReplayAccount, tid, now);
      public_trade(si, tid, t.price, Qty::from_raw(f), bid, now);
      ++c.replay_fills_queue;
      ++n;
    }
    if (!hits.empty()) book_update(si, bid, t.price, now);
    return n;
  }
  std::vector<std::pair<Slot, std::int64_t>> hits_scratch;

  MarketEventResult on_market_event(const feed::Event& ev) {
    MarketEventResult r;
    ++c.market_events;
    if (ev.symbol >= feed_map.size() || feed_map[ev.symbol] == kNoSymbolIndex) {
      ++c.market_events_unmapped;
      return r;
    }
    r.mapped = true;
    const SymbolIndex si = feed_map[ev.symbol];
    Symbol& s = syms[si];
    const std::int64_t now = ev.local_ts_ns;
    deliver_ns = due(now);
    const std::uint64_t fills_before = c.fills;
    switch (ev.kind) {
      case feed::EventKind::depth_snapshot: {
        const book::SnapshotResult sr = s.shown->on_snapshot(ev.snapshot.last_update_id, ev.snapshot.bids, ev.snapshot.asks);
        if (sr == book::SnapshotResult::synced) {
          r.book_changed = true;
          touched_book = true;
          after_snapshot(s);
          fill_crossed(si, now);
        }
        break;
      }
      case feed::EventKind::depth_update: {
        const book::DiffResult dr = s.shown->on_diff(ev.depth);
        if (dr == book::DiffResult::applied) {
          r.book_changed = true;
          diff_levels(si, true, ev.depth.bids, now);
          diff_levels(si, false, ev.depth.asks, now);
          fill_crossed(si, now);
        } else if (dr == book::DiffResult::gap) {
          r.gap = true;
          s.consumed.clear();
          touched_book = true;
        } else if (s.shown->tradable() == false) {
          // a buffered diff may have completed a re-sync inside on_snapshot only; nothing here
        }
        break;
      }
      case feed::EventKind::trade:
        on_trade(si, ev.trade, now);
        break;
      default: break;
    }
    r.fills = static_cast<std::uint32_t>(c.fills - fills_before);
    end_request(si);
    return r;
  }

  // ---- depth ----------------------------------------------------------------------------------
  void depth_side(const Symbol& s, bool bid, std::size_t limit, std::vector<Level>& out) {
    out.clear();
    const OurSide& ours = s.side(bid);
    const bool live = replay_live(s);
    std::size_t have = 0, di = 0;
    std::size_t oi = ours.levels.size();
    while (out.size() < limit) {
      const Level* dl = live ? shown_level(s, bid, di, have) : nullptr;
      const bool have_o = oi > 0, have_d = dl != nullptr;
      if (!have_o && !have_d) break;
      const Price po = have_o ? ours.levels[oi - 1].price : Price{};
      const Price pd = have_d ? dl->price : Price{};
      const bool use_o = have_o && (!have_d || !ours.better(pd, po));
      const bool use_d = have_d && (!have_o || !ours.better(po, pd));
      const Price p = use_o ? po : pd;
      std::int64_t q = 0;
      if (use_d) { q += std::max<std::int64_t>(0, dl->qty.raw - consumed_at(s, bid, p)); ++di; }
      if (use_o) { q += ours.levels[oi - 1].ours_raw; --oi; }
      if (q > 0) out.push_back(Level{p, Qty::from_raw(q)});
    }
  }

  // Best visible level without allocating: the better of our best level and the best displayed
  // level with something left after consumption (summed when at the same price).
  bool best(SymbolIndex si, bool bid, Level& out) {
    if (si >= syms.size()) return false;
    const Symbol& s = syms[si];
    const OurSide& ours = s.side(bid);
    Level d;
    const bool hd = best_shown(s, bid, d);
    const bool ho = !ours.levels.empty();
    if (!hd && !ho) return false;
    if (!ho || (hd && ours.better(d.price, ours.levels.back().price))) {
      out = d;
      return true;
    }
    const PriceLevel& lv = ours.levels.back();
    out = Level{lv.price, Qty::from_raw(lv.ours_raw + (hd && d.price == lv.price ? d.qty.raw : 0))};
    return true;
  }
};

// ---- public wrappers ------------------------------------------------------------------------

MatchingEngine::MatchingEngine(SimConfig cfg) : impl_(std::make_unique<Impl>()) {
  Impl& m = *impl_;
  m.cfg = std::move(cfg);
  auto bad_fee = [](double bps) { return !std::isfinite(bps) || bps <= -10000.0 || bps >= 10000.0; };
  if (bad_fee(m.cfg.maker_fee_bps)) m.status = Status(Code::invalid_argument, "sim config: maker_fee_bps out of (-10000, 10000)");
  else if (bad_fee(m.cfg.taker_fee_bps)) m.status = Status(Code::invalid_argument, "sim config: taker_fee_bps out of (-10000, 10000)");
  m.maker_e4 = std::llround(m.cfg.maker_fee_bps * 1e4);
  m.taker_e4 = std::llround(m.cfg.taker_fee_bps * 1e4);
  m.lock_e4 = std::max<std::int64_t>({m.maker_e4, m.taker_e4, 0});
  auto frac = [](double f) { return std::isfinite(f) && f >= 0.0 && f <= 1.0; };
  const FaultConfig& f = m.cfg.faults;
  if (m.status.ok() && !(frac(f.drop_md) && frac(f.gap) && frac(f.lose_ack) && frac(f.reject) && frac(f.throttle)))
    m.status = Status(Code::invalid_argument, "sim config: fault fractions must be in [0, 1]");
  if (m.status.ok() && (f.ack_delay_ns < 0 || f.ack_jitter_ns < 0))
    m.status = Status(Code::invalid_argument, "sim config: ack_delay_ns/ack_jitter_ns must be >= 0");
  m.next_order_id = m.cfg.first_order_id;
  m.next_trade_id = m.cfg.first_trade_id;
  for (int k = 0; k < kRngCount; ++k)
    m.rng[k].s = static_cast<std::uint64_t>(m.cfg.seed) ^ (0xA0761D6478BD642Full * static_cast<std::uint64_t>(k + 1));
  for (const auto& [name, raw] : m.cfg.start_balances) (void)m.asset_index(name.view());
  const std::vector<SymbolSpec> specs = m.cfg.symbols;
  for (const SymbolSpec& s : specs) {
    if (!m.status.ok()) break;
    m.status = m.add_symbol(s);
  }
}

MatchingEngine::~MatchingEngine() = default;

const Status& MatchingEngine::status() const noexcept { return impl_->status; }
Status MatchingEngine::add_symbol(const SymbolSpec& spec) { return impl_->add_symbol(spec); }
SymbolIndex MatchingEngine::find_symbol(std::string_view name) const noexcept { return impl_->find_symbol(name); }
std::size_t MatchingEngine::symbol_count() const noexcept { return impl_->syms.size(); }
const SymbolSpec& MatchingEngine::spec(SymbolIndex s) const noexcept { return impl_->syms[s].spec; }

Status MatchingEngine::map_feed_symbol(feed::SymbolId id, std::string_view name) {
  Impl& m = *impl_;
  if (id == feed::kNoSymbol) return {Code::invalid_argument, "sim map_feed_symbol: kNoSymbol"};
  const SymbolIndex si = m.find_symbol(name);
  if (si == kNoSymbolIndex) return {Code::not_found, "sim map_feed_symbol: unknown symbol '" + std::string(name) + "'"};
  if (m.feed_map.size() <= id) m.feed_map.resize(static_cast<std::size_t>(id) + 1, kNoSymbolIndex);
  m.feed_map[id] = si;
  Symbol& s = m.syms[si];
  if (!s.shown) {
    book::L2Book::Config bc;
    bc.level_capacity = s.spec.book_levels;
    s.shown = std::make_unique<book::L2Book>(s.spec.market, bc);
  }
  return {};
}

void MatchingEngine::set_sink(ReportSink* sink) noexcept { impl_->sink = sink; }

Status MatchingEngine::set_balance(AccountId account, std::string_view asset, std::int64_t free_raw) {
  Impl& m = *impl_;
  if (asset.empty() || asset.size() > AssetName::capacity())
    return {Code::invalid_argument, "sim set_balance: bad asset name '" + std::string(asset) + "'"};
  Account* acc = m.account(account);
  if (!acc) return {Code::invalid_argument, "sim set_balance: account " + std::to_string(account) + " >= kMaxAccounts"};
  m.bal(*acc, m.asset_index(asset)).free_raw = free_raw;
  return {};
}

SubmitResult MatchingEngine::submit(AccountId account, const OrderRequest& req, std::int64_t now_ns) noexcept {
  try {
    return impl_->submit(account, req, now_ns);
  } catch (...) {  // allocation failure only: answer, never crash
    impl_->muted_slot = kNil;
    SubmitResult r;
    r.code = RejectCode::unknown;
    return r;
  }
}

CancelResult MatchingEngine::cancel(AccountId account, const CancelRequest& req, std::int64_t now_ns) noexcept {
  try {
    return impl_->cancel(account, req, now_ns);
  } catch (...) {
    CancelResult r;
    r.code = RejectCode::unknown;
    return r;
  }
}

ReplaceResult MatchingEngine::cancel_replace(AccountId account, const ReplaceRequest& req, std::int64_t now_ns) noexcept {
  ReplaceResult r;
  r.cancel = cancel(account, req.cancel, now_ns);
  if (!r.cancel.ok()) return r;  // STOP_ON_FAILURE: the new order is not placed
  r.placed = true;
  r.replacement = submit(account, req.replacement, now_ns);
  return r;
}

RejectCode MatchingEngine::cancel_all(AccountId account, const SymbolName& symbol, std::int64_t now_ns,
                                      std::vector<OrderState>* out) noexcept {
  try {
    return impl_->cancel_all(account, symbol, now_ns, out);
  } catch (...) {
    return RejectCode::unknown;
  }
}

std::optional<OrderState> MatchingEngine::query(AccountId account, const SymbolName& symbol,
                                                const ClientOrderId& client_order_id) const noexcept {
  const Impl& m = *impl_;
  const SymbolIndex si = m.find_symbol(symbol);
  if (si == kNoSymbolIndex || !sane(client_order_id) || client_order_id.empty()) return std::nullopt;
  try {
    const std::uint64_t id = m.clid_find(clid_key(account, si, client_order_id));
    if (id == kNil) return std::nullopt;
    const OrderState* st = m.find_state(id);
    if (!st) return std::nullopt;
    return *st;
  } catch (...) {
    return std::nullopt;
  }
}

std::optional<OrderState> MatchingEngine::query(AccountId account, const SymbolName& symbol,
                                                std::uint64_t exchange_order_id) const noexcept {
  const OrderState* st = impl_->find_state(exchange_order_id);
  if (!st || !sane(symbol) || st->account != account || !(st->symbol == symbol)) return std::nullopt;
  return *st;
}

void MatchingEngine::open_orders(AccountId account, const SymbolName* symbol, std::vector<OrderState>& out) const {
  const Impl& m = *impl_;
  out.clear();
  if (account >= m.accounts.size()) return;
  for (Slot x = m.accounts[account].open_head; x != kNil; x = m.at(x).acc_next) {
    const OrderState& st = m.at(x).st;
    if (!symbol || st.symbol == *symbol) out.push_back(st);
  }
  std::reverse(out.begin(), out.end());  // the list is newest first
}

Balance MatchingEngine::balance(AccountId account, std::string_view asset) const noexcept {
  const Impl& m = *impl_;
  const int i = m.find_asset(asset);
  if (i < 0 || account >= m.accounts.size() || !m.accounts[account].exists) {
    // an account not seen yet would start with the configured balances
    for (const auto& [name, raw] : m.cfg.start_balances)
      if (name.view() == asset && (account >= m.accounts.size() || !m.accounts[account].exists)) return Balance{raw, 0};
    return {};
  }
  const Account& acc = m.accounts[account];
  if (static_cast<std::size_t>(i) >= acc.bal.size()) return {};
  return acc.bal[static_cast<std::size_t>(i)];
}

std::vector<std::pair<AssetName, Balance>> MatchingEngine::balances(AccountId account) const {
  const Impl& m = *impl_;
  std::vector<std::pair<AssetName, Balance>> out;
  if (account >= m.accounts.size() || !m.accounts[account].exists) {
    for (const auto& [name, raw] : m.cfg.start_balances) out.emplace_back(name, Balance{raw, 0});
    return out;
  }
  const Account& acc = m.accounts[account];
  for (std::uint16_t i : acc.touched) out.emplace_back(m.assets[i], acc.bal[i]);
  return out;
}

const std::vector<Fill>& MatchingEngine::fills() const noexcept { return impl_->ledger; }

RejectCode MatchingEngine::depth_snapshot(const SymbolName& symbol, std::size_t limit, DepthSnapshot& out) const {
  Impl& m = *impl_;
  const SymbolIndex si = m.find_symbol(symbol);
  if (si == kNoSymbolIndex) return RejectCode::bad_symbol;
  const Symbol& s = m.syms[si];
  out.last_update_id = s.update_id;
  m.depth_side(s, true, limit, out.bids);
  m.depth_side(s, false, limit, out.asks);
  return RejectCode::none;
}

bool MatchingEngine::best_bid(SymbolIndex s, Level& out) const noexcept {
  try { return impl_->best(s, true, out); } catch (...) { return false; }
}
bool MatchingEngine::best_ask(SymbolIndex s, Level& out) const noexcept {
  try { return impl_->best(s, false, out); } catch (...) { return false; }
}
bool MatchingEngine::replay_tradable(SymbolIndex s) const noexcept {
  return s < impl_->syms.size() && impl_->replay_live(impl_->syms[s]);
}

MarketEventResult MatchingEngine::on_market_event(const feed::Event& ev) noexcept {
  try {
    return impl_->on_market_event(ev);
  } catch (...) {
    return {};
  }
}

bool MatchingEngine::should_drop_md() noexcept { return impl_->rng[kRngDropMd].chance(impl_->cfg.faults.drop_md); }
bool MatchingEngine::should_gap() noexcept { return impl_->rng[kRngGap].chance(impl_->cfg.faults.gap); }
bool MatchingEngine::should_throttle() noexcept { return impl_->rng[kRngThrottle].chance(impl_->cfg.faults.throttle); }
bool MatchingEngine::disconnected(std::int64_t now_ns) const noexcept {
  for (const DisconnectWindow& w : impl_->cfg.faults.disconnects)
    if (now_ns >= w.start_ns && now_ns < w.end_ns) return true;
  return false;
}
const FaultConfig& MatchingEngine::faults() const noexcept { return impl_->cfg.faults; }
void MatchingEngine::set_faults(const FaultConfig& f) noexcept {
  try { impl_->cfg.faults = f; } catch (...) {}
}
const EngineCounters& MatchingEngine::counters() const noexcept { return impl_->c; }
const SimConfig& MatchingEngine::config() const noexcept { return impl_->cfg; }

}  // namespace tickrt::sim
