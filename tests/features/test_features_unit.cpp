// Each feature on tiny synthetic books and trades, against values computed by hand here.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "features/features.hpp"

using namespace tickrt;
using namespace tickrt::features;
using feed::Level;

namespace {

Level L(double p, double q) {
  return Level{Price::from_raw(std::llround(p * 1e8)), Qty::from_raw(std::llround(q * 1e8))};
}

std::size_t idx(std::string_view name) {
  for (std::size_t i = 0; i < kNumFeatures; ++i)
    if (kFeatureNames[i] == name) return i;
  ADD_FAILURE() << "no feature " << name;
  return 0;
}

struct Row {
  float v[kNumFeatures];
  float operator[](std::string_view n) const { return v[idx(n)]; }
};

// Relative tolerance of float32 storage.
#define EXPECT_F(actual, expected) EXPECT_NEAR((actual), (expected), 1e-6 * std::max(1.0, std::fabs(expected)))

constexpr std::int64_t S = 1'000'000'000;

// Spot book: snapshot id 100; bids 100x2, 99x1, 98x3; asks 101x1, 102x4.
void load(book::L2Book& b) {
  std::vector<Level> bids{L(100, 2), L(99, 1), L(98, 3)}, asks{L(101, 1), L(102, 4)};
  ASSERT_EQ(b.on_snapshot(100, bids, asks), book::SnapshotResult::synced);
}

book::DiffResult diff(book::L2Book& b, std::uint64_t id, std::vector<Level> bids, std::vector<Level> asks) {
  feed::DepthUpdateFields d;
  d.first_update_id = d.final_update_id = id;
  d.bids = bids;
  d.asks = asks;
  return b.on_diff(d);
}

feed::TradeFields trade(double p, double q, bool buyer_aggressor) {
  feed::TradeFields t;
  t.price = L(p, 0).price;
  t.qty = L(0, q).qty;
  t.buyer_is_maker = !buyer_aggressor;
  return t;
}

}  // namespace

TEST(FeatureSchema, NamesHashAndSampling) {
  EXPECT_EQ(kNumFeatures, 24u);
  EXPECT_EQ(feature_list_csv().substr(0, 22), "spread_bps,ret_mid_1,r");
  EXPECT_NE(feature_schema_hash(), 0u);
  EXPECT_EQ(sampling_string(100'000'000), "clock:100ms");
  EXPECT_EQ(sampling_string(0), "event");
}

TEST(FeatureEngine, EmptyBookGivesFiniteZeros) {
  FeatureEngine fe;
  book::L2Book b(feed::Market::spot);
  fe.on_book(b, 1);  // awaiting snapshot: not read
  EXPECT_FALSE(fe.ready());
  EXPECT_FALSE(fe.tradable());
  Row r;
  fe.sample(2, r.v);
  for (std::size_t i = 0; i < kNumFeatures; ++i) {
    EXPECT_TRUE(std::isfinite(r.v[i])) << kFeatureNames[i];
    if (kFeatureNames[i] != "trade_age_s") {
      EXPECT_EQ(r.v[i], 0.0f) << kFeatureNames[i];
    }
  }
  EXPECT_EQ(r["trade_age_s"], static_cast<float>(kMaxTradeAge_s));
}

TEST(FeatureEngine, BookLevelFeatures) {
  FeatureEngine fe;
  book::L2Book b(feed::Market::spot);
  load(b);
  fe.on_book(b, S);
  ASSERT_TRUE(fe.ready());
  Row r;
  fe.sample(S, r.v);
  const double mid = 100.5, micro = (100.0 * 1 + 101.0 * 2) / 3.0;
  EXPECT_F(r["spread_bps"], 1.0 / mid * 1e4);
  EXPECT_F(r["micro_dev_bps"], (micro - mid) / mid * 1e4);
  EXPECT_F(r["obi_1"], (2.0 - 1.0) / 3.0);
  EXPECT_F(r["obi_3"], (6.0 - 5.0) / 11.0);
  EXPECT_F(r["obi_5"], (6.0 - 5.0) / 11.0);  // fewer than 5 levels: all of them
  EXPECT_F(r["obi_10"], (6.0 - 5.0) / 11.0);
  const double wb = 2 + 1.0 / 2 + 3.0 / 3, wa = 1 + 4.0 / 2;
  EXPECT_F(r["obi_dw10"], (wb - wa) / (wb + wa));
  EXPECT_EQ(r["ret_mid_1"], 0.0f);  // no history yet
  EXPECT_EQ(r["ofi_sample"], 0.0f); // the first book only seeds OFI
  EXPECT_EQ(fe.mid(), mid);
}

