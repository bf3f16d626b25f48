// core/clock.hpp — monotonic nanosecond clocks.
//
// now_ns(): CLOCK_MONOTONIC through the vDSO (no syscall while the kernel clocksource is
// tsc or kvm-clock). It never goes backwards and is comparable across threads and
// processes. Use it for latency stamps that cross threads or leave the process.
//
// TscClock: reads the CPU's time-stamp counter (rdtsc) and converts ticks to ns with one
// 64x64->128 multiply and a shift, using a rate calibrated once against CLOCK_MONOTONIC.
// It is offered because it measured cheaper than now_ns() on the project machine:
//
//   Measured with `bench/core/run_bench_core.sh build-core` (bench_core, 5 repetitions,
//   median CPU time per call) on Intel(R) Xeon(R) Processor (KVM guest, clocksource tsc,
//   2 vCPUs shared with other builds), 2026-11-29, two runs (docs/BENCHMARKS.md "## core"):
//     now_ns() (clock_gettime vDSO)           16.6 / 16.6 ns
//     std::chrono::steady_clock::now()        16.4 / 16.2 ns (the same vDSO call)
//     TscClock::ticks() (rdtsc)                7.15 / 7.14 ns
//     TscClock::now_ns() (rdtsc + mul-shift)   8.13 / 8.08 ns  (2.0x cheaper than steady_clock)
//   clock_gettime does an rdtsc too, plus the vDSO's seqlock reads and its own scaling.
//
// When to use which:
//  * TscClock for stage-internal intervals on the hot path (start/stop on the same thread,
//    or across threads of one process). calibrate() checks that the TSC is invariant
//    (CPUID); that it is synchronised across cores is what the kernel verifies before it
//    picks "tsc" as clocksource (/sys/devices/system/clocksource/clocksource0), which is
//    the case on the project machine. Where it is not, stamp cross-thread intervals with
//    now_ns().
//  * now_ns() for everything written out or compared with other processes.
//  Both are monotonic; TscClock::now_ns() agrees with now_ns() within the calibration error
//  (tests/core check < 0.1% drift over the test's interval and the absolute offset).
//  rdtsc is not serialising: it may execute a few instructions early or late. For the
//  intervals measured here (>= hundreds of ns) that is below the reported resolution.
//
// wall_ns(): CLOCK_REALTIME, for comparing with exchange timestamps only.
#pragma once

#include <chrono>
#include <cstdint>
#include <ctime>
#include <string>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#include <x86intrin.h>
#define TICKRT_HAS_TSC 1
#else
#define TICKRT_HAS_TSC 0
#endif

#include "core/status.hpp"

