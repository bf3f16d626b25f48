// The simulator's FIX acceptor against plain QuickFIX initiators (tests/fix/fix_test_util.hpp):
// order lifecycle, asynchronous fills from another counterparty, cancels and cancel rejects,
// status requests, post-only, malformed orders, logon credentials, heartbeats / TestRequest,
// reports generated while the counterparty was away.
#include <gtest/gtest.h>

#include "core/clock.hpp"
#include "fix/acceptor.hpp"
#include "fix_test_util.hpp"

namespace tickrt::fix::test {
namespace {

class AcceptorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    engine_ = std::make_unique<sim::MatchingEngine>(engine_config());
    ASSERT_TRUE(engine_->status().ok()) << engine_->status().to_string();
    AcceptorConfig cfg;
    cfg.store_dir = dir_.sub("acceptor-store");
    if (getenv("FIXLOG")) cfg.log_dir = "/tmp/fixlog";
    cfg.accounts.push_back({"ALICE", 1, "", ""});
    cfg.accounts.push_back({"BOB", 2, "bob", "s3cret"});
    auto a = FixAcceptor::create(cfg, *engine_, mu_);
    ASSERT_TRUE(a.ok()) << a.status().to_string();
    acceptor_ = std::move(a.value());
    ASSERT_TRUE(acceptor_->start().ok());
    ASSERT_NE(acceptor_->port(), 0);
  }
  void TearDown() override {
    alice_.reset();
    bob_.reset();
    if (acceptor_) acceptor_->stop(true);
  }

  std::unique_ptr<TestClient> client(const std::string& comp, const std::string& user = "",
                                     const std::string& pass = "", int hb = 30, const std::string& store = "") {
    TestClient::Options o;
    o.sender = comp;
    o.port = acceptor_->port();
    o.store_dir = store.empty() ? dir_.sub("client-" + comp) : store;
    o.username = user;
    o.password = pass;
    o.heartbeat_s = hb;
    return std::make_unique<TestClient>(o);
  }
  void connect_both() {
    alice_ = client("ALICE");
    bob_ = client("BOB", "bob", "s3cret");
    alice_->start();
    bob_->start();
    ASSERT_TRUE(alice_->wait_logon());
    ASSERT_TRUE(bob_->wait_logon());
  }

  static auto er(const std::string& clid, char exec_type) {
    return [clid, exec_type](const FIX::Message& m) {
      return type_of(m) == "8" && get(m, 11) == clid && get(m, 150) == std::string(1, exec_type);
    };
  }

  TempDir dir_{"acceptor"};
  std::mutex mu_;
  std::unique_ptr<sim::MatchingEngine> engine_;
  std::unique_ptr<FixAcceptor> acceptor_;
  std::unique_ptr<TestClient> alice_, bob_;
};

