// risk/risk_engine.cpp — see risk_engine.hpp for the contract and the order of the checks.
#include "risk/risk_engine.hpp"

#include <limits>

namespace tickrt::risk {

namespace {
__extension__ using i128 = __int128;

constexpr std::int64_t saturate(i128 v) noexcept {
  if (v > std::numeric_limits<std::int64_t>::max()) return std::numeric_limits<std::int64_t>::max();
  if (v < std::numeric_limits<std::int64_t>::min()) return std::numeric_limits<std::int64_t>::min();
  return static_cast<std::int64_t>(v);
}
constexpr std::int64_t abs64(std::int64_t v) noexcept { return v < 0 ? -v : v; }
}  // namespace

std::int64_t notional_raw(Qty q, Price p) noexcept {
  return saturate(static_cast<i128>(q.raw) * p.raw / kDecimalScale);
}

std::string_view reason_name(Reason r) noexcept {
  switch (r) {
    case Reason::ok: return "ok";
    case Reason::kill_switch: return "kill_switch";
    case Reason::unknown_symbol: return "unknown_symbol";
    case Reason::bad_order: return "bad_order";
    case Reason::no_market_data: return "no_market_data";
    case Reason::book_not_synced: return "book_not_synced";
    case Reason::book_crossed: return "book_crossed";
    case Reason::stale_market_data: return "stale_market_data";
    case Reason::max_order_qty: return "max_order_qty";
    case Reason::max_order_notional: return "max_order_notional";
    case Reason::min_order_notional: return "min_order_notional";
    case Reason::price_collar: return "price_collar";
    case Reason::max_position_symbol: return "max_position_symbol";
    case Reason::max_position_account: return "max_position_account";
    case Reason::max_open_orders_symbol: return "max_open_orders_symbol";
    case Reason::max_open_orders_account: return "max_open_orders_account";
    case Reason::order_rate: return "order_rate";
    case Reason::cancel_rate: return "cancel_rate";
    case Reason::count_: break;
  }
  return "unknown";
}

std::string_view kill_cause_name(KillCause c) noexcept {
  switch (c) {
    case KillCause::none: return "none";
    case KillCause::daily_loss: return "daily_loss";
    case KillCause::drawdown: return "drawdown";
    case KillCause::operator_: return "operator";
  }
  return "unknown";
}

Status validate(const SymbolLimits& l) {
  if (l.max_position.raw <= 0) return {Code::invalid_argument, "risk.symbol.max_position: must be > 0"};
  if (l.max_order_qty.raw <= 0) return {Code::invalid_argument, "risk.symbol.max_order_qty: must be > 0"};
  if (l.max_order_notional.raw <= 0) return {Code::invalid_argument, "risk.symbol.max_order_notional: must be > 0"};
  if (l.min_order_notional.raw < 0 || l.min_order_notional >= l.max_order_notional) {
    return {Code::invalid_argument, "risk.symbol.min_order_notional (" + l.min_order_notional.to_string() +
                                        ") must be >= 0 and below max_order_notional (" + l.max_order_notional.to_string() +
                                        "): no order could pass both; lower min_order_notional (0 = no floor) or raise "
                                        "max_order_notional"};
  }
  if (l.collar_bps <= 0 || l.collar_bps > 10'000) {
    return {Code::invalid_argument, "risk.symbol.collar_bps: must be in (0, 10000], got " + std::to_string(l.collar_bps)};
  }
  if (l.max_open_orders == 0) return {Code::invalid_argument, "risk.symbol.max_open_orders: must be > 0"};
  return Status::Ok();
}

Status validate(const AccountLimits& l) {
  if (l.max_gross_notional.raw <= 0) return {Code::invalid_argument, "risk.account.max_gross_notional: must be > 0"};
  if (l.max_open_orders == 0) return {Code::invalid_argument, "risk.account.max_open_orders: must be > 0"};
  if (l.order_rate.burst == 0) return {Code::invalid_argument, "risk.account.order_rate.burst: must be > 0"};
  if (l.cancel_rate.burst == 0) return {Code::invalid_argument, "risk.account.cancel_rate.burst: must be > 0"};
  if (l.order_rate.rate_per_s > 1'000'000'000u || l.cancel_rate.rate_per_s > 1'000'000'000u) {
    return {Code::invalid_argument, "risk.account.*_rate.rate_per_s: must be <= 1e9"};
  }
  if (l.max_md_staleness_ns <= 0) return {Code::invalid_argument, "risk.account.max_md_staleness: must be > 0"};
  if (l.max_daily_loss.raw < 0) return {Code::invalid_argument, "risk.account.max_daily_loss: must be >= 0"};
  if (l.max_drawdown.raw < 0) return {Code::invalid_argument, "risk.account.max_drawdown: must be >= 0"};
  return Status::Ok();
}

Result<std::unique_ptr<RiskEngine>> RiskEngine::create(const AccountLimits& limits, std::int64_t now_ns) {
  if (Status s = validate(limits); !s.ok()) return s;
  return std::make_unique<RiskEngine>(limits, now_ns);
}

RiskEngine::RiskEngine(const AccountLimits& limits, std::int64_t now_ns) noexcept
    : acct_(limits), orders_(limits.order_rate, now_ns), cancels_(limits.cancel_rate, now_ns), last_ns_(now_ns) {}

Result<SymbolId> RiskEngine::add_symbol(std::string_view name, const SymbolLimits& limits) {
  if (Status s = validate(limits); !s.ok()) return s.with_context("symbol " + std::string(name));
  if (nsym_ == kMaxSymbols) {
    return Result<SymbolId>(Code::resource_exhausted, "risk: more than " + std::to_string(kMaxSymbols) +
                                                          " symbols (adding " + std::string(name) + ")");
  }
  exec::SymbolName n;
  if (name.empty() || !n.assign(name)) {
    return Result<SymbolId>(Code::invalid_argument, "risk: symbol name '" + std::string(name) + "' empty or longer than " +
                                                        std::to_string(exec::SymbolName::capacity()));
  }
  SymbolId existing;
  if (find(n, existing)) return Result<SymbolId>(Code::invalid_argument, "risk: symbol " + std::string(name) + " added twice");
  SymbolState& s = sym_[nsym_];
  s = SymbolState{};
  s.name = n;
  s.limits = limits;
  return static_cast<SymbolId>(nsym_++);
}

bool RiskEngine::find(const exec::SymbolName& name, SymbolId& out) const noexcept {
  for (std::size_t i = 0; i < nsym_; ++i) {
    if (sym_[i].name == name) {
      out = static_cast<SymbolId>(i);
      return true;
    }
  }
  return false;
}

void RiskEngine::poll_kill_request(std::int64_t now_ns) noexcept {
  if (kill_requested_.load(std::memory_order_relaxed) && kill_requested_.exchange(false, std::memory_order_acq_rel)) {
    kill(KillCause::operator_, now_ns);
  }
}

bool RiskEngine::on_market(SymbolId sym, const MarketTop& top) noexcept {
  poll_kill_request(top.update_ns);
  if (sym >= nsym_) return false;
  SymbolState& s = sym_[sym];
  s.top = top;
  s.has_top = true;
  // A one-sided or crossed book keeps the previous mark: marking at 0 would fake a loss.
  if (top.has_both_sides() && top.bid < top.ask) s.mark = top.mid_raw();
  return evaluate_pnl(top.update_ns);
}

bool RiskEngine::on_fill(SymbolId sym, const exec::ExecReport& r) noexcept {
  if (sym >= nsym_ || r.exec_type != exec::ExecType::trade || r.last_qty.raw <= 0) return false;
  SymbolState& s = sym_[sym];
  const int sign = exec::side_sign(r.side);
  s.position.raw += sign * r.last_qty.raw;
  s.cash -= static_cast<i128>(sign) * r.last_qty.raw * r.last_price.raw;
  s.cash -= static_cast<i128>(r.commission_raw) * kDecimalScale;
  if (s.mark == 0) s.mark = r.last_price.raw;  // no book yet: mark at the fill
  c_.fills.add();
  return evaluate_pnl(r.local_ns);
}

std::int64_t RiskEngine::pnl_raw() const noexcept { return saturate(pnl_wide() / kDecimalScale); }

i128 RiskEngine::pnl_wide() const noexcept {
  i128 total = 0;
  for (std::size_t i = 0; i < nsym_; ++i) {
    const SymbolState& s = sym_[i];
    total += s.cash + static_cast<i128>(s.position.raw) * s.mark;
  }
  return total;
}

bool RiskEngine::evaluate_pnl(std::int64_t now_ns) noexcept {
  const i128 pnl = pnl_wide();
  if (pnl > peak_pnl_) peak_pnl_ = pnl;
  if (latched()) return false;
  if (day_start_pnl_ - pnl > static_cast<i128>(acct_.max_daily_loss.raw) * kDecimalScale) {
    kill(KillCause::daily_loss, now_ns);
    return true;
  }
  if (peak_pnl_ - pnl > static_cast<i128>(acct_.max_drawdown.raw) * kDecimalScale) {
    kill(KillCause::drawdown, now_ns);
    return true;
  }
  return false;
}

Reason RiskEngine::check_new(SymbolId sym, const exec::OrderRequest& o, const Exposure& ex,
                             std::int64_t now_ns) noexcept {
  c_.new_checks.add();
  poll_kill_request(now_ns);
  if (latched()) return refuse(Reason::kill_switch);
  if (sym >= nsym_) return refuse(Reason::unknown_symbol);
  const SymbolState& s = sym_[sym];
  const bool is_market = o.type == exec::OrderType::market;
  if (o.qty.raw <= 0 || (!is_market && o.price.raw <= 0) || !(o.symbol == s.name)) return refuse(Reason::bad_order);

  // Book integrity and freshness.
  const MarketTop& t = s.top;
  if (!s.has_top || t.update_ns == 0) return refuse(Reason::no_market_data);
  if (t.state != book::BookState::synced) return refuse(Reason::book_not_synced);
  if (t.crossed || (t.has_both_sides() && t.bid >= t.ask)) return refuse(Reason::book_crossed);
  if (!t.has_both_sides()) return refuse(Reason::no_market_data);
  if (now_ns - t.update_ns > acct_.max_md_staleness_ns) return refuse(Reason::stale_market_data);

  // Size, notional, price.
  const SymbolLimits& l = s.limits;
  if (o.qty > l.max_order_qty) return refuse(Reason::max_order_qty);
  const bool buy = o.side == exec::Side::buy;
  const Price px = is_market ? (buy ? t.ask : t.bid) : o.price;
  // Compared in 1e-16 units (qty.raw * price.raw against limit * 1e8): a 128-bit multiply
  // instead of a 128-bit division (__divti3) on the hot path.
  if (static_cast<i128>(o.qty.raw) * px.raw > static_cast<i128>(l.max_order_notional.raw) * kDecimalScale) {
    return refuse(Reason::max_order_notional);
  }
  if (static_cast<i128>(o.qty.raw) * px.raw < static_cast<i128>(l.min_order_notional.raw) * kDecimalScale) {
    return refuse(Reason::min_order_notional);
  }
  const std::int64_t mid = t.mid_raw();
  if (!is_market) {
    const i128 dev = static_cast<i128>(abs64(px.raw - mid)) * 10'000;
    if (dev > static_cast<i128>(l.collar_bps) * mid) return refuse(Reason::price_collar);
  }

  // Position if every working order on this side and this one fill.
  const std::int64_t worst = buy ? s.position.raw + ex.open_buy.raw + o.qty.raw
                                 : s.position.raw - ex.open_sell.raw - o.qty.raw;
  if (abs64(worst) > l.max_position.raw) return refuse(Reason::max_position_symbol);
  i128 gross = static_cast<i128>(abs64(worst)) * mid;
  for (std::size_t i = 0; i < nsym_; ++i) {
    if (i != sym) gross += static_cast<i128>(abs64(sym_[i].position.raw)) * sym_[i].mark;
  }
  if (gross > static_cast<i128>(acct_.max_gross_notional.raw) * kDecimalScale) return refuse(Reason::max_position_account);

  if (ex.open_orders >= l.max_open_orders) return refuse(Reason::max_open_orders_symbol);
  if (ex.open_orders_account >= acct_.max_open_orders) return refuse(Reason::max_open_orders_account);
  if (!orders_.try_take(now_ns)) return refuse(Reason::order_rate);
  c_.passed.add();
  return Reason::ok;
}

Reason RiskEngine::check_cancel(SymbolId sym, std::int64_t now_ns) noexcept {
  c_.cancel_checks.add();
  poll_kill_request(now_ns);
  if (sym >= nsym_) return refuse(Reason::unknown_symbol);
  if (!cancels_.try_take(now_ns)) return refuse(Reason::cancel_rate);
  c_.passed.add();
  return Reason::ok;
}

void RiskEngine::kill(KillCause cause, std::int64_t now_ns) noexcept {
  if (latched()) return;  // the first cause is the one reported
  cause_ = cause;
  latched_ns_ = now_ns;
  latched_.store(true, std::memory_order_release);
  c_.kill_trips.add();
}

std::size_t RiskEngine::cancel_all(std::span<const OpenOrder> open, std::span<exec::CancelRequest> out) noexcept {
  std::size_t n = 0;
  for (const OpenOrder& o : open) {
    if (o.cancel_pending) continue;
    if (n == out.size()) break;
    exec::CancelRequest& c = out[n++];
    c = exec::CancelRequest{};
    c.symbol = o.symbol;
    c.orig_client_order_id = o.client_order_id;
    c.exchange_order_id = o.exchange_order_id;
  }
  c_.cancel_all_intents.add(n);
  return n;
}

Status RiskEngine::reset(std::string_view reason, std::int64_t now_ns) {
  if (reason.empty()) return {Code::invalid_argument, "risk.reset: a reason is required (who and why)"};
  poll_kill_request(now_ns);
  const i128 pnl = pnl_wide();
  if (day_start_pnl_ - pnl > static_cast<i128>(acct_.max_daily_loss.raw) * kDecimalScale) {
    return {Code::invalid_argument, "risk.reset: daily loss " + format_decimal(saturate((day_start_pnl_ - pnl) / kDecimalScale), 2) +
                                        " is still above max_daily_loss " + format_decimal(acct_.max_daily_loss.raw, 2) +
                                        "; raise the limit or start a new day first"};
  }
  const bool was = latched();
  peak_pnl_ = pnl;
  cause_ = KillCause::none;
  latched_ns_ = 0;
  reset_reason_.assign(reason);
  latched_.store(false, std::memory_order_release);
  if (was) c_.resets.add();
  return Status::Ok();
}

void RiskEngine::start_day(std::int64_t now_ns) noexcept {
  (void)now_ns;
  day_start_pnl_ = pnl_wide();
}

}  // namespace tickrt::risk
