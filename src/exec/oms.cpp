// exec/oms.cpp — see oms.hpp for the contract and the state machine.
#include "exec/oms.hpp"

#include <algorithm>
#include <cstring>

#include "core/clock.hpp"
#include "exec/journal.hpp"

namespace tickrt::exec {

namespace {

__extension__ using i128 = __int128;

// price_raw * qty_raw / 1e8 (exact product, truncated toward zero).
std::int64_t mul_raw(std::int64_t price_raw, std::int64_t qty_raw) noexcept {
  return static_cast<std::int64_t>(static_cast<i128>(price_raw) * qty_raw / kDecimalScale);
}

std::uint64_t hash_id(std::string_view s) noexcept {  // FNV-1a 64
  std::uint64_t h = 1469598103934665603ull;
  for (char c : s) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ull;
  }
  return h;
}

// Rank for "never regress": a report may only move an order to a rank >= its current one.
int rank(OrderStatus s) noexcept {
  switch (s) {
    case OrderStatus::pending_new: return 0;
    case OrderStatus::unknown: return 0;
    case OrderStatus::new_: return 1;
    case OrderStatus::partially_filled: return 2;
    case OrderStatus::pending_cancel: return 2;
    default: return 3;  // terminal
  }
}

bool valid_prefix(std::string_view p) noexcept {
  if (p.empty() || p.size() > 12) return false;
  for (char c : p) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
    if (!ok) return false;
  }
  return true;
}

std::size_t put_u64(char* out, std::uint64_t v) noexcept {
  char tmp[20];
  std::size_t n = 0;
  do {
    tmp[n++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v != 0);
  for (std::size_t i = 0; i < n; ++i) out[i] = tmp[n - 1 - i];
  return n;
}

}  // namespace

std::int64_t Position::unrealized_raw() const noexcept {
  if (mark_raw == 0 || qty_raw == 0) return 0;
  return mul_raw(mark_raw - avg_price_raw, qty_raw);
}

Result<std::unique_ptr<Oms>> Oms::create(const OmsConfig& cfg, GatewayRings rings, Journal* journal) {
  if (rings.outbound == nullptr || rings.inbound == nullptr)
    return Result<std::unique_ptr<Oms>>(Code::invalid_argument, "Oms: GatewayRings has a null ring");
  if (!valid_prefix(cfg.id_prefix))
    return Result<std::unique_ptr<Oms>>(Code::invalid_argument,
                                        "Oms: id_prefix '" + cfg.id_prefix + "' must be 1-12 of [A-Za-z0-9_]");
  if (cfg.session == 0)
    return Result<std::unique_ptr<Oms>>(Code::invalid_argument, "Oms: session must be >= 1");
  if (cfg.max_open_orders == 0 || cfg.max_open_orders > (1u << 24))
    return Result<std::unique_ptr<Oms>>(Code::invalid_argument,
                                        "Oms: max_open_orders " + std::to_string(cfg.max_open_orders) +
                                            " outside [1, 2^24]");
  if (cfg.symbols.empty() || cfg.symbols.size() > kMaxSymbols)
    return Result<std::unique_ptr<Oms>>(Code::invalid_argument,
                                        "Oms: symbols: need 1.." + std::to_string(kMaxSymbols) + ", got " +
                                            std::to_string(cfg.symbols.size()));
  // Longest id: prefix(12) + '-' + session(10) + '-' + seq: must fit Binance's 36 chars.
  std::unique_ptr<Oms> o(new Oms());
  o->rings_ = rings;
  o->journal_ = journal;
  std::memcpy(o->prefix_, cfg.id_prefix.data(), cfg.id_prefix.size());
  o->prefix_len_ = cfg.id_prefix.size();
  o->session_ = cfg.session;
  for (std::size_t i = 0; i < cfg.symbols.size(); ++i) {
    SymbolName s;
    if (cfg.symbols[i].empty() || !s.assign(cfg.symbols[i]))
      return Result<std::unique_ptr<Oms>>(Code::invalid_argument,
                                          "Oms: symbols[" + std::to_string(i) + "] '" + cfg.symbols[i] +
                                              "' is empty or longer than " +
                                              std::to_string(SymbolName::capacity()));
    if (o->symbol_index(cfg.symbols[i]) >= 0)
      return Result<std::unique_ptr<Oms>>(Code::invalid_argument, "Oms: symbol '" + cfg.symbols[i] + "' listed twice");
    o->symbols_[i] = s;
    o->positions_[i].symbol = s;
    o->nsymbols_ = i + 1;
  }
  o->capacity_ = cfg.max_open_orders;
  std::size_t idx = 1;
  while (idx < 2 * o->capacity_) idx <<= 1;
  o->index_mask_ = idx - 1;
  o->entries_ = std::make_unique<OrderEntry[]>(o->capacity_);
  o->free_ = std::make_unique<std::uint32_t[]>(o->capacity_);
  o->index_ = std::make_unique<std::uint32_t[]>(idx);
  std::fill(o->index_.get(), o->index_.get() + idx, kEmpty);
  for (std::size_t i = 0; i < o->capacity_; ++i)
    o->free_[i] = static_cast<std::uint32_t>(o->capacity_ - 1 - i);
  o->free_top_ = o->capacity_;
  o->closed_ = std::make_unique<OrderEntry[]>(kClosed);
  return o;
}

