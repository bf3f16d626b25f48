// Matching engine without replay: priority, order types, STP, fees, balances, validation.
#include <gtest/gtest.h>

#include "sim/matching_engine.hpp"
#include "sim_test_util.hpp"

using namespace tickrt;
using namespace tickrt::sim;
using namespace tickrt::sim::testing;

namespace {

struct Fixture : ::testing::Test {
  MatchingEngine eng{base_config()};
  Recorder rec;
  std::int64_t t = 1'000;
  void SetUp() override {
    ASSERT_TRUE(eng.status().ok()) << eng.status().to_string();
    eng.set_sink(&rec);
  }
  SubmitResult sub(AccountId a, const OrderRequest& r) { return eng.submit(a, r, t++); }
};

using Matching = Fixture;

TEST_F(Matching, PriceTimePriority) {
  ASSERT_TRUE(sub(1, order("a", Side::sell, "100.00", "1")).ok());
  ASSERT_TRUE(sub(2, order("b", Side::sell, "100.00", "1")).ok());
  ASSERT_TRUE(sub(3, order("c", Side::sell, "99.99", "1")).ok());
  ASSERT_TRUE(sub(5, order("w", Side::sell, "100.01", "1")).ok());
  const SubmitResult r = sub(4, order("t", Side::buy, "100.00", "2.5"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.status, OrderStatus::filled);
  const auto& f = eng.fills();
  // Each trade appears twice (taker, maker); taker first.
  ASSERT_EQ(f.size(), 6u);
  EXPECT_EQ(f[0].account, 4u);
  EXPECT_EQ(f[1].account, 3u);  // best price first
  EXPECT_EQ(f[1].price, px("99.99"));
  EXPECT_EQ(f[3].account, 1u);  // then time priority at 100.00
  EXPECT_EQ(f[3].qty, qt("1"));
  EXPECT_EQ(f[5].account, 2u);
  EXPECT_EQ(f[5].qty, qt("0.5"));
  EXPECT_FALSE(f[0].is_maker);
  EXPECT_TRUE(f[1].is_maker);
  EXPECT_EQ(f[0].trade_id, f[1].trade_id);
  EXPECT_NE(f[0].trade_id, f[2].trade_id);
  auto b = eng.query(2, SymbolName::from("BTCUSDT"), ClientOrderId::from("b"));
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(b->status, OrderStatus::partially_filled);
  EXPECT_EQ(b->cum_qty, qt("0.5"));
  auto w = eng.query(5, SymbolName::from("BTCUSDT"), ClientOrderId::from("w"));
  EXPECT_EQ(w->cum_qty, Qty{});
}

TEST_F(Matching, TakerFullyFilledStatusAndReports) {
  ASSERT_TRUE(sub(1, order("m", Side::sell, "100.00", "2")).ok());
  rec.clear();
  const SubmitResult r = sub(2, order("t", Side::buy, "100.00", "2"));
  EXPECT_EQ(r.status, OrderStatus::filled);
  EXPECT_EQ(r.executed, qt("2"));
  EXPECT_EQ(r.cum_quote_raw, raw("200"));
  auto tr = rec.for_order(r.exchange_order_id);
  ASSERT_EQ(tr.size(), 2u);
  EXPECT_EQ(tr[0].r.exec_type, ExecType::new_);
  EXPECT_EQ(tr[1].r.exec_type, ExecType::trade);
  EXPECT_EQ(tr[1].r.status, OrderStatus::filled);
  EXPECT_EQ(tr[1].r.last_qty, qt("2"));
  EXPECT_EQ(tr[1].r.last_price, px("100"));
  EXPECT_FALSE(tr[1].r.is_maker);
  ASSERT_EQ(rec.trades.size(), 1u);
  EXPECT_FALSE(rec.trades[0].buyer_is_maker);  // the buyer took
  std::vector<OrderState> open;
  eng.open_orders(1, nullptr, open);
  EXPECT_TRUE(open.empty());
}

TEST_F(Matching, IocPartialExpiresRemainder) {
  ASSERT_TRUE(sub(1, order("m", Side::sell, "100.00", "1")).ok());
  const SubmitResult r = sub(2, order("t", Side::buy, "100.00", "3", OrderType::limit, TimeInForce::ioc));
  EXPECT_EQ(r.status, OrderStatus::expired);
  EXPECT_EQ(r.executed, qt("1"));
  auto tr = rec.for_order(r.exchange_order_id);
  ASSERT_EQ(tr.size(), 3u);
  EXPECT_EQ(tr[2].r.exec_type, ExecType::expired);
  EXPECT_EQ(tr[2].r.cum_qty, qt("1"));
  Level l;
  EXPECT_FALSE(eng.best_bid(0, l));  // nothing rests
  // The quote lock was fully released: 1e7 - 100 - fee(0.1)
  EXPECT_EQ(eng.balance(2, "USDT").locked_raw, 0);
  EXPECT_EQ(eng.balance(2, "USDT").free_raw, raw("10000000") - raw("100") - raw("0.1"));
}

TEST_F(Matching, FokAllOrNothing) {
  ASSERT_TRUE(sub(1, order("m1", Side::sell, "100.00", "1")).ok());
  ASSERT_TRUE(sub(1, order("m2", Side::sell, "100.01", "1")).ok());
  SubmitResult r = sub(2, order("f1", Side::buy, "100.01", "2.5", OrderType::limit, TimeInForce::fok));
  EXPECT_EQ(r.status, OrderStatus::expired);
  EXPECT_EQ(r.executed, Qty{});
  EXPECT_TRUE(eng.fills().empty());
  r = sub(2, order("f2", Side::buy, "100.00", "1.5", OrderType::limit, TimeInForce::fok));  // limit excludes 100.01
  EXPECT_EQ(r.status, OrderStatus::expired);
  EXPECT_TRUE(eng.fills().empty());
  r = sub(2, order("f3", Side::buy, "100.01", "2", OrderType::limit, TimeInForce::fok));
  EXPECT_EQ(r.status, OrderStatus::filled);
  EXPECT_EQ(r.cum_quote_raw, raw("200.01"));
}

TEST_F(Matching, MarketWalksLevelsAndExpiresWithoutLiquidity) {
  SubmitResult r = sub(2, order("mk0", Side::buy, "", "1", OrderType::market));
  EXPECT_EQ(r.status, OrderStatus::expired);
  EXPECT_EQ(r.executed, Qty{});
  ASSERT_TRUE(sub(1, order("a1", Side::sell, "100.00", "1")).ok());
  ASSERT_TRUE(sub(1, order("a2", Side::sell, "101.00", "1")).ok());
  r = sub(2, order("mk1", Side::buy, "", "1.5", OrderType::market));
  EXPECT_EQ(r.status, OrderStatus::filled);
  EXPECT_EQ(r.cum_quote_raw, raw("150.5"));
  // Market sell into no bids
  r = sub(1, order("mk2", Side::sell, "", "1", OrderType::market));
  EXPECT_EQ(r.status, OrderStatus::expired);
}

TEST_F(Matching, MarketBuyChecksWalkCostAgainstBalance) {
  ASSERT_TRUE(eng.set_balance(7, "USDT", raw("150")).ok());
  ASSERT_TRUE(sub(1, order("a1", Side::sell, "100.00", "1")).ok());
  ASSERT_TRUE(sub(1, order("a2", Side::sell, "101.00", "1")).ok());
  // 1.5 costs 150.5 + 0.1505 fee > 150
  SubmitResult r = sub(7, order("mk", Side::buy, "", "1.5", OrderType::market));
  EXPECT_EQ(r.code, RejectCode::new_order_rejected);
  EXPECT_EQ(r.reason, RejectReason::insufficient_balance);
  r = sub(7, order("mk2", Side::buy, "", "1.4", OrderType::market));  // 140.4 + 0.1404
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(eng.balance(7, "USDT").free_raw, raw("150") - raw("140.4") - raw("0.1404"));
  EXPECT_EQ(eng.balance(7, "BTC").free_raw, raw("100") + raw("1.4"));
}

TEST_F(Matching, PostOnlyRejectedIfItWouldTake) {
  ASSERT_TRUE(sub(1, order("a", Side::sell, "100.00", "1")).ok());
  SubmitResult r = sub(2, order("pm", Side::buy, "100.00", "1", OrderType::limit_maker));
  EXPECT_EQ(r.code, RejectCode::new_order_rejected);
  EXPECT_EQ(r.reason, RejectReason::would_take);
  EXPECT_EQ(reject_message(r.reason), "Order would immediately match and take.");
  EXPECT_TRUE(eng.fills().empty());
  r = sub(2, order("pm2", Side::buy, "99.99", "1", OrderType::limit_maker));
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.status, OrderStatus::new_);
  Level l;
  ASSERT_TRUE(eng.best_bid(0, l));
  EXPECT_EQ(l.price, px("99.99"));
}

TEST_F(Matching, StpExpireTaker) {
  ASSERT_TRUE(sub(1, order("own", Side::sell, "100.00", "1")).ok());
  const SubmitResult r = sub(1, order("t", Side::buy, "100.00", "1", OrderType::limit, TimeInForce::gtc, StpMode::expire_taker));
  EXPECT_EQ(r.status, OrderStatus::expired);
  EXPECT_TRUE(eng.fills().empty());
  EXPECT_EQ(eng.query(1, SymbolName::from("BTCUSDT"), ClientOrderId::from("own"))->status, OrderStatus::new_);
  EXPECT_EQ(eng.counters().stp_expired, 1u);
}

TEST_F(Matching, StpExpireMakerContinuesToNextMaker) {
  ASSERT_TRUE(sub(1, order("own", Side::sell, "100.00", "1")).ok());
  ASSERT_TRUE(sub(2, order("other", Side::sell, "100.00", "1")).ok());
  const SubmitResult r = sub(1, order("t", Side::buy, "100.00", "1", OrderType::limit, TimeInForce::gtc, StpMode::expire_maker));
  EXPECT_EQ(r.status, OrderStatus::filled);
  const auto own = eng.query(1, SymbolName::from("BTCUSDT"), ClientOrderId::from("own"));
  EXPECT_EQ(own->status, OrderStatus::expired);
  ASSERT_EQ(eng.fills().size(), 2u);
  EXPECT_EQ(eng.fills()[1].account, 2u);
  // the expired maker's base lock went back
  EXPECT_EQ(eng.balance(1, "BTC").locked_raw, 0);
  EXPECT_EQ(eng.balance(1, "BTC").free_raw, raw("101"));
}

TEST_F(Matching, StpExpireBothAndNone) {
  ASSERT_TRUE(sub(1, order("own", Side::sell, "100.00", "1")).ok());
  SubmitResult r = sub(1, order("t", Side::buy, "100.00", "1", OrderType::limit, TimeInForce::gtc, StpMode::expire_both));
  EXPECT_EQ(r.status, OrderStatus::expired);
  EXPECT_EQ(eng.query(1, SymbolName::from("BTCUSDT"), ClientOrderId::from("own"))->status, OrderStatus::expired);
  EXPECT_TRUE(eng.fills().empty());
  ASSERT_TRUE(sub(1, order("own2", Side::sell, "100.00", "1")).ok());
  r = sub(1, order("t2", Side::buy, "100.00", "1", OrderType::limit, TimeInForce::gtc, StpMode::none));
  EXPECT_EQ(r.status, OrderStatus::filled);  // none: the account trades with itself
  ASSERT_EQ(eng.fills().size(), 2u);
  EXPECT_EQ(eng.fills()[0].counterparty, 1u);
}

TEST_F(Matching, FokAvailabilityFollowsStp) {
  ASSERT_TRUE(sub(1, order("own", Side::sell, "100.00", "1")).ok());
  ASSERT_TRUE(sub(2, order("other", Side::sell, "100.01", "2")).ok());
  // expire_taker would stop at the own order: FOK cannot complete, nothing trades.
  SubmitResult r = sub(1, order("f1", Side::buy, "100.01", "2", OrderType::limit, TimeInForce::fok, StpMode::expire_taker));
  EXPECT_EQ(r.status, OrderStatus::expired);
  EXPECT_TRUE(eng.fills().empty());
  EXPECT_EQ(eng.query(1, SymbolName::from("BTCUSDT"), ClientOrderId::from("own"))->status, OrderStatus::new_);
  // expire_maker skips (and expires) the own order: the other account's 2 fill it.
  r = sub(1, order("f2", Side::buy, "100.01", "2", OrderType::limit, TimeInForce::fok, StpMode::expire_maker));
  EXPECT_EQ(r.status, OrderStatus::filled);
  EXPECT_EQ(r.cum_quote_raw, raw("200.02"));
  EXPECT_EQ(eng.query(1, SymbolName::from("BTCUSDT"), ClientOrderId::from("own"))->status, OrderStatus::expired);
}

TEST(MatchingHistory, ClosedOrdersForgottenBeyondTheLimitAndClientIdsReusable) {
  SimConfig c = base_config();
  c.max_closed_orders = 10;
  MatchingEngine eng(c);
  const SymbolName sym = SymbolName::from("BTCUSDT");
  ASSERT_TRUE(eng.submit(1, order("keep", Side::buy, "1.00", "1"), 0).ok());  // stays open
  std::vector<std::uint64_t> ids;
  for (int i = 0; i < 5000; ++i) {  // IOC with nothing to match: closed at once
    const SubmitResult r = eng.submit(1, order(idn("c", i), Side::buy, "1.00", "1", OrderType::limit, TimeInForce::ioc), i);
    ASSERT_EQ(r.status, OrderStatus::expired);
    ids.push_back(r.exchange_order_id);
  }
  // The open order at the front holds the history behind it...
  EXPECT_TRUE(eng.query(1, sym, ClientOrderId::from("c0")).has_value());
  ASSERT_TRUE(eng.cancel(1, cancel_of("keep"), 6000).ok());
  // ... once it is closed, only the newest 10 closed orders remain queryable.
  EXPECT_FALSE(eng.query(1, sym, ClientOrderId::from("keep")).has_value());
  EXPECT_FALSE(eng.query(1, sym, ClientOrderId::from("c0")).has_value());
  EXPECT_FALSE(eng.query(1, sym, ids[100]).has_value());
  EXPECT_TRUE(eng.query(1, sym, ClientOrderId::from("c4999")).has_value());
  EXPECT_TRUE(eng.query(1, sym, ids[4991]).has_value());
  // A client id may be reused once its order is closed; query then finds the newest.
  const SubmitResult again = eng.submit(1, order("c4999", Side::buy, "1.00", "2"), 7000);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(eng.query(1, sym, ClientOrderId::from("c4999"))->exchange_order_id, again.exchange_order_id);
  EXPECT_EQ(eng.submit(1, order("c4999", Side::buy, "1.00", "2"), 7001).reason, RejectReason::duplicate_order);
  // Many distinct open ids (index growth) stay findable.
  for (int i = 0; i < 3000; ++i) ASSERT_TRUE(eng.submit(2, order(idn("o", i), Side::buy, "1.00", "0.001"), 8000 + i).ok());
  for (int i = 0; i < 3000; i += 7) ASSERT_TRUE(eng.query(2, sym, ClientOrderId::from(idn("o", i))).has_value()) << i;
  EXPECT_EQ(eng.submit(2, order("o1234", Side::buy, "1.00", "1"), 9999).reason, RejectReason::duplicate_order);
}

TEST(MatchingFees, ExactMakerTakerAndRebate) {
  SimConfig c = base_config();
  c.maker_fee_bps = -1.0;  // rebate
  c.taker_fee_bps = 7.5;
  MatchingEngine eng(c);
  ASSERT_TRUE(eng.status().ok());
  ASSERT_TRUE(eng.submit(1, order("m", Side::sell, "30000.00", "1"), 1).ok());
  const SubmitResult r = eng.submit(2, order("t", Side::buy, "30000.00", "0.5"), 2);
  ASSERT_EQ(r.status, OrderStatus::filled);
  const auto& f = eng.fills();
  ASSERT_EQ(f.size(), 2u);
  EXPECT_EQ(f[0].quote_raw, raw("15000"));
  EXPECT_EQ(f[0].commission_raw, raw("11.25"));   // 15000 * 7.5e-4
  EXPECT_EQ(f[1].commission_raw, -raw("1.5"));    // 15000 * -1e-4
  EXPECT_EQ(eng.balance(2, "USDT").free_raw, raw("10000000") - raw("15000") - raw("11.25"));
  EXPECT_EQ(eng.balance(2, "USDT").locked_raw, 0);
  EXPECT_EQ(eng.balance(2, "BTC").free_raw, raw("100.5"));
  // seller: 0.5 of 1 BTC still locked by the resting remainder
  EXPECT_EQ(eng.balance(1, "BTC").free_raw, raw("99"));
  EXPECT_EQ(eng.balance(1, "BTC").locked_raw, raw("0.5"));
  EXPECT_EQ(eng.balance(1, "USDT").free_raw, raw("10000000") + raw("15000") + raw("1.5"));
  auto m = eng.query(1, SymbolName::from("BTCUSDT"), ClientOrderId::from("m"));
  EXPECT_EQ(m->commission_raw, -raw("1.5"));
  // Truncation toward zero on a fee below 1e-8: 0.00001 BTC at 0.01 = 1e-7 quote; 7.5 bps -> 7.5e-11 -> 0
  ASSERT_TRUE(eng.submit(3, order("s", Side::sell, "0.01", "0.00001"), 3).ok());
  ASSERT_TRUE(eng.submit(4, order("b", Side::buy, "0.01", "0.00001"), 4).ok());
  EXPECT_EQ(eng.fills().back().quote_raw, 10);
  EXPECT_EQ(eng.fills()[eng.fills().size() - 2].commission_raw, 0);
}

TEST_F(Matching, CancelAndLocks) {
  SubmitResult r = sub(2, order("b", Side::buy, "100.00", "2"));
  ASSERT_TRUE(r.ok());
  // lock = 200 + 10 bps worst-case fee
  EXPECT_EQ(eng.balance(2, "USDT").locked_raw, raw("200.2"));
  const CancelResult c = eng.cancel(2, cancel_of("b", "cx"), t++);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c.order.status, OrderStatus::canceled);
  EXPECT_EQ(eng.balance(2, "USDT").locked_raw, 0);
  EXPECT_EQ(eng.balance(2, "USDT").free_raw, raw("10000000"));
  const Report& last = rec.reports.back();
  EXPECT_EQ(last.r.exec_type, ExecType::canceled);
  EXPECT_EQ(last.r.client_order_id.view(), "cx");
  EXPECT_EQ(last.r.orig_client_order_id.view(), "b");
  // canceling again: unknown order
  const CancelResult again = eng.cancel(2, cancel_of("b"), t++);
  EXPECT_EQ(again.code, RejectCode::cancel_rejected);
  // by exchange id; someone else's order cannot be canceled
  r = sub(2, order("b2", Side::buy, "100.00", "1"));
  EXPECT_EQ(eng.cancel(3, cancel_of("", "", r.exchange_order_id), t++).code, RejectCode::cancel_rejected);
  EXPECT_TRUE(eng.cancel(2, cancel_of("", "", r.exchange_order_id), t++).ok());
}

