#include "infer/runtime/thread_pool.hpp"

#include <pthread.h>
#include <sched.h>

#include <cstring>
#include <string>
#include <system_error>

#include "core/clock.hpp"

namespace tickrt::infer {
namespace {

inline void cpu_pause() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

// After this long a spinning thread also yields its CPU at every check: when the thread it waits for shares that
// CPU (more threads than CPUs, or a machine loaded by other work), a pure spin would hold the CPU for a whole time
// slice (measured: transformer_s batch 1 took 2.6 ms instead of 77 µs when the two threads landed on one CPU).
constexpr std::int64_t kYieldAfterNs = 20'000;

// Spins on `done()` (with the CPU's pause hint), then spins with sched_yield between checks.
template <class Done>
inline void spin_until(Done done) noexcept {
  std::int64_t t0 = 0;
  for (int i = 0;; ++i) {
    if (done()) return;
    if ((i & 63) == 63) {
      if (t0 == 0) t0 = now_ns();
      else if (now_ns() - t0 > kYieldAfterNs) std::this_thread::yield();
    }
    cpu_pause();
  }
}

}  // namespace

Result<std::unique_ptr<ThreadPool>> ThreadPool::create(int threads, const std::vector<int>& cpus) {
  if (threads < 1 || threads > kMaxThreads)
    return Status(Code::invalid_argument, "intra-op threads: " + std::to_string(threads) + " is outside [1, " + std::to_string(kMaxThreads) + "]");
  if (!cpus.empty() && static_cast<int>(cpus.size()) != threads - 1)
    return Status(Code::invalid_argument, "intra-op threads: " + std::to_string(cpus.size()) + " CPU ids given for " + std::to_string(threads - 1) +
                                              " worker thread(s) (the calling thread is not pinned by the pool)");
  for (std::size_t i = 0; i < cpus.size(); ++i)
    if (cpus[i] < 0 || cpus[i] >= CPU_SETSIZE)
      return Status(Code::invalid_argument, "intra-op threads: CPU " + std::to_string(cpus[i]) + " (worker " + std::to_string(i + 1) +
                                                ") is not a CPU id");
  std::unique_ptr<ThreadPool> pool(new ThreadPool(threads));
  pool->scratch_.resize(static_cast<std::size_t>(threads));
  try {
    for (int t = 1; t < threads; ++t) {
      const int cpu = cpus.empty() ? -1 : cpus[static_cast<std::size_t>(t - 1)];
      pool->workers_.emplace_back([p = pool.get(), t] { p->worker(t); });
      if (cpu >= 0) {
        // Pinned here, before the worker runs any task, so a CPU the OS refuses (offline, outside the cpuset) is
        // an error of create() rather than a silently unpinned worker.
        cpu_set_t one;
        CPU_ZERO(&one);
        CPU_SET(cpu, &one);
        if (const int err = pthread_setaffinity_np(pool->workers_.back().native_handle(), sizeof(one), &one); err != 0)
          return Status(Code::invalid_argument, "intra-op threads: cannot pin worker " + std::to_string(t) + " to CPU " + std::to_string(cpu) +
                                                    " (not available to this process: " + std::strerror(err) + ")");
      }
    }
  } catch (const std::system_error& e) {
    // The destructor stops and joins the workers already started.
    return Status(Code::resource_exhausted, "intra-op threads: starting worker " + std::to_string(pool->workers_.size() + 1) + " of " +
                                                std::to_string(threads - 1) + " failed: " + e.what());
  }
  return pool;
}

ThreadPool::~ThreadPool() {
  stop_.store(true, std::memory_order_seq_cst);
  gen_.fetch_add(1, std::memory_order_seq_cst);
  gen_.notify_all();
  for (auto& w : workers_) w.join();
}

Status ThreadPool::reserve_scratch(std::size_t bytes) {
  if (bytes <= scratch_bytes_) return Status::Ok();
  try {
    for (std::size_t t = 1; t < scratch_.size(); ++t) scratch_[t] = AlignedBytes::allocate(bytes);   // zero-filled = pre-faulted
  } catch (const std::bad_alloc&) {
    return Status(Code::resource_exhausted, "intra-op threads: cannot allocate " + std::to_string(bytes) + " bytes of scratch per worker");
  }
  scratch_bytes_ = bytes;
  return Status::Ok();
}

void ThreadPool::wait_at_least(const std::atomic<int>& a, int target) noexcept {
  spin_until([&] { return a.load(std::memory_order_acquire) >= target; });
}

void ThreadPool::run(TaskFn fn, void* ctx) noexcept {
  if (n_ == 1) {
    fn(ctx, 0, 1);
    return;
  }
  fn_ = fn;
  ctx_ = ctx;
  pending_.store(n_ - 1, std::memory_order_relaxed);
  // seq_cst on both sides (here: bump gen_, then read sleepers_; worker: raise sleepers_, then wait on gen_): either
  // we see the sleeper and notify, or the worker's wait sees the new generation and does not sleep.
  gen_.fetch_add(1, std::memory_order_seq_cst);
  if (sleepers_.load(std::memory_order_seq_cst) > 0) gen_.notify_all();
  fn(ctx, 0, n_);
  spin_until([&] { return pending_.load(std::memory_order_acquire) == 0; });
}

void ThreadPool::worker(int tid) noexcept {
  std::uint32_t seen = 0;   // workers start before the first run(): generation 0
  for (;;) {
    std::uint32_t g;
    std::int64_t t0 = now_ns();
    int spins = 0;
    while ((g = gen_.load(std::memory_order_acquire)) == seen) {
      if ((++spins & 63) == 0) {
        const std::int64_t idle = now_ns() - t0;
        if (idle > kSpinNs) {
          sleepers_.fetch_add(1, std::memory_order_seq_cst);
          gen_.wait(seen, std::memory_order_seq_cst);
          sleepers_.fetch_sub(1, std::memory_order_relaxed);
          t0 = now_ns();
          continue;
        }
        if (idle > kYieldAfterNs) std::this_thread::yield();
      }
      cpu_pause();
    }
    seen = g;
    if (stop_.load(std::memory_order_acquire)) return;
    fn_(ctx_, tid, n_);
    pending_.fetch_sub(1, std::memory_order_release);
  }
}

}  // namespace tickrt::infer
