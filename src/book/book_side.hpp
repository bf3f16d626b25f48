// book/book_side.hpp — one side of an L2 book: sorted levels in fixed-size chunks.
//
// Used only by L2Book (one thread). Levels are ordered worst -> best (best at the very end), so
// the top of book is the last level of the last chunk and top-N walks backwards. Each chunk holds
// up to kChunk levels; an update does a binary search over the chunks' best keys, then inside
// one chunk, and an insert/erase memmoves at most one chunk (1 KB). Why chunks: Binance diffs
// also change levels deep in the book (measured on the bundled captures: ~27% of level updates
// are more than 256 levels from the top and 64 from the bottom), and in one flat sorted array each
// of those moved ~n/2 levels (~11 KB): 18% of all parse+book instructions in callgrind.
// Chunks come from a pool reserved at construction; the pool grows only if the side outgrows it
// (counted as grows(), a setup-like event).
// Bids and asks share the code: the sort key is +price for bids and -price for asks, so "best"
// is always the largest key.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "feed/events.hpp"

namespace tickrt::book {

class BookSide {
 public:
  using Level = feed::Level;
  static constexpr std::uint32_t kChunk = 64;
  static constexpr std::uint32_t kFill = 48;  // levels per chunk when loading a snapshot

  // bids: best = highest price; asks: best = lowest price.
  BookSide(bool bids, std::size_t level_capacity) : sign_(bids ? 1 : -1) {
    const std::size_t chunks = level_capacity / kFill + 4;
    pool_.reserve(chunks);
    free_.reserve(chunks);
    order_.reserve(chunks);
    best_key_.reserve(chunks);
  }
  BookSide(const BookSide&) = delete;
  BookSide& operator=(const BookSide&) = delete;

  std::size_t size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }
  std::size_t grows() const noexcept { return grows_; }

  bool best(Level& out) const noexcept {
    if (size_ == 0) return false;
    const Chunk& c = pool_[order_.back()];
    out = c.lv[c.n - 1];
    return true;
  }

  // Best first into out[0..n); returns how many.
  std::size_t top(Level* out, std::size_t n) const noexcept {
    std::size_t k = 0;
    for (std::size_t ci = order_.size(); ci-- > 0 && k < n;) {
      const Chunk& c = pool_[order_[ci]];
      for (std::uint32_t i = c.n; i-- > 0 && k < n;) out[k++] = c.lv[i];
    }
    return k;
  }

  void clear() noexcept {
    for (std::uint32_t id : order_) free_.push_back(id);
    order_.clear();
    best_key_.clear();
    size_ = 0;
  }

  // Appends a level better than every level present (snapshot loading, worst first). False if
  // it is not strictly better than the current best (caller falls back to set()) or no memory.
  bool append_better(const Level& l) noexcept {
    const std::int64_t k = key(l);
    if (size_ && k <= best_key_.back()) return false;
    if (order_.empty() || pool_[order_.back()].n >= kFill) {
      std::uint32_t id;
      if (!new_chunk(id)) return false;
      order_.push_back(id);
      best_key_.push_back(k);
    }
    Chunk& c = pool_[order_.back()];
    c.lv[c.n++] = l;
    best_key_.back() = k;
    ++size_;
    return true;
  }

  // Sets the absolute quantity at l.price: insert, update, or delete when qty is 0 (deleting an
  // absent level is a no-op). False only when memory for a new chunk could not be had.
  bool set(const Level& l) noexcept {
    const std::int64_t k = key(l);
    // First chunk whose best key >= k: the level is there, or belongs there. Branchless
    // searches: the probe outcome is data-dependent (random for deep levels), and mispredicted
    // branches cost more than the few extra compares (measured).
    std::size_t ci = lower_bound_key(best_key_.data(), best_key_.size(), k);
    if (ci == order_.size()) {
      // Better than everything: goes at the end of the last chunk.
      if (l.qty.is_zero()) return true;
      if (order_.empty()) return append_better(l);
      ci = order_.size() - 1;
    }
    Chunk& c = pool_[order_[ci]];
    const std::uint32_t i = lower_bound_level(c.lv, c.n, k);
    if (i < c.n && c.lv[i].price == l.price) {
      if (!l.qty.is_zero()) {
        c.lv[i].qty = l.qty;
        return true;
      }
      erase_at(ci, i);
      return true;
    }
    if (l.qty.is_zero()) return true;
    return insert_at(ci, i, l);
  }

