// bench_core: core/ hot-path costs, each next to a named peer measured in the same run.
//
//   build-core/bin/bench_core                          # everything
//   build-core/bin/bench_core --benchmark_filter=BM_clock
//   build-core/bin/bench_core --benchmark_filter='spsc' --benchmark_repetitions=3
//
// SPSC benchmarks pin the producer (the benchmark thread) to CPU 0 and the consumer / echo
// thread to CPU 1 with pthread_setaffinity_np, as Rigtorp's SPSCQueue benchmark does; they
// skip (with a message) on a machine with fewer than 2 CPUs. Peers:
//  * clocks: std::chrono::steady_clock::now() (the portable choice);
//  * SPSC: boost::lockfree::spsc_queue<T> with run-time capacity (same element type, same
//    capacity, same pinning, same loop shape);
//  * decimal parse: strtod and std::from_chars<double> on the same strings (they produce a
//    double, not an exact fixed-point value: the peer is "what one would use instead");
//  * histogram: keeping every sample in a preallocated vector (exact) and std::nth_element
//    over 100k samples at report time (the copy that nth_element needs is included).
#include <benchmark/benchmark.h>
#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <random>
#include <string>
#include <thread>
#include <vector>

#if TICKRT_BENCH_BOOST_LOCKFREE
#include <boost/lockfree/spsc_queue.hpp>
#endif

#include "core/clock.hpp"
#include "core/fixed_point.hpp"
#include "core/latency_histogram.hpp"
#include "core/spsc_ring.hpp"

