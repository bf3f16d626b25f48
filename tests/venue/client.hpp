// tests/venue/client.hpp — a minimal synchronous Binance client for the loopback tests
// (Boost.Beast HTTP + WebSocket, receive timeouts via SO_RCVTIMEO so a silent server fails the
// test instead of hanging it).
#pragma once

#include <utility>

#include <boost/asio.hpp>
#include <boost/beast.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <map>
#include <optional>
#include <string>

#include "venue/venue.hpp"
#include "venue/wire.hpp"

namespace tickrt::venue::test {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = net::ip::tcp;
using json = nlohmann::json;

// Asio's synchronous socket calls ignore SO_RCVTIMEO (they poll forever on EAGAIN), so the
// client runs async operations on its own io_context for at most `ms` and cancels on timeout.
template <class Op>
bool run_with_timeout(net::io_context& ioc, tcp::socket& sock, int ms, Op&& start) {
  bool done = false;
  start(done);
  ioc.restart();
  ioc.run_for(std::chrono::milliseconds(ms));
  if (!done) {
    beast::error_code ec;
    sock.cancel(ec);
    ioc.restart();
    ioc.run();  // let the cancelled handler finish
  }
  return done;
}

struct HttpResult {
  int status = 0;             // 0 = no answer (connection closed / timeout)
  std::string body;
  std::map<std::string, std::string> headers;
  json j() const { return json::parse(body, nullptr, false); }
};

// One request on a fresh connection.
inline HttpResult http_call(std::uint16_t port, http::verb verb, const std::string& target,
                            const std::string& body = {}, const std::string& api_key = {}, int timeout_ms = 5000) {
  HttpResult out;
  net::io_context ioc;
  tcp::socket sock(ioc);
  beast::error_code ec;
  sock.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port), ec);
  if (ec) return out;
  http::request<http::string_body> req(verb, target, 11);
  req.set(http::field::host, "127.0.0.1");
  if (!api_key.empty()) req.set("X-MBX-APIKEY", api_key);
  if (!body.empty()) {
    req.set(http::field::content_type, "application/x-www-form-urlencoded");
    req.body() = body;
  }
  req.prepare_payload();
  http::write(sock, req, ec);
  if (ec) return out;
  beast::flat_buffer buf;
  http::response<http::string_body> res;
  bool ok = false;
  run_with_timeout(ioc, sock, timeout_ms, [&](bool& done) {
    http::async_read(sock, buf, res, [&](beast::error_code e, std::size_t) {
      done = true;
      ok = !e;
    });
  });
  if (!ok) return out;
  out.status = static_cast<int>(res.result_int());
  out.body = res.body();
  for (const auto& f : res) out.headers[std::string(f.name_string())] = std::string(f.value());
  return out;
}

inline std::string sign(const std::string& params, const std::string& secret = kTestSecret) {
  return params + "&signature=" + hmac_sha256_hex(secret, params);
}
inline std::string ts_param() { return "timestamp=" + std::to_string(wall_ms()); }

// SIGNED request: params (without timestamp) in the query string (GET/DELETE) or body (POST).
inline HttpResult signed_call(std::uint16_t port, http::verb verb, const std::string& path, const std::string& params,
                              const std::string& key = kTestApiKey, const std::string& secret = kTestSecret) {
  const std::string p = sign(params.empty() ? ts_param() : params + "&" + ts_param(), secret);
  if (verb == http::verb::post) return http_call(port, verb, path, p, key);
  return http_call(port, verb, path + "?" + p, {}, key);
}

class WsClient {
 public:
  bool connect(std::uint16_t port, const std::string& target, int timeout_ms = 5000) {
    beast::error_code ec;
    ws_.next_layer().connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port), ec);
    if (ec) return false;
    timeout_ms_ = timeout_ms;
    bool ok = false;
    run_with_timeout(ioc_, ws_.next_layer(), timeout_ms, [&](bool& done) {
      ws_.async_handshake("127.0.0.1", target, [&](beast::error_code e) {
        done = true;
        ok = !e;
      });
    });
    return ok;
  }
  void set_timeout(int ms) { timeout_ms_ = ms; }
  bool send(const std::string& text) {
    beast::error_code ec;
    ws_.text(true);
    ws_.write(net::buffer(text), ec);
    return !ec;
  }
  // Next text frame; nullopt on timeout or close (the connection is unusable after a timeout).
  std::optional<std::string> read() {
    if (dead_) return std::nullopt;
    buf_.clear();
    bool ok = false;
    const bool done = run_with_timeout(ioc_, ws_.next_layer(), timeout_ms_, [&](bool& d) {
      ws_.async_read(buf_, [&](beast::error_code e, std::size_t) {
        d = true;
        ok = !e;
        last_error = e;
      });
    });
    if (!done || !ok) {
      dead_ = true;
      timed_out = !done;
      return std::nullopt;
    }
    return beast::buffers_to_string(buf_.data());
  }
  std::optional<json> read_json() {
    auto s = read();
    if (!s) return std::nullopt;
    return json::parse(*s, nullptr, false);
  }
  void close() {
    beast::error_code ec;
    ws_.next_layer().close(ec);
  }
  beast::error_code last_error;
  bool timed_out = false;

 private:
  net::io_context ioc_;
  websocket::stream<tcp::socket> ws_{ioc_};
  beast::flat_buffer buf_;
  int timeout_ms_ = 5000;
  bool dead_ = false;
};

}  // namespace tickrt::venue::test

namespace tickrt::venue::test {

inline constexpr const char* kKey2 = "secondTestKey";
inline constexpr const char* kSecret2 = "secondTestSecret";

// An engine + server pair on an ephemeral loopback port. Two keys: the default test key
// (account 1) and kKey2/kSecret2 (account 2).
struct Venue {
  std::unique_ptr<sim::MatchingEngine> engine;
  std::unique_ptr<VenueServer> server;
  std::uint16_t port = 0;

  static SimSetup setup() {
    SimSetup s = default_sim_setup();
    s.venue.port = 0;
    s.venue.captures.clear();
    s.venue.keys.push_back(ApiKey{kKey2, kSecret2, 2});
    return s;
  }
  explicit Venue(const SimSetup& s) {
    engine = std::make_unique<sim::MatchingEngine>(s.engine);
    server = std::make_unique<VenueServer>(s.venue, *engine);
    const Status st = server->start();
    if (!st.ok()) throw std::runtime_error(st.to_string());
    port = server->port();
  }
  ~Venue() { server->stop(); }
};

inline std::string spot_capture() { return "data/captures/spot_btcusdt_20240808.gz"; }

// Opens a user data stream for a key and connects a WebSocket to it.
inline bool open_user_stream(std::uint16_t port, WsClient& ws, const std::string& key = kTestApiKey) {
  const HttpResult r = http_call(port, http::verb::post, "/api/v3/userDataStream", {}, key);
  if (r.status != 200) return false;
  const json j = r.j();
  if (!j.is_object() || !j.contains("listenKey")) return false;
  return ws.connect(port, "/ws/" + j["listenKey"].get<std::string>());
}

// Reads user-data events until one matches pred (skipping others); nullopt on timeout.
template <class Pred>
std::optional<json> read_until(WsClient& ws, Pred pred, int max_msgs = 50) {
  for (int i = 0; i < max_msgs; ++i) {
    auto j = ws.read_json();
    if (!j) return std::nullopt;
    if (pred(*j)) return j;
  }
  return std::nullopt;
}

}  // namespace tickrt::venue::test
