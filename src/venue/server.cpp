// venue/server.cpp — sockets and sessions of VenueServer (Boost.Beast on one IO thread).
// Routing: an HTTP request is REST (api.cpp) unless it is a WebSocket upgrade, which becomes a
// WsSession: /ws-api/v3 (WebSocket API), /stream?streams=a/b (combined), /ws[/a/b] (raw).
#include <pthread.h>
#include <sched.h>

#include <future>
#include <sstream>

#include "venue/impl.hpp"

namespace tickrt::venue {

namespace {
constexpr std::size_t kMaxBody = 64 * 1024;      // Binance bodies are small form strings
constexpr std::size_t kMaxHeader = 16 * 1024;
constexpr auto kIdle = std::chrono::seconds(120);

// Removes the "signature=..." piece from a raw query/body string (what the HMAC covers).
std::string strip_signature(std::string_view raw) {
  std::string out;
  out.reserve(raw.size());
  while (!raw.empty()) {
    const std::size_t amp = raw.find('&');
    const std::string_view piece = raw.substr(0, amp);
    raw = amp == std::string_view::npos ? std::string_view{} : raw.substr(amp + 1);
    if (piece.substr(0, 10) == "signature=" || piece == "signature") continue;
    if (!out.empty()) out.push_back('&');
    out.append(piece);
  }
  return out;
}
}  // namespace

// ---------------------------------------------------------------------------------------------
// HttpSession

HttpSession::HttpSession(VenueServer::Impl& srv, tcp::socket&& socket) : srv_(srv), stream_(std::move(socket)) {
  beast::error_code ec;
  auto ep = stream_.socket().remote_endpoint(ec);
  ip_ = ec ? std::string("?") : ep.address().to_string();
  srv_.http_sessions.insert(this);
}

HttpSession::~HttpSession() { srv_.http_sessions.erase(this); }

void HttpSession::close() {
  beast::error_code ec;
  stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
  stream_.socket().close(ec);
}

void HttpSession::do_read() {
  parser_.emplace();
  parser_->body_limit(kMaxBody);
  parser_->header_limit(kMaxHeader);
  stream_.expires_after(kIdle);
  http::async_read(stream_, buf_, *parser_,
                   [self = shared_from_this()](beast::error_code ec, std::size_t n) { self->on_read(ec, n); });
}

void HttpSession::on_read(beast::error_code ec, std::size_t) {
  if (ec == http::error::end_of_stream || ec == net::error::operation_aborted || ec == beast::error::timeout ||
      ec == net::error::connection_reset || ec == net::error::eof) {
    close();
    return;
  }
  if (ec) {
    // Garbage bytes, oversized headers/body: answer like a web server would, then hang up.
    ApiResponse r;
    r.status = 400;
    r.body = error_body(-1000, std::string("Malformed HTTP request: ") + ec.message() + ".");
    respond(std::move(r), 11, false);
    return;
  }
  http::request<http::string_body> req = parser_->release();
  if (srv_.stopping) { close(); return; }

  if (websocket::is_upgrade(req)) {
    const std::string target(req.target());
    const std::size_t q = target.find('?');
    const std::string path = target.substr(0, q);
    std::string query = q == std::string::npos ? std::string() : target.substr(q + 1);
    WsSession::Kind kind = WsSession::Kind::market;
    bool combined = false;
    std::vector<std::string> names;
    auto split = [&](std::string_view s) {
      while (!s.empty()) {
        const std::size_t sl = s.find('/');
        if (sl != 0) names.emplace_back(s.substr(0, sl));
        if (sl == std::string_view::npos) break;
        s = s.substr(sl + 1);
      }
    };
    if (path == "/ws-api/v3") {
      kind = WsSession::Kind::ws_api;
    } else if (path == "/stream") {
      combined = true;
      Params p;
      if (parse_query(query, p)) {
        if (auto s = p.get("streams")) split(*s);
      }
    } else if (path == "/ws" || path.rfind("/ws/", 0) == 0) {
      if (path.size() > 4) split(std::string_view(path).substr(4));
    } else {
      ApiResponse r;
      r.status = 404;
      r.body = error_body(-1000, "Unknown WebSocket path " + path + ".");
      respond(std::move(r), req.version(), false);
      return;
    }
    auto ws = std::make_shared<WsSession>(srv_, stream_.release_socket(), kind, combined);
    ws->ip = ip_;
    for (const std::string& n : names) {
      std::string key;
      if (n.find('@') == std::string::npos && srv_.listen_key_valid(n)) {
        ws->listen_keys.push_back(n);
      } else if (VenueServer::Impl::stream_key(n, key)) {
        ws->subs.push_back(Subscription{n, key});
      }
      // Unknown stream names are ignored like Binance does (the connection carries nothing).
    }
    ws->run(std::move(req));
    return;
  }

  ApiRequest ar;
  ar.method = std::string(req.method_string());
  const std::string target(req.target());
  const std::size_t q = target.find('?');
  ar.path = target.substr(0, q);
  const std::string_view query = q == std::string::npos ? std::string_view{} : std::string_view(target).substr(q + 1);
  ar.ip = ip_;
  if (auto it = req.find("X-MBX-APIKEY"); it != req.end()) ar.api_key = std::string(it->value());
  ApiResponse r;
  std::string bad;
  bool ok = parse_query(query, ar.params, &bad);
  const bool form = req.body().size() > 0;
  if (ok && form) ok = parse_query(req.body(), ar.params, &bad);
  if (!ok) {
    r.status = 400;
    r.body = error_body(-1100, "Illegal characters found in a parameter: '" + bad + "'.");
  } else {
    ar.signed_payload = strip_signature(query) + strip_signature(req.body());
    r = srv_.handle_rest(ar);
  }
  const bool keep = req.keep_alive();
  if (r.drop) {  // FaultConfig::lose_ack: the answer never comes; the client sees the connection die
    close();
    return;
  }
  if (r.delay_ms > 0) {
    const unsigned v = req.version();
    auto self = shared_from_this();
    srv_.after(r.delay_ms, [self, r = std::move(r), v, keep]() mutable { self->respond(std::move(r), v, keep); });
    return;
  }
  respond(std::move(r), req.version(), keep);
}

void HttpSession::respond(ApiResponse r, unsigned version, bool keep_alive) {
  auto res = std::make_shared<http::response<http::string_body>>(static_cast<http::status>(r.status), version);
  res->set(http::field::server, "tickrt-venue");
  res->set(http::field::content_type, "application/json;charset=UTF-8");
  if (r.used_weight > 0) res->set("X-MBX-USED-WEIGHT-1M", std::to_string(r.used_weight));
  if (r.retry_after_s >= 0) res->set(http::field::retry_after, std::to_string(r.retry_after_s));
  res->keep_alive(keep_alive);
  res->body() = std::move(r.body);
  res->prepare_payload();
  if (r.status >= 400) ++srv_.counters.http_errors;
  write(std::move(res), !keep_alive);
}

void HttpSession::write(std::shared_ptr<http::response<http::string_body>> res, bool close_after) {
  http::async_write(stream_, *res, [self = shared_from_this(), res, close_after](beast::error_code ec, std::size_t) {
    if (ec || close_after) {
      self->close();
      return;
    }
    self->do_read();
  });
}

// ---------------------------------------------------------------------------------------------
// WsSession

WsSession::WsSession(VenueServer::Impl& srv, tcp::socket&& socket, Kind k, bool comb)
    : kind(k), combined(comb), srv_(srv), ws_(std::move(socket)) {
  srv_.ws_sessions.insert(this);
  ++srv_.counters.ws_sessions;
}

WsSession::~WsSession() { srv_.ws_sessions.erase(this); }

void WsSession::run(http::request<http::string_body> req) {
  beast::get_lowest_layer(ws_).expires_never();
  ws_.set_option(websocket::stream_base::timeout::suggested(beast::role_type::server));
  ws_.set_option(websocket::stream_base::decorator(
      [](websocket::response_type& res) { res.set(http::field::server, "tickrt-venue"); }));
  ws_.read_message_max(1 << 20);
  ws_.async_accept(req, [self = shared_from_this()](beast::error_code ec) {
    if (ec) {
      self->closing_ = true;
      return;
    }
    self->accepted_ = true;
    if (!self->queue_.empty() && !self->writing_ && !self->closing_) self->do_write();
    self->do_read();
  });
}

void WsSession::do_read() {
  ws_.async_read(buf_, [self = shared_from_this()](beast::error_code ec, std::size_t n) { self->on_read(ec, n); });
}

void WsSession::on_read(beast::error_code ec, std::size_t) {
  if (ec) {
    closing_ = true;
    return;
  }
  const std::string text = beast::buffers_to_string(buf_.data());
  buf_.consume(buf_.size());
  if (!srv_.stopping) {
    if (kind == Kind::ws_api) {
      srv_.handle_ws_api(*this, text);
    } else {
      srv_.handle_ws_method(*this, text);
    }
  }
  if (!closing_) do_read();
}

void WsSession::send(std::shared_ptr<const std::string> msg) {
  if (closing_) return;
  if (queue_.size() >= srv_.cfg.ws_queue_limit) {
    // Binance disconnects consumers that cannot keep up; so do we (bounded memory).
    ++srv_.counters.slow_clients_dropped;
    close();
    return;
  }
  queue_.push_back(std::move(msg));
  if (!writing_ && accepted_) do_write();
}

void WsSession::do_write() {
  writing_ = true;
  ws_.text(true);
  ws_.async_write(net::buffer(*queue_.front()), [self = shared_from_this()](beast::error_code ec, std::size_t) {
    if (!self->queue_.empty()) self->queue_.pop_front();
    if (ec) {
      self->closing_ = true;
      self->writing_ = false;
      self->queue_.clear();
      return;
    }
    if (!self->queue_.empty() && !self->closing_) {
      self->do_write();
    } else {
      self->writing_ = false;
    }
  });
}

void WsSession::close() {
  if (closing_) return;
  closing_ = true;
  // The frame being written (front) stays until its handler pops it.
  if (writing_) {
    queue_.erase(queue_.begin() + 1, queue_.end());
  } else {
    queue_.clear();
  }
  beast::error_code ec;
  auto& sock = beast::get_lowest_layer(ws_).socket();
  sock.shutdown(tcp::socket::shutdown_both, ec);
  sock.close(ec);
}

// ---------------------------------------------------------------------------------------------
// Impl: accept loop, timers

VenueServer::Impl::Impl(VenueConfig c, sim::MatchingEngine& e) : cfg(std::move(c)), engine(e) {}

VenueServer::Impl::~Impl() = default;

std::int64_t VenueServer::Impl::now_ns() const {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
             .count() +
         cfg.server_time_offset_ms * 1'000'000;
}

void VenueServer::Impl::do_accept() {
  acceptor.async_accept([this](beast::error_code ec, tcp::socket socket) {
    if (ec) {
      if (ec == net::error::operation_aborted || stopping) return;
      do_accept();
      return;
    }
    if (in_disconnect || stopping) {
      beast::error_code ig;
      socket.close(ig);  // simulated outage: connections are refused
    } else {
      socket.set_option(tcp::no_delay(true));
      std::make_shared<HttpSession>(*this, std::move(socket))->run();
    }
    do_accept();
  });
}

void VenueServer::Impl::after(std::int64_t delay_ms, std::function<void()> fn) {
  auto t = std::make_shared<net::steady_timer>(ioc, std::chrono::milliseconds(delay_ms));
  t->async_wait([t, fn = std::move(fn), this](beast::error_code ec) {
    if (!ec && !stopping) fn();
  });
}

void VenueServer::Impl::tick_faults() {
  const bool d = engine.disconnected(now_ns() - start_ns);
  if (d && !in_disconnect) {
    std::vector<WsSession*> ws(ws_sessions.begin(), ws_sessions.end());
    for (WsSession* s : ws) s->close();
    std::vector<HttpSession*> hs(http_sessions.begin(), http_sessions.end());
    for (HttpSession* s : hs) s->close();
    counters.disconnects_fault += ws.size() + hs.size();
  }
  in_disconnect = d;
  // Listen keys expire 60 minutes after their last keepalive (Binance rule).
  const std::int64_t now = now_ms();
  for (auto it = listen_keys.begin(); it != listen_keys.end();) {
    if (it->second.expires_ms < now) {
      it = listen_keys.erase(it);
    } else {
      ++it;
    }
  }
  fault_timer.expires_after(std::chrono::milliseconds(20));
  fault_timer.async_wait([this](beast::error_code ec) {
    if (!ec && !stopping) tick_faults();
  });
}

// ---------------------------------------------------------------------------------------------
// VenueServer

VenueServer::VenueServer(VenueConfig cfg, sim::MatchingEngine& engine)
    : impl_(std::make_unique<Impl>(std::move(cfg), engine)) {}

VenueServer::~VenueServer() { stop(); }

Status VenueServer::start() {
  Impl& s = *impl_;
  if (s.started) return Status(Code::invalid_argument, "venue: start() called twice");
  if (!s.engine.status().ok()) return s.engine.status().with_context("venue: matching engine");
  TICKRT_RETURN_IF_ERROR(s.open_replay());
  beast::error_code ec;
  const auto addr = net::ip::make_address(s.cfg.bind_address, ec);
  if (ec) return Status(Code::invalid_argument, "venue: bind_address '" + s.cfg.bind_address + "': " + ec.message());
  const tcp::endpoint ep(addr, s.cfg.port);
  s.acceptor.open(ep.protocol(), ec);
  if (!ec) s.acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) s.acceptor.bind(ep, ec);
  if (!ec) s.acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    return Status(Code::io_error, "venue: cannot listen on " + s.cfg.bind_address + ":" + std::to_string(s.cfg.port) +
                                      ": " + ec.message());
  }
  s.bound_port = s.acceptor.local_endpoint().port();
  s.start_ns = s.now_ns();
  s.engine.set_sink(&s);
  s.do_accept();
  s.tick_faults();
  if (s.md_open) net::post(s.ioc, [&s] { s.replay_step(); });
  s.started = true;
  if (s.cfg.busy_poll_cpu < 0) {
    s.thread = std::thread([&s] { s.ioc.run(); });
  } else {
    s.thread = std::thread([&s] {
      cpu_set_t set;
      CPU_ZERO(&set);
      CPU_SET(s.cfg.busy_poll_cpu, &set);
      (void)pthread_setaffinity_np(pthread_self(), sizeof(set), &set);  // best effort: a missing CPU still spins
      while (!s.ioc.stopped()) {
        if (s.ioc.poll() == 0) {
#if defined(__x86_64__)
          __builtin_ia32_pause();
#endif
        }
      }
    });
  }
  return Status::Ok();
}

