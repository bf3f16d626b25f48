// book/l2_book.hpp — one symbol's L2 order book, kept in sync with Binance diff streams.
//
// Who calls: the replay (book/replay.hpp) or a live pipeline thread that owns the book; one
// thread, no locks. Setup: the constructor reserves every array (levels per side, the diff
// buffer), so on_diff()/on_snapshot() do not allocate in steady state (a side outgrowing
// Config::level_capacity reallocates once and is counted in level_grows).
//
// Sync rules (Binance "How to manage a local order book correctly", spot and USD-M/COIN-M):
//  1. Diffs received before the REST snapshot are buffered (state awaiting_snapshot).
//  2. On the snapshot (lastUpdateId = L): load it, then replay the buffer:
//       spot:    drop diffs with u <= L; the first applied must straddle L+1: U <= L+1 <= u.
//       futures: drop diffs with u <  L; the first applied must have U <= L <= u (Binance's
//                futures rule; futures ids are not contiguous, so "U <= L+1 <= u" can be
//                unsatisfiable: usdm/ethusdt_20240808 has diffs [..,L] then [L+41,..] with pu=L).
//     If the first diff does not connect (snapshot older than the buffer's start), the book
//     waits in `resyncing` for a newer snapshot (sync_failures).
//  3. Then every diff must continue the chain: spot U == previous u + 1; futures pu == previous u
//     (rule chosen by the book's Market). A diff with u <= the book's id is stale and dropped.
//  4. A break is a gap: the book is cleared and `resyncing` (tradable() false); diffs are buffered
//     again until a later snapshot re-syncs it (live: fetch one; replay: a later snapshot line).
//  5. Quantities are absolute; 0 deletes the level (deleting an absent level is normal).
//  6. After every change, best bid >= best ask counts as crossed; a crossed book is not tradable.
// A snapshot older than a synced book (L < its id) is ignored (counted).
//
// Layout: each side keeps its levels sorted worst -> best with the best price at the END, in
// fixed 64-level chunks (book/book_side.hpp): the top is the last element, a change memmoves at
// most one chunk wherever it lands (Binance diffs hit deep levels too), lookup is two binary
// searches unless the per-diff finger (where the diff's previous level landed) already points
// at the place. Top-N copies from the end into a caller buffer. Measured in docs/BENCHMARKS.md.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "book/book_side.hpp"
#include "feed/events.hpp"

namespace tickrt::book {

using feed::Level;
using feed::Market;

enum class BookState : std::uint8_t { awaiting_snapshot, synced, resyncing };
std::string_view book_state_name(BookState s) noexcept;

enum class DiffResult : std::uint8_t {
  applied,
  buffered,         // no usable snapshot yet (awaiting_snapshot / resyncing)
  stale,            // u <= the book's update id: already contained, dropped
  gap,              // chain broken (or first diff did not straddle): book now resyncing
  buffer_overflow,  // buffer full: older buffered diffs dropped, this one buffered
};

enum class SnapshotResult : std::uint8_t {
  synced,        // loaded; buffered diffs applied; tradable unless crossed
  too_old,       // buffered diffs do not connect to it: waiting for a newer snapshot
  ignored,       // older than the synced book
};

struct BookCounters {
  std::uint64_t snapshots = 0;          // snapshots loaded
  std::uint64_t snapshots_ignored = 0;  // older than the synced book
  std::uint64_t diffs_applied = 0;
  std::uint64_t diffs_buffered = 0;
  std::uint64_t stale_dropped = 0;      // u <= book id (before the snapshot or duplicates)
  std::uint64_t gaps = 0;               // chain breaks while synced
  std::uint64_t sync_failures = 0;      // snapshot did not connect to the buffered/next diff
  std::uint64_t resyncs = 0;            // successful re-syncs after a gap or sync failure
  std::uint64_t crossed = 0;            // changes after which best bid >= best ask
  std::uint64_t buffer_overflows = 0;
  std::uint64_t level_grows = 0;        // a side outgrew its reserved capacity
};

class L2Book {
 public:
  struct Config {
    std::size_t level_capacity = 8192;     // per side; Binance snapshots have <= 5000
    std::size_t buffer_events = 1u << 16;  // diffs held while awaiting a snapshot
    std::size_t buffer_levels = 1u << 21;  // their levels, all together
  };

