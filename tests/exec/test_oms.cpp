// tests/exec/test_oms.cpp — OMS state machine (every status x every report kind), ids, table,
// positions/PnL, duplicates, anomalies, cancel-all, unknown -> query.
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "exec/oms.hpp"

using namespace tickrt;
using namespace tickrt::exec;

namespace {

Price px(double v) { return Price::from_raw(static_cast<std::int64_t>(v * 1e8 + (v >= 0 ? 0.5 : -0.5))); }
Qty qt(double v) { return Qty::from_raw(static_cast<std::int64_t>(v * 1e8 + 0.5)); }

struct Rig {
  RequestRing out{256};
  ReportRing in{256};
  std::unique_ptr<Oms> oms;
  explicit Rig(std::size_t cap = 64, std::string prefix = "tk", std::uint32_t session = 7) {
    OmsConfig c;
    c.id_prefix = prefix;
    c.session = session;
    c.max_open_orders = cap;
    c.symbols = {"BTCUSDT", "ETHUSDT"};
    auto r = Oms::create(c, GatewayRings{&out, &in}, nullptr);
    EXPECT_TRUE(r.ok()) << r.status().to_string();
    oms = std::move(r.value());
  }
  OrderRequest order(Side side = Side::buy, double price = 100, double qty = 1, const char* sym = "BTCUSDT") {
    OrderRequest o;
    o.symbol = SymbolName::from(sym);
    o.side = side;
    o.price = px(price);
    o.qty = qt(qty);
    return o;
  }
  ClientOrderId submit(Side side = Side::buy, double price = 100, double qty = 1) {
    ClientOrderId id;
    EXPECT_EQ(oms->submit(order(side, price, qty), &id), SubmitResult::ok);
    GatewayRequest g;
    EXPECT_TRUE(out.try_pop(g));
    EXPECT_EQ(g.op, GatewayOp::new_order);
    return id;
  }
  ExecReport rep(const ClientOrderId& id, ExecType x, OrderStatus st) {
    ExecReport r;
    r.symbol = SymbolName::from("BTCUSDT");
    r.client_order_id = id;
    r.exec_type = x;
    r.status = st;
    r.exchange_order_id = 42;
    const OrderEntry* e = oms->find(id.view());
    if (e) { r.side = e->req.side; r.qty = e->req.qty; r.price = e->req.price; }
    return r;
  }
  ExecReport fill(const ClientOrderId& id, double price, double q, double cum, std::uint64_t trade) {
    const OrderEntry* e = oms->find(id.view());
    ExecReport r = rep(id, ExecType::trade,
                       e && qt(cum).raw >= e->req.qty.raw ? OrderStatus::filled : OrderStatus::partially_filled);
    r.last_price = px(price);
    r.last_qty = qt(q);
    r.cum_qty = qt(cum);
    r.trade_id = trade;
    return r;
  }
  OmsEvent apply(const ExecReport& r) {
    EXPECT_TRUE(in.try_push(r));
    OmsEvent last;
    EXPECT_EQ(oms->poll([&](const OmsEvent& e) { last = e; }), 1u);
    return last;
  }
  OrderStatus status(const ClientOrderId& id) {
    const OrderEntry* e = oms->find(id.view());
    return e ? e->status : OrderStatus::unknown;
  }
  bool live(const ClientOrderId& id) { return oms->find(id.view()) != nullptr; }
};

// Drives an order into a given state through legal reports; returns its id.
ClientOrderId drive_to(Rig& g, OrderStatus s) {
  ClientOrderId id = g.submit(Side::buy, 100, 2);
  switch (s) {
    case OrderStatus::pending_new: break;
    case OrderStatus::new_: g.apply(g.rep(id, ExecType::new_, OrderStatus::new_)); break;
    case OrderStatus::partially_filled:
      g.apply(g.rep(id, ExecType::new_, OrderStatus::new_));
      g.apply(g.fill(id, 100, 1, 1, 1000 + g.oms->counters().submitted));
      break;
    case OrderStatus::pending_cancel:
      g.apply(g.rep(id, ExecType::new_, OrderStatus::new_));
      EXPECT_EQ(g.oms->cancel(id), SubmitResult::ok);
      { GatewayRequest r; EXPECT_TRUE(g.out.try_pop(r)); EXPECT_EQ(r.op, GatewayOp::cancel); }
      break;
    case OrderStatus::unknown: {
      ExecReport r = g.rep(id, ExecType::status, OrderStatus::unknown);
      r.reject = RejectCode::disconnected;
      g.apply(r);
      GatewayRequest q;
      EXPECT_TRUE(g.out.try_pop(q));
      EXPECT_EQ(q.op, GatewayOp::query);
      break;
    }
    default: ADD_FAILURE() << "drive_to: non-live state";
  }
  EXPECT_EQ(g.status(id), s);
  return id;
}

}  // namespace

