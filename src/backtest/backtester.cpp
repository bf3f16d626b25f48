// backtest/backtester.cpp — the replay loop and its simulated gateway (see backtester.hpp).
#include "backtest/backtester.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>

#include "backtest/metrics.hpp"
#include "backtest/sim_gateway.hpp"
#include "core/clock.hpp"
#include "exec/gateway.hpp"
#include "infer/engine.hpp"
#include "infer/window_prefix.hpp"
#include "pipeline/infer_stage.hpp"
#include "pipeline/market.hpp"
#include "pipeline/model.hpp"
#include "pipeline/trader.hpp"
#include "sim/matching_engine.hpp"

namespace tickrt::backtest {

namespace {

constexpr sim::AccountId kAccount = 1;
constexpr std::int64_t kNever = std::numeric_limits<std::int64_t>::max();

// Seed of each draw stream: one per kind, so the twin (no inference draws) keeps the others'.
enum Stream : std::uint64_t { kFeatures = 1, kInference = 2, kOrderOut = 3, kOrderBack = 4 };
std::uint64_t stream_seed(std::uint64_t seed, Stream s) {
  Rng r(seed * 0x9E3779B97F4A7C15ull + static_cast<std::uint64_t>(s));
  return r.next();
}

// The measured-latency loops' one shape, for every engine kind (window, streaming step, window
// prefix): the first kWarmupWindows windows once untimed (caches, branch predictors, lazily built
// state), then every window once, timed. work(k, keep) does window k's work, reading
// TscClock::ticks() around what it charges and keeping the spans only when `keep`; its first
// non-ok Code stops the loop and is returned.
constexpr std::size_t kWarmupWindows = 20;
template <class Work>
Code time_windows(std::size_t n, Work&& work) {
  for (int pass = 0; pass < 2; ++pass) {
    for (std::size_t k = 0; k < n; ++k) {
      if (pass == 0 && k >= kWarmupWindows) break;
      const Code c = work(k, pass == 1);
      if (c != Code::ok) return c;
    }
  }
  return Code::ok;
}

std::string precision_of(const infer::Graph& g) {
  const auto it = g.metadata.find("tickrt.precision");
  return precision_from_metadata(it == g.metadata.end() ? std::string() : it->second);
}

// Percentiles + log-spaced buckets (the report's histograms).
LatencySummary summarize(const std::string& name, std::vector<std::int64_t> v) {
  LatencySummary s;
  s.name = name;
  s.count = v.size();
  if (v.empty()) return s;
  std::sort(v.begin(), v.end());
  double sum = 0;
  for (auto x : v) sum += static_cast<double>(x);
  s.mean_ns = sum / static_cast<double>(v.size());
  auto q = [&](double p) {
    const std::size_t i = std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size())));
    return static_cast<double>(v[i]);
  };
  s.p50_ns = q(0.50);
  s.p90_ns = q(0.90);
  s.p99_ns = q(0.99);
  s.p999_ns = q(0.999);
  s.max_ns = static_cast<double>(v.back());
  // Buckets: 4 per decade from 100 ns up to the max (plus a first bucket for <= 100 ns).
  double up = 100;
  std::size_t i = 0;
  while (true) {
    std::uint64_t n = 0;
    while (i < v.size() && static_cast<double>(v[i]) <= up) {
      ++n;
      ++i;
    }
    s.bucket_upper_ns.push_back(up);
    s.bucket_counts.push_back(n);
    if (i >= v.size()) break;
    up *= 1.7782794100389228;  // 10^(1/4)
  }
  return s;
}

std::string file_stem(const std::string& p) {
  std::size_t s = p.find_last_of('/');
  std::string f = s == std::string::npos ? p : p.substr(s + 1);
  const std::size_t d = f.find('.');
  return d == std::string::npos ? f : f.substr(0, d);
}

// ClientOrderId -> what caused the order (decision stamp). Open addressing, fixed size, no
// allocation per order; the oldest entries are overwritten when it wraps (orders far older than
// the table are long finished).
class OrderCauseTable {
 public:
  static constexpr std::size_t kSize = 1u << 16;
  OrderCauseTable() : e_(kSize) {}
  void put(const exec::ClientOrderId& id, std::int64_t decision_ns) noexcept {
    std::size_t h = hash(id) & (kSize - 1);
    for (std::size_t k = 0; k < 16; ++k, h = (h + 1) & (kSize - 1)) {
      if (e_[h].used == 0 || e_[h].id == id) break;
    }
    e_[h] = {id, decision_ns, 1};
  }
  std::int64_t get(const exec::ClientOrderId& id) const noexcept {
    std::size_t h = hash(id) & (kSize - 1);
    for (std::size_t k = 0; k < 16; ++k, h = (h + 1) & (kSize - 1)) {
      if (e_[h].used == 0) return 0;
      if (e_[h].id == id) return e_[h].ns;
    }
    return 0;
  }