namespace {

using tickrt::LatencyHistogram;
using tickrt::SpscRing;
using tickrt::TscClock;

// ---- clocks -------------------------------------------------------------------------------
void BM_clock_now_ns(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(tickrt::now_ns());
}
BENCHMARK(BM_clock_now_ns);

void BM_clock_steady_clock(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(std::chrono::steady_clock::now());
}
BENCHMARK(BM_clock_steady_clock);

const TscClock* tsc() {
  static const auto r = TscClock::calibrate(std::chrono::milliseconds(50));
  return r.ok() ? &r.value() : nullptr;
}

void BM_clock_tsc_ticks(benchmark::State& state) {
  if (tsc() == nullptr) { state.SkipWithError("no invariant TSC"); return; }
  for (auto _ : state) benchmark::DoNotOptimize(TscClock::ticks());
}
BENCHMARK(BM_clock_tsc_ticks);

void BM_clock_tsc_now_ns(benchmark::State& state) {
  const TscClock* c = tsc();
  if (c == nullptr) { state.SkipWithError("no invariant TSC"); return; }
  const TscClock local = *c;  // the intended use: a copy per thread
  for (auto _ : state) benchmark::DoNotOptimize(local.now_ns());
  state.counters["GHz"] = local.ghz();
}
BENCHMARK(BM_clock_tsc_now_ns);

// ---- SPSC ---------------------------------------------------------------------------------
bool pin_to(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  return pthread_setaffinity_np(pthread_self(), sizeof(set), &set) == 0;
}

// Restores the benchmark thread's affinity at scope exit so later benchmarks are unpinned.
struct PinGuard {
  cpu_set_t saved;
  bool ok = false;
  explicit PinGuard(int cpu) {
    pthread_getaffinity_np(pthread_self(), sizeof(saved), &saved);
    ok = pin_to(cpu);
  }
  ~PinGuard() { pthread_setaffinity_np(pthread_self(), sizeof(saved), &saved); }
};

// Adapters: the same three calls on both queues, so the loops are identical.
struct TickrtQ {
  SpscRing<std::uint64_t> q;
  explicit TickrtQ(std::size_t cap) : q(cap) {}
  bool push(std::uint64_t v) { return q.try_push(v); }
  bool pop(std::uint64_t& v) { return q.try_pop(v); }
};
#if TICKRT_BENCH_BOOST_LOCKFREE
struct BoostQ {
  boost::lockfree::spsc_queue<std::uint64_t> q;
  explicit BoostQ(std::size_t cap) : q(cap) {}
  bool push(std::uint64_t v) { return q.push(v); }
  bool pop(std::uint64_t& v) { return q.pop(v); }
};
#endif

constexpr std::uint64_t kStop = ~std::uint64_t{0};
constexpr std::size_t kRingCap = 1 << 16;  // as SPSCQueue's benchmark (queue size 65536)

// Throughput: per iteration the producer pushes kBatch sequenced items; the consumer (CPU 1)
// pops and checks order; the iteration ends when the consumer has taken them all.
template <class Q>
void BM_spsc_throughput(benchmark::State& state) {
  if (std::thread::hardware_concurrency() < 2) { state.SkipWithError("needs 2 CPUs"); return; }
  constexpr std::uint64_t kBatch = 1 << 20;
  Q q(kRingCap);
  std::atomic<std::uint64_t> consumed{0};
  std::atomic<bool> order_ok{true};
  std::thread consumer([&] {
    pin_to(1);
    std::uint64_t expect = 0, v = 0;
    for (;;) {
      if (!q.pop(v)) continue;
      if (v == kStop) break;
      if (v != expect) order_ok.store(false, std::memory_order_relaxed);
      ++expect;
      if ((expect & 1023) == 0 || expect % kBatch == 0) consumed.store(expect, std::memory_order_release);
    }
  });
  PinGuard pin(0);
  std::uint64_t next = 0;
  for (auto _ : state) {
    const std::uint64_t end = next + kBatch;
    for (; next < end; ++next) {
      while (!q.push(next)) {
      }
    }
    while (consumed.load(std::memory_order_acquire) < end) {
    }
  }
  while (!q.push(kStop)) {
  }
  consumer.join();
  if (!order_ok.load()) state.SkipWithError("consumer saw items out of order");
  if (!pin.ok) state.SkipWithError("pthread_setaffinity_np failed");
  state.SetItemsProcessed(static_cast<std::int64_t>(next));
  state.counters["ns_per_item"] =
      benchmark::Counter(static_cast<double>(next), benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_spsc_throughput<TickrtQ>)->Name("BM_spsc_throughput/tickrt")->UseRealTime()->Unit(benchmark::kMillisecond);
#if TICKRT_BENCH_BOOST_LOCKFREE
BENCHMARK(BM_spsc_throughput<BoostQ>)->Name("BM_spsc_throughput/boost")->UseRealTime()->Unit(benchmark::kMillisecond);
#endif

// Round trip: the producer pushes one item to `ping`, the echo thread (CPU 1) pops it and
// pushes it to `pong`, the producer pops it. One iteration = one round trip: the latency a
// stage sees through a request ring and a reply ring. Time is the mean; counters p50_ns /
// p99_ns / p99.9_ns come from per-round-trip rdtsc stamps.
template <class Q>
void BM_spsc_roundtrip(benchmark::State& state) {
  if (std::thread::hardware_concurrency() < 2) { state.SkipWithError("needs 2 CPUs"); return; }
  Q ping(kRingCap), pong(kRingCap);
  std::thread echo([&] {
    pin_to(1);
    std::uint64_t v = 0;
    for (;;) {
      while (!ping.pop(v)) {
      }
      while (!pong.push(v)) {
      }
      if (v == kStop) break;
    }
  });
  PinGuard pin(0);
  // Each round trip is also stamped with rdtsc into a histogram: on a shared machine a few
  // preempted round trips (ms each) dominate the mean, while p50 shows the hand-off cost.
  const TscClock* clk = tsc();
  auto hist = std::make_unique<LatencyHistogram>();
  std::uint64_t i = 0, back = 0, bad = 0;
  for (auto _ : state) {
    const std::uint64_t t0 = TscClock::ticks();
    while (!ping.push(i)) {
    }
    while (!pong.pop(back)) {
    }
    const std::uint64_t t1 = TscClock::ticks();
    hist->record(static_cast<std::int64_t>(t1 - t0));
    bad += back != i;
    ++i;
  }
  while (!ping.push(kStop)) {
  }
  while (!pong.pop(back)) {
  }
  echo.join();
  if (bad) state.SkipWithError("echo returned a wrong item");
  if (clk != nullptr && hist->count() > 0) {
    // Histogram of ticks; convert the reported percentiles (includes one rdtsc, ~7 ns).
    state.counters["p50_ns"] = static_cast<double>(clk->ticks_to_ns(hist->percentile(50)));
    state.counters["p99_ns"] = static_cast<double>(clk->ticks_to_ns(hist->percentile(99)));
    state.counters["p99.9_ns"] = static_cast<double>(clk->ticks_to_ns(hist->percentile(99.9)));
  }
  if (!pin.ok) state.SkipWithError("pthread_setaffinity_np failed");
}
BENCHMARK(BM_spsc_roundtrip<TickrtQ>)->Name("BM_spsc_roundtrip/tickrt")->UseRealTime();
#if TICKRT_BENCH_BOOST_LOCKFREE
BENCHMARK(BM_spsc_roundtrip<BoostQ>)->Name("BM_spsc_roundtrip/boost")->UseRealTime();
#endif

// ---- decimal parsing ----------------------------------------------------------------------
// Binance-shaped strings: prices with 8 fractional digits, small quantities, integers.
const std::vector<std::string>& decimal_corpus() {
  static const std::vector<std::string> corpus = [] {
    std::vector<std::string> v;
    std::mt19937_64 rng(11);
    for (int i = 0; i < 1024; ++i) {
      const std::int64_t raw = [&]() -> std::int64_t {
        switch (i % 4) {
          case 0: return 6'000'000'000'000 + static_cast<std::int64_t>(rng() % 100'000'000'000);  // ~61837.63
          case 1: return static_cast<std::int64_t>(rng() % 100'000'000);                          // 0.0xxxx qty
          case 2: return static_cast<std::int64_t>(rng() % 500'000) * 100'000'000;                // integer-valued
          default: return 300'000'000'000 + static_cast<std::int64_t>(rng() % 10'000'000'000);   // ~3000.12
        }
      }();
      v.push_back(tickrt::format_decimal(raw));  // 8 fractional digits, as Binance sends
    }
    return v;
  }();
  return corpus;
}

void BM_decimal_parse_tickrt(benchmark::State& state) {
  const auto& c = decimal_corpus();
  std::int64_t acc = 0;
  std::size_t errors = 0;
  for (auto _ : state) {
    for (const auto& s : c) {
      std::int64_t v = 0;
      errors += tickrt::parse_decimal(s, v) != tickrt::DecimalError::ok;
      acc += v;
    }
  }
  benchmark::DoNotOptimize(acc);
  if (errors) state.SkipWithError("parse failed");
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * c.size()));
  state.counters["ns_per_string"] = benchmark::Counter(static_cast<double>(state.iterations() * c.size()),
                                                       benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_decimal_parse_tickrt);

void BM_decimal_parse_strtod(benchmark::State& state) {
  const auto& c = decimal_corpus();
  double acc = 0;
  for (auto _ : state) {
    for (const auto& s : c) acc += std::strtod(s.c_str(), nullptr);
  }
  benchmark::DoNotOptimize(acc);
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * c.size()));
  state.counters["ns_per_string"] = benchmark::Counter(static_cast<double>(state.iterations() * c.size()),
                                                       benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_decimal_parse_strtod);

void BM_decimal_parse_from_chars_double(benchmark::State& state) {
  const auto& c = decimal_corpus();
  double acc = 0;
  for (auto _ : state) {
    for (const auto& s : c) {
      double d = 0;
      std::from_chars(s.data(), s.data() + s.size(), d);
      acc += d;
    }
  }
  benchmark::DoNotOptimize(acc);
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * c.size()));
  state.counters["ns_per_string"] = benchmark::Counter(static_cast<double>(state.iterations() * c.size()),
                                                       benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_decimal_parse_from_chars_double);

