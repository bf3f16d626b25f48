// metrics/http_server.hpp — the metrics/control HTTP endpoint (Boost.Beast, one thread).
//
// Who calls: setup code constructs it with a Registry, installs the health and control callbacks
// (set_health / set_control, before start()), calls start(); stop() (or the destructor) joins the
// server thread. The server thread renders /metrics and runs the callbacks; it never touches the
// hot path, whose series are lock-free (registry.hpp). Callbacks run on the server thread, so
// they must be thread-safe: the pipeline's control callbacks post a command to the trading thread
// (or set an atomic flag such as RiskEngine::request_kill) and answer at once.
//
// Endpoints (HTTP/1.1, keep-alive, bodies up to max_body bytes, one request at a time per
// connection, idle/slow connections closed after io_timeout_ms):
//   GET  /metrics            200, Registry::render(), Content-Type text/plain; version=0.0.4
//   GET  /health             200 {"status":"ok",...} or 503 {"status":"unhealthy",...}: the
//                            health callback decides (e.g. kill switch latched, book resyncing);
//                            200 {"status":"ok"} when none is installed
//   POST /control/<action>   action in {swap, kill, reset, cancel-all} or any other installed
//                            with set_control. Requires `Authorization: Bearer <token>`:
//                            401 (with WWW-Authenticate: Bearer) when missing or wrong, compared
//                            in constant time; 403 when the server has no token configured
//                            (control disabled); 404 for an action with no callback. The
//                            request body (e.g. the reset reason, the model path to swap to) is
//                            passed to the callback, whose ControlResult is the answer.
//   anything else            404; a known path with the wrong method: 405 with Allow.
// Default address 127.0.0.1:9464 (the port Prometheus' registry assigns to no one else in this
// project); port 0 binds an ephemeral port (tests), read back with port().
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "core/status.hpp"
#include "metrics/registry.hpp"

namespace tickrt::metrics {

struct ServerConfig {
  std::string address = "127.0.0.1";
  std::uint16_t port = 9464;
  std::string bearer_token;          // empty: control endpoints disabled (403)
  std::size_t max_body = 64 * 1024;
  int io_timeout_ms = 5000;
};

struct HealthReport {
  bool healthy = true;
  std::string json;  // a JSON object rendered as the body; empty: {"status":"ok"|"unhealthy"}
};
using HealthFn = std::function<HealthReport()>;

struct ControlResult {
  int status = 200;
  std::string body;  // JSON
};
using ControlFn = std::function<ControlResult(std::string_view body)>;

class MetricsServer {
 public:
  MetricsServer(Registry& registry, ServerConfig config);
  ~MetricsServer();
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  void set_health(HealthFn fn);
  void set_control(std::string action, ControlFn fn);

  // Binds and listens (errors name address:port), then serves on its own thread.
  Status start();
  void stop() noexcept;
  std::uint16_t port() const noexcept { return port_.load(); }
  std::uint64_t requests() const noexcept { return requests_.load(std::memory_order_relaxed); }

  struct Impl;  // Beast/Asio details live in http_server.cpp only

 private:
  Registry& registry_;
  ServerConfig cfg_;
  std::unique_ptr<Impl> impl_;
  std::thread thread_;
  std::atomic<std::uint16_t> port_{0};
  std::atomic<std::uint64_t> requests_{0};
  std::mutex mu_;
  HealthFn health_;
  std::map<std::string, ControlFn, std::less<>> control_;

  friend struct Session;
};

// "host:port" (IPv4 literal, or [IPv6]:port) into cfg.address / cfg.port; the error names the text.
Status parse_listen(std::string_view text, ServerConfig& cfg);

// Constant-time comparison of a presented token with the configured one (no early exit on the
// first differing byte; the length difference is folded in too).
bool token_equal(std::string_view presented, std::string_view expected) noexcept;

}  // namespace tickrt::metrics
