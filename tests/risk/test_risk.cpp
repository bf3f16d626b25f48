// tests/risk: every limit fires and names itself; the kill switch latches until reset; token
// buckets are exact on a fake clock; cancel_all covers every open order.
#include <gtest/gtest.h>

#include <functional>
#include <thread>
#include <vector>

#include "risk/risk.hpp"

namespace tickrt::risk {
namespace {

constexpr std::int64_t kMs = 1'000'000;
constexpr std::int64_t kSec = 1'000'000'000;

Price px(const char* s) {
  Price p;
  EXPECT_EQ(Price::parse(s, p), DecimalError::ok) << s;
  return p;
}
Qty qty(const char* s) {
  Qty q;
  EXPECT_EQ(Qty::parse(s, q), DecimalError::ok) << s;
  return q;
}
Notional quote(const char* s) {
  Notional n;
  EXPECT_EQ(Notional::parse(s, n), DecimalError::ok) << s;
  return n;
}

MarketTop top(const char* bid, const char* ask, std::int64_t t, book::BookState st = book::BookState::synced,
              bool crossed = false) {
  MarketTop m;
  m.bid = px(bid);
  m.ask = px(ask);
  m.state = st;
  m.crossed = crossed;
  m.update_ns = t;
  return m;
}

exec::OrderRequest order(const char* sym, exec::Side side, const char* price, const char* q,
                         exec::OrderType type = exec::OrderType::limit) {
  exec::OrderRequest o;
  o.symbol = exec::SymbolName::from(sym);
  o.side = side;
  o.type = type;
  o.price = px(price);
  o.qty = qty(q);
  return o;
}

exec::ExecReport fill(const char* sym, exec::Side side, const char* price, const char* q, std::int64_t t,
                      std::int64_t fee_raw = 0) {
  exec::ExecReport r;
  r.symbol = exec::SymbolName::from(sym);
  r.side = side;
  r.exec_type = exec::ExecType::trade;
  r.last_price = px(price);
  r.last_qty = qty(q);
  r.commission_raw = fee_raw;
  r.local_ns = t;
  return r;
}

// A fixture with two symbols, BTC around 60000 and ETH around 3000, and limits small enough that
// each test can reach the one it aims at.
struct RiskTest : ::testing::Test {
  AccountLimits acct;
  SymbolLimits btc_l, eth_l;
  std::unique_ptr<RiskEngine> r;
  SymbolId btc = 0, eth = 0;
  std::int64_t now = 1'000 * kSec;