TEST(Oms, CreateRejectsBadConfig) {
  RequestRing out(8);
  ReportRing in(8);
  OmsConfig c;
  c.symbols = {"BTCUSDT"};
  c.id_prefix = "bad-prefix";
  auto r = Oms::create(c, {&out, &in}, nullptr);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("id_prefix"), std::string::npos);
  c.id_prefix = "tk";
  c.symbols = {};
  EXPECT_FALSE(Oms::create(c, {&out, &in}, nullptr).ok());
  c.symbols = {"A", "A"};
  EXPECT_FALSE(Oms::create(c, {&out, &in}, nullptr).ok());
  c.symbols = {"A"};
  EXPECT_FALSE(Oms::create(c, {nullptr, &in}, nullptr).ok());
}

TEST(Oms, ClientIdsCarryPrefixSessionSeqAndParse) {
  Rig g(64, "abc", 12);
  ClientOrderId a = g.submit(), b = g.submit();
  EXPECT_EQ(a.view(), "abc-12-1");
  EXPECT_EQ(b.view(), "abc-12-2");
  EXPECT_TRUE(valid_client_order_id(a.view()));
  std::uint32_t s;
  std::uint64_t q;
  ASSERT_TRUE(g.oms->parse_id("abc-12-2", s, q));
  EXPECT_EQ(s, 12u);
  EXPECT_EQ(q, 2u);
  EXPECT_FALSE(g.oms->parse_id("abd-12-2", s, q));
  EXPECT_FALSE(g.oms->parse_id("abc-x-2", s, q));
  EXPECT_FALSE(g.oms->parse_id("abc-12-", s, q));
  EXPECT_FALSE(g.oms->parse_id("abc-0-1", s, q));
  // Longest prefix + large session and seq still fit Binance's 36 characters.
  Rig h(4, "abcdefghijkl", 4000000000u);
  ClientOrderId c = h.submit();
  EXPECT_TRUE(valid_client_order_id(c.view())) << c.view();
}

TEST(Oms, SubmitRefusals) {
  Rig g(2);
  OrderRequest o = g.order();
  o.symbol = SymbolName::from("XRPUSDT");
  EXPECT_EQ(g.oms->submit(o), SubmitResult::unknown_symbol);
  o = g.order(Side::buy, 100, 0);
  EXPECT_EQ(g.oms->submit(o), SubmitResult::bad_order);
  o = g.order(Side::buy, 0, 1);
  EXPECT_EQ(g.oms->submit(o), SubmitResult::bad_order);
  o.type = OrderType::market;
  EXPECT_EQ(g.oms->submit(o), SubmitResult::ok);
  EXPECT_EQ(g.oms->submit(g.order()), SubmitResult::ok);
  EXPECT_EQ(g.oms->submit(g.order()), SubmitResult::table_full);
  g.oms->halt();
  EXPECT_EQ(g.oms->submit(g.order()), SubmitResult::halted);
  EXPECT_EQ(g.oms->counters().rejected_submits, 5u);
  ClientOrderId nope = ClientOrderId::from("tk-7-999");
  EXPECT_EQ(g.oms->cancel(nope), SubmitResult::no_such_order);
}

TEST(Oms, RingFullIsACodeAndLeavesNoOrder) {
  RequestRing out(2);
  ReportRing in(8);
  OmsConfig c;
  c.symbols = {"BTCUSDT"};
  auto r = Oms::create(c, {&out, &in}, nullptr);
  ASSERT_TRUE(r.ok());
  Oms& oms = *r.value();
  OrderRequest o;
  o.symbol = SymbolName::from("BTCUSDT");
  o.price = px(1);
  o.qty = qt(1);
  EXPECT_EQ(oms.submit(o), SubmitResult::ok);
  EXPECT_EQ(oms.submit(o), SubmitResult::ok);
  EXPECT_EQ(oms.submit(o), SubmitResult::ring_full);
  EXPECT_EQ(oms.open_orders(), 2u);
  EXPECT_EQ(oms.next_seq(), 3u);  // the refused order consumed no id
}