 private:
  static std::size_t hash(const exec::ClientOrderId& id) noexcept {
    std::uint64_t h = 1469598103934665603ull;
    for (char c : id.view()) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ull;
    return static_cast<std::size_t>(h);
  }
  struct E {
    exec::ClientOrderId id;
    std::int64_t ns = 0;
    std::uint8_t used = 0;
  };
  std::vector<E> e_;
};

}  // namespace

std::string machine_name() {
  std::ifstream f("/proc/cpuinfo");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("model name", 0) == 0) {
      const std::size_t c = line.find(':');
      if (c != std::string::npos) {
        std::string v = line.substr(c + 1);
        while (!v.empty() && v.front() == ' ') v.erase(v.begin());
        return v;
      }
    }
  }
  return "unknown";
}

struct EngineState {
  EngineSpec spec;
  std::string precision;
  std::shared_ptr<const pipeline::LoadedModel> model;
  LatencyDist inference;
  // latency.window_prefix (measured, window LSTM models): the last step's latency, and how long the
  // prefix takes between ticks (median), after which a sample's prefix is ready.
  bool prefix = false;
  LatencyDist inference_last;
  std::int64_t prefix_ns = 0;
};

struct Backtester::Impl {
  BacktestConfig cfg;
  std::unique_ptr<CaptureStore> store;
  std::vector<EngineState> engines;
  LatencyDist features, order_out, order_back;
  TscClock clock;
  std::string symbol;               // traded
  feed::SymbolId symbol_id = feed::kNoSymbol;
  std::vector<std::vector<float>> windows;  // real raw windows for timing inference
  std::uint64_t samples_expected = 0;

  Status measure_features();
  Status load_engine(EngineSpec spec);
  Result<EngineRun> run(const RunRequest& rq, const ProgressFn& progress);
};

// ---- one run -------------------------------------------------------------------------------------

namespace {

enum class ActKind : std::uint8_t { decision, order_arrive, report_arrive };
struct Action {
  std::int64_t t;
  std::uint64_t seq;   // insertion order: ties at one ns keep causal order
  ActKind kind;
  std::uint32_t slot;  // payload index
  bool operator>(const Action& o) const noexcept { return t != o.t ? t > o.t : seq > o.seq; }
};

// Pool of payloads with a free list (reserved; grows only past the reservation).
template <class T>
struct Pool {
  std::vector<T> items;
  std::vector<std::uint32_t> free_;
  explicit Pool(std::size_t n) {
    items.reserve(n);
    free_.reserve(n);
  }
  std::uint32_t put(const T& v) {
    if (!free_.empty()) {
      const std::uint32_t i = free_.back();
      free_.pop_back();
      items[i] = v;
      return i;
    }
    items.push_back(v);
    return static_cast<std::uint32_t>(items.size() - 1);
  }
  void release(std::uint32_t i) { free_.push_back(i); }
};

struct Run;

// The matching engine's reports for our account: scheduled back to the Trader.
class Sink final : public sim::ReportSink {
 public:
  explicit Sink(Run& r) : r_(r) {}
  void on_exec_report(sim::AccountId account, const exec::ExecReport& report, std::int64_t deliver_ns) override;

 private:
  Run& r_;
};

struct Run {
  Backtester::Impl* im = nullptr;
  bool zero_latency = false;
  EngineState* eng = nullptr;
  EngineRun out;
  std::unique_ptr<sim::MatchingEngine> me;
  std::unique_ptr<Sink> sink;
  exec::RequestRing outbound{4096};
  exec::ReportRing inbound{8192};
  std::unique_ptr<pipeline::Trader> trader;
  std::unique_ptr<pipeline::MarketHandler> mh;
  std::unique_ptr<pipeline::ModelSlot> slot;
  std::unique_ptr<pipeline::InferStage> stage;
  pipeline::StageLatency lat;
  Rng r_feat, r_inf, r_out, r_back;
  std::vector<Action> heap;
  std::uint64_t act_seq = 0;
  Pool<pipeline::InferResult> results{64};
  Pool<exec::GatewayRequest> requests{1024};
  Pool<exec::ExecReport> reports{4096};
  OrderCauseTable causes;
  std::int64_t busy_until = 0;
  std::int64_t now = 0;
  std::int64_t last_book_ns[pipeline::kMaxSymbols] = {};
  std::vector<std::int64_t> lat_feat, lat_inf, lat_run, lat_out, lat_back;
  sim::SymbolIndex me_sym = sim::kNoSymbolIndex;
  std::int64_t decision_ts = 0;   // stamp of the sample whose decision is being made (0: none)
  std::uint64_t prefix_rows = ~0ull;  // window prefix: the traded symbol's rows when its prefix was started
  std::int64_t prefix_ready = 0;      // ... and when it is done (the start + the measured prefix time)
  std::uint64_t sample_seq = 0;
  std::uint64_t ahead = 0;            // samples whose model ran at their boundary ([latency] infer_at_boundary)
  // Account from fills (venue truth), quote units.
  double cash = 0, fees = 0, pos = 0;
  double last_mid = 0;
  std::int64_t next_eq = 0, eq_period = 0;