TEST_F(Matching, CancelReplaceIsAtomic) {
  // cancel fails -> replacement not placed
  ReplaceRequest rr;
  rr.cancel = cancel_of("nope");
  rr.replacement = order("new1", Side::buy, "99.00", "1");
  ReplaceResult res = eng.cancel_replace(2, rr, t++);
  EXPECT_EQ(res.cancel.code, RejectCode::cancel_rejected);
  EXPECT_FALSE(res.placed);
  EXPECT_FALSE(eng.query(2, SymbolName::from("BTCUSDT"), ClientOrderId::from("new1")).has_value());
  // success: old canceled, new resting
  ASSERT_TRUE(sub(2, order("old", Side::buy, "98.00", "1")).ok());
  rr.cancel = cancel_of("old");
  res = eng.cancel_replace(2, rr, t++);
  EXPECT_TRUE(res.ok());
  EXPECT_EQ(eng.query(2, SymbolName::from("BTCUSDT"), ClientOrderId::from("old"))->status, OrderStatus::canceled);
  EXPECT_EQ(eng.query(2, SymbolName::from("BTCUSDT"), ClientOrderId::from("new1"))->status, OrderStatus::new_);
  std::vector<OrderState> open;
  eng.open_orders(2, nullptr, open);
  ASSERT_EQ(open.size(), 1u);
  EXPECT_EQ(open[0].price, px("99.00"));
  // cancel ok, new order invalid: old stays canceled, replacement reported rejected
  rr.cancel = cancel_of("new1");
  rr.replacement = order("new2", Side::buy, "99.001", "1");
  res = eng.cancel_replace(2, rr, t++);
  EXPECT_TRUE(res.cancel.ok());
  EXPECT_TRUE(res.placed);
  EXPECT_EQ(res.replacement.code, RejectCode::filter_failure);
  eng.open_orders(2, nullptr, open);
  EXPECT_TRUE(open.empty());
}

