// Fault injection and determinism: each fault on its own, seeded; same seed -> same ledger.
#include <gtest/gtest.h>

#include <random>
#include <string>

#include "sim/matching_engine.hpp"
#include "sim_test_util.hpp"

using namespace tickrt;
using namespace tickrt::sim;
using namespace tickrt::sim::testing;

namespace {

// A random but reproducible order flow (its own fixed generator, independent of the engine seed).
struct FlowResult {
  std::vector<Fill> fills;
  std::vector<SubmitResult> results;
  std::vector<Report> reports;
};

FlowResult run_flow(const SimConfig& cfg, int n = 3000) {
  MatchingEngine eng(cfg);
  EXPECT_TRUE(eng.status().ok());
  Recorder rec;
  eng.set_sink(&rec);
  std::mt19937_64 g(42);
  FlowResult out;
  for (int i = 0; i < n; ++i) {
    const AccountId a = static_cast<AccountId>(1 + g() % 4);
    const Side side = (g() & 1) ? Side::buy : Side::sell;
    const int ticks = static_cast<int>(g() % 21) - 10;
    const std::string price = std::to_string(10000 + ticks) + ".00";
    const std::string qty = "0." + std::to_string(1 + g() % 9);
    const std::uint64_t kind = g() % 10;
    OrderRequest r = order(idn("o", i), side, price, qty);
    if (kind == 0) r.type = OrderType::market;
    if (kind == 1) r.tif = TimeInForce::ioc;
    if (kind == 2) r.type = OrderType::limit_maker;
    if (kind == 3) r.stp = StpMode::expire_maker;
    out.results.push_back(eng.submit(a, r, 1000 + i));
    if (g() % 5 == 0) (void)eng.cancel(a, cancel_of(idn("o", i - static_cast<int>(g() % 20))), 1000 + i);
  }
  out.fills = eng.fills();
  out.reports = rec.reports;
  return out;
}

bool same_fills(const std::vector<Fill>& a, const std::vector<Fill>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (a[i].trade_id != b[i].trade_id || a[i].account != b[i].account || a[i].price != b[i].price ||
        a[i].qty != b[i].qty || a[i].commission_raw != b[i].commission_raw ||
        a[i].exchange_order_id != b[i].exchange_order_id || a[i].transact_ns != b[i].transact_ns)
      return false;
  return true;
}

SimConfig faulty(std::int64_t seed) {
  SimConfig c = base_config();
  c.seed = seed;
  c.faults.reject = 0.1;
  c.faults.lose_ack = 0.1;
  c.faults.ack_delay_ns = 500;
  c.faults.ack_jitter_ns = 100;
  return c;
}

TEST(SimDeterminism, SameSeedSameLedger) {
  const FlowResult a = run_flow(faulty(7));
  const FlowResult b = run_flow(faulty(7));
  ASSERT_GT(a.fills.size(), 500u);
  EXPECT_TRUE(same_fills(a.fills, b.fills));
  ASSERT_EQ(a.reports.size(), b.reports.size());
  for (std::size_t i = 0; i < a.reports.size(); ++i) {
    EXPECT_EQ(a.reports[i].deliver_ns, b.reports[i].deliver_ns);
    EXPECT_EQ(a.reports[i].r.exchange_order_id, b.reports[i].r.exchange_order_id);
  }
  // Another seed draws other faults, so another ledger.
  const FlowResult c = run_flow(faulty(8));
  EXPECT_FALSE(same_fills(a.fills, c.fills));
  // Without faults, the seed does not matter at all.
  SimConfig p = base_config();
  p.seed = 1;
  const FlowResult d = run_flow(p);
  p.seed = 99;
  EXPECT_TRUE(same_fills(d.fills, run_flow(p).fills));
}

TEST(SimFaults, RejectFraction) {
  SimConfig c = base_config();
  c.faults.reject = 0.3;
  MatchingEngine eng(c);
  int rejected = 0;
  for (int i = 0; i < 4000; ++i) {
    const SubmitResult r = eng.submit(1, order(idn("r", i), Side::buy, "1.00", "1"), i);
    if (!r.ok()) {
      EXPECT_EQ(r.code, RejectCode::new_order_rejected);
      EXPECT_EQ(r.reason, RejectReason::fault_reject);
      EXPECT_FALSE(eng.query(1, SymbolName::from("BTCUSDT"), ClientOrderId::from(idn("r", i))).has_value());
      ++rejected;
    }
  }
  EXPECT_GT(rejected, 1000);
  EXPECT_LT(rejected, 1400);
  EXPECT_EQ(eng.counters().faults_rejected, static_cast<std::uint64_t>(rejected));
}

TEST(SimFaults, LostAckOrderIsPlacedAndQueryable) {
  SimConfig c = base_config();
  c.faults.lose_ack = 0.5;
  MatchingEngine eng(c);
  Recorder rec;
  eng.set_sink(&rec);
  int lost = 0;
  for (int i = 0; i < 200; ++i) {
    const std::string id = idn("l", i);
    const SubmitResult r = eng.submit(1, order(id, Side::buy, "1.00", "1"), i);
    ASSERT_TRUE(r.ok());
    const auto reps = rec.for_order(r.exchange_order_id);
    if (r.ack_lost) {
      ++lost;
      EXPECT_TRUE(reps.empty());
      const auto st = eng.query(1, SymbolName::from("BTCUSDT"), ClientOrderId::from(id));
      ASSERT_TRUE(st.has_value());  // the client must query: the order is there
      EXPECT_EQ(st->status, OrderStatus::new_);
    } else {
      ASSERT_EQ(reps.size(), 1u);
      EXPECT_EQ(reps[0].r.exec_type, ExecType::new_);
    }
  }
  EXPECT_GT(lost, 70);
  EXPECT_LT(lost, 130);
  // Later reports of a lost-ack order are delivered (only the submit's reports are lost).
  std::uint64_t lost_id = 0;
  for (int i = 0; i < 200 && !lost_id; ++i) {
    const auto st = eng.query(1, SymbolName::from("BTCUSDT"), ClientOrderId::from(idn("l", i)));
    if (rec.for_order(st->exchange_order_id).empty()) lost_id = st->exchange_order_id;
  }
  ASSERT_NE(lost_id, 0u);
  ASSERT_TRUE(eng.cancel(1, cancel_of("", "", lost_id), 1000).ok());
  EXPECT_EQ(rec.for_order(lost_id).size(), 1u);
}

TEST(SimFaults, AckDelayAndJitter) {
  SimConfig c = base_config();
  c.faults.ack_delay_ns = 1'000'000;
  c.faults.ack_jitter_ns = 1000;
  MatchingEngine eng(c);
  Recorder rec;
  eng.set_sink(&rec);
  std::int64_t lo = INT64_MAX, hi = INT64_MIN;
  for (int i = 0; i < 500; ++i) {
    const std::int64_t now = 5'000'000 + i;
    const SubmitResult r = eng.submit(1, order(idn("d", i), Side::buy, "1.00", "1"), now);
    ASSERT_EQ(rec.reports.back().deliver_ns, r.deliver_ns);
    EXPECT_EQ(rec.reports.back().r.transact_ns, now);
    lo = std::min(lo, r.deliver_ns - now);
    hi = std::max(hi, r.deliver_ns - now);
  }
  EXPECT_GE(lo, 1'000'000);
  EXPECT_LT(hi, 1'001'000);
  EXPECT_GT(hi - lo, 500);  // the jitter is used
}

TEST(SimFaults, NetworkDecisionsForTheVenue) {
  SimConfig c = base_config();
  c.faults.drop_md = 0.2;
  c.faults.gap = 0.05;
  c.faults.throttle = 0.1;
  c.faults.disconnects = {{100, 200}, {1000, 1001}};
  MatchingEngine eng(c);
  int drop = 0, gap = 0, thr = 0;
  for (int i = 0; i < 10000; ++i) {
    drop += eng.should_drop_md();
    gap += eng.should_gap();
    thr += eng.should_throttle();
  }
  EXPECT_NEAR(drop, 2000, 200);
  EXPECT_NEAR(gap, 500, 100);
  EXPECT_NEAR(thr, 1000, 150);
  EXPECT_FALSE(eng.disconnected(99));
  EXPECT_TRUE(eng.disconnected(100));
  EXPECT_TRUE(eng.disconnected(199));
  EXPECT_FALSE(eng.disconnected(200));
  EXPECT_TRUE(eng.disconnected(1000));
  // Off means never, and no draw changes another stream.
  MatchingEngine off(base_config());
  for (int i = 0; i < 1000; ++i) {
    ASSERT_FALSE(off.should_drop_md());
    ASSERT_FALSE(off.should_gap());
    ASSERT_FALSE(off.should_throttle());
  }
  // Same seed -> same decisions; streams are independent of each other.
  MatchingEngine e1(c), e2(c);
  for (int i = 0; i < 100; ++i) (void)e2.should_throttle();  // e2 draws throttle only
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(e1.should_drop_md(), e2.should_drop_md());
}

}  // namespace
