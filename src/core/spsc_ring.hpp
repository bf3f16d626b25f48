// core/spsc_ring.hpp — bounded lock-free single-producer / single-consumer ring.
//
// Who calls: exactly one producer thread calls try_push / try_emplace, exactly
// one consumer thread calls front / pop / try_pop. size(), empty() and
// capacity() may be called from either side (size() is a snapshot). Hand-over
// between stages of the pipeline (feed -> book -> features -> infer ...) goes
// through one ring per edge; a stage that needs several producers owns several
// rings, it never shares one.
//
// Construction is the setup path: the slot array is allocated once, here, and
// never again (capacity is fixed; a requested capacity is rounded up to a power
// of two so the slot index is `counter & mask`, no division, no branch on wrap).
// The constructor throws std::invalid_argument for capacity 0 or above
// kMaxCapacity and std::bad_alloc when memory is short; create() reports the
// same as a Status instead. Every other member is noexcept as long
// as T's construction is (try_emplace forwards T's own exception, leaving the
// ring unchanged).
//
// Design (after Erik Rigtorp's SPSCQueue):
//  * head_ (next slot to read, written by the consumer) and tail_ (next slot to
//    write, written by the producer) are 64-bit counters that only grow; the
//    slot is `counter & mask_`. With monotonic counters all `capacity` slots are
//    usable (no sacrificial empty slot) and size = tail - head never wraps in
//    practice (2^64 items).
//  * Each index lives on its own 64-byte cache line: if head_ and tail_ shared a
//    line, every push would invalidate the consumer's copy of the line and every
//    pop the producer's (false sharing), costing a coherence miss per item.
//  * Each side keeps a private cached copy of the other side's index
//    (head_cache_ for the producer, tail_cache_ for the consumer), also on its
//    own line. The producer only reloads head_ when its cached value says the
//    ring is full, the consumer only reloads tail_ when its cached value says
//    empty. So the producer touches the consumer's index line at most once per
//    `capacity` pushes while the consumer keeps up, and the consumer touches the
//    producer's once per batch it finds waiting (once per item only when it is
//    the faster side, spinning on an empty ring). Without the caches each side
//    reads the other's index on every call: one coherence miss per item (the
//    "cache-line ping-pong" that boost::lockfree::spsc_queue 1.74 pays; see
//    docs/BENCHMARKS.md "## core"). The element data itself still crosses
//    cores: one line per 64 / sizeof(T) items.
//  * The slot array is allocated 64-byte aligned and its size rounded up to a
//    multiple of 64, so no unrelated heap object shares its first or last line.
//
// Memory ordering (the only synchronisation; no locks, no fences elsewhere):
//  * Producer: construct T in slot[tail & mask], then tail_.store(tail+1,
//    release). The release makes the constructed element visible to a consumer
//    that reads tail_ with acquire.
//  * Consumer: tail_.load(acquire) before touching the slot (pairs with the
//    producer's release), read/move and destroy the element, then
//    head_.store(head+1, release).
//  * Producer: head_.load(acquire) before reusing a slot (pairs with the
//    consumer's release) so the new element is constructed only after the old
//    one was destroyed.
//  * Each side reads its own index with relaxed ordering: only it writes it.
//
// Invariants: 0 <= tail_ - head_ <= capacity(); slots [head_, tail_) hold live
// T objects, all other slots are raw storage. The destructor destroys the live
// ones (it must run when neither side is using the ring any more).
//
// Limits: T must be nothrow-destructible; alignof(T) up to 64 is honoured by the
// allocation (larger alignments too, the array is aligned to max(64, alignof T)).
// The ring is neither copyable nor movable: both threads hold references to it.
#pragma once

#include <algorithm>
#include <atomic>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <new>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

#include "core/status.hpp"

namespace tickrt {

// A cache line on every x86-64 and most AArch64 parts. Not
// std::hardware_destructive_interference_size: g++ warns that its value may
// differ between compilation units (-Winterference-size), and 64 is the figure
// the layout below is designed for.
inline constexpr std::size_t kCacheLine = 64;

template <class T>
class SpscRing {
  static_assert(std::is_nothrow_destructible_v<T>, "SpscRing<T>: T's destructor must not throw");

 public:
  using value_type = T;

  // Largest capacity accepted: keeps the byte count far from overflow.
  static constexpr std::size_t kMaxCapacity = std::size_t{1} << 40;

  // Setup path, no exceptions: the ring on the heap, or invalid_argument /
  // resource_exhausted naming the capacity asked for.
  [[nodiscard]] static Result<std::unique_ptr<SpscRing>> create(std::size_t capacity) {
    if (capacity == 0 || capacity > kMaxCapacity) {
      return Result<std::unique_ptr<SpscRing>>(
          Code::invalid_argument, "SpscRing: capacity " + std::to_string(capacity) +
                                      " is outside [1, " + std::to_string(kMaxCapacity) + "]");
    }
    try {
      return std::make_unique<SpscRing>(capacity);
    } catch (const std::bad_alloc&) {
      return Result<std::unique_ptr<SpscRing>>(
          Code::resource_exhausted, "SpscRing: cannot allocate " + std::to_string(capacity) + " slots of " +
                                        std::to_string(sizeof(T)) + " bytes");
    }
  }

  // Setup path. `capacity` is rounded up to the next power of two.
  explicit SpscRing(std::size_t capacity) : mask_(round_up_pow2(capacity) - 1) {
    bytes_ = std::max(std::size_t{1}, (mask_ + 1) * sizeof(T));
    bytes_ = (bytes_ + kCacheLine - 1) / kCacheLine * kCacheLine;
    slots_ = static_cast<T*>(::operator new(bytes_, std::align_val_t{kAlign}));
    // Map every page now (raw storage, no object lives there yet): a large slot array comes from
    // mmap untouched, and the producer's first write to each page was a page fault on the hot path
    // (6 us P50 cold on the project VM; the journal ring of 536-byte records faulted every ~8 rows:
    // the OMS submit's 16-20 us P95 in tickrt run, docs/BENCHMARKS.md "## streaming" session 16).
    std::memset(static_cast<void*>(slots_), 0, bytes_);
  }

