// metrics/http_server.cpp — Boost.Beast HTTP/1.1 server on one io_context thread.
#include "metrics/http_server.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <cstdio>
#include <optional>

namespace tickrt::metrics {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

bool token_equal(std::string_view presented, std::string_view expected) noexcept {
  unsigned diff = presented.size() == expected.size() ? 0u : 1u;
  const std::size_t n = expected.size();
  for (std::size_t i = 0; i < n; ++i) {
    const char a = i < presented.size() ? presented[i] : '\0';
    diff |= static_cast<unsigned char>(a ^ expected[i]);
  }
  return diff == 0 && !expected.empty();
}

Status parse_listen(std::string_view text, ServerConfig& cfg) {
  const std::string t(text);
  const auto colon = t.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == t.size()) {
    return {Code::invalid_argument, "metrics listen '" + t + "': expected host:port (e.g. 127.0.0.1:9464)"};
  }
  std::string host = t.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  unsigned long port = 0;
  const std::string ps = t.substr(colon + 1);
  for (char c : ps) {
    if (c < '0' || c > '9' || port > 65535) return {Code::invalid_argument, "metrics listen '" + t + "': bad port '" + ps + "'"};
    port = port * 10 + static_cast<unsigned long>(c - '0');
  }
  if (port > 65535) return {Code::invalid_argument, "metrics listen '" + t + "': port above 65535"};
  beast::error_code ec;
  (void)asio::ip::make_address(host, ec);
  if (ec) return {Code::invalid_argument, "metrics listen '" + t + "': '" + host + "' is not an IP address"};
  cfg.address = host;
  cfg.port = static_cast<std::uint16_t>(port);
  return Status::Ok();
}

struct MetricsServer::Impl {
  MetricsServer& srv;
  asio::io_context ioc{1};
  tcp::acceptor acceptor{ioc};

  explicit Impl(MetricsServer& s) : srv(s) {}

  http::response<http::string_body> handle(const http::request<http::string_body>& req);
  void accept();
};

namespace {

http::response<http::string_body> make(http::status st, unsigned version, bool keep_alive, std::string body,
                                       std::string_view type = "application/json") {
  http::response<http::string_body> r{st, version};
  r.set(http::field::server, "tickrt");
  r.set(http::field::content_type, beast::string_view(type.data(), type.size()));
  r.keep_alive(keep_alive);
  r.body() = std::move(body);
  r.prepare_payload();
  return r;
}

std::string json_escape(std::string_view s) {
  std::string o;
  for (char c : s) {
    if (c == '"' || c == '\\') {
      o.push_back('\\');
      o.push_back(c);
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char b[8];
      std::snprintf(b, sizeof b, "\\u%04x", c);
      o += b;
    } else {
      o.push_back(c);
    }
  }
  return o;
}

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket s, MetricsServer::Impl& impl, std::size_t max_body, int timeout_ms)
      : stream_(std::move(s)), impl_(impl), max_body_(max_body), timeout_(timeout_ms) {}
  void run() { read(); }

 private:
  void read() {
    parser_.emplace();
    parser_->body_limit(max_body_);
    stream_.expires_after(timeout_);
    http::async_read(stream_, buf_, *parser_,
                     [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_read(ec); });
  }
  void on_read(beast::error_code ec) {
    if (ec == http::error::end_of_stream || ec == beast::error::timeout) return close();
    if (ec == http::error::body_limit) {
      res_ = make(http::status::payload_too_large, 11, false, R"({"error":"body too large"})");
      return write();
    }
    if (ec) {
      if (ec == asio::error::operation_aborted || ec == asio::error::eof || ec == asio::error::connection_reset) return close();
      res_ = make(http::status::bad_request, 11, false, "{\"error\":\"" + json_escape(ec.message()) + "\"}");
      return write();
    }
    res_ = impl_.handle(parser_->get());
    write();
  }
  void write() {
    stream_.expires_after(timeout_);
    http::async_write(stream_, res_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec || !self->res_.keep_alive()) return self->close();
      self->read();
    });
  }
  void close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    stream_.socket().close(ec);
  }

  beast::tcp_stream stream_;
  MetricsServer::Impl& impl_;
  beast::flat_buffer buf_;
  std::optional<http::request_parser<http::string_body>> parser_;
  http::response<http::string_body> res_;
  std::size_t max_body_;
  std::chrono::milliseconds timeout_;
};

}  // namespace

