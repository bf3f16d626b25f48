// tests/backtest/test_latency_model.cpp — the backtester's latency distributions: parsing (errors
// name the key), seeded determinism, and that each kind's draws have the stated shape.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "backtest/latency_model.hpp"

using namespace tickrt::backtest;

TEST(LatencyModel, ParsesEveryKindAndRejectsGarbageNamingTheKey) {
  ASSERT_TRUE(LatencyDist::parse("fixed:150", "k").ok());
  ASSERT_TRUE(LatencyDist::parse("normal:100,10", "k").ok());
  ASSERT_TRUE(LatencyDist::parse("lognormal:100,0.3", "k").ok());
  ASSERT_TRUE(LatencyDist::parse("uniform:10,20", "k").ok());
  for (const char* bad : {"", "fixed", "fixed:x", "fixed:-1", "normal:1", "lognormal:0,1", "uniform:5,1", "gamma:1,2",
                          "fixed:1,2"}) {
    auto r = LatencyDist::parse(bad, "latency.order in cfg.toml");
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_NE(r.status().message().find("latency.order in cfg.toml"), std::string::npos) << r.status().message();
  }
}

TEST(LatencyModel, FixedIsExactAndSameSeedSameDraws) {
  Rng rng(1);
  const auto f = LatencyDist::parse("fixed:12.5", "k").value();
  EXPECT_EQ(f.sample(rng), 12'500);
  const auto ln = LatencyDist::parse("lognormal:100,0.5", "k").value();
  Rng a(42), b(42), c(43);
  std::vector<std::int64_t> va, vb, vc;
  for (int i = 0; i < 1000; ++i) {
    va.push_back(ln.sample(a));
    vb.push_back(ln.sample(b));
    vc.push_back(ln.sample(c));
  }
  EXPECT_EQ(va, vb);
  EXPECT_NE(va, vc);
}

TEST(LatencyModel, DrawsHaveTheStatedCentre) {
  Rng rng(7);
  const auto ln = LatencyDist::parse("lognormal:200,0.4", "k").value();
  const auto nm = LatencyDist::parse("normal:50,5", "k").value();
  const auto un = LatencyDist::parse("uniform:10,30", "k").value();
  std::vector<std::int64_t> l, n, u;
  for (int i = 0; i < 20000; ++i) {
    l.push_back(ln.sample(rng));
    n.push_back(nm.sample(rng));
    u.push_back(un.sample(rng));
  }
  std::sort(l.begin(), l.end());
  EXPECT_NEAR(static_cast<double>(l[l.size() / 2]), 200'000.0, 200'000.0 * 0.03);  // median
  double mn = 0, mu = 0;
  for (auto x : n) mn += static_cast<double>(x);
  for (auto x : u) {
    mu += static_cast<double>(x);
    ASSERT_GE(x, 10'000);
    ASSERT_LE(x, 30'000);
  }
  EXPECT_NEAR(mn / n.size(), 50'000.0, 500.0);
  EXPECT_NEAR(mu / u.size(), 20'000.0, 400.0);
}

TEST(LatencyModel, EmpiricalReplaysOnlyMeasuredValues) {
  const auto d = LatencyDist::from_samples({300, 100, 200});
  Rng rng(3);
  for (int i = 0; i < 100; ++i) {
    const auto v = d.sample(rng);
    EXPECT_TRUE(v == 100 || v == 200 || v == 300) << v;
  }
  EXPECT_DOUBLE_EQ(d.mean_ns(), 200.0);
}