 private:
  struct Chunk {
    std::uint32_t n = 0;
    Level lv[kChunk];
  };

  std::int64_t key(const Level& l) const noexcept { return sign_ * l.price.raw; }

  static std::size_t lower_bound_key(const std::int64_t* a, std::size_t n, std::int64_t k) noexcept {
    if (n == 0) return 0;
    const std::int64_t* base = a;
    while (n > 1) {
      const std::size_t half = n / 2;
      base = base[half - 1] < k ? base + half : base;
      n -= half;
    }
    return static_cast<std::size_t>(base - a) + (*base < k);
  }
  std::uint32_t lower_bound_level(const Level* a, std::uint32_t n, std::int64_t k) const noexcept {
    if (n == 0) return 0;
    const Level* base = a;
    while (n > 1) {
      const std::uint32_t half = n / 2;
      base = key(base[half - 1]) < k ? base + half : base;
      n -= half;
    }
    return static_cast<std::uint32_t>(base - a) + (key(*base) < k);
  }

  bool new_chunk(std::uint32_t& id) noexcept {
    if (!free_.empty()) {
      id = free_.back();
      free_.pop_back();
    } else {
      if (pool_.size() == pool_.capacity()) ++grows_;
      try {
        pool_.emplace_back();
        if (order_.capacity() < pool_.size()) {
          order_.reserve(pool_.capacity());
          best_key_.reserve(pool_.capacity());
          free_.reserve(pool_.capacity());
        }
      } catch (...) {
        return false;
      }
      id = static_cast<std::uint32_t>(pool_.size() - 1);
    }
    pool_[id].n = 0;
    return true;
  }

  void erase_at(std::size_t ci, std::uint32_t i) noexcept {
    Chunk& c = pool_[order_[ci]];
    std::memmove(static_cast<void*>(&c.lv[i]), &c.lv[i + 1], (c.n - i - 1) * sizeof(Level));
    --c.n;
    --size_;
    if (c.n == 0) {
      free_.push_back(order_[ci]);
      order_.erase(order_.begin() + static_cast<std::ptrdiff_t>(ci));
      best_key_.erase(best_key_.begin() + static_cast<std::ptrdiff_t>(ci));
    } else if (i == c.n) {
      best_key_[ci] = key(c.lv[c.n - 1]);
    }
  }

  bool insert_at(std::size_t ci, std::uint32_t i, const Level& l) noexcept {
    if (pool_[order_[ci]].n == kChunk) {
      // Split: the better half moves to a new chunk right after this one.
      std::uint32_t id;
      if (!new_chunk(id)) return false;
      Chunk& c = pool_[order_[ci]];  // re-fetch: new_chunk may have moved the pool
      Chunk& d = pool_[id];
      const std::uint32_t half = kChunk / 2;
      std::memcpy(static_cast<void*>(d.lv), &c.lv[half], (kChunk - half) * sizeof(Level));
      d.n = kChunk - half;
      c.n = half;
      order_.insert(order_.begin() + static_cast<std::ptrdiff_t>(ci) + 1, id);
      best_key_.insert(best_key_.begin() + static_cast<std::ptrdiff_t>(ci) + 1, key(d.lv[d.n - 1]));
      best_key_[ci] = key(c.lv[c.n - 1]);
      if (i > half) {
        ++ci;
        i -= half;
      }
    }
    Chunk& c = pool_[order_[ci]];
    std::memmove(static_cast<void*>(&c.lv[i + 1]), &c.lv[i], (c.n - i) * sizeof(Level));
    c.lv[i] = l;
    ++c.n;
    ++size_;
    if (i == c.n - 1) best_key_[ci] = key(l);
    return true;
  }

  std::int64_t sign_;
  std::vector<Chunk> pool_;              // chunk storage (indices stay valid when it grows)
  std::vector<std::uint32_t> free_;      // free chunk ids
  std::vector<std::uint32_t> order_;     // chunk ids, worst -> best
  std::vector<std::int64_t> best_key_;   // best key of each chunk in order_ (binary searched)
  std::size_t size_ = 0;
  std::size_t grows_ = 0;
};

}  // namespace tickrt::book