// Every live state x every report kind: the resulting state is the one the contract lists.
TEST(Oms, ExhaustiveTransitions) {
  const OrderStatus live_states[] = {OrderStatus::pending_new, OrderStatus::new_, OrderStatus::partially_filled,
                                     OrderStatus::pending_cancel, OrderStatus::unknown};
  enum Kind { kNew, kPartial, kFull, kCanceled, kExpired, kRejected, kCancelRejected, kStatusNew,
              kStatusFilled, kStatusCanceled, kStatusNotFound, kStatusUnknown, kKinds };
  const char* kind_names[] = {"new", "partial", "full", "canceled", "expired", "rejected", "cancel_rejected",
                              "status_new", "status_filled", "status_canceled", "status_not_found", "status_unknown"};
  using S = OrderStatus;
  // expected[state][kind]
  const std::map<std::pair<S, int>, S> expected = {
      // pending_new
      {{S::pending_new, kNew}, S::new_}, {{S::pending_new, kPartial}, S::partially_filled},
      {{S::pending_new, kFull}, S::filled}, {{S::pending_new, kCanceled}, S::canceled},
      {{S::pending_new, kExpired}, S::expired}, {{S::pending_new, kRejected}, S::rejected},
      {{S::pending_new, kCancelRejected}, S::unknown}, {{S::pending_new, kStatusNew}, S::new_},
      {{S::pending_new, kStatusFilled}, S::filled}, {{S::pending_new, kStatusCanceled}, S::canceled},
      {{S::pending_new, kStatusNotFound}, S::rejected}, {{S::pending_new, kStatusUnknown}, S::unknown},
      // new
      {{S::new_, kNew}, S::new_}, {{S::new_, kPartial}, S::partially_filled}, {{S::new_, kFull}, S::filled},
      {{S::new_, kCanceled}, S::canceled}, {{S::new_, kExpired}, S::expired}, {{S::new_, kRejected}, S::rejected},
      {{S::new_, kCancelRejected}, S::unknown}, {{S::new_, kStatusNew}, S::new_},
      {{S::new_, kStatusFilled}, S::filled}, {{S::new_, kStatusCanceled}, S::canceled},
      {{S::new_, kStatusNotFound}, S::new_}, {{S::new_, kStatusUnknown}, S::unknown},
      // partially filled (1 of 2 filled)
      {{S::partially_filled, kNew}, S::partially_filled}, {{S::partially_filled, kPartial}, S::partially_filled},
      {{S::partially_filled, kFull}, S::filled}, {{S::partially_filled, kCanceled}, S::canceled},
      {{S::partially_filled, kExpired}, S::expired}, {{S::partially_filled, kRejected}, S::rejected},
      {{S::partially_filled, kCancelRejected}, S::unknown},
      {{S::partially_filled, kStatusNew}, S::partially_filled},  // never regresses
      {{S::partially_filled, kStatusFilled}, S::filled}, {{S::partially_filled, kStatusCanceled}, S::canceled},
      {{S::partially_filled, kStatusNotFound}, S::partially_filled},
      {{S::partially_filled, kStatusUnknown}, S::unknown},
      // pending_cancel
      {{S::pending_cancel, kNew}, S::pending_cancel}, {{S::pending_cancel, kPartial}, S::pending_cancel},
      {{S::pending_cancel, kFull}, S::filled}, {{S::pending_cancel, kCanceled}, S::canceled},
      {{S::pending_cancel, kExpired}, S::expired}, {{S::pending_cancel, kRejected}, S::rejected},
      {{S::pending_cancel, kCancelRejected}, S::unknown}, {{S::pending_cancel, kStatusNew}, S::pending_cancel},
      {{S::pending_cancel, kStatusFilled}, S::filled}, {{S::pending_cancel, kStatusCanceled}, S::canceled},
      {{S::pending_cancel, kStatusNotFound}, S::canceled}, {{S::pending_cancel, kStatusUnknown}, S::unknown},
      // unknown: the query answer decides
      {{S::unknown, kNew}, S::new_}, {{S::unknown, kPartial}, S::partially_filled}, {{S::unknown, kFull}, S::filled},
      {{S::unknown, kCanceled}, S::canceled}, {{S::unknown, kExpired}, S::expired},
      {{S::unknown, kRejected}, S::rejected}, {{S::unknown, kCancelRejected}, S::unknown},
      {{S::unknown, kStatusNew}, S::new_}, {{S::unknown, kStatusFilled}, S::filled},
      {{S::unknown, kStatusCanceled}, S::canceled}, {{S::unknown, kStatusNotFound}, S::rejected},
      {{S::unknown, kStatusUnknown}, S::unknown},
  };
  for (S st : live_states) {
    for (int k = 0; k < kKinds; ++k) {
      Rig g;
      ClientOrderId id = drive_to(g, st);
      const double cum_before = st == S::partially_filled ? 1 : 0;
      ExecReport r;
      switch (k) {
        case kNew: r = g.rep(id, ExecType::new_, S::new_); break;
        case kPartial: r = g.fill(id, 100, 0.5, cum_before + 0.5, 7001); break;
        case kFull: r = g.fill(id, 100, 2 - cum_before, 2, 7002); break;
        case kCanceled: r = g.rep(id, ExecType::canceled, S::canceled); break;
        case kExpired: r = g.rep(id, ExecType::expired, S::expired); break;
        case kRejected: r = g.rep(id, ExecType::rejected, S::rejected); r.reject = RejectCode::new_order_rejected; break;
        case kCancelRejected:
          r = g.rep(ClientOrderId::from("tk-7-900"), ExecType::rejected, g.status(id));
          r.orig_client_order_id = id;
          r.reject = RejectCode::no_such_order;
          break;
        case kStatusNew: r = g.rep(id, ExecType::status, S::new_); r.cum_qty = qt(cum_before); break;
        case kStatusFilled: r = g.rep(id, ExecType::status, S::filled); r.cum_qty = qt(cum_before); break;
        case kStatusCanceled: r = g.rep(id, ExecType::status, S::canceled); r.cum_qty = qt(cum_before); break;
        case kStatusNotFound: r = g.rep(id, ExecType::status, S::rejected); r.reject = RejectCode::no_such_order; break;
        case kStatusUnknown: r = g.rep(id, ExecType::status, S::unknown); r.reject = RejectCode::disconnected; break;
      }
      OmsEvent ev = g.apply(r);
      ASSERT_NE(ev.order, nullptr);
      auto it = expected.find({st, k});
      ASSERT_NE(it, expected.end());
      EXPECT_EQ(ev.order->status, it->second)
          << order_status_name(st) << " + " << kind_names[k] << " -> " << order_status_name(ev.order->status)
          << ", expected " << order_status_name(it->second);
      EXPECT_EQ(g.live(id), !is_terminal(it->second));
      // Entering unknown sends exactly one query (unless already unknown).
      GatewayRequest q;
      const bool queried = g.out.try_pop(q);
      EXPECT_EQ(queried, it->second == S::unknown && st != S::unknown) << order_status_name(st) << " + " << kind_names[k];
      if (queried) { EXPECT_EQ(q.op, GatewayOp::query); }
    }
  }
}