void VenueServer::stop() {
  Impl& s = *impl_;
  if (!s.started || !s.thread.joinable()) return;
  std::promise<void> done;
  net::post(s.ioc, [&s, &done] {
    s.stopping = true;
    beast::error_code ec;
    s.acceptor.close(ec);
    s.md_timer.cancel();
    s.fault_timer.cancel();
    std::vector<WsSession*> ws(s.ws_sessions.begin(), s.ws_sessions.end());
    for (WsSession* w : ws) w->close();
    std::vector<HttpSession*> hs(s.http_sessions.begin(), s.http_sessions.end());
    for (HttpSession* h : hs) h->close();
    done.set_value();
  });
  done.get_future().wait();
  s.ioc.stop();
  s.thread.join();
  s.engine.set_sink(nullptr);
}

std::uint16_t VenueServer::port() const noexcept { return impl_->bound_port; }
const VenueConfig& VenueServer::config() const noexcept { return impl_->cfg; }

void VenueServer::run_sync(const std::function<void()>& fn) {
  Impl& s = *impl_;
  if (!s.started || !s.thread.joinable() || s.ioc.stopped()) return;
  std::promise<void> done;
  net::post(s.ioc, [&] {
    fn();
    done.set_value();
  });
  done.get_future().wait();
}

VenueCounters VenueServer::counters() {
  VenueCounters c = impl_->counters;
  run_sync([&] { c = impl_->counters; });
  return c;
}

