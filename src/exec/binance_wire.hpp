// exec/binance_wire.hpp — Binance answer -> ExecReport mapping shared by the REST gateway
// (binance_gateway.hpp) and the WebSocket API gateway (binance_ws_gateway.hpp).
//
// Who calls: a gateway's IO thread, after a successful answer (REST 200 body, or the WS API's
// `result`, which carries the same order object). Setup-grade code: parses with simdjson into a
// thread_local parser and appends to a vector (allocates); never called on the trading thread.
// Implemented in binance_gateway.cpp next to the REST gateway's own field helpers.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "exec/gateway.hpp"

namespace tickrt::exec::binance_wire {

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
// Binance error code -> RejectCode (unknown for codes the OMS does not name).
RejectCode reject_code(int code);
// STP mode -> Binance `selfTradePreventionMode` value.
std::string_view stp_name(StpMode m);

}  // namespace tickrt::exec::binance_wire