TEST_F(Matching, CancelAll) {
  ASSERT_TRUE(sub(2, order("a", Side::buy, "98.00", "1")).ok());
  ASSERT_TRUE(sub(2, order("b", Side::sell, "102.00", "1")).ok());
  ASSERT_TRUE(sub(3, order("c", Side::buy, "97.00", "1")).ok());
  std::vector<OrderState> out;
  EXPECT_EQ(eng.cancel_all(2, SymbolName::from("BTCUSDT"), t++, &out), RejectCode::none);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].client_order_id.view(), "a");
  EXPECT_EQ(out[1].status, OrderStatus::canceled);
  std::vector<OrderState> open;
  eng.open_orders(3, nullptr, open);
  EXPECT_EQ(open.size(), 1u);
  EXPECT_EQ(eng.cancel_all(2, SymbolName::from("NOPE"), t++), RejectCode::bad_symbol);
}

TEST_F(Matching, BadInputRejectedWithBinanceCodes) {
  auto code = [&](const OrderRequest& r, AccountId a = 2) { return sub(a, r); };
  EXPECT_EQ(code(order("x1", Side::buy, "100", "1", OrderType::limit, TimeInForce::gtc, StpMode::none, "ETHUSDT")).code,
            RejectCode::bad_symbol);
  EXPECT_EQ(code(order("x2", Side::buy, "100", "0")).reason, RejectReason::bad_qty);
  EXPECT_EQ(code(order("x3", Side::buy, "100", "0.000001")).code, RejectCode::filter_failure);  // off step
  EXPECT_EQ(code(order("x4", Side::buy, "100.001", "1")).reason, RejectReason::bad_price);     // off tick
  EXPECT_EQ(code(order("x5", Side::buy, "0", "1")).reason, RejectReason::bad_price);
  EXPECT_EQ(code(order("x6", Side::buy, "-1", "1")).reason, RejectReason::bad_price);
  EXPECT_EQ(code(order("x7", Side::buy, "100", "10000")).reason, RejectReason::bad_qty);  // > max_qty
  EXPECT_EQ(code(order("x 8", Side::buy, "100", "1")).code, RejectCode::invalid_client_order_id);
  OrderRequest bad = order("x9", Side::buy, "100", "1");
  bad.side = static_cast<Side>(7);
  EXPECT_EQ(code(bad).code, RejectCode::illegal_chars);
  bad = order("x10", Side::buy, "100", "1");
  bad.type = static_cast<OrderType>(9);
  EXPECT_EQ(code(bad).reason, RejectReason::bad_enum);
  bad.type = OrderType::limit;
  bad.client_order_id.len = 200;  // corrupted length
  EXPECT_EQ(code(bad).reason, RejectReason::bad_client_order_id);
  EXPECT_EQ(code(order("x11", Side::buy, "100", "1"), kMaxAccounts).code, RejectCode::bad_api_key);
  ASSERT_TRUE(code(order("dup", Side::buy, "100", "1")).ok());
  EXPECT_EQ(code(order("dup", Side::buy, "100", "1")).reason, RejectReason::duplicate_order);
  EXPECT_TRUE(code(order("dup", Side::buy, "100", "1"), 3).ok());  // per account
  EXPECT_EQ(code(order("x12", Side::buy, "10000000", "5")).reason, RejectReason::insufficient_balance);
  EXPECT_EQ(code(order("x13", Side::sell, "100", "101")).reason, RejectReason::insufficient_balance);
  EXPECT_EQ(eng.cancel(2, cancel_of("never"), t).code, RejectCode::cancel_rejected);
  EXPECT_EQ(eng.cancel(2, cancel_of("never", "", 0, "XYZ"), t).code, RejectCode::bad_symbol);
  EXPECT_EQ(eng.cancel(2, cancel_of(""), t).code, RejectCode::cancel_rejected);
  EXPECT_FALSE(eng.query(2, SymbolName::from("BTCUSDT"), ClientOrderId::from("never")).has_value());
  EXPECT_FALSE(eng.query(2, SymbolName::from("BTCUSDT"), std::uint64_t{999999}).has_value());
  EXPECT_EQ(eng.counters().orders_rejected, 15u);
  // rejected requests leave no trace in the book or balances
  std::vector<OrderState> open;
  eng.open_orders(2, nullptr, open);
  EXPECT_EQ(open.size(), 1u);
}

