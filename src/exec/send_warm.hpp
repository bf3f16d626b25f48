// exec/send_warm.hpp — keeps the kernel's TCP send path warm on a pinned gateway IO thread.
//
// Why: an order leaves through one send() of a pre-formatted request. A pinned IO thread idles for
// seconds between orders, and the kernel's send path (syscall entry, tcp_sendmsg, skb allocation, IP
// output, on loopback the receiver's tcp_v4_rcv run inside the same call) is then cold in the core's
// caches and TLB: measured 55-56 us P50 for a 400-byte send on loopback after 100 ms of idleness
// against 5.7-6.8 us with this warmer running every ms and 3.3 us back to back (2-vCPU project VM,
// bench_send_warm, docs/BENCHMARKS.md "## pipeline"). The formatting and the HMAC were already warmed
// the same way (binance_gateway.cpp warm_order_path); this warms the write.
//
// What: at setup, a private TCP connection on 127.0.0.1 (both ends owned here, TCP_NODELAY,
// non-blocking). warm(p, n) (IO thread, once per ms of idleness) sends the bytes of a throw-away
// request into it and reads them back out, so the same kernel code and slab caches an order's send
// uses ran moments ago on this core. Nothing reaches the exchange; the exchange's socket itself is not
// touched (its own lines stay as cold as they are).
// Hot path: warm() is noexcept, no allocation, two non-blocking syscalls; a failing syscall is counted,
// never thrown. Setup: open() returns a Status naming the socket call that failed.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "core/status.hpp"

namespace tickrt::exec {

// A connected TCP pair on 127.0.0.1, both ends owned (closed at destruction), TCP_NODELAY on both, blocking.
// Setup path: open() names the socket call that failed. Used by SendPathWarmer and bench_send_warm's venue.
class LoopbackPair {
 public:
  static Result<LoopbackPair> open();
  LoopbackPair() = default;
  LoopbackPair(LoopbackPair&& o) noexcept : tx_(o.tx_), rx_(o.rx_) { o.tx_ = o.rx_ = -1; }
  LoopbackPair& operator=(LoopbackPair&& o) noexcept;
  LoopbackPair(const LoopbackPair&) = delete;
  LoopbackPair& operator=(const LoopbackPair&) = delete;
  ~LoopbackPair();
  int tx() const noexcept { return tx_; }   // the connecting end
  int rx() const noexcept { return rx_; }   // the accepted end

 private:
  int tx_ = -1, rx_ = -1;
};

class SendPathWarmer {
 public:
  static Result<std::unique_ptr<SendPathWarmer>> open();
  SendPathWarmer(const SendPathWarmer&) = delete;
  SendPathWarmer& operator=(const SendPathWarmer&) = delete;

  // Sends n bytes (at most kMaxBytes are used) into the private connection and drains it.
  // False when a syscall failed (counted in errors()).
  bool warm(const char* p, std::size_t n) noexcept;

  // Any thread (relaxed; written by the warming thread only).
  std::uint64_t sends() const noexcept { return sends_.load(std::memory_order_relaxed); }
  std::uint64_t bytes_drained() const noexcept { return drained_.load(std::memory_order_relaxed); }
  std::uint64_t errors() const noexcept { return errors_.load(std::memory_order_relaxed); }

  static constexpr std::size_t kMaxBytes = 2048;

 private:
  SendPathWarmer() = default;
  LoopbackPair pair_;   // non-blocking ends (open())
  static void bump(std::atomic<std::uint64_t>& c, std::uint64_t n) noexcept {  // single writer: no RMW
    c.store(c.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  std::atomic<std::uint64_t> sends_{0}, drained_{0}, errors_{0};
  alignas(64) char drain_[4096];
};

}  // namespace tickrt::exec
