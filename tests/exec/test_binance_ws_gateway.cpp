// tests/exec/test_binance_ws_gateway.cpp — the OMS over BinanceWsGateway (order entry on the
// WebSocket API /ws-api/v3) against the real simulator venue on loopback (venue_rig.hpp).
#include <gtest/gtest.h>

#include "exec/binance_ws_gateway.hpp"
#include "venue_rig.hpp"

namespace tickrt::exec::test {
namespace {

// The rig of venue_rig.hpp with the WS API gateway in place of the REST one.
struct WsRig {
  RequestRing out{1024};
  ReportRing in{4096};
  std::unique_ptr<BinanceWsGateway> gw;
  std::unique_ptr<Oms> oms;
  std::vector<ExecReport> seen;
  TradingRig helpers;  // only for its order()/until()/status() logic: never started

  explicit WsRig(std::uint16_t port) : helpers(port, nullptr, 1, "unused", /*start=*/false) {
    BinanceWsConfig c;
    c.base = venue_gateway_config(port);
    gw = std::make_unique<BinanceWsGateway>(c);
    OmsConfig oc;
    oc.id_prefix = "ws";
    oc.session = 1;
    oc.symbols = {"BTCUSDT", "ETHUSDT"};
    auto r = Oms::create(oc, {&out, &in}, nullptr);
    if (!r.ok()) throw std::runtime_error(r.status().to_string());
    oms = std::move(r.value());
    const Status st = gw->start({&out, &in});
    if (!st.ok()) throw std::runtime_error(st.to_string());
  }
  ~WsRig() { gw->stop(); }

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
  OrderRequest order(Side side, double price, double qty) { return helpers.order(side, price, qty); }
  OrderStatus status(const ClientOrderId& id) {
    if (const OrderEntry* e = oms->find(id.view())) return e->status;
    for (auto it = seen.rbegin(); it != seen.rend(); ++it) {
      const ClientOrderId& k = it->orig_client_order_id.empty() ? it->client_order_id : it->orig_client_order_id;
      if (k == id && is_terminal(it->status)) return it->status;
    }
    return OrderStatus::unknown;
  }
};

TEST(BinanceWsGateway, NewOrderFillsAndAckCarriesSendStamp) {
  VenueHost v;
  WsRig t(v.port);
  v.counter(Side::sell, 50000, 0.5);
  ClientOrderId a;
  ASSERT_EQ(t.oms->submit(t.order(Side::buy, 50000, 0.5), &a), SubmitResult::ok);
  ASSERT_TRUE(t.until([&] { return t.status(a) == OrderStatus::filled; })) << order_status_name(t.status(a));
  const ExecReport* ack = nullptr;
  ASSERT_TRUE(t.until([&] {
    for (const auto& r : t.seen)
      if (r.client_order_id == a && r.request_sent_ns != 0) ack = &r;
    return ack != nullptr;
  }));
  EXPECT_GT(ack->exchange_order_id, 0u);
  EXPECT_GE(ack->local_ns, ack->request_sent_ns);
  const Position& p = t.oms->position(0);
  EXPECT_EQ(p.qty_raw, qt(0.5).raw);
  EXPECT_EQ(p.avg_price_raw, px(50000).raw);
  // The WS API answer (FULL fills) and the user stream both carried the fill: applied once.
  EXPECT_EQ(t.oms->counters().fills, 1u);
  EXPECT_EQ(v.fills_of(1).size(), 1u);
  EXPECT_EQ(t.oms->counters().anomalies, 0u);
  EXPECT_GE(v.server->counters().ws_api_requests, 2u);  // userDataStream.start + order.place
  const GatewayStats s = t.gw->stats();
  EXPECT_TRUE(s.connected);
  EXPECT_EQ(s.unknown_outcomes, 0u);
  EXPECT_EQ(s.parse_errors, 0u);
}

TEST(BinanceWsGateway, PassiveOrderThenCancel) {
  VenueHost v;
  WsRig t(v.port);
  ClientOrderId a;
  ASSERT_EQ(t.oms->submit(t.order(Side::buy, 40000, 0.2), &a), SubmitResult::ok);
  ASSERT_TRUE(t.until([&] { return t.status(a) == OrderStatus::new_; })) << order_status_name(t.status(a));
  EXPECT_NE(t.oms->find(a.view())->exchange_order_id, 0u);
  EXPECT_EQ(t.oms->open_orders(), 1u);
  ASSERT_EQ(t.oms->cancel(a), SubmitResult::ok);
  ASSERT_TRUE(t.until([&] { return t.status(a) == OrderStatus::canceled; })) << order_status_name(t.status(a));
  EXPECT_EQ(t.oms->open_orders(), 0u);
  // The venue agrees: nothing open for us.
  auto open = t.gw->open_orders("BTCUSDT");
  ASSERT_TRUE(open.ok()) << open.status().to_string();
  EXPECT_TRUE(open.value().empty());
  EXPECT_EQ(t.oms->counters().anomalies, 0u);
}

TEST(BinanceWsGateway, BadQuantityIsRejectedWithBinanceCode) {
  VenueHost v;
  WsRig t(v.port);
  // Quantity off the lot step (BTCUSDT step 0.00001): -1013 filter failure.
  ClientOrderId a;
  ASSERT_EQ(t.oms->submit(t.order(Side::buy, 40000, 0.000001), &a), SubmitResult::ok);
  ASSERT_TRUE(t.until([&] { return t.status(a) == OrderStatus::rejected; })) << order_status_name(t.status(a));
  bool found = false;
  for (const auto& r : t.seen)
    if (r.client_order_id == a && r.exec_type == ExecType::rejected) found = r.reject == RejectCode::filter_failure;
  EXPECT_TRUE(found);
  EXPECT_EQ(t.oms->open_orders(), 0u);
  EXPECT_TRUE(v.fills_of(1).empty());
  // The session stays usable after the error answer.
  ClientOrderId b;
  ASSERT_EQ(t.oms->submit(t.order(Side::buy, 40000, 0.01), &b), SubmitResult::ok);
  ASSERT_TRUE(t.until([&] { return t.status(b) == OrderStatus::new_; })) << order_status_name(t.status(b));
}

TEST(BinanceWsGateway, LostAckIsReportedUnknownThenQueried) {
  VenueHost v;
  WsRig t(v.port);
  v.faults([](sim::FaultConfig& f) { f.lose_ack = 1.0; });
  ClientOrderId a;
  ASSERT_EQ(t.oms->submit(t.order(Side::buy, 45000, 0.1), &a), SubmitResult::ok);
  // No answer within request_timeout_ms: outcome unknown (not assumed), then order.status.
  ASSERT_TRUE(t.until([&] { return t.gw->stats().unknown_outcomes >= 1; }));
  v.faults([](sim::FaultConfig& f) { f.lose_ack = 0.0; });
  ASSERT_TRUE(t.until([&] { return t.status(a) == OrderStatus::new_; })) << order_status_name(t.status(a));
  EXPECT_GE(t.oms->counters().queries_sent, 1u);
  EXPECT_NE(t.oms->find(a.view())->exchange_order_id, 0u);
  // A fill while it rests still arrives on the stream.
  v.counter(Side::sell, 45000, 0.1);
  ASSERT_TRUE(t.until([&] { return t.status(a) == OrderStatus::filled; }));
  EXPECT_EQ(t.oms->counters().fills, 1u);
}

TEST(BinanceWsGateway, ThrottleBacksOffAndResends) {
  VenueHost v;
  WsRig t(v.port);
  v.faults([](sim::FaultConfig& f) { f.throttle = 1.0; });
  ClientOrderId a;
  ASSERT_EQ(t.oms->submit(t.order(Side::buy, 45000, 0.1), &a), SubmitResult::ok);
  ASSERT_TRUE(t.until([&] { return t.gw->stats().throttled >= 2; }));
  EXPECT_EQ(t.status(a), OrderStatus::pending_new);  // held, not rejected, not assumed
  v.faults([](sim::FaultConfig& f) { f.throttle = 0.0; });
  ASSERT_TRUE(t.until([&] { return t.status(a) == OrderStatus::new_; }));
  EXPECT_EQ(v.server->counters().orders, 1u);  // reached the engine once
}

TEST(BinanceWsGateway, DisconnectReconnectsAndRequeriesFillsMissedMeanwhile) {
  VenueHost v;
  WsRig t(v.port);
  ClientOrderId a;
  ASSERT_EQ(t.oms->submit(t.order(Side::buy, 48000, 0.5), &a), SubmitResult::ok);
  ASSERT_TRUE(t.until([&] { return t.status(a) == OrderStatus::new_; }));
  // A 600 ms outage starting now: both WebSockets are closed, connections refused.
  const std::int64_t rel = now_ns() - v.started_ns;
  v.faults([&](sim::FaultConfig& f) { f.disconnects = {{rel, rel + 600'000'000}}; });
  std::this_thread::sleep_for(std::chrono::milliseconds(150));
  v.counter(Side::sell, 48000, 0.2);  // fills us while our stream is down
  ASSERT_TRUE(t.until([&] { return t.gw->stats().reconnects >= 1; }, 3000));
  ASSERT_TRUE(t.until([&] { return t.status(a) == OrderStatus::partially_filled; }, 8000))
      << order_status_name(t.status(a));
  EXPECT_EQ(t.oms->find(a.view())->cum_qty, qt(0.2));
  ClientOrderId b;
  ASSERT_EQ(t.oms->submit(t.order(Side::sell, 60000, 0.1), &b), SubmitResult::ok);
  ASSERT_TRUE(t.until([&] { return t.status(b) == OrderStatus::new_; }, 5000));
  EXPECT_EQ(t.oms->counters().anomalies, 0u);
}

TEST(BinanceWsGateway, StartFailsNamingTheEndpoint) {
  RequestRing out{16};
  ReportRing in{16};
  BinanceWsConfig c;
  c.base = venue_gateway_config(1);  // nothing listens on port 1
  c.base.request_timeout_ms = 200;
  BinanceWsGateway gw(c);
  const Status st = gw.start({&out, &in});
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.to_string().find("127.0.0.1"), std::string::npos) << st.to_string();
}

}  // namespace
}  // namespace tickrt::exec::test
