// bus/exec_node.cpp — central risk + OMS + gateway behind NATS request/reply (exec_node.hpp).
#include "bus/exec_node.hpp"

#include <array>
#include <chrono>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <thread>

#include "bus/nats_client.hpp"
#include "bus/wire.hpp"
#include "core/clock.hpp"
#include "exec/binance_gateway.hpp"
#include "exec/journal.hpp"
#include "exec/oms.hpp"
#include "exec/recovery.hpp"
#include "pipeline/gateway_config.hpp"
#include "pipeline/pipeline.hpp"
#include "pipeline/trader.hpp"
#include "risk/risk_engine.hpp"
#include "risk/views.hpp"
#include "sim/matching_engine.hpp"
#include "venue/venue.hpp"

namespace tickrt::bus {

namespace {
constexpr std::uint8_t kTagIntent = 0, kTagControl = 1;
constexpr std::uint8_t kReasonDuplicate = 255;
}  // namespace

struct ExecNode::Impl {
  ExecOptions o;
  std::ostream* out = nullptr;
  std::unique_ptr<sim::MatchingEngine> engine;
  std::unique_ptr<venue::VenueServer> venue;
  std::unique_ptr<exec::Journal> journal;
  std::unique_ptr<exec::RequestRing> outbound;
  std::unique_ptr<exec::ReportRing> inbound;
  std::unique_ptr<exec::Oms> oms;
  std::unique_ptr<risk::RiskEngine> risk;
  std::unique_ptr<exec::BinanceGateway> gateway;
  std::unique_ptr<NatsConn> conn;
  std::unique_ptr<MsgRing> ring;
  struct Sym {
    std::string name;
    exec::SymbolName sname;
    risk::SymbolId risk_id = 0;
    int oms_idx = -1;
    std::uint64_t last_md_seq = 0;
    bool dirty = false;
    std::string acct_subject;
    std::uint64_t orders = 0, refused = 0, cancels = 0, fills = 0;
  };
  std::vector<Sym> syms;
  std::uint64_t view_version = 0;
  std::array<std::uint8_t, 8192> buf{};