Oms::~Oms() = default;

int Oms::symbol_index(std::string_view symbol) const noexcept {
  for (std::size_t i = 0; i < nsymbols_; ++i)
    if (symbols_[i].view() == symbol) return static_cast<int>(i);
  return -1;
}

void Oms::make_id(std::uint64_t seq, ClientOrderId& out) const noexcept {
  char buf[64];
  std::size_t n = 0;
  std::memcpy(buf, prefix_, prefix_len_);
  n = prefix_len_;
  buf[n++] = '-';
  n += put_u64(buf + n, session_);
  buf[n++] = '-';
  n += put_u64(buf + n, seq);
  (void)out.assign(std::string_view(buf, std::min<std::size_t>(n, 36)));
}

bool Oms::parse_id(std::string_view id, std::uint32_t& session, std::uint64_t& seq) const noexcept {
  if (id.size() < prefix_len_ + 4 || id.substr(0, prefix_len_) != prefix() || id[prefix_len_] != '-') return false;
  std::string_view rest = id.substr(prefix_len_ + 1);
  const std::size_t dash = rest.find('-');
  if (dash == std::string_view::npos || dash == 0 || dash + 1 >= rest.size()) return false;
  std::uint64_t s = 0, q = 0;
  for (char c : rest.substr(0, dash)) {
    if (c < '0' || c > '9' || s > 0xFFFFFFFFull / 10) return false;
    s = s * 10 + static_cast<unsigned>(c - '0');
  }
  for (char c : rest.substr(dash + 1)) {
    if (c < '0' || c > '9' || q > (~0ull) / 10) return false;
    q = q * 10 + static_cast<unsigned>(c - '0');
  }
  if (s == 0 || s > 0xFFFFFFFFull) return false;
  session = static_cast<std::uint32_t>(s);
  seq = q;
  return true;
}

OrderEntry* Oms::lookup(std::string_view id) noexcept {
  std::size_t i = hash_id(id) & index_mask_;
  while (true) {
    const std::uint32_t e = index_[i];
    if (e == kEmpty) return nullptr;
    if (entries_[e].req.client_order_id.view() == id) return &entries_[e];
    i = (i + 1) & index_mask_;
  }
}

const OrderEntry* Oms::find(std::string_view id) const noexcept {
  return const_cast<Oms*>(this)->lookup(id);
}

const OrderEntry* Oms::find_closed(std::string_view id) const noexcept {
  for (std::size_t i = 0; i < kClosed; ++i)
    if (closed_[i].live && closed_[i].req.client_order_id.view() == id) return &closed_[i];
  return nullptr;
}

