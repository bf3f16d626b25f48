// backtest/latency_model.hpp — the backtester's latency distributions and its seeded RNG.
//
// Who calls: the tick backtester (backtester.hpp) on its single replay thread. Setup path: parse()
// from a config string, or from_samples() with inference latencies measured on this machine at
// the start of a run. Hot path: sample(), once per inference / order, no allocation, no virtual
// call (a switch on the kind).
// Determinism: every draw comes from one SplitMix64 stream per run seeded from the run's seed, so
// the same seed gives the same simulated clock on every machine for the parametric kinds; the
// "empirical" kind replays measured samples, so it is deterministic for a given sample set (a
// run's result records the summary; a config may pin it with `inference_latency = "fixed:..."`).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.hpp"

namespace tickrt::backtest {

// SplitMix64 (same generator as the simulator's fault draws): tiny, seedable, fast.
struct Rng {
  std::uint64_t s = 0;
  explicit Rng(std::uint64_t seed = 0) noexcept : s(seed) {}
  std::uint64_t next() noexcept {
    std::uint64_t z = (s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  double uniform() noexcept { return static_cast<double>(next() >> 11) * 0x1.0p-53; }  // [0,1)
  // Standard normal (Box-Muller; one value per call: simpler and deterministic per draw count).
  double normal() noexcept;
};

// A latency distribution in nanoseconds. Spelled in config as
//   "fixed:<us>"                  always <us> microseconds
//   "normal:<mean_us>,<sd_us>"    truncated at 0
//   "lognormal:<median_us>,<sigma>"  exp(N(ln median, sigma)); sigma is the log-space sd
//   "uniform:<lo_us>,<hi_us>"
//   "measured"                    only for inference: measure the engine at the start of the run
// "empirical" is built from measured samples (from_samples), drawn uniformly with replacement.
class LatencyDist {
 public:
  enum class Kind : std::uint8_t { kFixed, kNormal, kLognormal, kUniform, kEmpirical };

  LatencyDist() = default;
  static LatencyDist fixed_ns(std::int64_t ns) noexcept;
  // `where` names the config key/file for the error message.
  static Result<LatencyDist> parse(std::string_view spec, const std::string& where);
  // Samples in ns (copied, sorted); empty -> fixed 0.
  static LatencyDist from_samples(std::vector<std::int64_t> samples_ns);

  [[nodiscard]] std::int64_t sample(Rng& rng) const noexcept;
  Kind kind() const noexcept { return kind_; }
  double mean_ns() const noexcept;   // analytical (or sample) mean, for reports
  std::string describe() const;      // e.g. "lognormal(median 150 us, sigma 0.30)"
  const std::vector<std::int64_t>& samples() const noexcept { return samples_; }

 private:
  Kind kind_ = Kind::kFixed;
  double a_ = 0, b_ = 0;  // ns (fixed: a; normal: mean, sd; lognormal: ln(median ns), sigma; uniform: lo, hi)
  std::vector<std::int64_t> samples_;
};

}  // namespace tickrt::backtest
