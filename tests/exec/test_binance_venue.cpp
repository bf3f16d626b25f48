// tests/exec/test_binance_venue.cpp — the Binance gateway + OMS against the real simulator venue
// on loopback: full lifecycle over REST and the user data stream, rejects, -1021 resync, restart
// recovery (and failing closed). Lost acks, 429 backoff, disconnect + re-query: test_gateway_faults.cpp
// (the same scenarios on the WebSocket API gateway).
#include <gtest/gtest.h>

#include <filesystem>
#include <unistd.h>

#include "exec/binance_wire.hpp"
#include "exec/recovery.hpp"
#include "venue_rig.hpp"

using namespace tickrt;
using namespace tickrt::exec;
using namespace tickrt::exec::test;

namespace {

std::string temp_db(const std::string& name) {
  const auto dir = std::filesystem::temp_directory_path() / ("tickrt_exec_v_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto p = dir / name;
  for (const char* suf : {"", "-wal", "-shm"}) std::filesystem::remove(p.string() + suf);
  return p.string();
}

}  // namespace

TEST(BinanceSignature, MatchesBinanceDocumentationExample) {
  // The example of Binance's "SIGNED endpoint security" documentation.
  const std::string secret = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j";
  const std::string payload =
      "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559";
  EXPECT_EQ(binance_signature(secret, payload), "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71");
}

TEST(BinanceParse, ExecutionReportFieldsAndGarbage) {
  const char* msg =
      R"({"e":"executionReport","E":1,"s":"BTCUSDT","c":"tk-1-2","S":"SELL","o":"LIMIT","f":"GTC","q":"1.50000000",)"
      R"("p":"50000.10000000","C":"tk-1-1","x":"TRADE","X":"PARTIALLY_FILLED","i":77,"l":"0.5","z":"0.50000000",)"
      R"("L":"50000.1","n":"0.025","N":"USDT","T":1700000000123,"t":991,"m":true,"Z":"25000.05"})";
  ExecReport r;
  ASSERT_TRUE(parse_execution_report(msg, r));
  EXPECT_EQ(r.client_order_id.view(), "tk-1-2");
  EXPECT_EQ(r.orig_client_order_id.view(), "tk-1-1");
  EXPECT_EQ(r.side, Side::sell);
  EXPECT_EQ(r.exec_type, ExecType::trade);
  EXPECT_EQ(r.status, OrderStatus::partially_filled);
  EXPECT_EQ(r.exchange_order_id, 77u);
  EXPECT_EQ(r.trade_id, 991u);
  EXPECT_EQ(r.last_qty, qt(0.5));
  EXPECT_EQ(r.last_price.raw, 5000010000000);
  EXPECT_EQ(r.commission_raw, 2500000);
  EXPECT_EQ(r.transact_ns, 1700000000123000000);
  EXPECT_TRUE(r.is_maker);
  std::string err;
  EXPECT_FALSE(parse_execution_report("{not json", r, &err));
  EXPECT_FALSE(err.empty());
  err.clear();
  EXPECT_FALSE(parse_execution_report(R"({"e":"outboundAccountPosition"})", r, &err));
  EXPECT_TRUE(err.empty());  // another event, not an error
  EXPECT_FALSE(parse_execution_report(R"({"e":"executionReport","s":"BTCUSDT"})", r, &err));
}

// The error-answer mapping both gateways (REST and WS API) use: what the OMS is told per request kind.
TEST(BinanceWire, ErrorAnswersMapToReportsPerRequestKind) {
  using binance_wire::ErrorAnswer;
  using binance_wire::Request;
  GatewayRequest g;
  g.order.symbol = SymbolName::from("BTCUSDT");
  (void)g.order.client_order_id.assign("tk-1-5");
  g.order.side = Side::sell;
  g.order.type = OrderType::limit;
  g.order.tif = TimeInForce::ioc;
  g.order.price = px(50000);
  g.order.qty = qt(0.25);
  g.cancel.symbol = SymbolName::from("BTCUSDT");
  (void)g.cancel.client_order_id.assign("tk-1-6");
  (void)g.cancel.orig_client_order_id.assign("tk-1-5");
  ExecReport r;
  // New order refused (-1013 filter failure): rejected, the order's fields all carried (tif too).
  ASSERT_EQ(binance_wire::error_report(Request::new_order, g, 400, -1013, 11, 22, r), ErrorAnswer::report);
  EXPECT_EQ(r.exec_type, ExecType::rejected);
  EXPECT_EQ(r.status, OrderStatus::rejected);
  EXPECT_EQ(r.reject, RejectCode::filter_failure);
  EXPECT_EQ(r.client_order_id.view(), "tk-1-5");
  EXPECT_EQ(r.side, Side::sell);
  EXPECT_EQ(r.tif, TimeInForce::ioc);
  EXPECT_EQ(r.price, px(50000));
  EXPECT_EQ(r.qty, qt(0.25));
  EXPECT_EQ(r.request_sent_ns, 11);
  EXPECT_EQ(r.local_ns, 22);
  // A server error: the order may exist: the lost-outcome path, nothing assumed.
  EXPECT_EQ(binance_wire::error_report(Request::new_order, g, 503, -1001, 11, 22, r), ErrorAnswer::unknown);
  // Cancel refused with a code the OMS does not name: cancel_rejected, the order still new.
  ASSERT_EQ(binance_wire::error_report(Request::cancel, g, 400, -9999, 11, 22, r), ErrorAnswer::report);
  EXPECT_EQ(r.reject, RejectCode::cancel_rejected);
  EXPECT_EQ(r.status, OrderStatus::new_);
  EXPECT_EQ(r.client_order_id.view(), "tk-1-6");
  EXPECT_EQ(r.orig_client_order_id.view(), "tk-1-5");
  // Query of an order the exchange does not know: rejected / no_such_order; another query error: nothing.
  ASSERT_EQ(binance_wire::error_report(Request::query_status, g, 400, -2013, 11, 22, r), ErrorAnswer::report);
  EXPECT_EQ(r.reject, RejectCode::no_such_order);
  EXPECT_EQ(r.status, OrderStatus::rejected);
  EXPECT_EQ(r.client_order_id.view(), "tk-1-5");
  EXPECT_EQ(binance_wire::error_report(Request::query_status, g, 500, -1001, 11, 22, r), ErrorAnswer::nothing);
  EXPECT_EQ(binance_wire::error_report(Request::query_trades, g, 400, -1100, 11, 22, r), ErrorAnswer::carry);
  EXPECT_EQ(binance_wire::error_report(Request::listen_key, g, 400, -1100, 11, 22, r), ErrorAnswer::nothing);
  // A cancel's answer: canceled, the ids from the request.
  ExecReport c;
  binance_wire::cancel_report(g, 11, 22, c);
  EXPECT_EQ(c.exec_type, ExecType::canceled);
  EXPECT_EQ(c.status, OrderStatus::canceled);
  EXPECT_EQ(c.client_order_id.view(), "tk-1-6");
  EXPECT_EQ(c.orig_client_order_id.view(), "tk-1-5");
}

// A full inbound ring never drops or reorders a report: the rest wait and follow as the OMS drains.
TEST(BinanceWire, ReportOutboxKeepsOrderWhenTheRingIsFull) {
  ReportRing ring(4);
  binance_wire::ReportOutbox box;
  for (std::uint64_t i = 0; i < 10; ++i) {
    ExecReport r;
    r.trade_id = i;
    box.push(ring, r);
  }
  EXPECT_EQ(box.pushed(), ring.size());
  EXPECT_EQ(box.pushed() + box.ring_full(), 10u);
  std::vector<std::uint64_t> seen;
  ExecReport r;
  for (int turn = 0; turn < 10 && seen.size() < 10; ++turn) {
    while (ring.try_pop(r)) seen.push_back(r.trade_id);
    box.flush(ring);
  }
  ASSERT_EQ(seen.size(), 10u);
  for (std::uint64_t i = 0; i < 10; ++i) EXPECT_EQ(seen[i], i);
  EXPECT_EQ(box.pushed(), 10u);
  // Once drained, a report goes straight into the ring again.
  ExecReport late;
  late.trade_id = 99;
  box.push(ring, late);
  ASSERT_TRUE(ring.try_pop(r));
  EXPECT_EQ(r.trade_id, 99u);
}

TEST(BinanceVenue, LifecycleNewPartialFilledCancelAndPnl) {
  VenueHost v;
  TradingRig t(v.port);
  ClientOrderId bid;
  ASSERT_EQ(t.oms->submit(t.order(Side::buy, 50000, 1), &bid), SubmitResult::ok);
  ASSERT_TRUE(t.until([&] { return t.status(bid) == OrderStatus::new_; })) << order_status_name(t.status(bid));
  const OrderEntry* e = t.oms->find(bid.view());
  ASSERT_NE(e, nullptr);
  EXPECT_NE(e->exchange_order_id, 0u);
  // The ack carries the encode-and-send stamp (t2 >= t1 = enqueue).
  // (The stream's NEW may come before the REST answer: wait for the answer.)
  const ExecReport* ack = nullptr;
  ASSERT_TRUE(t.until([&] {
    for (const auto& r : t.seen)
      if (r.client_order_id == bid && r.request_sent_ns != 0) ack = &r;
    return ack != nullptr;
  }));
  EXPECT_GE(ack->request_sent_ns, e->enqueue_ns);
  EXPECT_GE(ack->local_ns, ack->request_sent_ns);

  v.counter(Side::sell, 50000, 0.4);
  ASSERT_TRUE(t.until([&] { return t.status(bid) == OrderStatus::partially_filled; }));
  EXPECT_EQ(t.oms->find(bid.view())->cum_qty, qt(0.4));
  v.counter(Side::sell, 49000, 0.6);  // trades at the resting price 50000
  ASSERT_TRUE(t.until([&] { return t.status(bid) == OrderStatus::filled; }));
  const Position& p = t.oms->position(0);
  EXPECT_EQ(p.qty_raw, qt(1).raw);
  EXPECT_EQ(p.avg_price_raw, px(50000).raw);
  EXPECT_EQ(p.fees_raw, px(50).raw);  // 10 bps maker of 50000 quote
  // The stream and the REST answer both carried copies: each fill applied once.
  EXPECT_EQ(t.oms->counters().fills, 2u);

  // Sell it back above: resting ask, cancel half-way.
  ClientOrderId ask;
  ASSERT_EQ(t.oms->submit(t.order(Side::sell, 51000, 1), &ask), SubmitResult::ok);
  ASSERT_TRUE(t.until([&] { return t.status(ask) == OrderStatus::new_; }));
  v.counter(Side::buy, 51000, 0.25);
  ASSERT_TRUE(t.until([&] { return t.status(ask) == OrderStatus::partially_filled; }));
  ASSERT_EQ(t.oms->cancel(ask), SubmitResult::ok);
  ASSERT_TRUE(t.until([&] { return t.status(ask) == OrderStatus::canceled; }));
  EXPECT_EQ(t.oms->open_orders(), 0u);
  EXPECT_EQ(p.qty_raw, qt(0.75).raw);
  EXPECT_EQ(p.realized_raw, px(250).raw);  // 0.25 * (51000 - 50000)
  t.oms->mark(0, px(50500));
  EXPECT_EQ(p.unrealized_raw(), px(375).raw);

  // Our fills equal the venue's ledger for account 1.
  const auto ledger = v.fills_of(1);
  EXPECT_EQ(ledger.size(), 3u);
  EXPECT_EQ(t.oms->counters().anomalies, 0u);

  // IOC taker that expires partly: 0.1 available at 52000.
  v.counter(Side::sell, 52000, 0.1);
  ClientOrderId ioc;
  ASSERT_EQ(t.oms->submit(t.order(Side::buy, 52000, 0.3, OrderType::limit, TimeInForce::ioc), &ioc), SubmitResult::ok);
  ASSERT_TRUE(t.until([&] { return t.status(ioc) == OrderStatus::expired; }));
  EXPECT_EQ(p.qty_raw, qt(0.85).raw);
}

TEST(BinanceVenue, RejectsCarryBinanceCodes) {
  VenueHost v;
  TradingRig t(v.port);
  // Price not on the 0.01 tick: -1013 filter failure.
  ClientOrderId a;
  ASSERT_EQ(t.oms->submit(t.order(Side::buy, 100.001, 1), &a), SubmitResult::ok);
  ASSERT_TRUE(t.until([&] { return t.status(a) == OrderStatus::rejected; }));
  bool found = false;
  for (const auto& r : t.seen)
    if (r.client_order_id == a && r.exec_type == ExecType::rejected) found = r.reject == RejectCode::filter_failure;
  EXPECT_TRUE(found);
  // Insufficient balance: buy 10 BTC at 50000 with 100000 USDT -> -2010.
  ClientOrderId b;
  ASSERT_EQ(t.oms->submit(t.order(Side::buy, 50000, 10), &b), SubmitResult::ok);
  ASSERT_TRUE(t.until([&] { return t.status(b) == OrderStatus::rejected; }));
  // Cancel of an order the exchange already finished (-2011): OMS asks, never assumes.
  ClientOrderId c;
  v.counter(Side::sell, 40000, 0.01);
  ASSERT_EQ(t.oms->submit(t.order(Side::buy, 40000, 0.01), &c), SubmitResult::ok);
  ASSERT_TRUE(t.until([&] { return t.status(c) == OrderStatus::filled; }));
  EXPECT_EQ(t.oms->cancel(c), SubmitResult::no_such_order);  // already closed locally
  EXPECT_EQ(t.oms->counters().anomalies, 0u);
}

TEST(BinanceVenue, ClockResyncOnMinus1021) {
  VenueHost v(/*server_time_offset_ms=*/120'000);
  BinanceGateway gw(venue_gateway_config(v.port));
  // Not started: the offset is 0, the venue's clock is 2 minutes ahead: -1021, resync, retry.
  auto q = gw.query_order("BTCUSDT", "tk-1-404");
  ASSERT_TRUE(q.ok()) << q.status().to_string();
  EXPECT_EQ(q.value().reject, RejectCode::no_such_order);
  EXPECT_EQ(gw.stats().clock_resyncs, 1u);
  EXPECT_NEAR(static_cast<double>(gw.clock_offset_ms()), 120000.0, 2000.0);
}

TEST(BinanceVenue, RestartRecoveryAppliesFillsMadeWhileDown) {
  VenueHost v;
  const std::string path = temp_db("recover.db");
  ClientOrderId a, b, c;
  {
    auto j = Journal::open(path);
    ASSERT_TRUE(j.ok());
    auto s = j.value()->begin_session("tk");
    ASSERT_TRUE(s.ok());
    TradingRig t(v.port, j.value().get(), s.value());
    ASSERT_EQ(t.oms->submit(t.order(Side::buy, 47000, 1), &a), SubmitResult::ok);
    ASSERT_EQ(t.oms->submit(t.order(Side::sell, 53000, 0.5), &b), SubmitResult::ok);
    ASSERT_EQ(t.oms->submit(t.order(Side::buy, 46000, 0.3), &c), SubmitResult::ok);
    ASSERT_TRUE(t.until([&] { return t.oms->open_orders() == 3 && t.status(a) == OrderStatus::new_ &&
                                     t.status(b) == OrderStatus::new_ && t.status(c) == OrderStatus::new_; }));
    v.counter(Side::sell, 47000, 0.4);
    ASSERT_TRUE(t.until([&] { return t.status(a) == OrderStatus::partially_filled; }));
    ASSERT_EQ(t.oms->cancel(c), SubmitResult::ok);
    // The exchange cancels it, but we "crash" before processing the answer.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    bool gone = false;
    while (!gone && std::chrono::steady_clock::now() < deadline) {
      v.server->run_sync([&] {
        auto st = v.engine->query(1, SymbolName::from("BTCUSDT"), c);
        gone = st && st->status == OrderStatus::canceled;
      });
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    ASSERT_TRUE(gone);
    ASSERT_EQ(t.oms->find(c.view())->status, OrderStatus::pending_cancel);
    t.gw->stop();
    j.value()->close();
  }
  // While down: a fills completely, b half.
  v.counter(Side::sell, 47000, 0.6);
  v.counter(Side::buy, 53000, 0.25);

  auto j = Journal::open(path);
  ASSERT_TRUE(j.ok());
  auto jc = j.value()->load();
  ASSERT_TRUE(jc.ok());
  auto s = j.value()->begin_session("tk");
  ASSERT_TRUE(s.ok());
  TradingRig t(v.port, j.value().get(), s.value(), "tk", /*start=*/false);
  RecoveryReport rep;
  ASSERT_TRUE(replay_journal(jc.value(), *t.oms, rep).ok());
  RecoveryConfig rc;
  rc.full_trade_history = true;
  ASSERT_TRUE(reconcile(jc.value(), *t.oms, *t.gw, j.value().get(), rc, rep).ok());
  EXPECT_TRUE(rep.ok) << rep.summary();
  EXPECT_FALSE(t.oms->halted());
  EXPECT_EQ(rep.fills_recovered, 2u) << rep.summary();
  EXPECT_EQ(t.oms->find(a.view()), nullptr);  // filled
  ASSERT_NE(t.oms->find(b.view()), nullptr);
  EXPECT_EQ(t.oms->find(b.view())->status, OrderStatus::partially_filled);
  EXPECT_EQ(t.oms->find(c.view()), nullptr);  // the cancel took effect on the exchange
  const Position& p = t.oms->position(0);
  EXPECT_EQ(p.bought_raw, qt(1).raw);
  EXPECT_EQ(p.sold_raw, qt(0.25).raw);
  // New orders use the new session's ids.
  ASSERT_TRUE(t.gw->start({&t.out, &t.in}).ok());
  ClientOrderId d;
  ASSERT_EQ(t.oms->submit(t.order(Side::buy, 40000, 0.01), &d), SubmitResult::ok);
  EXPECT_EQ(d.view(), "tk-" + std::to_string(s.value()) + "-1");
  ASSERT_TRUE(t.until([&] { return t.status(d) == OrderStatus::new_; }));
  // The journal's fill ledger now equals the venue's.
  ASSERT_TRUE(j.value()->flush().ok());
  auto jc2 = j.value()->load();
  ASSERT_TRUE(jc2.ok());
  std::size_t journal_fills = 0;
  for (const auto& r : jc2.value().records) journal_fills += r.kind == JournalKind::fill;
  EXPECT_EQ(journal_fills, v.fills_of(1).size());
}

TEST(BinanceVenue, RecoveryFailsClosedOnAnOrderTheJournalNeverSaw) {
  VenueHost v;
  const std::string path = temp_db("failclosed.db");
  auto j = Journal::open(path);
  ASSERT_TRUE(j.ok());
  auto s = j.value()->begin_session("tk");
  ASSERT_TRUE(s.ok());
  // An order with our prefix from a session the journal never began (another process with the same
  // prefix, or a restored-from-backup journal): must not be adopted.
  v.server->run_sync([&] {
    OrderRequest o;
    o.symbol = SymbolName::from("BTCUSDT");
    o.client_order_id = ClientOrderId::from("tk-99-1");
    o.side = Side::buy;
    o.price = px(30000);
    o.qty = qt(0.01);
    (void)v.engine->submit(1, o, now_ns());
  });
  auto jc = j.value()->load();
  ASSERT_TRUE(jc.ok());
  TradingRig t(v.port, j.value().get(), s.value(), "tk", false);
  RecoveryReport rep;
  ASSERT_TRUE(replay_journal(jc.value(), *t.oms, rep).ok());
  ASSERT_TRUE(reconcile(jc.value(), *t.oms, *t.gw, j.value().get(), RecoveryConfig{}, rep).ok());
  EXPECT_FALSE(rep.ok);
  EXPECT_TRUE(t.oms->halted());
  ASSERT_FALSE(rep.mismatches.empty());
  EXPECT_NE(rep.mismatches[0].find("tk-99-1"), std::string::npos) << rep.summary();
  EXPECT_EQ(t.oms->submit(t.order(Side::buy, 30000, 0.01)), SubmitResult::halted);
}

TEST(BinanceVenue, CancelAllTakesEveryOpenOrderDown) {
  VenueHost v;
  TradingRig t(v.port);
  std::vector<ClientOrderId> ids(6);
  for (int i = 0; i < 6; ++i)
    ASSERT_EQ(t.oms->submit(t.order(i % 2 ? Side::sell : Side::buy, i % 2 ? 60000 + i : 40000 - i, 0.01), &ids[i]),
              SubmitResult::ok);
  ASSERT_TRUE(t.until([&] {
    for (const auto& id : ids)
      if (t.status(id) != OrderStatus::new_) return false;
    return true;
  }));
  std::size_t not_sent = 99;
  EXPECT_EQ(t.oms->cancel_all(-1, &not_sent), 6u);
  EXPECT_EQ(not_sent, 0u);
  ASSERT_TRUE(t.until([&] { return t.oms->open_orders() == 0; }));
  for (const auto& id : ids) EXPECT_EQ(t.status(id), OrderStatus::canceled) << id.view();
  std::vector<sim::OrderState> open;
  v.server->run_sync([&] { v.engine->open_orders(1, nullptr, open); });
  EXPECT_TRUE(open.empty());
}

namespace tickrt::exec::test {
namespace {

// A pinned IO thread idles between orders; with warm_send (the default) its once-per-ms warm-up also
// sends the throw-away request into a private loopback connection (send_warm.hpp). The warm-ups run,
// none of them reaches the venue (it sees only the real order and its cancel), and orders still work.
TEST(BinanceVenue, PinnedGatewayWarmsItsSendPathWithoutTouchingTheVenue) {
  for (const bool warm : {true, false}) {
    VenueHost v;
    BinanceConfig c = venue_gateway_config(v.port);
    c.idle.cpu = 0;  // pinned: spins, warms once per ms of idleness
    c.warm_send = warm;
    TradingRig t(v.port, nullptr, 1, "tk", /*start=*/false);
    t.gw = std::make_unique<BinanceGateway>(c);
    ASSERT_TRUE(t.gw->start({&t.out, &t.in}).ok());
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
    const std::uint64_t warmed = t.gw->stats().warm_sends;
    if (warm) EXPECT_GE(warmed, 5u) << "30 ms idle should give ~30 warm-ups";
    else EXPECT_EQ(warmed, 0u);
    ClientOrderId id;
    ASSERT_EQ(t.oms->submit(t.order(Side::buy, 40000, 0.01), &id), SubmitResult::ok);
    ASSERT_TRUE(t.until([&] { return t.status(id) == OrderStatus::new_; }));
    ASSERT_EQ(t.oms->cancel(id), SubmitResult::ok);
    ASSERT_TRUE(t.until([&] { return t.status(id) == OrderStatus::canceled; }));
    std::vector<sim::OrderState> open;
    v.server->run_sync([&] { v.engine->open_orders(1, nullptr, open); });
    EXPECT_TRUE(open.empty());
    EXPECT_EQ(t.gw->stats().unknown_outcomes, 0u);
  }
}

}  // namespace
}  // namespace tickrt::exec::test
