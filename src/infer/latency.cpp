#include "infer/latency.hpp"

#include <algorithm>
#include <vector>

#include "core/clock.hpp"

namespace tickrt::infer {

LatencyResult measure_latency(ExecutionContext& ctx, std::int64_t batch, double seconds, std::int64_t min_iters) {
  for (int i = 0; i < 20; ++i) (void)ctx.run();
  std::vector<std::int64_t> samples;
  samples.reserve(1 << 20);
  const std::int64_t budget = static_cast<std::int64_t>(seconds * 1e9);
  const std::int64_t start = now_ns();
  while (static_cast<std::int64_t>(samples.size()) < min_iters || now_ns() - start < budget) {
    const std::int64_t t0 = now_ns();
    (void)ctx.run();
    samples.push_back(now_ns() - t0);
    if (samples.size() >= (1u << 20)) break;
  }
  std::sort(samples.begin(), samples.end());
  LatencyResult r;
  r.iters = static_cast<std::int64_t>(samples.size());
  auto pct = [&](double p) { return samples[std::min(samples.size() - 1, static_cast<std::size_t>(p * (samples.size() - 1) + 0.5))] / 1e3; };
  r.median_us = pct(0.5);
  r.p99_us = pct(0.99);
  r.min_us = samples.front() / 1e3;
  double sum = 0;
  for (auto s : samples) sum += static_cast<double>(s);
  r.mean_us = sum / static_cast<double>(samples.size()) / 1e3;
  r.throughput_per_s = static_cast<double>(batch) * 1e6 / r.median_us;
  return r;
}

}  // namespace tickrt::infer
