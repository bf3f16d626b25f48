// core/latency_histogram.hpp — fixed-size log-linear latency histogram (HdrHistogram-like).
//
// Who calls, when: one thread records (per message / tick / inference: record() is O(1),
// allocation-free, no branches beyond min/max cmovs); reports are read from the same thread,
// or after merging per-thread histograms (merge()) on a reporting thread that owns the
// target. Not thread-safe: give each recording thread its own histogram.
//
// Buckets: values are nanoseconds in [0, 2^63). With S = 7 (128 sub-buckets per power of two):
//  * values 0..255 each have their own bucket (width 1: exact);
//  * for k >= 1, the range [2^(k+7), 2^(k+8)) is split into 128 buckets of width 2^k.
// Index: k = msb(v | 255) - 7, index = (k << 7) + (v >> k). One countl_zero, one shift,
// one add; no branch. 57 * 128 = 7296 buckets of 8 bytes (57 KiB), allocated inline.
//
// Error bound (documented contract, checked by tests/core against exact sorting):
//  * bucket width <= lower bound / 128 for every value >= 256 (and 1 below 256);
//  * percentile() reports the bucket midpoint, so |reported - true| <= width / 2, i.e. a
//    relative error <= 1/256 = 0.39% (< 1%) for any value; values below 256 ns are exact;
//  * the reported value is clamped to [min(), max()], so percentile(0) == min() and
//    percentile(100) == max() exactly;
//  * count(), min(), max(), mean() are exact (the sum is kept in 128 bits).
// Percentile definition: nearest rank. For p in (0, 100], the value of rank
// ceil(p/100 * count) (1-based) in sorted order; p <= 0 (or NaN) gives min(); p >= 100, max().
//
// Limits: negative inputs (a clock stepping backwards across threads) are recorded as 0.
// Values >= 2^63 cannot be passed (int64). Counts are 64-bit and do not saturate.
#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>

namespace tickrt {

class LatencyHistogram {
  __extension__ using u128 = unsigned __int128;  // GNU extension (g++ and clang): exact sums

 public:
  static constexpr int kSubBucketBits = 7;                         // 128 sub-buckets / octave
  static constexpr int kSubBuckets = 1 << kSubBucketBits;           // 128
  static constexpr int kMaxShift = 63 - 1 - kSubBucketBits;         // 55: msb(2^63 - 1) is 62
  static constexpr std::size_t kBucketCount = static_cast<std::size_t>(kMaxShift + 2) << kSubBucketBits;  // 7296

  LatencyHistogram() noexcept { reset(); }

  // ---- recording (hot path) ---------------------------------------------------------
  void record(std::int64_t ns) noexcept { record_n(ns, 1); }

  // Records `n` occurrences of `ns` (n == 0 records nothing).
  void record_n(std::int64_t ns, std::uint64_t n) noexcept {
    if (n == 0) return;
    const std::uint64_t v = ns < 0 ? 0 : static_cast<std::uint64_t>(ns);
    counts_[index_of(v)] += n;
    total_ += n;
    sum_ += static_cast<u128>(v) * n;
    min_ = std::min(min_, v);
    max_ = std::max(max_, v);
  }

  // Adds every recording of `other` to this histogram: the result equals recording the
  // union of both value sets (counts, min, max, sum and therefore percentiles).
  void merge(const LatencyHistogram& other) noexcept {
    if (other.total_ == 0) return;
    for (std::size_t i = 0; i < kBucketCount; ++i) counts_[i] += other.counts_[i];
    total_ += other.total_;
    sum_ += other.sum_;
    min_ = std::min(min_, other.min_);
    max_ = std::max(max_, other.max_);
  }

  void reset() noexcept {
    counts_.fill(0);
    total_ = 0;
    sum_ = 0;
    min_ = std::numeric_limits<std::uint64_t>::max();
    max_ = 0;
  }

