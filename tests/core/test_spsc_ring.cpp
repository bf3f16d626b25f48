// SpscRing: single-thread semantics and a two-thread ordering / no-loss stress test.
#include "core/spsc_ring.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace tickrt {
namespace {

TEST(SpscRing, CapacityRoundsUpToPowerOfTwo) {
  EXPECT_EQ(SpscRing<int>(1).capacity(), 1u);
  EXPECT_EQ(SpscRing<int>(2).capacity(), 2u);
  EXPECT_EQ(SpscRing<int>(5).capacity(), 8u);
  EXPECT_EQ(SpscRing<int>(1024).capacity(), 1024u);
  EXPECT_EQ(SpscRing<int>(1025).capacity(), 2048u);
  EXPECT_THROW(SpscRing<int>(0), std::invalid_argument);
  EXPECT_THROW(SpscRing<int>(SpscRing<int>::kMaxCapacity + 1), std::invalid_argument);
}

TEST(SpscRing, CreateReportsErrors) {
  auto r = SpscRing<int>::create(0);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::invalid_argument);
  EXPECT_NE(r.status().message().find("capacity 0"), std::string::npos) << r.status().message();
  auto ok = SpscRing<int>::create(100);
  ASSERT_TRUE(ok.ok()) << ok.status().to_string();
  EXPECT_EQ(ok.value()->capacity(), 128u);
  EXPECT_TRUE(ok.value()->try_push(3));
  EXPECT_EQ(*ok.value()->front(), 3);
}

TEST(SpscRing, LayoutKeepsSidesOnSeparateLines) {
  EXPECT_EQ(alignof(SpscRing<int>), kCacheLine);
  EXPECT_EQ(sizeof(SpscRing<int>) % kCacheLine, 0u);
  // Three lines: read-only fields, producer fields, consumer fields.
  EXPECT_GE(sizeof(SpscRing<int>), 3 * kCacheLine);
  SpscRing<char> r(16);
  ASSERT_TRUE(r.try_push('x'));
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(r.front()) % kCacheLine, 0u) << "slot array not 64-byte aligned";
}

TEST(SpscRing, FullAndEmpty) {
  SpscRing<int> r(4);
  EXPECT_TRUE(r.empty());
  EXPECT_EQ(r.front(), nullptr);
  int out = -1;
  EXPECT_FALSE(r.try_pop(out));
  EXPECT_EQ(out, -1);
  for (int i = 0; i < 4; ++i) {
    ASSERT_TRUE(r.try_push(i));
    EXPECT_EQ(r.size(), static_cast<std::size_t>(i + 1));
  }
  EXPECT_FALSE(r.try_push(99)) << "push into a full ring must fail";
  EXPECT_FALSE(r.try_emplace(99));
  EXPECT_EQ(r.size(), 4u);
  for (int i = 0; i < 4; ++i) {
    ASSERT_NE(r.front(), nullptr);
    EXPECT_EQ(*r.front(), i);
    r.pop();
  }
  EXPECT_TRUE(r.empty());
  EXPECT_EQ(r.front(), nullptr);
  // After draining, the full capacity is usable again.
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(r.try_push(10 + i));
  EXPECT_FALSE(r.try_push(0));
}

TEST(SpscRing, CapacityOne) {
  SpscRing<std::uint64_t> r(1);
  for (std::uint64_t i = 0; i < 1000; ++i) {
    ASSERT_TRUE(r.try_push(i));
    ASSERT_FALSE(r.try_push(i));
    std::uint64_t v = 0;
    ASSERT_TRUE(r.try_pop(v));
    ASSERT_EQ(v, i);
    ASSERT_FALSE(r.try_pop(v));
  }
}

TEST(SpscRing, WraparoundWithVaryingFill) {
  SpscRing<std::uint64_t> r(8);
  std::uint64_t next_in = 0, next_out = 0;
  // Fill levels cycle through 0..8 so the indices cross the array end at every offset.
  for (int round = 0; round < 2000; ++round) {
    const int pushes = round % 9;
    for (int i = 0; i < pushes; ++i) {
      if (r.try_push(next_in)) ++next_in;
    }
    ASSERT_LE(r.size(), 8u);
    ASSERT_EQ(r.size(), next_in - next_out);
    const int pops = (round * 7) % 9;
    for (int i = 0; i < pops; ++i) {
      std::uint64_t v = 0;
      if (!r.try_pop(v)) break;
      ASSERT_EQ(v, next_out) << "round " << round;
      ++next_out;
    }
  }
  EXPECT_GT(next_out, 5000u);
}

// Counts live objects to prove every constructed element is destroyed exactly once.
struct Tracked {
  // Atomic: in the cross-thread test the producer constructs and the consumer destroys.
  static inline std::atomic<int> live{0};
  static inline std::atomic<int> constructed{0};
  std::unique_ptr<std::string> payload;  // non-trivial member: leaks show under ASan too
  explicit Tracked(std::string s) : payload(std::make_unique<std::string>(std::move(s))) { ++live; ++constructed; }
  Tracked(const Tracked& o) : payload(std::make_unique<std::string>(*o.payload)) { ++live; ++constructed; }
  Tracked(Tracked&& o) noexcept : payload(std::move(o.payload)) { ++live; ++constructed; }
  Tracked& operator=(Tracked&& o) noexcept { payload = std::move(o.payload); return *this; }
  Tracked& operator=(const Tracked&) = delete;
  ~Tracked() { --live; }
};

