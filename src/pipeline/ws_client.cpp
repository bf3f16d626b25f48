// pipeline/ws_client.cpp — Beast WebSocket market-data client and REST snapshots (ws_client.hpp).
#include "pipeline/ws_client.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>

#include <chrono>
#include <optional>

#include "core/clock.hpp"

namespace tickrt::pipeline {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

Result<Url> parse_url(std::string_view url) {
  Url u;
  std::string_view rest;
  if (url.rfind("wss://", 0) == 0) { u.tls = true; rest = url.substr(6); }
  else if (url.rfind("ws://", 0) == 0) { rest = url.substr(5); }
  else if (url.rfind("https://", 0) == 0) { u.tls = true; rest = url.substr(8); }
  else if (url.rfind("http://", 0) == 0) { rest = url.substr(7); }
  else return Result<Url>(Code::invalid_argument, "URL '" + std::string(url) + "': expected ws://, wss://, http:// or https://");
  const std::size_t slash = rest.find('/');
  std::string_view hostport = rest.substr(0, slash);
  u.target = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
  const std::size_t colon = hostport.rfind(':');
  if (colon != std::string_view::npos) {
    u.host = std::string(hostport.substr(0, colon));
    u.port = std::string(hostport.substr(colon + 1));
  } else {
    u.host = std::string(hostport);
    u.port = u.tls ? "443" : "80";
  }
  if (u.host.empty() || u.port.empty()) return Result<Url>(Code::invalid_argument, "URL '" + std::string(url) + "': no host or port");
  return u;
}

std::string combined_stream_target(const std::vector<std::string>& symbols) {
  std::string t = "/stream?streams=";
  bool first = true;
  for (const std::string& s : symbols) {
    std::string lo = s;
    for (char& c : lo) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    for (const char* kind : {"@depth@100ms", "@trade"}) {
      if (!first) t += '/';
      t += lo + kind;
      first = false;
    }
  }
  return t;
}

namespace {

ssl::context make_tls_context() {
  ssl::context ctx(ssl::context::tls_client);
  ctx.set_default_verify_paths();
  ctx.set_verify_mode(ssl::verify_peer);
  return ctx;
}

}  // namespace

Result<std::string> http_get(const std::string& base_url, const std::string& target, int timeout_ms) {
  auto u = parse_url(base_url);
  if (!u.ok()) return u.status();
  const std::string what = "GET " + base_url + target;
  try {
    asio::io_context ioc;
    tcp::resolver res(ioc);
    const auto eps = res.resolve(u->host, u->port);
    http::request<http::string_body> req{http::verb::get, target, 11};
    req.set(http::field::host, u->host);
    req.set(http::field::user_agent, "tickrt");
    beast::flat_buffer buf;
    http::response<http::string_body> resp;
    if (u->tls) {
      ssl::context ctx = make_tls_context();
      beast::ssl_stream<beast::tcp_stream> s(ioc, ctx);
      if (!SSL_set_tlsext_host_name(s.native_handle(), u->host.c_str()))
        return Result<std::string>(Code::io_error, what + ": SNI failed");
      s.set_verify_callback(ssl::host_name_verification(u->host));
      beast::get_lowest_layer(s).expires_after(std::chrono::milliseconds(timeout_ms));
      beast::get_lowest_layer(s).connect(eps);
      s.handshake(ssl::stream_base::client);
      http::write(s, req);
      http::read(s, buf, resp);
      beast::error_code ec;
      s.shutdown(ec);
    } else {
      beast::tcp_stream s(ioc);
      s.expires_after(std::chrono::milliseconds(timeout_ms));
      s.connect(eps);
      http::write(s, req);
      http::read(s, buf, resp);
      beast::error_code ec;
      s.socket().shutdown(tcp::socket::shutdown_both, ec);
    }
    if (resp.result_int() != 200)
      return Result<std::string>(Code::io_error, what + ": HTTP " + std::to_string(resp.result_int()) + ": " + resp.body().substr(0, 200));
    return std::move(resp.body());
  } catch (const std::exception& e) {
    return Result<std::string>(Code::io_error, what + ": " + e.what());
  }
}

// ---- WsFeed -------------------------------------------------------------------------------------

struct WsFeed::Impl {
  asio::io_context ioc{1};
  // Keeps poll() from stopping the io_context between a completed read and the next one (a
  // stopped io_context would ignore the next read until restart()).
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> guard;
  std::optional<ssl::context> tls_ctx;
  std::unique_ptr<websocket::stream<beast::tcp_stream>> plain;
  std::unique_ptr<websocket::stream<beast::ssl_stream<beast::tcp_stream>>> tls;
  beast::flat_buffer buf;
  bool ready = false;
  bool reading = false;
  bool up = false;
  std::uint64_t recv_tsc = 0;
  std::int64_t recv_ns = 0;
  std::size_t frame_len = 0;
  std::uint64_t frames = 0;
  std::string err;

