// risk/token_bucket.hpp — an exact integer token bucket on a caller-given clock.
//
// Who calls: the risk engine's owning thread, with the `now_ns` it already has (the pipeline's
// stamp or the backtester's simulated clock): the bucket reads no clock and makes no syscall, so a
// replay is reproducible and tests can drive it with a fake clock.
//
// Arithmetic: the level is kept in nano-tokens (1 token = 1e9 units). A rate of r tokens/s adds
// exactly r units per ns, so after dt ns the level grows by dt * r units: integer, no rounding, no
// drift (10/s refills one token after exactly 100,000,000 ns, not "about"). The level is capped at
// burst tokens. A clock that steps backwards refills nothing (and does not move the reference).
// Limits: rate <= 1e9 tokens/s and burst <= 2^31 tokens (kept well below int64 overflow:
// burst * 1e9 + rate <= 2.2e18; the refill product is bounded before it is formed).
#pragma once

#include <algorithm>
#include <cstdint>

namespace tickrt::risk {

class TokenBucket {
 public:
  static constexpr std::int64_t kUnit = 1'000'000'000;  // nano-tokens per token

  struct Config {
    std::uint32_t rate_per_s = 10;  // sustained tokens per second (0 = never refills)
    std::uint32_t burst = 10;       // capacity in tokens (the bucket starts full)
  };

  TokenBucket() noexcept = default;
  TokenBucket(const Config& c, std::int64_t now_ns) noexcept { reset(c, now_ns); }

  void reset(const Config& c, std::int64_t now_ns) noexcept {
    rate_ = std::min<std::int64_t>(c.rate_per_s, kUnit);
    cap_ = static_cast<std::int64_t>(std::min<std::uint32_t>(c.burst, 1u << 31)) * kUnit;
    full_after_ns_ = rate_ > 0 ? cap_ / rate_ + 1 : 0;  // divided once here, not per take
    level_ = cap_;
    last_ns_ = now_ns;
  }

  // Takes one token if one is available at now_ns; false (nothing taken) otherwise.
  [[nodiscard]] bool try_take(std::int64_t now_ns) noexcept {
    refill(now_ns);
    if (level_ < kUnit) return false;
    level_ -= kUnit;
    return true;
  }
  // Tokens available at now_ns (whole tokens, rounded down). Refills as a side effect.
  [[nodiscard]] std::int64_t available(std::int64_t now_ns) noexcept {
    refill(now_ns);
    return level_ / kUnit;
  }
  std::int64_t level_nano() const noexcept { return level_; }

 private:
  void refill(std::int64_t now_ns) noexcept {
    const std::int64_t dt = now_ns - last_ns_;
    if (dt <= 0) return;
    last_ns_ = now_ns;
    if (rate_ == 0) return;
    // dt * rate could overflow for long idle spells: any dt that refills even an empty bucket
    // (full_after_ns_) is capped before the product is formed; below it dt * rate < cap.
    if (dt >= full_after_ns_) level_ = cap_;
    else level_ = std::min(cap_, level_ + dt * rate_);
  }

  std::int64_t rate_ = 0;   // nano-tokens per ns == tokens per s
  std::int64_t cap_ = 0;
  std::int64_t full_after_ns_ = 0;
  std::int64_t level_ = 0;
  std::int64_t last_ns_ = 0;
};

}  // namespace tickrt::risk
