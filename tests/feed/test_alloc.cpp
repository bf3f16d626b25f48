// No allocation per message in steady state: count global operator new calls over a second pass.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "../support/counting_new.hpp"  // this executable's operator new, counted
#include "book/replay.hpp"
#include "feed/feed.hpp"


using namespace tickrt;
using namespace tickrt::feed;

namespace {

using Counting = tickrt::test::AllocationCounter;

std::vector<std::string> load(const std::string& path) {
  CaptureReader r;
  EXPECT_TRUE(r.open(path).ok());
  std::vector<std::string> lines;
  std::string_view l;
  while (r.next(l)) lines.emplace_back(l);
  return lines;
}

TEST(Alloc, CounterWorks) {
  Counting c;
  auto* v = new std::vector<int>(100);
  delete v;
  EXPECT_GE(c.count(), 2);  // the vector object and its buffer: the hook is live
}

TEST(Alloc, ReaderNextDoesNotAllocate) {
  CaptureReader r;
  ASSERT_TRUE(r.open("data/captures/usdm_btcusdt_20230404.dat.gz").ok());
  std::string_view l;
  std::size_t n = 0;
  Counting c;
  while (r.next(l)) ++n;
  const long news = c.count();
  EXPECT_EQ(n, 13384u);
  EXPECT_EQ(news, 0);
}

TEST(Alloc, ParseSecondPassDoesNotAllocate) {
  for (const char* path : {"data/captures/spot_btcusdt_20240808.gz", "data/captures/usdm_btcusdt_20230404.dat.gz"}) {
    const auto lines = load(path);
    ASSERT_GT(lines.size(), 10000u);
    LineParser p;
    Event ev;
    for (int pass = 0; pass < 2; ++pass) {
      FileContext fc;
      Counting c;
      std::size_t ok = 0;
      for (const std::string& l : lines) ok += p.parse(l, fc, ev) == LineError::ok;
      const long news = c.count();
      EXPECT_EQ(ok, lines.size()) << path;
      if (pass == 1) {
        EXPECT_EQ(news, 0) << path << ": operator new calls during the second parse pass";
      }
    }
  }
}

TEST(Alloc, ParseAndBookSecondPassDoesNotAllocate) {
  // The whole per-line path of the replay: parse, book sync/apply, bookTicker check.
  const auto lines = load("data/captures/spot_btcusdt_20240808.gz");
  book::ReplaySession s;
  for (int pass = 0; pass < 2; ++pass) {
    s.reset();
    s.begin_file("spot_btcusdt_20240808.gz");
    Counting c;
    std::uint64_t no = 0;
    for (const std::string& l : lines) s.process_line(l, ++no);
    const long news = c.count();
    s.end_file();
    EXPECT_EQ(s.stats().malformed, 0u);
    EXPECT_GT(s.stats().ticker.exact, 0u);
    if (pass == 1) {
      EXPECT_EQ(news, 0) << "operator new calls during the second replay pass";
    }
  }
}

}  // namespace
