// tests/exec/venue_rig.hpp — the real simulator venue (src/venue around src/sim's engine) on
// loopback, a gateway bound to it (TradingRig: BinanceGateway, REST; WsRig: BinanceWsGateway, the
// WebSocket API) and an OMS (+ optional journal): what the exec tests trade against. Account 1 =
// the test key (ours), account 2 = a counterparty the test drives directly in the engine (on the
// venue's IO thread through run_sync).
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "core/clock.hpp"
#include "exec/binance_gateway.hpp"
#include "exec/binance_ws_gateway.hpp"
#include "exec/journal.hpp"
#include "exec/oms.hpp"
#include "sim/matching_engine.hpp"
#include "venue/venue.hpp"

namespace tickrt::exec::test {

inline Price px(double v) { return Price::from_raw(static_cast<std::int64_t>(v * 1e8 + 0.5)); }
inline Qty qt(double v) { return Qty::from_raw(static_cast<std::int64_t>(v * 1e8 + 0.5)); }

struct VenueHost {
  std::unique_ptr<sim::MatchingEngine> engine;
  std::unique_ptr<venue::VenueServer> server;
  std::uint16_t port = 0;
  std::int64_t started_ns = 0;

  explicit VenueHost(std::int64_t server_time_offset_ms = 0) {
    venue::SimSetup s = venue::default_sim_setup();
    s.venue.port = 0;
    s.venue.captures.clear();
    s.venue.server_time_offset_ms = server_time_offset_ms;
    s.venue.weight_limit_1m = 1'000'000;
    engine = std::make_unique<sim::MatchingEngine>(s.engine);
    server = std::make_unique<venue::VenueServer>(s.venue, *engine);
    started_ns = now_ns();
    const Status st = server->start();
    if (!st.ok()) throw std::runtime_error(st.to_string());
    port = server->port();
  }
  ~VenueHost() { server->stop(); }

  // Counterparty order (account 2) placed directly in the engine.
  void counter(Side side, double price, double qty, StpMode stp = StpMode::none) {
    server->run_sync([&] {
      OrderRequest o;
      o.symbol = SymbolName::from("BTCUSDT");
      o.side = side;
      o.price = px(price);
      o.qty = qt(qty);
      o.stp = stp;
      (void)engine->submit(2, o, now_ns());
    });
  }
  void faults(const std::function<void(sim::FaultConfig&)>& f) {
    server->run_sync([&] {
      sim::FaultConfig c = engine->faults();
      f(c);
      engine->set_faults(c);
    });
  }
  std::vector<sim::Fill> fills_of(sim::AccountId account) {
    std::vector<sim::Fill> out;
    server->run_sync([&] {
      for (const auto& f : engine->fills())
        if (f.account == account) out.push_back(f);
    });
    return out;
  }
};

inline BinanceConfig venue_gateway_config(std::uint16_t port) {
  BinanceConfig c;
  c.host = "127.0.0.1";
  c.port = std::to_string(port);
  c.tls = false;
  c.api_key = venue::kTestApiKey;
  c.secret = venue::kTestSecret;
  c.request_timeout_ms = 1000;
  c.max_backoff_ms = 200;
  c.max_retry_after_ms = 200;
  c.idle.spin_ns = 20'000;
  c.idle.sleep_ns = 50'000;
  return c;
}

// An OMS (+ optional journal) over a gateway of type Gw (BinanceGateway: REST; BinanceWsGateway: the
// WebSocket API), polled by the test thread.
template <class Gw>
struct GatewayRig {
  RequestRing out{1024};
  ReportRing in{4096};
  std::unique_ptr<Gw> gw;
  std::unique_ptr<Oms> oms;
  std::vector<ExecReport> seen;

  GatewayRig(std::unique_ptr<Gw> g, Journal* journal, std::uint32_t session, std::string prefix, bool start)
      : gw(std::move(g)) {
    OmsConfig c;
    c.id_prefix = std::move(prefix);
    c.session = session;
    c.symbols = {"BTCUSDT", "ETHUSDT"};
    auto r = Oms::create(c, {&out, &in}, journal);
    if (!r.ok()) throw std::runtime_error(r.status().to_string());
    oms = std::move(r.value());
    if (start) {
      const Status st = gw->start({&out, &in});
      if (!st.ok()) throw std::runtime_error(st.to_string());
    }
  }
  ~GatewayRig() { gw->stop(); }
  GatewayRig(const GatewayRig&) = delete;
  GatewayRig& operator=(const GatewayRig&) = delete;

  // Polls the OMS until pred() or the timeout; true when pred held.
  bool until(const std::function<bool()>& pred, int timeout_ms = 5000) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (std::chrono::steady_clock::now() < deadline) {
      oms->poll([&](const OmsEvent& e) { seen.push_back(*e.report); });
      if (pred()) return true;
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    oms->poll([&](const OmsEvent& e) { seen.push_back(*e.report); });
    return pred();
  }
  OrderRequest order(Side side, double price, double qty, OrderType type = OrderType::limit,
                     TimeInForce tif = TimeInForce::gtc) {
    OrderRequest o;
    o.symbol = SymbolName::from("BTCUSDT");
    o.side = side;
    o.price = px(price);
    o.qty = qt(qty);
    o.type = type;
    o.tif = tif;
    o.stp = StpMode::none;
    o.created_ns = now_ns();
    return o;
  }
  // Final state of an order: live entry, or the last report seen for it.
  OrderStatus status(const ClientOrderId& id) {
    if (const OrderEntry* e = oms->find(id.view())) return e->status;
    for (auto it = seen.rbegin(); it != seen.rend(); ++it) {
      const ClientOrderId& k = it->orig_client_order_id.empty() ? it->client_order_id : it->orig_client_order_id;
      if (k == id && is_terminal(it->status)) return it->status;
    }
    return OrderStatus::unknown;
  }
};

// Order entry over REST (+ the user data stream).
struct TradingRig : GatewayRig<BinanceGateway> {
  explicit TradingRig(std::uint16_t port, Journal* journal = nullptr, std::uint32_t session = 1, std::string prefix = "tk",
                      bool start = true)
      : GatewayRig(std::make_unique<BinanceGateway>(venue_gateway_config(port)), journal, session, std::move(prefix), start) {}
};

// Order entry over the WebSocket API /ws-api/v3 (+ the user data stream).
struct WsRig : GatewayRig<BinanceWsGateway> {
  explicit WsRig(std::uint16_t port) : GatewayRig(make(port), nullptr, 1, "ws", true) {}
  static std::unique_ptr<BinanceWsGateway> make(std::uint16_t port) {
    BinanceWsConfig c;
    c.base = venue_gateway_config(port);
    return std::make_unique<BinanceWsGateway>(c);
  }
};

}  // namespace tickrt::exec::test
