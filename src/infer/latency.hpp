// infer/latency.hpp — measuring an engine: latency of synchronous single inferences (setup/benchmark path).
#pragma once

#include <cstdint>

#include "infer/engine.hpp"

namespace tickrt::infer {

struct LatencyResult {
  double median_us = 0, p99_us = 0, mean_us = 0, min_us = 0;
  double throughput_per_s = 0;   // samples per second = batch * 1e6 / median_us
  std::int64_t iters = 0;
};

// Warms up (20 runs), then times ctx.run() one call at a time with the monotonic clock for about `seconds`
// (at least min_iters calls). The context must be prepared; inputs are whatever the caller wrote.
LatencyResult measure_latency(ExecutionContext& ctx, std::int64_t batch, double seconds, std::int64_t min_iters = 50);

}  // namespace tickrt::infer
