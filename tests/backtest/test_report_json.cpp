// tests/backtest/test_report_json.cpp — BacktestResult JSON: exact round trip, errors that name the field.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>

#include "backtest/result.hpp"
#include "report_fixture.hpp"

namespace tickrt::backtest {
namespace {

bool same_bits(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

// Field-by-field, bitwise on doubles: the round trip must not even flip a last bit or a sign of zero.
void expect_same(const BacktestResult& a, const BacktestResult& b) {
  EXPECT_EQ(a.title, b.title);
  EXPECT_EQ(a.machine, b.machine);
  EXPECT_EQ(a.command, b.command);
  EXPECT_EQ(a.seed, b.seed);
  EXPECT_EQ(a.data_files, b.data_files);
  EXPECT_EQ(a.config_toml, b.config_toml);
  EXPECT_EQ(a.start_ns, b.start_ns);
  EXPECT_EQ(a.end_ns, b.end_ns);
  ASSERT_EQ(a.runs.size(), b.runs.size());
  for (std::size_t i = 0; i < a.runs.size(); ++i) {
    const EngineRun& x = a.runs[i];
    const EngineRun& y = b.runs[i];
    SCOPED_TRACE("run " + x.name);
    EXPECT_EQ(x.name, y.name);
    EXPECT_EQ(x.engine, y.engine);
    EXPECT_EQ(x.precision, y.precision);
    EXPECT_EQ(x.zero_latency, y.zero_latency);
    const Metrics& m = x.metrics;
    const Metrics& n = y.metrics;
    for (auto [p, q] : {std::pair{m.pnl_gross, n.pnl_gross}, {m.fees, n.fees}, {m.pnl_net, n.pnl_net},
                        {m.capital, n.capital}, {m.sharpe, n.sharpe}, {m.sortino, n.sortino},
                        {m.max_drawdown, n.max_drawdown}, {m.max_drawdown_pct, n.max_drawdown_pct},
                        {m.turnover, n.turnover}, {m.turnover_x, n.turnover_x}, {m.hit_rate, n.hit_rate},
                        {m.avg_holding_s, n.avg_holding_s}})
      EXPECT_TRUE(same_bits(p, q)) << p << " vs " << q;
    EXPECT_EQ(m.annualisation, n.annualisation);
    EXPECT_EQ(m.trades, n.trades);
    EXPECT_EQ(m.round_trips, n.round_trips);
    EXPECT_EQ(x.counters.events, y.counters.events);
    EXPECT_EQ(x.counters.risk_refused, y.counters.risk_refused);
    EXPECT_TRUE(same_bits(x.counters.wall_seconds, y.counters.wall_seconds));
    ASSERT_EQ(x.fills.size(), y.fills.size());
    for (std::size_t k = 0; k < x.fills.size(); ++k) {
      const Fill& f = x.fills[k];
      const Fill& g = y.fills[k];
      EXPECT_EQ(f.ts_ns, g.ts_ns);
      EXPECT_EQ(f.symbol, g.symbol);
      EXPECT_EQ(f.side, g.side);
      EXPECT_TRUE(same_bits(f.price, g.price) && same_bits(f.qty, g.qty) && same_bits(f.fee, g.fee)) << "fill " << k;
      EXPECT_EQ(f.maker, g.maker);
      EXPECT_EQ(f.decision_ts_ns, g.decision_ts_ns);
    }
    ASSERT_EQ(x.equity.size(), y.equity.size());
    for (std::size_t k = 0; k < x.equity.size(); ++k) {
      const EquityPoint& p = x.equity[k];
      const EquityPoint& q = y.equity[k];
      EXPECT_EQ(p.ts_ns, q.ts_ns);
      EXPECT_TRUE(same_bits(p.equity, q.equity) && same_bits(p.gross, q.gross) && same_bits(p.position, q.position) &&
                  same_bits(p.mid, q.mid))
          << "equity " << k;
    }
    ASSERT_EQ(x.decisions.size(), y.decisions.size());
    for (std::size_t k = 0; k < x.decisions.size(); ++k) {
      const Decision& d = x.decisions[k];
      const Decision& e = y.decisions[k];
      EXPECT_TRUE(d.seq == e.seq && d.ts_ns == e.ts_ns && d.signal == e.signal && d.p_down == e.p_down &&
                  d.p_flat == e.p_flat && d.p_up == e.p_up)
          << "decision " << k;
    }
    ASSERT_EQ(x.latency.size(), y.latency.size());
    for (std::size_t k = 0; k < x.latency.size(); ++k) {
      const LatencySummary& l = x.latency[k];
      const LatencySummary& o = y.latency[k];
      EXPECT_EQ(l.name, o.name);
      EXPECT_EQ(l.count, o.count);
      EXPECT_TRUE(same_bits(l.mean_ns, o.mean_ns) && same_bits(l.p999_ns, o.p999_ns) && same_bits(l.max_ns, o.max_ns));
      EXPECT_EQ(l.bucket_upper_ns, o.bucket_upper_ns);
      EXPECT_EQ(l.bucket_counts, o.bucket_counts);
    }
  }
  ASSERT_EQ(a.comparisons.size(), b.comparisons.size());
  for (std::size_t i = 0; i < a.comparisons.size(); ++i) {
    const Comparison& c = a.comparisons[i];
    const Comparison& d = b.comparisons[i];
    EXPECT_EQ(c.baseline, d.baseline);
    EXPECT_EQ(c.run, d.run);
    EXPECT_TRUE(same_bits(c.sharpe_baseline, d.sharpe_baseline) && same_bits(c.sharpe_run, d.sharpe_run) &&
                same_bits(c.sharpe_diff_pct, d.sharpe_diff_pct) && same_bits(c.pnl_diff, d.pnl_diff) &&
                same_bits(c.pnl_in_disagreement, d.pnl_in_disagreement));
    EXPECT_EQ(c.sharpe_flag, d.sharpe_flag);
    EXPECT_EQ(c.decisions_compared, d.decisions_compared);
    EXPECT_EQ(c.decisions_differ, d.decisions_differ);
  }
}

TEST(ResultJson, ExactRoundTripOfARealisticResult) {
  BacktestResult r = testing::synthetic_result();
  ASSERT_TRUE(finalize(r).ok());
  const std::string text = to_json(r);
  Result<BacktestResult> back = from_json(text);
  ASSERT_TRUE(back.ok()) << back.status().to_string();
  expect_same(r, back.value());
  EXPECT_EQ(to_json(back.value()), text);  // and it writes the same bytes again
}

TEST(ResultJson, ExactRoundTripOfAwkwardValues) {
  BacktestResult r;
  r.title = "quotes \" backslash \\ newline \n tab \t </script> unicode \xc2\xb5s \xe2\x9a\x91";
  r.seed = std::numeric_limits<std::uint64_t>::max();
  r.start_ns = std::numeric_limits<std::int64_t>::min();
  r.end_ns = std::numeric_limits<std::int64_t>::max();
  EngineRun run;
  run.name = "x";
  run.metrics.pnl_gross = 0.1 + 0.2;                                  // 0.30000000000000004
  run.metrics.fees = -0.0;                                            // sign of zero kept
  run.metrics.pnl_net = 1.0 / 3.0;
  run.metrics.sharpe = std::numeric_limits<double>::quiet_NaN();      // JSON has no NaN: "NaN"
  run.metrics.sortino = std::numeric_limits<double>::infinity();
  run.metrics.max_drawdown = -std::numeric_limits<double>::infinity();
  run.metrics.turnover = std::numeric_limits<double>::denorm_min();
  run.metrics.turnover_x = std::numeric_limits<double>::max();
  run.metrics.hit_rate = 1e-300;
  run.decisions.push_back({std::numeric_limits<std::uint64_t>::max(), -1, -1, 1.0f / 3.0f, 0.1f,
                           std::numeric_limits<float>::denorm_min()});
  run.fills.push_back({1, "BTC\"USDT", -1, 65432.123456789012, 1e-8, -0.0001, true, 2});
  r.runs.push_back(run);
  Result<BacktestResult> back = from_json(to_json(r));
  ASSERT_TRUE(back.ok()) << back.status().to_string();
  const Metrics& m = back->runs[0].metrics;
  EXPECT_TRUE(std::isnan(m.sharpe));
  EXPECT_TRUE(std::isinf(m.sortino) && m.sortino > 0);
  EXPECT_TRUE(std::isinf(m.max_drawdown) && m.max_drawdown < 0);
  EXPECT_TRUE(std::signbit(m.fees));
  // NaN compares unequal: check the rest bitwise after putting the same NaN in both.
  BacktestResult a = r, b = back.value();
  a.runs[0].metrics.sharpe = b.runs[0].metrics.sharpe = 0;
  expect_same(a, b);
}

TEST(ResultJson, ErrorsNameTheField) {
  BacktestResult r = testing::synthetic_result(7, 400);
  ASSERT_TRUE(finalize(r).ok());
  r.runs[0].fills = {{1, "BTCUSDT", 1, 65000.5, 0.01, 0.01, false, 0}, {2, "BTCUSDT", -1, 65001.5, 0.01, 0.01, true, 1}};
  const std::string good = to_json(r);
  auto error_of = [](const std::string& text) {
    Result<BacktestResult> got = from_json(text);
    return got.ok() ? std::string("ok") : got.status().message();
  };
  // A missing key, deep inside.
  {
    const std::string key = "\"price\":";
    std::string bad = good;
    const auto first_fill = bad.find("\"fills\":[{");
    ASSERT_NE(first_fill, std::string::npos);
    const auto second_fill = bad.find("},{", first_fill);  // runs[0].fills[1] starts after this
    const auto price = bad.find(key, second_fill);
    const auto comma = bad.find(',', price);
    bad.erase(price, comma - price + 1);
    EXPECT_NE(error_of(bad).find("runs[0].fills[1].price: missing"), std::string::npos) << error_of(bad);
  }
  // A wrong type.
  {
    std::string bad = good;
    const auto at = bad.find("\"seed\":");
    bad.replace(at, std::string("\"seed\":7").size(), "\"seed\":\"x\"");
    EXPECT_NE(error_of(bad).find("seed: expected an integer"), std::string::npos) << error_of(bad);
  }
  // Out of range for the field's type (signal is int8).
  {
    std::string bad = good;
    const auto at = bad.find("\"signal\":");
    const auto end = bad.find(',', at);
    bad.replace(at, end - at, "\"signal\":300");
    EXPECT_NE(error_of(bad).find("runs[0].decisions[0].signal: integer out of range"), std::string::npos)
        << error_of(bad);
  }
  // Not JSON at all, truncated, another schema.
  EXPECT_NE(error_of("{\"schema\": ").find("parse error"), std::string::npos) << error_of("{\"schema\": ");
  EXPECT_NE(error_of(good.substr(0, good.size() / 2)).find("parse"), std::string::npos);
  EXPECT_NE(error_of("{\"schema\":\"other/9\"}").find("schema"), std::string::npos);
  EXPECT_NE(error_of("[1,2]").find("expected an object"), std::string::npos);
}

}  // namespace
}  // namespace tickrt::backtest