  void SetUp() override {
    acct.max_gross_notional = quote("100000");
    acct.max_open_orders = 5;
    acct.order_rate = {10, 3};
    acct.cancel_rate = {5, 2};
    acct.max_md_staleness_ns = 500 * kMs;
    acct.max_daily_loss = quote("100");
    acct.max_drawdown = quote("60");
    btc_l.max_position = qty("1");
    btc_l.max_order_qty = qty("0.5");
    btc_l.max_order_notional = quote("20000");
    btc_l.min_order_notional = quote("5");
    btc_l.collar_bps = 20;
    btc_l.max_open_orders = 3;
    eth_l.max_position = qty("20");
    eth_l.max_order_qty = qty("10");
    eth_l.max_order_notional = quote("30000");
    eth_l.collar_bps = 50;
    eth_l.max_open_orders = 3;
    auto e = RiskEngine::create(acct, now);
    ASSERT_TRUE(e.ok()) << e.status().to_string();
    r = std::move(e.value());
    auto b = r->add_symbol("BTCUSDT", btc_l);
    ASSERT_TRUE(b.ok()) << b.status().to_string();
    btc = *b;
    auto h = r->add_symbol("ETHUSDT", eth_l);
    ASSERT_TRUE(h.ok());
    eth = *h;
    (void)r->on_market(btc, top("60000", "60001", now));
    (void)r->on_market(eth, top("3000", "3000.5", now));
  }
  Reason buy_btc(const char* price, const char* q, Exposure ex = {}) {
    return r->check_new(btc, order("BTCUSDT", exec::Side::buy, price, q), ex, now);
  }
  std::uint64_t refused(Reason why) const { return r->counters().refused[static_cast<std::size_t>(why)].get(); }
};

TEST_F(RiskTest, PassesAReasonableOrderAndCountsIt) {
  EXPECT_EQ(buy_btc("60000", "0.1"), Reason::ok);
  EXPECT_EQ(r->counters().passed.get(), 1u);
  EXPECT_EQ(r->counters().new_checks.get(), 1u);
  for (std::size_t i = 0; i < kReasonCount; ++i) EXPECT_EQ(r->counters().refused[i].get(), 0u) << i;
}

// Each case: the order is fine except for exactly one thing, and the reason names that thing.
TEST_F(RiskTest, EveryLimitFiresAndNamesItself) {
  struct Case {
    Reason want;
    std::function<Reason()> run;
  };
  std::vector<Case> cases = {
      {Reason::unknown_symbol, [&] { return r->check_new(7, order("BTCUSDT", exec::Side::buy, "60000", "0.1"), {}, now); }},
      {Reason::bad_order, [&] { return buy_btc("60000", "0"); }},
      {Reason::bad_order, [&] { return buy_btc("0", "0.1"); }},
      {Reason::bad_order, [&] { return r->check_new(btc, order("ETHUSDT", exec::Side::buy, "60000", "0.1"), {}, now); }},
      {Reason::max_order_qty, [&] { return buy_btc("60000", "0.50000001"); }},
      {Reason::max_order_notional, [&] {  // within qty, above 20000 quote: 0.4 * 60000 = 24000
         return buy_btc("60000", "0.4");
       }},
      {Reason::min_order_notional, [&] { return buy_btc("60000", "0.00008"); }},  // 4.8 quote < 5
      {Reason::price_collar, [&] { return buy_btc("60130", "0.1"); }},  // 21.7 bps above the mid
      {Reason::price_collar, [&] { return r->check_new(btc, order("BTCUSDT", exec::Side::sell, "59870", "0.1"), {}, now); }},
      {Reason::max_position_symbol, [&] {  // 0.3 + working 0.8 > 1
         Exposure ex;
         ex.open_buy = qty("0.8");
         ex.open_orders = 2;
         ex.open_orders_account = 2;
         return buy_btc("60000", "0.3", ex);
       }},
      {Reason::max_open_orders_symbol, [&] {
         Exposure ex;
         ex.open_orders = 3;
         ex.open_orders_account = 3;
         return buy_btc("60000", "0.1", ex);
       }},
      {Reason::max_open_orders_account, [&] {
         Exposure ex;
         ex.open_orders = 1;
         ex.open_orders_account = 5;
         return buy_btc("60000", "0.1", ex);
       }},
  };
  for (const Case& c : cases) {
    const std::uint64_t before = refused(c.want);
    EXPECT_EQ(c.run(), c.want) << reason_name(c.want);
    EXPECT_EQ(refused(c.want), before + 1) << reason_name(c.want);
  }
  // Nothing passed, so no order token was spent: three orders still fit the burst of 3.
  EXPECT_EQ(buy_btc("60000", "0.1"), Reason::ok);
  EXPECT_EQ(buy_btc("60000", "0.1"), Reason::ok);
  EXPECT_EQ(buy_btc("60000", "0.1"), Reason::ok);
  EXPECT_EQ(buy_btc("60000", "0.1"), Reason::order_rate);
  EXPECT_EQ(refused(Reason::order_rate), 1u);
}

TEST_F(RiskTest, CollarBoundaryIsInclusive) {
  // mid = 60000.5; 20 bps of it = 120.001; 60120.501 is exactly 20 bps above.
  EXPECT_EQ(buy_btc("60120.501", "0.1"), Reason::ok);
  EXPECT_EQ(buy_btc("60120.50100001", "0.1"), Reason::price_collar);
}

TEST_F(RiskTest, MarketOrdersUseTheTouchForNotional) {
  // 0.33 * 60001 = 19800.33 < 20000; 0.34 * 60001 = 20400.34 > 20000.
  EXPECT_EQ(r->check_new(btc, order("BTCUSDT", exec::Side::buy, "0", "0.33", exec::OrderType::market), {}, now), Reason::ok);
  EXPECT_EQ(r->check_new(btc, order("BTCUSDT", exec::Side::buy, "0", "0.34", exec::OrderType::market), {}, now),
            Reason::max_order_notional);
}

TEST_F(RiskTest, MinNotionalIsAnInclusiveFloorAndZeroIsNone) {
  // 0.0001 * 50000 = 5 exactly passes (the venue's filter is notional >= minNotional); one raw
  // unit of quantity less (0.00009999 * 50000 = 4.9995) is refused. Collar: limit far from the mid
  // would be refused later, so the price sits at the mid's side within 20 bps.
  (void)r->on_market(btc, top("50000", "50001", now));
  EXPECT_EQ(buy_btc("50000", "0.0001"), Reason::ok);
  EXPECT_EQ(buy_btc("50000", "0.00009999"), Reason::min_order_notional);
  // Market orders: the touch they would take (ask 50001): 0.0001 * 50001 >= 5.
  EXPECT_EQ(r->check_new(btc, order("BTCUSDT", exec::Side::buy, "0", "0.0001", exec::OrderType::market), {}, now), Reason::ok);
  EXPECT_EQ(refused(Reason::min_order_notional), 1u);
  // ETH has no floor (0): a tiny order passes.
  EXPECT_EQ(r->check_new(eth, order("ETHUSDT", exec::Side::buy, "3000", "0.0001"), {}, now), Reason::ok);
  // A floor at or above the ceiling cannot be met by any order: a setup error naming the key.
  SymbolLimits bad = btc_l;
  bad.min_order_notional = bad.max_order_notional;
  const Status st = validate(bad);
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.to_string().find("min_order_notional"), std::string::npos) << st.to_string();
  bad.min_order_notional = Notional::from_raw(-1);
  EXPECT_FALSE(validate(bad).ok());
}

TEST_F(RiskTest, BookStateAndStalenessRefuse) {
  EXPECT_EQ(r->check_new(eth, order("ETHUSDT", exec::Side::buy, "3000", "1"), {}, now), Reason::ok);
  (void)r->on_market(eth, top("3000", "3000.5", now, book::BookState::resyncing));
  EXPECT_EQ(r->check_new(eth, order("ETHUSDT", exec::Side::buy, "3000", "1"), {}, now), Reason::book_not_synced);
  (void)r->on_market(eth, top("3000", "3000.5", now, book::BookState::awaiting_snapshot));
  EXPECT_EQ(r->check_new(eth, order("ETHUSDT", exec::Side::buy, "3000", "1"), {}, now), Reason::book_not_synced);
  (void)r->on_market(eth, top("3001", "3000.5", now, book::BookState::synced, true));
  EXPECT_EQ(r->check_new(eth, order("ETHUSDT", exec::Side::buy, "3000", "1"), {}, now), Reason::book_crossed);
  (void)r->on_market(eth, top("3000", "0", now));
  EXPECT_EQ(r->check_new(eth, order("ETHUSDT", exec::Side::buy, "3000", "1"), {}, now), Reason::no_market_data);
  (void)r->on_market(eth, top("3000", "3000.5", now));
  // Exactly max_md_staleness old is still fresh; one ns more is stale.
  EXPECT_EQ(r->check_new(eth, order("ETHUSDT", exec::Side::buy, "3000", "1"), {}, now + 500 * kMs), Reason::ok);
  EXPECT_EQ(r->check_new(eth, order("ETHUSDT", exec::Side::buy, "3000", "1"), {}, now + 500 * kMs + 1),
            Reason::stale_market_data);
  EXPECT_EQ(refused(Reason::book_not_synced), 2u);
  EXPECT_EQ(refused(Reason::book_crossed), 1u);
  EXPECT_EQ(refused(Reason::no_market_data), 1u);
  EXPECT_EQ(refused(Reason::stale_market_data), 1u);
}

TEST(RiskNoData, NeverSeenABookIsNoMarketData) {
  RiskEngine r(AccountLimits{}, 0);
  auto s = r.add_symbol("BTCUSDT", SymbolLimits{});
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(r.check_new(*s, order("BTCUSDT", exec::Side::buy, "1", "0.1"), {}, 5), Reason::no_market_data);
}

TEST_F(RiskTest, PositionFromFillsAndAccountGross) {
  ASSERT_FALSE(r->on_fill(btc, fill("BTCUSDT", exec::Side::buy, "60000", "0.9", now)));
  EXPECT_EQ(r->position(btc), qty("0.9"));
  EXPECT_EQ(buy_btc("60000", "0.1"), Reason::ok);                        // exactly 1.0
  EXPECT_EQ(buy_btc("60000", "0.10000001"), Reason::max_position_symbol);
  // Selling reduces: worst case 0.9 - 0.3 = 0.6.
  EXPECT_EQ(r->check_new(btc, order("BTCUSDT", exec::Side::sell, "60000", "0.3"), {}, now), Reason::ok);
  // Account: 0.9 BTC * 60000.5 = 54000.45 gross already; ETH 10 * 3000.25 = 30002.5 fits.
  EXPECT_EQ(r->check_new(eth, order("ETHUSDT", exec::Side::buy, "3000", "10"), {}, now), Reason::ok);
  // ... but with 6 more working: 16 * 3000.25 = 48004 -> 102004.45 > 100000.
  now += kSec;  // (refills the order bucket)
  (void)r->on_market(btc, top("60000", "60001", now));
  (void)r->on_market(eth, top("3000", "3000.5", now));
  Exposure ex;
  ex.open_buy = qty("6");
  ex.open_orders = 1;
  ex.open_orders_account = 1;
  EXPECT_EQ(r->check_new(eth, order("ETHUSDT", exec::Side::buy, "3000", "10"), ex, now), Reason::max_position_account);
  ex.open_buy = qty("5");  // 15 * 3000.25 = 45003.75 + 54000.45 = 99004.2 <= 100000
  EXPECT_EQ(r->check_new(eth, order("ETHUSDT", exec::Side::buy, "3000", "10"), ex, now), Reason::ok);
  EXPECT_EQ(refused(Reason::max_position_account), 1u);
}

TEST(TokenBucket, ExactOnAFakeClock) {
  TokenBucket b({10, 3}, 0);  // 10/s: one token per 100 ms exactly
  EXPECT_TRUE(b.try_take(0));
  EXPECT_TRUE(b.try_take(0));
  EXPECT_TRUE(b.try_take(0));
  EXPECT_FALSE(b.try_take(0));
  EXPECT_FALSE(b.try_take(100 * kMs - 1));  // 0.99999999 token
  EXPECT_TRUE(b.try_take(100 * kMs));
  EXPECT_FALSE(b.try_take(100 * kMs));
  // 250 ms later: 2.5 tokens; two taken, the half stays.
  EXPECT_TRUE(b.try_take(350 * kMs));
  EXPECT_TRUE(b.try_take(350 * kMs));
  EXPECT_FALSE(b.try_take(350 * kMs));
  EXPECT_EQ(b.level_nano(), TokenBucket::kUnit / 2);
  EXPECT_TRUE(b.try_take(400 * kMs));  // the half + 50 ms = 1 token exactly
  EXPECT_EQ(b.level_nano(), 0);
  // A long idle spell caps at burst (and does not overflow).
  EXPECT_EQ(b.available(400 * kMs + 100'000 * kSec), 3);
  // A clock stepping backwards refills nothing.
  TokenBucket c({1, 1}, 10 * kSec);
  EXPECT_TRUE(c.try_take(10 * kSec));
  EXPECT_FALSE(c.try_take(5 * kSec));
  EXPECT_FALSE(c.try_take(11 * kSec - 1));
  EXPECT_TRUE(c.try_take(11 * kSec));
  // 1000 takes at 1000/s over exactly one second with burst 1: every one succeeds.
  TokenBucket d({1000, 1}, 0);
  int ok = 0;
  for (int i = 1; i <= 1000; ++i) ok += d.try_take(static_cast<std::int64_t>(i) * kMs);
  EXPECT_EQ(ok, 1000);
  EXPECT_FALSE(d.try_take(1000 * kMs));
}

TEST_F(RiskTest, CancelRateThrottle) {
  EXPECT_EQ(r->check_cancel(btc, now), Reason::ok);
  EXPECT_EQ(r->check_cancel(btc, now), Reason::ok);
  EXPECT_EQ(r->check_cancel(btc, now), Reason::cancel_rate);
  EXPECT_EQ(r->check_cancel(btc, now + 200 * kMs), Reason::ok);  // 5/s: one per 200 ms
  EXPECT_EQ(refused(Reason::cancel_rate), 1u);
}

TEST_F(RiskTest, DailyLossLatchesUntilReset) {
  ASSERT_FALSE(r->on_fill(btc, fill("BTCUSDT", exec::Side::buy, "60000", "0.5", now)));
  // Mid drops 199.5 -> PnL = 0.5 * (59800.5 - 60000) = -99.75: within the 100 daily loss, but the
  // drawdown limit is 60: drawdown trips first.
  EXPECT_TRUE(r->on_market(btc, top("59800", "59801", now + 1)));
  EXPECT_TRUE(r->latched());
  EXPECT_EQ(r->kill_cause(), KillCause::drawdown);
  EXPECT_EQ(r->pnl_raw(), quote("-99.75").raw);
  EXPECT_EQ(r->counters().kill_trips.get(), 1u);
  // Latched: every new order refused, even after the market recovers.
  EXPECT_FALSE(r->on_market(btc, top("60100", "60101", now + 2)));
  EXPECT_TRUE(r->latched());
  EXPECT_EQ(r->check_new(btc, order("BTCUSDT", exec::Side::sell, "60100", "0.1"), {}, now + 2), Reason::kill_switch);
  EXPECT_EQ(refused(Reason::kill_switch), 1u);
  // Cancels still pass.
  EXPECT_EQ(r->check_cancel(btc, now + 2), Reason::ok);
  // Reset needs a reason.
  Status s = r->reset("", now + 3);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("reason"), std::string::npos);
  EXPECT_TRUE(r->latched());
  ASSERT_TRUE(r->reset("ops: checked positions after drawdown", now + 3).ok());
  EXPECT_FALSE(r->latched());
  EXPECT_EQ(r->last_reset_reason(), "ops: checked positions after drawdown");
  EXPECT_EQ(r->counters().resets.get(), 1u);
  EXPECT_EQ(r->check_new(btc, order("BTCUSDT", exec::Side::sell, "60100", "0.1"), {}, now + 3), Reason::ok);
}

TEST_F(RiskTest, DailyLossNamesItselfAndBlocksResetWhileBreached) {
  // Fees only: 150 quote lost with the mark unchanged -> daily loss (drawdown limit raised first).
  acct.max_drawdown = quote("1000");
  RiskEngine e(acct, now);
  auto s = e.add_symbol("BTCUSDT", btc_l);
  ASSERT_TRUE(s.ok());
  (void)e.on_market(*s, top("60000", "60001", now));
  EXPECT_FALSE(e.on_fill(*s, fill("BTCUSDT", exec::Side::buy, "60000.5", "0.1", now, quote("99").raw)));
  EXPECT_FALSE(e.latched());
  EXPECT_TRUE(e.on_fill(*s, fill("BTCUSDT", exec::Side::sell, "60000.5", "0.1", now, quote("51").raw)));
  EXPECT_EQ(e.kill_cause(), KillCause::daily_loss);
  Status st = e.reset("try", now);
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("max_daily_loss"), std::string::npos) << st.message();
  EXPECT_TRUE(e.latched());
  e.start_day(now + kSec);  // new day: the baseline moves to -150
  EXPECT_TRUE(e.latched()); // a new day does not unlatch
  ASSERT_TRUE(e.reset("new day", now + kSec).ok());
  EXPECT_FALSE(e.latched());
}

TEST_F(RiskTest, OperatorKillFromAnotherThreadAndCancelAll) {
  std::thread t([&] { r->request_kill(); });
  t.join();
  EXPECT_EQ(buy_btc("60000", "0.1"), Reason::kill_switch);
  EXPECT_EQ(r->kill_cause(), KillCause::operator_);
  std::vector<OpenOrder> open(4);
  for (int i = 0; i < 4; ++i) {
    open[i].symbol = exec::SymbolName::from(i % 2 ? "ETHUSDT" : "BTCUSDT");
    open[i].client_order_id = exec::ClientOrderId::from("id" + std::to_string(i));
    open[i].exchange_order_id = 100 + static_cast<std::uint64_t>(i);
    open[i].leaves = qty("1");
  }
  open[2].cancel_pending = true;
  exec::CancelRequest out[8];
  ASSERT_EQ(r->cancel_all(open, out), 3u);
  EXPECT_EQ(out[0].orig_client_order_id.view(), "id0");
  EXPECT_EQ(out[1].orig_client_order_id.view(), "id1");
  EXPECT_EQ(out[1].symbol.view(), "ETHUSDT");
  EXPECT_EQ(out[2].orig_client_order_id.view(), "id3");
  EXPECT_EQ(out[2].exchange_order_id, 103u);
  EXPECT_TRUE(out[2].client_order_id.empty());  // the OMS assigns the cancel's own id
  // A short output array: as many as fit.
  exec::CancelRequest small[1];
  EXPECT_EQ(r->cancel_all(open, small), 1u);
  EXPECT_EQ(r->counters().cancel_all_intents.get(), 4u);
}

TEST(RiskSetup, BadLimitsNameTheField) {
  SymbolLimits l;
  l.max_order_qty = Qty{};
  RiskEngine r(AccountLimits{}, 0);
  auto s = r.add_symbol("BTCUSDT", l);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("max_order_qty"), std::string::npos);
  EXPECT_NE(s.status().message().find("BTCUSDT"), std::string::npos);
  AccountLimits a;
  a.order_rate.burst = 0;
  auto e = RiskEngine::create(a, 0);
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.status().message().find("order_rate.burst"), std::string::npos);
  ASSERT_TRUE(r.add_symbol("BTCUSDT", SymbolLimits{}).ok());
  EXPECT_FALSE(r.add_symbol("BTCUSDT", SymbolLimits{}).ok());
  EXPECT_FALSE(r.add_symbol("", SymbolLimits{}).ok());
  EXPECT_FALSE(r.add_symbol("A_NAME_THAT_IS_FAR_TOO_LONG_FOR_BINANCE", SymbolLimits{}).ok());
}

