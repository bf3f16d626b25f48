// tickrt's FIX initiator gateway (fix/gateway.hpp) against the simulator's acceptor: the OMS
// trading over FIX through the gateway rings, a plain QuickFIX counterparty on the other side,
// sequence numbers persisted across a gateway restart, blocking status queries, rejects.
#include <gtest/gtest.h>

#include "core/clock.hpp"
#include "exec/oms.hpp"
#include "fix/acceptor.hpp"
#include "fix/gateway.hpp"
#include "fix_test_util.hpp"

namespace tickrt::fix::test {
namespace {

using namespace tickrt::exec;

class GatewayTest : public ::testing::Test {
 protected:
  void SetUp() override {
    engine_ = std::make_unique<sim::MatchingEngine>(engine_config());
    ASSERT_TRUE(engine_->status().ok());
    AcceptorConfig cfg;
    cfg.store_dir = dir_.sub("acceptor-store");
    cfg.accounts.push_back({"TICKRT", 1, "tk", "pw"});
    cfg.accounts.push_back({"PEER", 2, "", ""});
    auto a = FixAcceptor::create(cfg, *engine_, mu_);
    ASSERT_TRUE(a.ok()) << a.status().to_string();
    acceptor_ = std::move(a.value());
    ASSERT_TRUE(acceptor_->start().ok());
    out_ = std::make_unique<RequestRing>(256);
    in_ = std::make_unique<ReportRing>(256);
  }
  void TearDown() override {
    if (gw_) gw_->stop();
    gw_.reset();
    peer_.reset();
    acceptor_->stop(true);
  }

  FixGatewayConfig gw_config() {
    FixGatewayConfig c;
    c.port = acceptor_->port();
    c.sender_comp_id = "TICKRT";
    c.target_comp_id = "TICKRT-SIM";
    c.username = "tk";
    c.password = "pw";
    c.store_dir = dir_.sub("gateway-store");
    c.idle.spin_ns = 0;         // 2-core CI: do not spin
    c.idle.sleep_ns = 50'000;
    return c;
  }
  void start_gateway() {
    auto g = FixGateway::create(gw_config());
    ASSERT_TRUE(g.ok()) << g.status().to_string();
    gw_ = std::move(g.value());
    const Status st = gw_->start(GatewayRings{out_.get(), in_.get()});
    ASSERT_TRUE(st.ok()) << st.to_string();
  }
  void start_peer() {
    TestClient::Options o;
    o.sender = "PEER";
    o.port = acceptor_->port();
    o.store_dir = dir_.sub("peer-store");
    peer_ = std::make_unique<TestClient>(o);
    peer_->start();
    ASSERT_TRUE(peer_->wait_logon());
  }
  // Pops reports from the inbound ring until pred matches one (returns it) or timeout.
  bool next_report(const std::function<bool(const ExecReport&)>& pred, ExecReport& out,
                   std::chrono::milliseconds timeout = std::chrono::milliseconds(5000)) {
    return wait_until(
        [&] {
          ExecReport r;
          while (in_->try_pop(r)) {
            seen_.push_back(r);
            if (pred(r)) {
              out = r;
              return true;
            }
          }
          return false;
        },
        timeout);
  }
  GatewayRequest new_order(const std::string& id, Side side, const std::string& qty, const std::string& px) {
    GatewayRequest g;
    g.op = GatewayOp::new_order;
    (void)g.order.symbol.assign("BTCUSDT");
    (void)g.order.client_order_id.assign(id);
    g.order.side = side;
    g.order.type = OrderType::limit;
    (void)Qty::parse(qty, g.order.qty);
    (void)Price::parse(px, g.order.price);
    g.enqueue_ns = now_ns();
    return g;
  }

