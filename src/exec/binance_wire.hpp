// exec/binance_wire.hpp — Binance answer -> ExecReport mapping shared by the REST gateway
// (binance_gateway.hpp) and the WebSocket API gateway (binance_ws_gateway.hpp).
//
// Who calls: a gateway's IO thread, after an answer (REST body, or the WS API's `result`, which
// carries the same order object; error answers by HTTP status and Binance code), and to hand its
// reports to the OMS (ReportOutbox). Setup-grade code: parses with simdjson into a thread_local
// parser and appends to a vector (allocates); never called on the trading thread. Implemented in
// binance_gateway.cpp next to the REST gateway's own field helpers (ReportOutbox: here, inline).
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <string_view>
#include <vector>

#include "exec/gateway.hpp"

namespace tickrt::exec::binance_wire {

// The requests both gateways send (one queued work item each).
enum class Request : std::uint8_t { new_order, cancel, query_status, query_trades, listen_key, keepalive };

// What the OMS is told about an error answer to a request (error_report):
//   report   push the report written to `r`: a new order rejected; a cancel rejected (the order stays
//            new; cancel_rejected when Binance gave no known code); a query of an order the exchange
//            does not know (-2013 / -2011): rejected, no_such_order;
//   unknown  a server error (HTTP >= 500) on a new order: it may or may not exist, push the lost-outcome
//            report (unknown_report);
//   carry    query_trades: push the status answer carried with the request, as after its trades;
//   nothing  other query errors (the OMS keeps the order unknown: a later query may resolve it), and
//            listen_key / keepalive, whose retry each gateway does on its own connections.
enum class ErrorAnswer : std::uint8_t { report, unknown, carry, nothing };
ErrorAnswer error_report(Request kind, const GatewayRequest& req, int http, int code, std::int64_t sent_ns,
                         std::int64_t recv_ns, ExecReport& r);
// A cancel's answer -> the canceled report: `r` holds the order's fields from the answer (order_report);
// the ids come from the request (the answer's clientOrderId is the cancel's own).
void cancel_report(const GatewayRequest& req, std::int64_t sent_ns, std::int64_t recv_ns, ExecReport& r);

// order.place / POST /api/v3/order (newOrderRespType=FULL) answer -> the ack (carrying
// request_sent_ns), one trade per `fills` item with running cum_qty, and the final
// expired/canceled report for IOC/FOK remainders. False when `result` is not a JSON object.
bool place_reports(const GatewayRequest& req, std::string_view result, std::int64_t sent_ns, std::int64_t recv_ns,
                   std::vector<ExecReport>& out);
// An order object (order.cancel / order.status answer, openOrders item) -> report with the
// order's fields and clientOrderId (exec_type left for the caller). False when not an object.
bool order_report(std::string_view result, ExecReport& r);
// myTrades array -> trade reports for `carry`'s order, sorted by trade id, running cum_qty.
bool trade_reports(std::string_view result, const ExecReport& carry, std::int64_t recv_ns, std::vector<ExecReport>& out);
// The contract's lost-outcome report (exec/gateway.hpp "Lost outcomes") for a new order
// (`new_order` true: names req.order) or a cancel (names req.cancel.orig_client_order_id).
ExecReport unknown_report(const GatewayRequest& req, bool new_order, std::int64_t local_ns);
// The IO thread's end of the inbound ring (gateway -> OMS). A report the ring has no room for waits,
// and every later one queues behind it, so the OMS still sees them in order and none is lost; flush()
// (each IO loop turn) moves them on as the OMS drains the ring. pushed() / ring_full() are
// GatewayStats::reports_pushed / report_ring_full, readable from any thread.
class ReportOutbox {
 public:
  void push(ReportRing& ring, const ExecReport& r) {
    if (!overflow_.empty() || !ring.try_push(r)) {
      overflow_.push_back(r);
      ring_full_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    pushed_.fetch_add(1, std::memory_order_relaxed);
  }
  void flush(ReportRing& ring) noexcept {
    while (!overflow_.empty() && ring.try_push(overflow_.front())) {
      overflow_.pop_front();
      pushed_.fetch_add(1, std::memory_order_relaxed);
    }
  }
  std::uint64_t pushed() const noexcept { return pushed_.load(std::memory_order_relaxed); }
  std::uint64_t ring_full() const noexcept { return ring_full_.load(std::memory_order_relaxed); }

 private:
  std::deque<ExecReport> overflow_;
  std::atomic<std::uint64_t> pushed_{0}, ring_full_{0};
};

// Binance error code -> RejectCode (unknown for codes the OMS does not name).
RejectCode reject_code(int code);
// STP mode -> Binance `selfTradePreventionMode` value.
std::string_view stp_name(StpMode m);

}  // namespace tickrt::exec::binance_wire