  ~SpscRing() {
    if constexpr (!std::is_trivially_destructible_v<T>) {
      const std::uint64_t t = tail_.load(std::memory_order_acquire);
      for (std::uint64_t h = head_.load(std::memory_order_acquire); h != t; ++h) {
        std::destroy_at(slot(h));
      }
    }
    // Unsized aligned delete: the sized form needs -fsized-deallocation on clang 14
    // (the fuzz build's compiler).
    ::operator delete(static_cast<void*>(slots_), std::align_val_t{kAlign});
  }

  SpscRing(const SpscRing&) = delete;
  SpscRing& operator=(const SpscRing&) = delete;
  SpscRing(SpscRing&&) = delete;
  SpscRing& operator=(SpscRing&&) = delete;

  // ---- producer side ---------------------------------------------------------

  // Constructs T(args...) in the next slot. False (and nothing constructed) when
  // the ring is full. If T's constructor throws, the ring is unchanged.
  template <class... Args>
  [[nodiscard]] bool try_emplace(Args&&... args) noexcept(
      std::is_nothrow_constructible_v<T, Args&&...>) {
    const std::uint64_t t = tail_.load(std::memory_order_relaxed);
    if (t - head_cache_ > mask_) {  // looks full: refresh our view of the consumer
      head_cache_ = head_.load(std::memory_order_acquire);
      if (t - head_cache_ > mask_) return false;
    }
    ::new (static_cast<void*>(slot(t))) T(std::forward<Args>(args)...);
    tail_.store(t + 1, std::memory_order_release);
    return true;
  }

  [[nodiscard]] bool try_push(const T& v) noexcept(std::is_nothrow_copy_constructible_v<T>) {
    return try_emplace(v);
  }
  [[nodiscard]] bool try_push(T&& v) noexcept(std::is_nothrow_move_constructible_v<T>) {
    return try_emplace(std::move(v));
  }

  // ---- consumer side ---------------------------------------------------------

  // The oldest element, or nullptr when empty. Stays valid until pop().
  [[nodiscard]] T* front() noexcept {
    const std::uint64_t h = head_.load(std::memory_order_relaxed);
    if (h == tail_cache_) {  // looks empty: refresh our view of the producer
      tail_cache_ = tail_.load(std::memory_order_acquire);
      if (h == tail_cache_) return nullptr;
    }
    return slot(h);
  }

  // Destroys the oldest element. Precondition: front() != nullptr was observed
  // by this (the consumer) thread since the last pop().
  void pop() noexcept {
    const std::uint64_t h = head_.load(std::memory_order_relaxed);
    assert(h != tail_.load(std::memory_order_acquire) && "SpscRing::pop on an empty ring");
    std::destroy_at(slot(h));
    head_.store(h + 1, std::memory_order_release);
  }

  // Moves the oldest element into `out` and pops it. False when empty.
  [[nodiscard]] bool try_pop(T& out) noexcept(std::is_nothrow_move_assignable_v<T>) {
    T* p = front();
    if (p == nullptr) return false;
    out = std::move(*p);
    pop();
    return true;
  }

  // ---- either side -----------------------------------------------------------

  // Number of elements at some instant during the call; exact when called by
  // one side while the other is idle. Always in [0, capacity()].
  [[nodiscard]] std::size_t size() const noexcept {
    // head first: tail only grows and tail >= head at all times, so a tail read
    // after head is >= it; clamp because the consumer may have popped and the
    // producer refilled between the two loads.
    const std::uint64_t h = head_.load(std::memory_order_acquire);
    const std::uint64_t t = tail_.load(std::memory_order_acquire);
    return static_cast<std::size_t>(std::min<std::uint64_t>(t - h, mask_ + 1));
  }
  [[nodiscard]] bool empty() const noexcept { return size() == 0; }
  [[nodiscard]] std::size_t capacity() const noexcept { return mask_ + 1; }

 private:
  static constexpr std::size_t kAlign = std::max(kCacheLine, alignof(T));

  static std::size_t round_up_pow2(std::size_t n) {
    if (n == 0 || n > kMaxCapacity) throw std::invalid_argument("SpscRing: capacity must be in [1, 2^40]");
    std::size_t c = 1;
    while (c < n) c <<= 1;
    return c;
  }

  T* slot(std::uint64_t counter) const noexcept {
    return std::launder(slots_ + (counter & mask_));
  }

  // Read-only after construction; read by both sides, so it sits on its own
  // line away from the indices that are written.
  alignas(kCacheLine) std::size_t mask_;
  T* slots_ = nullptr;
  std::size_t bytes_ = 0;

  // Producer-owned: written by the producer on every push, read by the consumer
  // only when its cached copy runs out.
  alignas(kCacheLine) std::atomic<std::uint64_t> tail_{0};
  // Producer-private cache of head_; own line so that the consumer polling
  // tail_ never pulls the producer's working data out of its L1.
  alignas(kCacheLine) std::uint64_t head_cache_ = 0;

  // Consumer-owned, mirror image of the above.
  alignas(kCacheLine) std::atomic<std::uint64_t> head_{0};
  alignas(kCacheLine) std::uint64_t tail_cache_ = 0;

  // Pad the object's tail so that whatever follows it in memory does not share
  // tail_cache_'s line.
  char pad_[kCacheLine - sizeof(std::uint64_t)] = {};
};

}  // namespace tickrt