OrderEntry* Oms::insert(const ClientOrderId& id) noexcept {
  if (free_top_ == 0) return nullptr;
  const std::uint32_t e = free_[--free_top_];
  std::size_t i = hash_id(id.view()) & index_mask_;
  while (index_[i] != kEmpty) i = (i + 1) & index_mask_;
  index_[i] = e;
  entries_[e] = OrderEntry{};
  entries_[e].req.client_order_id = id;
  entries_[e].live = true;
  ++live_count_;
  return &entries_[e];
}

void Oms::erase(OrderEntry* ent) noexcept {
  const std::uint32_t e = static_cast<std::uint32_t>(ent - entries_.get());
  std::size_t i = hash_id(ent->req.client_order_id.view()) & index_mask_;
  while (index_[i] != e) i = (i + 1) & index_mask_;
  // Backward-shift deletion: move later members of the probe run into the hole when their home
  // slot is at or before it (cyclically), so lookups never stop early.
  std::size_t hole = i;
  std::size_t j = i;
  while (true) {
    j = (j + 1) & index_mask_;
    const std::uint32_t x = index_[j];
    if (x == kEmpty) break;
    const std::size_t home = hash_id(entries_[x].req.client_order_id.view()) & index_mask_;
    // x may move into the hole if home is not in (hole, j] cyclically.
    const bool in_range = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
    if (!in_range) {
      index_[hole] = x;
      hole = j;
    }
  }
  index_[hole] = kEmpty;
  ent->live = false;
  free_[free_top_++] = e;
  --live_count_;
}

void Oms::close(OrderEntry* e) noexcept {
  // Keep a copy for late duplicates, then free the slot.
  closed_[closed_next_] = *e;
  closed_[closed_next_].live = true;
  closed_next_ = (closed_next_ + 1) % kClosed;
  if (e->query_pending && queries_waiting_ > 0) --queries_waiting_;
  erase(e);
}

bool Oms::journal_push(const JournalRecord& rec) noexcept {
  return journal_ == nullptr || journal_->try_append(rec);
}

SubmitResult Oms::submit(const OrderRequest& in, ClientOrderId* out_id) noexcept {
  auto fail = [&](SubmitResult r) {
    ++counters_.rejected_submits;
    return r;
  };
  if (halted_) return fail(SubmitResult::halted);
  const int si = symbol_index(in.symbol.view());
  if (si < 0) return fail(SubmitResult::unknown_symbol);
  if (in.qty.raw <= 0 || (in.type != OrderType::market && in.price.raw <= 0)) return fail(SubmitResult::bad_order);
  if (free_top_ == 0) return fail(SubmitResult::table_full);

  const std::uint64_t seq = next_seq_;
  ClientOrderId id;
  make_id(seq, id);
  const std::int64_t t1 = now_ns();

  // Journal first: an order we cannot journal is not sent.
  if (journal_ != nullptr) {
    JournalRecord rec;
    rec.kind = JournalKind::order_new;
    rec.local_ns = t1;
    rec.order = in;
    rec.order.client_order_id = id;
    if (!journal_->try_append(rec)) return fail(SubmitResult::journal_full);
  }
  GatewayRequest gr;
  gr.op = GatewayOp::new_order;
  gr.order = in;
  gr.order.client_order_id = id;
  gr.enqueue_ns = t1;
  // No size() pre-check: it would read the consumer's index (a cache miss per order when the
  // gateway thread runs on another core); try_push reads it only when its cached copy says full.
  if (!rings_.outbound->try_push(gr)) {
    // A journaled request that was never sent: burn its id (recovery finds the exchange never saw
    // it and marks it rejected); without a journal nothing was recorded and the id is reused.
    if (journal_ != nullptr) ++next_seq_;
    return fail(SubmitResult::ring_full);
  }
  ++next_seq_;
  OrderEntry* e = insert(id);
  e->req = gr.order;
  e->seq = seq;
  e->enqueue_ns = t1;
  e->symbol_index = static_cast<std::uint16_t>(si);
  e->status = OrderStatus::pending_new;
  ++counters_.submitted;
  if (out_id != nullptr) *out_id = id;
  return SubmitResult::ok;
}

