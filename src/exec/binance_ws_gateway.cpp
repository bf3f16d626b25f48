// exec/binance_ws_gateway.cpp — see binance_ws_gateway.hpp.
#include "exec/binance_ws_gateway.hpp"

#include <simdjson.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>

#include <pthread.h>
#include <sched.h>

#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <unordered_map>

#include "core/clock.hpp"
#include "exec/binance_wire.hpp"

namespace tickrt::exec {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

namespace {

// JSON string body (ids, symbols, decimals: no characters beyond printable ASCII are produced by
// the OMS, but quotes/backslashes/control bytes are escaped so a bad id cannot break the frame).
void append_json_str(std::string& out, std::string_view v) {
  out.push_back('"');
  for (char c : v) {
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (static_cast<unsigned char>(c) < 0x20) {
      static const char* hex = "0123456789abcdef";
      out += "\\u00";
      out.push_back(hex[(c >> 4) & 15]);
      out.push_back(hex[c & 15]);
    } else {
      out.push_back(c);
    }
  }
  out.push_back('"');
}

// One WebSocket client connection (plain or TLS), text frames, writes queued one at a time.
class WsConn {
 public:
  using OnMsg = std::function<void(std::string_view, std::int64_t recv_ns)>;
  using OnUp = std::function<void()>;
  using OnDown = std::function<void()>;
  using OnSent = std::function<void(std::int64_t sent_ns)>;

  WsConn(asio::io_context& io, ssl::context* ctx, bool tls, int timeout_ms)
      : io_(io), ctx_(ctx), tls_(tls), timeout_(std::chrono::milliseconds(timeout_ms)), resolver_(io) {}
  WsConn(const WsConn&) = delete;
  WsConn& operator=(const WsConn&) = delete;

  bool up() const { return up_; }
  bool connecting() const { return connecting_; }

  void open(const std::string& host, const std::string& port, std::string target, OnMsg m, OnUp u, OnDown d) {
    close();
    ++gen_;
    connecting_ = true;
    on_msg_ = std::move(m);
    on_up_ = std::move(u);
    on_down_ = std::move(d);
    host_ = host;
    target_ = std::move(target);
    plain_.reset();
    tls_ws_.reset();
    writes_.clear();
    writing_ = false;
    if (tls_) {
      tls_ws_ = std::make_unique<websocket::stream<beast::ssl_stream<beast::tcp_stream>>>(io_, *ctx_);
      SSL_set_tlsext_host_name(tls_ws_->next_layer().native_handle(), host_.c_str());
      tls_ws_->next_layer().set_verify_callback(ssl::host_name_verification(host_));
    } else {
      plain_ = std::make_unique<websocket::stream<beast::tcp_stream>>(io_);
    }
    const std::uint64_t g = gen_;
    resolver_.async_resolve(host_, port, [this, g](beast::error_code ec, tcp::resolver::results_type r) {
      if (g != gen_) return;
      if (ec) return failed(g);
      lowest().expires_after(timeout_);
      lowest().async_connect(r, [this, g](beast::error_code ec2, const tcp::endpoint&) {
        if (g != gen_) return;
        if (ec2) return failed(g);
        lowest().socket().set_option(tcp::no_delay(true), ec2);
        auto after_tls = [this, g] {
          lowest().expires_never();
          auto done = [this, g](beast::error_code ec4) {
            if (g != gen_) return;
            if (ec4) return failed(g);
            up_ = true;
            connecting_ = false;
            read(g);
            if (on_up_) on_up_();
          };
          if (tls_) {
            tls_ws_->set_option(websocket::stream_base::timeout::suggested(beast::role_type::client));
            tls_ws_->async_handshake(host_, target_, done);
          } else {
            plain_->set_option(websocket::stream_base::timeout::suggested(beast::role_type::client));
            plain_->async_handshake(host_, target_, done);
          }
        };
        if (!tls_) return after_tls();
        lowest().expires_after(timeout_);
        tls_ws_->next_layer().async_handshake(ssl::stream_base::client, [this, g, after_tls](beast::error_code ec3) {
          if (g != gen_) return;
          if (ec3) return failed(g);
          after_tls();
        });
      });
    });
  }

