// tests/backtest/test_metrics.cpp — metrics and the engine comparison on hand-computed cases.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "backtest/metrics.hpp"

namespace tickrt::backtest {
namespace {

constexpr std::int64_t kS = 1'000'000'000;

EquityPoint pt(std::int64_t ts, double equity) { return {ts, equity, equity, 0, 0}; }

// Known equity curve -> known returns, Sharpe, Sortino and drawdown (worked out by hand below).
TEST(Metrics, SharpeSortinoDrawdownOnAKnownCurve) {
  EngineRun run;
  run.name = "hand";
  // Grid at 0,1,2,3,4 s (period 1 s): E = 0, 10, 5, 20, 20 (points between grid times must not
  // leak into the sample: 0.5 s -> 3 is replaced by 10 at exactly 1 s; 3.5 s -> 12 is replaced by
  // 20 at 4 s). 4.4 s -> 100 is in the trailing partial period (end 4.5 s): in the PnL, not the returns.
  run.equity = {pt(0, 0), pt(kS / 2, 3), pt(kS, 10), pt(2 * kS, 5), pt(3 * kS, 20), pt(3 * kS + kS / 2, 12),
                pt(4 * kS, 20), pt(4 * kS + 4 * kS / 10, 100)};
  MetricsConfig cfg;
  cfg.capital = 1000;
  cfg.period_ns = kS;
  cfg.start_ns = 0;  // 0 = the first point's time (0 here)
  cfg.end_ns = 4 * kS + kS / 2;
  Result<Metrics> got = compute_metrics(run, cfg);
  ASSERT_TRUE(got.ok()) << got.status().to_string();
  const Metrics& m = got.value();
  // Returns r = (10, -5, 15, 0) / 1000; mean 0.005; deviations 0.005, -0.01, 0.01, -0.005;
  // sum of squares 2.5e-4; sample variance 2.5e-4 / 3. Periods per year = 365 x 86400 = 31,536,000.
  const double ann = std::sqrt(31'536'000.0);
  EXPECT_NEAR(m.sharpe, 0.005 / std::sqrt(2.5e-4 / 3) * ann, 1e-9 * ann);
  // Downside: only -0.005: sqrt(2.5e-5 / 4) = 0.0025 -> Sortino = 2 x ann.
  EXPECT_NEAR(m.sortino, 2.0 * ann, 1e-9 * ann);
  // Drawdown over every point: peak 20 at 3 s, trough 12 at 3.5 s -> 8 (the 10 -> 5 fall is smaller).
  EXPECT_DOUBLE_EQ(m.max_drawdown, 8.0);
  EXPECT_DOUBLE_EQ(m.max_drawdown_pct, 0.8);
  // PnL from the last point (no fills, no fees).
  EXPECT_DOUBLE_EQ(m.pnl_gross, 100.0);
  EXPECT_DOUBLE_EQ(m.pnl_net, 100.0);
  EXPECT_EQ(m.annualisation,
            "1-second returns of net equity / capital 1000, x sqrt(31536000) periods per year (24/7 market, 365 "
            "days, risk-free rate 0)");
}

TEST(Metrics, ResampleIsAStepFunctionStartingAtZero) {
  const std::vector<EquityPoint> eq = {pt(5 * kS, 7), pt(6 * kS, 9)};
  // Before the first point the account is flat (0); a point exactly on the grid is seen there.
  const std::vector<double> g = resample_equity(eq, 3 * kS, 7 * kS, kS);
  EXPECT_EQ(g, (std::vector<double>{0, 0, 7, 9, 9}));
}

TEST(Metrics, AutoPeriodAndItsWords) {
  MetricsConfig cfg;
  EXPECT_EQ(resolve_period_ns(cfg, 600 * kS), kS);                 // a 10-minute capture: 1-second returns
  EXPECT_EQ(resolve_period_ns(cfg, 2 * 86'400 * kS), 60 * kS);     // two days of bars: 1-minute returns
  cfg.period_ns = 5 * kS;
  EXPECT_EQ(resolve_period_ns(cfg, 600 * kS), 5 * kS);
  EXPECT_EQ(annualisation_text(60 * kS, 10'000),
            "1-minute returns of net equity / capital 10000, x sqrt(525600) periods per year (24/7 market, 365 days, "
            "risk-free rate 0)");
}

TEST(Metrics, FlatOrShortRunsHaveZeroSharpeNotNaN) {
  EngineRun run;
  run.name = "flat";
  run.equity = {pt(0, 0), pt(10 * kS, 0)};
  MetricsConfig cfg;
  cfg.period_ns = kS;
  Result<Metrics> got = compute_metrics(run, cfg);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->sharpe, 0.0);
  EXPECT_EQ(got->sortino, 0.0);
  // Only rising: Sortino has no downside (0), Sharpe is defined.
  run.equity = {pt(0, 0), pt(kS, 1), pt(2 * kS, 3), pt(3 * kS, 4)};
  got = compute_metrics(run, cfg);
  ASSERT_TRUE(got.ok());
  EXPECT_GT(got->sharpe, 0.0);
  EXPECT_EQ(got->sortino, 0.0);
  // One return only: nothing to take a deviation of.
  run.equity = {pt(0, 0), pt(kS, 1)};
  got = compute_metrics(run, cfg);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->sharpe, 0.0);
}

// Known fills -> known FIFO round trips, hit rate, holding time, turnover, fees, PnL.
TEST(Metrics, FifoRoundTripsOnKnownFills) {
  EngineRun run;
  run.name = "fills";
  run.fills = {
      {0 * kS, "BTCUSDT", +1, 100, 1.0, 0.10, false, 0},   // long lot A: 1 @ 100
      {10 * kS, "BTCUSDT", +1, 102, 1.0, 0.10, false, 0},  // long lot B: 1 @ 102
      {20 * kS, "BTCUSDT", -1, 105, 1.5, 0.15, false, 0},  // closes A (1) and half of B
      {30 * kS, "BTCUSDT", -1, 101, 1.5, 0.15, false, 0},  // closes the rest of B (0.5), opens short C: 1 @ 101
      {40 * kS, "BTCUSDT", +1, 99, 1.0, 0.10, false, 0},   // closes C
  };
  const std::vector<RoundTrip> rts = round_trips(run.fills);
  ASSERT_EQ(rts.size(), 4u);
  // A: (105-100) x 1 - fees 0.1 + 0.1 = 4.8, held 20 s.
  EXPECT_EQ(rts[0].side, 1);
  EXPECT_DOUBLE_EQ(rts[0].qty, 1.0);
  EXPECT_NEAR(rts[0].pnl, 4.8, 1e-12);
  EXPECT_EQ(rts[0].exit_ts_ns - rts[0].entry_ts_ns, 20 * kS);
  // B part 1: (105-102) x 0.5 - (0.05 + 0.05) = 1.4, held 10 s.
  EXPECT_DOUBLE_EQ(rts[1].qty, 0.5);
  EXPECT_NEAR(rts[1].pnl, 1.4, 1e-12);
  EXPECT_EQ(rts[1].exit_ts_ns - rts[1].entry_ts_ns, 10 * kS);
  // B part 2: (101-102) x 0.5 - 0.1 = -0.6, held 20 s.
  EXPECT_NEAR(rts[2].pnl, -0.6, 1e-12);
  EXPECT_EQ(rts[2].exit_ts_ns - rts[2].entry_ts_ns, 20 * kS);
  // C (short): (99-101) x 1 x -1 - 0.2 = 1.8, held 10 s.
  EXPECT_EQ(rts[3].side, -1);
  EXPECT_NEAR(rts[3].pnl, 1.8, 1e-12);

  MetricsConfig cfg;
  cfg.capital = 1000;
  Result<Metrics> got = compute_metrics(run, cfg);
  ASSERT_TRUE(got.ok()) << got.status().to_string();
  const Metrics& m = got.value();
  EXPECT_EQ(m.trades, 5u);
  EXPECT_EQ(m.round_trips, 4u);
  EXPECT_DOUBLE_EQ(m.hit_rate, 0.75);
  EXPECT_DOUBLE_EQ(m.avg_holding_s, 15.0);  // (20 + 10 + 20 + 10) / 4
  EXPECT_DOUBLE_EQ(m.turnover, 100 + 102 + 157.5 + 151.5 + 99);
  EXPECT_DOUBLE_EQ(m.turnover_x, 610.0 / 1000);
  EXPECT_NEAR(m.fees, 0.6, 1e-12);
  // No equity points: gross = cash flows with the (flat) position = the round trips' gross 5+1.5-0.5+2.
  EXPECT_NEAR(m.pnl_gross, 8.0, 1e-9);
  EXPECT_NEAR(m.pnl_net, 7.4, 1e-9);
}

TEST(Metrics, RoundTripsKeepSymbolsApartAndLeaveOpenLotsOut) {
  const std::vector<Fill> fills = {
      {0, "BTCUSDT", +1, 100, 1, 0, false, 0},
      {1, "ETHUSDT", -1, 10, 2, 0, false, 0},   // another symbol: does not close the BTC lot
      {2, "ETHUSDT", +1, 9, 1, 0, false, 0},    // closes half the ETH short: +1
      {3, "BTCUSDT", -1, 99.5, 1, 0, false, 0}, // closes BTC: -0.5
  };
  const std::vector<RoundTrip> rts = round_trips(fills);
  ASSERT_EQ(rts.size(), 2u);
  EXPECT_EQ(rts[0].symbol, "ETHUSDT");
  EXPECT_DOUBLE_EQ(rts[0].pnl, 1.0);
  EXPECT_EQ(rts[1].symbol, "BTCUSDT");
  EXPECT_DOUBLE_EQ(rts[1].pnl, -0.5);
}

TEST(Metrics, BadInputIsNamed) {
  EngineRun run;
  run.name = "bad";
  run.fills = {{0, "BTCUSDT", +1, 100, 1, 0, false, 0}, {1, "BTCUSDT", 2, 100, 1, 0, false, 0}};
  Result<Metrics> got = compute_metrics(run, {});
  ASSERT_FALSE(got.ok());
  EXPECT_NE(got.status().message().find("run 'bad': fills[1]"), std::string::npos) << got.status().message();
  run.fills.clear();
  run.equity = {pt(5, 1), pt(4, 1)};
  got = compute_metrics(run, {});
  ASSERT_FALSE(got.ok());
  EXPECT_NE(got.status().message().find("equity[1]"), std::string::npos);
  MetricsConfig cfg;
  cfg.capital = 0;
  run.equity.clear();
  got = compute_metrics(run, cfg);
  ASSERT_FALSE(got.ok());
  EXPECT_NE(got.status().message().find("capital"), std::string::npos);
}

EngineRun named(const char* name, const char* precision, bool zero, double sharpe, const char* engine = nullptr) {
  EngineRun r;
  r.name = name;
  r.precision = precision;
  r.engine = engine ? engine : std::string(precision) + ".engine";
  r.zero_latency = zero;
  r.metrics.sharpe = sharpe;
  return r;
}

TEST(Compare, BaselinesAndTheFivePercentFlag) {
  const std::vector<EngineRun> runs = {named("fp32", "fp32", false, 2.0), named("int8", "int8", false, 1.8),
                                       named("fp16", "fp16", false, 1.95), named("fp32@0", "fp32", true, 2.5),
                                       named("int8@0", "int8", true, 2.5)};
  CompareConfig cfg;
  cfg.latency_twins = false;
  const std::vector<Comparison> c = compare_runs(runs, cfg);
  ASSERT_EQ(c.size(), 3u);
  EXPECT_EQ(c[0].baseline, "fp32");
  EXPECT_EQ(c[0].run, "int8");
  EXPECT_DOUBLE_EQ(c[0].sharpe_diff_pct, -10.0);
  EXPECT_TRUE(c[0].sharpe_flag);
  EXPECT_EQ(c[1].run, "fp16");
  EXPECT_NEAR(c[1].sharpe_diff_pct, -2.5, 1e-12);
  EXPECT_FALSE(c[1].sharpe_flag);
  EXPECT_EQ(c[2].baseline, "fp32@0");  // same zero_latency setting
  EXPECT_EQ(c[2].run, "int8@0");
  EXPECT_DOUBLE_EQ(c[2].sharpe_diff_pct, 0.0);
  EXPECT_FALSE(c[2].sharpe_flag);

  // Latency twins: each latency run against its own zero-latency twin.
  cfg.latency_twins = true;
  const std::vector<Comparison> all = compare_runs(runs, cfg);
  ASSERT_EQ(all.size(), 5u);  // the 3 above + fp32 vs fp32@0 + int8 vs int8@0 (fp16 has no twin)
  EXPECT_EQ(all[3].baseline, "fp32@0");
  EXPECT_EQ(all[3].run, "fp32");
  EXPECT_DOUBLE_EQ(all[3].sharpe_diff_pct, -20.0);
  EXPECT_TRUE(all[3].sharpe_flag);
  EXPECT_EQ(all[4].baseline, "int8@0");
  EXPECT_EQ(all[4].run, "int8");
  BacktestResult r;
  r.runs = runs;
  EXPECT_FALSE(is_latency_comparison(r, all[0]));
  EXPECT_TRUE(is_latency_comparison(r, all[3]));

  // A configurable baseline name; a zero baseline Sharpe gives 0 %, not inf.
  cfg.baseline_precision = "fp16";
  cfg.latency_twins = false;
  std::vector<EngineRun> zero = {named("a", "fp16", false, 0.0), named("b", "int8", false, 1.0)};
  const std::vector<Comparison> z = compare_runs(zero, cfg);
  ASSERT_EQ(z.size(), 1u);
  EXPECT_EQ(z[0].sharpe_diff_pct, 0.0);
  EXPECT_FALSE(z[0].sharpe_flag);
}

// Two decision streams -> known disagreement counts and the PnL they account for.
TEST(Compare, DisagreementsAndTheirPnl) {
  EngineRun base = named("fp32", "fp32", false, 1.0);
  EngineRun run = named("int8", "int8", false, 1.0);
  const std::int8_t bs[] = {0, 1, 1, 0, 0};
  const std::int8_t rs[] = {0, 1, -1, -1, 0, 1};  // seq 5 has no baseline decision: not compared
  for (int i = 0; i < 5; ++i) base.decisions.push_back({std::uint64_t(i + 1), (i + 1) * kS, bs[i], 0, 0, 0});
  for (int i = 0; i < 6; ++i) run.decisions.push_back({std::uint64_t(i + 1), (i + 1) * kS, rs[i], 0, 0, 0});
  base.equity = {pt(1 * kS, 0), pt(2 * kS, 1), pt(3 * kS, 3), pt(4 * kS, 4), pt(5 * kS, 4), pt(6 * kS, 5)};
  run.equity = {pt(1 * kS, 0), pt(2 * kS, 1), pt(3 * kS, 0), pt(4 * kS, -2), pt(5 * kS, -1), pt(6 * kS, 0)};
  base.metrics.pnl_net = 5;
  run.metrics.pnl_net = 0;
  const std::vector<Comparison> c = compare_runs({base, run}, {});
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].decisions_compared, 5u);
  EXPECT_EQ(c[0].decisions_differ, 2u);  // seq 3 (1 vs -1) and seq 4 (0 vs -1)
  EXPECT_DOUBLE_EQ(c[0].pnl_diff, -5.0);
  // seq 3 covers [3 s, 4 s): run 1 -> 0 (-1), base 1 -> 3 (+2): -3. seq 4 covers [4 s, 5 s): run 0 -> -2,
  // base 3 -> 4: -3. Total -6; the agreeing intervals account for the other +1 ([5 s, end): run +2, base +1).
  EXPECT_DOUBLE_EQ(c[0].pnl_in_disagreement, -6.0);

