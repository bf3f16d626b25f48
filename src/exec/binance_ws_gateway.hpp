// exec/binance_ws_gateway.hpp — Binance spot gateway: order entry over the WebSocket API
// (/ws-api/v3) + user data stream.
//
// Implements exec::Gateway (gateway.hpp), like BinanceGateway (binance_gateway.hpp) but new
// orders, cancels and OMS queries go as JSON frames on ONE persistent WebSocket instead of HTTP
// requests: no per-request HTTP framing and no head-of-line wait per connection (many requests
// may be in flight, answers matched by `id`), the lower-latency path Binance offers.
// Who calls: the owner calls start/stop/queries; the OMS reaches it only through the rings. One
// IO thread (started by start()) owns both trading sockets (WS API + user data stream) and is the
// only producer of the inbound ring.
//
// Wire (Binance spot WebSocket API, also served by src/venue):
//   {"id":N,"method":"order.place","params":{...,"apiKey","timestamp","recvWindow","signature"}}
//   order.place   newOrderRespType=FULL (fills come with the ack)
//   order.cancel  origClientOrderId (+ newClientOrderId)
//   order.status  OMS query; then myTrades?orderId when executedQty > 0 (fills before status)
//   signature = HMAC-SHA256(secret, every param but signature sorted by name as k=v joined by &)
//   answer {"id":N,"status":200,"result":{...}} or {"id":N,"status":4xx,"error":{"code","msg"}}
//   user data stream: userDataStream.start (on the WS API) -> listenKey, WS <ws_path_prefix><key>,
//   executionReport -> ExecReport (parse_execution_report); userDataStream.ping every 30 min.
//
// Faults: WS API drop or request_timeout_ms without an answer while a new/cancel is in flight ->
// ExecReport{status, unknown, disconnected} (the OMS queries; never assumed); in-flight queries
// are sent again after the reconnect (backoff up to max_backoff_ms). Throttle (429/418,
// -1003/-1015): pause (Retry-After not available on WS: exponential backoff) and resend.
// -1021: server time re-read (REST GET /api/v3/time, blocking) and the request re-signed once.
// User stream drop: reconnect with backoff, then every live order is queried.
//
// The blocking recovery queries (open_orders, query_order, trades, balances) reuse the REST
// gateway's code on the caller's thread (same host/port/keys: BinanceConfig).
//
// Limits: spot only; one WS API connection (no fail-over to REST); a signature is an HMAC
// computed per request (binance_signature: no cached key pads, ~3 us vs ~0.6 us in the REST
// gateway's cached signer); Ed25519 keys and session.logon are not used.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "exec/binance_gateway.hpp"
#include "exec/gateway.hpp"

namespace tickrt::exec {

struct BinanceWsConfig {
  BinanceConfig base;                  // host/port/tls/keys/timeouts; REST for recovery + time
  std::string ws_api_host;             // "" = base.host; ws-api.binance.com on Binance
  std::string ws_api_port;             // "" = base.port; 443 (or 9443)
  std::string ws_api_path = "/ws-api/v3";
};

class BinanceWsGateway final : public Gateway {
 public:
  explicit BinanceWsGateway(BinanceWsConfig cfg);
  ~BinanceWsGateway() override;
  BinanceWsGateway(const BinanceWsGateway&) = delete;
  BinanceWsGateway& operator=(const BinanceWsGateway&) = delete;

  std::string_view name() const noexcept override { return "binance-ws"; }
  Status start(GatewayRings rings) override;
  void stop() noexcept override;
  Result<std::vector<ExecReport>> open_orders(std::string_view symbol) override;
  Result<ExecReport> query_order(std::string_view symbol, std::string_view client_order_id,
                                 std::uint64_t exchange_order_id = 0) override;
  Result<std::vector<ExecReport>> trades(std::string_view symbol, std::uint64_t from_trade_id) override;
  Result<std::vector<Balance>> balances() override;
  GatewayStats stats() const noexcept override;
  std::vector<SendTrace> send_traces() const override;

  struct Impl;

 private:
  BinanceWsConfig cfg_;
  BinanceGateway rest_;  // never started: its blocking queries and sync_time only
  std::unique_ptr<Impl> impl_;
};

}  // namespace tickrt::exec