  // Queues a text frame; `sent` runs when its write completed (not on failure: on_down does).
  void send(std::string frame, OnSent sent) {
    writes_.emplace_back(std::move(frame), std::move(sent));
    if (!writing_ && up_) write_next(gen_);
  }

  void close() {
    beast::error_code ec;
    if (plain_) beast::get_lowest_layer(*plain_).socket().close(ec);
    if (tls_ws_) beast::get_lowest_layer(*tls_ws_).socket().close(ec);
    up_ = false;
    connecting_ = false;
    ++gen_;  // callbacks of the closed socket are ignored
  }

 private:
  beast::tcp_stream& lowest() { return tls_ ? beast::get_lowest_layer(*tls_ws_) : beast::get_lowest_layer(*plain_); }

  void failed(std::uint64_t g) {
    if (g != gen_) return;
    close();
    writes_.clear();
    writing_ = false;
    if (on_down_) on_down_();
  }

  void read(std::uint64_t g) {
    auto on_read = [this, g](beast::error_code ec, std::size_t) {
      if (g != gen_) return;
      if (ec) return failed(g);
      const std::int64_t t = now_ns();
      const auto d = buf_.data();
      if (on_msg_) on_msg_(std::string_view(static_cast<const char*>(d.data()), d.size()), t);
      if (g != gen_) return;  // the handler closed/reopened
      buf_.consume(buf_.size());
      read(g);
    };
    if (tls_) tls_ws_->async_read(buf_, on_read);
    else plain_->async_read(buf_, on_read);
  }

  void write_next(std::uint64_t g) {
    if (writes_.empty()) {
      writing_ = false;
      return;
    }
    writing_ = true;
    auto on_write = [this, g](beast::error_code ec, std::size_t) {
      if (g != gen_) return;
      if (ec) return failed(g);
      const std::int64_t t = now_ns();
      OnSent s = std::move(writes_.front().second);
      writes_.pop_front();
      if (s) s(t);
      if (g != gen_) return;
      write_next(g);
    };
    const std::string& f = writes_.front().first;
    if (tls_) {
      tls_ws_->text(true);
      tls_ws_->async_write(asio::buffer(f), on_write);
    } else {
      plain_->text(true);
      plain_->async_write(asio::buffer(f), on_write);
    }
  }

  asio::io_context& io_;
  ssl::context* ctx_;
  bool tls_;
  std::chrono::milliseconds timeout_;
  tcp::resolver resolver_;
  std::unique_ptr<websocket::stream<beast::tcp_stream>> plain_;
  std::unique_ptr<websocket::stream<beast::ssl_stream<beast::tcp_stream>>> tls_ws_;
  beast::flat_buffer buf_;
  std::string host_, target_;
  OnMsg on_msg_;
  OnUp on_up_;
  OnDown on_down_;
  std::deque<std::pair<std::string, OnSent>> writes_;
  bool writing_ = false, up_ = false, connecting_ = false;
  std::uint64_t gen_ = 0;
};

}  // namespace

// ============================================================================================
struct BinanceWsGateway::Impl {
  using Kind = binance_wire::Request;
  struct Work {
    Kind kind = Kind::new_order;
    GatewayRequest req;
    ExecReport carry;  // query_trades: the status answer pushed after the trades
    bool resynced = false;
    std::int64_t sent_ns = 0;
    std::int64_t deadline_ns = 0;
    SendTrace trace;   // new_order / cancel from the ring (gateway.hpp)
  };
  struct Tracked {
    SymbolName symbol;
  };