  void schedule(std::int64_t t, ActKind k, std::uint32_t slot_idx) {
    heap.push_back({t, act_seq++, k, slot_idx});
    std::push_heap(heap.begin(), heap.end(), std::greater<Action>());
  }

  // Lazy venue: venue_events()[v_applied, v_seen) are due at the engine but not applied yet.
  const feed::Event* v_base = nullptr;
  std::size_t v_applied = 0, v_seen = 0;
  bool venue_eager = false;
  // The cursor moves before the call: a report the event causes (eager mode only: our orders
  // exist) may read mid() -> flush_venue(), which then finds nothing left to apply.
  void flush_venue() {
    while (v_applied < v_seen) (void)me->on_market_event(v_base[v_applied++]);
  }

  double mid() {
    flush_venue();
    sim::Level b{}, a{};
    if (me->best_bid(me_sym, b) && me->best_ask(me_sym, a) && b.price.raw > 0 && a.price.raw > b.price.raw)
      last_mid = 0.5 * (b.price.to_double() + a.price.to_double());
    return last_mid;
  }
  void equity_point(std::int64_t ts) {
    const double m = mid();
    EquityPoint p;
    p.ts_ns = ts;
    p.gross = cash + pos * m;
    p.equity = p.gross - fees;
    p.position = pos;
    p.mid = m;
    out.equity.push_back(p);
  }
  void advance_equity(std::int64_t t) {
    while (next_eq <= t) {
      equity_point(next_eq);
      next_eq += eq_period;
    }
  }

  // Drains what the OMS queued: each request reaches the venue after order_out.
  void drain_outbound(std::int64_t t) {
    exec::GatewayRequest gr;
    while (outbound.try_pop(gr)) {
      const std::int64_t d = im->order_out.sample(r_out);
      lat_out.push_back(d);
      if (gr.op == exec::GatewayOp::new_order) {
        ++out.counters.orders;
        causes.put(gr.order.client_order_id, decision_ts);
      } else if (gr.op == exec::GatewayOp::cancel) {
        ++out.counters.cancels;
      }
      schedule(t + d, ActKind::order_arrive, requests.put(gr));
    }
  }

  void to_trader(const exec::ExecReport& rep, std::int64_t deliver_ns) {
    const std::int64_t d = im->order_back.sample(r_back);
    lat_back.push_back(d);
    exec::ExecReport r = rep;
    r.local_ns = deliver_ns + d;
    r.request_sent_ns = 0;  // the live latency stamps (real clock) do not apply here
    schedule(deliver_ns + d, ActKind::report_arrive, reports.put(r));
  }

  void on_venue_report(const exec::ExecReport& rep, std::int64_t deliver_ns) {
    if (rep.exec_type == exec::ExecType::trade && rep.last_qty.raw > 0) {
      Fill f;
      f.ts_ns = rep.transact_ns;
      f.symbol = std::string(rep.symbol.view());
      f.side = rep.side == exec::Side::buy ? 1 : -1;
      f.price = rep.last_price.to_double();
      f.qty = rep.last_qty.to_double();
      f.fee = static_cast<double>(rep.commission_raw) * 1e-8;
      f.maker = rep.is_maker;
      f.decision_ts_ns = causes.get(rep.client_order_id);
      cash -= f.side * f.price * f.qty;
      pos += f.side * f.qty;
      fees += f.fee;
      out.fills.push_back(f);
      equity_point(rep.transact_ns);
    }
    to_trader(rep, deliver_ns);
  }

  void venue_request(const exec::GatewayRequest& gr, std::int64_t t) {
    // The engine must see its book as of t; from now on our orders may rest there: apply eagerly.
    flush_venue();
    venue_eager = true;
    exec::ExecReport r;
    if (!apply_gateway_request(*me, kAccount, gr, t, r)) return;  // reports came through the sink
    if (gr.op == exec::GatewayOp::new_order) ++out.counters.rejects;
    to_trader(r, t);
  }
};

void Sink::on_exec_report(sim::AccountId account, const exec::ExecReport& report, std::int64_t deliver_ns) {
  if (account != kAccount) return;
  r_.on_venue_report(report, deliver_ns);
}

}  // namespace

