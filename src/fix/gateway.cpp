#include "fix/gateway.hpp"

#include <filesystem>

#include "core/clock.hpp"
#include "fix/codec.hpp"
#include "fix/quickfix.hpp"

namespace tickrt::fix {

using namespace tickrt::exec;

namespace {
const char kSyncPrefix[] = "sync-";  // OrdStatusReqID of blocking query_order() calls
}

class FixGateway::App final : public FIX::Application {
 public:
  explicit App(FixGateway& g) : g_(g) {}
  void onCreate(const FIX::SessionID&) override {}
  void onLogon(const FIX::SessionID&) override {
    if (ever_logged_on_) g_.c_.reconnects.fetch_add(1, std::memory_order_relaxed);
    ever_logged_on_ = true;
    g_.c_.connected.store(true, std::memory_order_release);
  }
  void onLogout(const FIX::SessionID&) override {
    g_.c_.connected.store(false, std::memory_order_release);
    g_.on_session_lost();
  }
  void toAdmin(FIX::Message& m, const FIX::SessionID&) override {
    if (m.getHeader().getField(35) != "A") return;
    if (!g_.cfg_.username.empty()) m.setField(553, g_.cfg_.username);
    if (!g_.cfg_.password.empty()) m.setField(554, g_.cfg_.password);
  }
  void toApp(FIX::Message& m, const FIX::SessionID&) override {
    // A resend after reconnect (PossDupFlag): never replay an order minutes late. QuickFIX
    // sends a SequenceReset-GapFill instead; the OMS learns the outcome by querying.
    if (m.getHeader().isSetField(43) && m.getHeader().getField(43) == "Y") throw FIX::DoNotSend();
  }
  void fromAdmin(const FIX::Message&, const FIX::SessionID&) override {}
  void fromApp(const FIX::Message& m, const FIX::SessionID&) override {
    try {
      g_.on_message(m);
    } catch (const std::exception&) {
      g_.c_.parse_errors.fetch_add(1, std::memory_order_relaxed);
    }
  }

