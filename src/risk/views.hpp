// risk/views.hpp — small value views that strategy/ and risk/ read, filled by the pipeline from
// the book (book/l2_book.hpp) and the OMS (exec/), so neither stage depends on their classes.
//
// Who fills them: the thread that owns the book and the OMS (the pipeline's trading thread, or the
// backtester's single thread), right before calling the strategy or the risk engine. They are plain
// values or spans over the caller's memory; nothing here allocates or outlives the call.
//
// MarketTop: the touch of one symbol's book plus its integrity state and the local time of its
// last applied update (staleness is measured from it). top_of() builds it from an L2Book.
// OpenOrder: one working order as the OMS knows it (pending_new / new / partially_filled /
// pending_cancel). leaves counts toward exposure until the order is terminal: a cancel may lose a
// race with a fill, so an order with cancel_pending still counts.
// Exposure: what the risk checks need of the open orders, summed once by exposure_of().
#pragma once

#include <cstdint>
#include <span>

#include "book/l2_book.hpp"
#include "core/fixed_point.hpp"
#include "exec/order_types.hpp"

namespace tickrt::risk {

struct MarketTop {
  Price bid;                 // best bid; raw 0 when the side is empty
  Price ask;                 // best ask; raw 0 when the side is empty
  book::BookState state = book::BookState::awaiting_snapshot;
  bool crossed = false;
  std::int64_t update_ns = 0;  // local monotonic ns of the last book change; 0 = never

  bool has_both_sides() const noexcept { return bid.raw > 0 && ask.raw > 0; }
  bool tradable() const noexcept {
    return state == book::BookState::synced && !crossed && has_both_sides() && bid < ask;
  }
  // Mid in raw 1e-8 units (rounded down); 0 without both sides.
  std::int64_t mid_raw() const noexcept { return has_both_sides() ? (bid.raw + ask.raw) / 2 : 0; }
};

// The top of `b` as of local time `update_ns` (the stamp of the event the book just applied).
inline MarketTop top_of(const book::L2Book& b, std::int64_t update_ns) noexcept {
  MarketTop t;
  feed::Level l;
  if (b.best_bid(l)) t.bid = l.price;
  if (b.best_ask(l)) t.ask = l.price;
  t.state = b.state();
  t.crossed = b.crossed();
  t.update_ns = update_ns;
  return t;
}

struct OpenOrder {
  exec::SymbolName symbol;
  exec::ClientOrderId client_order_id;
  std::uint64_t exchange_order_id = 0;
  exec::Side side = exec::Side::buy;
  exec::OrderType type = exec::OrderType::limit;
  Price price;
  Qty leaves;                  // quantity still working (qty - cum_qty)
  std::int64_t sent_ns = 0;    // local stamp when the order was sent (strategy: age of passive orders)
  bool cancel_pending = false; // a cancel is in flight: do not cancel again
};

// Open orders of one symbol, plus the account-wide count.
struct Exposure {
  Qty open_buy;                       // sum of leaves of working buys
  Qty open_sell;                      // sum of leaves of working sells
  std::uint32_t open_orders = 0;      // this symbol
  std::uint32_t open_orders_account = 0;  // all symbols (the caller's count)
};

// Sums `orders` (one symbol's); open_orders_account is set to `account_open_orders`.
inline Exposure exposure_of(std::span<const OpenOrder> orders, std::uint32_t account_open_orders) noexcept {
  Exposure e;
  for (const OpenOrder& o : orders) {
    if (o.side == exec::Side::buy) e.open_buy.raw += o.leaves.raw;
    else e.open_sell.raw += o.leaves.raw;
    ++e.open_orders;
  }
  e.open_orders_account = account_open_orders;
  return e;
}

}  // namespace tickrt::risk