  Impl(BinanceWsConfig c, BinanceGateway& r)
      : cfg(std::move(c)), rest(r), signer(std::make_unique<BinanceSigner>(cfg.base.secret)) {}

  BinanceWsConfig cfg;
  BinanceGateway& rest;
  asio::io_context io;
  std::unique_ptr<ssl::context> ssl_ctx;
  std::unique_ptr<WsConn> api;   // created in start() with the TLS context
  std::unique_ptr<WsConn> user;
  GatewayRings rings;
  std::thread thread;
  std::atomic<bool> stopping{false};
  bool started = false;
  simdjson::dom::parser parser;

  std::uint64_t next_id = 1;
  std::unordered_map<std::uint64_t, Work> inflight;   // by request id
  std::deque<Work> waiting;                           // to send once the WS API is up / unpaused
  std::unordered_map<std::string, Tracked> live;      // sent, not yet terminal: requeried on stream loss
  binance_wire::ReportOutbox reports;  // into the inbound ring, in order, never dropped
  std::string listen_key;
  bool listen_key_pending = false, user_ever_up = false;
  std::int64_t api_retry_at_ns = 0, user_retry_at_ns = 0, pause_until_ns = 0, next_keepalive_ns = 0;
  int api_backoff_ms = 0, user_backoff_ms = 0, throttle_backoff_ms = 0;
  std::vector<ExecReport> scratch;
  std::unique_ptr<BinanceSigner> signer;   // IO thread: the key's pad states hashed once
  SendTrace* cur_trace = nullptr;          // the trace of the frame being built (sign stamps)
  SendTraceLog traces;
  bool slept = false;

  std::atomic<std::uint64_t> s_sent{0}, s_reconnects{0}, s_throttled{0},
      s_resyncs{0}, s_unknown{0}, s_parse{0};
  std::atomic<bool> s_connected{false};

  const std::string& api_host() const { return cfg.ws_api_host.empty() ? cfg.base.host : cfg.ws_api_host; }
  const std::string& api_port() const { return cfg.ws_api_port.empty() ? cfg.base.port : cfg.ws_api_port; }
  const std::string& user_host() const { return cfg.base.ws_host.empty() ? cfg.base.host : cfg.base.ws_host; }
  const std::string& user_port() const { return cfg.base.ws_port.empty() ? cfg.base.port : cfg.base.ws_port; }

  static int backoff(int cur, int cap) { return std::min(cap, cur == 0 ? 50 : cur * 2); }

  // ---- frames ---------------------------------------------------------------------------------
  // Params sorted by name (std::map): the signature payload is exactly Binance's WS API rule.
  std::string frame(std::uint64_t id, std::string_view method, std::map<std::string, std::string> p, bool signed_req) {
    p["apiKey"] = cfg.base.api_key;
    if (signed_req) {
      p["recvWindow"] = std::to_string(cfg.base.recv_window_ms);
      p["timestamp"] = std::to_string(wall_ns() / 1'000'000 + rest.clock_offset_ms());
      std::string payload;
      for (const auto& [k, v] : p) {
        if (!payload.empty()) payload.push_back('&');
        payload += k;
        payload.push_back('=');
        payload += v;
      }
      std::string sig;
      if (cur_trace) cur_trace->sign_ns = now_ns();
      signer->append_hex(payload, sig);
      if (cur_trace) cur_trace->signed_ns = now_ns();
      p["signature"] = std::move(sig);
    }
    std::string f = "{\"id\":" + std::to_string(id) + ",\"method\":";
    append_json_str(f, method);
    f += ",\"params\":{";
    bool first = true;
    for (const auto& [k, v] : p) {
      if (!first) f.push_back(',');
      first = false;
      append_json_str(f, k);
      f.push_back(':');
      append_json_str(f, v);
    }
    f += "}}";
    return f;
  }