SubmitResult Oms::cancel(const ClientOrderId& id) noexcept {
  OrderEntry* e = lookup(id.view());
  if (e == nullptr) {
    ++counters_.rejected_submits;
    return SubmitResult::no_such_order;
  }
  if (e->status == OrderStatus::pending_cancel) {
    ++counters_.rejected_submits;
    return SubmitResult::already_canceling;
  }
  GatewayRequest gr;
  gr.op = GatewayOp::cancel;
  gr.cancel.symbol = e->req.symbol;
  make_id(next_seq_, gr.cancel.client_order_id);
  gr.cancel.orig_client_order_id = e->req.client_order_id;
  gr.cancel.exchange_order_id = e->exchange_order_id;
  gr.enqueue_ns = now_ns();
  if (journal_ != nullptr) {
    JournalRecord rec;
    rec.kind = JournalKind::cancel;
    rec.local_ns = gr.enqueue_ns;
    rec.cancel = gr.cancel;
    if (!journal_->try_append(rec)) {
      ++counters_.rejected_submits;
      return SubmitResult::journal_full;
    }
  }
  if (!rings_.outbound->try_push(gr)) {
    // Journaled but not sent: recovery would see the order still open (cancel_lost). Burn the id.
    if (journal_ != nullptr) ++next_seq_;
    ++counters_.rejected_submits;
    return SubmitResult::ring_full;
  }
  ++next_seq_;
  // An unknown order's cancel is still worth sending; its status stays unknown until answered.
  if (e->status != OrderStatus::unknown) {
    e->before_cancel = e->status;
    e->status = OrderStatus::pending_cancel;
  }
  ++counters_.cancels_sent;
  return SubmitResult::ok;
}

std::size_t Oms::cancel_all(int symbol_index, std::size_t* not_sent) noexcept {
  std::size_t sent = 0, failed = 0;
  for (std::size_t i = 0; i < capacity_; ++i) {
    OrderEntry& e = entries_[i];
    if (!e.live || e.status == OrderStatus::pending_cancel) continue;
    if (symbol_index >= 0 && e.symbol_index != symbol_index) continue;
    const ClientOrderId id = e.req.client_order_id;
    if (cancel(id) == SubmitResult::ok) ++sent; else ++failed;
  }
  if (not_sent != nullptr) *not_sent = failed;
  return sent;
}

SubmitResult Oms::query(std::string_view client_order_id) noexcept {
  OrderEntry* e = lookup(client_order_id);
  if (e == nullptr) return SubmitResult::no_such_order;
  if (!push_query(*e)) {
    if (!e->query_pending) {
      e->query_pending = true;
      ++queries_waiting_;
    }
    return SubmitResult::ring_full;
  }
  return SubmitResult::ok;
}

bool Oms::push_query(OrderEntry& e) noexcept {
  GatewayRequest gr;
  gr.op = GatewayOp::query;
  gr.cancel.symbol = e.req.symbol;
  gr.cancel.orig_client_order_id = e.req.client_order_id;
  gr.cancel.exchange_order_id = e.exchange_order_id;
  gr.enqueue_ns = now_ns();
  if (journal_ != nullptr) {
    JournalRecord rec;
    rec.kind = JournalKind::query;
    rec.local_ns = gr.enqueue_ns;
    rec.cancel = gr.cancel;
    if (!journal_->try_append(rec)) return false;
  }
  if (!rings_.outbound->try_push(gr)) return false;
  ++counters_.queries_sent;
  return true;
}

void Oms::retry_queries() noexcept {
  if (queries_waiting_ == 0) return;
  for (std::size_t i = 0; i < capacity_ && queries_waiting_ > 0; ++i) {
    OrderEntry& e = entries_[i];
    if (!e.live || !e.query_pending) continue;
    if (!push_query(e)) return;
    e.query_pending = false;
    --queries_waiting_;
  }
}