Result<EngineRun> Backtester::Impl::run(const RunRequest& rq, const ProgressFn& progress) {
  const bool with_model = rq.engine >= 0;
  if (with_model && static_cast<std::size_t>(rq.engine) >= engines.size())
    return Status(Code::invalid_argument, "backtest: no engine #" + std::to_string(rq.engine));
  auto run_ptr = std::make_unique<Run>();
  Run& R = *run_ptr;
  R.im = this;
  R.zero_latency = rq.zero_latency;
  R.r_feat = Rng(stream_seed(cfg.seed, kFeatures));
  R.r_inf = Rng(stream_seed(cfg.seed, kInference));
  R.r_out = Rng(stream_seed(cfg.seed, kOrderOut));
  R.r_back = Rng(stream_seed(cfg.seed, kOrderBack));
  EngineRun& out = R.out;
  if (with_model) {
    R.eng = &engines[static_cast<std::size_t>(rq.engine)];
    out.name = R.eng->spec.label + (rq.zero_latency ? "@0lat" : "");
    out.engine = R.eng->spec.path;
    out.precision = R.eng->precision;
  } else {
    out.name = "no-model";
    out.precision = "none";
  }
  out.zero_latency = rq.zero_latency;

  // Venue: the simulator's matching engine in replay mode, one traded symbol.
  sim::SimConfig sc = replay_sim_config(cfg.maker_fee_bps, cfg.taker_fee_bps, cfg.seed);
  sc.queue_model = cfg.queue_model == "cancels_behind" ? sim::QueueModel::cancels_behind
                   : cfg.queue_model == "cancels_ahead" ? sim::QueueModel::cancels_ahead
                                                        : sim::QueueModel::proportional;
  sim::SymbolSpec sp;
  sp.name = exec::SymbolName::from(symbol);
  const std::string quote = symbol.size() > 4 && symbol.ends_with("USDT") ? "USDT" : symbol.size() > 3 ? symbol.substr(symbol.size() - 3) : "USD";
  sp.base = sim::AssetName::from(symbol.substr(0, symbol.size() - quote.size()));
  sp.quote = sim::AssetName::from(quote);
  sp.tick_size = Price::from_raw(static_cast<std::int64_t>(std::llround(cfg.trading.tick_size * 1e8)));
  sp.step_size = Qty::from_raw(static_cast<std::int64_t>(std::llround(cfg.trading.qty_step * 1e8)));
  sp.min_qty = sp.step_size;
  sp.market = store->symbol_markets()[symbol_id];
  sc.symbols.push_back(sp);
  R.me = std::make_unique<sim::MatchingEngine>(sc);
  if (!R.me->status().ok()) return R.me->status().with_context("backtest sim");
  TICKRT_RETURN_IF_ERROR(R.me->map_feed_symbol(symbol_id, symbol).with_context("backtest sim"));
  R.me_sym = R.me->find_symbol(symbol);
  R.sink = std::make_unique<Sink>(R);
  R.me->set_sink(R.sink.get());

  // Our side: the live market handler, inference stage and trader.
  R.mh = std::make_unique<pipeline::MarketHandler>(features::FeatureConfig{});
  for (std::size_t i = 0; i < store->symbol_names().size(); ++i) {
    const feed::SymbolId id = R.mh->parser().symbols().intern(store->symbol_markets()[i], store->symbol_names()[i]);
    if (id != i) return Status(Code::internal, "backtest: symbol ids of the store and the market handler differ");
  }
  exec::GatewayRings rings{&R.outbound, &R.inbound};
  pipeline::PipelineConfig tc = cfg.trading;
  auto tr = pipeline::Trader::create(tc, {symbol}, rings, nullptr, 1, clock);
  if (!tr.ok()) return tr.status().with_context("backtest trader");
  R.trader = std::move(tr.value());
  R.trader->map_symbol(symbol_id, symbol);
  if (with_model) {
    auto inst = pipeline::make_instance(R.eng->model, 1);
    if (!inst.ok()) return inst.status().with_context(R.eng->spec.path);
    R.slot = std::make_unique<pipeline::ModelSlot>(std::move(inst.value()));
    R.stage = std::make_unique<pipeline::InferStage>(*R.slot, pipeline::BatchConfig{1, 0, false}, clock);
    // Every row stepped (streaming), or starting the next window's prefix (window prefix), as `tickrt run` does.
    if (R.eng->model->streaming || R.eng->prefix) R.mh->set_row_samples(true);
  }

  const auto& ev = store->events();
  const std::vector<feed::Event>& vev = store->venue_events();
  const std::size_t n = ev.size(), nv = vev.size();
  R.v_base = vev.data();
  R.venue_eager = rq.eager_venue;
  out.fills.reserve(4096);
  out.equity.reserve(static_cast<std::size_t>((store->end_ns() - store->start_ns()) / (cfg.equity_period_ms * 1'000'000)) + 8192);
  out.decisions.reserve(samples_expected + 16);
  R.lat_feat.reserve(samples_expected + 16);
  R.lat_inf.reserve(samples_expected + 16);
  R.lat_out.reserve(8192);
  R.lat_back.reserve(16384);
  R.heap.reserve(4096);
  R.eq_period = cfg.equity_period_ms * 1'000'000;
  R.next_eq = store->start_ns();

  std::size_t i = 0, j = 0;
  const std::int64_t wall0 = now_ns();
  pipeline::SampleMeta meta;
  std::uint64_t next_progress = 1u << 16;
  while (true) {
    const std::int64_t t_md = i < n ? ev[i].ev.local_ts_ns : kNever;
    const std::int64_t t_v = j < nv ? vev[j].local_ts_ns : kNever;
    const std::int64_t t_a = R.heap.empty() ? kNever : R.heap.front().t;
    if (t_md == kNever && t_v == kNever && t_a == kNever) break;
    if (t_v <= t_a && t_v <= t_md) {
      // The venue sees the event (its displayed book, trades against our resting orders).
      // venue_events(): depth and trades only (the engine ignores bookTicker / markPrice), in
      // venue order, stamped with venue time (the engine stamps fills with the event's time).
      R.now = vev[j].local_ts_ns;
      if (with_model) R.advance_equity(R.now);  // the mid before this event (flushes the ones before)
      R.v_seen = ++j;
      if (R.venue_eager) R.flush_venue();
      continue;
    }
    if (t_a <= t_md) {
      std::pop_heap(R.heap.begin(), R.heap.end(), std::greater<Action>());
      const Action a = R.heap.back();
      R.heap.pop_back();
      R.now = a.t;
      R.advance_equity(R.now);
      switch (a.kind) {
        case ActKind::decision: {
          const pipeline::InferResult& res = R.results.items[a.slot];
          R.decision_ts = res.meta.sample_ts_ns != 0 ? res.meta.t.recv_ns : 0;
          (void)R.trader->on_result_at(res, R.lat, a.t);
          ++out.counters.inferences;
          const auto& st = R.trader->strategy(0);
          Decision d;
          d.seq = static_cast<std::uint64_t>(res.meta.md_seq);
          d.ts_ns = res.meta.t.recv_ns;
          d.signal = static_cast<std::int8_t>(st.signal());
          d.p_down = res.n_out >= 3 ? res.out[0] : 0;
          d.p_flat = res.n_out >= 3 ? res.out[1] : 0;
          d.p_up = res.n_out >= 3 ? res.out[2] : 0;
          out.decisions.push_back(d);
          R.results.release(a.slot);
          R.drain_outbound(a.t);
          R.decision_ts = 0;
          break;
        }
        case ActKind::order_arrive:
          R.venue_request(R.requests.items[a.slot], a.t);
          R.requests.release(a.slot);
          break;
        case ActKind::report_arrive:
          if (!R.inbound.try_push(R.reports.items[a.slot])) ++out.counters.rejects;  // ring full: never at these rates
          R.reports.release(a.slot);
          (void)R.trader->poll(R.lat);
          R.drain_outbound(a.t);  // poll may cancel (risk latch)
          break;
      }
      continue;
    }
    // Our market data: the live handler (book + features); a due sample is decided later.
    const StoredEvent& se = ev[i++];
    R.now = se.ev.local_ts_ns;
    ++out.counters.events;
    pipeline::TickStamps ts;
    ts.recv = with_model ? TscClock::ticks() : 0;  // read only by the model path (InferStage/Trader stamps)
    ts.recv_ns = se.ev.local_ts_ns;
    const feed::EventKind k = se.ev.kind;
    if ((k == feed::EventKind::depth_update || k == feed::EventKind::depth_snapshot) && se.ev.symbol < pipeline::kMaxSymbols)
      R.last_book_ns[se.ev.symbol] = se.ev.local_ts_ns;
    const int due = R.mh->on_event(se.ev, ts, meta);
    if (due == pipeline::MarketHandler::kRowOnly && meta.symbol == symbol_id) {
      R.stage->step_row(meta, R.mh->symbol(meta.symbol)->fe);
      // Live, a row that is not due starts the prefix of the window the next row completes (prefix_infer.hpp).
      R.prefix_rows = R.mh->symbol(meta.symbol)->fe.samples();
      R.prefix_ready = std::max(R.busy_until, se.ev.local_ts_ns) + (R.eng ? R.eng->prefix_ns : 0);
    }
    if (due == 1 && meta.symbol == symbol_id) {
      ++out.counters.samples;
      if (with_model) {
        meta.book_update_ns = R.last_book_ns[meta.symbol];  // the replayed clock, not the wall clock
        meta.t.recv_ns = se.ev.local_ts_ns;
        const std::uint32_t s = R.results.put(pipeline::InferResult{});
        pipeline::InferResult& res = R.results.items[s];
        if (!R.stage->infer_one(meta, R.mh->symbol(meta.symbol)->fe, res)) {
          R.results.release(s);
        } else {
          res.meta.md_seq = ++R.sample_seq;  // sample number: identical across engines
          const std::int64_t f = features.sample(R.r_feat);
          const std::int64_t arrive = se.ev.local_ts_ns + f;
          const std::uint64_t rows_now = R.mh->symbol(meta.symbol)->fe.samples();
          // Live with [engine] infer_at_boundary: the model ran when the clock passed the sample's boundary, if the
          // thread was free before this message came (InferStage::infer_ahead); the message waits for the rest.
          const std::int64_t at_boundary = std::max(meta.sample_ts_ns, R.busy_until);
          const bool ahead = cfg.infer_at_boundary && !rq.zero_latency && at_boundary < se.ev.local_ts_ns;
          const std::int64_t start = ahead ? at_boundary : std::max(arrive, R.busy_until);
          // Live with [engine] window_prefix: the prefix is ready when this sample adds exactly one row to the
          // rows it was started at (the previous sample, or a row that was not due) and it had the time to run.
          const bool from_prefix = R.eng->prefix && rows_now == R.prefix_rows + 1 && start >= R.prefix_ready;
          const std::int64_t inf = rq.zero_latency ? 0 : from_prefix ? R.eng->inference_last.sample(R.r_inf) : R.eng->inference.sample(R.r_inf);
          const std::int64_t done = start + inf;
          const std::int64_t decide = ahead ? std::max(arrive, done) : done;
          R.lat_feat.push_back(f);
          R.lat_inf.push_back(ahead ? decide - arrive : inf);   // what the message waited for the model
          R.lat_run.push_back(inf);                              // the model's run, wherever it was
          if (ahead) ++R.ahead;
          R.busy_until = done;
          R.prefix_rows = rows_now;  // the next window's prefix starts after this inference
          R.prefix_ready = R.busy_until + R.eng->prefix_ns;
          R.schedule(decide, ActKind::decision, s);
        }
      }
    }
    if (progress && out.counters.events >= next_progress) {
      next_progress += 1u << 16;
      progress(out.name, out.counters.events, n);
    }
  }
  const std::int64_t wall = now_ns() - wall0;
  if (progress) progress(out.name, out.counters.events, n);
  if (with_model) {
    R.advance_equity(store->end_ns());
    if (out.equity.empty() || out.equity.back().ts_ns < store->end_ns()) R.equity_point(store->end_ns());
  }
  out.counters.inferred_at_boundary = R.ahead;
  out.counters.wall_seconds = cfg.record_wall_time ? static_cast<double>(wall) * 1e-9 : 0.0;
  out.counters.risk_refused = R.trader->counters().risk_refused;
  // Latency summaries: what the simulated clock was charged.
  std::vector<std::int64_t> feed;
  feed.reserve(n);
  // Feed latency as measured: events with an exchange stamp only (bookTicker and snapshots carry
  // none and are charged the floor; including them would hide the distribution under the floor).
  for (const StoredEvent& se : ev)
    if (se.ev.event_ts_ns > 0) feed.push_back(se.feed_ns);
  // "inference": what the samples' messages waited for the model (with infer_at_boundary, usually nothing);
  // "inference_run": the model's runs themselves (the engine's latency as drawn), at the boundary or not.
  out.latency.push_back(summarize("inference", std::move(R.lat_inf)));
  out.latency.push_back(summarize("inference_run", std::move(R.lat_run)));
  out.latency.push_back(summarize("features", std::move(R.lat_feat)));
  out.latency.push_back(summarize("feed", std::move(feed)));
  out.latency.push_back(summarize("order", std::move(R.lat_out)));
  out.latency.push_back(summarize("order_back", std::move(R.lat_back)));
  return std::move(out);
}

