// Replay mode: our orders against a displayed book built from hand-made events and from a real
// capture (../shared/data/binance_ws, skipped when absent).
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "feed/feed.hpp"
#include "sim/matching_engine.hpp"
#include "sim_test_util.hpp"

using namespace tickrt;
using namespace tickrt::sim;
using namespace tickrt::sim::testing;

namespace {

constexpr feed::SymbolId kFeedId = 0;

// Builds events for feed symbol 0 (spot). Level storage lives in the builder.
struct Events {
  std::vector<Level> bids, asks;
  std::uint64_t next_u = 101;
  std::int64_t ts = 1'000'000;
  feed::Event ev;

  const feed::Event& snapshot(std::uint64_t last_id, std::vector<Level> b, std::vector<Level> a) {
    bids = std::move(b);
    asks = std::move(a);
    ev = feed::Event{};
    ev.kind = feed::EventKind::depth_snapshot;
    ev.market = feed::Market::spot;
    ev.symbol = kFeedId;
    ev.local_ts_ns = ts++;
    ev.snapshot.last_update_id = last_id;
    ev.snapshot.bids = bids;
    ev.snapshot.asks = asks;
    next_u = last_id + 1;
    return ev;
  }
  const feed::Event& diff(std::vector<Level> b, std::vector<Level> a) {
    bids = std::move(b);
    asks = std::move(a);
    ev = feed::Event{};
    ev.kind = feed::EventKind::depth_update;
    ev.market = feed::Market::spot;
    ev.symbol = kFeedId;
    ev.local_ts_ns = ts++;
    ev.depth.first_update_id = next_u;
    ev.depth.final_update_id = next_u;
    ++next_u;
    ev.depth.bids = bids;
    ev.depth.asks = asks;
    return ev;
  }
  // buyer_is_maker = true: the aggressor sold (hits bids)
  const feed::Event& trade(std::string_view price, std::string_view qty, bool buyer_is_maker) {
    ev = feed::Event{};
    ev.kind = feed::EventKind::trade;
    ev.market = feed::Market::spot;
    ev.symbol = kFeedId;
    ev.local_ts_ns = ts++;
    ev.trade.trade_id = 1;
    ev.trade.price = px(price);
    ev.trade.qty = qt(qty);
    ev.trade.buyer_is_maker = buyer_is_maker;
    return ev;
  }
};

Level L(std::string_view p, std::string_view q) { return Level{px(p), qt(q)}; }

struct Replay : ::testing::Test {
  std::unique_ptr<MatchingEngine> eng;
  Recorder rec;
  Events E;
  std::int64_t t = 10;
  void make(QueueModel qm = QueueModel::proportional) {
    SimConfig c = base_config();
    c.queue_model = qm;
    eng = std::make_unique<MatchingEngine>(c);
    ASSERT_TRUE(eng->status().ok());
    ASSERT_TRUE(eng->map_feed_symbol(kFeedId, "BTCUSDT").ok());
    eng->set_sink(&rec);
    // displayed: bids 99.00 x5, 98.00 x5; asks 101.00 x3, 102.00 x4
    const MarketEventResult r = eng->on_market_event(E.snapshot(100, {L("99.00", "5"), L("98.00", "5")},
                                                                {L("101.00", "3"), L("102.00", "4")}));
    ASSERT_TRUE(r.mapped);
    ASSERT_TRUE(r.book_changed);
    ASSERT_TRUE(eng->replay_tradable(0));
  }
  SubmitResult sub(AccountId a, const OrderRequest& r) { return eng->submit(a, r, t++); }
  OrderState q(AccountId a, std::string_view clid) {
    auto s = eng->query(a, SymbolName::from("BTCUSDT"), ClientOrderId::from(clid));
    EXPECT_TRUE(s.has_value());
    return s.value_or(OrderState{});
  }
};

TEST_F(Replay, TakerWalksDisplayedLevelsAndConsumptionLastsUntilTheNextDiff) {
  make();
  SubmitResult r = sub(1, order("t1", Side::buy, "102.00", "5"));
  ASSERT_EQ(r.status, OrderStatus::filled);
  EXPECT_EQ(r.cum_quote_raw, raw("303") + raw("204"));  // 3 @ 101 + 2 @ 102
  ASSERT_EQ(eng->fills().size(), 2u);
  EXPECT_EQ(eng->fills()[0].counterparty, kReplayAccount);
  EXPECT_FALSE(eng->fills()[0].is_maker);
  DepthSnapshot d;
  ASSERT_EQ(eng->depth_snapshot(SymbolName::from("BTCUSDT"), 5, d), RejectCode::none);
  ASSERT_EQ(d.asks.size(), 1u);  // 101 consumed entirely, 102 has 2 left
  EXPECT_EQ(d.asks[0].price, px("102.00"));
  EXPECT_EQ(d.asks[0].qty, qt("2"));
  // Consumed stays consumed: an IOC for 3 more at 102 gets only the 2 left.
  r = sub(2, order("t2", Side::buy, "102.00", "3", OrderType::limit, TimeInForce::ioc));
  EXPECT_EQ(r.executed, qt("2"));
  // A diff touching 102 resets it to the real quantity; 101 stays consumed (not touched).
  (void)eng->on_market_event(E.diff({}, {L("102.00", "4")}));
  ASSERT_EQ(eng->depth_snapshot(SymbolName::from("BTCUSDT"), 5, d), RejectCode::none);
  ASSERT_EQ(d.asks.size(), 1u);
  EXPECT_EQ(d.asks[0].qty, qt("4"));
  (void)eng->on_market_event(E.diff({}, {L("101.00", "3")}));
  ASSERT_EQ(eng->depth_snapshot(SymbolName::from("BTCUSDT"), 5, d), RejectCode::none);
  ASSERT_EQ(d.asks.size(), 2u);
  EXPECT_EQ(d.asks[0].qty, qt("3"));
}

TEST_F(Replay, RestingOrderJoinsBehindDisplayedAndTradesDepleteTheQueueFirst) {
  make();
  ASSERT_TRUE(sub(1, order("b", Side::buy, "99.00", "1")).ok());
  EXPECT_EQ(q(1, "b").queue_ahead, qt("5"));
  DepthSnapshot d;
  ASSERT_EQ(eng->depth_snapshot(SymbolName::from("BTCUSDT"), 5, d), RejectCode::none);
  EXPECT_EQ(d.bids[0].qty, qt("6"));  // displayed 5 + ours 1
  // A sell trade of 3 at 99: queue ahead 5 -> 2, no fill.
  MarketEventResult r = eng->on_market_event(E.trade("99.00", "3", true));
  EXPECT_EQ(r.fills, 0u);
  EXPECT_EQ(q(1, "b").queue_ahead, qt("2"));
  // A buy trade at 99 does not touch bids.
  r = eng->on_market_event(E.trade("99.00", "3", false));
  EXPECT_EQ(r.fills, 0u);
  // 2.4 more: 2 clears the queue, 0.4 fills us.
  r = eng->on_market_event(E.trade("99.00", "2.4", true));
  EXPECT_EQ(r.fills, 1u);
  OrderState s = q(1, "b");
  EXPECT_EQ(s.cum_qty, qt("0.4"));
  EXPECT_EQ(s.status, OrderStatus::partially_filled);
  EXPECT_EQ(eng->fills().back().price, px("99.00"));
  EXPECT_TRUE(eng->fills().back().is_maker);
  // The diff reflecting those 5.4 traded (5 -> 0 displayed; what traded is not counted as cancels).
  (void)eng->on_market_event(E.diff({L("99.00", "0")}, {}));
  EXPECT_EQ(q(1, "b").queue_ahead, Qty{});
  // Next trade at 99 fills us directly.
  r = eng->on_market_event(E.trade("99.00", "1", true));
  EXPECT_EQ(r.fills, 1u);
  EXPECT_EQ(q(1, "b").status, OrderStatus::filled);
}

TEST_F(Replay, TradeThroughOurPriceFillsFully) {
  make();
  ASSERT_TRUE(sub(1, order("b", Side::buy, "99.00", "2")).ok());
  ASSERT_TRUE(sub(1, order("a", Side::sell, "101.00", "1")).ok());
  MarketEventResult r = eng->on_market_event(E.trade("98.99", "0.01", true));  // sold below our bid
  EXPECT_EQ(r.fills, 1u);
  EXPECT_EQ(q(1, "b").status, OrderStatus::filled);
  EXPECT_EQ(q(1, "b").cum_qty, qt("2"));
  r = eng->on_market_event(E.trade("101.01", "0.01", false));  // bought above our ask
  EXPECT_EQ(r.fills, 1u);
  EXPECT_EQ(q(1, "a").status, OrderStatus::filled);
  EXPECT_EQ(eng->fills().back().price, px("101.00"));  // at our price
}

TEST_F(Replay, TradeAndDiffOfTheSameTradeAreNotCountedTwice) {
  make();
  ASSERT_TRUE(sub(1, order("b", Side::buy, "99.00", "1")).ok());  // ahead 5
  (void)eng->on_market_event(E.trade("99.00", "2", true));        // ahead 3
  EXPECT_EQ(q(1, "b").queue_ahead, qt("3"));
  (void)eng->on_market_event(E.diff({L("99.00", "3")}, {}));      // the diff showing that trade
  EXPECT_EQ(q(1, "b").queue_ahead, qt("3"));
}

TEST_F(Replay, QueueModelsOnCancels) {
  struct Case { QueueModel m; const char* ahead; };
  // ahead 5 of displayed 5; then 5 more join behind (10); then 4 cancel (10 -> 6)
  for (const Case& c : {Case{QueueModel::proportional, "3"},     // 5 - 4*5/10
                        Case{QueueModel::cancels_behind, "5"},   // min(5, 6)
                        Case{QueueModel::cancels_ahead, "1"}}) { // 5 - 4
    E = Events{};
    make(c.m);
    ASSERT_TRUE(sub(1, order("b", Side::buy, "99.00", "1")).ok());
    (void)eng->on_market_event(E.diff({L("99.00", "10")}, {}));
    EXPECT_EQ(q(1, "b").queue_ahead, qt("5")) << queue_model_name(c.m);
    (void)eng->on_market_event(E.diff({L("99.00", "6")}, {}));
    EXPECT_EQ(q(1, "b").queue_ahead, qt(c.ahead)) << queue_model_name(c.m);
    // never more ahead than displayed
    (void)eng->on_market_event(E.diff({L("99.00", "0.5")}, {}));
    EXPECT_LE(q(1, "b").queue_ahead, qt("0.5")) << queue_model_name(c.m);
  }
}

TEST_F(Replay, DisplayedBookCrossingOurOrderFillsIt) {
  make();
  ASSERT_TRUE(sub(1, order("b", Side::buy, "100.00", "1")).ok());  // inside the spread, alone
  EXPECT_EQ(q(1, "b").queue_ahead, Qty{});
  const MarketEventResult r = eng->on_market_event(E.diff({}, {L("99.50", "2")}));  // asks move to 99.50
  EXPECT_EQ(r.fills, 1u);
  EXPECT_EQ(q(1, "b").status, OrderStatus::filled);
  EXPECT_EQ(eng->fills().back().price, px("100.00"));
  EXPECT_TRUE(eng->fills().back().is_maker);
}

TEST_F(Replay, AccountsMatchEachOtherAndInterleaveWithTheDisplayedQueue) {
  make();
  ASSERT_TRUE(sub(1, order("s1", Side::sell, "101.00", "1")).ok());  // behind displayed 3
  ASSERT_TRUE(sub(2, order("s2", Side::sell, "100.50", "1")).ok());  // inside the spread
  SubmitResult r = sub(3, order("t", Side::buy, "101.00", "4.5"));
  ASSERT_EQ(r.status, OrderStatus::filled);
  const auto& f = eng->fills();
  // 1 from account 2 at 100.50, then displayed 3 at 101 (ahead of s1), then 0.5 of s1; fills
  // against displayed liquidity have one ledger entry (ours), engine-vs-engine trades two.
  ASSERT_EQ(f.size(), 5u);
  EXPECT_EQ(f[1].account, 2u);
  EXPECT_EQ(f[2].counterparty, kReplayAccount);
  EXPECT_EQ(f[2].qty, qt("3"));
  EXPECT_EQ(f[4].account, 1u);
  EXPECT_EQ(f[4].qty, qt("0.5"));
  EXPECT_EQ(q(1, "s1").queue_ahead, Qty{});
  // LIMIT_MAKER against displayed liquidity is refused too.
  EXPECT_EQ(sub(4, order("pm", Side::sell, "99.00", "1", OrderType::limit_maker)).reason, RejectReason::would_take);
}

TEST_F(Replay, GapMakesTheDisplayedBookUntradableUntilTheNextSnapshot) {
  make();
  feed::Event ev = E.diff({L("99.00", "4")}, {});
  ev.depth.first_update_id = ev.depth.final_update_id = 500;  // breaks the chain
  const MarketEventResult r = eng->on_market_event(ev);
  EXPECT_TRUE(r.gap);
  EXPECT_FALSE(eng->replay_tradable(0));
  // no displayed liquidity while resyncing: a market buy finds nothing
  EXPECT_EQ(sub(1, order("m", Side::buy, "", "1", OrderType::market)).status, OrderStatus::expired);
  (void)eng->on_market_event(E.snapshot(600, {L("99.00", "1")}, {L("100.00", "1")}));
  EXPECT_TRUE(eng->replay_tradable(0));
  EXPECT_EQ(sub(1, order("m2", Side::buy, "", "1", OrderType::market)).status, OrderStatus::filled);
}

TEST_F(Replay, UnmappedSymbolsAreCounted) {
  make();
  feed::Event ev = E.trade("99.00", "1", true);
  ev.symbol = 9;
  EXPECT_FALSE(eng->on_market_event(ev).mapped);
  ev.symbol = feed::kNoSymbol;
  EXPECT_FALSE(eng->on_market_event(ev).mapped);
  EXPECT_EQ(eng->counters().market_events_unmapped, 2u);
}

std::string capture_path(const std::string& rel) {
  for (const char* p : {"../shared/data/binance_ws/", "/work/shared/data/binance_ws/"})
    if (std::filesystem::exists(std::string(p) + rel)) return std::string(p) + rel;
  return {};
}

// A real capture: the displayed book follows it, our resting orders at the touch get filled by
// real flow, and what the engine reports stays consistent.
struct CaptureCase {
  const char* file;
  feed::Market market;
  std::int64_t tick_raw;  // BTCUSDT PRICE_FILTER: spot 0.01, usdm 0.1
};
class ReplayCapture : public ::testing::TestWithParam<CaptureCase> {};

TEST_P(ReplayCapture, QuotesAtTheTouchGetFilledByRealFlow) {
  const std::string path = capture_path(GetParam().file);
  if (path.empty()) GTEST_SKIP() << "../shared/data/binance_ws/" << GetParam().file << " not present";
  SimConfig c = base_config();
  c.symbols[0].market = GetParam().market;
  c.symbols[0].tick_size = Price::from_raw(GetParam().tick_raw);
  c.symbols[0].step_size = Qty::from_raw(100'000);       // 0.001
  c.symbols[0].min_qty = Qty::from_raw(100'000);
  MatchingEngine eng(c);
  ASSERT_TRUE(eng.status().ok());
  Recorder rec;
  eng.set_sink(&rec);
  feed::CaptureReader reader;
  ASSERT_TRUE(reader.open(path).ok());
  feed::LineParser parser;
  feed::FileContext fc;
  feed::Event ev;
  std::string_view line;
  bool mapped = false;
  std::uint64_t events = 0, placed = 0;
  int k = 0;
  std::int64_t last_quote_ns = 0;
  while (reader.next(line)) {
    if (parser.parse(line, fc, ev) != feed::LineError::ok) continue;
    if (!mapped && ev.symbol != feed::kNoSymbol) {
      ASSERT_EQ(parser.symbols().name(ev.symbol), "BTCUSDT");
      ASSERT_TRUE(eng.map_feed_symbol(ev.symbol, "BTCUSDT").ok());
      mapped = true;
    }
    (void)eng.on_market_event(ev);
    ++events;
    if (events % 997 == 0) {  // best_bid/best_ask agree with the top of depth_snapshot
      DepthSnapshot d;
      ASSERT_EQ(eng.depth_snapshot(SymbolName::from("BTCUSDT"), 1, d), RejectCode::none);
      Level b;
      if (eng.best_bid(0, b)) {
        ASSERT_EQ(d.bids.size(), 1u);
        EXPECT_EQ(d.bids[0], b);
      } else {
        EXPECT_TRUE(d.bids.empty());
      }
      if (eng.best_ask(0, b)) {
        ASSERT_EQ(d.asks.size(), 1u);
        EXPECT_EQ(d.asks[0], b);
      } else {
        EXPECT_TRUE(d.asks.empty());
      }
    }
    // Every 2 s of capture time: refresh one bid and one ask at the touch (account 1).
    if (eng.replay_tradable(0) && ev.local_ts_ns - last_quote_ns > 2'000'000'000) {
      last_quote_ns = ev.local_ts_ns;
      (void)eng.cancel_all(1, SymbolName::from("BTCUSDT"), ev.local_ts_ns);
      Level bb, ba;
      ASSERT_TRUE(eng.best_bid(0, bb));
      ASSERT_TRUE(eng.best_ask(0, ba));
      ASSERT_LT(bb.price, ba.price);
      OrderRequest b = order(idn("qb", k), Side::buy, "1", "0.01");
      b.price = bb.price;
      OrderRequest a = order(idn("qa", k), Side::sell, "1", "0.01");
      a.price = ba.price;
      ++k;
      const SubmitResult rb = eng.submit(1, b, ev.local_ts_ns);
      const SubmitResult ra = eng.submit(1, a, ev.local_ts_ns);
      ASSERT_TRUE(rb.ok()) << reject_reason_name(rb.reason) << " " << b.price.to_string();
      ASSERT_TRUE(ra.ok()) << reject_reason_name(ra.reason);
      EXPECT_EQ(rb.status, OrderStatus::new_);  // at the touch: rests, never takes
      placed += 2;
    }
  }
  ASSERT_TRUE(reader.status().ok()) << reader.status().to_string();
  EXPECT_GT(events, 40000u);
  EXPECT_GT(placed, 100u);
  EXPECT_EQ(eng.counters().market_events_unmapped, 0u);
  // Real flow filled some of our quotes, as makers, at our prices.
  const auto& f = eng.fills();
  EXPECT_GT(f.size(), 5u);
  std::int64_t base = 0, quote = 0;
  for (const Fill& x : f) {
    EXPECT_TRUE(x.is_maker);
    EXPECT_EQ(x.counterparty, kReplayAccount);
    base += x.side == Side::buy ? x.qty.raw : -x.qty.raw;
    quote += (x.side == Side::buy ? -x.quote_raw : x.quote_raw) - x.commission_raw;
  }
  // Balances equal start + ledger (free + locked), exactly.
  const Balance bb = eng.balance(1, "BTC"), bq = eng.balance(1, "USDT");
  EXPECT_EQ(bb.free_raw + bb.locked_raw, raw("100") + base);
  EXPECT_EQ(bq.free_raw + bq.locked_raw, raw("10000000") + quote);
  // Every fill was reported once, in order.
  std::vector<std::uint64_t> reported;
  for (const Report& r : rec.reports)
    if (r.r.exec_type == ExecType::trade) reported.push_back(r.r.trade_id);
  ASSERT_EQ(reported.size(), f.size());
  for (std::size_t i = 0; i < f.size(); ++i) EXPECT_EQ(reported[i], f[i].trade_id);
  const EngineCounters& k2 = eng.counters();
  EXPECT_EQ(k2.replay_fills_queue + k2.replay_fills_through + k2.replay_fills_cross, f.size());
  std::printf("[ capture ] %s: %llu events, %llu quotes placed, %zu fills (queue %llu, through %llu, cross %llu)\n",
              GetParam().file, static_cast<unsigned long long>(events), static_cast<unsigned long long>(placed),
              f.size(), static_cast<unsigned long long>(k2.replay_fills_queue),
              static_cast<unsigned long long>(k2.replay_fills_through),
              static_cast<unsigned long long>(k2.replay_fills_cross));
}

// The three queue models on the same capture and quoting: cancels from behind us (pessimistic)
// <= proportional <= cancels from the front (optimistic), in fills at our price after the queue.
class ReplayCaptureModels : public ::testing::TestWithParam<CaptureCase> {};

TEST_P(ReplayCaptureModels, QueueModelsBracketEachOther) {
  const std::string path = capture_path(GetParam().file);
  if (path.empty()) GTEST_SKIP() << "../shared/data/binance_ws/" << GetParam().file << " not present";
  std::uint64_t queue_fills[3] = {}, all_fills[3] = {};
  const QueueModel models[3] = {QueueModel::cancels_behind, QueueModel::proportional, QueueModel::cancels_ahead};
  for (int m = 0; m < 3; ++m) {
    SimConfig c = base_config();
    c.queue_model = models[m];
    c.enforce_balances = false;
    c.symbols[0].market = GetParam().market;
    c.symbols[0].tick_size = Price::from_raw(GetParam().tick_raw);
    MatchingEngine eng(c);
    feed::CaptureReader reader;
    ASSERT_TRUE(reader.open(path).ok());
    feed::LineParser parser;
    feed::FileContext fc;
    feed::Event ev;
    std::string_view line;
    bool mapped = false;
    std::int64_t last = 0;
    int k = 0;
    while (reader.next(line)) {
      if (parser.parse(line, fc, ev) != feed::LineError::ok) continue;
      if (!mapped && ev.symbol != feed::kNoSymbol) mapped = eng.map_feed_symbol(ev.symbol, "BTCUSDT").ok();
      (void)eng.on_market_event(ev);
      if (!eng.replay_tradable(0) || ev.local_ts_ns - last <= 2'000'000'000) continue;
      last = ev.local_ts_ns;
      (void)eng.cancel_all(1, SymbolName::from("BTCUSDT"), last);
      Level bb, ba;
      if (!eng.best_bid(0, bb) || !eng.best_ask(0, ba)) continue;
      OrderRequest b = order(idn("b", k), Side::buy, "1", "0.01");
      b.price = bb.price;
      OrderRequest a = order(idn("a", k++), Side::sell, "1", "0.01");
      a.price = ba.price;
      ASSERT_TRUE(eng.submit(1, b, last).ok());
      ASSERT_TRUE(eng.submit(1, a, last).ok());
    }
    queue_fills[m] = eng.counters().replay_fills_queue;
    all_fills[m] = eng.fills().size();
    std::printf("[ models  ] %s %-15s %d quotes, %llu fills, %llu after the queue\n",
                GetParam().file, std::string(queue_model_name(models[m])).c_str(), 2 * k,
                static_cast<unsigned long long>(all_fills[m]), static_cast<unsigned long long>(queue_fills[m]));
  }
  EXPECT_LT(queue_fills[0], queue_fills[1]);
  EXPECT_LT(queue_fills[1], queue_fills[2]);
  EXPECT_LE(all_fills[0], all_fills[2]);
}

INSTANTIATE_TEST_SUITE_P(Captures, ReplayCapture,
                         ::testing::Values(CaptureCase{"spot/btcusdt_20240808.gz", feed::Market::spot, 1'000'000},
                                           CaptureCase{"usdm/btcusdt_20240808.gz", feed::Market::futures, 10'000'000}),
                         [](const auto& info) { return info.index == 0 ? std::string("spot") : std::string("usdm"); });

INSTANTIATE_TEST_SUITE_P(Captures, ReplayCaptureModels,
                         ::testing::Values(CaptureCase{"spot/btcusdt_20240808.gz", feed::Market::spot, 1'000'000},
                                           CaptureCase{"usdm/btcusdt_20240808.gz", feed::Market::futures, 10'000'000}),
                         [](const auto& info) { return info.index == 0 ? std::string("spot") : std::string("usdm"); });

}  // namespace