TEST(Oms, TerminalOrdersIgnoreLaterReportsAndCountIllegalFills) {
  Rig g;
  ClientOrderId id = drive_to(g, OrderStatus::new_);
  g.apply(g.rep(id, ExecType::canceled, OrderStatus::canceled));
  EXPECT_FALSE(g.live(id));
  // A late duplicate NEW: a late report, not an anomaly.
  g.apply(g.rep(id, ExecType::new_, OrderStatus::new_));
  EXPECT_EQ(g.oms->counters().late_reports, 1u);
  EXPECT_EQ(g.oms->counters().anomalies, 0u);
  // A fill on a canceled order: anomaly, position still moves (the exchange's trade is real).
  ExecReport f = g.fill(id, 101, 0.5, 0.5, 55);
  f.side = Side::buy;
  OmsEvent ev = g.apply(f);
  EXPECT_EQ(ev.anomaly, Anomaly::fill_after_terminal);
  EXPECT_EQ(g.oms->counters().fill_after_terminal, 1u);
  EXPECT_EQ(g.oms->position(0).qty_raw, qt(0.5).raw);
  // The same fill again is a duplicate.
  g.apply(f);
  EXPECT_EQ(g.oms->position(0).qty_raw, qt(0.5).raw);
  // A report for an order never sent.
  ev = g.apply(g.rep(ClientOrderId::from("zz-1-1"), ExecType::new_, OrderStatus::new_));
  EXPECT_EQ(ev.anomaly, Anomaly::unknown_order);
  EXPECT_EQ(g.oms->counters().unknown_order, 1u);
}

