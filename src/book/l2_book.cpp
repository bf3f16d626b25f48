#include "book/l2_book.hpp"

#include <algorithm>

namespace tickrt::book {

std::string_view book_state_name(BookState s) noexcept {
  switch (s) {
    case BookState::awaiting_snapshot: return "awaiting_snapshot";
    case BookState::synced: return "synced";
    case BookState::resyncing: return "resyncing";
  }
  return "?";
}

L2Book::L2Book(Market market, const Config& cfg)
    : market_(market), cfg_(cfg), bids_(/*bids=*/true, cfg.level_capacity), asks_(/*bids=*/false, cfg.level_capacity) {
  pend_.reserve(cfg.buffer_events);
  pend_levels_.reserve(cfg.buffer_levels);
}

void L2Book::reset() noexcept {
  state_ = BookState::awaiting_snapshot;
  need_straddle_ = crossed_ = after_break_ = false;
  last_id_ = 0;
  clear_sides();
  pend_.clear();
  pend_head_ = 0;
  pend_levels_.clear();
  c_ = BookCounters{};
}

void L2Book::clear_sides() noexcept {
  bids_.clear();
  asks_.clear();
  crossed_ = false;
}

bool L2Book::best_bid(Level& out) const noexcept { return bids_.best(out); }
bool L2Book::best_ask(Level& out) const noexcept { return asks_.best(out); }
std::size_t L2Book::top_bids(Level* out, std::size_t n) const noexcept { return bids_.top(out, n); }
std::size_t L2Book::top_asks(Level* out, std::size_t n) const noexcept { return asks_.top(out, n); }

void L2Book::check_crossed() noexcept {
  Level bb, ba;
  crossed_ = bids_.best(bb) && asks_.best(ba) && bb.price >= ba.price;
  if (crossed_) ++c_.crossed;
}

void L2Book::load_side(BookSide& side, std::span<const Level> src) noexcept {
  // Binance sends best first: walking it backwards appends worst -> best, each strictly better.
  // Anything else (never seen from Binance; fuzz input) goes through set(): sorted insert,
  // duplicates keep the last quantity, zeros skipped.
  side.clear();
  const std::size_t g = side.grows();
  for (std::size_t i = src.size(); i-- > 0;) {
    const Level& l = src[i];
    if (l.qty.is_zero()) continue;
    if (!side.append_better(l)) (void)side.set(l);
  }
  c_.level_grows += side.grows() - g;
}

void L2Book::apply_levels(const Diff& d) noexcept {
  const std::size_t g = bids_.grows() + asks_.grows();
  // One finger per side per diff (book_side.hpp): a diff's levels come best first, so each
  // level is usually in the chunk of the one before it. set() is false only when out of
  // memory: the level is lost (counted via grows).
  BookSide::Finger fb, fa;
  for (const Level& l : d.bids) (void)bids_.set(l, fb);
  for (const Level& l : d.asks) (void)asks_.set(l, fa);
  c_.level_grows += bids_.grows() + asks_.grows() - g;
}

DiffResult L2Book::buffer(const Diff& d) noexcept {
  DiffResult r = DiffResult::buffered;
  const std::size_t nlev = d.bids.size() + d.asks.size();
  if (pend_.size() == pend_.capacity() || pend_levels_.size() + nlev > pend_levels_.capacity()) {
    // Full: drop what is buffered (a later snapshot drops stale diffs anyway, and if the dropped
    // ones were needed the straddle check fails and the book waits for a newer snapshot).
    pend_.clear();
    pend_head_ = 0;
    pend_levels_.clear();
    ++c_.buffer_overflows;
    r = DiffResult::buffer_overflow;
    if (nlev > pend_levels_.capacity() || pend_.capacity() == 0) return r;  // cannot hold even this one
  }
  Pending p;
  p.first = d.first;
  p.final_ = d.final_;
  p.prev = d.prev;
  p.has_prev = d.has_prev;
  p.bid_off = static_cast<std::uint32_t>(pend_levels_.size());
  p.bid_n = static_cast<std::uint32_t>(d.bids.size());
  pend_levels_.insert(pend_levels_.end(), d.bids.begin(), d.bids.end());
  p.ask_off = static_cast<std::uint32_t>(pend_levels_.size());
  p.ask_n = static_cast<std::uint32_t>(d.asks.size());
  pend_levels_.insert(pend_levels_.end(), d.asks.begin(), d.asks.end());
  pend_.push_back(p);
  ++c_.diffs_buffered;
  return r;
}

DiffResult L2Book::apply_live(const Diff& d) noexcept {
  // Futures right after a snapshot keep the diff with u == L: its updates are in the snapshot
  // already (re-applying absolute quantities is harmless) and it is the one that straddles L,
  // because futures update ids are not contiguous (U of the next diff is usually > L+1).
  const bool futures_first = need_straddle_ && market_ == Market::futures;
  if (futures_first ? d.final_ < last_id_ : d.final_ <= last_id_) {
    ++c_.stale_dropped;
    return DiffResult::stale;
  }
  bool ok;
  if (futures_first) {
    ok = d.first <= last_id_ && last_id_ <= d.final_;
  } else if (need_straddle_) {
    ok = d.first <= last_id_ + 1 && last_id_ + 1 <= d.final_;
  } else if (market_ == Market::spot) {
    ok = d.first == last_id_ + 1;
  } else {
    ok = d.has_prev && d.prev == last_id_;
  }
  if (!ok) {
    if (need_straddle_) ++c_.sync_failures;
    else ++c_.gaps;
    state_ = BookState::resyncing;
    after_break_ = true;
    need_straddle_ = false;
    clear_sides();
    return DiffResult::gap;
  }
  apply_levels(d);
  last_id_ = d.final_;
  need_straddle_ = false;
  ++c_.diffs_applied;
  check_crossed();
  return DiffResult::applied;
}

DiffResult L2Book::on_diff(const feed::DepthUpdateFields& u) noexcept {
  const Diff d{u.first_update_id, u.final_update_id, u.prev_final_update_id, u.has_prev, u.bids, u.asks};
  if (state_ != BookState::synced) return buffer(d);
  const DiffResult r = apply_live(d);
  if (r == DiffResult::gap) {
    // Start the new buffer with the diff that broke the chain: it is the first after the break.
    pend_.clear();
    pend_head_ = 0;
    pend_levels_.clear();
    (void)buffer(d);
  }
  return r;
}

SnapshotResult L2Book::on_snapshot(std::uint64_t last_update_id, std::span<const Level> bids,
                                   std::span<const Level> asks) noexcept {
  if (state_ == BookState::synced && last_update_id < last_id_) {
    ++c_.snapshots_ignored;
    return SnapshotResult::ignored;
  }
  load_side(bids_, bids);
  load_side(asks_, asks);
  ++c_.snapshots;
  last_id_ = last_update_id;
  state_ = BookState::synced;
  need_straddle_ = true;
  crossed_ = false;
  check_crossed();
  // Replay the buffer through the live rules: stale ones drop, the first must straddle.
  std::size_t i = pend_head_;
  for (; i < pend_.size(); ++i) {
    const Pending& p = pend_[i];
    const Diff d{p.first, p.final_, p.prev, p.has_prev,
                 std::span<const Level>(pend_levels_.data() + p.bid_off, p.bid_n),
                 std::span<const Level>(pend_levels_.data() + p.ask_off, p.ask_n)};
    if (apply_live(d) == DiffResult::gap) break;
  }
  if (state_ != BookState::synced) {
    // Keep the diffs from the one that failed onward: a newer snapshot may connect to them.
    pend_head_ = i;
    return SnapshotResult::too_old;
  }
  pend_.clear();
  pend_head_ = 0;
  pend_levels_.clear();
  if (after_break_) {
    ++c_.resyncs;
    after_break_ = false;
  }
  return SnapshotResult::synced;
}

}  // namespace tickrt::book
