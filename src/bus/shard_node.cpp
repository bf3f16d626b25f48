// bus/shard_node.cpp — one shard: bus events -> book -> features -> model -> strategy -> intents (shard_node.hpp).
#include "bus/shard_node.hpp"

#include <array>
#include <chrono>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <thread>

#include "bus/nats_client.hpp"
#include "bus/wire.hpp"
#include "core/clock.hpp"
#include "pipeline/infer_stage.hpp"
#include "pipeline/market.hpp"
#include "pipeline/model.hpp"
#include "pipeline/trader.hpp"
#include "risk/views.hpp"
#include "strategy/signal_strategy.hpp"

namespace tickrt::bus {

// The wire's enum ranges (bus/wire.hpp) are these enums' last values.
static_assert(static_cast<std::uint8_t>(strategy::CancelWhy::reprice) == kMaxCancelWhy);
static_assert(static_cast<std::uint8_t>(book::BookState::resyncing) == kMaxBookState);

namespace {
constexpr std::uint8_t kTagMd = 0, kTagAccount = 1, kTagControl = 2;
constexpr std::size_t kLevels = 1u << 17;
}  // namespace

struct ShardNode::Impl {
  ShardOptions o;
  std::ostream* out = nullptr;
  TscClock clock;
  features::FeatureConfig fc;
  book::L2Book::Config bc = pipeline::MarketHandler::small_book_config();
  std::shared_ptr<const pipeline::LoadedModel> model;
  std::unique_ptr<pipeline::ModelSlot> slot;
  std::unique_ptr<pipeline::InferStage> stage;
  std::unique_ptr<NatsConn> md;    // consumers, account views, control (one delivery thread)
  std::unique_ptr<NatsConn> req;   // intent requests (its own reply dispatch)
  std::unique_ptr<MsgRing> ring;
  std::vector<feed::Level> levels = std::vector<feed::Level>(kLevels);
  std::FILE* events = nullptr;
  bool halted = false;             // kill switch seen on ctl.all / in a view (until reset)
  std::uint64_t req_seq = 0;
  std::array<std::uint8_t, 4096> buf{};

  struct Sym {
    std::string name;
    exec::SymbolName sname;
    std::string durable, filter, intent_subject;
    std::unique_ptr<pipeline::SymbolState> st;
    std::uint64_t last_seq = 0;
    std::unique_ptr<strategy::SignalStrategy> strat;
    AccountView view;
    std::int64_t book_update_ns = 0;
  };
  std::vector<Sym> syms;

  int find(const exec::SymbolName& s) const noexcept {
    for (std::size_t i = 0; i < syms.size(); ++i)
      if (syms[i].sname == s) return static_cast<int>(i);
    return -1;
  }

  // The single process's per-message rule (pipeline/market.cpp MarketHandler::handle) on a decoded
  // event: book first, then the row of a crossed boundary from the features' state BEFORE the
  // message, then the features see it. Returns 1 when a model window is due (meta filled).
  int apply(std::size_t si, feed::Market m, const feed::Event& ev, pipeline::SampleMeta& meta, ShardCounters& c) noexcept {
    Sym& s = syms[si];
    const feed::EventKind k = ev.kind;
    if (k != feed::EventKind::trade && k != feed::EventKind::depth_update && k != feed::EventKind::depth_snapshot) return 0;
    if (!s.st) s.st = std::make_unique<pipeline::SymbolState>(m, fc, bc);  // first message: the one allocation
    pipeline::SymbolState& x = *s.st;
    ++x.messages;
    const std::int64_t ts = ev.local_ts_ns;
    const std::int64_t P = fc.sample_period_ns;
    bool book_changed = false;
    if (k == feed::EventKind::depth_update) {
      book_changed = x.book.on_diff(ev.depth) == book::DiffResult::applied;
    } else if (k == feed::EventKind::depth_snapshot) {
      (void)x.book.on_snapshot(ev.snapshot.last_update_id, ev.snapshot.bids, ev.snapshot.asks);
      book_changed = true;
    }
    if (book_changed) x.book_update_ns = now_ns();
    int due = 0;
    if (P > 0 && x.next_sample != 0 && ts >= x.next_sample) {
      float row[features::kNumFeatures];
      for (; x.next_sample <= ts; x.next_sample += P) x.fe.sample(x.next_sample, row);
      ++x.samples;
      if (x.fe.samples() >= fc.window && x.book.tradable()) {
        due = 1;
        ++c.samples;
      }
    }
    if (k == feed::EventKind::trade) x.fe.on_trade(ev.trade, ts);
    else x.fe.on_book(x.book, ts);
    if (P > 0 && x.next_sample == 0 && x.fe.ready()) x.next_sample = (ts / P + 1) * P;
    if (due) {
      meta.symbol = static_cast<feed::SymbolId>(si);
      meta.sample_ts_ns = x.next_sample - P;
      meta.tradable = x.book.tradable();
      if (!x.book.best_bid(meta.best_bid)) meta.best_bid = {};
      if (!x.book.best_ask(meta.best_ask)) meta.best_ask = {};
      meta.book_update_ns = x.book_update_ns;
    }
    return due;
  }