  TempDir dir_{"gateway"};
  std::mutex mu_;
  std::unique_ptr<sim::MatchingEngine> engine_;
  std::unique_ptr<FixAcceptor> acceptor_;
  std::unique_ptr<RequestRing> out_;
  std::unique_ptr<ReportRing> in_;
  std::unique_ptr<FixGateway> gw_;
  std::unique_ptr<TestClient> peer_;
  std::vector<ExecReport> seen_;
};

TEST_F(GatewayTest, OmsTradesOverFixAgainstAQuickFixCounterparty) {
  start_gateway();
  start_peer();
  OmsConfig oc;
  oc.id_prefix = "tk";
  oc.session = 3;
  oc.symbols = {"BTCUSDT"};
  auto o = Oms::create(oc, GatewayRings{out_.get(), in_.get()}, nullptr);
  ASSERT_TRUE(o.ok()) << o.status().to_string();
  Oms& oms = *o.value();

  OrderRequest req;
  (void)req.symbol.assign("BTCUSDT");
  req.side = Side::sell;
  req.type = OrderType::limit;
  req.price = Price::from_int(100);
  req.qty = Qty::from_int(1);
  req.created_ns = now_ns();
  ClientOrderId id;
  ASSERT_EQ(oms.submit(req, &id), SubmitResult::ok);

  std::vector<OmsEvent> events;
  std::vector<ExecReport> reports;
  auto poll_until = [&](const std::function<bool()>& done) {
    return wait_until([&] {
      oms.poll([&](const OmsEvent& ev) {
        events.push_back(ev);
        reports.push_back(*ev.report);
      });
      return done();
    });
  };
  ASSERT_TRUE(poll_until([&] { return oms.find(id.view()) && oms.find(id.view())->status == OrderStatus::new_; }));
  ASSERT_FALSE(reports.empty());
  EXPECT_GT(reports.front().request_sent_ns, 0) << "first answer must carry request_sent_ns";
  EXPECT_GE(reports.front().local_ns, reports.front().request_sent_ns);

  // The QuickFIX counterparty takes 0.4: the OMS sees the fill through the FIX gateway.
  ASSERT_TRUE(peer_->send(nos("peer-1", '1', "0.4", "100")));
  ASSERT_TRUE(poll_until(
      [&] { return oms.find(id.view()) && oms.find(id.view())->status == OrderStatus::partially_filled; }));
  EXPECT_EQ(oms.find(id.view())->cum_qty, Qty::from_raw(40000000));
  EXPECT_EQ(oms.position(0).qty_raw, -40000000);

  // Cancel the rest through the OMS.
  ASSERT_EQ(oms.cancel(id), SubmitResult::ok);
  ASSERT_TRUE(poll_until([&] { return oms.open_orders() == 0; }));
  bool canceled = false;
  for (const ExecReport& r : reports) canceled |= r.exec_type == ExecType::canceled && r.orig_client_order_id == id;
  EXPECT_TRUE(canceled);
  EXPECT_EQ(oms.counters().anomalies, 0u);
  const GatewayStats gs = gw_->stats();
  EXPECT_TRUE(gs.connected);
  EXPECT_EQ(gs.requests_sent, 2u);
  EXPECT_EQ(gs.parse_errors, 0u);
}

TEST_F(GatewayTest, CancelRejectQueryAndBusinessRejectReachTheRing) {
  start_gateway();
  ExecReport r;
  // Cancel of an order the exchange never saw -> rejected cancel (no_such_order family).
  GatewayRequest c;
  c.op = GatewayOp::cancel;
  (void)c.cancel.symbol.assign("BTCUSDT");
  (void)c.cancel.client_order_id.assign("c-1");
  (void)c.cancel.orig_client_order_id.assign("ghost");
  ASSERT_TRUE(out_->try_push(c));
  ASSERT_TRUE(next_report([](const ExecReport& x) { return x.exec_type == ExecType::rejected; }, r));
  EXPECT_EQ(r.orig_client_order_id.view(), "ghost");
  EXPECT_EQ(r.client_order_id.view(), "c-1");
  EXPECT_EQ(r.reject, RejectCode::cancel_rejected);  // Binance -2011 Unknown order sent.

  // Query: a live order and an unknown one (GatewayOp::query answers exec_type status).
  ASSERT_TRUE(out_->try_push(new_order("q-1", Side::buy, "0.1", "90")));
  ASSERT_TRUE(next_report([](const ExecReport& x) { return x.client_order_id.view() == "q-1"; }, r));
  GatewayRequest q;
  q.op = GatewayOp::query;
  (void)q.cancel.symbol.assign("BTCUSDT");
  (void)q.cancel.orig_client_order_id.assign("q-1");
  ASSERT_TRUE(out_->try_push(q));
  ASSERT_TRUE(next_report([](const ExecReport& x) { return x.exec_type == ExecType::status; }, r));
  EXPECT_EQ(r.client_order_id.view(), "q-1");
  EXPECT_EQ(r.status, OrderStatus::new_);
  EXPECT_EQ(r.side, Side::buy);
  (void)q.cancel.orig_client_order_id.assign("q-unknown");
  ASSERT_TRUE(out_->try_push(q));
  ASSERT_TRUE(next_report([](const ExecReport& x) { return x.exec_type == ExecType::status; }, r));
  EXPECT_EQ(r.client_order_id.view(), "q-unknown");
  EXPECT_EQ(r.reject, RejectCode::no_such_order);

  // A malformed order (qty 0: the OMS would refuse it; pushed raw here) -> 35=j -> rejected.
  ASSERT_TRUE(out_->try_push(new_order("bad-1", Side::buy, "0", "90")));
  ASSERT_TRUE(next_report([](const ExecReport& x) { return x.client_order_id.view() == "bad-1"; }, r));
  EXPECT_EQ(r.exec_type, ExecType::rejected);
  EXPECT_EQ(r.status, OrderStatus::rejected);

  // Blocking query_order (recovery path).
  auto known = gw_->query_order("BTCUSDT", "q-1");
  ASSERT_TRUE(known.ok()) << known.status().to_string();
  EXPECT_EQ(known.value().status, OrderStatus::new_);
  EXPECT_EQ(known.value().qty, Qty::from_raw(10000000));
  auto unknown = gw_->query_order("BTCUSDT", "nope");
  ASSERT_TRUE(unknown.ok());
  EXPECT_EQ(unknown.value().reject, RejectCode::no_such_order);
  EXPECT_EQ(gw_->open_orders("BTCUSDT").status().code(), Code::unsupported);
  EXPECT_EQ(gw_->stats().parse_errors, 0u);
}

TEST_F(GatewayTest, SequenceNumbersSurviveARestartWithoutReset) {
  start_gateway();
  ExecReport r;
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(out_->try_push(new_order("s-" + std::to_string(i), Side::buy, "0.1", "80")));
    ASSERT_TRUE(next_report([&](const ExecReport& x) { return x.client_order_id.view() == "s-" + std::to_string(i); }, r));
  }
  gw_->stop();  // Logout, answered
  const int sender_before = gw_->next_sender_seq();
  const int target_before = gw_->next_target_seq();
  gw_.reset();
  // Logon + 3 orders + Logout: at least 5 used.
  EXPECT_GE(sender_before, 6);
  EXPECT_GE(target_before, 6);

