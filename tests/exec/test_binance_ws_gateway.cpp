// tests/exec/test_binance_ws_gateway.cpp — the OMS over BinanceWsGateway (order entry on the
// WebSocket API /ws-api/v3) against the real simulator venue on loopback (venue_rig.hpp WsRig).
// The fault scenarios it shares with the REST gateway are in test_gateway_faults.cpp.
#include <gtest/gtest.h>

#include "exec/binance_ws_gateway.hpp"
#include "venue_rig.hpp"

namespace tickrt::exec::test {
namespace {

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