void Oms::note_anomaly(Anomaly a, const ExecReport& r) noexcept {
  ++counters_.anomalies;
  switch (a) {
    case Anomaly::unknown_order: ++counters_.unknown_order; break;
    case Anomaly::fill_after_terminal: ++counters_.fill_after_terminal; break;
    case Anomaly::overfill: ++counters_.overfill; break;
    case Anomaly::fill_gap: ++counters_.fill_gap; break;
    case Anomaly::status_regress: ++counters_.stale_reports; break;
    case Anomaly::terminal_changed: ++counters_.terminal_changed; break;
    case Anomaly::bad_report: ++counters_.bad_report; break;
    case Anomaly::query_not_found: ++counters_.query_not_found; break;
    case Anomaly::foreign_report: ++counters_.foreign_report; break;
    case Anomaly::none: break;
  }
  if (journal_ != nullptr) {
    JournalRecord rec;
    rec.kind = JournalKind::anomaly;
    rec.anomaly = static_cast<std::uint8_t>(a);
    rec.local_ns = now_ns();
    rec.report = r;
    // Best effort: the anomaly row is a log line; the counter above is the alarm.
    (void)journal_->try_append(rec);
  }
}

void Oms::apply_fill(OrderEntry& e, const ExecReport& r) noexcept {
  const std::int64_t q = r.last_qty.raw;
  const std::int64_t p = r.last_price.raw;
  e.cum_qty.raw += q;
  e.cum_quote_raw += mul_raw(p, q);
  e.fees_raw += r.commission_raw;
  Position& pos = positions_[e.symbol_index];
  const std::int64_t signed_q = e.req.side == Side::buy ? q : -q;
  if (e.req.side == Side::buy) pos.bought_raw += q; else pos.sold_raw += q;
  pos.fees_raw += r.commission_raw;
  if (pos.qty_raw == 0 || (pos.qty_raw > 0) == (signed_q > 0)) {
    // Opening / adding: weighted average entry.
    const i128 a = static_cast<i128>(pos.avg_price_raw) * (pos.qty_raw < 0 ? -pos.qty_raw : pos.qty_raw);
    const i128 b = static_cast<i128>(p) * q;
    const std::int64_t newabs = (pos.qty_raw < 0 ? -pos.qty_raw : pos.qty_raw) + q;
    pos.avg_price_raw = static_cast<std::int64_t>((a + b) / newabs);
    pos.qty_raw += signed_q;
  } else {
    const std::int64_t absq = pos.qty_raw < 0 ? -pos.qty_raw : pos.qty_raw;
    const std::int64_t closing = std::min(q, absq);
    const std::int64_t dir = pos.qty_raw > 0 ? 1 : -1;
    pos.realized_raw += mul_raw(p - pos.avg_price_raw, closing) * dir;
    pos.qty_raw += signed_q;
    if (pos.qty_raw == 0) pos.avg_price_raw = 0;
    else if ((pos.qty_raw > 0) != (dir > 0)) pos.avg_price_raw = p;  // flipped: rest opens at p
  }
  ++counters_.fills;
}

