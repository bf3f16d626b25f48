// pipeline/ws_client.hpp — the live market-data feed: a Binance combined-stream WebSocket client
// (Boost.Beast; TLS through Asio SSL for wss://) plus REST depth snapshots for book sync.
//
// Who calls: the feed thread owns a WsFeed: connect() (setup path, blocking with timeouts), then
// poll() in its loop. poll() runs the io_context's ready handlers without blocking (the thread's
// idle strategy decides how to wait) and hands at most one complete frame per call:
//   frame(json, recv_tsc) -> true. The frame view is valid until the next poll().
// Ping/pong is answered inside Beast's read. A read error marks the feed disconnected
// (connected() false, last_error() says why); the caller waits feed.reconnect_ms and calls
// connect() again, then resets its parser state (MarketHandler::begin_connection): the books see
// a gap on the first diff and resync from a fresh snapshot.
//
// Snapshots: SnapshotFetcher runs its own thread (blocking HTTP GET of
// <rest_url>/api/v3/depth?symbol=X&limit=1000, TLS for https://). The feed thread asks through
// request() (an SPSC ring, no lock) and takes answers with take() (ownership of a heap string
// passes to the feed thread: a resync is rare and the snapshot parse dominates it anyway). Each
// answer is the REST body with "symbol" injected so multi-symbol connections stay unambiguous.
//
// Hot path (poll): no allocation once the read buffer has grown to the largest frame, no locks.
// Limits: spot REST path (/api/v3/depth); text frames only; one connection per WsFeed.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <atomic>
#include <mutex>
#include <vector>

#include "core/spsc_ring.hpp"
#include "core/status.hpp"

namespace tickrt::pipeline {

struct Url {
  bool tls = false;
  std::string host;
  std::string port;
  std::string target;  // path + query, "/" when empty
};
Result<Url> parse_url(std::string_view url);

// Blocking HTTP/1.1 GET (setup / background path). Status names the URL and the HTTP status.
Result<std::string> http_get(const std::string& base_url, const std::string& target, int timeout_ms = 5000);

// "/stream?streams=btcusdt@depth@100ms/btcusdt@trade" for the given upper-case symbols.
std::string combined_stream_target(const std::vector<std::string>& symbols);

class WsFeed {
 public:
  WsFeed();
  ~WsFeed();
  WsFeed(const WsFeed&) = delete;
  WsFeed& operator=(const WsFeed&) = delete;

  // base_url: ws://host:port or wss://host:port; target: combined_stream_target(...).
  Status connect(const std::string& base_url, const std::string& target, int timeout_ms = 5000);
  // Non-blocking: true with a frame when one has arrived. recv_tsc/recv_ns: when its read completed.
  [[nodiscard]] bool poll(std::string_view& frame, std::uint64_t& recv_tsc, std::int64_t& recv_ns) noexcept;
  void close() noexcept;
  bool connected() const noexcept;
  const std::string& last_error() const noexcept;
  std::uint64_t frames() const noexcept;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

class SnapshotFetcher {
 public:
  SnapshotFetcher(std::string rest_url, std::vector<std::string> symbol_names);
  ~SnapshotFetcher();
  SnapshotFetcher(const SnapshotFetcher&) = delete;
  SnapshotFetcher& operator=(const SnapshotFetcher&) = delete;

  void start();
  void stop();
  // Feed thread: ask for a snapshot of symbol index i (into symbol_names). False if the ring is full.
  [[nodiscard]] bool request(std::uint16_t i) noexcept;
  // Feed thread: a fetched snapshot body (caller owns and deletes it), or nullptr.
  [[nodiscard]] std::string* take() noexcept;
  std::uint64_t fetched() const noexcept { return fetched_.load(std::memory_order_relaxed); }
  std::uint64_t failed() const noexcept { return failed_.load(std::memory_order_relaxed); }
  std::string last_error() const;

 private:
  void loop();
  std::string rest_url_;
  std::vector<std::string> names_;
  SpscRing<std::uint16_t> req_{256};
  SpscRing<std::string*> out_{256};
  std::atomic<bool> stop_{false};
  std::atomic<std::uint64_t> fetched_{0}, failed_{0};
  mutable std::mutex mu_;  // guards err_ only (background path)
  std::string err_;
  std::thread thread_;
};

}  // namespace tickrt::pipeline