// The view built from a real L2Book: synced top passes, a gap (resyncing) refuses.
TEST(RiskWithBook, TopOfAnL2BookDrivesTheBookChecks) {
  book::L2Book b(feed::Market::spot);
  const feed::Level bids[] = {{px("100.00"), qty("1")}, {px("99.99"), qty("2")}};
  const feed::Level asks[] = {{px("100.02"), qty("1")}};
  ASSERT_EQ(b.on_snapshot(10, bids, asks), book::SnapshotResult::synced);
  MarketTop t = top_of(b, 5 * kSec);
  EXPECT_EQ(t.bid, px("100.00"));
  EXPECT_EQ(t.ask, px("100.02"));
  EXPECT_TRUE(t.tradable());
  EXPECT_EQ(t.mid_raw(), px("100.01").raw);
  RiskEngine r(AccountLimits{}, 0);
  const SymbolId s = r.add_symbol("BTCUSDT", SymbolLimits{}).value();
  (void)r.on_market(s, t);
  EXPECT_EQ(r.check_new(s, order("BTCUSDT", exec::Side::buy, "100", "0.5"), {}, 5 * kSec), Reason::ok);
  // A diff that skips ids: the book goes resyncing and risk refuses.
  feed::DepthUpdateFields d;
  d.first_update_id = 11;  // straddles lastUpdateId + 1
  d.final_update_id = 12;
  d.bids = bids;
  ASSERT_EQ(b.on_diff(d), book::DiffResult::applied);
  d.first_update_id = 20;  // 13..19 missing
  d.final_update_id = 21;
  ASSERT_EQ(b.on_diff(d), book::DiffResult::gap);
  t = top_of(b, 6 * kSec);
  EXPECT_EQ(t.state, book::BookState::resyncing);
  EXPECT_FALSE(t.tradable());
  (void)r.on_market(s, t);
  EXPECT_EQ(r.check_new(s, order("BTCUSDT", exec::Side::buy, "100", "0.5"), {}, 6 * kSec), Reason::book_not_synced);
}

TEST(RiskNames, EveryReasonHasAStableName) {
  for (std::size_t i = 0; i < kReasonCount; ++i) {
    const auto n = reason_name(static_cast<Reason>(i));
    EXPECT_NE(n, "unknown") << i;
    EXPECT_EQ(n.find(' '), std::string_view::npos);
  }
}

}  // namespace
}  // namespace tickrt::risk