std::string VenueServer::summary() {
  std::ostringstream o;
  run_sync([&] {
    const VenueCounters& c = impl_->counters;
    const sim::EngineCounters& e = impl_->engine.counters();
    o << "venue: http_requests=" << c.http_requests << " http_errors=" << c.http_errors
      << " ws_sessions=" << c.ws_sessions << " ws_api_requests=" << c.ws_api_requests
      << " throttled=" << c.throttled << "\n"
      << "market data: captures read at once=" << c.md_lanes << " lines=" << c.md_lines << " bad_lines=" << c.md_bad_lines
      << " messages_sent=" << c.md_messages_sent << " dropped(fault)=" << c.md_dropped_fault
      << " gaps(fault)=" << c.md_gaps_fault << " slow_clients_dropped=" << c.slow_clients_dropped
      << " replay_done=" << (c.replay_done ? "yes" : "no") << "\n"
      << "orders: requests=" << c.orders << " accepted=" << e.orders_accepted << " rejected=" << e.orders_rejected
      << " cancels=" << e.cancels << " fills=" << e.fills << " trades=" << e.trades
      << " exec_reports_sent=" << c.exec_reports_sent << " disconnects(fault)=" << c.disconnects_fault << "\n";
  });
  return o.str();
}

}  // namespace tickrt::venue