  std::string build(std::uint64_t id, const Work& w) {
    const GatewayRequest& g = w.req;
    std::map<std::string, std::string> p;
    switch (w.kind) {
      case Kind::new_order: {
        const OrderRequest& o = g.order;
        p["symbol"] = std::string(o.symbol.view());
        p["side"] = std::string(side_name(o.side));
        p["type"] = std::string(order_type_name(o.type));
        if (o.type == OrderType::limit) p["timeInForce"] = std::string(tif_name(o.tif));
        p["quantity"] = o.qty.to_string();
        if (o.type != OrderType::market) p["price"] = o.price.to_string();
        p["newClientOrderId"] = std::string(o.client_order_id.view());
        p["newOrderRespType"] = "FULL";
        p["selfTradePreventionMode"] = std::string(binance_wire::stp_name(o.stp));
        return frame(id, "order.place", std::move(p), true);
      }
      case Kind::cancel:
        p["symbol"] = std::string(g.cancel.symbol.view());
        p["origClientOrderId"] = std::string(g.cancel.orig_client_order_id.view());
        if (!g.cancel.client_order_id.empty()) p["newClientOrderId"] = std::string(g.cancel.client_order_id.view());
        return frame(id, "order.cancel", std::move(p), true);
      case Kind::query_status:
        p["symbol"] = std::string(g.cancel.symbol.view());
        if (!g.cancel.orig_client_order_id.empty()) p["origClientOrderId"] = std::string(g.cancel.orig_client_order_id.view());
        else p["orderId"] = std::to_string(g.cancel.exchange_order_id);
        return frame(id, "order.status", std::move(p), true);
      case Kind::query_trades:
        p["symbol"] = std::string(g.cancel.symbol.view());
        p["orderId"] = std::to_string(w.carry.exchange_order_id);
        return frame(id, "myTrades", std::move(p), true);
      case Kind::listen_key: return frame(id, "userDataStream.start", std::move(p), false);
      case Kind::keepalive:
        p["listenKey"] = listen_key;
        return frame(id, "userDataStream.ping", std::move(p), false);
    }
    return {};
  }

  void send(Work w) {
    const std::uint64_t id = next_id++;
    const bool traced = w.trace.pop_ns != 0;
    if (traced) {
      w.trace.start_ns = now_ns();
      cur_trace = &w.trace;
    }
    std::string f = build(id, w);
    cur_trace = nullptr;
    if (traced) w.trace.encoded_ns = now_ns();
    w.sent_ns = 0;
    w.deadline_ns = now_ns() + static_cast<std::int64_t>(cfg.base.request_timeout_ms) * 1'000'000;
    if (w.kind == Kind::new_order) live[std::string(w.req.order.client_order_id.view())] = Tracked{w.req.order.symbol};
    inflight.emplace(id, std::move(w));
    s_sent.fetch_add(1, std::memory_order_relaxed);
    api->send(std::move(f), [this, id](std::int64_t t) {
      auto it = inflight.find(id);
      if (it != inflight.end()) {
        it->second.sent_ns = t;
        if (it->second.trace.pop_ns != 0) {
          it->second.trace.sent_ns = t;
          it->second.trace.write_async = true;  // beast's WebSocket write always completes through asio
          traces.add(it->second.trace);
        }
      }
    });
  }

  // ---- reports to the OMS ---------------------------------------------------------------------
  void push(const ExecReport& r) {
    if (is_terminal(r.status))
      live.erase(std::string((r.orig_client_order_id.empty() ? r.client_order_id : r.orig_client_order_id).view()));
    reports.push(*rings.inbound, r);
  }
  void push_unknown(const Work& w) {
    s_unknown.fetch_add(1, std::memory_order_relaxed);
    push(binance_wire::unknown_report(w.req, w.kind == Kind::new_order, now_ns()));
  }