TEST_F(AcceptorTest, OrderLifecycleNewPartialFillFillCancel) {
  connect_both();
  // Alice rests a sell of 1.0 at 100.
  ASSERT_TRUE(alice_->send(nos("a1", '2', "1", "100")));
  int i = alice_->wait_for(er("a1", '0'));
  ASSERT_GE(i, 0) << "no ExecutionReport New for a1";
  FIX::Message m = alice_->at(i);
  EXPECT_EQ(get(m, 39), "0");
  EXPECT_EQ(get(m, 151), "1");
  EXPECT_EQ(get(m, 14), "0");
  EXPECT_EQ(get(m, 54), "2");
  EXPECT_EQ(get(m, 44), "100");
  const std::string order_id = get(m, 37);
  EXPECT_FALSE(order_id.empty());

  // Bob takes 0.4: Bob's order fills, Alice's partially — Alice's report comes from Bob's flow.
  ASSERT_TRUE(bob_->send(nos("b1", '1', "0.4", "100.5")));
  int j = bob_->wait_for(er("b1", 'F'));
  ASSERT_GE(j, 0);
  m = bob_->at(j);
  EXPECT_EQ(get(m, 39), "2");
  EXPECT_EQ(get(m, 32), "0.4");
  EXPECT_EQ(get(m, 31), "100");  // at the resting price
  EXPECT_EQ(get(m, 851), "2");   // removed liquidity: taker
  i = alice_->wait_for(er("a1", 'F'), i + 1);
  ASSERT_GE(i, 0) << "the resting side got no Trade report";
  m = alice_->at(i);
  EXPECT_EQ(get(m, 39), "1");
  EXPECT_EQ(get(m, 32), "0.4");
  EXPECT_EQ(get(m, 14), "0.4");
  EXPECT_EQ(get(m, 151), "0.6");
  EXPECT_EQ(get(m, 6), "100");
  EXPECT_EQ(get(m, 851), "1");   // maker
  EXPECT_EQ(get(m, 37), order_id);
  EXPECT_FALSE(get(m, 527).empty());  // trade id

  // Bob takes the rest: Alice filled.
  ASSERT_TRUE(bob_->send(nos("b2", '1', "0.6", "100")));
  i = alice_->wait_for(er("a1", 'F'), i + 1);
  ASSERT_GE(i, 0);
  m = alice_->at(i);
  EXPECT_EQ(get(m, 39), "2");
  EXPECT_EQ(get(m, 14), "1");
  EXPECT_EQ(get(m, 151), "0");

  // A second resting order, then canceled.
  ASSERT_TRUE(alice_->send(nos("a2", '1', "0.5", "90")));
  ASSERT_GE(alice_->wait_for(er("a2", '0')), 0);
  ASSERT_TRUE(alice_->send(cancel_req("a2-c", "a2")));
  i = alice_->wait_for(er("a2-c", '4'));
  ASSERT_GE(i, 0) << "no Canceled report";
  m = alice_->at(i);
  EXPECT_EQ(get(m, 41), "a2");
  EXPECT_EQ(get(m, 39), "4");
  EXPECT_EQ(get(m, 151), "0");

  // Canceling it again: OrderCancelReject (the order is closed: too late, status canceled).
  ASSERT_TRUE(alice_->send(cancel_req("a2-c2", "a2")));
  i = alice_->wait_for([](const FIX::Message& x) { return type_of(x) == "9" && get(x, 11) == "a2-c2"; });
  ASSERT_GE(i, 0);
  EXPECT_EQ(get(alice_->at(i), 39), "4");
  EXPECT_EQ(get(alice_->at(i), 434), "1");

  const AcceptorStats st = acceptor_->stats();
  EXPECT_EQ(st.orders, 4u);
  EXPECT_EQ(st.cancels, 2u);
  EXPECT_EQ(st.cancel_rejects, 1u);
  EXPECT_EQ(st.business_rejects, 0u);
}

TEST_F(AcceptorTest, CancelOfUnknownOrderIsOrderCancelReject) {
  connect_both();
  ASSERT_TRUE(alice_->send(cancel_req("c1", "never-sent")));
  const int i = alice_->wait_for([](const FIX::Message& m) { return type_of(m) == "9"; });
  ASSERT_GE(i, 0);
  const FIX::Message m = alice_->at(i);
  EXPECT_EQ(get(m, 11), "c1");
  EXPECT_EQ(get(m, 41), "never-sent");
  EXPECT_EQ(get(m, 102), "1");  // unknown order
  EXPECT_EQ(get(m, 39), "8");
  EXPECT_EQ(get(m, 37), "NONE");
  EXPECT_NE(get(m, 58).find("code=-2011"), std::string::npos) << get(m, 58);
}

TEST_F(AcceptorTest, OrderStatusRequestKnownAndUnknown) {
  connect_both();
  ASSERT_TRUE(alice_->send(nos("s1", '1', "0.25", "95.5")));
  ASSERT_GE(alice_->wait_for(er("s1", '0')), 0);
  FIX::Message h;
  h.getHeader().setField(FIX::MsgType("H"));
  h.setField(11, "s1");
  h.setField(790, "req-1");
  h.setField(55, "BTCUSDT");
  h.setField(54, "1");
  ASSERT_TRUE(alice_->send(h));
  int i = alice_->wait_for(er("s1", 'I'));
  ASSERT_GE(i, 0);
  FIX::Message m = alice_->at(i);
  EXPECT_EQ(get(m, 39), "0");
  EXPECT_EQ(get(m, 790), "req-1");
  EXPECT_EQ(get(m, 44), "95.5");
  EXPECT_EQ(get(m, 151), "0.25");

  h.setField(11, "nope");
  h.setField(790, "req-2");
  ASSERT_TRUE(alice_->send(h));
  i = alice_->wait_for(er("nope", 'I'));
  ASSERT_GE(i, 0);
  m = alice_->at(i);
  EXPECT_EQ(get(m, 39), "8");
  EXPECT_EQ(get(m, 103), "5");
  EXPECT_NE(get(m, 58).find("code=-2013"), std::string::npos);
}

