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
// is always the largest key. A chunk stores its keys apart from its quantities: the in-chunk
// binary search reads only the 512-byte key array (8 cache lines, not 16).
// Finger: set() takes where the previous set() of the same diff landed (chunk, slot). Binance
// sends a diff's levels best first, and they are often neighbours, so the next level is usually
// in that chunk (or the one before) at that slot (or the one before): the guess is checked
// against the neighbours' keys (two compares each) and a binary search runs only when it
// misses. The finger is only a guess: any value gives the same result.
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
    // Map the reserved pool's pages now (constructed, then dropped: the capacity stays): a chunk taken
    // later by a split would otherwise fault its page in on the tick's path (~6 us cold, pipeline/market.hpp).
    pool_.resize(chunks);
    pool_.clear();
  }
  BookSide(const BookSide&) = delete;
  BookSide& operator=(const BookSide&) = delete;

  std::size_t size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }
  std::size_t grows() const noexcept { return grows_; }
  std::size_t chunks() const noexcept { return order_.size(); }

  bool best(Level& out) const noexcept {
    if (size_ == 0) return false;
    const Chunk& c = pool_[order_.back()];
    out = level(c, c.n - 1);
    return true;
  }

  // Best first into out[0..n); returns how many.
  std::size_t top(Level* out, std::size_t n) const noexcept {
    std::size_t k = 0;
    for (std::size_t ci = order_.size(); ci-- > 0 && k < n;) {
      const Chunk& c = pool_[order_[ci]];
      for (std::uint32_t i = c.n; i-- > 0 && k < n;) out[k++] = level(c, i);
    }
    return k;
  }

  // Reads (does not change) the in-use chunks [from, from + count) in book order: each one's key and quantity lines,
  // so the levels a diff will update are in this core's cache. Returns the next chunk index, 0 after the last one.
  // Hot path (a trickle between ticks, pipeline/market.hpp touch_books): loads only.
  std::size_t touch(std::size_t from, std::size_t count) const noexcept {
    const std::size_t nc = order_.size();
    std::int64_t sink = 0;
    std::size_t ci = from;
    for (; ci < nc && count > 0; ++ci, --count) {
      const Chunk& c = pool_[order_[ci]];
      const volatile std::int64_t* k = c.key;
      const volatile std::int64_t* q = c.qty;
      for (std::uint32_t l = 0; l < kChunk; l += 8) sink += k[l] + q[l];   // 8 int64 per 64-byte line
    }
    asm volatile("" : : "r"(sink));
    return ci >= nc ? 0 : ci;
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
    c.key[c.n] = k;
    c.qty[c.n] = l.qty.raw;
    ++c.n;
    best_key_.back() = k;
    ++size_;
    return true;
  }

  // Sets the absolute quantity at l.price: insert, update, or delete when qty is 0 (deleting an
  // absent level is a no-op). False only when memory for a new chunk could not be had.
  bool set(const Level& l) noexcept {
    Finger f;
    return set(l, f);
  }

  // Where the previous set() landed; a default Finger is "no guess".
  struct Finger {
    std::size_t chunk = ~std::size_t{0};
    std::uint32_t slot = 0;
  };

  // As set(l); f is the finger: in, a guess; out, where this level landed, for the next level
  // of the same diff.
  bool set(const Level& l, Finger& f) noexcept {
    const std::size_t hint = f.chunk;
    const std::int64_t k = key(l);
    const std::size_t nc = order_.size();
    std::size_t ci;
    // Chunk ci holds keys in (best_key_[ci-1], best_key_[ci]]. Try the hint, then the chunk
    // before it (diffs go best -> worst), else binary search.
    if (hint < nc && k <= best_key_[hint] && (hint == 0 || best_key_[hint - 1] < k)) {
      ci = hint;
    } else if (hint - 1 < nc && k <= best_key_[hint - 1] && (hint == 1 || best_key_[hint - 2] < k)) {
      ci = hint - 1;
    } else {
      // First chunk whose best key >= k. Branchless: the probe outcome is data-dependent
      // (random for deep levels), and mispredicted branches cost more than the compares.
      ci = lower_bound_key(best_key_.data(), nc, k);
    }
    if (ci == nc) {
      // Better than everything: goes at the end of the last chunk.
      if (l.qty.is_zero()) return true;
      if (nc == 0) {
        f = Finger{0, 0};
        return append_better(l);
      }
      ci = nc - 1;
    }
    Chunk& c = pool_[order_[ci]];
    std::uint32_t i;
    const std::uint32_t g = f.slot;
    // Slot g is the lower bound iff key[g-1] < k <= key[g] (ends open).
    if (ci == hint && g <= c.n && (g == 0 || c.key[g - 1] < k) && (g == c.n || k <= c.key[g])) {
      i = g;
    } else if (ci == hint && g - 1 < c.n && (g == 1 || c.key[g - 2] < k) && k <= c.key[g - 1]) {
      i = g - 1;
    } else {
      i = lower_bound_in(c.key, c.n, k);
    }
    f = Finger{ci, i};
    if (i < c.n && c.key[i] == k) {
      if (!l.qty.is_zero()) {
        c.qty[i] = l.qty.raw;
        return true;
      }
      erase_at(ci, i);
      return true;
    }
    if (l.qty.is_zero()) return true;
    return insert_at(ci, i, l, f);
  }

 private:
  // Keys (sign * price) apart from quantities: the binary search touches only key[].
  // alignas(64): each array starts on a cache line, so the 64 keys span exactly 8 lines.
  struct alignas(64) Chunk {
    std::int64_t key[kChunk];
    std::int64_t qty[kChunk];
    std::uint32_t n = 0;
  };

  std::int64_t key(const Level& l) const noexcept { return sign_ * l.price.raw; }
  Level level(const Chunk& c, std::uint32_t i) const noexcept {
    Level l;
    l.price.raw = sign_ * c.key[i];
    l.qty.raw = c.qty[i];
    return l;
  }

  static std::size_t lower_bound_key(const std::int64_t* a, std::size_t n, std::int64_t k) noexcept {
    if (n == 0) return 0;
    const std::int64_t* base = a;
    while (n > 1) {
      const std::size_t half = n / 2;
      // Arithmetic, not ?: — g++ 12 compiled the ?: form to a branch (perf annotate: the
      // mispredicted jle was ~30% of set()); a multiply by the 0/1 compare cannot branch.
      base += static_cast<std::size_t>(base[half - 1] < k) * half;
      n -= half;
    }
    return static_cast<std::size_t>(base - a) + (*base < k);
  }
  static std::uint32_t lower_bound_in(const std::int64_t* a, std::uint32_t n, std::int64_t k) noexcept {
    if (n == 0) return 0;
    const std::int64_t* base = a;
    while (n > 1) {
      const std::uint32_t half = n / 2;
      base += static_cast<std::uint32_t>(base[half - 1] < k) * half;  // no branch (see above)
      n -= half;
    }
    return static_cast<std::uint32_t>(base - a) + (*base < k);
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
    const std::size_t tail = (c.n - i - 1) * sizeof(std::int64_t);
    std::memmove(&c.key[i], &c.key[i + 1], tail);
    std::memmove(&c.qty[i], &c.qty[i + 1], tail);
    --c.n;
    --size_;
    if (c.n == 0) {
      free_.push_back(order_[ci]);
      order_.erase(order_.begin() + static_cast<std::ptrdiff_t>(ci));
      best_key_.erase(best_key_.begin() + static_cast<std::ptrdiff_t>(ci));
    } else if (i == c.n) {
      best_key_[ci] = c.key[c.n - 1];
    }
  }

  bool insert_at(std::size_t ci, std::uint32_t i, const Level& l, Finger& f) noexcept {
    if (pool_[order_[ci]].n == kChunk) {
      // Split: the better half moves to a new chunk right after this one.
      std::uint32_t id;
      if (!new_chunk(id)) return false;
      Chunk& c = pool_[order_[ci]];  // re-fetch: new_chunk may have moved the pool
      Chunk& d = pool_[id];
      const std::uint32_t half = kChunk / 2;
      std::memcpy(d.key, &c.key[half], (kChunk - half) * sizeof(std::int64_t));
      std::memcpy(d.qty, &c.qty[half], (kChunk - half) * sizeof(std::int64_t));
      d.n = kChunk - half;
      c.n = half;
      order_.insert(order_.begin() + static_cast<std::ptrdiff_t>(ci) + 1, id);
      best_key_.insert(best_key_.begin() + static_cast<std::ptrdiff_t>(ci) + 1, d.key[d.n - 1]);
      best_key_[ci] = c.key[c.n - 1];
      if (i > half) {
        ++ci;
        i -= half;
      }
    }
    Chunk& c = pool_[order_[ci]];
    const std::size_t tail = (c.n - i) * sizeof(std::int64_t);
    std::memmove(&c.key[i + 1], &c.key[i], tail);
    std::memmove(&c.qty[i + 1], &c.qty[i], tail);
    c.key[i] = key(l);
    c.qty[i] = l.qty.raw;
    ++c.n;
    ++size_;
    if (i == c.n - 1) best_key_[ci] = c.key[i];
    f = Finger{ci, i};
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