namespace tickrt {

inline std::int64_t now_ns() noexcept {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

inline std::int64_t wall_ns() noexcept {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

// A calibrated TSC clock. Value type (copy it into each thread that stamps); construct with
// calibrate() on the setup path. now_ns() is on the same time base as tickrt::now_ns().
class TscClock {
 public:
  static constexpr int kShift = 32;  // ns = ticks * mult >> 32: 2^-32 relative resolution

  // True when the CPU reports an invariant TSC (CPUID 0x80000007 EDX bit 8): constant rate
  // across P-states and running in deep C-states, so ticks are a valid time base.
  static bool invariant_tsc_available() noexcept {
#if TICKRT_HAS_TSC
    unsigned a = 0, b = 0, c = 0, d = 0;
    if (static_cast<unsigned>(__get_cpuid_max(0x80000000u, nullptr)) < 0x80000007u) return false;
    __cpuid(0x80000007u, a, b, c, d);
    return (d & (1u << 8)) != 0;
#else
    return false;
#endif
  }

  // Setup path: measures the TSC rate against CLOCK_MONOTONIC over `window` (longer is more
  // accurate: the error is about 2 x (clock_gettime cost) / window, ~3e-6 for 20 ms).
  // Fails with Code::unsupported when there is no invariant TSC (then use now_ns()).
  static Result<TscClock> calibrate(std::chrono::nanoseconds window = std::chrono::milliseconds(20)) {
#if TICKRT_HAS_TSC
    if (!invariant_tsc_available()) {
      return Result<TscClock>(Code::unsupported,
                              "TscClock: CPU does not report an invariant TSC (CPUID 0x80000007 EDX[8]); use now_ns()");
    }
    if (window.count() < 1'000'000) window = std::chrono::milliseconds(1);
    std::uint64_t t0 = 0, t1 = 0;
    std::int64_t n0 = 0, n1 = 0;
    sample(t0, n0);
    // Busy-wait rather than sleep: the scheduler may move us, but the TSC is synchronised
    // across cores on invariant-TSC CPUs, and spinning keeps the window exact.
    do {
      sample(t1, n1);
    } while (n1 - n0 < window.count());
    if (t1 <= t0) {
      return Result<TscClock>(Code::unsupported, "TscClock: TSC did not advance during calibration");
    }
    const long double ns_per_tick = static_cast<long double>(n1 - n0) / static_cast<long double>(t1 - t0);
    TscClock c;
    c.mult_ = static_cast<std::uint64_t>(ns_per_tick * static_cast<long double>(std::uint64_t{1} << kShift) + 0.5L);
    if (c.mult_ == 0) {
      return Result<TscClock>(Code::unsupported, "TscClock: TSC rate above 2^32 GHz? calibration nonsensical");
    }
    c.base_ticks_ = t1;
    c.base_ns_ = n1;
    c.ghz_ = 1.0 / static_cast<double>(ns_per_tick);
    return c;
#else
    (void)window;
    return Result<TscClock>(Code::unsupported, "TscClock: no TSC on this architecture; use now_ns()");
#endif
  }

  // Hot path: the raw counter. Convert differences with ticks_to_ns().
  static std::uint64_t ticks() noexcept {
#if TICKRT_HAS_TSC
    return __rdtsc();
#else
    return 0;
#endif
  }

  // Nanoseconds on CLOCK_MONOTONIC's time base for a tick reading (ticks before the
  // calibration point are valid too: the delta is signed).
  std::int64_t to_ns(std::uint64_t t) const noexcept {
    const std::int64_t d = static_cast<std::int64_t>(t - base_ticks_);
    return base_ns_ + ticks_to_ns(d);
  }
  // A signed tick interval in ns: one 64x64->128 multiply and a shift.
  std::int64_t ticks_to_ns(std::int64_t dt) const noexcept {
    __extension__ using i128 = __int128;  // GNU extension (g++ and clang); quiet under -Wpedantic
    const i128 p = static_cast<i128>(dt) * static_cast<i128>(mult_);
    return static_cast<std::int64_t>(p >> kShift);
  }
  std::int64_t now_ns() const noexcept { return to_ns(ticks()); }

  double ghz() const noexcept { return ghz_; }
  // A duration in ns as a tick count, for thresholds compared with tick differences (setup path); <= 0 gives 0.
  std::uint64_t ns_to_ticks(std::int64_t ns) const noexcept {
    return ns <= 0 ? 0 : static_cast<std::uint64_t>(static_cast<double>(ns) * (ghz_ > 1e-9 ? ghz_ : 1e-9));
  }
  std::uint64_t mult() const noexcept { return mult_; }

 private:
#if TICKRT_HAS_TSC
  // One (ticks, ns) pair taken as close together as possible: the pair with the shortest
  // bracketing rdtsc interval out of a few tries, ns stamped mid-way.
  static void sample(std::uint64_t& ticks, std::int64_t& ns) noexcept {
    std::uint64_t best = ~std::uint64_t{0};
    for (int i = 0; i < 5; ++i) {
      const std::uint64_t a = __rdtsc();
      const std::int64_t n = tickrt::now_ns();
      const std::uint64_t b = __rdtsc();
      if (b - a < best) {
        best = b - a;
        ticks = a + (b - a) / 2;
        ns = n;
      }
    }
  }
#endif

  std::uint64_t base_ticks_ = 0;
  std::int64_t base_ns_ = 0;
  std::uint64_t mult_ = 0;
  double ghz_ = 0.0;
};

}  // namespace tickrt