TEST_F(AcceptorTest, CancelReplaceIsOneReplacedReport) {
  connect_both();
  ASSERT_TRUE(alice_->send(nos("r1", '1', "1", "90")));
  ASSERT_GE(alice_->wait_for(er("r1", '0')), 0);
  FIX::Message g = nos("r2", '1', "2", "91");
  g.getHeader().setField(FIX::MsgType("G"));
  g.setField(41, "r1");
  ASSERT_TRUE(alice_->send(g));
  int i = alice_->wait_for(er("r2", '5'));
  ASSERT_GE(i, 0) << "no Replaced report";
  FIX::Message m = alice_->at(i);
  EXPECT_EQ(get(m, 41), "r1");
  EXPECT_EQ(get(m, 39), "0");
  EXPECT_EQ(get(m, 38), "2");
  EXPECT_EQ(get(m, 44), "91");
  EXPECT_EQ(alice_->wait_for(er("r2", '4'), 0, std::chrono::milliseconds(200)), -1) << "Canceled leaked";
  // The replacement trades at its new price.
  ASSERT_TRUE(bob_->send(nos("b1", '2', "2", "91")));
  i = alice_->wait_for(er("r2", 'F'));
  ASSERT_GE(i, 0);
  EXPECT_EQ(get(alice_->at(i), 39), "2");
  // Replacing an order that is gone: 35=9 answering a replace (434=2).
  g.setField(11, "r3");
  g.setField(41, "r1");
  ASSERT_TRUE(alice_->send(g));
  i = alice_->wait_for([](const FIX::Message& x) { return type_of(x) == "9" && get(x, 11) == "r3"; });
  ASSERT_GE(i, 0);
  EXPECT_EQ(get(alice_->at(i), 434), "2");
}

TEST_F(AcceptorTest, PostOnlyThatWouldTakeIsRejected) {
  connect_both();
  ASSERT_TRUE(bob_->send(nos("b1", '2', "1", "100")));
  ASSERT_GE(bob_->wait_for(er("b1", '0')), 0);
  FIX::Message m = nos("a1", '1', "0.1", "100");
  m.setField(18, "6");
  ASSERT_TRUE(alice_->send(m));
  const int i = alice_->wait_for(er("a1", '8'));
  ASSERT_GE(i, 0);
  m = alice_->at(i);
  EXPECT_EQ(get(m, 39), "8");
  EXPECT_NE(get(m, 58).find("code=-2010"), std::string::npos) << get(m, 58);
  // Resting post-only below the ask is accepted.
  m = nos("a2", '1', "0.1", "99");
  m.setField(18, "6");
  ASSERT_TRUE(alice_->send(m));
  ASSERT_GE(alice_->wait_for(er("a2", '0')), 0);
}

