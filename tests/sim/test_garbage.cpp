// Garbage in, codes out: requests with random bytes (corrupted lengths, enums, prices) never
// crash the engine (run under ASan/UBSan too) and never break its invariants.
#include <gtest/gtest.h>

#include <cstring>
#include <random>

#include "sim/matching_engine.hpp"
#include "sim_test_util.hpp"

using namespace tickrt;
using namespace tickrt::sim;
using namespace tickrt::sim::testing;

namespace {

template <class T>
void mutate(T& v, std::mt19937_64& g, int bytes) {
  static_assert(std::is_trivially_copyable_v<T>);
  unsigned char raw_bytes[sizeof(T)];
  std::memcpy(raw_bytes, &v, sizeof(T));
  for (int i = 0; i < bytes; ++i) raw_bytes[g() % sizeof(T)] = static_cast<unsigned char>(g());
  std::memcpy(&v, raw_bytes, sizeof(T));
}

void check_invariants(const MatchingEngine& eng) {
  Level b, a;
  if (eng.best_bid(0, b) && eng.best_ask(0, a)) {
    ASSERT_LT(b.price, a.price);  // never crossed
  }
  for (AccountId acc = 1; acc <= 3; ++acc)
    for (const char* asset : {"BTC", "USDT"}) {
      const Balance x = eng.balance(acc, asset);
      ASSERT_GE(x.free_raw, 0) << acc << " " << asset;
      ASSERT_GE(x.locked_raw, 0) << acc << " " << asset;
    }
}

TEST(SimGarbage, RandomBytesNeverCrashAndInvariantsHold) {
  MatchingEngine eng(base_config());
  Recorder rec;
  eng.set_sink(&rec);
  std::mt19937_64 g(77);
  std::uint64_t accepted = 0, rejected = 0;
  for (int i = 0; i < 30000; ++i) {
    OrderRequest r = order(idn("g", i), (g() & 1) ? Side::buy : Side::sell,
                           (g() & 1) ? "100.00" : "100.01", "0.5");
    r.type = static_cast<OrderType>(g() % 3);
    r.tif = static_cast<TimeInForce>(g() % 3);
    r.stp = static_cast<StpMode>(g() % 4);
    if (g() % 3 == 0) mutate(r, g, 1 + static_cast<int>(g() % 4));
    AccountId a = static_cast<AccountId>(1 + g() % 3);
    if (g() % 50 == 0) a = static_cast<AccountId>(g());
    const SubmitResult s = eng.submit(a, r, i);
    (s.ok() ? accepted : rejected) += 1;
    if (!s.ok()) {
      ASSERT_NE(reject_message(s.reason), "?");
    }
    if (g() % 4 == 0) {
      CancelRequest c = cancel_of(idn("g", i - static_cast<int>(g() % 30)));
      if (g() % 2) c.exchange_order_id = g() % (i + 2);
      if (g() % 3 == 0) mutate(c, g, 1 + static_cast<int>(g() % 4));
      (void)eng.cancel(a, c, i);
    }
    if (g() % 100 == 0) {
      ReplaceRequest rr;
      rr.cancel = cancel_of(idn("g", i - 1));
      rr.replacement = r;
      mutate(rr, g, 2);
      (void)eng.cancel_replace(a, rr, i);
    }
    if (g() % 500 == 0) {
      SymbolName sym = SymbolName::from("BTCUSDT");
      mutate(sym, g, 1);
      (void)eng.cancel_all(a, sym, i);
      ClientOrderId cid = ClientOrderId::from("g1");
      mutate(cid, g, 1);
      (void)eng.query(a, sym, cid);
      (void)eng.query(a, sym, g());
    }
    if (i % 1000 == 0) check_invariants(eng);
  }
  check_invariants(eng);
  EXPECT_GT(accepted, 10000u);
  EXPECT_GT(rejected, 1000u);
  // Reports only ever name real orders.
  for (const Report& x : rec.reports) ASSERT_NE(x.r.exchange_order_id, 0u);
}

TEST(SimGarbage, RandomMarketEventsNeverCrash) {
  MatchingEngine eng(base_config());
  ASSERT_TRUE(eng.map_feed_symbol(0, "BTCUSDT").ok());
  std::mt19937_64 g(78);
  std::vector<Level> lv(64);
  for (int i = 0; i < 20000; ++i) {
    feed::Event ev;
    ev.kind = static_cast<feed::EventKind>(g() % 7);
    ev.symbol = static_cast<feed::SymbolId>(g() % 3);
    ev.local_ts_ns = i;
    for (Level& l : lv) {
      l.price = Price::from_raw(static_cast<std::int64_t>(g() % 2000 + 9000) * 1'000'000);
      l.qty = Qty::from_raw(static_cast<std::int64_t>(g() % 5) * 10'000'000);
      if (g() % 50 == 0) l.qty = Qty::from_raw(-static_cast<std::int64_t>(g() % 1000));
    }
    const std::size_t nb = g() % 32, na = g() % 32;
    ev.snapshot.last_update_id = g() % 100;
    ev.snapshot.bids = std::span<const Level>(lv.data(), nb);
    ev.snapshot.asks = std::span<const Level>(lv.data() + 32, na);
    ev.depth.first_update_id = g() % 100;
    ev.depth.final_update_id = ev.depth.first_update_id + g() % 3;
    ev.depth.bids = ev.snapshot.bids;
    ev.depth.asks = ev.snapshot.asks;
    ev.trade.price = lv[0].price;
    ev.trade.qty = lv[1].qty;
    ev.trade.buyer_is_maker = g() & 1;
    (void)eng.on_market_event(ev);
    if (g() % 3 == 0) {
      OrderRequest r = order(idn("m", i), (g() & 1) ? Side::buy : Side::sell, "100.00", "0.1");
      r.price = Price::from_raw(static_cast<std::int64_t>(g() % 2000 + 9000) * 1'000'000);
      r.type = static_cast<OrderType>(g() % 3);
      (void)eng.submit(static_cast<AccountId>(1 + g() % 3), r, i);
    }
    if (i % 500 == 0) {
      DepthSnapshot d;
      ASSERT_EQ(eng.depth_snapshot(SymbolName::from("BTCUSDT"), 20, d), RejectCode::none);
      for (std::size_t k = 1; k < d.bids.size(); ++k) ASSERT_GT(d.bids[k - 1].price, d.bids[k].price);
      for (std::size_t k = 1; k < d.asks.size(); ++k) ASSERT_LT(d.asks[k - 1].price, d.asks[k].price);
      for (const Level& l : d.bids) ASSERT_GT(l.qty.raw, 0);
    }
  }
  EXPECT_GT(eng.counters().market_events, 0u);
}

}  // namespace