TEST(MatchingConfig, BadConfigNamesTheField) {
  SimConfig c = base_config();
  c.faults.reject = 1.5;
  EXPECT_FALSE(MatchingEngine(c).status().ok());
  c = base_config();
  c.symbols[0].tick_size = Price{};
  MatchingEngine e(c);
  ASSERT_FALSE(e.status().ok());
  EXPECT_NE(e.status().message().find("BTCUSDT"), std::string::npos);
  EXPECT_NE(e.status().message().find("tick_size"), std::string::npos);
  c = base_config();
  c.symbols.push_back(btcusdt());
  EXPECT_FALSE(MatchingEngine(c).status().ok());  // twice
  MatchingEngine ok(base_config());
  EXPECT_FALSE(ok.map_feed_symbol(3, "NOPE").ok());
  EXPECT_FALSE(ok.set_balance(kMaxAccounts, "USDT", 1).ok());
}

TEST(MatchingMinNotional, Enforced) {
  SimConfig c = base_config();
  c.symbols[0].min_notional_raw = raw("5");
  MatchingEngine eng(c);
  EXPECT_EQ(eng.submit(1, order("a", Side::buy, "1.00", "4"), 1).reason, RejectReason::min_notional);
  EXPECT_TRUE(eng.submit(1, order("b", Side::buy, "1.00", "5"), 1).ok());
}