TEST_F(AcceptorTest, MalformedNewOrderSingleIsRejectedNamingTheTag) {
  connect_both();
  struct Case {
    std::string name;
    std::function<void(FIX::Message&)> edit;
    std::string expect;
  };
  const std::vector<Case> cases = {
      {"missing price", [](FIX::Message& m) { m.removeField(44); }, "tag 44 (Price) missing"},
      {"bad side", [](FIX::Message& m) { m.setField(54, "9"); }, "tag 54 (Side)"},
      {"qty not a number", [](FIX::Message& m) { m.setField(38, "1.2.3"); }, "tag 38 (OrderQty)"},
      {"zero qty", [](FIX::Message& m) { m.setField(38, "0"); }, "tag 38 (OrderQty)"},
      {"missing symbol", [](FIX::Message& m) { m.removeField(55); }, "tag 55 (Symbol) missing"},
      {"bad ord type", [](FIX::Message& m) { m.setField(40, "P"); }, "tag 40 (OrdType)"},
      {"bad tif", [](FIX::Message& m) { m.setField(59, "7"); }, "tag 59 (TimeInForce)"},
      {"bad transact time", [](FIX::Message& m) { m.setField(60, "yesterday"); }, "tag 60 (TransactTime)"},
      {"missing transact time", [](FIX::Message& m) { m.removeField(60); }, "tag 60 (TransactTime) missing"},
      {"bad exec inst", [](FIX::Message& m) { m.setField(18, "G"); }, "tag 18 (ExecInst)"},
      {"bad clordid", [](FIX::Message& m) { m.setField(11, "has space"); }, "tag 11 (ClOrdID)"},
      {"too precise price", [](FIX::Message& m) { m.setField(44, "100.000000001"); }, "tag 44 (Price)"},
  };
  std::size_t from = 0;
  int n = 0;
  for (const Case& c : cases) {
    FIX::Message m = nos("bad" + std::to_string(n++), '1', "1", "100");
    c.edit(m);
    ASSERT_TRUE(alice_->send(m)) << c.name;
    const int i = alice_->wait_for([](const FIX::Message& x) { return type_of(x) == "j"; }, from);
    ASSERT_GE(i, 0) << c.name << ": no BusinessMessageReject";
    const FIX::Message r = alice_->at(i);
    EXPECT_NE(get(r, 58).find(c.expect), std::string::npos) << c.name << ": text was '" << get(r, 58) << "'";
    EXPECT_EQ(get(r, 372), "D") << c.name;
    EXPECT_FALSE(get(r, 45).empty()) << c.name;
    from = static_cast<std::size_t>(i) + 1;
  }
  // Unsupported message type: 35=j with 380=3.
  FIX::Message q;
  q.getHeader().setField(FIX::MsgType("AF"));
  q.setField(584, "m1");
  q.setField(585, "7");
  ASSERT_TRUE(alice_->send(q));
  const int k = alice_->wait_for([](const FIX::Message& x) { return type_of(x) == "j"; }, from);
  ASSERT_GE(k, 0);
  EXPECT_EQ(get(alice_->at(k), 380), "3");
  // The session is still up and a good order still trades.
  EXPECT_TRUE(alice_->logged_on());
  ASSERT_TRUE(alice_->send(nos("good", '1', "1", "100")));
  EXPECT_GE(alice_->wait_for(er("good", '0')), 0);
  EXPECT_EQ(acceptor_->stats().business_rejects, cases.size() + 1);
  EXPECT_EQ(acceptor_->stats().orders, 1u);
}

TEST_F(AcceptorTest, LogonChecksUsernameAndPassword) {
  auto wrong = client("BOB", "bob", "guess");
  wrong->start();
  EXPECT_FALSE(wrong->wait_logon(std::chrono::milliseconds(1500)));
  EXPECT_TRUE(wait_until([&] { return acceptor_->stats().logons_refused >= 1; }));
  wrong->stop();
  wrong.reset();
  auto right = client("BOB", "bob", "s3cret", 30, dir_.sub("bob-2"));
  right->start();
  EXPECT_TRUE(right->wait_logon());
  // The client sees the acceptor's Logon answer before the acceptor's onLogon has necessarily run.
  EXPECT_TRUE(wait_until([&] { return acceptor_->logged_on("BOB"); }));
}

TEST_F(AcceptorTest, HeartbeatsAndTestRequest) {
  alice_ = client("ALICE", "", "", 1);  // HeartBtInt 1 s
  alice_->start();
  ASSERT_TRUE(alice_->wait_logon());
  FIX::Message tr;
  tr.getHeader().setField(FIX::MsgType("1"));
  tr.setField(112, "probe-42");
  ASSERT_TRUE(alice_->send(tr));
  const int i = alice_->wait_for(
      [](const FIX::Message& m) { return type_of(m) == "0" && get(m, 112) == "probe-42"; });
  EXPECT_GE(i, 0) << "TestRequest not answered by a Heartbeat carrying TestReqID 112";
  // With HeartBtInt 1 the acceptor heartbeats on its own within ~2 s of silence.
  const int hb = alice_->wait_for([](const FIX::Message& m) { return type_of(m) == "0" && get(m, 112).empty(); },
                                  0, std::chrono::milliseconds(4000));
  EXPECT_GE(hb, 0) << "no unsolicited Heartbeat";
  EXPECT_TRUE(alice_->logged_on());
}

