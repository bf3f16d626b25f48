// risk/risk_engine.hpp — pre-trade checks, throttles, PnL kill switch. The risk stage's engine.
//
// Who calls, when (one owning thread: the pipeline's trading thread, or the backtester's):
//   setup:    RiskEngine(AccountLimits, now) ; add_symbol(name, SymbolLimits) per symbol.
//   per book update:  on_market(sym, MarketTop)     -> marks PnL, may trip the kill switch.
//   per fill:         on_fill(sym, ExecReport)      -> position + cash, may trip the kill switch.
//   per intent:       check_new(sym, order, exposure, now) / check_cancel(sym, now)
//                     -> Reason::ok or the first refusal; every refusal is counted by reason.
//   kill switch:      kill(), or request_kill() from ANY thread (seen at the next call on the
//                     owner thread); cancel_all(open orders, out) produces the cancels;
//                     reset(reason, now) is the only way out (operator, owner thread).
//   daily:            start_day(now) moves the daily-loss baseline to the current PnL.
// Hot-path calls are noexcept, allocate nothing, read no clock (time is the caller's now_ns: a
// backtest replays exactly) and make no virtual calls. Counters are single-writer relaxed
// atomics, so a metrics thread may read them (counters()) while the owner writes.
//
// Order of the new-order checks (the first failure is the reason reported):
//   kill_switch, unknown_symbol, bad_order, no_market_data, book_not_synced, book_crossed,
//   stale_market_data, max_order_qty, max_order_notional, min_order_notional, price_collar, max_position_symbol,
//   max_position_account, max_open_orders_symbol, max_open_orders_account, order_rate.
// order_rate is last so a refused order never spends a token.
// Cancels: only the cancel-rate throttle (cancels reduce risk; they pass a latched kill switch).
// cancel_all() bypasses the throttle on purpose: when the switch trips every order must go; the
// venue's own limit is the backstop (its refusals come back as rejects and are retried by the OMS).
//
// Definitions:
//  * position: signed base quantity from the fills given to on_fill() (the risk book of record;
//    the pipeline feeds it the same ExecReports as the OMS).
//  * worst-case symbol position for a buy: position + open_buy + qty; for a sell: position -
//    open_sell - qty (every working order on that side fills). |worst| <= max_position.
//  * account gross notional: sum over the OTHER symbols of |position| * mid, plus this symbol's
//    |worst-case| * mid; <= max_gross_notional. (Other symbols' open orders are not known here.)
//  * notional of an order: qty * price (limit) or qty * the touch it would take (market);
//    min_order_notional <= notional <= max_order_notional (min 0 = no floor).
//  * collar: |price - mid| * 10000 <= collar_bps * mid (limit orders; market orders take the
//    touch, which a tradable book keeps inside any sane collar).
//  * PnL (quote, 1e-8 units): cash + sum position * mid, where cash = -sum(side * price * qty) -
//    commissions, from zero at construction. Daily loss = day baseline - PnL; drawdown = peak
//    PnL - PnL. Either above its limit latches the kill switch (KillCause names which).
// Limits: at most kMaxSymbols symbols. Every limit applies; there is no "0 = off" (use a large
// value to relax one), except min_order_notional, a floor, whose 0 is no floor. Quote amounts are Notional (fixed point, 1e-8 quote units).
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "core/fixed_point.hpp"
#include "core/status.hpp"
#include "exec/order_types.hpp"
#include "risk/token_bucket.hpp"
#include "risk/views.hpp"