// ---- setup -----------------------------------------------------------------------------------------

// One pass of the live market handler over the data: the cost of each message that made a sample
// due (what the simulated clock is charged for features when "measured"), and real windows for
// timing the engines.
Status Backtester::Impl::measure_features() {
  pipeline::MarketHandler mh(features::FeatureConfig{});
  for (std::size_t i = 0; i < store->symbol_names().size(); ++i)
    (void)mh.parser().symbols().intern(store->symbol_markets()[i], store->symbol_names()[i]);
  std::vector<std::int64_t> cost;
  std::vector<std::vector<float>> all;
  pipeline::SampleMeta meta;
  for (const StoredEvent& se : store->events()) {
    pipeline::TickStamps ts;
    ts.recv = TscClock::ticks();
    if (mh.on_event(se.ev, ts, meta) == 1 && meta.symbol == symbol_id) {
      cost.push_back(clock.ticks_to_ns(static_cast<std::int64_t>(mh.last_stamps().feat - ts.recv)));
      if (all.size() < 4096) {
        const auto w = mh.symbol(meta.symbol)->fe.window();
        all.emplace_back(w.begin(), w.end());
      }
    }
  }
  samples_expected = cost.size();
  if (cost.empty())
    return Status(Code::not_found, "backtest data: no model sample of " + symbol +
                                       " (the book never became tradable with a full window; too little data?)");
  const std::size_t want = static_cast<std::size_t>(cfg.inference_samples);
  const std::size_t stride = std::max<std::size_t>(1, all.size() / want);
  for (std::size_t k = 0; k < all.size() && windows.size() < want; k += stride) windows.push_back(std::move(all[k]));
  if (cfg.features == "measured") features = LatencyDist::from_samples(std::move(cost));
  else features = LatencyDist::parse(cfg.features, cfg.origin + ": key 'latency.features'").value();
  return Status::Ok();
}

