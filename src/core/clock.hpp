// core/clock.hpp — monotonic nanosecond clock.
//
// now_ns(): CLOCK_MONOTONIC through the vDSO (no syscall). Cost per call is
// measured by bench_core (BM_clock_now_ns) and written in docs/BENCHMARKS.md.
// Use it for latency stamps on every stage; it never goes backwards and is
// comparable across threads of one process.
//
// wall_ns(): CLOCK_REALTIME, for comparing with exchange timestamps only.
#pragma once

#include <cstdint>
#include <ctime>

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

}  // namespace tickrt