  // Out-of-order decisions are matched by seq all the same.
  std::reverse(run.decisions.begin(), run.decisions.end());
  const std::vector<Comparison> c2 = compare_runs({base, run}, {});
  ASSERT_EQ(c2.size(), 1u);
  EXPECT_EQ(c2[0].decisions_differ, 2u);
  EXPECT_DOUBLE_EQ(c2[0].pnl_in_disagreement, -6.0);
}

TEST(Compare, FinalizeFillsMetricsAndComparisonsOnOneGrid) {
  BacktestResult r;
  r.start_ns = 10 * kS;
  r.end_ns = 20 * kS;
  EngineRun a = named("fp32", "fp32", false, 0);
  EngineRun b = named("int8", "int8", false, 0);
  for (int i = 0; i <= 10; ++i) {
    a.equity.push_back(pt((10 + i) * kS, i * (i % 2 ? 1.0 : 0.5)));
    b.equity.push_back(pt((10 + i) * kS, i * (i % 3 ? 1.0 : 0.25)));
  }
  b.equity.erase(b.equity.begin());  // starts later: the grid still begins at r.start_ns
  r.runs = {a, b};
  MetricsConfig mc;
  mc.period_ns = kS;
  ASSERT_TRUE(finalize(r, mc).ok());
  ASSERT_EQ(r.comparisons.size(), 1u);
  EXPECT_NE(r.runs[0].metrics.sharpe, 0.0);
  EXPECT_EQ(r.comparisons[0].sharpe_baseline, r.runs[0].metrics.sharpe);
  EXPECT_EQ(r.comparisons[0].sharpe_run, r.runs[1].metrics.sharpe);
  // The same grid: b's first sample (10 s) is 0 (flat before its first point), as a's is.
  MetricsConfig grid = mc;
  grid.start_ns = r.start_ns;
  grid.end_ns = r.end_ns;
  Result<Metrics> again = compute_metrics(r.runs[1], grid);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->sharpe, r.runs[1].metrics.sharpe);
}

}  // namespace
}  // namespace tickrt::backtest