  explicit L2Book(Market market) : L2Book(market, Config{}) {}
  L2Book(Market market, const Config& cfg);
  L2Book(const L2Book&) = delete;
  L2Book& operator=(const L2Book&) = delete;

  // REST snapshot: levels best first as Binance sends them (any order is accepted: it is sorted
  // if needed; zero quantities are skipped; of duplicate prices the first listed wins).
  [[nodiscard]] SnapshotResult on_snapshot(std::uint64_t last_update_id, std::span<const Level> bids,
                                           std::span<const Level> asks) noexcept;
  [[nodiscard]] DiffResult on_diff(const feed::DepthUpdateFields& d) noexcept;

  Market market() const noexcept { return market_; }
  BookState state() const noexcept { return state_; }
  // Synced with the stream and not crossed: safe to trade on.
  bool tradable() const noexcept { return state_ == BookState::synced && !crossed_; }
  bool crossed() const noexcept { return crossed_; }
  // Update id of the last applied diff (or the snapshot's lastUpdateId).
  std::uint64_t last_update_id() const noexcept { return last_id_; }
  const BookCounters& counters() const noexcept { return c_; }

  std::size_t bid_levels() const noexcept { return bids_.size(); }
  std::size_t ask_levels() const noexcept { return asks_.size(); }
  // Best level of a side; false when the side is empty.
  bool best_bid(Level& out) const noexcept;
  bool best_ask(Level& out) const noexcept;
  // Copies up to n best levels, best first, into out; returns how many. No allocation.
  std::size_t top_bids(Level* out, std::size_t n) const noexcept;
  std::size_t top_asks(Level* out, std::size_t n) const noexcept;
  std::size_t buffered_diffs() const noexcept { return pend_.size() - pend_head_; }
  // Reads `count` chunks of levels (BookSide::touch) from chunk `from` of the bids, then the asks (from counts on past
  // the bids' chunks); returns where the next call starts, 0 after the last ask chunk. Loads only, no state change.
  std::size_t touch(std::size_t from, std::size_t count) const noexcept {
    const std::size_t nb = bids_.chunks();
    if (from < nb) {
      const std::size_t next = bids_.touch(from, count);
      return next == 0 ? nb : next;
    }
    const std::size_t next = asks_.touch(from - nb, count);
    return next == 0 ? 0 : nb + next;
  }

  // Back to awaiting_snapshot with empty sides and buffer; counters zeroed; capacity kept.
  void reset() noexcept;

 private:
  struct Pending {
    std::uint64_t first, final_, prev;
    bool has_prev;
    std::uint32_t bid_off, bid_n, ask_off, ask_n;
  };
  struct Diff {
    std::uint64_t first, final_, prev;
    bool has_prev;
    std::span<const Level> bids, asks;
  };

  DiffResult apply_live(const Diff& d) noexcept;
  DiffResult buffer(const Diff& d) noexcept;
  void apply_levels(const Diff& d) noexcept;
  void check_crossed() noexcept;
  void clear_sides() noexcept;
  void load_side(BookSide& side, std::span<const Level> src) noexcept;

  Market market_;
  Config cfg_;
  BookState state_ = BookState::awaiting_snapshot;
  bool need_straddle_ = false;  // next applied diff must straddle last_id_+1
  bool crossed_ = false;
  bool after_break_ = false;    // a gap/sync failure happened: the next sync counts as a resync
  std::uint64_t last_id_ = 0;
  BookSide bids_;               // worst -> best: highest bid last
  BookSide asks_;               // worst -> best: lowest ask last
  std::vector<Pending> pend_;
  std::size_t pend_head_ = 0;   // first live entry of pend_
  std::vector<Level> pend_levels_;
  BookCounters c_;
};

}  // namespace tickrt::book
