// tests/backtest/report_fixture.hpp — a synthetic but realistic BacktestResult for the report tests:
// four runs (fp32, int8, each with measured latency and with zero latency) trading a seeded random
// walk for 10 minutes of 100 ms samples, with fills, equity, decisions and latency histograms,
// to be finalized by the real compute_metrics/compare_runs. Nothing here is a hard-coded metric.
#pragma once

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "backtest/metrics.hpp"
#include "backtest/result.hpp"

namespace tickrt::backtest::testing {

// Log-spaced buckets (x1.25 from 1 us to ~100 ms) filled with `samples`.
inline LatencySummary summarize(const std::string& name, std::vector<double> samples) {
  LatencySummary l;
  l.name = name;
  l.count = samples.size();
  for (double u = 1000; u < 1.1e8; u *= 1.25) l.bucket_upper_ns.push_back(std::round(u));
  l.bucket_counts.assign(l.bucket_upper_ns.size(), 0);
  std::sort(samples.begin(), samples.end());
  double sum = 0;
  for (double s : samples) {
    sum += s;
    std::size_t b = 0;
    while (b + 1 < l.bucket_upper_ns.size() && l.bucket_upper_ns[b] < s) ++b;
    ++l.bucket_counts[b];
  }
  auto q = [&](double p) { return samples.empty() ? 0.0 : samples[std::size_t(p * double(samples.size() - 1))]; };
  l.mean_ns = samples.empty() ? 0 : sum / double(samples.size());
  l.p50_ns = q(0.5);
  l.p90_ns = q(0.9);
  l.p99_ns = q(0.99);
  l.p999_ns = q(0.999);
  l.max_ns = samples.empty() ? 0 : samples.back();
  return l;
}

inline BacktestResult synthetic_result(std::uint64_t seed = 42, int samples = 6000) {
  constexpr std::int64_t kStart = 1'723'161'253'000'000'000;  // 2024-08-08 23:54:13 UTC
  constexpr std::int64_t kStep = 100'000'000;                 // 100 ms samples
  const int kSamples = samples;                               // 6000: 10 minutes
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> noise(0.0, 1.0);

  // Mid price: a random walk around a slow hidden drift (AR(1)), which the model estimates with noise.
  // INT8 sees the same estimate plus a quantization error, so its decisions differ near the thresholds.
  std::vector<double> mid(kSamples + 1), drift(kSamples + 1);
  mid[0] = 60'000;
  for (int i = 1; i <= kSamples; ++i) {
    drift[i] = 0.995 * drift[i - 1] + 0.0000015 * noise(rng);
    mid[i] = mid[i - 1] * (1 + drift[i] + 0.00003 * noise(rng));
  }
  auto decide = [](double est, std::int8_t prev) -> std::int8_t {
    constexpr double kEnter = 0.00001, kExit = -0.000002;  // hysteresis: enter on a strong estimate,
    if (est > kEnter) return 1;                            // leave when it fades
    if (est < -kEnter) return -1;
    if (prev == 1 && est < kExit) return 0;
    if (prev == -1 && est > -kExit) return 0;
    return prev;
  };
  std::vector<std::int8_t> fp32(kSamples), int8(kSamples);
  std::int8_t pf = 0, pq = 0;
  for (int i = 0; i < kSamples; ++i) {
    const double est = drift[i] + 0.000003 * noise(rng);
    fp32[i] = pf = decide(est, pf);
    int8[i] = pq = decide(est + 0.000003 * noise(rng), pq);
  }

  BacktestResult r;
  r.title = "synthetic fp32 vs int8 <test> & \"quotes\"";
  r.machine = "test machine";
  r.command = "tickrt backtest --config bt.toml --engines fp32.engine,int8.engine";
  r.seed = seed;
  r.data_files = {"../shared/data/binance_ws/spot/btcusdt_20240808.gz", "../shared/data/binance_ws/spot/btcusdt_20240809.gz"};
  r.config_toml = "[backtest]\nseed = 42\n";
  r.start_ns = kStart;
  r.end_ns = kStart + std::int64_t(kSamples) * kStep;

  struct Spec { const char* name; const char* precision; bool zero; double inf_mean_us; int lag; };
  const Spec specs[] = {{"fp32", "fp32", false, 180, 4}, {"int8", "int8", false, 45, 1},
                        {"fp32@0lat", "fp32", true, 0, 0}, {"int8@0lat", "int8", true, 0, 0}};
  for (const Spec& s : specs) {
    EngineRun run;
    run.name = s.name;
    run.engine = std::string("models/lstm_attn_s.") + s.precision + ".engine";
    run.precision = s.precision;
    run.zero_latency = s.zero;
    const std::vector<std::int8_t>& sig = std::string(s.precision) == "fp32" ? fp32 : int8;
    double pos = 0, cash = 0, fees = 0;
    constexpr double kLot = 0.05, kHalfSpread = 0.05, kTaker = 0.0001;
    for (int i = 0; i < kSamples; ++i) {
      const std::int64_t ts = kStart + std::int64_t(i) * kStep;
      run.decisions.push_back({std::uint64_t(i), ts, sig[i], 0.2f, 0.5f, 0.3f});
      // The order reaches the venue `lag` samples after the decision (slower engine, later fill).
      const int d = i - s.lag;
      if (d >= 0) {
        const double target = kLot * sig[d];
        if (target != pos) {
          const int side = target > pos ? 1 : -1;
          const double qty = std::fabs(target - pos);
          const double px = mid[i] + side * kHalfSpread;
          const double fee = px * qty * kTaker;
          run.fills.push_back({ts, "BTCUSDT", side, px, qty, fee, false, kStart + std::int64_t(d) * kStep});
          cash -= side * px * qty;
          fees += fee;
          pos = target;
        }
      }
      const double gross = cash + pos * mid[i];
      run.equity.push_back({ts, gross - fees, gross, pos, mid[i]});
    }
    run.counters = {std::uint64_t(kSamples) * 17, std::uint64_t(kSamples), std::uint64_t(kSamples),
                    run.fills.size(), 3, 0, 1, 0.25};
    std::lognormal_distribution<double> inf(std::log(std::max(1.0, s.inf_mean_us) * 1000), 0.35);
    std::lognormal_distribution<double> order(std::log(250'000), 0.5), feed(std::log(2'000'000), 0.6);
    std::vector<double> a, b, c;
    for (int i = 0; i < kSamples; ++i) {
      a.push_back(s.zero ? 0.0 : inf(rng));
      if (i % 8 == 0) b.push_back(order(rng));
      c.push_back(feed(rng));
    }
    run.latency = {summarize("inference", a), summarize("order", b), summarize("feed", c)};
    r.runs.push_back(std::move(run));
  }
  return r;  // the caller runs finalize() and checks its Status
}

}  // namespace tickrt::backtest::testing
