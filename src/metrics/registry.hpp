// metrics/registry.hpp — counters, gauges and histograms for Prometheus, written on the hot path
// without locks, rendered as text exposition format 0.0.4 by another thread.
//
// Who calls, when:
//   setup (any thread, before the hot path starts using the series): Registry::counter(),
//     gauge(), histogram(), info(), counter_fn(), gauge_fn() register a series and return a
//     stable pointer (the series lives as long as the Registry). Errors name the metric/label.
//   hot path (the ONE thread that owns the series): Counter::add(), Gauge::set(),
//     Histogram::observe(). Each is a relaxed load + store on the writer's own cache line: no
//     lock prefix, no allocation, no syscall. One writer per series is the contract (Aeron's
//     single-writer principle); a metric fed by several threads gets one series per thread
//     (a `thread` label) or uses add_shared() (a relaxed fetch_add).
//   render (the HTTP server thread, metrics/http_server.hpp): render() takes the registry mutex
//     (never taken on the hot path), reads every series with relaxed loads and runs the _fn
//     callbacks (which must themselves be thread-safe readers, e.g. of SingleWriterCounters).
// Consistency: a scrape reads each series at a slightly different instant; a histogram's
// `_count` is computed as the sum of the bucket counts it read, so `+Inf` == `_count` always
// holds in the output, as Prometheus expects (`_sum` may lag by the observations in flight).
// Names: [a-zA-Z_:][a-zA-Z0-9_:]*; label names [a-zA-Z_][a-zA-Z0-9_]* not starting with "__";
// `le` is reserved for histograms. Label values are escaped (\\, \", \n) when rendered.
// Limits: a histogram has at most Histogram::kMaxBuckets bounds. Series are never removed.
#pragma once

#include <array>
#include <atomic>
#include <bit>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.hpp"

namespace tickrt::metrics {

using Labels = std::vector<std::pair<std::string, std::string>>;

// 64-byte alignment: each series sits on its own cache line so two writer threads updating
// neighbouring series never share (false-share) a line.
class alignas(64) Counter {
 public:
  void add(std::uint64_t n = 1) noexcept { v_.store(v_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed); }
  void add_shared(std::uint64_t n = 1) noexcept { v_.fetch_add(n, std::memory_order_relaxed); }
  std::uint64_t value() const noexcept { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> v_{0};
};

class alignas(64) Gauge {
 public:
  void set(double v) noexcept { bits_.store(std::bit_cast<std::uint64_t>(v), std::memory_order_relaxed); }
  void add(double d) noexcept { set(value() + d); }  // single writer
  double value() const noexcept { return std::bit_cast<double>(bits_.load(std::memory_order_relaxed)); }

 private:
  std::atomic<std::uint64_t> bits_{std::bit_cast<std::uint64_t>(0.0)};
};

// Integer observations (ns, batch sizes) against fixed integer upper bounds; rendered times
// `scale` (1e-9 turns ns into the seconds Prometheus conventions ask for).
class alignas(64) Histogram {
 public:
  static constexpr std::size_t kMaxBuckets = 32;

  void observe(std::int64_t v) noexcept {
    std::size_t i = 0;
    // Linear scan: <= 32 well-predicted compares, cheaper than a binary search at these sizes
    // and branch-friendly for the typical "mostly the same few buckets" latency stream.
    while (i < n_ && v > bounds_[i]) ++i;
    auto& c = counts_[i];  // i == n_ is the +Inf bucket
    c.store(c.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    sum_.store(sum_.load(std::memory_order_relaxed) + v, std::memory_order_relaxed);
  }
  std::span<const std::int64_t> bounds() const noexcept { return {bounds_.data(), n_}; }
  double scale() const noexcept { return scale_; }
  // Per-bucket (not cumulative) count; index n_ is the +Inf bucket.
  std::uint64_t bucket_count(std::size_t i) const noexcept { return counts_[i].load(std::memory_order_relaxed); }
  std::int64_t sum() const noexcept { return sum_.load(std::memory_order_relaxed); }

 private:
  friend class Registry;
  std::array<std::int64_t, kMaxBuckets> bounds_{};
  std::size_t n_ = 0;
  double scale_ = 1.0;
  std::array<std::atomic<std::uint64_t>, kMaxBuckets + 1> counts_{};
  std::atomic<std::int64_t> sum_{0};
};

// Bounds for stage latencies in ns: 1 us .. 1 s, 1-2.5-5 steps (18 buckets).
std::vector<std::int64_t> default_latency_bounds_ns();

class Registry {
 public:
  Registry() = default;
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  Result<Counter*> counter(std::string_view name, std::string_view help, const Labels& labels = {});
  Result<Gauge*> gauge(std::string_view name, std::string_view help, const Labels& labels = {});
  // bounds: strictly increasing upper bounds (in the observation's unit); scale multiplies
  // bounds and sum when rendered.
  Result<Histogram*> histogram(std::string_view name, std::string_view help, const Labels& labels,
                               std::span<const std::int64_t> bounds, double scale = 1.0);
  // An info metric: a gauge fixed at 1 whose labels carry the information (version, build).
  Status info(std::string_view name, std::string_view help, const Labels& labels);
  // Read at render time on the server thread: fn must be safe to call from that thread.
  Status counter_fn(std::string_view name, std::string_view help, const Labels& labels, std::function<double()> fn);
  Status gauge_fn(std::string_view name, std::string_view help, const Labels& labels, std::function<double()> fn);

  // Prometheus text exposition format 0.0.4 of every series, families in registration order.
  std::string render() const;
  static constexpr std::string_view kContentType = "text/plain; version=0.0.4; charset=utf-8";

 private:
  enum class Type : std::uint8_t { counter, gauge, histogram };
  struct Series {
    std::string labels;  // rendered `k="v",k2="v2"` (escaped), without braces
    std::unique_ptr<Counter> counter;
    std::unique_ptr<Gauge> gauge;
    std::unique_ptr<Histogram> histogram;
    std::function<double()> fn;
  };
  struct Family {
    std::string name, help;
    Type type;
    std::vector<Series> series;
  };
  Result<Series*> add_series(std::string_view name, std::string_view help, Type type, const Labels& labels);

  mutable std::mutex mu_;
  std::vector<std::unique_ptr<Family>> families_;
};

// Rendering helpers (public for tests): a float the way Prometheus reads it (shortest round-trip,
// +Inf/-Inf/NaN), and a label value escaped.
std::string format_value(double v);
std::string escape_label_value(std::string_view v);
bool valid_metric_name(std::string_view n) noexcept;
bool valid_label_name(std::string_view n) noexcept;

}  // namespace tickrt::metrics
