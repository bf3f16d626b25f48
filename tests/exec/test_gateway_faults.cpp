// tests/exec/test_gateway_faults.cpp — the venue faults every Binance order-entry gateway must ride
// out, run on both (REST: BinanceGateway; WebSocket API: BinanceWsGateway) with the same scenario and
// the same expectations: a lost answer is reported unknown and queried (never assumed), a 429 is
// backed off and resent once, a disconnect reconnects and re-queries the fills made meanwhile.
#include <gtest/gtest.h>

#include <string>
#include <type_traits>

#include "venue_rig.hpp"

namespace tickrt::exec::test {
namespace {

template <class Rig>
class GatewayFaults : public ::testing::Test {};

struct RigNames {
  template <class T>
  static std::string GetName(int) {
    return std::is_same_v<T, TradingRig> ? "Rest" : "WsApi";
  }
};
using Rigs = ::testing::Types<TradingRig, WsRig>;
TYPED_TEST_SUITE(GatewayFaults, Rigs, RigNames);

TYPED_TEST(GatewayFaults, LostAckIsReportedUnknownThenQueried) {
  VenueHost v;
  TypeParam t(v.port);
  v.faults([](sim::FaultConfig& f) { f.lose_ack = 1.0; });
  ClientOrderId a;
  ASSERT_EQ(t.oms->submit(t.order(Side::buy, 45000, 0.1), &a), SubmitResult::ok);
  // The answer never comes (REST: the venue drops the connection; WS API: no answer within
  // request_timeout_ms): outcome unknown, not assumed; then the query resolves it.
  ASSERT_TRUE(t.until([&] { return t.gw->stats().unknown_outcomes >= 1; }));
  v.faults([](sim::FaultConfig& f) { f.lose_ack = 0.0; });
  ASSERT_TRUE(t.until([&] { return t.status(a) == OrderStatus::new_; })) << order_status_name(t.status(a));
  EXPECT_GE(t.oms->counters().queries_sent, 1u);
  EXPECT_NE(t.oms->find(a.view())->exchange_order_id, 0u);
  // A fill while it rests still arrives on the stream, once.
  v.counter(Side::sell, 45000, 0.1);
  ASSERT_TRUE(t.until([&] { return t.status(a) == OrderStatus::filled; }));
  EXPECT_EQ(t.oms->counters().fills, 1u);
}

TYPED_TEST(GatewayFaults, ThrottleBacksOffAndResends) {
  VenueHost v;
  TypeParam t(v.port);
  v.faults([](sim::FaultConfig& f) { f.throttle = 1.0; });
  ClientOrderId a;
  ASSERT_EQ(t.oms->submit(t.order(Side::buy, 45000, 0.1), &a), SubmitResult::ok);
  ASSERT_TRUE(t.until([&] { return t.gw->stats().throttled >= 2; }));
  EXPECT_EQ(t.status(a), OrderStatus::pending_new);  // held, not rejected, not assumed
  v.faults([](sim::FaultConfig& f) { f.throttle = 0.0; });
  ASSERT_TRUE(t.until([&] { return t.status(a) == OrderStatus::new_; }));
  EXPECT_EQ(v.server->counters().orders, 1u);  // reached the engine once
}

TYPED_TEST(GatewayFaults, DisconnectReconnectsAndRequeriesFillsMissedMeanwhile) {
  VenueHost v;
  TypeParam t(v.port);
  ClientOrderId a;
  ASSERT_EQ(t.oms->submit(t.order(Side::buy, 48000, 0.5), &a), SubmitResult::ok);
  ASSERT_TRUE(t.until([&] { return t.status(a) == OrderStatus::new_; }));
  // A 600 ms outage starting now: every session and WebSocket is closed, connections refused.
  const std::int64_t rel = now_ns() - v.started_ns;
  v.faults([&](sim::FaultConfig& f) { f.disconnects = {{rel, rel + 600'000'000}}; });
  // Poke the venue so it notices (its fault tick runs on activity and timers).
  std::this_thread::sleep_for(std::chrono::milliseconds(150));
  v.counter(Side::sell, 48000, 0.2);  // fills us while our stream is down
  ASSERT_TRUE(t.until([&] { return t.gw->stats().reconnects >= 1; }, 3000));
  ASSERT_TRUE(t.until([&] { return t.status(a) == OrderStatus::partially_filled; }, 8000))
      << order_status_name(t.status(a));
  EXPECT_EQ(t.oms->find(a.view())->cum_qty, qt(0.2));
  // After the outage, trading goes on over new connections.
  ClientOrderId b;
  ASSERT_EQ(t.oms->submit(t.order(Side::sell, 60000, 0.1), &b), SubmitResult::ok);
  ASSERT_TRUE(t.until([&] { return t.status(b) == OrderStatus::new_; }, 5000));
  EXPECT_EQ(t.oms->counters().anomalies, 0u);
}

}  // namespace
}  // namespace tickrt::exec::test
