// exec/binance_gateway.hpp — Binance spot gateway: REST order entry + user data stream.
//
// Implements exec::Gateway (gateway.hpp). Who calls: the owner (main thread / recovery) calls
// start/stop/queries; the OMS reaches it only through the rings. One IO thread (started by
// start()) owns every socket used for trading: `rest_connections` persistent keep-alive HTTP/1.1
// connections for order entry and the user-data-stream WebSocket. The blocking queries (recovery)
// use their own connection on the caller's thread.
//
// Wire (Binance spot API, also served by src/venue):
//   new     POST   /api/v3/order   newOrderRespType=FULL (the answer carries the fills, so fills
//                                  arrive with the ack even before the stream reports them)
//   cancel  DELETE /api/v3/order   origClientOrderId (+ orderId when known), newClientOrderId
//   query   GET    /api/v3/order   then GET /api/v3/myTrades?orderId= when executedQty > 0, so the
//                                  OMS receives the fills before the status (exec/oms.hpp)
//   SIGNED: query string + HMAC-SHA256(secret) hex `signature`, `timestamp` (wall ms + offset
//   from GET /api/v3/time), `recvWindow`; header X-MBX-APIKEY.
//   Stream: POST /api/v3/userDataStream -> listenKey, WS <ws_path_prefix><listenKey>,
//   executionReport -> ExecReport; PUT keep-alive every 30 min.
//
// Faults handled (tests/exec/test_binance_venue.cpp exercises each against src/venue):
//  * HTTP 429/418 or code -1003/-1015: the request was not processed; sending pauses for
//    Retry-After seconds (or an exponential backoff from 100 ms when absent) and the request is
//    sent again (counted in GatewayStats::throttled).
//  * -1021 (timestamp outside recvWindow): the server time is read again (GET /api/v3/time) and
//    the request is re-signed and sent again once.
//  * A connection error, EOF or a timeout (request_timeout_ms) while a new order or a cancel is in
//    flight: its outcome is unknown; an ExecReport{status, unknown, disconnected} goes to the OMS,
//    which queries it (never assumed). The connection is re-opened (backoff) on next use.
//  * User stream drop: reconnect (new listenKey) with backoff, then every order the gateway has
//    seen sent and not yet terminal is queried (fills missed while the stream was down come back
//    through myTrades).
//
// Limits: spot only; REST only (the WebSocket API order.place path is binance_ws_gateway.hpp); commissions are taken as
// reported (`n`), whatever the commission asset (real Binance charges buys in the base asset or
// BNB: the OMS's fee figure is then in mixed units); one request in flight per connection
// (per-order ordering is kept by routing every request of one order to the same connection).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include "exec/gateway.hpp"

namespace tickrt::exec {

struct BinanceConfig {
  std::string host = "api.binance.com";
  std::string port = "443";
  bool tls = true;
  std::string ws_host;               // user data stream host ("" = host); stream.binance.com
  std::string ws_port;               // "" = port; 9443 on Binance
  std::string ws_path_prefix = "/ws/";
  std::string api_key;
  std::string secret;
  int recv_window_ms = 5000;
  int request_timeout_ms = 3000;     // no answer within this: outcome unknown
  int rest_connections = 4;          // one request in flight each; orders take an idle one
  bool user_stream = true;
  int max_backoff_ms = 5000;         // reconnect / throttle backoff without Retry-After
  int max_retry_after_ms = 60000;    // Retry-After is honoured up to this (Binance: to the next minute)
  IdleWait idle;
  // Pinned IO thread (idle.cpu >= 0): its idle warm-up (once per ms) also sends the throw-away request
  // into a private loopback connection (send_warm.hpp), so an order's send() finds the kernel path warm.
  bool warm_send = true;
  std::string tls_ca_file;           // "" = system default verify paths
  bool tls_verify = true;
};

class BinanceGateway final : public Gateway {
 public:
  explicit BinanceGateway(BinanceConfig cfg);
  ~BinanceGateway() override;
  BinanceGateway(const BinanceGateway&) = delete;
  BinanceGateway& operator=(const BinanceGateway&) = delete;

  std::string_view name() const noexcept override { return "binance"; }
  Status start(GatewayRings rings) override;
  void stop() noexcept override;
  Result<std::vector<ExecReport>> open_orders(std::string_view symbol) override;
  Result<ExecReport> query_order(std::string_view symbol, std::string_view client_order_id,
                                 std::uint64_t exchange_order_id = 0) override;
  Result<std::vector<ExecReport>> trades(std::string_view symbol, std::uint64_t from_trade_id) override;
  Result<std::vector<Balance>> balances() override;
  GatewayStats stats() const noexcept override;
  std::vector<SendTrace> send_traces() const override;

  // Reads GET /api/v3/time and sets the offset added to `timestamp` (blocking; called by start(),
  // and by the IO thread on a -1021 answer: that blocks order entry for one round trip).
  [[nodiscard]] Status sync_time();
  // Server time offset (ms, server - local wall clock) as last measured.
  std::int64_t clock_offset_ms() const noexcept { return clock_offset_ms_.load(); }

  struct Impl;

 private:
  BinanceConfig cfg_;
  std::unique_ptr<Impl> impl_;
  std::atomic<std::int64_t> clock_offset_ms_{0};
};

// HMAC-SHA256 keyed once: the key's inner and outer pad states are hashed at construction, so a
// signature is two context copies and two short digests (no per-call key setup or allocation).
// One per thread (not thread-safe). Used by both Binance gateways' IO threads.
class BinanceSigner {
 public:
  explicit BinanceSigner(std::string_view secret);
  ~BinanceSigner();
  BinanceSigner(const BinanceSigner&) = delete;
  BinanceSigner& operator=(const BinanceSigner&) = delete;
  // Appends HMAC-SHA256(secret, msg) as 64 lower-case hex characters.
  void append_hex(std::string_view msg, std::string& out);

 private:
  struct State;
  std::unique_ptr<State> s_;
};

// HMAC-SHA256(secret, payload) as 64 lower-case hex characters (exposed for tests).
std::string binance_signature(std::string_view secret, std::string_view payload);

// Parses one user-data-stream message; true and `out` filled for an executionReport, false for
// other events (outboundAccountPosition, ...) or malformed JSON (`*error` says which).
bool parse_execution_report(std::string_view json, ExecReport& out, std::string* error = nullptr);

}  // namespace tickrt::exec
