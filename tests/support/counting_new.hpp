// tests/support/counting_new.hpp — the "no allocation on the hot path" tests' probe: replaces the global
// operator new / delete of the test executable with malloc / free that count every allocation (any
// thread). Include it from exactly ONE .cpp of an executable: replacement allocation functions cannot
// be inline, so a second translation unit would define them twice (a link error, not a silent bug).
// operator new[] and the nothrow forms are not replaced: their library versions call operator new
// (libstdc++ >= 9), so they are counted too. Aligned (align_val_t) allocations are not counted.
#pragma once

#include <atomic>
#include <cstdlib>
#include <new>

namespace tickrt::test {

inline std::atomic<long> g_allocations{0};

// Allocations made (by any thread) since this object was made.
class AllocationCounter {
 public:
  AllocationCounter() noexcept : start_(g_allocations.load()) {}
  long count() const noexcept { return g_allocations.load() - start_; }

 private:
  long start_;
};

}  // namespace tickrt::test

void* operator new(std::size_t n) {
  tickrt::test::g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
// The replaced operator new takes from malloc, so free() is the matching release (g++ 12 flags it as
// mismatched once it inlines operator new: a false positive).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
#pragma GCC diagnostic pop
