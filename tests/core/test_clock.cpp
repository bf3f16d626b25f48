// Clocks: monotonicity, and TscClock calibrated against CLOCK_MONOTONIC.
#include "core/clock.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

namespace tickrt {
namespace {

TEST(Clock, NowNsIsMonotonic) {
  std::int64_t prev = now_ns();
  for (int i = 0; i < 100'000; ++i) {
    const std::int64_t t = now_ns();
    ASSERT_GE(t, prev);
    prev = t;
  }
  EXPECT_GT(wall_ns(), 1'600'000'000LL * 1'000'000'000LL);  // after 2020
}

TEST(Clock, TscCalibratedAgainstMonotonic) {
  if (!TscClock::invariant_tsc_available()) GTEST_SKIP() << "no invariant TSC on this CPU";
  auto r = TscClock::calibrate(std::chrono::milliseconds(20));
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  const TscClock c = r.value();
  EXPECT_GT(c.ghz(), 0.1);
  EXPECT_LT(c.ghz(), 10.0);

  // Same time base: the TSC clock read between two now_ns() calls lies between them
  // (within a small slack for the conversion's rounding and calibration offset).
  for (int i = 0; i < 1000; ++i) {
    const std::int64_t a = now_ns();
    const std::int64_t t = c.now_ns();
    const std::int64_t b = now_ns();
    ASSERT_GE(t, a - 2'000) << "TSC clock behind CLOCK_MONOTONIC";
    ASSERT_LE(t, b + 2'000) << "TSC clock ahead of CLOCK_MONOTONIC";
  }

  // Rate: over a 100 ms interval the two clocks agree within 0.1%.
  const std::uint64_t t0 = TscClock::ticks();
  const std::int64_t n0 = now_ns();
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  const std::uint64_t t1 = TscClock::ticks();
  const std::int64_t n1 = now_ns();
  const double tsc_ns = static_cast<double>(c.ticks_to_ns(static_cast<std::int64_t>(t1 - t0)));
  const double mono_ns = static_cast<double>(n1 - n0);
  EXPECT_NEAR(tsc_ns / mono_ns, 1.0, 1e-3);

  // Monotonic on one thread.
  std::int64_t prev = c.now_ns();
  for (int i = 0; i < 100'000; ++i) {
    const std::int64_t t = c.now_ns();
    ASSERT_GE(t, prev);
    prev = t;
  }
}

TEST(Clock, TscConversionArithmetic) {
  if (!TscClock::invariant_tsc_available()) GTEST_SKIP() << "no invariant TSC on this CPU";
  auto r = TscClock::calibrate(std::chrono::milliseconds(2));
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  const TscClock& c = r.value();
  // Signed intervals convert symmetrically; an hour of ticks does not overflow.
  const std::int64_t hour_ticks = static_cast<std::int64_t>(3600.0 * c.ghz() * 1e9);
  const std::int64_t hour_ns = c.ticks_to_ns(hour_ticks);
  EXPECT_NEAR(static_cast<double>(hour_ns), 3.6e12, 3.6e12 * 1e-3);
  // Arithmetic shift floors, so -t converts to -(t's ns) or one less.
  const std::int64_t neg = c.ticks_to_ns(-hour_ticks);
  EXPECT_TRUE(neg == -hour_ns || neg == -hour_ns - 1) << neg << " vs " << hour_ns;
  // Readings before the calibration point convert through the signed delta.
  const std::int64_t past = c.to_ns(TscClock::ticks() - static_cast<std::uint64_t>(hour_ticks));
  EXPECT_NEAR(static_cast<double>(past), static_cast<double>(now_ns() - hour_ns), 1e6);
}

}  // namespace
}  // namespace tickrt
