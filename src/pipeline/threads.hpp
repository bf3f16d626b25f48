// pipeline/threads.hpp — per-thread CPU pinning and idle strategies (Aeron's duty-cycle idea).
//
// Who calls: each pipeline thread once at start (pin_current_thread) and in its poll loop
// (Idler::idle() after a pass that found no work, Idler::reset() after one that did).
// busy: spin with `pause` (lowest wake-up latency, burns the core); yield: sched_yield (gives the
// core to another runnable thread, returns at once when there is none); sleep: nanosleep
// sleep_us (cheapest, adds up to sleep_us + timer slack of latency).
// Hot path: idle()/reset() do not allocate, lock or log.
#pragma once

#include <pthread.h>
#include <sched.h>
#include <time.h>

#include <string>
#include <vector>

#include "core/status.hpp"
#include "pipeline/config.hpp"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace tickrt::pipeline {

inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  _mm_pause();
#endif
}

class Idler {
 public:
  explicit Idler(const ThreadConfig& tc) noexcept : kind_(tc.idle), sleep_ns_(static_cast<long>(tc.sleep_us) * 1000) {}
  void reset() noexcept { spins_ = 0; }
  void idle() noexcept {
    switch (kind_) {
      case IdleKind::busy:
        cpu_relax();
        break;
      case IdleKind::yield:
        sched_yield();
        break;
      case IdleKind::sleep: {
        // Spin a little first: a burst of messages usually follows the first one.
        if (++spins_ < 64) { cpu_relax(); break; }
        timespec ts{0, sleep_ns_};
        nanosleep(&ts, nullptr);
        break;
      }
    }
  }

 private:
  IdleKind kind_;
  long sleep_ns_;
  int spins_ = 0;
};

// Pins the calling thread to `cpu` (no-op for -1). Setup path: the Status names the CPU and errno.
Status pin_current_thread(int cpu, const char* thread_name);
// CPU masks for keeping unpinned threads off the pinned threads' CPUs (a thread inherits its creator's mask).
// current_thread_cpus: the calling thread's allowed CPUs. without(m, cpus): m minus cpus (negative ids ignored).
// set_current_thread_cpus: applies m (an empty m is refused: a thread must be allowed somewhere).
cpu_set_t current_thread_cpus() noexcept;
cpu_set_t without(cpu_set_t m, const std::vector<int>& cpus) noexcept;
Status set_current_thread_cpus(const cpu_set_t& m, const char* thread_name);
// Lowers the calling thread's priority (SCHED_IDLE when allowed, else nice 19): background work
// (model builds for hot swap) never preempts a pipeline thread.
void make_current_thread_background() noexcept;
// Names the thread (top -H, perf): at most 15 characters.
void name_current_thread(const char* name) noexcept;

}  // namespace tickrt::pipeline