  void decide(std::size_t si, const pipeline::SampleMeta& meta, std::int64_t feed_recv_ns, ShardCounters& c,
              LatencyHistogram& exec_hop) noexcept;
};

ShardNode::ShardNode(std::unique_ptr<Impl> i) : impl_(std::move(i)) {}

ShardNode::~ShardNode() {
  Impl& m = *impl_;
  m.md.reset();
  m.req.reset();
  if (m.events != nullptr) std::fclose(m.events);
}

Result<std::unique_ptr<ShardNode>> ShardNode::create(const ShardOptions& o, std::ostream& out) {
  auto im = std::make_unique<Impl>();
  Impl& m = *im;
  m.o = o;
  m.out = &out;
  const pipeline::PipelineConfig& cfg = o.cfg;
  if (o.symbols.empty()) return Status(Code::invalid_argument, "run --source nats://: --symbols needs at least one symbol");
  auto clk = TscClock::calibrate(std::chrono::milliseconds(20));
  if (!clk.ok()) return clk.status();
  m.clock = clk.value();

  // Model: as the single process loads it (inline mode: batch 1).
  pipeline::ModelOptions mo;
  mo.path = pipeline::resolve_path(cfg, cfg.model);
  mo.max_batch = 1;
  mo.workspace_limit = static_cast<std::size_t>(cfg.workspace_limit_mb) << 20;
  mo.require_golden = cfg.require_golden;
  mo.golden_tol = cfg.golden_tol;
  std::string note;
  auto dev = pipeline::choose_device(cfg.engine_device, cfg.engine_fallback, note);
  if (!dev.ok()) return dev.status();
  if (!note.empty()) out << "warning: " << note << "\n";
  mo.device = dev.value();
  auto lm = pipeline::load_model(mo);
  if (!lm.ok()) return lm.status().with_context("model.path");
  m.model = lm.value();
  auto inst = pipeline::make_instance(m.model, 1);
  if (!inst.ok()) return inst.status();
  m.slot = std::make_unique<pipeline::ModelSlot>(std::move(inst.value()));
  m.stage = std::make_unique<pipeline::InferStage>(*m.slot, pipeline::BatchConfig{1, 0, false}, m.clock);

  for (const std::string& name : o.symbols) {
    if (name.empty() || name.size() > kMaxSymbolLen || name.find_first_of(".*> ") != std::string::npos)
      return Status(Code::invalid_argument, "--symbols: '" + name + "' is not a symbol name (no wildcards; <= 23 chars)");
    Impl::Sym s;
    s.name = name;
    s.sname = exec::SymbolName::from(name);
    s.durable = o.node + "_" + name;
    s.filter = "md." + o.venue + "." + name + ".>";
    s.intent_subject = "ex.intent." + name;
    // The strategy, configured exactly as the single process's (pipeline/trader.hpp strategy_config).
    auto sc = pipeline::strategy_config(cfg, name);
    if (!sc.ok()) return sc.status();
    auto st = strategy::SignalStrategy::create(sc.value());
    if (!st.ok()) return st.status().with_context("strategy." + name);
    s.strat = std::make_unique<strategy::SignalStrategy>(std::move(st.value()));
    m.syms.push_back(std::move(s));
  }
  if (m.syms.size() > 64) return Status(Code::invalid_argument, "--symbols: at most 64 per shard");

  auto c = NatsConn::connect(o.url, "tickrt-shard-" + o.node, true);
  if (!c.ok()) return c.status().with_context("run --source");
  m.md = std::move(c.value());
  if (cfg.trade) {
    auto r = NatsConn::connect(o.url, "tickrt-shard-" + o.node + "-req", false);
    if (!r.ok()) return r.status().with_context("run --source (requests)");
    m.req = std::move(r.value());
  }
  TICKRT_RETURN_IF_ERROR(m.md->ensure_stream(o.stream, {"md.>"}, false).with_context("shard"));
  m.ring = std::make_unique<MsgRing>(1 << 16);
  if (!o.events_out.empty()) {
    m.events = std::fopen(o.events_out.c_str(), "a");
    if (m.events == nullptr) return Status(Code::io_error, "--events-out " + o.events_out + ": cannot open");
  }

  // Per symbol: where did this node stop? Replay up to there through book + features, then
  // (re)create the durable consumer to start right after it.
  ShardCounters rc;
  for (std::size_t i = 0; i < m.syms.size(); ++i) {
    Impl::Sym& s = m.syms[i];
    const std::uint64_t floor = m.md->ack_floor(o.stream, s.durable);
    if (floor > 0 && o.rebuild) {
      Status st = m.md->replay(s.filter, floor, [&](natsMsg* msg) {
        Header h;
        feed::Event ev;
        const auto* d = reinterpret_cast<const std::uint8_t*>(natsMsg_GetData(msg));
        if (decode_event(std::span<const std::uint8_t>(d, static_cast<std::size_t>(natsMsg_GetDataLength(msg))), h, ev, m.levels) !=
            WireError::ok)
          return;
        pipeline::SampleMeta meta;
        (void)m.apply(i, h.market, ev, meta, rc);  // state only: no inference, no intents
        s.last_seq = h.seq;
        ++rc.replayed;
      });
      if (!st.ok()) return st.with_context("shard restart: rebuilding " + s.name);
      out << "shard " << o.node << ": " << s.name << " resumed after stream seq " << floor << " (symbol seq " << s.last_seq
          << ", book and features rebuilt by replay)\n";
    }
    TICKRT_RETURN_IF_ERROR(m.md->delete_consumer(o.stream, s.durable));
    TICKRT_RETURN_IF_ERROR(m.md->ensure_push_consumer(o.stream, s.durable, s.filter, "_dlv." + s.durable, 30000, floor + 1));
    TICKRT_RETURN_IF_ERROR(m.md->bind_push(o.stream, s.durable, *m.ring, kTagMd));
  }
  TICKRT_RETURN_IF_ERROR(m.md->subscribe("ex.acct.*", *m.ring, kTagAccount));
  TICKRT_RETURN_IF_ERROR(m.md->subscribe(std::string(kControlSubject), *m.ring, kTagControl));
  natsConnection_Flush(m.md->nc());
  std::unique_ptr<ShardNode> node(new ShardNode(std::move(im)));
  node->c_.replayed = rc.replayed;
  return node;
}

void ShardNode::Impl::decide(std::size_t si, const pipeline::SampleMeta& meta, std::int64_t feed_recv_ns, ShardCounters& c,
                             LatencyHistogram& exec_hop) noexcept {
  Sym& s = syms[si];
  pipeline::InferResult res;
  if (!stage->infer_one(meta, s.st->fe, res)) return;
  ++c.inferences;
  if (!o.cfg.trade || !res.ok || res.n_out < 3) return;
  risk::MarketTop top;
  top.bid = meta.best_bid.price;
  top.ask = meta.best_ask.price;
  top.state = meta.tradable ? book::BookState::synced : book::BookState::resyncing;
  top.crossed = false;
  top.update_ns = meta.book_update_ns;
  std::array<risk::OpenOrder, kMaxViewOrders> open;
  for (std::size_t i = 0; i < s.view.n; ++i) {
    const WireOrder& w = s.view.orders[i];
    risk::OpenOrder& x = open[i];
    x.symbol = s.sname;
    x.client_order_id = w.id;
    x.exchange_order_id = w.exchange_order_id;
    x.side = w.side;
    x.type = w.type;
    x.price = w.price;
    x.leaves = w.leaves;
    x.sent_ns = w.sent_ns;
    x.cancel_pending = w.cancel_pending;
  }
  strategy::AccountView acct;
  acct.position = s.view.position;
  acct.open = std::span<const risk::OpenOrder>(open.data(), s.view.n);
  std::array<strategy::Intent, strategy::SignalStrategy::kMaxIntents> intents;
  const std::int64_t now = now_ns();
  const std::size_t n = s.strat->on_model_output(res.out, top, acct, now, intents);
  if (n == 0) return;
  IntentMsg im;
  im.md_seq = s.last_seq;
  im.recv_ns = feed_recv_ns;
  im.top.bid = top.bid;
  im.top.ask = top.ask;
  im.top.state = static_cast<std::uint8_t>(top.state);
  im.top.crossed = top.crossed;
  im.top.update_ns = top.update_ns;
  const strategy::Probabilities& p = s.strat->last_probabilities();
  im.p_down = static_cast<float>(p.down);
  im.p_up = static_cast<float>(p.up);
  for (std::size_t i = 0; i < n && im.n < kMaxIntents; ++i) {
    const strategy::Intent& in = intents[i];
    if (halted && in.kind == strategy::Intent::Kind::new_order) continue;  // kill switch: cancels only
    WireIntent& w = im.intents[im.n++];
    w.kind = in.kind == strategy::Intent::Kind::new_order ? 0 : 1;
    w.why = static_cast<std::uint8_t>(in.why);
    w.side = in.order.side;
    w.type = in.order.type;
    w.tif = in.order.tif;
    w.stp = in.order.stp;
    w.price = in.order.price;
    w.qty = in.order.qty;
    w.created_ns = in.order.created_ns;
    w.orig_id = in.cancel.orig_client_order_id;
    w.exchange_order_id = in.cancel.exchange_order_id;
  }
  if (im.n == 0) return;
  c.intents += im.n;
  ++c.intent_msgs;
  const std::int64_t t_send = now_ns();
  const std::size_t len = encode_intent(im, s.name, ++req_seq, t_send, buf);
  if (len == 0) return;
  natsMsg* reply = nullptr;
  const natsStatus st = natsConnection_Request(&reply, req->nc(), s.intent_subject.c_str(), buf.data(), static_cast<int>(len),
                                               o.request_timeout_ms);
  const std::int64_t t_back = now_ns();
  if (st != NATS_OK) {
    ++c.timeouts;  // exec down or slow: the intents are dropped (never resent blindly: no double orders)
    return;
  }
  exec_hop.record(t_back - t_send);
  Header h;
  AnswerMsg a;
  const auto* d = reinterpret_cast<const std::uint8_t*>(natsMsg_GetData(reply));
  const WireError e = decode_answer(std::span<const std::uint8_t>(d, static_cast<std::size_t>(natsMsg_GetDataLength(reply))), h, a);
  natsMsg_Destroy(reply);
  if (e != WireError::ok) {
    ++c.bad;
    return;
  }
  for (std::size_t i = 0; i < a.n && i < im.n; ++i) {
    if (a.verdict[i] == Verdict::accepted) {
      ++c.accepted;
      if (im.intents[i].kind == 0) ++c.orders_new;
      else ++c.cancels;
    } else if (a.verdict[i] == Verdict::refused) {
      ++c.refused;
      const auto why = static_cast<risk::Reason>(a.reason[i]);
      if (im.intents[i].kind == 0 && s.view.n == 0 &&
          (why == risk::Reason::max_open_orders_account || why == risk::Reason::max_position_account))
        ++c.refused_account_flat;
    } else {
      ++c.failed;
    }
  }
  if (a.view.version > s.view.version) s.view = a.view;
  if (a.view.kill) halted = true;
}

Status ShardNode::run(const std::atomic<bool>& stop) {
  Impl& m = *impl_;
  const std::int64_t t0 = now_ns();
  std::int64_t last_md = t0;
  Delivered d;
  feed::Event ev;
  pipeline::SampleMeta meta;
  for (;;) {
    bool work = false;
    while (m.ring->try_pop(d)) {
      work = true;
      const auto* data = reinterpret_cast<const std::uint8_t*>(natsMsg_GetData(d.msg));
      const std::span<const std::uint8_t> bytes(data, static_cast<std::size_t>(natsMsg_GetDataLength(d.msg)));
      Header h;
      if (d.tag == kTagMd) {
        last_md = d.recv_ns;
        const WireError e = decode_event(bytes, h, ev, m.levels);
        const int si = e == WireError::ok ? m.find(h.symbol) : -1;
        if (si < 0) {
          ++c_.bad;
        } else {
          Impl::Sym& s = m.syms[static_cast<std::size_t>(si)];
          bool take = true;
          if (h.seq <= s.last_seq) {
            if (h.seq == 1 && s.last_seq > 1) {
              ++c_.resets;  // a restarted feed: a new sequence
            } else {
              ++c_.duplicates;
              take = false;
            }
          } else if (h.seq != s.last_seq + 1) {
            ++c_.gaps;
          }
          if (take) {
            s.last_seq = h.seq;
            ++c_.messages;
            feed_hop_.record(d.recv_ns - h.stamp_ns);
            if (m.apply(static_cast<std::size_t>(si), h.market, ev, meta, c_) == 1) {
              meta.md_seq = h.seq;
              meta.t.recv = TscClock::ticks();
              meta.t.recv_ns = h.stamp_ns;
              m.decide(static_cast<std::size_t>(si), meta, h.stamp_ns, c_, exec_hop_);
            }
            if (m.events != nullptr) {
              std::fprintf(m.events, "%s %" PRIu64 "\n", s.name.c_str(), h.seq);
              std::fflush(m.events);  // test mode: the line must survive a SIGKILL that follows
            }
          }
        }
        natsMsg_Ack(d.msg, nullptr);  // after processing: a restart resumes right after it
      } else if (d.tag == kTagAccount) {
        AccountView v;
        if (decode_account(bytes, h, v) == WireError::ok) {
          const int si = m.find(h.symbol);
          if (si >= 0 && v.version > m.syms[static_cast<std::size_t>(si)].view.version) {
            m.syms[static_cast<std::size_t>(si)].view = v;
            ++c_.views;
          }
          if (si >= 0) m.halted = v.kill;
        } else {
          ++c_.bad;
        }
      } else {
        ControlMsg cm;
        if (decode_control(bytes, h, cm) == WireError::ok) {
          ++c_.controls;
          if (cm.action == ControlAction::kill) m.halted = true;
          if (cm.action == ControlAction::reset) m.halted = false;
        } else {
          ++c_.bad;
        }
      }
      natsMsg_Destroy(d.msg);
    }
    const std::int64_t now = now_ns();
    if (stop.load(std::memory_order_relaxed)) break;
    if (m.o.idle_exit_s > 0 && now - last_md > static_cast<std::int64_t>(m.o.idle_exit_s * 1e9)) break;
    if (m.o.duration_s > 0 && now - t0 > static_cast<std::int64_t>(m.o.duration_s * 1e9)) break;
    if (!work) std::this_thread::sleep_for(std::chrono::microseconds(20));
  }
  c_.seconds = static_cast<double>(now_ns() - t0) / 1e9;
  return Status::Ok();
}

std::string ShardNode::report() const {
  const Impl& m = *impl_;
  std::string s;
  char buf[640];
  std::snprintf(buf, sizeof(buf),
                "shard %s: %" PRIu64 " messages in %.2f s (%.0f msg/s), %" PRIu64 " replayed at start, %" PRIu64 " duplicates dropped, %" PRIu64
                " gaps, %" PRIu64 " resets, %" PRIu64 " bad; %" PRIu64 " windows, %" PRIu64 " inferences; %" PRIu64
                " intent messages (%" PRIu64 " intents): %" PRIu64 " accepted (%" PRIu64 " orders, %" PRIu64 " cancels), %" PRIu64
                " refused by risk (%" PRIu64 " refused by the account while flat), %" PRIu64 " failed, %" PRIu64 " timeouts; %" PRIu64
                " account views, %" PRIu64 " control\n",
                m.o.node.c_str(), c_.messages, c_.seconds, c_.seconds > 0 ? c_.messages / c_.seconds : 0.0, c_.replayed, c_.duplicates,
                c_.gaps, c_.resets, c_.bad, c_.samples, c_.inferences, c_.intent_msgs, c_.intents, c_.accepted, c_.orders_new,
                c_.cancels, c_.refused, c_.refused_account_flat, c_.failed, c_.timeouts, c_.views, c_.controls);
  s += buf;
  for (const auto& x : m.syms) {
    std::snprintf(buf, sizeof(buf), "shard symbol %s last_seq %" PRIu64 " position_raw %" PRId64 " open %u\n", x.name.c_str(),
                  x.last_seq, x.view.position.raw, static_cast<unsigned>(x.view.n));
    s += buf;
  }
  auto line = [&](const char* what, const LatencyHistogram& h) {
    std::snprintf(buf, sizeof(buf), "%s: p50 %.1f us, p99 %.1f us, max %.1f us, n %" PRIu64 "\n", what, h.percentile(50) / 1e3,
                  h.percentile(99) / 1e3, static_cast<double>(h.max()) / 1e3, h.count());
    s += buf;
  };
  line("hop feed -> strategy (feed took the line -> shard delivery)", feed_hop_);
  line("hop strategy -> execution (intent request round trip)", exec_hop_);
  return s;
}

}  // namespace tickrt::bus
