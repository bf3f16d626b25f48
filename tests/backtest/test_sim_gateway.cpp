// The simulated gateway both backtesters share (backtest/sim_gateway.hpp): requests the matching
// engine answers in its return value get the live Binance gateway's report semantics. Regression:
// the bar backtester used to report a refused cancel as status REJECTED (the tick one as NEW),
// and left a refusal without a code unmapped.
#include <gtest/gtest.h>

#include "../sim/sim_test_util.hpp"
#include "backtest/sim_gateway.hpp"

namespace tickrt::backtest {
namespace {

using namespace tickrt::sim::testing;

constexpr sim::AccountId kAcct = 1;

struct Collect final : sim::ReportSink {
  std::vector<exec::ExecReport> got;
  void on_exec_report(sim::AccountId, const exec::ExecReport& r, std::int64_t) override { got.push_back(r); }
};

exec::GatewayRequest new_req(const exec::OrderRequest& o) {
  exec::GatewayRequest g;
  g.op = exec::GatewayOp::new_order;
  g.order = o;
  return g;
}
exec::GatewayRequest cancel_req(const exec::CancelRequest& c, exec::GatewayOp op = exec::GatewayOp::cancel) {
  exec::GatewayRequest g;
  g.op = op;
  g.cancel = c;
  return g;
}

TEST(SimGateway, AcceptedWorkComesThroughTheSinkNotTheAnswer) {
  sim::MatchingEngine me(base_config());
  ASSERT_TRUE(me.status().ok()) << me.status().to_string();
  Collect sink;
  me.set_sink(&sink);
  exec::ExecReport r;
  EXPECT_FALSE(apply_gateway_request(me, kAcct, new_req(order("a1", exec::Side::buy, "100", "1")), 10, r));
  ASSERT_EQ(sink.got.size(), 1u);
  EXPECT_EQ(sink.got[0].exec_type, exec::ExecType::new_);
  EXPECT_FALSE(apply_gateway_request(me, kAcct, cancel_req(cancel_of("a1", "c1")), 20, r));
  ASSERT_EQ(sink.got.size(), 2u);
  EXPECT_EQ(sink.got[1].exec_type, exec::ExecType::canceled);
}

TEST(SimGateway, RefusedOrderIsRejectedWithTheEnginesCode) {
  sim::MatchingEngine me(base_config());
  Collect sink;
  me.set_sink(&sink);
  exec::ExecReport r;
  // A quantity of zero is refused by the engine (Binance -1013 style filter failure).
  ASSERT_TRUE(apply_gateway_request(me, kAcct, new_req(order("bad", exec::Side::buy, "100", "0")), 30, r));
  EXPECT_TRUE(sink.got.empty());
  EXPECT_EQ(r.exec_type, exec::ExecType::rejected);
  EXPECT_EQ(r.status, exec::OrderStatus::rejected);
  EXPECT_NE(r.reject, exec::RejectCode::none);
  EXPECT_EQ(r.client_order_id.view(), "bad");
  EXPECT_EQ(r.transact_ns, 30);
  EXPECT_TRUE(r.orig_client_order_id.empty());  // the OMS reads an empty orig id as "a new order was refused"
}

TEST(SimGateway, RefusedCancelLeavesTheOrderNewWithCancelRejected) {
  sim::MatchingEngine me(base_config());
  Collect sink;
  me.set_sink(&sink);
  exec::ExecReport r;
  ASSERT_TRUE(apply_gateway_request(me, kAcct, cancel_req(cancel_of("never-sent", "c9")), 40, r));
  EXPECT_EQ(r.exec_type, exec::ExecType::rejected);
  EXPECT_EQ(r.status, exec::OrderStatus::new_);  // was REJECTED in the bar backtester
  EXPECT_EQ(r.reject, exec::RejectCode::cancel_rejected);
  EXPECT_EQ(r.orig_client_order_id.view(), "never-sent");
  EXPECT_EQ(r.client_order_id.view(), "c9");
}

TEST(SimGateway, QueryAnswersFoundAndNotFound) {
  sim::MatchingEngine me(base_config());
  Collect sink;
  me.set_sink(&sink);
  exec::ExecReport r;
  ASSERT_FALSE(apply_gateway_request(me, kAcct, new_req(order("q1", exec::Side::sell, "200", "2")), 50, r));
  ASSERT_TRUE(apply_gateway_request(me, kAcct, cancel_req(cancel_of("q1"), exec::GatewayOp::query), 60, r));
  EXPECT_EQ(r.exec_type, exec::ExecType::status);
  EXPECT_EQ(r.status, exec::OrderStatus::new_);
  EXPECT_EQ(r.reject, exec::RejectCode::none);
  EXPECT_EQ(r.qty, qt("2"));
  EXPECT_EQ(r.client_order_id.view(), "q1");
  ASSERT_TRUE(apply_gateway_request(me, kAcct, cancel_req(cancel_of("nope"), exec::GatewayOp::query), 70, r));
  EXPECT_EQ(r.exec_type, exec::ExecType::status);
  EXPECT_EQ(r.reject, exec::RejectCode::no_such_order);
  EXPECT_EQ(r.status, exec::OrderStatus::rejected);
}

}  // namespace
}  // namespace tickrt::backtest