Status Backtester::Impl::load_engine(EngineSpec spec) {
  pipeline::ModelOptions mo;
  mo.path = spec.path;
  mo.max_batch = 1;
  mo.stream.max_gap_ns = cfg.stream_max_gap_ms * 1'000'000;   // the live reset policy's keys (one policy)
  mo.stream.warmup = cfg.stream_warmup;
  auto m = pipeline::load_model(mo);
  if (!m.ok()) return m.status().with_context("backtest engine");
  EngineState es;
  es.model = m.value();
  es.precision = spec.precision.empty() ? precision_of(es.model->engine->graph()) : spec.precision;
  if (spec.label.empty()) spec.label = es.precision + ":" + file_stem(spec.path);
  es.spec = std::move(spec);
  std::string how = cfg.inference;
  std::string key = "latency.inference";
  for (const auto& [label, spec_text] : cfg.inference_by_engine)
    if (label == es.spec.label) {
      how = spec_text;
      key = "latency.inference_by_engine." + label;
    }
  if (how == "measured") {
    // A few hundred timed inferences on real windows, exactly the live inline path's work
    // (normalise + run), after a short warm-up.
    auto inst = pipeline::make_instance(es.model, 1);
    if (!inst.ok()) return inst.status().with_context(es.spec.path);
    pipeline::ModelInstance& ctx = *inst.value();
    std::vector<std::int64_t> ns;
    ns.reserve(windows.size());
    if (ctx.stream) {
      // Streaming model (pipeline/stream_infer.hpp): a sample costs one step of the symbol's state, timed on
      // each window's newest row (normalise + step), the slot stepping through them in order.
      infer::StreamContext& sc = ctx.stream->context();
      std::vector<float> x(es.model->in_floats);
      const Code c = time_windows(windows.size(), [&](std::size_t k, bool keep) {
        const float* row = windows[k].data() + windows[k].size() - es.model->in_floats;
        const std::uint64_t t0 = TscClock::ticks();
        es.model->package.normalize(row, 1, x.data());
        const Code step = sc.step(0, x.data());
        const std::uint64_t t1 = TscClock::ticks();
        if (keep) ns.push_back(clock.ticks_to_ns(static_cast<std::int64_t>(t1 - t0)));
        return step;
      });
      if (c != Code::ok) return Status(c, es.spec.path + ": streaming step failed while timing it");
      es.inference = LatencyDist::from_samples(std::move(ns));
      engines.push_back(std::move(es));
      return Status::Ok();
    }
    if (ctx.select_batch(1) != Code::ok) return Status(Code::internal, es.spec.path + ": batch 1 not prepared");
    const std::size_t rows = es.model->in_floats / features::kNumFeatures;
    const Code c = time_windows(windows.size(), [&](std::size_t k, bool keep) {
      const std::uint64_t t0 = TscClock::ticks();
      es.model->package.normalize(windows[k].data(), rows, ctx.input());
      const Code run = ctx.run();
      const std::uint64_t t1 = TscClock::ticks();
      if (keep) ns.push_back(clock.ticks_to_ns(static_cast<std::int64_t>(t1 - t0)));
      return run;
    });
    if (c != Code::ok) return Status(c, es.spec.path + ": inference failed while timing it");
    es.inference = LatencyDist::from_samples(std::move(ns));
    if (cfg.window_prefix && infer::WindowPrefix::why_not(*ctx.ctx).empty()) {
      // The live inline path with [engine] window_prefix (pipeline/prefix_infer.hpp): between ticks the
      // next window's first T-1 rows (untimed here: its median is when the prefix is ready), on the
      // tick normalise the last row + run_last, timed on the same windows.
      auto wp = infer::WindowPrefix::create(*ctx.ctx);
      if (!wp.ok()) return wp.status().with_context(es.spec.path);
      const std::size_t F = features::kNumFeatures;
      std::vector<float> pre((rows - 1) * F), last(F);
      std::vector<std::int64_t> lns, pns;
      const Code pc = time_windows(windows.size(), [&](std::size_t k, bool keep) {
        const std::uint64_t t0 = TscClock::ticks();
        es.model->package.normalize(windows[k].data(), rows - 1, pre.data());
        (*wp)->precompute(pre.data());
        const std::uint64_t t1 = TscClock::ticks();
        es.model->package.normalize(windows[k].data() + (rows - 1) * F, 1, last.data());
        const Code run = (*wp)->run_last(last.data());
        const std::uint64_t t2 = TscClock::ticks();
        if (keep) {
          pns.push_back(clock.ticks_to_ns(static_cast<std::int64_t>(t1 - t0)));
          lns.push_back(clock.ticks_to_ns(static_cast<std::int64_t>(t2 - t1)));
        }
        return run;
      });
      if (pc != Code::ok) return Status(pc, es.spec.path + ": window prefix failed while timing it");
      std::sort(pns.begin(), pns.end());
      es.prefix_ns = pns[pns.size() / 2];
      es.inference_last = LatencyDist::from_samples(std::move(lns));
      es.prefix = true;
    }
  } else {
    auto d = LatencyDist::parse(how, cfg.origin + ": key '" + key + "'");
    if (!d.ok()) return d.status();
    es.inference = d.value();
  }
  engines.push_back(std::move(es));
  return Status::Ok();
}