  void on_read(beast::error_code ec, std::size_t n) {
    reading = false;
    if (ec) {
      up = false;
      err = "read: " + ec.message();
      return;
    }
    recv_tsc = TscClock::ticks();
    recv_ns = tickrt::now_ns();
    frame_len = n;
    ready = true;
    ++frames;
  }
  void arm() {
    reading = true;
    if (tls) tls->async_read(buf, [this](beast::error_code ec, std::size_t n) { on_read(ec, n); });
    else plain->async_read(buf, [this](beast::error_code ec, std::size_t n) { on_read(ec, n); });
  }
};

WsFeed::WsFeed() : impl_(std::make_unique<Impl>()) {}
WsFeed::~WsFeed() { close(); }

Status WsFeed::connect(const std::string& base_url, const std::string& target, int timeout_ms) {
  close();
  Impl& m = *impl_;
  m.ioc.restart();
  m.buf.clear();
  m.ready = false;
  auto u = parse_url(base_url);
  if (!u.ok()) return u.status();
  const std::string what = "connect " + base_url + target;
  try {
    tcp::resolver res(m.ioc);
    const auto eps = res.resolve(u->host, u->port);
    auto decorate = [](websocket::request_type& r) { r.set(http::field::user_agent, "tickrt"); };
    if (u->tls) {
      if (!m.tls_ctx) m.tls_ctx.emplace(make_tls_context());
      m.tls = std::make_unique<websocket::stream<beast::ssl_stream<beast::tcp_stream>>>(m.ioc, *m.tls_ctx);
      auto& ss = m.tls->next_layer();
      if (!SSL_set_tlsext_host_name(ss.native_handle(), u->host.c_str())) return Status(Code::io_error, what + ": SNI failed");
      ss.set_verify_callback(ssl::host_name_verification(u->host));
      beast::get_lowest_layer(*m.tls).expires_after(std::chrono::milliseconds(timeout_ms));
      beast::get_lowest_layer(*m.tls).connect(eps);
      beast::get_lowest_layer(*m.tls).socket().set_option(tcp::no_delay(true));
      ss.handshake(ssl::stream_base::client);
      m.tls->set_option(websocket::stream_base::decorator(decorate));
      m.tls->handshake(u->host + ":" + u->port, target);
      beast::get_lowest_layer(*m.tls).expires_never();
      m.tls->read_message_max(64u << 20);
    } else {
      m.plain = std::make_unique<websocket::stream<beast::tcp_stream>>(m.ioc);
      beast::get_lowest_layer(*m.plain).expires_after(std::chrono::milliseconds(timeout_ms));
      beast::get_lowest_layer(*m.plain).connect(eps);
      beast::get_lowest_layer(*m.plain).socket().set_option(tcp::no_delay(true));
      m.plain->set_option(websocket::stream_base::decorator(decorate));
      m.plain->handshake(u->host + ":" + u->port, target);
      beast::get_lowest_layer(*m.plain).expires_never();
      m.plain->read_message_max(64u << 20);
    }
  } catch (const std::exception& e) {
    m.plain.reset();
    m.tls.reset();
    return Status(Code::io_error, what + ": " + e.what());
  }
  m.up = true;
  m.err.clear();
  m.guard.emplace(m.ioc.get_executor());
  m.arm();
  return Status::Ok();
}

bool WsFeed::poll(std::string_view& frame, std::uint64_t& recv_tsc, std::int64_t& recv_ns) noexcept {
  Impl& m = *impl_;
  if (m.ready) {  // the previous frame was handed out: release it and read the next one
    m.buf.consume(m.frame_len);
    m.ready = false;
    if (m.up) m.arm();
  }
  if (!m.up && !m.reading) return false;
  try {
    m.ioc.poll();
  } catch (const std::exception& e) {
    m.up = false;
    m.err = std::string("poll: ") + e.what();
    return false;
  }
  if (!m.ready) return false;
  const auto d = m.buf.data();
  frame = std::string_view(static_cast<const char*>(d.data()), m.frame_len);
  recv_tsc = m.recv_tsc;
  recv_ns = m.recv_ns;
  return true;
}

void WsFeed::close() noexcept {
  Impl& m = *impl_;
  m.guard.reset();
  try {
    beast::error_code ec;
    if (m.plain) beast::get_lowest_layer(*m.plain).socket().close(ec);
    if (m.tls) beast::get_lowest_layer(*m.tls).socket().close(ec);
    // Let the cancelled read complete before the streams go away.
    m.ioc.restart();
    m.ioc.poll();
  } catch (...) {
  }
  m.plain.reset();
  m.tls.reset();
  m.up = false;
  m.reading = false;
  m.ready = false;
}

bool WsFeed::connected() const noexcept { return impl_->up; }
const std::string& WsFeed::last_error() const noexcept { return impl_->err; }
std::uint64_t WsFeed::frames() const noexcept { return impl_->frames; }

// ---- SnapshotFetcher ----------------------------------------------------------------------------

SnapshotFetcher::SnapshotFetcher(std::string rest_url, std::vector<std::string> names)
    : rest_url_(std::move(rest_url)), names_(std::move(names)) {}

SnapshotFetcher::~SnapshotFetcher() {
  stop();
  std::string* p = nullptr;
  while (out_.try_pop(p)) delete p;
}

void SnapshotFetcher::start() {
  if (thread_.joinable()) return;
  stop_.store(false);
  thread_ = std::thread([this] { loop(); });
}

void SnapshotFetcher::stop() {
  stop_.store(true);
  if (thread_.joinable()) thread_.join();
}

bool SnapshotFetcher::request(std::uint16_t i) noexcept { return req_.try_push(i); }

std::string* SnapshotFetcher::take() noexcept {
  std::string* p = nullptr;
  return out_.try_pop(p) ? p : nullptr;
}

std::string SnapshotFetcher::last_error() const {
  std::lock_guard<std::mutex> g(mu_);
  return err_;
}

void SnapshotFetcher::loop() {
  std::vector<std::uint16_t> retry;  // this thread's own queue: req_ has one producer (the feed)
  while (!stop_.load()) {
    std::uint16_t i = 0;
    if (!req_.try_pop(i)) {
      if (retry.empty()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
        continue;
      }
      i = retry.back();
      retry.pop_back();
    }
    if (i >= names_.size()) continue;
    auto body = http_get(rest_url_, "/api/v3/depth?symbol=" + names_[i] + "&limit=1000");
    if (!body.ok()) {
      failed_.fetch_add(1);
      {
        std::lock_guard<std::mutex> g(mu_);
        err_ = body.status().to_string();
      }
      // Ask again after a pause: the book stays resyncing (not tradable) meanwhile.
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
      retry.push_back(i);
      continue;
    }
    std::string& b = body.value();
    if (b.find("\"symbol\"") == std::string::npos) {
      const std::size_t brace = b.find('{');
      if (brace != std::string::npos) b.insert(brace + 1, "\"symbol\":\"" + names_[i] + "\",");
    }
    auto* p = new std::string(std::move(b));
    while (!out_.try_push(p)) {
      if (stop_.load()) { delete p; return; }
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    fetched_.fetch_add(1);
  }
}

}  // namespace tickrt::pipeline