TEST(SpscRing, NonTrivialTypeDestruction) {
  Tracked::live = 0;
  Tracked::constructed = 0;
  {
    SpscRing<Tracked> r(8);
    EXPECT_EQ(Tracked::live, 0) << "construction of the ring must not construct elements";
    for (int i = 0; i < 6; ++i) ASSERT_TRUE(r.try_emplace("item" + std::to_string(i)));
    EXPECT_EQ(Tracked::live, 6);
    Tracked t(std::string("lvalue"));
    ASSERT_TRUE(r.try_push(t));  // copy
    EXPECT_EQ(Tracked::live, 8);
    EXPECT_EQ(*t.payload, "lvalue");

    ASSERT_EQ(*r.front()->payload, "item0");
    r.pop();
    EXPECT_EQ(Tracked::live, 7);
    Tracked out(std::string("old"));
    ASSERT_TRUE(r.try_pop(out));
    EXPECT_EQ(*out.payload, "item1");
    EXPECT_EQ(Tracked::live, 7);  // 5 queued + t + out
    // Leave 5 elements queued: the destructor must destroy them.
  }
  EXPECT_EQ(Tracked::live, 0);
  EXPECT_EQ(Tracked::constructed, 9);
}

TEST(SpscRing, MoveOnlyType) {
  SpscRing<std::unique_ptr<int>> r(2);
  ASSERT_TRUE(r.try_push(std::make_unique<int>(7)));
  ASSERT_TRUE(r.try_emplace(new int(8)));
  std::unique_ptr<int> p;
  ASSERT_TRUE(r.try_pop(p));
  EXPECT_EQ(*p, 7);
  ASSERT_TRUE(r.try_pop(p));
  EXPECT_EQ(*p, 8);
}

struct ThrowsOnNegative {
  int v;
  explicit ThrowsOnNegative(int x) : v(x) {
    if (x < 0) throw std::runtime_error("negative");
  }
};

TEST(SpscRing, ThrowingConstructorPublishesNothing) {
  SpscRing<ThrowsOnNegative> r(4);
  ASSERT_TRUE(r.try_emplace(1));
  EXPECT_THROW((void)r.try_emplace(-1), std::runtime_error);
  EXPECT_EQ(r.size(), 1u);
  ASSERT_TRUE(r.try_emplace(2));
  EXPECT_EQ(r.front()->v, 1);
  r.pop();
  EXPECT_EQ(r.front()->v, 2);
  r.pop();
  EXPECT_TRUE(r.empty());
}

TEST(SpscRing, OverAlignedType) {
  struct alignas(128) Big {
    std::uint64_t x;
  };
  SpscRing<Big> r(4);
  for (std::uint64_t i = 0; i < 4; ++i) ASSERT_TRUE(r.try_push(Big{i}));
  for (std::uint64_t i = 0; i < 4; ++i) {
    ASSERT_EQ(reinterpret_cast<std::uintptr_t>(r.front()) % 128, 0u);
    ASSERT_EQ(r.front()->x, i);
    r.pop();
  }
}

// Two threads, sequenced items: the consumer must see 0, 1, 2, ... with no loss, no
// duplicate and no torn element (the second word is derived from the first).
struct Seq {
  std::uint64_t n;
  std::uint64_t check;  // n * odd constant: a torn or stale read breaks the relation
};
constexpr std::uint64_t kMix = 0x9E3779B97F4A7C15ull;

void stress(std::size_t capacity, std::uint64_t items, bool use_front_pop) {
  SpscRing<Seq> r(capacity);
  std::thread producer([&] {
    for (std::uint64_t i = 0; i < items; ++i) {
      while (!r.try_push(Seq{i, i * kMix})) std::this_thread::yield();
    }
  });
  std::uint64_t expected = 0;
  std::uint64_t errors = 0;
  while (expected < items) {
    if (use_front_pop) {
      const Seq* s = r.front();
      if (s == nullptr) { std::this_thread::yield(); continue; }
      errors += (s->n != expected) | (s->check != expected * kMix);
      r.pop();
    } else {
      Seq s{};
      if (!r.try_pop(s)) { std::this_thread::yield(); continue; }
      errors += (s.n != expected) | (s.check != expected * kMix);
    }
    if (errors != 0) break;
    ++expected;
  }
  producer.join();
  EXPECT_EQ(errors, 0u) << "out of order / torn at item " << expected;
  EXPECT_EQ(expected, items);
  EXPECT_TRUE(r.empty());
}

TEST(SpscRingStress, TenMillionItemsTryPop) { stress(1024, 10'000'000, false); }
TEST(SpscRingStress, TwoMillionItemsFrontPopSmallRing) { stress(4, 2'000'000, true); }
TEST(SpscRingStress, CapacityOneHandOff) { stress(1, 200'000, true); }

TEST(SpscRingStress, NonTrivialElementsCrossThreads) {
  Tracked::live = 0;
  {
    SpscRing<Tracked> r(64);
    constexpr int kItems = 200'000;
    std::thread producer([&] {
      for (int i = 0; i < kItems; ++i) {
        while (!r.try_emplace(std::to_string(i))) std::this_thread::yield();
      }
    });
    int bad = 0;
    for (int i = 0; i < kItems;) {
      Tracked* t = r.front();
      if (t == nullptr) { std::this_thread::yield(); continue; }
      bad += (*t->payload != std::to_string(i));
      r.pop();
      ++i;
    }
    producer.join();
    EXPECT_EQ(bad, 0);
  }
  EXPECT_EQ(Tracked::live, 0);
}

}  // namespace
}  // namespace tickrt