bool Oms::apply(const ExecReport& r, OmsEvent& ev) noexcept {
  ev = OmsEvent{};
  ev.report = &r;
  // The order a report is about: cancels name it in orig_client_order_id.
  const std::string_view key = r.orig_client_order_id.empty() ? r.client_order_id.view()
                                                              : r.orig_client_order_id.view();
  OrderEntry* e = lookup(key);
  const bool is_trade = r.exec_type == ExecType::trade;
  const bool new_fill_possible = is_trade && r.last_qty.raw > 0;
  // A report naming another symbol than the order with that client id is another session's order
  // (two processes on one account with the same id_prefix and session number): never ours.
  const auto other_symbol = [&r](const OrderEntry& o) noexcept {
    return !r.symbol.empty() && !(r.symbol == o.req.symbol);
  };

  // Decide everything first, journal, then mutate: a full journal ring leaves no trace.
  Anomaly anomaly = Anomaly::none;
  bool fill = false;
  if (e != nullptr && other_symbol(*e)) {
    e = nullptr;
    anomaly = Anomaly::foreign_report;
  }
  if (anomaly == Anomaly::foreign_report) {
    // Counted and journaled below; nothing of ours changes.
  } else if (e == nullptr) {
    const OrderEntry* c = find_closed(key);
    if (c != nullptr && other_symbol(*c)) {
      anomaly = Anomaly::foreign_report;
    } else if (c == nullptr) {
      anomaly = Anomaly::unknown_order;
    } else if (new_fill_possible && r.cum_qty.raw > c->cum_qty.raw) {
      anomaly = c->status == OrderStatus::filled ? Anomaly::overfill : Anomaly::fill_after_terminal;
    } else if (is_terminal(r.status) && r.status != c->status && r.exec_type != ExecType::trade &&
               r.reject == RejectCode::none) {
      anomaly = Anomaly::terminal_changed;
    } else {
      ++counters_.late_reports;
      ++counters_.reports;
      if (r.exec_type == ExecType::trade) ++counters_.duplicate_fills;
      ev.order = c;
      return true;
    }
  } else if (is_trade) {
    if (r.last_qty.raw <= 0 || r.last_price.raw <= 0) anomaly = Anomaly::bad_report;
    else if (r.cum_qty.raw != 0 && r.cum_qty.raw <= e->cum_qty.raw) {
      ++counters_.duplicate_fills;
    } else {
      fill = true;
      if (e->cum_qty.raw + r.last_qty.raw > e->req.qty.raw) anomaly = Anomaly::overfill;
      else if (r.cum_qty.raw != 0 && r.cum_qty.raw > e->cum_qty.raw + r.last_qty.raw) anomaly = Anomaly::fill_gap;
    }
  }

  if (journal_ != nullptr) {
    JournalRecord rec;
    rec.kind = fill ? JournalKind::fill : JournalKind::report;
    rec.local_ns = now_ns();
    rec.report = r;
    if (!journal_->try_append(rec)) return false;
  }
  ++counters_.reports;

  if (e == nullptr) {
    // Unknown or late-but-illegal: log; a real new fill on a recently closed order still moves
    // the position (the exchange's trade is the truth).
    note_anomaly(anomaly, r);
    ev.anomaly = anomaly;
    if (anomaly == Anomaly::overfill || anomaly == Anomaly::fill_after_terminal) {
      // Find the closed copy again (mutable) and apply to it and to the position.
      for (std::size_t i = 0; i < kClosed; ++i) {
        OrderEntry& c = closed_[i];
        if (c.live && c.req.client_order_id.view() == key) {
          ExecReport adj = r;
          apply_fill(c, adj);
          ev.order = &c;
          ev.fill_applied = true;
          break;
        }
      }
    }
    return true;
  }

  if (r.exchange_order_id != 0) e->exchange_order_id = r.exchange_order_id;
  if (fill) {
    apply_fill(*e, r);
    ev.fill_applied = true;
  }
  if (anomaly != Anomaly::none) {
    note_anomaly(anomaly, r);
    ev.anomaly = anomaly;
  }

  // Status transition.
  const OrderStatus cur = e->status;
  OrderStatus next = cur;
  switch (r.exec_type) {
    case ExecType::trade:
      if (fill || r.cum_qty.raw >= e->req.qty.raw) {
        next = e->cum_qty.raw >= e->req.qty.raw ? OrderStatus::filled : OrderStatus::partially_filled;
        if (next == OrderStatus::partially_filled && cur == OrderStatus::pending_cancel) next = cur;
      }
      break;
    case ExecType::new_:
      next = OrderStatus::new_;
      if (cur == OrderStatus::pending_cancel || cur == OrderStatus::partially_filled) next = cur;
      break;
    case ExecType::canceled: next = OrderStatus::canceled; break;
    case ExecType::expired: next = OrderStatus::expired; break;
    case ExecType::replaced: break;
    case ExecType::rejected:
      if (!r.orig_client_order_id.empty()) {
        // Our cancel was rejected. -2011 "Unknown order" means the order is already gone (or
        // never arrived): ask the exchange instead of guessing.
        if (cur == OrderStatus::pending_cancel) next = e->before_cancel;
        if (r.reject == RejectCode::cancel_rejected || r.reject == RejectCode::no_such_order) {
          next = OrderStatus::unknown;
        }
      } else {
        next = OrderStatus::rejected;
      }
      break;
    case ExecType::status:
      if (r.status == OrderStatus::unknown) {
        next = OrderStatus::unknown;  // gateway lost the outcome: query below
      } else if (r.reject == RejectCode::no_such_order) {
        // The exchange never saw the order: it is not working anywhere.
        if (cur == OrderStatus::pending_new || cur == OrderStatus::unknown) {
          next = OrderStatus::rejected;
          note_anomaly(Anomaly::query_not_found, r);
          ev.anomaly = Anomaly::query_not_found;
        } else if (cur == OrderStatus::pending_cancel) {
          next = OrderStatus::canceled;
        }
      } else {
        next = r.status;
        // A status answer says partially filled but we hold the fills separately: the fill rows
        // come first from the gateway (it fetches trades before answering); if they did not,
        // the quantities stay as applied and the gap is an anomaly.
        if (r.cum_qty.raw > e->cum_qty.raw) {
          note_anomaly(Anomaly::fill_gap, r);
          ev.anomaly = Anomaly::fill_gap;
        }
        if (next == OrderStatus::filled && e->cum_qty.raw < e->req.qty.raw && r.cum_qty.raw > e->cum_qty.raw) {
          // keep FILLED (the exchange says so) even if a fill row is missing: the anomaly says so
        }
        if (cur == OrderStatus::pending_cancel && !is_terminal(next)) next = cur;
      }
      break;
  }

  if (next != cur) {
    const bool from_unknown = cur == OrderStatus::unknown;
    if (is_terminal(cur)) {
      // (unreachable: terminal orders leave the table)
    } else if (!from_unknown && r.exec_type != ExecType::rejected &&
               rank(next) < rank(cur) && next != OrderStatus::unknown) {
      ++counters_.stale_reports;
      next = cur;
    }
    e->status = next;
  }
  if (e->status == OrderStatus::unknown && cur != OrderStatus::unknown) {
    if (!push_query(*e) && !e->query_pending) {
      e->query_pending = true;
      ++queries_waiting_;
    }
  }
  ev.order = e;
  if (is_terminal(e->status)) {
    close(e);
    // ev.order must outlive the slot reuse: point at the closed copy.
    ev.order = &closed_[(closed_next_ + kClosed - 1) % kClosed];
  }
  return true;
}