TEST_F(AcceptorTest, ReportsWhileDisconnectedArriveAfterReconnect) {
  connect_both();
  ASSERT_TRUE(alice_->send(nos("a1", '2', "1", "100")));
  ASSERT_GE(alice_->wait_for(er("a1", '0')), 0);
  alice_->stop();
  alice_.reset();
  ASSERT_TRUE(wait_until([&] { return !acceptor_->logged_on("ALICE"); }));
  // Alice is away; Bob fills her order. The report is stored in Alice's session.
  ASSERT_TRUE(bob_->send(nos("b1", '1', "1", "100")));
  ASSERT_GE(bob_->wait_for(er("b1", 'F')), 0);
  // Alice comes back with the same store: the gap is resent (PossDup).
  alice_ = client("ALICE");
  alice_->start();
  ASSERT_TRUE(alice_->wait_logon());
  const int i = alice_->wait_for(er("a1", 'F'));
  ASSERT_GE(i, 0) << "the fill made while Alice was away never reached her";
  EXPECT_EQ(get(alice_->at(i), 39), "2");
  EXPECT_EQ(alice_->at(i).getHeader().getField(43), "Y");
}

TEST_F(AcceptorTest, AckDelayFaultDelaysReportsInOrder) {
  connect_both();
  {
    std::lock_guard<std::mutex> lock(mu_);
    sim::FaultConfig f;
    f.ack_delay_ns = 300'000'000;  // 300 ms
    engine_->set_faults(f);
  }
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(alice_->send(nos("d1", '1', "0.1", "90")));
  ASSERT_TRUE(alice_->send(nos("d2", '1', "0", "90")));  // malformed: its 35=j must not overtake d1's New
  EXPECT_EQ(alice_->wait_for(er("d1", '0'), 0, std::chrono::milliseconds(150)), -1) << "report not delayed";
  const int i = alice_->wait_for(er("d1", '0'));
  ASSERT_GE(i, 0);
  const auto waited = std::chrono::steady_clock::now() - t0;
  EXPECT_GE(waited, std::chrono::milliseconds(280));
  const int j = alice_->wait_for([](const FIX::Message& m) { return type_of(m) == "j"; });
  ASSERT_GE(j, 0);
  EXPECT_GT(j, i) << "the business reject overtook the delayed report";
}

