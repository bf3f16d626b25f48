// infer/runtime/thread_pool.hpp — the intra-op thread pool of one ExecutionContext (optional; default 1 thread = none).
//
// Who calls: ExecutionContext::set_threads (setup path) creates it; kernels with a parallel form (Kernel::run_mt,
// infer/ops/op.hpp) call run() from inside ExecutionContext::run() (hot path), on the context's own thread.
//
// Contract
//   * create(n, cpus): n - 1 persistent workers started here (the caller of run() is thread 0); worker i (1..n-1) is
//     pinned to cpus[i - 1] when cpus is given (n - 1 ids; the caller is never pinned by the pool: its affinity is
//     the application's). Bad input (n < 1 or > kMaxThreads, a CPU id the OS refuses to pin to, a list of another
//     length than n - 1) is a Status naming the value. More threads than CPUs is allowed (they time-share; slower, correct).
//   * run(fn, ctx): fn(ctx, tid, n) runs once on every thread tid = 0 .. n-1 (tid 0 on the caller) and run() returns
//     when all have returned. Work inside fn is split by tid (static partition) or by the atomic counters below.
//     No allocation, no exception, no lock: the hand-off is one atomic generation counter; idle workers spin for
//     ~kSpinNs (yielding the CPU at each check after the first 20 µs, in case a thread they wait for shares it)
//     then sleep in std::atomic::wait (a futex), and the caller only issues the wake-up system call when a worker
//     is actually asleep. fn must not throw and must not call run() (no nesting).
//   * counter(i): kCounters cache-line-separated atomics a task may use to publish progress between threads
//     (e.g. the LSTM layer pipeline, ops/fused.cpp); the task resets what it uses before run() hands it out.
//   * scratch(tid): per-thread workspace (tid >= 1; thread 0 uses the Kernel's own workspace), grown by
//     reserve_scratch() on the setup path and pre-faulted there.
//   * Destruction stops and joins every worker. Not copyable, not movable (workers hold `this`).
// One pool belongs to one ExecutionContext: run() must not be called from two threads at once.
// Limits: kMaxThreads = 64. Spinning workers burn their CPU for up to kSpinNs after each run(): on a machine shared
// with other work, that is the price of waking in ~100 ns instead of a futex wake-up's several µs.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

#include "core/status.hpp"
#include "infer/ir/tensor.hpp"   // AlignedBytes

namespace tickrt::infer {

class ThreadPool {
 public:
  using TaskFn = void (*)(void* ctx, int tid, int nthreads) noexcept;
  static constexpr int kMaxThreads = 64;
  static constexpr int kCounters = 4;
  static constexpr std::int64_t kSpinNs = 200'000;   // a worker spins this long after a task before it sleeps

  static Result<std::unique_ptr<ThreadPool>> create(int threads, const std::vector<int>& cpus = {});
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;
  ThreadPool(ThreadPool&&) = delete;
  ThreadPool& operator=(ThreadPool&&) = delete;

  int size() const noexcept { return n_; }
  // Hot path: see the contract above.
  void run(TaskFn fn, void* ctx) noexcept;

  std::atomic<int>& counter(int i) noexcept { return counters_[i].v; }
  std::byte* scratch(int tid) const noexcept { return scratch_[static_cast<std::size_t>(tid)].ptr.get(); }
  std::size_t scratch_bytes() const noexcept { return scratch_bytes_; }
  // Setup path: every worker's scratch holds at least `bytes` (re-allocated, pre-faulted; never shrinks).
  Status reserve_scratch(std::size_t bytes);

  // Spin-then-sleep helpers for tasks that wait on a counter another thread advances (progress flags).
  static void wait_at_least(const std::atomic<int>& a, int target) noexcept;

 private:
  explicit ThreadPool(int n) : n_(n) {}
  void worker(int tid) noexcept;

  // Each hot atomic on its own cache line: the caller writes gen_ while workers decrement pending_, and a
  // shared line would bounce between the cores on every hand-off.
  struct alignas(64) PaddedAtomic { std::atomic<int> v{0}; };
  alignas(64) std::atomic<std::uint32_t> gen_{0};       // bumped once per run(): the "go" signal
  alignas(64) std::atomic<int> pending_{0};             // workers still inside the current task
  alignas(64) std::atomic<int> sleepers_{0};            // workers blocked in gen_.wait (wake-up needed)
  alignas(64) std::atomic<bool> stop_{false};
  TaskFn fn_ = nullptr;                                 // published by the release of gen_
  void* ctx_ = nullptr;
  PaddedAtomic counters_[kCounters];
  int n_;
  std::vector<std::thread> workers_;
  std::vector<AlignedBytes> scratch_;                   // index = tid; [0] unused
  std::size_t scratch_bytes_ = 0;
};

}  // namespace tickrt::infer