namespace tickrt::risk {

struct NotionalTag {};
using Notional = Fixed<NotionalTag>;  // quote-asset amount, 1e-8 units

// qty * price in quote units (1e-8), exact in 128 bits, saturated to int64.
std::int64_t notional_raw(Qty q, Price p) noexcept;

enum class Reason : std::uint8_t {
  ok = 0,
  kill_switch,
  unknown_symbol,
  bad_order,
  no_market_data,
  book_not_synced,
  book_crossed,
  stale_market_data,
  max_order_qty,
  max_order_notional,
  min_order_notional,  // under the venue's NOTIONAL filter (Binance spot: 5 USDT): it would reject
  price_collar,
  max_position_symbol,
  max_position_account,
  max_open_orders_symbol,
  max_open_orders_account,
  order_rate,
  cancel_rate,
  count_,  // number of reasons (not a reason)
};
inline constexpr std::size_t kReasonCount = static_cast<std::size_t>(Reason::count_);
std::string_view reason_name(Reason r) noexcept;  // snake_case, stable (metric label values)

enum class KillCause : std::uint8_t { none = 0, daily_loss, drawdown, operator_ };
std::string_view kill_cause_name(KillCause c) noexcept;

struct SymbolLimits {
  Qty max_position = Qty::from_int(1);          // |worst-case position| in base units
  Qty max_order_qty = Qty::from_int(1);
  Notional max_order_notional = Notional::from_int(100'000);
  Notional min_order_notional{};                // the venue's minimum (NOTIONAL filter); 0 = none
  std::int32_t collar_bps = 50;                 // limit price within 50 bps of the mid
  std::uint32_t max_open_orders = 4;
};

struct AccountLimits {
  Notional max_gross_notional = Notional::from_int(250'000);
  std::uint32_t max_open_orders = 16;
  TokenBucket::Config order_rate{10, 10};       // Binance spot: 10 orders/s per account
  TokenBucket::Config cancel_rate{20, 20};
  std::int64_t max_md_staleness_ns = 2'000'000'000;  // no book update for 2 s -> stale
  Notional max_daily_loss = Notional::from_int(1'000);
  Notional max_drawdown = Notional::from_int(1'000);
};

// Setup path: every field that cannot work (negative, zero where a positive value is needed)
// names itself: "risk.symbol.max_order_qty: must be > 0".
Status validate(const SymbolLimits& l);
Status validate(const AccountLimits& l);

using SymbolId = std::uint16_t;

// One counter, one writing thread: the increment is a relaxed load + store (no lock prefix),
// readers on other threads see a recent value.
struct SingleWriterCounter {
  std::atomic<std::uint64_t> v{0};
  void add(std::uint64_t n = 1) noexcept { v.store(v.load(std::memory_order_relaxed) + n, std::memory_order_relaxed); }
  std::uint64_t get() const noexcept { return v.load(std::memory_order_relaxed); }
};

struct RiskCounters {
  SingleWriterCounter new_checks;   // check_new calls
  SingleWriterCounter cancel_checks;
  SingleWriterCounter passed;       // ok answers (new + cancel)
  std::array<SingleWriterCounter, kReasonCount> refused;  // by Reason (index 0 unused)
  SingleWriterCounter kill_trips;   // times the switch latched
  SingleWriterCounter resets;
  SingleWriterCounter cancel_all_intents;
  SingleWriterCounter fills;
};

class RiskEngine {
 public:
  static constexpr std::size_t kMaxSymbols = 16;

  // Setup. Limits are validated by add_symbol()/create(); the token buckets start full at now_ns.
  static Result<std::unique_ptr<RiskEngine>> create(const AccountLimits& limits, std::int64_t now_ns);
  RiskEngine(const AccountLimits& limits, std::int64_t now_ns) noexcept;
  RiskEngine(const RiskEngine&) = delete;
  RiskEngine& operator=(const RiskEngine&) = delete;

  Result<SymbolId> add_symbol(std::string_view name, const SymbolLimits& limits);
  // Linear search over at most kMaxSymbols names; false when absent. Setup or per-intent.
  [[nodiscard]] bool find(const exec::SymbolName& name, SymbolId& out) const noexcept;
  std::size_t symbol_count() const noexcept { return nsym_; }

  // ---- hot path ----------------------------------------------------------------------------
  // The book of `sym` changed. Marks PnL at the new mid; true when this call latched the switch.
  [[nodiscard]] bool on_market(SymbolId sym, const MarketTop& top) noexcept;
  // An execution report; only trades (exec_type trade, last_qty > 0) change anything.
  // True when this fill latched the switch.
  [[nodiscard]] bool on_fill(SymbolId sym, const exec::ExecReport& r) noexcept;
  // Setup path, after restart recovery: the position the OMS recovered (signed base quantity at its
  // average price) as one fill, so position limits and PnL start from it. 0 = nothing to do.
  void seed_position(SymbolId sym, const exec::SymbolName& name, std::int64_t qty_raw, std::int64_t avg_price_raw,
                     std::int64_t now_ns) noexcept {
    if (qty_raw == 0) return;
    exec::ExecReport seed;
    seed.exec_type = exec::ExecType::trade;
    seed.symbol = name;
    seed.side = qty_raw > 0 ? exec::Side::buy : exec::Side::sell;
    seed.last_qty = Qty::from_raw(qty_raw > 0 ? qty_raw : -qty_raw);
    seed.last_price = Price::from_raw(avg_price_raw);
    seed.local_ns = now_ns;
    (void)on_fill(sym, seed);
  }

  [[nodiscard]] Reason check_new(SymbolId sym, const exec::OrderRequest& o, const Exposure& ex,
                                 std::int64_t now_ns) noexcept;
  [[nodiscard]] Reason check_cancel(SymbolId sym, std::int64_t now_ns) noexcept;

  // ---- kill switch -------------------------------------------------------------------------
  void kill(KillCause cause, std::int64_t now_ns) noexcept;  // owner thread; latches
  void request_kill() noexcept { kill_requested_.store(true, std::memory_order_release); }  // any thread
  bool latched() const noexcept { return latched_.load(std::memory_order_acquire); }       // any thread
  KillCause kill_cause() const noexcept { return cause_; }
  std::int64_t latched_at_ns() const noexcept { return latched_ns_; }
  // Writes a CancelRequest (symbol, orig id, exchange id; the cancel's own id left for the OMS)
  // for each order not already cancel_pending, up to out.size(); returns how many were written.
  std::size_t cancel_all(std::span<const OpenOrder> open, std::span<exec::CancelRequest> out) noexcept;
  // Operator path (owner thread). Unlatches only with a non-empty reason and when no loss limit
  // is still breached (then: raise the limit or start_day()). The drawdown peak restarts at the
  // current PnL. The reason is kept (last_reset_reason()).
  Status reset(std::string_view reason, std::int64_t now_ns);
  const std::string& last_reset_reason() const noexcept { return reset_reason_; }
  void start_day(std::int64_t now_ns) noexcept;

  // ---- state ---------------------------------------------------------------------------------
  Qty position(SymbolId sym) const noexcept { return sym < nsym_ ? sym_[sym].position : Qty{}; }
  std::int64_t pnl_raw() const noexcept;              // quote, 1e-8 units, marked at the mids
  std::int64_t peak_pnl_raw() const noexcept { return static_cast<std::int64_t>(peak_pnl_ / kDecimalScale); }
  std::int64_t day_start_pnl_raw() const noexcept { return static_cast<std::int64_t>(day_start_pnl_ / kDecimalScale); }
  const RiskCounters& counters() const noexcept { return c_; }
  const AccountLimits& limits() const noexcept { return acct_; }
  const SymbolLimits& limits(SymbolId sym) const noexcept { return sym_[sym].limits; }

 private:
  struct alignas(64) SymbolState {  // one cache line-aligned block per symbol: no false sharing
    exec::SymbolName name;          // with neighbours when a reader thread polls one symbol
    SymbolLimits limits;
    MarketTop top;
    bool has_top = false;
    std::int64_t mark = 0;          // last mid of a two-sided uncrossed book (PnL mark), 1e-8
    Qty position;
    __extension__ __int128 cash = 0;  // -sum(side*price*qty) - fees, 1e-16 quote units
  };

  Reason refuse(Reason r) noexcept {
    c_.refused[static_cast<std::size_t>(r)].add();
    return r;
  }
  bool evaluate_pnl(std::int64_t now_ns) noexcept;  // true when it latched now
  void poll_kill_request(std::int64_t now_ns) noexcept;

  AccountLimits acct_;
  std::array<SymbolState, kMaxSymbols> sym_{};
  std::size_t nsym_ = 0;
  TokenBucket orders_;
  TokenBucket cancels_;
  std::atomic<bool> latched_{false};
  std::atomic<bool> kill_requested_{false};
  KillCause cause_ = KillCause::none;
  std::int64_t latched_ns_ = 0;
  // PnL bookkeeping in 1e-16 quote units (the product of two 1e-8 fixed-point values): the
  // per-book-update evaluation compares 128-bit values and never divides (__divti3 is slow).
  __extension__ __int128 peak_pnl_ = 0;
  __extension__ __int128 day_start_pnl_ = 0;
  __extension__ __int128 pnl_wide() const noexcept;
  std::int64_t last_ns_ = 0;
  std::string reset_reason_;
  RiskCounters c_;
};

}  // namespace tickrt::risk
