// Every sync rule of L2Book on synthetic diffs (spot and futures), plus level operations.
#include <gtest/gtest.h>

#include <vector>

#include "book/l2_book.hpp"

using namespace tickrt;
using namespace tickrt::book;
using feed::DepthUpdateFields;

namespace {

Level L(const char* px, const char* q) {
  Level l;
  EXPECT_EQ(Price::parse(px, l.price), DecimalError::ok);
  EXPECT_EQ(Qty::parse(q, l.qty), DecimalError::ok);
  return l;
}

// A diff with its own level storage (DepthUpdateFields holds spans).
struct D {
  std::vector<Level> b, a;
  DepthUpdateFields f;
  D(std::uint64_t U, std::uint64_t u, std::vector<Level> bids = {}, std::vector<Level> asks = {})
      : b(std::move(bids)), a(std::move(asks)) {
    f.first_update_id = U;
    f.final_update_id = u;
  }
  D& pu(std::uint64_t p) { f.prev_final_update_id = p; f.has_prev = true; return *this; }
  const DepthUpdateFields& get() { f.bids = b; f.asks = a; return f; }
};

// Snapshot at id 100: bids 10.00 x1, 9.00 x2; asks 11.00 x3, 12.00 x4 (best first, as Binance).
SnapshotResult snap(L2Book& b, std::uint64_t id = 100) {
  const std::vector<Level> bids = {L("10", "1"), L("9", "2")};
  const std::vector<Level> asks = {L("11", "3"), L("12", "4")};
  return b.on_snapshot(id, bids, asks);
}

Level best_bid(const L2Book& b) { Level l{}; EXPECT_TRUE(b.best_bid(l)); return l; }
Level best_ask(const L2Book& b) { Level l{}; EXPECT_TRUE(b.best_ask(l)); return l; }

TEST(BookRules, BuffersDiffsUntilSnapshot) {
  L2Book b(Market::spot);
  EXPECT_EQ(b.state(), BookState::awaiting_snapshot);
  EXPECT_FALSE(b.tradable());
  EXPECT_EQ(b.on_diff(D(90, 95, {L("10", "7")}).get()), DiffResult::buffered);    // stale at sync
  EXPECT_EQ(b.on_diff(D(96, 104, {L("10", "5")}).get()), DiffResult::buffered);   // straddles 101
  EXPECT_EQ(b.on_diff(D(105, 107, {}, {L("11", "0")}).get()), DiffResult::buffered);
  EXPECT_EQ(b.buffered_diffs(), 3u);
  EXPECT_EQ(b.bid_levels(), 0u);
  EXPECT_EQ(snap(b), SnapshotResult::synced);
  EXPECT_TRUE(b.tradable());
  EXPECT_EQ(b.last_update_id(), 107u);
  EXPECT_EQ(b.counters().stale_dropped, 1u);
  EXPECT_EQ(b.counters().diffs_applied, 2u);
  EXPECT_EQ(best_bid(b), L("10", "5"));  // the straddling diff applied over the snapshot
  EXPECT_EQ(best_ask(b), L("12", "4"));  // 11 deleted by the next one
  EXPECT_EQ(b.buffered_diffs(), 0u);
}

TEST(BookRules, DropsStaleAfterSnapshot) {
  L2Book b(Market::spot);
  ASSERT_EQ(snap(b), SnapshotResult::synced);
  EXPECT_EQ(b.on_diff(D(95, 100, {L("10", "9")}).get()), DiffResult::stale);  // u == L: contained
  EXPECT_EQ(best_bid(b), L("10", "1"));
  EXPECT_EQ(b.on_diff(D(101, 101, {L("10", "9")}).get()), DiffResult::applied);
  EXPECT_EQ(b.on_diff(D(99, 101, {L("10", "8")}).get()), DiffResult::stale);  // duplicate
  EXPECT_EQ(best_bid(b), L("10", "9"));
  EXPECT_EQ(b.counters().stale_dropped, 2u);
}

TEST(BookRules, SpotFirstDiffMustStraddle) {
  L2Book b(Market::spot);
  ASSERT_EQ(snap(b), SnapshotResult::synced);
  EXPECT_EQ(b.on_diff(D(102, 110).get()), DiffResult::gap);  // 101 missing
  EXPECT_EQ(b.state(), BookState::resyncing);
  EXPECT_FALSE(b.tradable());
  EXPECT_EQ(b.counters().sync_failures, 1u);
  EXPECT_EQ(b.bid_levels(), 0u);  // local book discarded
}

TEST(BookRules, SpotChainNeedsUEqualsPrevPlusOne) {
  L2Book b(Market::spot);
  ASSERT_EQ(snap(b), SnapshotResult::synced);
  EXPECT_EQ(b.on_diff(D(101, 105).get()), DiffResult::applied);
  EXPECT_EQ(b.on_diff(D(106, 106).get()), DiffResult::applied);
  EXPECT_EQ(b.on_diff(D(108, 110).get()), DiffResult::gap);  // 107 missing
  EXPECT_EQ(b.counters().gaps, 1u);
  EXPECT_EQ(b.state(), BookState::resyncing);
}

TEST(BookRules, FuturesFirstDiffStraddlesLAndKeepsUEqualsL) {
  // Binance futures: drop u < L; the first applied has U <= L <= u. Ids are not contiguous.
  L2Book b(Market::futures);
  EXPECT_EQ(b.on_diff(D(80, 90).pu(70).get()), DiffResult::buffered);
  EXPECT_EQ(b.on_diff(D(95, 100, {L("10", "1")}).pu(90).get()), DiffResult::buffered);  // u == L
  EXPECT_EQ(b.on_diff(D(141, 150, {L("10", "6")}).pu(100).get()), DiffResult::buffered);
  EXPECT_EQ(snap(b), SnapshotResult::synced);
  EXPECT_EQ(b.counters().stale_dropped, 1u);
  EXPECT_EQ(b.counters().diffs_applied, 2u);
  EXPECT_EQ(b.last_update_id(), 150u);
  EXPECT_EQ(best_bid(b), L("10", "6"));
}

TEST(BookRules, FuturesChainUsesPu) {
  L2Book b(Market::futures);
  ASSERT_EQ(snap(b), SnapshotResult::synced);
  EXPECT_EQ(b.on_diff(D(90, 120).pu(85).get()), DiffResult::applied);   // straddles L=100
  EXPECT_EQ(b.on_diff(D(160, 170).pu(120).get()), DiffResult::applied);  // U jumps: fine, pu links
  EXPECT_EQ(b.on_diff(D(171, 180).pu(165).get()), DiffResult::gap);      // pu != previous u
  EXPECT_EQ(b.counters().gaps, 1u);
  EXPECT_FALSE(b.tradable());
}

TEST(BookRules, FuturesFirstDiffNotStraddlingFails) {
  L2Book b(Market::futures);
  ASSERT_EQ(snap(b), SnapshotResult::synced);
  EXPECT_EQ(b.on_diff(D(101, 120).pu(100).get()), DiffResult::gap);  // U > L
  EXPECT_EQ(b.counters().sync_failures, 1u);
}

TEST(BookRules, GapThenResyncOnNewSnapshot) {
  L2Book b(Market::spot);
  ASSERT_EQ(snap(b), SnapshotResult::synced);
  ASSERT_EQ(b.on_diff(D(101, 101).get()), DiffResult::applied);
  ASSERT_EQ(b.on_diff(D(150, 160, {L("10", "3")}).get()), DiffResult::gap);
  EXPECT_EQ(b.on_diff(D(161, 170, {L("9.5", "1")}).get()), DiffResult::buffered);
  EXPECT_EQ(b.on_diff(D(171, 175, {}, {L("11.5", "2")}).get()), DiffResult::buffered);
  EXPECT_FALSE(b.tradable());
  // A snapshot older than the buffer: cannot connect, keep waiting.
  EXPECT_EQ(snap(b, 120), SnapshotResult::too_old);
  EXPECT_EQ(b.state(), BookState::resyncing);
  EXPECT_EQ(b.counters().resyncs, 0u);
  // A newer snapshot inside the buffered range re-syncs.
  const std::vector<Level> bids = {L("10", "2")};
  const std::vector<Level> asks = {L("11", "1")};
  EXPECT_EQ(b.on_snapshot(165, bids, asks), SnapshotResult::synced);
  EXPECT_TRUE(b.tradable());
  EXPECT_EQ(b.counters().resyncs, 1u);
  EXPECT_EQ(b.last_update_id(), 175u);
  EXPECT_EQ(best_ask(b), L("11", "1"));
  Level ask[3];
  ASSERT_EQ(b.top_asks(ask, 3), 2u);
  EXPECT_EQ(ask[1], L("11.5", "2"));
  Level bid[3];
  ASSERT_EQ(b.top_bids(bid, 3), 2u);  // 9.5 was in the stale (u=170 > 165: applied) diff
  EXPECT_EQ(bid[0], L("10", "2"));
  EXPECT_EQ(bid[1], L("9.5", "1"));
}

TEST(BookRules, OlderSnapshotIgnoredWhenSynced) {
  L2Book b(Market::spot);
  ASSERT_EQ(snap(b, 100), SnapshotResult::synced);
  ASSERT_EQ(b.on_diff(D(101, 110).get()), DiffResult::applied);
  EXPECT_EQ(snap(b, 105), SnapshotResult::ignored);
  EXPECT_EQ(b.counters().snapshots_ignored, 1u);
  EXPECT_EQ(b.last_update_id(), 110u);
  EXPECT_TRUE(b.tradable());
}

TEST(BookRules, CrossedDetected) {
  L2Book b(Market::spot);
  ASSERT_EQ(snap(b), SnapshotResult::synced);
  EXPECT_EQ(b.on_diff(D(101, 101, {L("11.5", "1")}).get()), DiffResult::applied);  // bid above ask 11
  EXPECT_TRUE(b.crossed());
  EXPECT_FALSE(b.tradable());
  EXPECT_EQ(b.counters().crossed, 1u);
  EXPECT_EQ(b.on_diff(D(102, 102, {L("11.5", "0")}).get()), DiffResult::applied);
  EXPECT_FALSE(b.crossed());
  EXPECT_TRUE(b.tradable());
}

TEST(BookRules, LevelsInsertUpdateDeleteAndTopN) {
  L2Book b(Market::spot);
  ASSERT_EQ(snap(b), SnapshotResult::synced);
  ASSERT_EQ(b.on_diff(D(101, 101,
                        {L("10", "0"), L("9.5", "5"), L("8", "1"), L("9", "2.5"), L("7", "0")},
                        {L("11", "0"), L("10.5", "1"), L("13", "2")}).get()),
            DiffResult::applied);
  Level bids[10], asks[10];
  ASSERT_EQ(b.top_bids(bids, 10), 3u);
  EXPECT_EQ(bids[0], L("9.5", "5"));
  EXPECT_EQ(bids[1], L("9", "2.5"));  // updated in place
  EXPECT_EQ(bids[2], L("8", "1"));
  ASSERT_EQ(b.top_asks(asks, 10), 3u);
  EXPECT_EQ(asks[0], L("10.5", "1"));
  EXPECT_EQ(asks[1], L("12", "4"));
  EXPECT_EQ(asks[2], L("13", "2"));
  ASSERT_EQ(b.top_bids(bids, 2), 2u);  // N smaller than depth
  EXPECT_EQ(b.top_asks(asks, 0), 0u);
  // Deleting an absent level is normal and changes nothing.
  ASSERT_EQ(b.on_diff(D(102, 102, {L("1", "0")}).get()), DiffResult::applied);
  EXPECT_EQ(b.bid_levels(), 3u);
}

TEST(BookRules, SnapshotUnsortedAndZeroLevelsNormalised) {
  L2Book b(Market::spot);
  const std::vector<Level> bids = {L("9", "1"), L("10", "2"), L("8", "0"), L("9", "3")};
  const std::vector<Level> asks = {L("12", "1"), L("11", "1")};
  ASSERT_EQ(b.on_snapshot(5, bids, asks), SnapshotResult::synced);
  Level out[4];
  ASSERT_EQ(b.top_bids(out, 4), 2u);  // zero skipped, duplicate price kept once
  EXPECT_EQ(out[0].price, L("10", "1").price);
  EXPECT_EQ(out[1].price, L("9", "1").price);
  ASSERT_EQ(b.top_asks(out, 4), 2u);
  EXPECT_EQ(out[0], L("11", "1"));
}

TEST(BookRules, BufferOverflowCountedAndRecovers) {
  L2Book::Config cfg;
  cfg.buffer_events = 4;
  L2Book b(Market::spot, cfg);
  for (std::uint64_t i = 0; i < 10; ++i) (void)b.on_diff(D(100 + i, 100 + i, {L("10", "1")}).get());
  EXPECT_GE(b.counters().buffer_overflows, 2u);
  EXPECT_LE(b.buffered_diffs(), 4u);
  // The newest buffered diffs still connect to a recent snapshot.
  EXPECT_EQ(snap(b, 107), SnapshotResult::synced);
  EXPECT_EQ(b.last_update_id(), 109u);
}

TEST(BookRules, ResetKeepsNothing) {
  L2Book b(Market::futures);
  ASSERT_EQ(snap(b), SnapshotResult::synced);
  b.reset();
  EXPECT_EQ(b.state(), BookState::awaiting_snapshot);
  EXPECT_EQ(b.bid_levels() + b.ask_levels(), 0u);
  EXPECT_EQ(b.counters().snapshots, 0u);
}

}  // namespace
