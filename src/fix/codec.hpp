// fix/codec.hpp — FIX 4.4 <-> tickrt's order vocabulary (exec/order_types.hpp).
//
// Who calls: the simulator's acceptor (fix/acceptor.hpp) decodes NewOrderSingle (35=D),
// OrderCancelRequest (35=F), OrderCancelReplaceRequest (35=G) and OrderStatusRequest (35=H) and
// encodes ExecutionReport (35=8) and OrderCancelReject (35=9); tickrt's initiator gateway
// (fix/gateway.hpp) does the reverse. Both run on QuickFIX / gateway IO threads, never on the
// trading thread: building a FIX::Message allocates.
//
// Decoding never throws on wire input: a missing or bad field is reported as a DecodeError that
// names the tag, its FIX name and what was wrong ("tag 44 (Price) missing: required for
// OrdType=2 (Limit)"); the acceptor answers with a reject carrying that text.
//
// Mapping (tickrt <-> FIX 4.4):
//   Side 54: 1 buy, 2 sell.  OrdType 40: 1 market, 2 limit; limit + ExecInst 18 containing 6
//   (participate don't initiate) = LIMIT_MAKER (post-only).  TimeInForce 59: 1 GTC, 3 IOC,
//   4 FOK; 0 (Day) and absent are GTC (a 24/7 venue has no trading day).
//   ExecType 150: 0 new, 4 canceled, 5 replaced, 8 rejected, F trade, C expired, I status.
//   OrdStatus 39: 0 new, 1 partially filled, 2 filled, 4 canceled, 6 pending cancel,
//   8 rejected, C expired, A pending new.  OrdRejReason 103 / CxlRejReason 102 carry the
//   Binance-style reject code class (unknown symbol 1, unknown order 5/1, duplicate 6, other 99);
//   the Binance code itself travels in Text 58 as "code=-2010 <message>". Trades: the exchange
//   trade id in SecondaryExecID 527 (FIX 4.4 has no TradeID in 35=8), maker/taker in
//   LastLiquidityInd 851 (1 added, 2 removed), the fee in Commission 12 with CommType 13=3.
// Prices and quantities are exact decimals on the wire and in tickrt (1e-8 fixed point).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "exec/order_types.hpp"
#include "fix/quickfix.hpp"

namespace tickrt::fix {

// A decoding failure: the tag (0 = the message as a whole) and a sentence naming it.
struct DecodeError {
  int tag = 0;
  std::string text;
  bool ok() const noexcept { return tag == 0 && text.empty(); }
};

// FIX 4.4 name of a tag this codec uses ("Price" for 44); "?" for others.
std::string_view tag_name(int tag) noexcept;

// ---- values ----------------------------------------------------------------------------------
// Exact decimal, trailing zeros trimmed ("0.5", "100", "-0.00000001").
std::string decimal(std::int64_t raw);
// UTCTimestamp with milliseconds: "YYYYMMDD-HH:MM:SS.sss" from CLOCK_REALTIME ns.
std::string utc_timestamp(std::int64_t wall_ns);
// Parses YYYYMMDD-HH:MM:SS[.s{1,9}] into wall ns. False on any deviation.
bool parse_utc_timestamp(std::string_view s, std::int64_t& wall_ns) noexcept;

char fix_side(exec::Side s) noexcept;
char fix_ord_type(exec::OrderType t) noexcept;   // limit_maker -> '2' (plus 18=6)
char fix_tif(exec::TimeInForce t) noexcept;
char fix_exec_type(exec::ExecType t) noexcept;
char fix_ord_status(exec::OrderStatus s) noexcept;
bool exec_type_from_fix(char c, exec::ExecType& out) noexcept;
bool ord_status_from_fix(char c, exec::OrderStatus& out) noexcept;

// ---- requests (initiator encodes, acceptor decodes) -------------------------------------------
FIX::Message encode_new_order(const exec::OrderRequest& req, std::int64_t wall_ns);
FIX::Message encode_cancel(const exec::CancelRequest& req, exec::Side side, std::int64_t wall_ns);
// ClOrdID 11 = req.client_order_id (a fresh id for the query), OrigClOrdID 41 = the order.
FIX::Message encode_status_request(const exec::CancelRequest& req, exec::Side side);

DecodeError decode_new_order(const FIX::Message& m, exec::OrderRequest& out);
DecodeError decode_cancel(const FIX::Message& m, exec::CancelRequest& out);
DecodeError decode_replace(const FIX::Message& m, exec::ReplaceRequest& out);
// 35=H: out.orig_client_order_id = the order asked about (tag 11 in FIX 4.4's
// OrderStatusRequest names the order itself), exchange_order_id from 37 when present.
DecodeError decode_status_request(const FIX::Message& m, exec::CancelRequest& out);

// ---- reports (acceptor encodes, initiator decodes) -------------------------------------------
// text: Text 58 (empty = none). exec_id: ExecID 17, unique per acceptor lifetime and restart.
FIX::Message encode_execution_report(const exec::ExecReport& r, std::string_view exec_id, std::string_view text,
                                     std::int64_t wall_ns);
// OrderCancelReject: the cancel (or replace when replace = true) named cancel_id for the order
// orig_id; order_status = that order's status (rejected when unknown); reason 102: 1 unknown order,
// 0 too late, 99 other.
FIX::Message encode_cancel_reject(std::string_view cancel_id, std::string_view orig_id,
                                  std::uint64_t exchange_order_id, exec::OrderStatus order_status, int reason,
                                  bool replace, std::string_view text);

// 35=8 -> ExecReport (local_ns left to the caller). A report the OMS cannot use is an error
// naming the tag.
DecodeError decode_execution_report(const FIX::Message& m, exec::ExecReport& out);
// 35=9 -> ExecReport{exec_type rejected, reject cancel_rejected or no_such_order, status of the
// order as the acceptor reported it, client_order_id = the cancel's id, orig = the order}.
DecodeError decode_cancel_reject(const FIX::Message& m, exec::ExecReport& out);

// Binance-style code carried in Text 58 as "code=<n> ..." (RejectCode::unknown when absent).
exec::RejectCode reject_code_from_text(std::string_view text) noexcept;

}  // namespace tickrt::fix