TEST_F(Matching, DepthSnapshotAndBookUpdates) {
  ASSERT_TRUE(sub(1, order("a", Side::sell, "101.00", "1")).ok());
  ASSERT_TRUE(sub(2, order("b", Side::sell, "101.00", "2")).ok());
  ASSERT_TRUE(sub(1, order("c", Side::buy, "99.00", "1")).ok());
  ASSERT_TRUE(sub(1, order("d", Side::buy, "98.00", "4")).ok());
  DepthSnapshot d;
  ASSERT_EQ(eng.depth_snapshot(SymbolName::from("BTCUSDT"), 10, d), RejectCode::none);
  EXPECT_EQ(d.last_update_id, 4u);
  ASSERT_EQ(d.asks.size(), 1u);
  EXPECT_EQ(d.asks[0].qty, qt("3"));
  ASSERT_EQ(d.bids.size(), 2u);
  EXPECT_EQ(d.bids[0].price, px("99.00"));
  ASSERT_EQ(rec.book.size(), 4u);
  EXPECT_EQ(rec.book[1].qty, qt("3"));
  EXPECT_EQ(rec.book[1].update_id, 2u);
  rec.clear();
  ASSERT_TRUE(sub(3, order("t", Side::buy, "101.00", "1.5")).ok());
  ASSERT_EQ(rec.book.size(), 2u);  // one per maker touched at 101
  EXPECT_EQ(rec.book.back().qty, qt("1.5"));
  EXPECT_EQ(rec.book.back().update_id, 5u);
  ASSERT_EQ(eng.depth_snapshot(SymbolName::from("BTCUSDT"), 1, d), RejectCode::none);
  EXPECT_EQ(d.last_update_id, 5u);
  EXPECT_EQ(d.bids.size(), 1u);
  EXPECT_EQ(eng.depth_snapshot(SymbolName::from("X"), 1, d), RejectCode::bad_symbol);
}