  start_gateway();  // same store_dir
  // Logon continued the sequence: it used sender_before, no ResetSeqNumFlag, the acceptor agrees.
  EXPECT_EQ(gw_->next_sender_seq(), sender_before + 1);
  EXPECT_EQ(gw_->next_target_seq(), target_before + 1);
  FIX::Session* acc = FIX::Session::lookupSession(FIX::SessionID("FIX.4.4", "TICKRT-SIM", "TICKRT"));
  ASSERT_NE(acc, nullptr);
  EXPECT_EQ(acc->getExpectedTargetNum(), sender_before + 1);
  // And trading goes on.
  ASSERT_TRUE(out_->try_push(new_order("after", Side::buy, "0.1", "80")));
  ASSERT_TRUE(next_report([](const ExecReport& x) { return x.client_order_id.view() == "after"; }, r));
  EXPECT_EQ(r.exec_type, ExecType::new_);
}

TEST_F(GatewayTest, OutageRejectsUnsentOrdersThenReconnectsAndTrades) {
  start_gateway();
  ExecReport r;
  ASSERT_TRUE(out_->try_push(new_order("o-1", Side::buy, "0.1", "80")));
  ASSERT_TRUE(next_report([](const ExecReport& x) { return x.client_order_id.view() == "o-1"; }, r));
  {
    std::lock_guard<std::mutex> lock(mu_);
    sim::FaultConfig f;
    const std::int64_t now = wall_ns();
    f.disconnects.push_back({now, now + 60'000'000'000});
    engine_->set_faults(f);
  }
  ASSERT_TRUE(wait_until([&] { return !gw_->stats().connected; }));
  // Not logged on: the order is not sent and is reported rejected (disconnected), never lost.
  ASSERT_TRUE(out_->try_push(new_order("o-2", Side::buy, "0.1", "80")));
  ASSERT_TRUE(next_report([](const ExecReport& x) { return x.client_order_id.view() == "o-2"; }, r));
  EXPECT_EQ(r.exec_type, ExecType::rejected);
  EXPECT_EQ(r.reject, RejectCode::disconnected);
  {
    std::lock_guard<std::mutex> lock(mu_);
    engine_->set_faults(sim::FaultConfig{});
  }
  ASSERT_TRUE(wait_until([&] { return gw_->stats().connected; }, std::chrono::milliseconds(5000)));
  EXPECT_GE(gw_->stats().reconnects, 1u);
  ASSERT_TRUE(out_->try_push(new_order("o-3", Side::buy, "0.1", "80")));
  ASSERT_TRUE(next_report([](const ExecReport& x) { return x.client_order_id.view() == "o-3"; }, r));
  EXPECT_EQ(r.exec_type, ExecType::new_);
  EXPECT_EQ(gw_->stats().parse_errors, 0u);
}

TEST_F(GatewayTest, StartFailsNamingTheEndpointWhenNobodyAnswers) {
  FixGatewayConfig c = gw_config();
  c.password = "wrong";  // the acceptor refuses the logon
  c.logon_timeout = std::chrono::milliseconds(800);
  auto g = FixGateway::create(c);
  ASSERT_TRUE(g.ok());
  const Status st = g.value()->start(GatewayRings{out_.get(), in_.get()});
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("127.0.0.1:" + std::to_string(acceptor_->port())), std::string::npos) << st.message();
  c.data_dictionary = "no/such/FIX44.xml";
  auto bad = FixGateway::create(c);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("no/such/FIX44.xml"), std::string::npos);
}

}  // namespace
}  // namespace tickrt::fix::test