  // A request whose answer will not come (drop, timeout): new/cancel -> unknown; queries are
  // sent again (dropping one would leave its order unknown for good); stream bookkeeping retried.
  void lost(Work w) {
    switch (w.kind) {
      case Kind::new_order:
      case Kind::cancel: push_unknown(w); return;
      case Kind::query_status:
      case Kind::query_trades: waiting.push_back(std::move(w)); return;
      case Kind::listen_key:
        listen_key_pending = false;
        user_backoff_ms = backoff(user_backoff_ms, cfg.base.max_backoff_ms);
        user_retry_at_ns = now_ns() + static_cast<std::int64_t>(user_backoff_ms) * 1'000'000;
        return;
      case Kind::keepalive: return;
    }
  }

  // ---- WS API answers -------------------------------------------------------------------------
  void on_api_msg(std::string_view text, std::int64_t recv_ns) {
    simdjson::dom::object o;
    if (parser.parse(text.data(), text.size()).get_object().get(o) != simdjson::SUCCESS) {
      s_parse.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    std::uint64_t id = 0;
    std::int64_t status = 0;
    if (o["id"].get_uint64().get(id) != simdjson::SUCCESS || o["status"].get_int64().get(status) != simdjson::SUCCESS) {
      s_parse.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    auto it = inflight.find(id);
    if (it == inflight.end()) return;  // late answer of a request already reported lost
    Work w = std::move(it->second);
    inflight.erase(it);
    const std::int64_t sent_ns = w.sent_ns;
    if (status != 200) {
      simdjson::dom::object e;
      std::int64_t code = 0;
      if (o["error"].get_object().get(e) == simdjson::SUCCESS && e["code"].get_int64().get(code) != simdjson::SUCCESS) code = 0;
      if (status == 429 || status == 418 || code == -1003 || code == -1015) {
        s_throttled.fetch_add(1, std::memory_order_relaxed);
        throttle_backoff_ms = std::min(cfg.base.max_retry_after_ms, throttle_backoff_ms == 0 ? 100 : throttle_backoff_ms * 2);
        pause_until_ns = now_ns() + static_cast<std::int64_t>(throttle_backoff_ms) * 1'000'000;
        waiting.push_front(std::move(w));  // not processed: send again after the pause
        return;
      }
      throttle_backoff_ms = 0;
      if (code == -1021 && !w.resynced) {
        s_resyncs.fetch_add(1, std::memory_order_relaxed);
        (void)rest.sync_time();
        w.resynced = true;
        waiting.push_front(std::move(w));
        return;
      }
      on_error(w, static_cast<int>(status), static_cast<int>(code), sent_ns, recv_ns);
      return;
    }
    throttle_backoff_ms = 0;
    simdjson::dom::element res;
    std::string_view raw;
    if (o["result"].get(res) != simdjson::SUCCESS) {
      s_parse.fetch_add(1, std::memory_order_relaxed);
      return lost(std::move(w));
    }
    const std::string result = simdjson::minify(res);  // re-parsed by the shared mapping
    raw = result;
    switch (w.kind) {
      case Kind::new_order: {
        scratch.clear();
        if (!binance_wire::place_reports(w.req, raw, sent_ns, recv_ns, scratch)) return lost(std::move(w));
        for (const ExecReport& r : scratch) push(r);
        return;
      }
      case Kind::cancel: {
        ExecReport r;
        if (!binance_wire::order_report(raw, r)) return lost(std::move(w));
        binance_wire::cancel_report(w.req, sent_ns, recv_ns, r);
        push(r);
        return;
      }
      case Kind::query_status: {
        ExecReport r;
        if (!binance_wire::order_report(raw, r)) return lost(std::move(w));
        r.exec_type = ExecType::status;
        r.request_sent_ns = sent_ns;
        r.local_ns = recv_ns;
        if (r.cum_qty.raw > 0) {
          Work t;
          t.kind = Kind::query_trades;
          t.req = w.req;
          t.carry = r;
          waiting.push_front(std::move(t));
        } else {
          push(r);
        }
        return;
      }
      case Kind::query_trades: {
        scratch.clear();
        (void)binance_wire::trade_reports(raw, w.carry, recv_ns, scratch);
        for (const ExecReport& r : scratch) push(r);
        push(w.carry);
        return;
      }
      case Kind::listen_key: {
        listen_key_pending = false;
        simdjson::dom::object lk;
        std::string_view key;
        if (res.get_object().get(lk) == simdjson::SUCCESS && lk["listenKey"].get_string().get(key) == simdjson::SUCCESS)
          listen_key = std::string(key);
        if (listen_key.empty()) return lost(std::move(w));
        user_connect();
        return;
      }
      case Kind::keepalive: return;
    }
  }

  void on_error(const Work& w, int http, int code, std::int64_t sent_ns, std::int64_t recv_ns) {
    ExecReport r;
    switch (binance_wire::error_report(w.kind, w.req, http, code, sent_ns, recv_ns, r)) {
      case binance_wire::ErrorAnswer::report: push(r); return;
      case binance_wire::ErrorAnswer::unknown: push_unknown(w); return;
      case binance_wire::ErrorAnswer::carry: push(w.carry); return;
      case binance_wire::ErrorAnswer::nothing: break;
    }
    if (w.kind == Kind::listen_key) {
      lost(w);
    } else if (w.kind == Kind::keepalive) {
      listen_key.clear();
      user->close();
      user_down();
    }
  }

  // ---- connections ----------------------------------------------------------------------------
  void api_connect() {
    api->open(api_host(), api_port(), cfg.ws_api_path, [this](std::string_view m, std::int64_t t) { on_api_msg(m, t); },
             [this] {
               api_backoff_ms = 0;
               s_connected.store(true, std::memory_order_relaxed);
             },
             [this] { api_down(); });
  }
  void api_down() {
    s_connected.store(false, std::memory_order_relaxed);
    s_reconnects.fetch_add(1, std::memory_order_relaxed);
    api_backoff_ms = backoff(api_backoff_ms, cfg.base.max_backoff_ms);
    api_retry_at_ns = now_ns() + static_cast<std::int64_t>(api_backoff_ms) * 1'000'000;
    // Every request in flight lost its answer with the socket.
    auto lost_all = std::move(inflight);
    inflight.clear();
    for (auto& [id, w] : lost_all) lost(std::move(w));
  }
  void user_connect() {
    user->open(user_host(), user_port(), cfg.base.ws_path_prefix + listen_key,
              [this](std::string_view m, std::int64_t) {
                ExecReport r;
                std::string err;
                if (parse_execution_report(m, r, &err)) push(r);
                else if (!err.empty()) s_parse.fetch_add(1, std::memory_order_relaxed);
              },
              [this] {
                user_backoff_ms = 0;
                next_keepalive_ns = now_ns() + 30LL * 60 * 1'000'000'000;
                if (user_ever_up) requery_live();  // fills missed while the stream was down
                user_ever_up = true;
              },
              [this] { user_down(); });
  }
  void user_down() {
    listen_key.clear();
    user_backoff_ms = backoff(user_backoff_ms, cfg.base.max_backoff_ms);
    user_retry_at_ns = now_ns() + static_cast<std::int64_t>(user_backoff_ms) * 1'000'000;
  }
  void requery_live() {
    for (const auto& [cid, t] : live) {
      Work w;
      w.kind = Kind::query_status;
      w.req.op = GatewayOp::query;
      w.req.cancel.symbol = t.symbol;
      w.req.cancel.orig_client_order_id = ClientOrderId::from(cid);
      waiting.push_back(std::move(w));
    }
  }

  // ---- IO loop --------------------------------------------------------------------------------
  bool pump() {
    bool did = false;
    const std::int64_t now = now_ns();
    if (!api->up() || now < pause_until_ns) return false;
    while (!waiting.empty()) {
      Work w = std::move(waiting.front());
      waiting.pop_front();
      send(std::move(w));
      did = true;
    }
    GatewayRequest g;
    while (rings.outbound->try_pop(g)) {
      Work w;
      w.req = g;
      w.kind = g.op == GatewayOp::new_order ? Kind::new_order : g.op == GatewayOp::cancel ? Kind::cancel : Kind::query_status;
      if (w.kind != Kind::query_status) {
        w.trace.op = g.op;
        w.trace.enqueue_ns = g.enqueue_ns;
        w.trace.pop_ns = now_ns();
        w.trace.woke_from_sleep = slept;
      }
      send(std::move(w));
      did = true;
      if (now_ns() < pause_until_ns) break;
    }
    return did;
  }

  void expire(std::int64_t now) {
    for (auto it = inflight.begin(); it != inflight.end();) {
      if (now >= it->second.deadline_ns) {
        Work w = std::move(it->second);
        it = inflight.erase(it);
        lost(std::move(w));
      } else {
        ++it;
      }
    }
  }

  void loop() {
    const bool spin_forever = cfg.base.idle.cpu >= 0;  // pinned: never sleep (gateway.hpp IdleWait)
    if (cfg.base.idle.cpu >= 0) {
      cpu_set_t set;
      CPU_ZERO(&set);
      CPU_SET(cfg.base.idle.cpu, &set);
      (void)pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
    }
    std::int64_t idle_since = now_ns();
    std::int64_t next_expire = 0;
    while (!stopping.load(std::memory_order_relaxed)) {
      std::size_t n = io.poll();
      if (io.stopped()) io.restart();
      const std::int64_t now = now_ns();
      if (!api->up() && !api->connecting() && now >= api_retry_at_ns) api_connect();
      if (cfg.base.user_stream && api->up() && !user->up() && !user->connecting() && !listen_key_pending &&
          listen_key.empty() && now >= user_retry_at_ns) {
        listen_key_pending = true;
        Work w;
        w.kind = Kind::listen_key;
        send(std::move(w));
      }
      if (cfg.base.user_stream && user->up() && api->up() && now >= next_keepalive_ns) {
        next_keepalive_ns = now + 30LL * 60 * 1'000'000'000;
        Work w;
        w.kind = Kind::keepalive;
        send(std::move(w));
      }
      if (pump()) n += 1;
      reports.flush(*rings.inbound);
      if (now >= next_expire) {
        expire(now);
        next_expire = now + 1'000'000;  // 1 ms resolution is plenty against a 1 s+ timeout
      }
      if (n > 0) {
        idle_since = now_ns();
        slept = false;
        continue;
      }
      if (spin_forever || now_ns() - idle_since < cfg.base.idle.spin_ns) {
#if defined(__x86_64__)
        __builtin_ia32_pause();
#endif
      } else if (cfg.base.idle.sleep_ns > 0) {
        slept = true;
        std::this_thread::sleep_for(std::chrono::nanoseconds(cfg.base.idle.sleep_ns));
      }
    }
    api->close();
    user->close();
    io.poll();
  }
};

// ============================================================================================
BinanceWsGateway::BinanceWsGateway(BinanceWsConfig cfg)
    : cfg_(std::move(cfg)), rest_([&] {
        BinanceConfig c = cfg_.base;
        c.user_stream = false;
        return c;
      }()) {}

BinanceWsGateway::~BinanceWsGateway() { stop(); }

Status BinanceWsGateway::start(GatewayRings rings) {
  if (impl_ && impl_->started) return Status(Code::invalid_argument, "binance ws gateway: already started");
  if (rings.outbound == nullptr || rings.inbound == nullptr) return Status(Code::invalid_argument, "binance ws gateway: null ring");
  if (cfg_.base.api_key.empty() || cfg_.base.secret.empty())
    return Status(Code::invalid_argument, "binance ws gateway: api_key/secret empty");
  if (Status st = rest_.sync_time(); !st.ok()) return st.with_context("binance ws gateway start");
  impl_ = std::make_unique<Impl>(cfg_, rest_);
  Impl& m = *impl_;
  if (cfg_.base.tls) {
    m.ssl_ctx = std::make_unique<ssl::context>(ssl::context::tls_client);
    beast::error_code ec;
    if (cfg_.base.tls_verify) {
      m.ssl_ctx->set_verify_mode(ssl::verify_peer);
      if (cfg_.base.tls_ca_file.empty()) m.ssl_ctx->set_default_verify_paths(ec);
      else m.ssl_ctx->load_verify_file(cfg_.base.tls_ca_file, ec);
      if (ec) return Status(Code::io_error, "binance ws gateway: TLS verify paths: " + ec.message());
    }
  }
  m.api = std::make_unique<WsConn>(m.io, m.ssl_ctx.get(), cfg_.base.tls, cfg_.base.request_timeout_ms);
  m.user = std::make_unique<WsConn>(m.io, m.ssl_ctx.get(), cfg_.base.tls, cfg_.base.request_timeout_ms);
  m.rings = rings;
  // Connect the WS API (and the user stream) before trading starts, so a bad endpoint fails here.
  m.api_connect();
  const std::int64_t deadline = now_ns() + static_cast<std::int64_t>(cfg_.base.request_timeout_ms) * 3'000'000;
  while (!m.api->up() && now_ns() < deadline) {
    m.io.run_for(std::chrono::milliseconds(5));
    if (m.io.stopped()) m.io.restart();
    if (!m.api->up() && !m.api->connecting()) break;
  }
  if (!m.api->up()) {
    const std::string where = m.api_host() + ":" + m.api_port() + cfg_.ws_api_path;
    impl_.reset();
    return Status(Code::io_error, "binance ws gateway: cannot open WebSocket API at " + where);
  }
  m.started = true;
  m.stopping.store(false);
  m.thread = std::thread([&m] { m.loop(); });
  return Status::Ok();
}

void BinanceWsGateway::stop() noexcept {
  if (!impl_ || !impl_->started) return;
  impl_->stopping.store(true);
  if (impl_->thread.joinable()) impl_->thread.join();
  impl_->started = false;
  impl_->s_connected.store(false);
}

Result<std::vector<ExecReport>> BinanceWsGateway::open_orders(std::string_view symbol) { return rest_.open_orders(symbol); }
Result<ExecReport> BinanceWsGateway::query_order(std::string_view symbol, std::string_view cid, std::uint64_t xid) {
  return rest_.query_order(symbol, cid, xid);
}
Result<std::vector<ExecReport>> BinanceWsGateway::trades(std::string_view symbol, std::uint64_t from_trade_id) {
  return rest_.trades(symbol, from_trade_id);
}
Result<std::vector<Balance>> BinanceWsGateway::balances() { return rest_.balances(); }

std::vector<SendTrace> BinanceWsGateway::send_traces() const { return impl_->traces.snapshot(); }

GatewayStats BinanceWsGateway::stats() const noexcept {
  GatewayStats s;
  if (!impl_) return s;
  const Impl& m = *impl_;
  s.requests_sent = m.s_sent.load(std::memory_order_relaxed);
  s.reports_pushed = m.reports.pushed();
  s.report_ring_full = m.reports.ring_full();
  s.reconnects = m.s_reconnects.load(std::memory_order_relaxed);
  s.throttled = m.s_throttled.load(std::memory_order_relaxed);
  s.clock_resyncs = m.s_resyncs.load(std::memory_order_relaxed);
  s.unknown_outcomes = m.s_unknown.load(std::memory_order_relaxed);
  s.parse_errors = m.s_parse.load(std::memory_order_relaxed);
  s.connected = m.s_connected.load(std::memory_order_relaxed);
  return s;
}

}  // namespace tickrt::exec