Backtester::Backtester() : impl_(std::make_unique<Impl>()) {}
Backtester::~Backtester() = default;

Result<std::unique_ptr<Backtester>> Backtester::create(BacktestConfig cfg, const ProgressFn& progress) {
  std::unique_ptr<Backtester> b(new Backtester());
  Impl& im = *b->impl_;
  im.cfg = std::move(cfg);
  auto c = TscClock::calibrate();
  if (!c.ok()) return c.status();
  im.clock = c.value();
  // Specs first: a typo fails before any file is read.
  for (auto [key, spec, dist] : {std::tuple{"order_out", &im.cfg.order_out, &im.order_out},
                                 std::tuple{"order_back", &im.cfg.order_back, &im.order_back}}) {
    auto p = LatencyDist::parse(*spec, im.cfg.origin + ": key 'latency." + key + "'");
    if (!p.ok()) return p.status();
    *dist = p.value();
  }
  auto st = CaptureStore::load(im.cfg.data, static_cast<std::int64_t>(std::llround(im.cfg.feed_floor_us * 1e3)));
  if (!st.ok()) return st.status();
  im.store = std::make_unique<CaptureStore>(std::move(st.value()));
  const auto& names = im.store->symbol_names();
  if (names.empty()) return Status(Code::not_found, "backtest data: no symbol in the data");
  if (im.cfg.symbol.empty()) {
    im.symbol_id = im.store->events().front().ev.symbol;
    for (const StoredEvent& se : im.store->events())  // first symbol with book data
      if (se.ev.kind == feed::EventKind::depth_update || se.ev.kind == feed::EventKind::depth_snapshot) {
        im.symbol_id = se.ev.symbol;
        break;
      }
  } else {
    for (std::size_t i = 0; i < names.size(); ++i)
      if (names[i] == im.cfg.symbol) im.symbol_id = static_cast<feed::SymbolId>(i);
    if (im.symbol_id == feed::kNoSymbol) {
      std::string all;
      for (const auto& s : names) all += (all.empty() ? "" : ", ") + s;
      return Status(Code::not_found, im.cfg.origin + ": key 'backtest.symbol': \"" + im.cfg.symbol +
                                         "\" is not in the data (symbols: " + all + ")");
    }
  }
  im.symbol = names[im.symbol_id];
  TICKRT_RETURN_IF_ERROR(im.measure_features());
  for (std::size_t e = 0; e < im.cfg.engines.size(); ++e) {
    if (progress) progress("load " + im.cfg.engines[e].path, e, im.cfg.engines.size());
    TICKRT_RETURN_IF_ERROR(im.load_engine(im.cfg.engines[e]));
  }
  for (const auto& [label, spec_text] : im.cfg.inference_by_engine) {
    bool found = false;
    std::string all;
    for (const EngineState& es : im.engines) {
      found = found || es.spec.label == label;
      all += (all.empty() ? "" : ", ") + es.spec.label;
    }
    if (!found && !im.engines.empty())
      return Status(Code::invalid_argument, im.cfg.origin + ": key 'latency.inference_by_engine." + label +
                                                "': no engine has this label (engines: " + all + ")");
  }
  return b;
}