 private:
  FixGateway& g_;
  bool ever_logged_on_ = false;  // QuickFIX's initiator thread only
};

FixGateway::FixGateway(FixGatewayConfig cfg) : cfg_(std::move(cfg)) {}

FixGateway::~FixGateway() { stop(); }

Result<std::unique_ptr<FixGateway>> FixGateway::create(FixGatewayConfig cfg) {
  using R = Result<std::unique_ptr<FixGateway>>;
  if (cfg.port == 0) return R(Code::invalid_argument, "FIX gateway: port is 0 (the acceptor's port is required)");
  if (cfg.sender_comp_id.empty() || cfg.target_comp_id.empty()) {
    return R(Code::invalid_argument, "FIX gateway: sender_comp_id and target_comp_id are required");
  }
  if (cfg.store_dir.empty()) {
    return R(Code::invalid_argument, "FIX gateway: store_dir is empty (sequence numbers must persist)");
  }
  if (!cfg.data_dictionary.empty() && !std::filesystem::exists(cfg.data_dictionary)) {
    return R(Code::not_found, "FIX gateway: data dictionary '" + cfg.data_dictionary + "' not found");
  }
  if (cfg.heartbeat_s <= 0) return R(Code::invalid_argument, "FIX gateway: heartbeat_s must be > 0");
  std::error_code ec;
  std::filesystem::create_directories(cfg.store_dir, ec);
  if (ec) return R(Code::io_error, "FIX gateway: cannot create store_dir '" + cfg.store_dir + "': " + ec.message());
  if (!cfg.log_dir.empty()) {
    std::filesystem::create_directories(cfg.log_dir, ec);
    if (ec) return R(Code::io_error, "FIX gateway: cannot create log_dir '" + cfg.log_dir + "': " + ec.message());
  }
  std::unique_ptr<FixGateway> g(new FixGateway(std::move(cfg)));
  const FixGatewayConfig& c = g->cfg_;
  try {
    g->settings_ = std::make_unique<FIX::SessionSettings>();
    FIX::Dictionary d;
    d.setString("ConnectionType", "initiator");
    d.setString("BeginString", "FIX.4.4");
    d.setString("SenderCompID", c.sender_comp_id);
    d.setString("TargetCompID", c.target_comp_id);
    d.setString("SocketConnectHost", c.host);
    d.setString("SocketConnectPort", std::to_string(c.port));
    d.setString("HeartBtInt", std::to_string(c.heartbeat_s));
    d.setString("ReconnectInterval", std::to_string(c.reconnect_s));
    d.setString("FileStorePath", c.store_dir);
    if (!c.log_dir.empty()) d.setString("FileLogPath", c.log_dir);
    d.setString("StartTime", "00:00:00");
    d.setString("EndTime", "00:00:00");
    d.setString("CheckLatency", "N");
    d.setString("SocketNodelay", "Y");
    d.setString("PersistMessages", "Y");
    if (c.data_dictionary.empty()) {
      d.setString("UseDataDictionary", "N");
    } else {
      d.setString("UseDataDictionary", "Y");
      d.setString("DataDictionary", c.data_dictionary);
    }
    // SocketInitiator reads ReconnectInterval and SocketNodelay from the [DEFAULT] section only
    // (a session-level value is silently ignored: 30 s reconnects).
    FIX::Dictionary defaults;
    defaults.setString("ReconnectInterval", std::to_string(c.reconnect_s));
    defaults.setString("SocketNodelay", "Y");
    g->settings_->set(defaults);
    g->settings_->set(FIX::SessionID("FIX.4.4", c.sender_comp_id, c.target_comp_id), d);
    g->app_ = std::make_unique<App>(*g);
    g->store_ = std::make_unique<FIX::FileStoreFactory>(c.store_dir);
    if (!c.log_dir.empty()) g->log_ = std::make_unique<FIX::FileLogFactory>(c.log_dir);
    else g->log_ = std::make_unique<FIX::ScreenLogFactory>(false, false, false);
    g->initiator_ = std::make_unique<FIX::SocketInitiator>(*g->app_, *g->store_, *g->settings_, *g->log_);
  } catch (const std::exception& e) {
    return R(Code::invalid_argument, std::string("FIX gateway: QuickFIX configuration: ") + e.what());
  }
  return R(std::move(g));
}

Status FixGateway::start(GatewayRings rings) {
  if (started_) return Status::Ok();
  if (rings.outbound == nullptr || rings.inbound == nullptr) {
    return Status(Code::invalid_argument, "FIX gateway: start() needs both rings");
  }
  rings_ = rings;
  const std::string where = cfg_.host + ":" + std::to_string(cfg_.port) + " (" + cfg_.sender_comp_id + " -> " +
                            cfg_.target_comp_id + ")";
  try {
    initiator_->start();
  } catch (const std::exception& e) {
    return Status(Code::io_error, "FIX gateway " + where + ": " + e.what());
  }
  const auto deadline = std::chrono::steady_clock::now() + cfg_.logon_timeout;
  while (!logged_on()) {
    if (std::chrono::steady_clock::now() >= deadline) {
      try {
        initiator_->stop(true);
      } catch (...) {
      }
      return Status(Code::io_error, "FIX gateway " + where + ": no logon within " +
                                        std::to_string(cfg_.logon_timeout.count()) +
                                        " ms (acceptor down, wrong CompIDs or credentials, sequence too low?)");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  running_.store(true, std::memory_order_release);
  io_ = std::thread([this] { io_loop(); });
  started_ = true;
  return Status::Ok();
}

void FixGateway::stop() noexcept {
  if (!started_) return;
  running_.store(false, std::memory_order_release);
  if (io_.joinable()) io_.join();
  try {
    initiator_->stop();  // Logout, waits for the answer (QuickFIX: up to 10 s)
  } catch (...) {
  }
  started_ = false;
}

bool FixGateway::logged_on() const {
  FIX::Session* s = FIX::Session::lookupSession(FIX::SessionID("FIX.4.4", cfg_.sender_comp_id, cfg_.target_comp_id));
  return s != nullptr && s->isLoggedOn();
}

int FixGateway::next_sender_seq() const {
  FIX::Session* s = FIX::Session::lookupSession(FIX::SessionID("FIX.4.4", cfg_.sender_comp_id, cfg_.target_comp_id));
  return s ? s->getExpectedSenderNum() : 0;
}

int FixGateway::next_target_seq() const {
  FIX::Session* s = FIX::Session::lookupSession(FIX::SessionID("FIX.4.4", cfg_.sender_comp_id, cfg_.target_comp_id));
  return s ? s->getExpectedTargetNum() : 0;
}

// ---- IO thread ---------------------------------------------------------------------------------

void FixGateway::io_loop() {
  std::int64_t idle_since = 0;
  GatewayRequest req;
  while (running_.load(std::memory_order_acquire)) {
    if (rings_.outbound->try_pop(req)) {
      handle(req);
      idle_since = 0;
      continue;
    }
    const std::int64_t now = now_ns();
    if (idle_since == 0) idle_since = now;
    if (now - idle_since < cfg_.idle.spin_ns) {
#if defined(__x86_64__) || defined(__i386__)
      __builtin_ia32_pause();
#endif
    } else if (cfg_.idle.sleep_ns > 0) {
      std::this_thread::sleep_for(std::chrono::nanoseconds(cfg_.idle.sleep_ns));
    }
  }
}

bool FixGateway::push_report_locked(const ExecReport& r) {
  if (!rings_.inbound->try_push(r)) {
    c_.report_ring_full.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  c_.reports_pushed.fetch_add(1, std::memory_order_relaxed);
  return true;
}

bool FixGateway::push_report(const ExecReport& r) {
  std::lock_guard<std::mutex> lock(produce_mu_);
  return push_report_locked(r);
}

void FixGateway::handle(const GatewayRequest& req) {
  FIX::Session* s = FIX::Session::lookupSession(FIX::SessionID("FIX.4.4", cfg_.sender_comp_id, cfg_.target_comp_id));
  const bool up = s != nullptr && s->isLoggedOn();
  ExecReport local;
  local.local_ns = now_ns();
  local.reject = RejectCode::disconnected;

  switch (req.op) {
    case GatewayOp::new_order: {
      const OrderRequest& o = req.order;
      const std::string id(o.client_order_id.view());
      if (!up) {
        // Nothing left: the order certainly did not reach the exchange.
        exec::set_order_fields(local, o);
        local.exec_type = ExecType::rejected;
        local.status = OrderStatus::rejected;
        push_report(local);
        return;
      }
      FIX::Message m = encode_new_order(o, wall_ns());
      {
        std::lock_guard<std::mutex> lock(produce_mu_);
        InFlight& f = inflight_[id];
        f = InFlight{};
        f.side = o.side;
        f.is_new = true;
        f.symbol = o.symbol;
        f.sent_ns = now_ns();  // see gateway.hpp "Latency stamps": the answer can overtake send()'s return
        order_side_[id] = o.side;
      }
      c_.requests_sent.fetch_add(1, std::memory_order_relaxed);  // before: whoever sees the answer sees the count
      const bool ok = s->send(m);
      std::lock_guard<std::mutex> lock(produce_mu_);
      auto it = inflight_.find(id);
      if (!ok) {
        // Session dropped between the check and the write: the outcome is unknown.
        if (it != inflight_.end()) inflight_.erase(it);
        local.symbol = o.symbol;
        local.client_order_id = o.client_order_id;
        local.side = o.side;
        local.exec_type = ExecType::status;
        local.status = OrderStatus::unknown;
        c_.unknown_outcomes.fetch_add(1, std::memory_order_relaxed);
        push_report_locked(local);
      }
      return;
    }
    case GatewayOp::cancel: {
      CancelRequest cr = req.cancel;
      if (cr.client_order_id.empty()) {
        (void)cr.client_order_id.assign("fixc-" + std::to_string(++query_seq_));
      }
      const std::string id(cr.client_order_id.view());
      const std::string orig(cr.orig_client_order_id.view());
      Side side = Side::buy;
      {
        std::lock_guard<std::mutex> lock(produce_mu_);
        if (auto it = order_side_.find(orig); it != order_side_.end()) side = it->second;
      }
      if (!up) {
        // Not sent: a rejected cancel that is not "unknown order", so the OMS returns the order
        // to its state before the cancel and may try again.
        local.symbol = cr.symbol;
        local.client_order_id = cr.client_order_id;
        local.orig_client_order_id = cr.orig_client_order_id;
        local.exchange_order_id = cr.exchange_order_id;
        local.side = side;
        local.exec_type = ExecType::rejected;
        local.status = OrderStatus::unknown;
        push_report(local);
        return;
      }
      FIX::Message m = encode_cancel(cr, side, wall_ns());
      {
        std::lock_guard<std::mutex> lock(produce_mu_);
        InFlight& f = inflight_[id];
        f = InFlight{};
        f.side = side;
        f.order_id = orig;
        f.symbol = cr.symbol;
        f.sent_ns = now_ns();
      }
      c_.requests_sent.fetch_add(1, std::memory_order_relaxed);  // before: whoever sees the answer sees the count
      const bool ok = s->send(m);
      std::lock_guard<std::mutex> lock(produce_mu_);
      auto it = inflight_.find(id);
      if (!ok) {
        if (it != inflight_.end()) inflight_.erase(it);
        local.symbol = cr.symbol;
        local.client_order_id = cr.orig_client_order_id;
        local.side = side;
        local.exec_type = ExecType::status;
        local.status = OrderStatus::unknown;
        c_.unknown_outcomes.fetch_add(1, std::memory_order_relaxed);
        push_report_locked(local);
      }
      return;
    }
    case GatewayOp::query: {
      CancelRequest q = req.cancel;
      (void)q.client_order_id.assign("fixq-" + std::to_string(++query_seq_));  // OrdStatusReqID 790
      const std::string orig(q.orig_client_order_id.view());
      Side side = Side::buy;
      {
        std::lock_guard<std::mutex> lock(produce_mu_);
        if (auto it = order_side_.find(orig); it != order_side_.end()) side = it->second;
      }
      FIX::Message m = encode_status_request(q, side);
      if (up) c_.requests_sent.fetch_add(1, std::memory_order_relaxed);
      if (!up || !s->send(m)) {
        // Still unknown; the OMS keeps the order unknown and asks again later.
        local.symbol = q.symbol;
        local.client_order_id = q.orig_client_order_id;
        local.exchange_order_id = q.exchange_order_id;
        local.side = side;
        local.exec_type = ExecType::status;
        local.status = OrderStatus::unknown;
        push_report(local);
        return;
      }
      return;
    }
  }
}

// ---- QuickFIX thread ---------------------------------------------------------------------------

void FixGateway::on_message(const FIX::Message& m) {
  const std::int64_t local_ns = now_ns();
  const std::string& type = m.getHeader().getField(35);
  ExecReport r;
  std::string key;  // the request this answers: its ClOrdID
  if (type == "8") {
    if (DecodeError e = decode_execution_report(m, r); !e.ok()) {
      c_.parse_errors.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    r.local_ns = local_ns;
    if (m.isSetField(790)) {
      const std::string& req_id = m.getField(790);
      if (req_id.rfind(kSyncPrefix, 0) == 0) {
        std::lock_guard<std::mutex> lock(q_mu_);
        q_answers_[req_id] = std::make_unique<ExecReport>(r);
        q_cv_.notify_all();
        return;
      }
    }
    key = std::string(r.client_order_id.view());
  } else if (type == "9") {
    if (DecodeError e = decode_cancel_reject(m, r); !e.ok()) {
      c_.parse_errors.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    r.local_ns = local_ns;
    key = std::string(r.client_order_id.view());
  } else if (type == "j") {
    // BusinessMessageReject: tie it to our request by BusinessRejectRefID 379 (its ClOrdID).
    if (!m.isSetField(379)) {
      c_.parse_errors.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    key = m.getField(379);
    const std::string text = m.isSetField(58) ? m.getField(58) : std::string();
    std::lock_guard<std::mutex> lock(produce_mu_);
    auto it = inflight_.find(key);
    if (it == inflight_.end()) {
      c_.parse_errors.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    const InFlight f = it->second;
    inflight_.erase(it);
    r.local_ns = local_ns;
    r.request_sent_ns = f.sent_ns;
    r.symbol = f.symbol;
    r.side = f.side;
    r.exec_type = ExecType::rejected;
    const RejectCode code = reject_code_from_text(text);
    if (f.is_new) {
      (void)r.client_order_id.assign(key);
      r.status = OrderStatus::rejected;
      r.reject = code != RejectCode::unknown ? code : RejectCode::new_order_rejected;
      order_side_.erase(key);
    } else {
      (void)r.client_order_id.assign(key);
      (void)r.orig_client_order_id.assign(f.order_id);
      r.status = OrderStatus::unknown;
      r.reject = code != RejectCode::unknown ? code : RejectCode::cancel_rejected;
    }
    push_report_locked(r);
    return;
  } else {
    return;  // other application messages are not ours to handle
  }

  std::lock_guard<std::mutex> lock(produce_mu_);
  if (auto it = inflight_.find(key); it != inflight_.end()) {
    r.request_sent_ns = it->second.sent_ns;
    inflight_.erase(it);
  }
  const std::string order_id(r.orig_client_order_id.empty() ? r.client_order_id.view()
                                                            : r.orig_client_order_id.view());
  if (is_terminal(r.status)) order_side_.erase(order_id);
  push_report_locked(r);
}

void FixGateway::on_session_lost() {
  // Requests sent without an answer: their outcome is unknown. The OMS queries each one; the
  // IO thread sends the queries once we are logged on again (until then it answers "unknown").
  std::lock_guard<std::mutex> lock(produce_mu_);
  for (const auto& [id, f] : inflight_) {
    ExecReport r;
    r.local_ns = now_ns();
    r.symbol = f.symbol;
    r.side = f.side;
    (void)r.client_order_id.assign(f.is_new ? id : f.order_id);
    r.exec_type = ExecType::status;
    r.status = OrderStatus::unknown;
    r.reject = RejectCode::disconnected;
    r.request_sent_ns = f.sent_ns;
    c_.unknown_outcomes.fetch_add(1, std::memory_order_relaxed);
    push_report_locked(r);
  }
  inflight_.clear();
}

// ---- control / recovery ------------------------------------------------------------------------

Result<std::vector<ExecReport>> FixGateway::open_orders(std::string_view) {
  return Result<std::vector<ExecReport>>(Code::unsupported,
                                         "FIX gateway: open_orders needs OrderMassStatusRequest (35=AF), not offered");
}

Result<std::vector<ExecReport>> FixGateway::trades(std::string_view, std::uint64_t) {
  return Result<std::vector<ExecReport>>(Code::unsupported, "FIX gateway: FIX 4.4 order entry has no trade query");
}

Result<std::vector<Balance>> FixGateway::balances() {
  return Result<std::vector<Balance>>(Code::unsupported, "FIX gateway: FIX 4.4 has no balance query");
}

Result<ExecReport> FixGateway::query_order(std::string_view symbol, std::string_view client_order_id,
                                           std::uint64_t exchange_order_id) {
  using R = Result<ExecReport>;
  FIX::Session* s = FIX::Session::lookupSession(FIX::SessionID("FIX.4.4", cfg_.sender_comp_id, cfg_.target_comp_id));
  if (s == nullptr || !s->isLoggedOn()) return R(Code::io_error, "FIX gateway: query_order: not logged on");
  CancelRequest q;
  if (!q.symbol.assign(symbol)) return R(Code::invalid_argument, "FIX gateway: query_order: symbol too long");
  if (!client_order_id.empty() && !q.orig_client_order_id.assign(client_order_id)) {
    return R(Code::invalid_argument, "FIX gateway: query_order: client_order_id too long");
  }
  q.exchange_order_id = exchange_order_id;
  const std::string req_id = kSyncPrefix + std::to_string(q_seq_.fetch_add(1) + 1);
  (void)q.client_order_id.assign(req_id);
  Side side = Side::buy;
  {
    std::lock_guard<std::mutex> lock(produce_mu_);
    if (auto it = order_side_.find(std::string(client_order_id)); it != order_side_.end()) side = it->second;
  }
  FIX::Message m = encode_status_request(q, side);
  if (!s->send(m)) return R(Code::io_error, "FIX gateway: query_order: send failed");
  std::unique_lock<std::mutex> lock(q_mu_);
  if (!q_cv_.wait_for(lock, cfg_.query_timeout, [&] { return q_answers_.count(req_id) != 0; })) {
    return R(Code::io_error, "FIX gateway: query_order: no answer to OrderStatusRequest " + req_id + " within " +
                                 std::to_string(cfg_.query_timeout.count()) + " ms");
  }
  ExecReport r = *q_answers_[req_id];
  q_answers_.erase(req_id);
  return r;
}

GatewayStats FixGateway::stats() const noexcept {
  GatewayStats s;
  s.requests_sent = c_.requests_sent.load(std::memory_order_relaxed);
  s.reports_pushed = c_.reports_pushed.load(std::memory_order_relaxed);
  s.report_ring_full = c_.report_ring_full.load(std::memory_order_relaxed);
  s.reconnects = c_.reconnects.load(std::memory_order_relaxed);
  s.unknown_outcomes = c_.unknown_outcomes.load(std::memory_order_relaxed);
  s.parse_errors = c_.parse_errors.load(std::memory_order_relaxed);
  s.connected = c_.connected.load(std::memory_order_relaxed);
  return s;
}

}  // namespace tickrt::fix
