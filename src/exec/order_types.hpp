// exec/order_types.hpp — the order vocabulary shared by strategy/, risk/, exec/ (OMS, gateways),
// sim/ (matching engine, venue servers, FIX acceptor) and backtest/. The contract.
//
// Plain, trivially copyable value types: they travel through SPSC rings between threads and into
// the journal, so they hold no pointers and no heap strings. Prices and quantities are exact
// fixed point (core/fixed_point.hpp), as on the wire. Names follow Binance's spot API
// (newClientOrderId, timeInForce, executionReport "x"/"X") and map 1:1 onto FIX 4.4
// (ClOrdID 11, OrdType 40, TimeInForce 59, ExecType 150, OrdStatus 39).
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <type_traits>

#include "core/fixed_point.hpp"

namespace tickrt::exec {

// Fixed-capacity, NUL-padded ASCII string: no allocation, trivially copyable, comparable.
template <std::size_t N>
struct FixedString {
  char data[N] = {};
  std::uint8_t len = 0;

  static constexpr std::size_t capacity() noexcept { return N; }
  // Returns false (and stores nothing) when s does not fit.
  [[nodiscard]] constexpr bool assign(std::string_view s) noexcept {
    if (s.size() > N) return false;
    std::fill(data, data + N, '\0');
    std::copy(s.begin(), s.end(), data);
    len = static_cast<std::uint8_t>(s.size());
    return true;
  }
  static constexpr FixedString from(std::string_view s) noexcept {
    FixedString f;
    (void)f.assign(s.substr(0, std::min(s.size(), N)));
    return f;
  }
  constexpr std::string_view view() const noexcept { return {data, len}; }
  constexpr bool empty() const noexcept { return len == 0; }
  friend constexpr bool operator==(const FixedString& a, const FixedString& b) noexcept {
    return a.view() == b.view();
  }
};

// Binance symbols are upper-case, at most 20 characters today.
using SymbolName = FixedString<23>;
// Binance newClientOrderId: ^[.A-Z:/a-z0-9_-]{1,36}$ ; FIX ClOrdID fits too.
using ClientOrderId = FixedString<39>;

constexpr bool valid_client_order_id(std::string_view s) noexcept {
  if (s.empty() || s.size() > 36) return false;
  for (char c : s) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == ':' || c == '/' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

enum class Side : std::uint8_t { buy = 0, sell = 1 };
constexpr std::string_view side_name(Side s) noexcept { return s == Side::buy ? "BUY" : "SELL"; }
constexpr int side_sign(Side s) noexcept { return s == Side::buy ? 1 : -1; }

// LIMIT_MAKER is Binance's post-only limit order (rejected if it would take).
enum class OrderType : std::uint8_t { limit = 0, market = 1, limit_maker = 2 };
constexpr std::string_view order_type_name(OrderType t) noexcept {
  switch (t) {
    case OrderType::limit: return "LIMIT";
    case OrderType::market: return "MARKET";
    case OrderType::limit_maker: return "LIMIT_MAKER";
  }
  return "?";
}

enum class TimeInForce : std::uint8_t { gtc = 0, ioc = 1, fok = 2 };
constexpr std::string_view tif_name(TimeInForce t) noexcept {
  switch (t) {
    case TimeInForce::gtc: return "GTC";
    case TimeInForce::ioc: return "IOC";
    case TimeInForce::fok: return "FOK";
  }
  return "?";
}

// Binance selfTradePreventionMode.
enum class StpMode : std::uint8_t { none = 0, expire_taker = 1, expire_maker = 2, expire_both = 3 };

// Order state as the OMS tracks it. pending_* = sent, not yet acknowledged. unknown = the outcome
// is not known (lost ack, timeout, disconnect): the OMS queries it, never assumes.
enum class OrderStatus : std::uint8_t {
  pending_new = 0,
  new_ = 1,               // acknowledged, resting (Binance NEW, FIX 39=0)
  partially_filled = 2,   // FIX 39=1
  filled = 3,             // FIX 39=2
  canceled = 4,           // FIX 39=4
  pending_cancel = 5,     // cancel sent, not acknowledged (FIX 39=6)
  rejected = 6,           // FIX 39=8
  expired = 7,            // IOC/FOK remainder, STP, post-only would-take (Binance EXPIRED, FIX 39=C)
  unknown = 8,
};
constexpr bool is_terminal(OrderStatus s) noexcept {
  return s == OrderStatus::filled || s == OrderStatus::canceled || s == OrderStatus::rejected ||
         s == OrderStatus::expired;
}
constexpr std::string_view order_status_name(OrderStatus s) noexcept {
  switch (s) {
    case OrderStatus::pending_new: return "PENDING_NEW";
    case OrderStatus::new_: return "NEW";
    case OrderStatus::partially_filled: return "PARTIALLY_FILLED";
    case OrderStatus::filled: return "FILLED";
    case OrderStatus::canceled: return "CANCELED";
    case OrderStatus::pending_cancel: return "PENDING_CANCEL";
    case OrderStatus::rejected: return "REJECTED";
    case OrderStatus::expired: return "EXPIRED";
    case OrderStatus::unknown: return "UNKNOWN";
  }
  return "?";
}

// Binance executionReport "x" (current execution type); FIX ExecType (150).
enum class ExecType : std::uint8_t {
  new_ = 0, canceled = 1, replaced = 2, rejected = 3, trade = 4, expired = 5, status = 6 /* query answer */
};
constexpr std::string_view exec_type_name(ExecType t) noexcept {
  switch (t) {
    case ExecType::new_: return "NEW";
    case ExecType::canceled: return "CANCELED";
    case ExecType::replaced: return "REPLACED";
    case ExecType::rejected: return "REJECTED";
    case ExecType::trade: return "TRADE";
    case ExecType::expired: return "EXPIRED";
    case ExecType::status: return "STATUS";
  }
  return "?";
}

// A new order as the strategy/risk hand it to the OMS and the OMS to a gateway.
struct OrderRequest {
  SymbolName symbol;
  ClientOrderId client_order_id;  // assigned by the OMS (unique per account, survives restarts)
  Side side = Side::buy;
  OrderType type = OrderType::limit;
  TimeInForce tif = TimeInForce::gtc;
  StpMode stp = StpMode::expire_taker;
  Price price;                    // ignored for market orders
  Qty qty;
  std::int64_t created_ns = 0;    // local monotonic stamp when the intent was made (latency)
};

struct CancelRequest {
  SymbolName symbol;
  ClientOrderId client_order_id;       // the cancel's own id
  ClientOrderId orig_client_order_id;  // the order to cancel
  std::uint64_t exchange_order_id = 0; // 0 when not known yet
};

// Cancel-replace (Binance POST /api/v3/order/cancelReplace, FIX OrderCancelReplaceRequest 35=G).
struct ReplaceRequest {
  CancelRequest cancel;
  OrderRequest replacement;
};

// Binance error codes the simulator answers with and the gateways map back.
enum class RejectCode : std::int16_t {
  none = 0,
  unknown = -1000,
  disconnected = -1001,
  too_many_requests = -1003,   // HTTP 429 (request weight) / -1015 too many orders
  too_many_orders = -1015,
  filter_failure = -1013,       // Binance "Filter failure: PRICE_FILTER|LOT_SIZE|NOTIONAL"
  timestamp_outside_recv_window = -1021,
  invalid_signature = -1022,
  illegal_chars = -1100,
  mandatory_param_missing = -1102,
  bad_symbol = -1121,
  invalid_client_order_id = -1130,  // (tickrt: also duplicate client order id)
  new_order_rejected = -2010,
  cancel_rejected = -2011,
  no_such_order = -2013,
  bad_api_key = -2014,
  risk = -30000,                       // tickrt-local: refused by pre-trade risk, never sent
};

// One execution report: Binance's executionReport event / FIX ExecutionReport (35=8), or a
// gateway-local event (send failure, timeout) with exec_type rejected/status and a reject code.
struct ExecReport {
  SymbolName symbol;
  ClientOrderId client_order_id;
  ClientOrderId orig_client_order_id;  // cancels: the order canceled
  std::uint64_t exchange_order_id = 0;
  std::uint64_t trade_id = 0;          // trades only
  Side side = Side::buy;
  OrderType type = OrderType::limit;
  TimeInForce tif = TimeInForce::gtc;
  ExecType exec_type = ExecType::new_;
  OrderStatus status = OrderStatus::new_;
  RejectCode reject = RejectCode::none;
  bool is_maker = false;
  Price price;        // order price
  Qty qty;            // order quantity
  Price last_price;   // this fill
  Qty last_qty;       // this fill
  Qty cum_qty;        // filled so far
  std::int64_t cum_quote_raw = 0;   // sum(price*qty) in 1e-8 quote units (exact)
  std::int64_t commission_raw = 0;  // quote-asset fee of this fill, 1e-8 units (negative = rebate)
  std::int64_t transact_ns = 0;     // exchange time (Binance "T", ms -> ns)
  std::int64_t local_ns = 0;        // local monotonic receive stamp
  std::int64_t request_sent_ns = 0; // first report answering a request: when its last byte was written (exec/gateway.hpp)
};

static_assert(std::is_trivially_copyable_v<OrderRequest>);
static_assert(std::is_trivially_copyable_v<CancelRequest>);
static_assert(std::is_trivially_copyable_v<ExecReport>);

// The order's own fields of a report answering a new-order request (a refusal, a lost answer): symbol,
// client id, side, type, time in force, price, quantity. The caller sets exec_type / status / reject.
inline void set_order_fields(ExecReport& r, const OrderRequest& o) noexcept {
  r.symbol = o.symbol;
  r.client_order_id = o.client_order_id;
  r.side = o.side;
  r.type = o.type;
  r.tif = o.tif;
  r.price = o.price;
  r.qty = o.qty;
}

}  // namespace tickrt::exec