Result<EngineRun> Backtester::run(const RunRequest& rq, const ProgressFn& progress) { return impl_->run(rq, progress); }

Result<BacktestResult> Backtester::run_all(const std::string& command, const ProgressFn& progress) {
  Impl& im = *impl_;
  if (im.engines.empty()) return Status(Code::invalid_argument, im.cfg.origin + ": no engine (backtest.engines or --engines)");
  BacktestResult res;
  res.title = im.cfg.title;
  res.machine = machine_name();
  res.command = command;
  res.seed = im.cfg.seed;
  res.data_files = im.cfg.data;
  res.config_toml = im.cfg.effective_toml;
  res.start_ns = im.store->start_ns();
  res.end_ns = im.store->end_ns();
  for (std::size_t e = 0; e < im.engines.size(); ++e) {
    for (int z = 0; z < (im.cfg.zero_latency_twins ? 2 : 1); ++z) {
      auto r = im.run(RunRequest{static_cast<int>(e), z == 1}, progress);
      if (!r.ok()) return r.status();
      res.runs.push_back(std::move(r.value()));
    }
  }
  MetricsConfig mc;
  mc.capital = im.cfg.capital;
  TICKRT_RETURN_IF_ERROR(finalize(res, mc));
  return res;
}

const BacktestConfig& Backtester::config() const noexcept { return impl_->cfg; }
const CaptureStore& Backtester::data() const noexcept { return *impl_->store; }
std::string Backtester::inference_latency_text(int engine) const {
  const EngineState& e = impl_->engines.at(static_cast<std::size_t>(engine));
  if (!e.prefix) return e.inference.describe();
  char buf[96];
  std::snprintf(buf, sizeof buf, "; with the window prefix (ready %.1f us after an inference): ", static_cast<double>(e.prefix_ns) * 1e-3);
  return e.inference.describe() + buf + e.inference_last.describe();
}
std::string Backtester::features_latency_text() const { return impl_->features.describe(); }

}  // namespace tickrt::backtest