TEST(Oms, OverfillAndGapAreCountedNotFatal) {
  Rig g;
  ClientOrderId id = drive_to(g, OrderStatus::new_);  // qty 2
  OmsEvent ev = g.apply(g.fill(id, 100, 0.5, 1.0, 1));   // cum jumps by 1 with last 0.5: a gap
  EXPECT_EQ(ev.anomaly, Anomaly::fill_gap);
  ev = g.apply(g.fill(id, 100, 2, 3, 2));  // 0.5 + 2 > 2
  EXPECT_EQ(ev.anomaly, Anomaly::overfill);
  EXPECT_EQ(g.oms->counters().overfill, 1u);
  EXPECT_EQ(ev.order->status, OrderStatus::filled);
  EXPECT_EQ(g.oms->position(0).qty_raw, qt(2.5).raw);
}

TEST(Oms, DuplicateFillsAreAppliedOnce) {
  Rig g;
  ClientOrderId id = drive_to(g, OrderStatus::new_);
  ExecReport f = g.fill(id, 100, 1, 1, 9);
  EXPECT_TRUE(g.apply(f).fill_applied);
  EXPECT_FALSE(g.apply(f).fill_applied);
  EXPECT_EQ(g.oms->counters().duplicate_fills, 1u);
  EXPECT_EQ(g.oms->find(id.view())->cum_qty.raw, qt(1).raw);
  EXPECT_EQ(g.oms->counters().fills, 1u);
}

TEST(Oms, CancelRejectedUnknownOrderTriggersQuery) {
  Rig g;
  ClientOrderId id = drive_to(g, OrderStatus::pending_cancel);
  ExecReport r = g.rep(ClientOrderId::from("tk-7-2"), ExecType::rejected, OrderStatus::new_);
  r.orig_client_order_id = id;
  r.reject = RejectCode::cancel_rejected;
  g.apply(r);
  EXPECT_EQ(g.status(id), OrderStatus::unknown);
  GatewayRequest q;
  ASSERT_TRUE(g.out.try_pop(q));
  EXPECT_EQ(q.op, GatewayOp::query);
  EXPECT_EQ(q.cancel.orig_client_order_id.view(), id.view());
}

TEST(Oms, QueryIsRetriedWhenTheRingWasFull) {
  RequestRing out(2);
  ReportRing in(8);
  OmsConfig c;
  c.symbols = {"BTCUSDT"};
  auto rr = Oms::create(c, {&out, &in}, nullptr);
  ASSERT_TRUE(rr.ok());
  Oms& oms = *rr.value();
  OrderRequest o;
  o.symbol = SymbolName::from("BTCUSDT");
  o.price = px(1);
  o.qty = qt(1);
  ClientOrderId id;
  ASSERT_EQ(oms.submit(o, &id), SubmitResult::ok);
  ASSERT_EQ(oms.submit(o), SubmitResult::ok);  // ring now full
  ExecReport r;
  r.client_order_id = id;
  r.exec_type = ExecType::status;
  r.status = OrderStatus::unknown;
  ASSERT_TRUE(in.try_push(r));
  EXPECT_EQ(oms.poll(), 1u);
  EXPECT_EQ(oms.find(id.view())->status, OrderStatus::unknown);
  EXPECT_TRUE(oms.find(id.view())->query_pending);
  GatewayRequest g;
  ASSERT_TRUE(out.try_pop(g));
  ASSERT_TRUE(out.try_pop(g));
  oms.poll();  // retries
  ASSERT_TRUE(out.try_pop(g));
  EXPECT_EQ(g.op, GatewayOp::query);
  EXPECT_FALSE(oms.find(id.view())->query_pending);
}

TEST(Oms, CancelAllSendsOneCancelPerLiveOrder) {
  Rig g;
  std::vector<ClientOrderId> ids;
  for (int i = 0; i < 5; ++i) ids.push_back(g.submit());
  OrderRequest e = g.order(Side::sell, 10, 1, "ETHUSDT");
  ASSERT_EQ(g.oms->submit(e), SubmitResult::ok);
  GatewayRequest tmp;
  ASSERT_TRUE(g.out.try_pop(tmp));
  EXPECT_EQ(g.oms->cancel_all(0), 5u);
  EXPECT_EQ(g.oms->cancel_all(-1), 1u);  // only ETH left to cancel
  EXPECT_EQ(g.oms->cancel_all(-1), 0u);
  std::set<std::string> canceled;
  GatewayRequest r;
  while (g.out.try_pop(r)) {
    EXPECT_EQ(r.op, GatewayOp::cancel);
    canceled.insert(std::string(r.cancel.orig_client_order_id.view()));
  }
  EXPECT_EQ(canceled.size(), 6u);
}

