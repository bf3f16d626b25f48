#include "fix/acceptor.hpp"

#include <charconv>
#include <condition_variable>
#include <filesystem>
#include <thread>

#include "core/clock.hpp"
#include "fix/codec.hpp"
#include "fix/loopback_acceptor.hpp"
#include "fix/quickfix.hpp"

namespace tickrt::fix {

using namespace tickrt::exec;

namespace {

std::string reject_text(RejectCode code, sim::RejectReason reason) {
  return "code=" + std::to_string(static_cast<int>(code)) + " " + std::string(sim::reject_message(reason));
}


}  // namespace

// The QuickFIX Application. All members run on QuickFIX connection threads (or, for
// on_exec_report, on whichever thread holds the engine mutex).
class FixAcceptor::App final : public FIX::Application {
 public:
  App(FixAcceptor& owner) : o_(owner) {
    exec_prefix_ = std::to_string(wall_ns() / 1'000'000) + "-";  // ExecIDs unique across restarts
    for (std::size_t i = 0; i < o_.cfg_.accounts.size(); ++i) {
      const FixAccount& a = o_.cfg_.accounts[i];
      by_comp_[a.comp_id] = i;
      by_account_[a.account] = FIX::SessionID("FIX.4.4", o_.cfg_.comp_id, a.comp_id);
    }
  }

  void onCreate(const FIX::SessionID&) override {}
  void onLogon(const FIX::SessionID&) override {}
  void onLogout(const FIX::SessionID&) override {}
  void toAdmin(FIX::Message&, const FIX::SessionID&) override {}
  void toApp(FIX::Message&, const FIX::SessionID&) override {}

  void fromAdmin(const FIX::Message& m, const FIX::SessionID& id) override {
    if (m.getHeader().getField(35) != "A") return;
    const FixAccount* a = account_of(id);
    if (a == nullptr) throw FIX::RejectLogon("unknown CompID " + id.getTargetCompID().getString());
    auto check = [&](int tag, const std::string& want, const char* what) {
      if (want.empty()) return;
      if (!m.isSetField(tag) || m.getField(tag) != want) {
        stats_.logons_refused.fetch_add(1, std::memory_order_relaxed);
        throw FIX::RejectLogon(std::string("bad or missing ") + what + " (tag " + std::to_string(tag) + ")");
      }
    };
    if (in_outage()) {
      stats_.logons_refused.fetch_add(1, std::memory_order_relaxed);
      throw FIX::RejectLogon("simulated outage (FaultConfig::disconnects)");
    }
    check(553, a->username, "Username");
    check(554, a->password, "Password");
  }

  void fromApp(const FIX::Message& m, const FIX::SessionID& id) override {
    // Nothing may escape to QuickFIX: it would answer a session-level Reject for exceptions of
    // its own types and drop the connection for others.
    try {
      dispatch(m, id);
    } catch (const std::exception& e) {
      business_reject(m, id, 0, std::string("internal error: ") + e.what());
    }
  }