TEST(FeatureEngine, OrderFlowImbalanceCKS) {
  FeatureEngine fe;
  book::L2Book b(feed::Market::spot);
  load(b);
  fe.on_book(b, 0);
  // Best bid qty 2 -> 5 at the same price: e = +5 - 2 = +3 (ask unchanged: -1 + 1 = 0).
  ASSERT_EQ(diff(b, 101, {L(100, 5)}, {}), book::DiffResult::applied);
  fe.on_book(b, S / 2);
  // New better ask 100.8 x 2: e = -2 (ask improved: only the new ask qty counts), bid unchanged 0.
  ASSERT_EQ(diff(b, 102, {}, {L(100.8, 2)}), book::DiffResult::applied);
  fe.on_book(b, S);
  Row r;
  fe.sample(S, r.v);
  EXPECT_F(r["ofi_sample"], 1.0);
  EXPECT_F(r["ofi_decay_1s"], 3.0 * std::exp(-0.5) - 2.0);
  EXPECT_F(r["ofi_decay_10s"], 3.0 * std::exp(-0.05) - 2.0);
  // Bid dropped to 99 (level 100 deleted): e = -(old bid qty 5) (bid fell) -> -5.
  ASSERT_EQ(diff(b, 103, {L(100, 0)}, {}), book::DiffResult::applied);
  fe.on_book(b, 2 * S);
  fe.sample(3 * S, r.v);
  EXPECT_F(r["ofi_sample"], -5.0);  // reset after the previous sample
  EXPECT_F(r["ofi_decay_1s"], (3.0 * std::exp(-1.5) - 2.0 * std::exp(-1.0)) * std::exp(-1.0) - 5.0 * std::exp(-1.0));
}

TEST(FeatureEngine, TradeFeatures) {
  FeatureEngine fe;
  book::L2Book b(feed::Market::spot);
  load(b);
  fe.on_book(b, 0);
  fe.on_trade(trade(100, 1, true), 0);       // buy 1 @ 100 at t = 0
  fe.on_trade(trade(101, 3, false), S / 2);  // sell 3 @ 101 at t = 0.5 s
  Row r;
  fe.sample(S, r.v);
  const double b1 = std::exp(-1.0), s1 = std::exp(-0.5), b10 = std::exp(-0.1), s10 = std::exp(-0.05);
  EXPECT_F(r["tsi_1s"], (b1 - s1) / (b1 + s1));
  EXPECT_F(r["tsi_10s"], (b10 - s10) / (b10 + s10));
  EXPECT_F(r["signed_vol_1s"], 1 * b1 - 3 * s1);
  EXPECT_F(r["signed_vol_10s"], 1 * b10 - 3 * s10);
  EXPECT_F(r["trade_rate_1s"], b1 + s1);
  EXPECT_F(r["trade_rate_10s"], (b10 + s10) / 10.0);
  EXPECT_F(r["trade_age_s"], 0.5);
  const double vwap = (100.0 * b10 + 101.0 * 3 * s10) / (b10 + 3 * s10);
  EXPECT_F(r["vwap_dev_bps"], (100.5 - vwap) / vwap * 1e4);
  // Trade age is capped.
  fe.sample(1000 * S, r.v);
  EXPECT_EQ(r["trade_age_s"], static_cast<float>(kMaxTradeAge_s));
  EXPECT_EQ(r["tsi_1s"], 0.0f);  // decayed to 0 counts -> exp underflow gives 0/0 guarded
}

TEST(FeatureEngine, ReturnsAndVolatility) {
  FeatureEngine fe;
  book::L2Book b(feed::Market::spot);
  load(b);
  fe.on_book(b, 0);
  Row r;
  std::vector<double> mids;
  std::uint64_t id = 101;
  double var = 0;
  constexpr double alpha = 2.0 / 51.0;
  for (int k = 0; k < 12; ++k) {
    // Move the bid up by 0.05 each sample (stays below the 101 ask).
    if (k > 0) {
      ASSERT_EQ(diff(b, id++, {L(100 + 0.05 * k, 1)}, {}), book::DiffResult::applied);
      fe.on_book(b, k * S);
    }
    mids.push_back(fe.mid());
    fe.sample(k * S, r.v);
    const double r1 = k >= 1 ? std::log(mids[k] / mids[k - 1]) * 1e4 : 0.0;
    EXPECT_F(r["ret_mid_1"], r1) << k;
    EXPECT_F(r["ret_mid_10"], k >= 10 ? std::log(mids[k] / mids[k - 10]) * 1e4 : 0.0) << k;
    EXPECT_EQ(r["ret_mid_100"], 0.0f);
    var = k == 0 ? 0.0 : (1 - alpha) * var + alpha * r1 * r1;
    EXPECT_F(r["rv_ewma_bps"], std::sqrt(var)) << k;
  }
  EXPECT_NEAR(mids.back(), (100 + 0.55 + 101) / 2.0, 1e-9);
}