TEST(Oms, PositionAveragePriceAndPnl) {
  Rig g;
  auto buy = g.submit(Side::buy, 100, 2);
  g.apply(g.fill(buy, 100, 1, 1, 1));
  g.apply(g.fill(buy, 110, 1, 2, 2));  // avg 105, pos 2
  const Position& p = g.oms->position(0);
  EXPECT_EQ(p.qty_raw, qt(2).raw);
  EXPECT_EQ(p.avg_price_raw, px(105).raw);
  auto sell = g.submit(Side::sell, 120, 3);
  ExecReport f = g.fill(sell, 120, 3, 3, 3);
  f.commission_raw = qt(0.36).raw;
  g.apply(f);  // closes 2 at +15 each = +30, opens short 1 at 120
  EXPECT_EQ(p.realized_raw, px(30).raw);
  EXPECT_EQ(p.qty_raw, -qt(1).raw);
  EXPECT_EQ(p.avg_price_raw, px(120).raw);
  EXPECT_EQ(p.fees_raw, qt(0.36).raw);
  g.oms->mark(0, px(119));
  EXPECT_EQ(p.unrealized_raw(), px(1).raw);  // short 1 from 120, mark 119
  EXPECT_EQ(p.bought_raw, qt(2).raw);
  EXPECT_EQ(p.sold_raw, qt(3).raw);
}

TEST(Oms, TableReusesSlotsAfterManyOrders) {
  Rig g(8);
  for (int i = 0; i < 2000; ++i) {
    ClientOrderId id = g.submit(i % 2 ? Side::buy : Side::sell, 100, 1);
    ASSERT_EQ(g.oms->open_orders(), 1u);
    g.apply(g.rep(id, ExecType::new_, OrderStatus::new_));
    g.apply(g.rep(id, ExecType::canceled, OrderStatus::canceled));
    ASSERT_EQ(g.oms->open_orders(), 0u);
  }
  // Fill the table; interleaved erases keep every remaining order findable (backward shift).
  std::vector<ClientOrderId> ids;
  for (int i = 0; i < 8; ++i) ids.push_back(g.submit());
  for (int i = 0; i < 8; i += 2) g.apply(g.rep(ids[i], ExecType::canceled, OrderStatus::canceled));
  for (int i = 1; i < 8; i += 2) EXPECT_TRUE(g.live(ids[i])) << i;
  for (int i = 0; i < 8; i += 2) EXPECT_FALSE(g.live(ids[i])) << i;
}

// Regression (bench/bus/run_sim_cluster.sh, 2026-11-29): two processes on one venue account with the same
// id_prefix and session number sent orders with the same client ids; each OMS took the other's ETHUSDT fills
// for its BTCUSDT order and its realized PnL went to ~1184 on 0.01 lots. A report whose symbol differs from
// the order's is another session's: counted and journaled, never applied to our order or position.
TEST(Oms, ReportForTheSameClientIdOnAnotherSymbolIsForeign) {
  Rig g;
  ClientOrderId id = drive_to(g, OrderStatus::new_);  // BTCUSDT buy 2 @ 100
  ExecReport f = g.fill(id, 2600, 1, 1, 77);
  f.symbol = SymbolName::from("ETHUSDT");
  f.side = Side::sell;
  OmsEvent ev = g.apply(f);
  EXPECT_EQ(ev.anomaly, Anomaly::foreign_report);
  EXPECT_FALSE(ev.fill_applied);
  EXPECT_EQ(g.oms->counters().foreign_report, 1u);
  EXPECT_EQ(g.oms->counters().fills, 0u);
  EXPECT_EQ(g.status(id), OrderStatus::new_);
  EXPECT_EQ(g.oms->find(id.view())->cum_qty.raw, 0);
  EXPECT_EQ(g.oms->position(0).qty_raw, 0);
  EXPECT_EQ(g.oms->position(1).qty_raw, 0);
  // Our own fill on the right symbol still applies; after the order closes, a foreign one stays foreign.
  EXPECT_TRUE(g.apply(g.fill(id, 100, 2, 2, 78)).fill_applied);
  EXPECT_FALSE(g.live(id));
  f.trade_id = 79;
  f.cum_qty = qt(2);
  ev = g.apply(f);
  EXPECT_EQ(ev.anomaly, Anomaly::foreign_report);
  EXPECT_EQ(g.oms->position(0).qty_raw, qt(2).raw);
  EXPECT_EQ(g.oms->position(0).realized_raw, 0);
  EXPECT_EQ(g.oms->counters().foreign_report, 2u);
}