  // Engine sink (engine mutex held).
  void on_report(sim::AccountId account, const ExecReport& r, std::int64_t due) {
    if (ctx_.active && ctx_.replace && account == ctx_.account) {
      // FIX reports a successful cancel/replace as one ExecutionReport 150=5 (Replaced) for the
      // new ClOrdID with OrigClOrdID 41; the engine reports it Binance-style as CANCELED (old)
      // + NEW (new). Fold the two; later reports (fills of the replacement) pass through.
      if (r.exec_type == ExecType::canceled && r.orig_client_order_id == ctx_.orig_client_order_id) return;
      if (r.exec_type == ExecType::new_ && r.client_order_id == ctx_.client_order_id) {
        ExecReport rep = r;
        rep.exec_type = ExecType::replaced;
        rep.orig_client_order_id = ctx_.orig_client_order_id;
        auto it = by_account_.find(account);
        if (it != by_account_.end()) send_report(rep, it->second, "", "", due);
        return;
      }
    }
    if (ctx_.active && account == ctx_.account) {
      // Our own request's rejects are answered after the engine call with the finer reason
      // (ER reject for a new order, 35=9 for a cancel), not here.
      if (r.exec_type == ExecType::rejected && r.client_order_id == ctx_.client_order_id) {
        ctx_.reject_seen = true;
        ctx_.reject_report = r;
        return;
      }
    }
    auto it = by_account_.find(account);
    if (it == by_account_.end()) {
      stats_.reports_unrouted.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    send_report(r, it->second, "", "", due);
  }

  struct Counters {
    std::atomic<std::uint64_t> orders{0}, cancels{0}, replaces{0}, status_requests{0}, business_rejects{0},
        reports_sent{0}, cancel_rejects{0}, logons_refused{0}, reports_unrouted{0}, md_requests{0}, md_rejects{0};
  } stats_;

 private:
  // The request being served (engine mutex held while active).
  struct Ctx {
    bool active = false;
    bool replace = false;
    sim::AccountId account = 0;
    ClientOrderId client_order_id;
    ClientOrderId orig_client_order_id;  // replace: the order replaced
    bool reject_seen = false;
    ExecReport reject_report;
  };

  const FixAccount* account_of(const FIX::SessionID& id) const {
    auto it = by_comp_.find(id.getTargetCompID().getString());
    return it == by_comp_.end() ? nullptr : &o_.cfg_.accounts[it->second];
  }

  void dispatch(const FIX::Message& m, const FIX::SessionID& id) {
    const FixAccount* a = account_of(id);
    const std::string& type = m.getHeader().getField(35);
    if (a == nullptr) return business_reject(m, id, 0, "no account for this session");
    if (type == "D") return on_new_order(m, id, *a);
    if (type == "F") return on_cancel(m, id, *a);
    if (type == "G") return on_replace(m, id, *a);
    if (type == "H") return on_status(m, id, *a);
    if (type == "V") return on_md_request(m, id);
    business_reject(m, id, 3, "tag 35 (MsgType) value '" + type + "' not supported");
  }

  void on_new_order(const FIX::Message& m, const FIX::SessionID& id, const FixAccount& a) {
    OrderRequest req;
    if (DecodeError e = decode_new_order(m, req); !e.ok()) return business_reject(m, id, e.tag, e.text);
    req.created_ns = 0;
    stats_.orders.fetch_add(1, std::memory_order_relaxed);
    std::lock_guard<std::mutex> lock(o_.engine_mu_);
    begin(a.account, req.client_order_id);
    const sim::SubmitResult r = o_.engine_.submit(a.account, req, wall_ns());
    if (!r.ok() && !r.ack_lost) {
      ExecReport rej = ctx_.reject_seen ? ctx_.reject_report : ExecReport{};
      if (!ctx_.reject_seen) {
        exec::set_order_fields(rej, req);
        rej.exec_type = ExecType::rejected;
        rej.status = OrderStatus::rejected;
        rej.transact_ns = wall_ns();
      }
      rej.reject = r.code;
      send_report(rej, id, reject_text(r.code, r.reason), "", r.deliver_ns);
    }
    ctx_ = Ctx{};
  }

  void on_cancel(const FIX::Message& m, const FIX::SessionID& id, const FixAccount& a) {
    CancelRequest req;
    if (DecodeError e = decode_cancel(m, req); !e.ok()) return business_reject(m, id, e.tag, e.text);
    stats_.cancels.fetch_add(1, std::memory_order_relaxed);
    std::lock_guard<std::mutex> lock(o_.engine_mu_);
    begin(a.account, req.client_order_id);
    const sim::CancelResult r = o_.engine_.cancel(a.account, req, wall_ns());
    if (!r.ok()) cancel_reject(id, a.account, req, r.code, r.reason, false, r.deliver_ns);
    ctx_ = Ctx{};
  }

  void on_replace(const FIX::Message& m, const FIX::SessionID& id, const FixAccount& a) {
    ReplaceRequest req;
    if (DecodeError e = decode_replace(m, req); !e.ok()) return business_reject(m, id, e.tag, e.text);
    stats_.replaces.fetch_add(1, std::memory_order_relaxed);
    std::lock_guard<std::mutex> lock(o_.engine_mu_);
    begin(a.account, req.cancel.client_order_id);
    ctx_.replace = true;
    ctx_.orig_client_order_id = req.cancel.orig_client_order_id;
    const sim::ReplaceResult r = o_.engine_.cancel_replace(a.account, req, wall_ns());
    if (!r.cancel.ok()) {
      cancel_reject(id, a.account, req.cancel, r.cancel.code, r.cancel.reason, true, r.cancel.deliver_ns);
    } else if (r.placed && !r.replacement.ok() && !r.replacement.ack_lost) {
      // The old order is canceled (reported), the replacement refused: an ER reject for it.
      ExecReport rej = ctx_.reject_seen ? ctx_.reject_report : ExecReport{};
      if (!ctx_.reject_seen) {
        exec::set_order_fields(rej, req.replacement);
        rej.exec_type = ExecType::rejected;
        rej.status = OrderStatus::rejected;
        rej.transact_ns = wall_ns();
      }
      rej.orig_client_order_id = req.cancel.orig_client_order_id;
      rej.reject = r.replacement.code;
      send_report(rej, id, reject_text(r.replacement.code, r.replacement.reason), "", r.replacement.deliver_ns);
    }
    ctx_ = Ctx{};
  }

  void on_status(const FIX::Message& m, const FIX::SessionID& id, const FixAccount& a) {
    CancelRequest req;
    if (DecodeError e = decode_status_request(m, req); !e.ok()) return business_reject(m, id, e.tag, e.text);
    stats_.status_requests.fetch_add(1, std::memory_order_relaxed);
    const std::string req_id = m.isSetField(790) ? m.getField(790) : std::string();
    std::lock_guard<std::mutex> lock(o_.engine_mu_);
    std::optional<sim::OrderState> st =
        !req.orig_client_order_id.empty() ? o_.engine_.query(a.account, req.symbol, req.orig_client_order_id)
                                          : o_.engine_.query(a.account, req.symbol, req.exchange_order_id);
    if (st) {
      send_report(sim::status_report(*st), id, "", req_id);
      return;
    }
    ExecReport r;
    r.symbol = req.symbol;
    r.client_order_id = req.orig_client_order_id;
    r.exchange_order_id = req.exchange_order_id;
    if (m.isSetField(54) && m.getField(54) == "2") r.side = Side::sell;
    r.exec_type = ExecType::status;
    r.status = OrderStatus::rejected;
    r.reject = RejectCode::no_such_order;
    r.transact_ns = wall_ns();
    FIX::Message er = encode_execution_report(r, next_exec_id(), "code=-2013 Order does not exist.", wall_ns());
    er.setField(103, "5");  // OrdRejReason: unknown order
    if (!req_id.empty()) er.setField(790, req_id);
    stats_.reports_sent.fetch_add(1, std::memory_order_relaxed);
    send(er, id);
  }

  // ---- market data (35=V -> 35=W snapshot, 35=X incremental, 35=Y reject) ----------------------
  struct MdSub {
    FIX::SessionID session;
    std::string req_id;
    sim::SymbolIndex symbol = sim::kNoSymbolIndex;
    bool bids = false, offers = false, trades = false;
  };

  void md_reject(const FIX::SessionID& id, const std::string& req_id, int reason, const std::string& text) {
    FIX::Message r;
    r.getHeader().setField(FIX::MsgType("Y"));
    r.setField(262, req_id.empty() ? std::string("NONE") : req_id);
    r.setField(281, std::to_string(reason));  // 0 unknown symbol, 5 unsupported MarketDepth... , 8 unsupported MDEntryType
    r.setField(58, text);
    stats_.md_rejects.fetch_add(1, std::memory_order_relaxed);
    send(r, id);
  }

  void on_md_request(const FIX::Message& m, const FIX::SessionID& id) {
    const std::string req_id = m.isSetField(262) ? m.getField(262) : std::string();
    if (req_id.empty()) return business_reject(m, id, 262, "tag 262 (MDReqID) missing");
    const std::string sub = m.isSetField(263) ? m.getField(263) : std::string();
    if (sub != "0" && sub != "1" && sub != "2") {
      return md_reject(id, req_id, 4, "tag 263 (SubscriptionRequestType) value '" + sub + "' not supported (0, 1, 2)");
    }
    std::lock_guard<std::mutex> lock(o_.engine_mu_);
    if (sub == "2") {
      md_subs_.erase(std::remove_if(md_subs_.begin(), md_subs_.end(),
                                    [&](const MdSub& x) { return x.session == id && x.req_id == req_id; }),
                     md_subs_.end());
      return;
    }
    std::size_t depth = 1000;  // MarketDepth 264: 0 = full book (capped), 1 = top of book, N = N levels
    if (m.isSetField(264)) {
      std::uint64_t d = 0;
      const std::string& v = m.getField(264);
      const auto r = std::from_chars(v.data(), v.data() + v.size(), d);
      if (r.ec != std::errc() || r.ptr != v.data() + v.size()) {
        return md_reject(id, req_id, 5, "tag 264 (MarketDepth) value '" + v + "' is not a number");
      }
      if (d != 0) depth = static_cast<std::size_t>(std::min<std::uint64_t>(d, 1000));
    }
    MdSub proto;
    proto.session = id;
    proto.req_id = req_id;
    std::vector<SymbolName> symbols;
    // Repeating groups (parsed by QuickFIX with FIX44-sim.xml): NoMDEntryTypes 267 / MDEntryType
    // 269, NoRelatedSym 146 / Symbol 55.
    for (int i = 1, n = static_cast<int>(m.groupCount(267)); i <= n; ++i) {
      const FIX::FieldMap& g = m.getGroupRef(i, 267);
      const std::string t = g.isSetField(269) ? g.getField(269) : std::string();
      if (t == "0") proto.bids = true;
      else if (t == "1") proto.offers = true;
      else if (t == "2") proto.trades = true;
      else return md_reject(id, req_id, 8, "tag 269 (MDEntryType) value '" + t + "' not supported (0, 1, 2)");
    }
    for (int i = 1, n = static_cast<int>(m.groupCount(146)); i <= n; ++i) {
      const FIX::FieldMap& g = m.getGroupRef(i, 146);
      SymbolName sym;
      if (!g.isSetField(55) || !sym.assign(g.getField(55)) || sym.empty()) {
        return md_reject(id, req_id, 0, "tag 55 (Symbol) missing or longer than 23 in NoRelatedSym entry " +
                                            std::to_string(i));
      }
      symbols.push_back(sym);
    }
    if (!proto.bids && !proto.offers && !proto.trades) {
      return md_reject(id, req_id, 8, "tag 267 (NoMDEntryTypes): no MDEntryType 269 given");
    }
    if (symbols.empty()) return md_reject(id, req_id, 0, "tag 146 (NoRelatedSym): no Symbol 55 given");
    for (const SymbolName& sym : symbols) {
      const sim::SymbolIndex si = o_.engine_.find_symbol(sym.view());
      if (si == sim::kNoSymbolIndex) {
        return md_reject(id, req_id, 0, "tag 55 (Symbol) '" + std::string(sym.view()) + "' unknown");
      }
    }
    stats_.md_requests.fetch_add(1, std::memory_order_relaxed);
    // Snapshot and subscription under the engine mutex: no update falls between them.
    for (const SymbolName& sym : symbols) {
      sim::DepthSnapshot snap;
      (void)o_.engine_.depth_snapshot(sym, depth, snap);
      FIX::Message w;
      w.getHeader().setField(FIX::MsgType("W"));
      w.setField(262, req_id);
      w.setField(55, std::string(sym.view()));
      auto add = [&](char type, const feed::Level& l) {
        FIX::Group g(268, 269);
        g.setField(269, std::string(1, type));
        g.setField(270, decimal(l.price.raw));
        g.setField(271, decimal(l.qty.raw));
        w.addGroup(g);
      };
      if (proto.bids) for (const feed::Level& l : snap.bids) add('0', l);
      if (proto.offers) for (const feed::Level& l : snap.asks) add('1', l);
      if (!w.isSetField(268)) w.setField(268, "0");
      send(w, id);
      if (sub == "1") {
        MdSub s2 = proto;
        s2.symbol = o_.engine_.find_symbol(sym.view());
        md_subs_.push_back(s2);
      }
    }
  }

 public:
  // Engine sink (engine mutex held): incremental refreshes for subscribers.
  void on_book(const sim::BookUpdate& u) {
    for (const MdSub& sub : md_subs_) {
      if (sub.symbol != u.symbol) continue;
      if (u.side == Side::buy ? !sub.bids : !sub.offers) continue;
      FIX::Message x;
      x.getHeader().setField(FIX::MsgType("X"));
      x.setField(262, sub.req_id);
      FIX::Group g(268, 279);
      g.setField(279, u.qty.raw == 0 ? "2" : "1");  // 2 delete; 1 change = the level's new total
      g.setField(269, u.side == Side::buy ? "0" : "1");
      g.setField(55, std::string(o_.engine_.spec(u.symbol).name.view()));
      g.setField(270, decimal(u.price.raw));
      g.setField(271, decimal(u.qty.raw));
      x.addGroup(g);
      send(x, sub.session);
    }
  }
  void on_trade(const sim::PublicTrade& t) {
    for (const MdSub& sub : md_subs_) {
      if (sub.symbol != t.symbol || !sub.trades) continue;
      FIX::Message x;
      x.getHeader().setField(FIX::MsgType("X"));
      x.setField(262, sub.req_id);
      FIX::Group g(268, 279);
      g.setField(279, "0");
      g.setField(269, "2");
      g.setField(55, std::string(o_.engine_.spec(t.symbol).name.view()));
      g.setField(270, decimal(t.price.raw));
      g.setField(271, decimal(t.qty.raw));
      x.addGroup(g);
      send(x, sub.session);
    }
  }

 private:
  std::vector<MdSub> md_subs_;  // guarded by the engine mutex

  void begin(sim::AccountId account, const ClientOrderId& id) {
    ctx_ = Ctx{};
    ctx_.active = true;
    ctx_.account = account;
    ctx_.client_order_id = id;
  }

  void cancel_reject(const FIX::SessionID& id, sim::AccountId account, const CancelRequest& req, RejectCode code,
                     sim::RejectReason reason, bool replace, std::int64_t due) {
    // The order's current status (FIX wants it in 39); rejected when the exchange does not know it.
    OrderStatus status = OrderStatus::rejected;
    std::uint64_t oid = req.exchange_order_id;
    const std::optional<sim::OrderState> st =
        !req.orig_client_order_id.empty() ? o_.engine_.query(account, req.symbol, req.orig_client_order_id)
                                          : o_.engine_.query(account, req.symbol, req.exchange_order_id);
    if (st) {
      status = st->status;
      oid = st->exchange_order_id;
    }
    const int why = reason == sim::RejectReason::unknown_order ? (st ? 0 : 1) : 99;  // 0 too late, 1 unknown
    FIX::Message m = encode_cancel_reject(req.client_order_id.view(), req.orig_client_order_id.view(), oid, status,
                                          why, replace, reject_text(code, reason));
    stats_.cancel_rejects.fetch_add(1, std::memory_order_relaxed);  // before the send: a reader who saw it sees the count
    send(m, id, due);
  }

  void send_report(const ExecReport& r, const FIX::SessionID& id, const std::string& text, const std::string& req_id,
                   std::int64_t due = 0) {
    FIX::Message m = encode_execution_report(r, next_exec_id(), text, wall_ns());
    if (!req_id.empty()) m.setField(790, req_id);
    stats_.reports_sent.fetch_add(1, std::memory_order_relaxed);
    send(m, id, due);
  }

  // 35=j naming the tag. RefSeqNum 45 and RefMsgType 372 point at the refused message;
  // BusinessRejectRefID 379 carries its ClOrdID when it had one.
  void business_reject(const FIX::Message& m, const FIX::SessionID& id, int tag, const std::string& text) {
    FIX::Message r;
    r.getHeader().setField(FIX::MsgType("j"));
    const FIX::Header& h = m.getHeader();
    if (h.isSetField(34)) r.setField(45, h.getField(34));
    r.setField(372, h.isSetField(35) ? h.getField(35) : std::string("?"));
    if (m.isSetField(11) && !m.getField(11).empty()) r.setField(379, m.getField(11).substr(0, 64));
    // 380: 3 unsupported message type, 5 conditionally required field missing, 0 other.
    const bool missing = text.find(" missing") != std::string::npos || text.find(" empty") != std::string::npos;
    r.setField(380, tag == 0 ? "0" : (text.find("MsgType") != std::string::npos ? "3" : (missing ? "5" : "0")));
    r.setField(58, text);
    stats_.business_rejects.fetch_add(1, std::memory_order_relaxed);
    send(r, id);
  }

  std::string next_exec_id() {
    return exec_prefix_ + std::to_string(exec_seq_.fetch_add(1, std::memory_order_relaxed) + 1);
  }

  // Sends now, or at `due` (wall ns; the engine's FaultConfig ack delay) through the outbox.
  // Per session, messages leave in the order they were produced: a message is never due before
  // the one queued ahead of it, so a delayed report is never overtaken by a later answer.
  void send(FIX::Message& m, const FIX::SessionID& id, std::int64_t due = 0) {
    std::lock_guard<std::mutex> lock(out_mu_);
    std::int64_t& last = last_due_[id];
    if (due < last) due = last;
    last = due;
    if (pending_[id] == 0 && due <= wall_ns()) {
      send_now(m, id);
      return;
    }
    ++pending_[id];
    outbox_.emplace(std::make_pair(due, out_seq_++), Pending{m, id});
    out_cv_.notify_all();
  }

  static void send_now(FIX::Message& m, const FIX::SessionID& id) {
    // Stored (FileStore) and sent when logged on; otherwise stored only and resent on the next
    // logon's ResendRequest. Unknown session ids cannot happen (built from the config).
    try {
      FIX::Session::sendToTarget(m, id);
    } catch (const FIX::SessionNotFound&) {
    }
  }

 public:
  // The outbox / outage thread: sends delayed messages when due and enforces the engine's
  // simulated disconnect windows (logs every session out while one is open; fromAdmin refuses
  // logons meanwhile). Wakes at the next due time or every 50 ms.
  void run_outbox() {
    std::unique_lock<std::mutex> lock(out_mu_);
    while (!out_stop_) {
      const std::int64_t now = wall_ns();
      while (!outbox_.empty() && outbox_.begin()->first.first <= now) {
        auto node = outbox_.extract(outbox_.begin());
        --pending_[node.mapped().id];
        send_now(node.mapped().msg, node.mapped().id);
      }
      lock.unlock();
      enforce_outage(now);
      lock.lock();
      std::int64_t wait = 50'000'000;
      if (!outbox_.empty()) wait = std::min(wait, std::max<std::int64_t>(0, outbox_.begin()->first.first - now));
      out_cv_.wait_for(lock, std::chrono::nanoseconds(wait));
    }
  }
  void start_outbox() {
    {
      std::lock_guard<std::mutex> lock(out_mu_);
      out_stop_ = false;
    }
    outbox_thread_ = std::thread([this] { run_outbox(); });
  }
  void stop_outbox() {
    {
      std::lock_guard<std::mutex> lock(out_mu_);
      out_stop_ = true;
      out_cv_.notify_all();
    }
    if (outbox_thread_.joinable()) outbox_thread_.join();
  }
  bool in_outage() {
    std::lock_guard<std::mutex> lock(o_.engine_mu_);
    return o_.engine_.disconnected(wall_ns());
  }

 private:
  void enforce_outage(std::int64_t now) {
    bool down = false;
    {
      std::lock_guard<std::mutex> lock(o_.engine_mu_);
      down = o_.engine_.disconnected(now);
    }
    if (!down) return;
    bool any = false;
    for (const auto& [acct, id] : by_account_) {
      FIX::Session* s = FIX::Session::lookupSession(id);
      any |= s != nullptr && s->isLoggedOn();
    }
    // Not Session::disconnect() from here: it closes the descriptor under the reader thread.
    if (any && o_.acceptor_) o_.acceptor_->drop_connections();
  }

  struct Pending {
    FIX::Message msg;
    FIX::SessionID id;
  };
  std::mutex out_mu_;
  std::condition_variable out_cv_;
  std::map<std::pair<std::int64_t, std::uint64_t>, Pending> outbox_;  // (due, seq) -> message
  std::map<FIX::SessionID, std::int64_t> last_due_;
  std::map<FIX::SessionID, int> pending_;
  std::uint64_t out_seq_ = 0;
  bool out_stop_ = false;
  std::thread outbox_thread_;

  FixAcceptor& o_;
  std::map<std::string, std::size_t> by_comp_;              // immutable after construction
  std::map<sim::AccountId, FIX::SessionID> by_account_;     // immutable after construction
  std::string exec_prefix_;
  std::atomic<std::uint64_t> exec_seq_{0};
  Ctx ctx_;  // guarded by the engine mutex
};

FixAcceptor::FixAcceptor(AcceptorConfig cfg, sim::MatchingEngine& engine, std::mutex& engine_mu)
    : cfg_(std::move(cfg)), engine_(engine), engine_mu_(engine_mu) {}

FixAcceptor::~FixAcceptor() {
  stop(true);
  if (cfg_.install_sink) {
    std::lock_guard<std::mutex> lock(engine_mu_);
    engine_.set_sink(nullptr);
  }
}

Result<std::unique_ptr<FixAcceptor>> FixAcceptor::create(AcceptorConfig cfg, sim::MatchingEngine& engine,
                                                         std::mutex& engine_mu) {
  using R = Result<std::unique_ptr<FixAcceptor>>;
  if (cfg.comp_id.empty()) return R(Code::invalid_argument, "FIX acceptor: comp_id is empty");
  if (cfg.accounts.empty()) return R(Code::invalid_argument, "FIX acceptor: no accounts (one FIX session each)");
  if (cfg.store_dir.empty()) return R(Code::invalid_argument, "FIX acceptor: store_dir is empty (FileStore needs one)");
  if (!std::filesystem::exists(cfg.data_dictionary)) {
    return R(Code::not_found, "FIX acceptor: data dictionary '" + cfg.data_dictionary +
                                  "' not found (data/fix/FIX44-sim.xml, relative to the working directory)");
  }
  std::set<std::string> comps;
  std::set<sim::AccountId> accts;
  for (const FixAccount& a : cfg.accounts) {
    if (a.comp_id.empty() || a.comp_id == cfg.comp_id) {
      return R(Code::invalid_argument, "FIX acceptor: account " + std::to_string(a.account) +
                                           ": comp_id empty or equal to the acceptor's '" + cfg.comp_id + "'");
    }
    if (!comps.insert(a.comp_id).second) {
      return R(Code::invalid_argument, "FIX acceptor: comp_id '" + a.comp_id + "' configured twice");
    }
    if (!accts.insert(a.account).second) {
      return R(Code::invalid_argument, "FIX acceptor: account " + std::to_string(a.account) + " configured twice");
    }
  }
  std::error_code ec;
  std::filesystem::create_directories(cfg.store_dir, ec);
  if (ec) return R(Code::io_error, "FIX acceptor: cannot create store_dir '" + cfg.store_dir + "': " + ec.message());
  if (!cfg.log_dir.empty()) {
    std::filesystem::create_directories(cfg.log_dir, ec);
    if (ec) return R(Code::io_error, "FIX acceptor: cannot create log_dir '" + cfg.log_dir + "': " + ec.message());
  }

  std::unique_ptr<FixAcceptor> a(new FixAcceptor(std::move(cfg), engine, engine_mu));
  const AcceptorConfig& c = a->cfg_;
  try {
    a->settings_ = std::make_unique<FIX::SessionSettings>();
    FIX::Dictionary defaults;
    defaults.setString("ConnectionType", "acceptor");
    defaults.setString("FileStorePath", c.store_dir);
    if (!c.log_dir.empty()) defaults.setString("FileLogPath", c.log_dir);
    defaults.setString("StartTime", "00:00:00");  // a 24/7 venue: one session that never ends
    defaults.setString("EndTime", "00:00:00");
    // FIX44-sim.xml (tools/fix/relax_dictionary.py): QuickFIX parses repeating groups with it
    // but leaves app-field validation to fix/codec.hpp, which names the tag.
    defaults.setString("UseDataDictionary", "Y");
    defaults.setString("DataDictionary", c.data_dictionary);
    defaults.setString("AllowUnknownMsgFields", "Y");
    defaults.setString("ValidateUserDefinedFields", "N");
    defaults.setString("CheckLatency", "N");
    defaults.setString("SocketAcceptPort", std::to_string(c.port));
    defaults.setString("PersistMessages", "Y");
    a->settings_->set(defaults);
    for (const FixAccount& acct : c.accounts) {
      FIX::Dictionary d;
      d.setString("BeginString", "FIX.4.4");
      d.setString("SenderCompID", c.comp_id);
      d.setString("TargetCompID", acct.comp_id);
      a->settings_->set(FIX::SessionID("FIX.4.4", c.comp_id, acct.comp_id), d);
    }
    a->app_ = std::make_unique<App>(*a);
    a->store_ = std::make_unique<FIX::FileStoreFactory>(c.store_dir);
    if (!c.log_dir.empty()) a->log_ = std::make_unique<FIX::FileLogFactory>(c.log_dir);
    else a->log_ = std::make_unique<FIX::ScreenLogFactory>(false, false, false);
    a->acceptor_ = std::make_unique<LoopbackAcceptor>(*a->app_, *a->store_, *a->settings_, *a->log_, c.host, c.port);
  } catch (const std::exception& e) {
    return R(Code::invalid_argument, std::string("FIX acceptor: QuickFIX configuration: ") + e.what());
  }
  if (c.install_sink) {
    std::lock_guard<std::mutex> lock(engine_mu);
    engine.set_sink(a.get());
  }
  return R(std::move(a));
}

Status FixAcceptor::start() {
  if (started_) return Status::Ok();
  try {
    acceptor_->start();
  } catch (const std::exception& e) {
    return Status(Code::io_error, std::string("FIX acceptor on ") + cfg_.host + ":" + std::to_string(cfg_.port) +
                                      ": " + e.what());
  }
  app_->start_outbox();
  started_ = true;
  return Status::Ok();
}

void FixAcceptor::stop(bool force) noexcept {
  if (!started_) return;
  try {
    acceptor_->stop(force);
  } catch (...) {
  }
  app_->stop_outbox();
  started_ = false;
}

std::uint16_t FixAcceptor::port() const noexcept { return acceptor_ ? acceptor_->port() : 0; }

bool FixAcceptor::logged_on(const std::string& comp_id) const {
  FIX::Session* s = FIX::Session::lookupSession(FIX::SessionID("FIX.4.4", cfg_.comp_id, comp_id));
  return s != nullptr && s->isLoggedOn();
}

AcceptorStats FixAcceptor::stats() const noexcept {
  const auto& c = app_->stats_;
  AcceptorStats s;
  s.orders = c.orders.load(std::memory_order_relaxed);
  s.cancels = c.cancels.load(std::memory_order_relaxed);
  s.replaces = c.replaces.load(std::memory_order_relaxed);
  s.status_requests = c.status_requests.load(std::memory_order_relaxed);
  s.business_rejects = c.business_rejects.load(std::memory_order_relaxed);
  s.reports_sent = c.reports_sent.load(std::memory_order_relaxed);
  s.cancel_rejects = c.cancel_rejects.load(std::memory_order_relaxed);
  s.logons_refused = c.logons_refused.load(std::memory_order_relaxed);
  s.reports_unrouted = c.reports_unrouted.load(std::memory_order_relaxed);
  s.md_requests = c.md_requests.load(std::memory_order_relaxed);
  s.md_rejects = c.md_rejects.load(std::memory_order_relaxed);
  return s;
}

void FixAcceptor::on_public_trade(const sim::PublicTrade& trade) { app_->on_trade(trade); }
void FixAcceptor::on_book_update(const sim::BookUpdate& update) { app_->on_book(update); }

void FixAcceptor::on_exec_report(sim::AccountId account, const ExecReport& report, std::int64_t deliver_ns) {
  app_->on_report(account, report, deliver_ns);
}

}  // namespace tickrt::fix