TEST_F(AcceptorTest, DisconnectWindowLogsOutAndRefusesLogonUntilItEnds) {
  connect_both();
  {
    std::lock_guard<std::mutex> lock(mu_);
    sim::FaultConfig f;
    const std::int64_t now = wall_ns();
    f.disconnects.push_back({now, now + 60'000'000'000});  // an outage from now on
    engine_->set_faults(f);
  }
  EXPECT_TRUE(wait_until([&] { return !alice_->logged_on() && !bob_->logged_on(); }, std::chrono::milliseconds(1000)));
  EXPECT_FALSE(acceptor_->logged_on("ALICE"));
  // The initiators reconnect every second and are refused while the window is open.
  EXPECT_TRUE(wait_until([&] { return acceptor_->stats().logons_refused >= 1; }, std::chrono::milliseconds(3000)));
  EXPECT_FALSE(alice_->logged_on());
  {
    std::lock_guard<std::mutex> lock(mu_);
    engine_->set_faults(sim::FaultConfig{});  // the outage ends
  }
  EXPECT_TRUE(alice_->wait_logon(std::chrono::milliseconds(5000)));
  ASSERT_TRUE(alice_->send(nos("after", '1', "0.1", "90")));
  EXPECT_GE(alice_->wait_for(er("after", '0')), 0);
}

FIX::Message md_request(const std::string& req_id, char sub, const std::vector<char>& types,
                        const std::vector<std::string>& symbols) {
  FIX::Message m;
  m.getHeader().setField(FIX::MsgType("V"));
  m.setField(262, req_id);
  m.setField(263, std::string(1, sub));
  m.setField(264, "0");
  for (char t : types) {
    FIX::Group g(267, 269);
    g.setField(269, std::string(1, t));
    m.addGroup(g);
  }
  for (const std::string& s : symbols) {
    FIX::Group g(146, 55);
    g.setField(55, s);
    m.addGroup(g);
  }
  return m;
}

// Entries of a 35=W / 35=X as "action:type:price:size" strings (action "-" for W).
std::vector<std::string> md_entries(const FIX::Message& m) {
  std::vector<std::string> out;
  const int n = m.isSetField(268) ? std::stoi(m.getField(268)) : 0;
  for (int i = 1; i <= n; ++i) {
    const FIX::FieldMap& g = m.getGroupRef(i, 268);
    out.push_back((g.isSetField(279) ? g.getField(279) : std::string("-")) + ":" + g.getField(269) + ":" +
                  g.getField(270) + ":" + g.getField(271));
  }
  return out;
}

TEST_F(AcceptorTest, MarketDataSnapshotIncrementalAndReject) {
  connect_both();
  ASSERT_TRUE(alice_->send(nos("m1", '1', "1", "99")));
  ASSERT_TRUE(alice_->send(nos("m2", '2', "2", "101")));
  ASSERT_GE(alice_->wait_for(er("m2", '0')), 0);

  ASSERT_TRUE(bob_->send(md_request("md-1", '1', {'0', '1', '2'}, {"BTCUSDT"})));
  int i = bob_->wait_for([](const FIX::Message& m) { return type_of(m) == "W"; });
  ASSERT_GE(i, 0) << "no snapshot";
  EXPECT_EQ(get(bob_->at(i), 262), "md-1");
  EXPECT_EQ(get(bob_->at(i), 55), "BTCUSDT");
  EXPECT_EQ(md_entries(bob_->at(i)), (std::vector<std::string>{"-:0:99:1", "-:1:101:2"}));

  // A new best bid: one incremental change.
  ASSERT_TRUE(alice_->send(nos("m3", '1', "0.5", "99.5")));
  i = bob_->wait_for([](const FIX::Message& m) { return type_of(m) == "X"; });
  ASSERT_GE(i, 0) << "no incremental refresh";
  EXPECT_EQ(md_entries(bob_->at(i)), (std::vector<std::string>{"1:0:99.5:0.5"}));
  // Bob sells into it: a trade entry and the level's deletion.
  ASSERT_TRUE(bob_->send(nos("b1", '2', "0.5", "99.5")));
  ASSERT_GE(bob_->wait_for(er("b1", 'F')), 0);
  std::vector<std::string> all;
  ASSERT_TRUE(wait_until([&] {
    all.clear();
    for (std::size_t k = 0; k < bob_->count(); ++k) {
      const FIX::Message m = bob_->at(k);
      if (type_of(m) == "X") for (const std::string& e : md_entries(m)) all.push_back(e);
    }
    return std::find(all.begin(), all.end(), "0:2:99.5:0.5") != all.end() &&
           std::find(all.begin(), all.end(), "2:0:99.5:0") != all.end();
  })) << "entries seen: " << ::testing::PrintToString(all);

  // Unsubscribe: later changes are not sent.
  ASSERT_TRUE(bob_->send(md_request("md-1", '2', {'0'}, {"BTCUSDT"})));
  const std::size_t before = bob_->count();
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  ASSERT_TRUE(alice_->send(nos("m4", '1', "0.1", "98")));
  ASSERT_GE(alice_->wait_for(er("m4", '0')), 0);
  EXPECT_EQ(bob_->wait_for([](const FIX::Message& m) { return type_of(m) == "X"; }, before,
                           std::chrono::milliseconds(200)),
            -1);

  // Unknown symbol: MarketDataRequestReject naming it.
  ASSERT_TRUE(bob_->send(md_request("md-2", '0', {'0'}, {"DOGEUSDT"})));
  i = bob_->wait_for([](const FIX::Message& m) { return type_of(m) == "Y"; });
  ASSERT_GE(i, 0);
  EXPECT_EQ(get(bob_->at(i), 262), "md-2");
  EXPECT_NE(get(bob_->at(i), 58).find("DOGEUSDT"), std::string::npos);
  EXPECT_EQ(acceptor_->stats().md_requests, 1u);
}

TEST(AcceptorConfigTest, BadConfigIsAStatusNamingTheField) {
  sim::MatchingEngine engine(engine_config());
  std::mutex mu;
  AcceptorConfig cfg;
  cfg.accounts.push_back({"X", 1, "", ""});
  auto r = FixAcceptor::create(cfg, engine, mu);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("store_dir"), std::string::npos);
  TempDir d("cfg");
  cfg.store_dir = d.sub("s");
  cfg.accounts.push_back({"X", 2, "", ""});
  r = FixAcceptor::create(cfg, engine, mu);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("'X' configured twice"), std::string::npos);
  cfg.accounts.pop_back();
  cfg.host = "not-an-ip";
  r = FixAcceptor::create(cfg, engine, mu);
  ASSERT_TRUE(r.ok());
  const Status st = r.value()->start();
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("not-an-ip"), std::string::npos) << st.message();
}

}  // namespace
}  // namespace tickrt::fix::test