void Oms::mark(int symbol_index, Price price) noexcept {
  if (symbol_index < 0 || static_cast<std::size_t>(symbol_index) >= nsymbols_) return;
  positions_[symbol_index].mark_raw = price.raw;
}

Status Oms::restore_order(const OrderRequest& req, std::int64_t enqueue_ns) noexcept {
  const int si = symbol_index(req.symbol.view());
  if (si < 0) return Status(Code::invalid_argument, "restore_order: symbol '" + std::string(req.symbol.view()) + "' not configured");
  std::uint32_t s = 0;
  std::uint64_t q = 0;
  if (parse_id(req.client_order_id.view(), s, q) && s == session_ && q >= next_seq_) next_seq_ = q + 1;
  if (lookup(req.client_order_id.view()) != nullptr) return Status::Ok();
  OrderEntry* e = insert(req.client_order_id);
  if (e == nullptr) return Status(Code::resource_exhausted, "restore_order: open-order table full");
  e->req = req;
  e->seq = q;
  e->enqueue_ns = enqueue_ns;
  e->symbol_index = static_cast<std::uint16_t>(si);
  e->status = OrderStatus::pending_new;
  return Status::Ok();
}

void Oms::restore_cancel(std::string_view orig) noexcept {
  OrderEntry* e = lookup(orig);
  if (e == nullptr || e->status == OrderStatus::pending_cancel || e->status == OrderStatus::unknown) return;
  e->before_cancel = e->status;
  e->status = OrderStatus::pending_cancel;
}

void Oms::cancel_lost(std::string_view id) noexcept {
  OrderEntry* e = lookup(id);
  if (e != nullptr && e->status == OrderStatus::pending_cancel) e->status = e->before_cancel;
}

}  // namespace tickrt::exec