TEST(FeatureEngine, NonTradableBookHoldsLastState) {
  FeatureEngine fe;
  book::L2Book b(feed::Market::spot);
  load(b);
  fe.on_book(b, 0);
  Row r0, r1;
  fe.sample(S, r0.v);
  ASSERT_EQ(diff(b, 101, {L(100, 2)}, {}), book::DiffResult::applied);
  // A gap (U != last u + 1) puts the book in resync: the engine keeps the last state.
  ASSERT_EQ(diff(b, 150, {L(100, 7)}, {}), book::DiffResult::gap);
  fe.on_book(b, S + 1);
  EXPECT_FALSE(fe.tradable());
  EXPECT_TRUE(fe.ready());
  fe.sample(2 * S, r1.v);
  EXPECT_EQ(r1["obi_1"], r0["obi_1"]);
  EXPECT_EQ(r1["spread_bps"], r0["spread_bps"]);
  EXPECT_EQ(r1["ret_mid_1"], 0.0f);
  EXPECT_EQ(fe.mid(), 100.5);
}

TEST(FeatureEngine, WindowIsContiguousAndOrdered) {
  FeatureConfig cfg;
  cfg.window = 4;
  FeatureEngine fe(cfg);
  book::L2Book b(feed::Market::spot);
  load(b);
  fe.on_book(b, 0);
  std::vector<std::vector<float>> rows;
  for (int k = 0; k < 11; ++k) {
    fe.on_trade(trade(100, 1, k % 2 == 0), k * S);  // trade_rate changes every row
    std::vector<float> row(kNumFeatures);
    fe.sample(k * S + S / 3, row.data());
    rows.push_back(row);
    auto w = fe.window();
    const std::size_t n = std::min<std::size_t>(rows.size(), 4);
    ASSERT_EQ(w.size(), n * kNumFeatures);
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t j = 0; j < kNumFeatures; ++j)
        ASSERT_EQ(w[i * kNumFeatures + j], rows[rows.size() - n + i][j]) << k << " " << i << " " << j;
  }
}

// copy_state_from (the pipeline's between-ticks warm-up runs the update code on a scratch engine seeded this
// way): after the copy, the same book updates, trades and samples give the same rows on both, bit for bit, and
// the source's window is untouched by what the copy does.
TEST(FeatureEngine, CopyStateFromContinuesExactly) {
  book::L2Book b(feed::Market::spot);
  load(b);
  FeatureEngine src(FeatureConfig{S / 10, 8}), dst(FeatureConfig{S / 10, 8});
  Row r;
  std::int64_t t = 1 * S;
  for (int i = 0; i < 30; ++i) {   // history: book changes, trades, samples (returns, decays, OFI)
    ASSERT_EQ(diff(b, 101 + static_cast<std::uint64_t>(i), {L(100, 2 + 0.1 * i)}, {L(101, 1 + 0.05 * (i % 7))}), book::DiffResult::applied);
    src.on_book(b, t);
    src.on_trade(trade(100.5 + 0.01 * (i % 5), 0.2 + 0.01 * i, i % 3 != 0), t + 1000);
    t += S / 10;
    src.sample(t, r.v);
  }
  const std::vector<float> before(src.window().begin(), src.window().end());
  ASSERT_TRUE(dst.copy_state_from(src));
  EXPECT_EQ(dst.samples(), src.samples());
  EXPECT_EQ(dst.mid(), src.mid());
  Row ra, rb;
  ASSERT_EQ(diff(b, 131, {L(99.5, 3)}, {L(101, 0.5)}), book::DiffResult::applied);
  dst.on_book(b, t + 5);
  dst.on_trade(trade(100.7, 0.3, true), t + 6);
  dst.sample(t + S / 10, rb.v);
  // The source's window did not move; now the source takes the same steps and gives the same row.
  ASSERT_EQ(0, std::memcmp(before.data(), src.window().data(), before.size() * sizeof(float)));
  src.on_book(b, t + 5);
  src.on_trade(trade(100.7, 0.3, true), t + 6);
  src.sample(t + S / 10, ra.v);
  EXPECT_EQ(0, std::memcmp(ra.v, rb.v, sizeof(ra.v)));
  // A different window length is refused (the ring head would not fit).
  FeatureEngine other(FeatureConfig{S / 10, 16});
  EXPECT_FALSE(other.copy_state_from(src));
}
