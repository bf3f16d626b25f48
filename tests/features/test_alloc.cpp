// No allocation per event in steady state: global operator new is counted over a second pass of
// a capture through the live-style driver (book stage + FeatureEngine + clock sampling).
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <new>

#include "live_driver.hpp"

namespace {
std::atomic<long> g_news{0};
std::atomic<bool> g_counting{false};
}  // namespace

void* operator new(std::size_t n) {
  if (g_counting.load(std::memory_order_relaxed)) g_news.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n) { return operator new(n); }
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  if (g_counting.load(std::memory_order_relaxed)) g_news.fetch_add(1, std::memory_order_relaxed);
  return std::malloc(n ? n : 1);
}
void* operator new[](std::size_t n, const std::nothrow_t& t) noexcept { return operator new(n, t); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }

using namespace tickrt;
using namespace tickrt::features;

TEST(FeatureAlloc, NoAllocationPerEventInSteadyState) {
  const std::string f = "../shared/data/binance_ws/usdm/ethusdt_20240808.gz";
  if (!std::filesystem::exists(f)) GTEST_SKIP() << f << " absent";
  for (std::int64_t period : {std::int64_t{100'000'000}, std::int64_t{0}}) {
    FeatureConfig cfg;
    cfg.sample_period_ns = period;
    test::LiveDriver d(cfg);
    d.reserve(200000);
    ASSERT_TRUE(d.replay({f}));  // first pass: symbols, books, parser buffers sized
    const std::size_t rows = d.ts().size();
    ASSERT_GT(rows, 1000u);
    d.reset();
    feed::CaptureReader r;
    ASSERT_TRUE(r.open(f).ok());
    d.begin_file(f);
    std::string_view line;
    ASSERT_TRUE(r.next(line));
    d.line(line, 1);  // the reader sized its buffers on open; count from the first line on
    g_news = 0;
    g_counting = true;
    std::uint64_t n = 1;
    while (r.next(line)) d.line(line, ++n);
    g_counting = false;
    d.end_file();
    EXPECT_EQ(g_news.load(), 0) << "period " << period << ": allocations over " << n << " lines";
    EXPECT_EQ(d.ts().size(), rows);  // the same rows as the first pass
    EXPECT_EQ(d.rows_over_capacity(), 0u);
  }
}
