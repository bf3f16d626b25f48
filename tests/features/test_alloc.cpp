// No allocation per event in steady state: global operator new is counted over a second pass of
// a capture through the live-style driver (book stage + FeatureEngine + clock sampling).
#include <gtest/gtest.h>

#include <filesystem>

#include "../support/counting_new.hpp"  // this executable's operator new, counted
#include "live_driver.hpp"


using namespace tickrt;
using namespace tickrt::features;

TEST(FeatureAlloc, NoAllocationPerEventInSteadyState) {
  const std::string f = "../shared/data/binance_ws/usdm/ethusdt_20240808.gz";
  if (!std::filesystem::exists(f)) GTEST_SKIP() << f << " absent";
  for (std::int64_t period : {std::int64_t{100'000'000}, std::int64_t{0}}) {
    FeatureConfig cfg;
    cfg.sample_period_ns = period;
    features::test::LiveDriver d(cfg);
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
    std::uint64_t n = 1;
    long news = 0;
    {
      const tickrt::test::AllocationCounter allocs;
      while (r.next(line)) d.line(line, ++n);
      news = allocs.count();
    }
    d.end_file();
    EXPECT_EQ(news, 0) << "period " << period << ": allocations over " << n << " lines";
    EXPECT_EQ(d.ts().size(), rows);  // the same rows as the first pass
    EXPECT_EQ(d.rows_over_capacity(), 0u);
  }
}