  // ---- reading ---------------------------------------------------------------------------
  [[nodiscard]] std::uint64_t count() const noexcept { return total_; }
  [[nodiscard]] bool empty() const noexcept { return total_ == 0; }
  // Exact smallest / largest recorded value (after clamping negatives to 0); 0 when empty.
  [[nodiscard]] std::int64_t min() const noexcept { return total_ ? static_cast<std::int64_t>(min_) : 0; }
  [[nodiscard]] std::int64_t max() const noexcept { return static_cast<std::int64_t>(max_); }
  // Exact arithmetic mean (rounded to double); 0 when empty.
  [[nodiscard]] double mean() const noexcept {
    return total_ ? static_cast<double>(sum_) / static_cast<double>(total_) : 0.0;
  }

  // Nearest-rank percentile within the error bound above; 0 when empty.
  [[nodiscard]] std::int64_t percentile(double p) const noexcept {
    if (total_ == 0) return 0;
    if (!(p > 0.0)) return min();
    if (p >= 100.0) return max();
    // rank = ceil(p/100 * N) in [1, N]; computed in long double so N up to 2^64 keeps
    // enough precision that p = 50 on N = 2 gives rank 1, not 2.
    const long double exact = static_cast<long double>(p) / 100.0L * static_cast<long double>(total_);
    std::uint64_t rank = static_cast<std::uint64_t>(std::ceil(exact));
    rank = std::clamp<std::uint64_t>(rank, 1, total_);
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < kBucketCount; ++i) {
      seen += counts_[i];
      if (seen >= rank) {
        const std::uint64_t mid = bucket_lower(i) + (bucket_width(i) >> 1);
        return static_cast<std::int64_t>(std::clamp(mid, min_, max_));
      }
    }
    return max();  // unreachable: the counts sum to total_
  }

  // Visits every non-empty bucket in increasing order as f(lower, upper_exclusive, count);
  // for exporters (Prometheus buckets, reports). Setup/report path.
  template <class F>
  void for_each_bucket(F&& f) const {
    for (std::size_t i = 0; i < kBucketCount; ++i) {
      if (counts_[i] != 0) f(bucket_lower(i), bucket_lower(i) + bucket_width(i), counts_[i]);
    }
  }

  // ---- bucket geometry (public for tests and exporters) -----------------------------------
  static constexpr std::size_t index_of(std::uint64_t v) noexcept {
    // msb(v | 255) >= 7, so k >= 0 with no branch; values < 256 land at index v.
    const int k = (63 - std::countl_zero(v | (2 * kSubBuckets - 1))) - kSubBucketBits;
    return (static_cast<std::size_t>(k) << kSubBucketBits) + static_cast<std::size_t>(v >> k);
  }
  static constexpr std::uint64_t bucket_lower(std::size_t i) noexcept {
    // Inverse of index_of: i = k*128 + m with m in [128, 256) for k >= 1 (m in [0, 256) at k 0).
    if (i < 2 * kSubBuckets) return i;
    const std::size_t k = (i >> kSubBucketBits) - 1;
    const std::uint64_t m = (i & (kSubBuckets - 1)) + kSubBuckets;
    return m << k;
  }
  static constexpr std::uint64_t bucket_width(std::size_t i) noexcept {
    return i < 2 * kSubBuckets ? 1 : std::uint64_t{1} << ((i >> kSubBucketBits) - 1);
  }

 private:
  std::array<std::uint64_t, kBucketCount> counts_;
  std::uint64_t total_;
  u128 sum_;
  std::uint64_t min_;
  std::uint64_t max_;
};

static_assert(LatencyHistogram::index_of(0) == 0);
static_assert(LatencyHistogram::index_of(255) == 255);
static_assert(LatencyHistogram::index_of(256) == 256);
static_assert(LatencyHistogram::index_of(std::uint64_t{INT64_MAX}) == LatencyHistogram::kBucketCount - 1);
static_assert(LatencyHistogram::bucket_lower(LatencyHistogram::index_of(1'000'000)) <= 1'000'000);

}  // namespace tickrt
