// BookSide against a std::map reference on random diffs: the chunk layout (splits, emptied
// chunks) and the per-diff finger (book_side.hpp) must give exactly the levels a sorted map
// gives, whatever order a diff's levels come in and whatever the finger holds.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <map>
#include <random>
#include <vector>

#include "book/book_side.hpp"

using tickrt::book::BookSide;
using tickrt::feed::Level;

namespace {

Level lv(std::int64_t px, std::int64_t q) {
  Level l;
  l.price.raw = px;
  l.qty.raw = q;
  return l;
}

// The side's levels best first, compared with the reference map (best first as well).
template <class Map>
void expect_same(const BookSide& s, const Map& ref, int step) {
  std::vector<Level> got(s.size() + 1);
  const std::size_t n = s.top(got.data(), got.size());
  ASSERT_EQ(n, ref.size()) << "step " << step;
  std::size_t i = 0;
  for (const auto& [px, q] : ref) {
    ASSERT_EQ(got[i].price.raw, px) << "step " << step << " level " << i;
    ASSERT_EQ(got[i].qty.raw, q) << "step " << step << " level " << i;
    ++i;
  }
}

// One side, many diffs: runs of neighbouring prices best first (Binance's shape), random deep
// prices, deletes of present and absent levels; the finger is reset per diff, or (mode 1) kept
// across diffs, or (mode 2) scrambled before every level: results must not depend on it.
template <class Cmp>
void run(bool bids, int mode, std::uint32_t seed) {
  std::mt19937_64 rng(seed);
  BookSide side(bids, 64);  // small reserve: the pool grows during the test too
  std::map<std::int64_t, std::int64_t, Cmp> ref;
  const auto better_first = [&](std::vector<Level>& v) {
    std::sort(v.begin(), v.end(), [&](const Level& a, const Level& b) {
      return Cmp{}(a.price.raw, b.price.raw);
    });
  };
  BookSide::Finger f;
  for (int step = 0; step < 3000; ++step) {
    std::vector<Level> d;
    const int runs = 1 + static_cast<int>(rng() % 4);
    for (int r = 0; r < runs; ++r) {
      const std::int64_t start = static_cast<std::int64_t>(rng() % 4000);
      const int len = 1 + static_cast<int>(rng() % 40);
      for (int j = 0; j < len; ++j) {
        const std::int64_t px = start + j * (1 + static_cast<std::int64_t>(rng() % 2));
        const std::int64_t q = rng() % 3 == 0 ? 0 : 1 + static_cast<std::int64_t>(rng() % 1000);
        d.push_back(lv(px, q));
      }
    }
    // Unique prices, best first (as a real diff), except in 1 of 8 diffs: any order.
    std::sort(d.begin(), d.end(), [](const Level& a, const Level& b) { return a.price.raw < b.price.raw; });
    d.erase(std::unique(d.begin(), d.end(), [](const Level& a, const Level& b) { return a.price.raw == b.price.raw; }),
            d.end());
    if (rng() % 8 == 0) std::shuffle(d.begin(), d.end(), rng);
    else better_first(d);
    if (mode == 0) f = BookSide::Finger{};
    for (const Level& l : d) {
      if (mode == 2) f = BookSide::Finger{rng() % 200, static_cast<std::uint32_t>(rng() % 80)};
      ASSERT_TRUE(side.set(l, f));
      if (l.qty.raw == 0) ref.erase(l.price.raw);
      else ref[l.price.raw] = l.qty.raw;
    }
    expect_same(side, ref, step);
    if (::testing::Test::HasFatalFailure()) return;
  }
  EXPECT_GT(ref.size(), 500u);  // deep enough for many chunks
}

}  // namespace

TEST(BookSide, MatchesMapBidsFingerPerDiff) { run<std::greater<std::int64_t>>(true, 0, 1); }
TEST(BookSide, MatchesMapAsksFingerPerDiff) { run<std::less<std::int64_t>>(false, 0, 2); }
TEST(BookSide, MatchesMapFingerKeptAcrossDiffs) { run<std::greater<std::int64_t>>(true, 1, 3); }
TEST(BookSide, MatchesMapScrambledFinger) { run<std::less<std::int64_t>>(false, 2, 4); }
TEST(BookSide, MatchesMapNoFinger) {
  // set(l) without a finger, and a side emptied completely then refilled.
  BookSide side(true, 64);
  std::map<std::int64_t, std::int64_t, std::greater<std::int64_t>> ref;
  std::mt19937_64 rng(5);
  for (int step = 0; step < 20000; ++step) {
    const std::int64_t px = static_cast<std::int64_t>(rng() % 3000);
    const std::int64_t q = step > 15000 || rng() % 3 == 0 ? 0 : 1 + static_cast<std::int64_t>(rng() % 9);
    ASSERT_TRUE(side.set(lv(px, q)));
    if (q == 0) ref.erase(px);
    else ref[px] = q;
  }
  for (std::int64_t px = 0; px < 3000; ++px) ASSERT_TRUE(side.set(lv(px, 0)));
  ref.clear();
  expect_same(side, ref, -1);
  EXPECT_TRUE(side.empty());
  ASSERT_TRUE(side.set(lv(7, 1)));
  ref[7] = 1;
  expect_same(side, ref, -2);
}

// touch() (the inline loop's trickle between ticks): walks every in-use chunk in slices, says when it wrapped, and
// changes nothing.
TEST(BookSide, TouchWalksEveryChunkInSlicesAndChangesNothing) {
  BookSide side(false, 4096);
  std::map<std::int64_t, std::int64_t> ref;
  for (std::int64_t px = 1; px <= 3000; ++px) {
    ASSERT_TRUE(side.set(lv(px * 10, px)));
    ref[px * 10] = px;
  }
  const std::size_t nc = side.chunks();
  ASSERT_GT(nc, 40u);
  EXPECT_EQ(side.touch(0, nc), 0u);        // the whole side in one call: wrapped
  std::size_t from = 0, calls = 0;
  do {
    from = side.touch(from, 3);
    ++calls;
    ASSERT_LE(calls, nc);
  } while (from != 0);
  EXPECT_EQ(calls, (nc + 2) / 3);           // 3 chunks per call, every chunk once
  EXPECT_EQ(side.touch(nc + 5, 3), 0u);     // a stale position (the book shrank) starts over
  expect_same(side, ref, 0);
  BookSide empty(true, 64);
  EXPECT_EQ(empty.touch(0, 4), 0u);
}