http::response<http::string_body> MetricsServer::Impl::handle(const http::request<http::string_body>& req) {
  srv.requests_.fetch_add(1, std::memory_order_relaxed);
  const unsigned v = req.version();
  const bool ka = req.keep_alive();
  std::string_view target(req.target().data(), req.target().size());
  if (const auto q = target.find('?'); q != std::string_view::npos) target = target.substr(0, q);

  auto method_not_allowed = [&](std::string_view allow) {
    auto r = make(http::status::method_not_allowed, v, ka, R"({"error":"method not allowed"})");
    r.set(http::field::allow, beast::string_view(allow.data(), allow.size()));
    return r;
  };

  if (target == "/metrics") {
    if (req.method() != http::verb::get) return method_not_allowed("GET");
    return make(http::status::ok, v, ka, srv.registry_.render(), Registry::kContentType);
  }
  if (target == "/health") {
    if (req.method() != http::verb::get) return method_not_allowed("GET");
    HealthFn fn;
    {
      std::lock_guard<std::mutex> lock(srv.mu_);
      fn = srv.health_;
    }
    HealthReport h = fn ? fn() : HealthReport{};
    std::string body = h.json.empty() ? std::string("{\"status\":\"") + (h.healthy ? "ok" : "unhealthy") + "\"}" : h.json;
    return make(h.healthy ? http::status::ok : http::status::service_unavailable, v, ka, std::move(body));
  }
  constexpr std::string_view kControl = "/control/";
  if (target.substr(0, kControl.size()) == kControl) {
    const std::string_view action = target.substr(kControl.size());
    if (req.method() != http::verb::post) return method_not_allowed("POST");
    if (srv.cfg_.bearer_token.empty()) {
      return make(http::status::forbidden, v, ka, R"({"error":"control endpoints disabled: no bearer token configured"})");
    }
    const auto auth = req[http::field::authorization];
    constexpr std::string_view kBearer = "Bearer ";
    const std::string_view a(auth.data(), auth.size());
    if (a.size() <= kBearer.size() || a.substr(0, kBearer.size()) != kBearer ||
        !token_equal(a.substr(kBearer.size()), srv.cfg_.bearer_token)) {
      auto r = make(http::status::unauthorized, v, ka, R"({"error":"bearer token required"})");
      r.set(http::field::www_authenticate, "Bearer realm=\"tickrt\"");
      return r;
    }
    ControlFn fn;
    {
      std::lock_guard<std::mutex> lock(srv.mu_);
      if (auto it = srv.control_.find(action); it != srv.control_.end()) fn = it->second;
    }
    if (!fn) return make(http::status::not_found, v, ka, "{\"error\":\"no control action '" + json_escape(action) + "'\"}");
    ControlResult cr = fn(req.body());
    const auto st = static_cast<http::status>(cr.status);
    if (http::to_status_class(st) == http::status_class::unknown) {
      return make(http::status::internal_server_error, v, ka, R"({"error":"control callback returned an invalid status"})");
    }
    return make(st, v, ka, cr.body.empty() ? std::string("{}") : std::move(cr.body));
  }
  return make(http::status::not_found, v, ka, R"({"error":"not found"})");
}

void MetricsServer::Impl::accept() {
  acceptor.async_accept([this](beast::error_code ec, tcp::socket s) {
    if (ec == asio::error::operation_aborted || !acceptor.is_open()) return;
    if (!ec) std::make_shared<Session>(std::move(s), *this, srv.cfg_.max_body, srv.cfg_.io_timeout_ms)->run();
    accept();
  });
}

MetricsServer::MetricsServer(Registry& registry, ServerConfig config)
    : registry_(registry), cfg_(std::move(config)), impl_(std::make_unique<Impl>(*this)) {}

MetricsServer::~MetricsServer() { stop(); }

void MetricsServer::set_health(HealthFn fn) {
  std::lock_guard<std::mutex> lock(mu_);
  health_ = std::move(fn);
}

void MetricsServer::set_control(std::string action, ControlFn fn) {
  std::lock_guard<std::mutex> lock(mu_);
  control_[std::move(action)] = std::move(fn);
}

Status MetricsServer::start() {
  if (thread_.joinable()) return {Code::invalid_argument, "metrics server: already started"};
  const std::string where = cfg_.address + ":" + std::to_string(cfg_.port);
  beast::error_code ec;
  const auto addr = asio::ip::make_address(cfg_.address, ec);
  if (ec) return {Code::invalid_argument, "metrics server: bad listen address '" + cfg_.address + "': " + ec.message()};
  const tcp::endpoint ep(addr, cfg_.port);
  auto& acc = impl_->acceptor;
  acc.open(ep.protocol(), ec);
  if (!ec) acc.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acc.bind(ep, ec);
  if (!ec) acc.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    acc.close(ec);
    return {Code::io_error, "metrics server: cannot listen on " + where + ": " + ec.message()};
  }
  port_.store(acc.local_endpoint().port());
  impl_->accept();
  thread_ = std::thread([this] { impl_->ioc.run(); });
  return Status::Ok();
}

void MetricsServer::stop() noexcept {
  if (!thread_.joinable()) return;
  asio::post(impl_->ioc, [this] {
    beast::error_code ec;
    impl_->acceptor.close(ec);
    impl_->ioc.stop();
  });
  thread_.join();
}

}  // namespace tickrt::metrics