// ---- histogram ----------------------------------------------------------------------------
// record() on a lognormal latency stream (median ~40 µs, long tail): the index math plus
// one scattered increment; values precomputed so only record() is timed.
void BM_histogram_record(benchmark::State& state) {
  std::vector<std::int64_t> vals(4096);
  std::mt19937_64 rng(3);
  std::lognormal_distribution<double> d(std::log(40'000.0), 1.0);
  for (auto& v : vals) v = static_cast<std::int64_t>(d(rng));
  auto h = std::make_unique<LatencyHistogram>();
  for (auto _ : state) {
    for (std::int64_t v : vals) h->record(v);
    benchmark::ClobberMemory();
  }
  benchmark::DoNotOptimize(h->count());
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * vals.size()));
  state.counters["ns_per_record"] = benchmark::Counter(static_cast<double>(state.iterations() * vals.size()),
                                                       benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_histogram_record);

void BM_histogram_percentile(benchmark::State& state) {
  auto h = std::make_unique<LatencyHistogram>();
  std::mt19937_64 rng(3);
  std::lognormal_distribution<double> d(std::log(40'000.0), 1.0);
  for (int i = 0; i < 100'000; ++i) h->record(static_cast<std::int64_t>(d(rng)));
  for (auto _ : state) benchmark::DoNotOptimize(h->percentile(99.9));
}
BENCHMARK(BM_histogram_percentile);

// Peer: the exact alternative, keeping every sample (preallocated, so no allocation in the
// timed loop) and selecting the percentile with std::nth_element at report time.
void BM_histogram_peer_vector_record(benchmark::State& state) {
  std::vector<std::int64_t> vals(4096);
  std::mt19937_64 rng(3);
  std::lognormal_distribution<double> d(std::log(40'000.0), 1.0);
  for (auto& v : vals) v = static_cast<std::int64_t>(d(rng));
  std::vector<std::int64_t> samples;
  samples.reserve(1 << 22);
  for (auto _ : state) {
    if (samples.size() + vals.size() > samples.capacity()) samples.clear();
    for (std::int64_t v : vals) samples.push_back(v);
    benchmark::ClobberMemory();
  }
  benchmark::DoNotOptimize(samples.data());
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * vals.size()));
  state.counters["ns_per_record"] = benchmark::Counter(static_cast<double>(state.iterations() * vals.size()),
                                                       benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_histogram_peer_vector_record);

void BM_histogram_peer_vector_percentile(benchmark::State& state) {
  std::vector<std::int64_t> samples(100'000);
  std::mt19937_64 rng(3);
  std::lognormal_distribution<double> d(std::log(40'000.0), 1.0);
  for (auto& v : samples) v = static_cast<std::int64_t>(d(rng));
  std::vector<std::int64_t> work(samples.size());
  for (auto _ : state) {
    std::copy(samples.begin(), samples.end(), work.begin());  // nth_element reorders its input
    const std::size_t k = static_cast<std::size_t>(std::ceil(0.999 * static_cast<double>(work.size()))) - 1;
    std::nth_element(work.begin(), work.begin() + static_cast<std::ptrdiff_t>(k), work.end());
    benchmark::DoNotOptimize(work[k]);
  }
}
BENCHMARK(BM_histogram_peer_vector_percentile);

}  // namespace

BENCHMARK_MAIN();