  int find(const exec::SymbolName& s) const noexcept {
    for (std::size_t i = 0; i < syms.size(); ++i)
      if (syms[i].sname == s) return static_cast<int>(i);
    return -1;
  }
  std::size_t open_of(int oms_idx, std::array<risk::OpenOrder, 64>& outv) const noexcept {
    return pipeline::open_orders_of(*oms, oms_idx, outv, false);
  }
  void view_of(const Sym& s, AccountView& v) noexcept {
    std::array<risk::OpenOrder, 64> open;
    const std::size_t n = open_of(s.oms_idx, open);
    v.version = ++view_version;
    v.position = Qty::from_raw(oms->position(s.oms_idx).qty_raw);
    v.kill = risk->latched();
    v.n = static_cast<std::uint8_t>(std::min(n, kMaxViewOrders));
    for (std::size_t i = 0; i < v.n; ++i) {
      WireOrder& w = v.orders[i];
      w.id = open[i].client_order_id;
      w.exchange_order_id = open[i].exchange_order_id;
      w.side = open[i].side;
      w.type = open[i].type;
      w.cancel_pending = open[i].cancel_pending;
      w.price = open[i].price;
      w.leaves = open[i].leaves;
      w.sent_ns = open[i].sent_ns;
    }
  }
  void publish_view(Sym& s, ExecCounters& c) noexcept {
    AccountView v;
    view_of(s, v);
    const std::size_t n = encode_account(v, s.name, now_ns(), buf);
    if (n > 0 && natsConnection_Publish(conn->nc(), s.acct_subject.c_str(), buf.data(), static_cast<int>(n)) == NATS_OK)
      ++c.views_published;
    s.dirty = false;
  }
  std::size_t poll_reports(ExecCounters& c) noexcept {
    if (risk->latched() && oms->open_orders() > 0) (void)oms->cancel_all();
    const std::size_t n = oms->poll([&](const exec::OmsEvent& ev) {
      const exec::ExecReport& rep = *ev.report;
      const int si = find(rep.symbol);
      if (si >= 0) syms[static_cast<std::size_t>(si)].dirty = true;
      if (ev.fill_applied) {
        ++c.fills;
        if (si >= 0) ++syms[static_cast<std::size_t>(si)].fills;
        risk::SymbolId rid;
        if (risk->find(rep.symbol, rid)) (void)risk->on_fill(rid, rep);
      } else if (rep.exec_type == exec::ExecType::rejected) {
        ++c.rejects;
      }
    });
    for (Sym& s : syms)
      if (s.dirty) publish_view(s, c);
    return n;
  }
  void on_intent(const Delivered& d, ExecCounters& c) noexcept;
  void on_control(const Delivered& d, ExecCounters& c) noexcept;
};

ExecNode::ExecNode(std::unique_ptr<Impl> i) : impl_(std::move(i)) {}

ExecNode::~ExecNode() {
  Impl& m = *impl_;
  m.conn.reset();
  if (m.gateway) m.gateway->stop();
  if (m.journal) m.journal->close();
  if (m.venue) m.venue->stop();
}

Result<std::unique_ptr<ExecNode>> ExecNode::create(const ExecOptions& o, std::ostream& out) {
  auto im = std::make_unique<Impl>();
  Impl& m = *im;
  m.o = o;
  m.out = &out;
  const pipeline::PipelineConfig& cfg = o.cfg;
  if (o.symbols.empty()) return Status(Code::invalid_argument, "exec: no symbol (--symbols: every symbol of every shard)");
  if (o.symbols.size() > risk::RiskEngine::kMaxSymbols)
    return Status(Code::invalid_argument, "exec --symbols: at most " + std::to_string(risk::RiskEngine::kMaxSymbols));

  // Venue: the in-process simulator (no market data: its books are the orders it is sent) or a
  // real / separate one at feed.rest_url.
  if (cfg.source != pipeline::FeedSource::url) {
    venue::SimSetup s = venue::default_sim_setup();
    s.venue.port = 0;
    s.venue.captures.clear();
    m.engine = std::make_unique<sim::MatchingEngine>(s.engine);
    if (!m.engine->status().ok()) return m.engine->status().with_context("exec: sim engine");
    m.venue = std::make_unique<venue::VenueServer>(s.venue, *m.engine);
    TICKRT_RETURN_IF_ERROR(m.venue->start().with_context("exec: venue"));
  }
  // The [exec] gateway settings (spin / sleep / cpu too) mapped as the single process maps them.
  auto gc = pipeline::gateway_config(cfg, m.venue ? m.venue->port() : std::uint16_t{0});
  if (!gc.ok()) return gc.status().with_context("exec");
  const exec::BinanceConfig& bc = gc.value();

  std::uint32_t session = exec::clock_session_number();  // no journal: ids still differ across restarts
  exec::JournalContents jc;  // the journal as it was before this session (restart recovery input)
  if (!cfg.journal.empty()) {
    auto j = exec::Journal::open(cfg.journal);
    if (!j.ok()) return j.status().with_context("exec.journal");
    m.journal = std::move(j.value());
    auto loaded = m.journal->load();
    if (!loaded.ok()) return loaded.status().with_context("exec.journal " + cfg.journal);
    jc = std::move(loaded.value());
    auto s = m.journal->begin_session(cfg.id_prefix);
    if (!s.ok()) return s.status().with_context("exec.journal");
    session = s.value();
  }
  m.outbound = std::make_unique<exec::RequestRing>(1024);
  m.inbound = std::make_unique<exec::ReportRing>(4096);
  exec::GatewayRings rings{m.outbound.get(), m.inbound.get()};
  exec::OmsConfig oc;
  oc.id_prefix = cfg.id_prefix;
  oc.session = session;
  oc.max_open_orders = 256;
  oc.symbols = o.symbols;
  auto oms = exec::Oms::create(oc, rings, m.journal.get());
  if (!oms.ok()) return oms.status().with_context("exec");
  m.oms = std::move(oms.value());

  // The account's limits, mapped from the config as the single process's (pipeline/trader.hpp); the
  // account-wide ones now span every shard: per-symbol caps x symbols unless given.
  const std::uint32_t n_syms = static_cast<std::uint32_t>(o.symbols.size());
  const risk::AccountLimits al = pipeline::account_limits(
      cfg, o.max_open_orders_account > 0 ? static_cast<std::uint32_t>(o.max_open_orders_account) : static_cast<std::uint32_t>(cfg.max_open_orders) * n_syms,
      o.max_orders_per_s_account > 0 ? static_cast<std::uint32_t>(o.max_orders_per_s_account) : static_cast<std::uint32_t>(cfg.max_orders_per_s) * n_syms);
  auto re = risk::RiskEngine::create(al, now_ns());
  if (!re.ok()) return re.status().with_context("risk");
  m.risk = std::move(re.value());
  for (const std::string& s : o.symbols) {
    auto rid = m.risk->add_symbol(s, pipeline::symbol_limits(cfg, s));  // per-symbol sizes as the single process
    if (!rid.ok()) return rid.status().with_context("risk." + s);
    Impl::Sym sym;
    sym.name = s;
    sym.sname = exec::SymbolName::from(s);
    sym.risk_id = rid.value();
    sym.oms_idx = m.oms->symbol_index(s);
    sym.acct_subject = "ex.acct." + s;
    if (sym.oms_idx < 0) return Status(Code::internal, "oms: symbol " + s + " not configured");
    m.syms.push_back(std::move(sym));
  }
  m.gateway = std::make_unique<exec::BinanceGateway>(bc);
  // Restart recovery before the gateway starts, as the single process does (pipeline/runtime.cpp): the
  // journal's orders and fills replayed into the OMS, then reconciled with the exchange; what cannot be
  // explained fails closed. The in-process simulator starts empty: nothing of an earlier run is on it.
  if (!jc.records.empty() && cfg.recover) {
    if (m.venue) {
      out << "exec: recovery: exec.journal " << cfg.journal << " holds " << jc.records.size()
          << " rows from earlier runs against another in-process venue (this one starts empty): not reconciled\n";
    } else {
      exec::RecoveryConfig rc;
      rc.full_trade_history = cfg.recovery_full_history;
      rc.allow_foreign_orders = cfg.allow_foreign_orders;
      exec::RecoveryReport rep;
      Status st = m.gateway->sync_time().with_context("exec recovery");
      if (st.ok()) st = exec::recover(jc, *m.oms, *m.gateway, m.journal.get(), rc, rep).with_context("exec recovery");
      if (!st.ok() || !rep.ok) {
        std::string msg = std::string(pipeline::kRecoveryFailedClosed) + " (exec.journal " + cfg.journal + ", " + cfg.rest_url + "): ";
        if (!st.ok()) msg += "exchange not reachable: " + st.to_string();
        for (std::size_t i = 0; i < rep.mismatches.size(); ++i) msg += (i ? "; " : "") + rep.mismatches[i];
        msg += ". No order was sent (OMS halted, gateway not started).";
        return Status(Code::out_of_sync, msg);
      }
      // Risk starts from the recovered positions (pipeline/trader.cpp Trader::recover does the same).
      for (const Impl::Sym& s : m.syms) {
        const exec::Position& pos = m.oms->position(s.oms_idx);
        m.risk->seed_position(s.risk_id, s.sname, pos.qty_raw, pos.avg_price_raw, now_ns());
      }
      out << "exec: recovery: " << rep.summary() << "\n";
    }
  }
  TICKRT_RETURN_IF_ERROR(m.gateway->start(rings).with_context("exec gateway"));

  auto c = NatsConn::connect(o.url, "tickrt-exec", true);
  if (!c.ok()) return c.status().with_context("exec --nats");
  m.conn = std::move(c.value());
  m.ring = std::make_unique<MsgRing>(8192);
  TICKRT_RETURN_IF_ERROR(m.conn->subscribe("ex.intent.*", *m.ring, kTagIntent));
  TICKRT_RETURN_IF_ERROR(m.conn->subscribe(std::string(kControlSubject), *m.ring, kTagControl));
  natsConnection_Flush(m.conn->nc());
  return std::unique_ptr<ExecNode>(new ExecNode(std::move(im)));
}

void ExecNode::Impl::on_intent(const Delivered& d, ExecCounters& c) noexcept {
  const char* reply = natsMsg_GetReply(d.msg);
  Header h;
  IntentMsg im;
  const auto* data = reinterpret_cast<const std::uint8_t*>(natsMsg_GetData(d.msg));
  const WireError e = decode_intent(std::span<const std::uint8_t>(data, static_cast<std::size_t>(natsMsg_GetDataLength(d.msg))), h, im);
  ++c.intent_msgs;
  const int si = e == WireError::ok ? find(h.symbol) : -1;
  if (si < 0) {
    ++c.bad_msgs;  // garbled or an unknown symbol: no answer (the shard times out and counts it)
    return;
  }
  Sym& s = syms[static_cast<std::size_t>(si)];
  const std::int64_t now = now_ns();
  AnswerMsg a;
  a.n = im.n;
  if (im.md_seq != 0 && im.md_seq <= s.last_md_seq) {
    ++c.duplicates;
    for (std::size_t i = 0; i < im.n; ++i) { a.verdict[i] = Verdict::failed; a.reason[i] = kReasonDuplicate; }
  } else {
    s.last_md_seq = im.md_seq;
    risk::MarketTop top;
    top.bid = im.top.bid;
    top.ask = im.top.ask;
    top.state = static_cast<book::BookState>(im.top.state);
    top.crossed = im.top.crossed;
    // The book's age as the shard sent it, re-based on this clock (see the header).
    top.update_ns = im.top.update_ns == 0 ? 0 : d.recv_ns - (h.stamp_ns - im.top.update_ns);
    (void)risk->on_market(s.risk_id, top);
    if (top.has_both_sides()) oms->mark(s.oms_idx, Price::from_raw(top.mid_raw()));
    std::array<risk::OpenOrder, 64> open;
    const std::size_t n_open = open_of(s.oms_idx, open);
    const risk::Exposure ex = risk::exposure_of(std::span<const risk::OpenOrder>(open.data(), n_open),
                                                static_cast<std::uint32_t>(oms->open_orders()));
    for (std::size_t i = 0; i < im.n; ++i) {
      const WireIntent& in = im.intents[i];
      ++c.intents;
      if (in.kind == 0) {
        exec::OrderRequest req;
        req.symbol = s.sname;
        req.side = in.side;
        req.type = in.type;
        req.tif = in.tif;
        req.stp = in.stp;
        req.price = in.price;
        req.qty = in.qty;
        req.created_ns = now;
        const risk::Reason why = risk->check_new(s.risk_id, req, ex, now);
        if (why != risk::Reason::ok) {
          a.verdict[i] = Verdict::refused;
          a.reason[i] = static_cast<std::uint8_t>(why);
          ++c.refused;
          ++c.refused_by[static_cast<std::size_t>(why) & 31];
          ++s.refused;
          continue;
        }
        exec::ClientOrderId id;
        const exec::SubmitResult sr = oms->submit(req, &id);
        if (sr != exec::SubmitResult::ok) {
          a.verdict[i] = Verdict::failed;
          a.reason[i] = static_cast<std::uint8_t>(sr);
          ++c.failed;
          ++c.failed_by[static_cast<std::size_t>(sr) & 31];
          continue;
        }
        a.verdict[i] = Verdict::accepted;
        a.id[i] = id;
        ++c.orders;
        ++s.orders;
      } else {
        const risk::Reason cr = risk->check_cancel(s.risk_id, now);
        if (cr != risk::Reason::ok) {
          a.verdict[i] = Verdict::refused;
          a.reason[i] = static_cast<std::uint8_t>(cr);
          ++c.refused;
          ++c.refused_by[static_cast<std::size_t>(cr) & 31];
          continue;
        }
        const exec::SubmitResult cs = oms->cancel(in.orig_id);
        if (cs == exec::SubmitResult::ok) {
          a.verdict[i] = Verdict::accepted;
          ++c.cancels;
          ++s.cancels;
        } else {
          a.verdict[i] = Verdict::failed;
          ++c.failed;
          ++c.failed_by[static_cast<std::size_t>(cs) & 31];
        }
      }
    }
  }
  view_of(s, a.view);
  const std::size_t n = encode_answer(a, s.name, h.seq, now_ns(), buf);
  if (reply != nullptr && n > 0) natsConnection_Publish(conn->nc(), reply, buf.data(), static_cast<int>(n));
}

void ExecNode::Impl::on_control(const Delivered& d, ExecCounters& c) noexcept {
  Header h;
  ControlMsg cm;
  const auto* data = reinterpret_cast<const std::uint8_t*>(natsMsg_GetData(d.msg));
  if (decode_control(std::span<const std::uint8_t>(data, static_cast<std::size_t>(natsMsg_GetDataLength(d.msg))), h, cm) != WireError::ok) {
    ++c.bad_msgs;
    return;
  }
  ++c.controls;
  const std::int64_t now = now_ns();
  switch (cm.action) {
    case ControlAction::kill:
      risk->kill(risk::KillCause::operator_, now);
      (void)oms->cancel_all();
      break;
    case ControlAction::cancel_all:
      (void)oms->cancel_all();
      break;
    case ControlAction::reset:
      (void)risk->reset("operator reset over NATS", now);
      break;
  }
  for (Sym& s : syms) publish_view(s, c);  // every shard learns the new state (kill flag)
}

Status ExecNode::run(const std::atomic<bool>& stop) {
  Impl& m = *impl_;
  const std::int64_t t0 = now_ns();
  std::int64_t last_intent = t0;
  Delivered d;
  for (;;) {
    bool work = false;
    while (m.ring->try_pop(d)) {
      work = true;
      if (d.tag == kTagIntent) {
        m.on_intent(d, c_);
        service_.record(now_ns() - d.recv_ns);
        last_intent = now_ns();
      } else {
        m.on_control(d, c_);
      }
      natsMsg_Destroy(d.msg);
    }
    if (m.poll_reports(c_) > 0) work = true;
    const std::int64_t now = now_ns();
    if (stop.load(std::memory_order_relaxed)) break;
    if (m.o.idle_exit_s > 0 && now - last_intent > static_cast<std::int64_t>(m.o.idle_exit_s * 1e9)) break;
    if (m.o.duration_s > 0 && now - t0 > static_cast<std::int64_t>(m.o.duration_s * 1e9)) break;
    if (!work) std::this_thread::sleep_for(std::chrono::microseconds(20));
  }
  // Shutdown: cancel what is open, wait for the answers (as the single process does).
  c_.cancels_at_shutdown = m.oms->cancel_all();
  const std::int64_t deadline = now_ns() + static_cast<std::int64_t>(m.o.cfg.cancel_timeout_ms) * 1'000'000;
  while (m.oms->open_orders() > 0 && now_ns() < deadline) {
    if (m.poll_reports(c_) == 0) std::this_thread::sleep_for(std::chrono::microseconds(200));
    if (m.oms->open_orders() > 0) c_.cancels_at_shutdown += m.oms->cancel_all();
  }
  for (int i = 0; i < 20; ++i)
    if (m.poll_reports(c_) == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  c_.open_at_end = m.oms->open_orders();
  c_.seconds = static_cast<double>(now_ns() - t0) / 1e9;
  if (m.journal) TICKRT_RETURN_IF_ERROR(m.journal->flush().with_context("journal flush"));
  return Status::Ok();
}

std::string ExecNode::report() const {
  const Impl& m = *impl_;
  std::string s;
  char buf[512];
  std::snprintf(buf, sizeof(buf),
                "exec: %" PRIu64 " intent messages, %" PRIu64 " intents: %" PRIu64 " orders, %" PRIu64 " cancels, %" PRIu64
                " refused by risk, %" PRIu64 " failed, %" PRIu64 " duplicates; %" PRIu64 " fills, %" PRIu64 " rejects; %" PRIu64
                " account views; %" PRIu64 " control; shutdown %" PRIu64 " cancels, %" PRIu64 " open at end; kill %s\n",
                c_.intent_msgs, c_.intents, c_.orders, c_.cancels, c_.refused, c_.failed, c_.duplicates, c_.fills, c_.rejects,
                c_.views_published, c_.controls, c_.cancels_at_shutdown, c_.open_at_end, m.risk->latched() ? "LATCHED" : "off");
  s += buf;
  if (c_.refused > 0 || c_.failed > 0) {
    s += "exec refused by rule:";
    for (std::size_t r = 1; r < risk::kReasonCount && r < 32; ++r)
      if (c_.refused_by[r] > 0) {
        std::snprintf(buf, sizeof(buf), " %s %" PRIu64, std::string(risk::reason_name(static_cast<risk::Reason>(r))).c_str(), c_.refused_by[r]);
        s += buf;
      }
    s += "; failed (OMS):";
    for (std::size_t r = 0; r < 32; ++r)
      if (c_.failed_by[r] > 0) {
        std::snprintf(buf, sizeof(buf), " %s %" PRIu64, std::string(exec::submit_result_name(static_cast<exec::SubmitResult>(r))).c_str(), c_.failed_by[r]);
        s += buf;
      }
    s += "\n";
  }
  for (const auto& x : m.syms) {
    const exec::Position& p = m.oms->position(x.oms_idx);
    std::snprintf(buf, sizeof(buf), "exec symbol %s orders %" PRIu64 " cancels %" PRIu64 " refused %" PRIu64 " fills %" PRIu64
                  " position_raw %" PRId64 "\n", x.name.c_str(), x.orders, x.cancels, x.refused, x.fills, p.qty_raw);
    s += buf;
  }
  std::snprintf(buf, sizeof(buf), "exec service time (delivery -> reply sent): p50 %.1f us, p99 %.1f us, n %" PRIu64 "\n",
                service_.percentile(50) / 1e3, service_.percentile(99) / 1e3, service_.count());
  s += buf;
  return s;
}

}  // namespace tickrt::bus
