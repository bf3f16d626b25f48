// Cross-check against an independent reference: a textbook price-time book (std::map of FIFO
// queues) fed the same random limit/IOC flow must fill every order by the same quantity, at the
// same prices, in the same trade order as the engine (balances off, no STP).
#include <gtest/gtest.h>

#include <deque>
#include <map>
#include <random>
#include <string>

#include "sim/matching_engine.hpp"
#include "sim_test_util.hpp"

using namespace tickrt;
using namespace tickrt::sim;
using namespace tickrt::sim::testing;

namespace {

struct RefBook {
  struct O { std::int64_t qty; std::uint64_t id; };
  struct Trade { std::uint64_t taker, maker; std::int64_t px, qty; };
  std::map<std::int64_t, std::deque<O>, std::greater<>> bids;
  std::map<std::int64_t, std::deque<O>> asks;
  std::map<std::uint64_t, std::int64_t> filled;
  std::vector<Trade> trades;
  template <class Opp, class Own>
  void run(Opp& opp, Own& own, std::uint64_t id, std::int64_t px, std::int64_t qty, bool ioc, bool buy) {
    while (qty > 0 && !opp.empty()) {
      auto it = opp.begin();
      if (buy ? it->first > px : it->first < px) break;
      auto& q = it->second;
      while (qty > 0 && !q.empty()) {
        const std::int64_t t = std::min(qty, q.front().qty);
        qty -= t;
        q.front().qty -= t;
        filled[id] += t;
        filled[q.front().id] += t;
        trades.push_back({id, q.front().id, it->first, t});
        if (q.front().qty == 0) q.pop_front();
      }
      if (q.empty()) opp.erase(it);
    }
    if (qty > 0 && !ioc) own[px].push_back({qty, id});
  }
  void cancel(std::uint64_t id) {
    auto drop = [id](auto& side) {
      for (auto it = side.begin(); it != side.end(); ++it)
        for (auto q = it->second.begin(); q != it->second.end(); ++q)
          if (q->id == id) {
            it->second.erase(q);
            if (it->second.empty()) side.erase(it);
            return;
          }
    };
    drop(bids);
    drop(asks);
  }
};

TEST(SimReference, SameFillsAsATextbookPriceTimeBook) {
  SimConfig c = base_config();
  c.enforce_balances = false;
  MatchingEngine eng(c);
  RefBook ref;
  std::mt19937_64 g(2024);
  std::vector<std::uint64_t> ids;
  for (int i = 0; i < 20000; ++i) {
    const bool buy = g() & 1;
    const std::int64_t px = (10000 + static_cast<std::int64_t>(g() % 31) - 15) * kDecimalScale;
    const std::int64_t qty = static_cast<std::int64_t>(1 + g() % 50) * 1'000'000;  // 0.01 .. 0.5
    const bool ioc = g() % 8 == 0;
    std::string id = "r";
    id.append(std::to_string(i));
    OrderRequest r = order(id, buy ? Side::buy : Side::sell, "1", "1", OrderType::limit,
                           ioc ? TimeInForce::ioc : TimeInForce::gtc);
    r.price = Price::from_raw(px);
    r.qty = Qty::from_raw(qty);
    const SubmitResult s = eng.submit(static_cast<AccountId>(1 + g() % 6), r, i);
    ASSERT_TRUE(s.ok());
    ids.push_back(s.exchange_order_id);
    if (buy) ref.run(ref.asks, ref.bids, s.exchange_order_id, px, qty, ioc, true);
    else ref.run(ref.bids, ref.asks, s.exchange_order_id, px, qty, ioc, false);
    if (g() % 6 == 0 && !ids.empty()) {  // cancel a recent order (may be gone already)
      const std::uint64_t victim = ids[ids.size() - 1 - g() % std::min<std::size_t>(ids.size(), 50)];
      for (AccountId a = 1; a <= 6; ++a)
        if (eng.cancel(a, cancel_of("", "", victim), i).ok()) { ref.cancel(victim); break; }
    }
  }
  // Same trades in the same order (engine ledger: taker fill then maker fill per trade).
  const auto& f = eng.fills();
  ASSERT_EQ(f.size(), 2 * ref.trades.size());
  ASSERT_GT(ref.trades.size(), 5000u);
  for (std::size_t k = 0; k < ref.trades.size(); ++k) {
    const Fill& taker = f[2 * k];
    const Fill& maker = f[2 * k + 1];
    ASSERT_EQ(taker.exchange_order_id, ref.trades[k].taker) << k;
    ASSERT_EQ(maker.exchange_order_id, ref.trades[k].maker) << k;
    ASSERT_EQ(taker.price.raw, ref.trades[k].px) << k;
    ASSERT_EQ(taker.qty.raw, ref.trades[k].qty) << k;
    ASSERT_FALSE(taker.is_maker);
    ASSERT_TRUE(maker.is_maker);
  }
  // Per-order cumulative quantities agree.
  for (std::uint64_t id : ids) {
    std::optional<OrderState> st;
    for (AccountId a = 1; a <= 6 && !st; ++a) st = eng.query(a, SymbolName::from("BTCUSDT"), id);
    ASSERT_TRUE(st.has_value());
    const auto it = ref.filled.find(id);
    ASSERT_EQ(st->cum_qty.raw, it == ref.filled.end() ? 0 : it->second) << id;
  }
  // Same resting book.
  DepthSnapshot d;
  ASSERT_EQ(eng.depth_snapshot(SymbolName::from("BTCUSDT"), 1000, d), RejectCode::none);
  ASSERT_EQ(d.bids.size(), ref.bids.size());
  std::size_t k = 0;
  for (const auto& [p, q] : ref.bids) {
    std::int64_t tot = 0;
    for (const auto& o : q) tot += o.qty;
    EXPECT_EQ(d.bids[k].price.raw, p);
    EXPECT_EQ(d.bids[k].qty.raw, tot);
    ++k;
  }
}

}  // namespace
