// pipeline/wire_tap.hpp — wire-to-wire latency against the in-process venue, measured on the
// venue's side of the loopback: a TCP relay in front of the venue stamps
//   * each WebSocket market-data frame as its last byte arrives from the venue (frame n of the
//     connection, counted from 1 as the client counts them), and
//   * each order request as the bytes carrying its newClientOrderId arrive from the gateway,
// and wire-to-wire = order stamp - stamp of the frame that caused the order (the pipeline records
// the frame number per order). Both stamps are tickrt::now_ns() in one process.
//
// Who calls: the pipeline at setup (start(): listens on 127.0.0.1:0, one relay thread using
// poll(2)); the client and the gateway then connect to port() instead of the venue's. Results are
// read after the run (frame_ns(), order_ns(): a mutex, never on the pipeline's threads).
// What it costs and includes: the relay's read -> write (one extra loopback hop, ~10 µs) is inside
// the measured interval, once; the pipeline's own stamps do not include it (they start at the
// client's read). Limits: server-to-client WS frames unmasked (as servers send them), one
// market-data WS connection (the first one whose first bytes are an HTTP upgrade to /stream),
// order ids found in the request line or body of REST requests.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "core/status.hpp"

namespace tickrt::pipeline {

class WireTap {
 public:
  explicit WireTap(std::uint16_t venue_port);
  ~WireTap();
  WireTap(const WireTap&) = delete;
  WireTap& operator=(const WireTap&) = delete;

  Status start();
  void stop();
  std::uint16_t port() const noexcept { return port_; }

  // Stamp of market-data frame n (1-based), 0 when unknown.
  std::int64_t frame_ns(std::uint64_t n) const;
  // Stamp of the order request with this client order id, 0 when unknown.
  std::int64_t order_ns(const std::string& client_order_id) const;
  std::uint64_t frames() const;

 private:
  struct Conn;
  void loop();
  void on_upstream_bytes(Conn& c, const char* p, std::size_t n);    // venue -> client
  void on_downstream_bytes(Conn& c, const char* p, std::size_t n);  // client -> venue

  std::uint16_t venue_port_;
  std::uint16_t port_ = 0;
  int listen_fd_ = -1;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::vector<Conn*> conns_;
  mutable std::mutex mu_;
  std::vector<std::int64_t> frame_ns_;                      // index n-1
  std::unordered_map<std::string, std::int64_t> order_ns_;
  bool md_claimed_ = false;
};

}  // namespace tickrt::pipeline