TEST_F(Matching, LedgerMatchesTradeReports) {
  for (int i = 0; i < 50; ++i) {
    std::string p = std::to_string(100 + i % 5);
    p.append(".00");
    std::string sid = "s", bid = "b";
    sid.append(std::to_string(i));
    bid.append(std::to_string(i));
    ASSERT_TRUE(sub(static_cast<AccountId>(1 + i % 3), order(sid, Side::sell, p, "0.3")).ok());
    ASSERT_TRUE(sub(static_cast<AccountId>(4 + i % 2), order(bid, Side::buy, p, "0.2")).ok());
  }
  std::size_t trades = 0;
  std::int64_t qty_reports = 0, qty_ledger = 0;
  for (const Report& r : rec.reports)
    if (r.r.exec_type == ExecType::trade) { ++trades; qty_reports += r.r.last_qty.raw; }
  for (const Fill& f : eng.fills()) qty_ledger += f.qty.raw;
  EXPECT_EQ(trades, eng.fills().size());
  EXPECT_EQ(qty_reports, qty_ledger);
  // Conservation: the BTC and USDT held by all accounts (free + locked) only change by fees.
  std::int64_t btc = 0, usdt = 0, fees = 0;
  for (AccountId a = 1; a <= 5; ++a) {
    btc += eng.balance(a, "BTC").free_raw + eng.balance(a, "BTC").locked_raw;
    usdt += eng.balance(a, "USDT").free_raw + eng.balance(a, "USDT").locked_raw;
  }
  for (const Fill& f : eng.fills()) fees += f.commission_raw;
  EXPECT_EQ(btc, 5 * raw("100"));
  EXPECT_EQ(usdt + fees, 5 * raw("10000000"));
}

}  // namespace
