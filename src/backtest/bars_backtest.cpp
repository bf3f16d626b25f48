// backtest/bars_backtest.cpp — the bar backtester (contract and bar-fill model: backtest/bars.hpp).
// Per bar, in this order (one thread, simulated clock):
//   1. BarVenue, bar t's open: liquidity quotes at open +/- slippage, our queued requests (decided
//      at bar t-1's close) submitted/canceled in ring order, quotes pulled;
//   2. BarVenue, bar t's range: resting orders traded through by the bar's low/high fill;
//   3. Oms::poll: reports -> order states, fills -> RiskEngine::on_fill and the run's fills;
//   4. bar t's close: features, RiskEngine::on_market + Oms::mark at the close, equity point;
//   5. when the window is full: engine inference -> SignalStrategy::on_model_output -> RiskEngine
//      checks -> Oms::submit/cancel (the same sequence as pipeline/trader.cpp's on_result).
#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <limits>

#include "backtest/bar_features.hpp"
#include "backtest/bars.hpp"
#include "backtest/sim_gateway.hpp"
#include "core/latency_histogram.hpp"
#include "exec/oms.hpp"
#include "features/model_package.hpp"
#include "infer/engine.hpp"
#include "infer/onnx/onnx_import.hpp"
#include "pipeline/trader.hpp"
#include "risk/risk_engine.hpp"
#include "sim/matching_engine.hpp"
#include "strategy/signal_strategy.hpp"

namespace tickrt::backtest {
namespace {

constexpr sim::AccountId kUs = 1;   // our account
constexpr sim::AccountId kLp = 2;   // the liquidity account that stands for the rest of the market

std::int64_t to_raw(double v) { return static_cast<std::int64_t>(std::llround(v * static_cast<double>(kDecimalScale))); }
std::int64_t floor_tick(double p, std::int64_t tick) {
  const std::int64_t r = to_raw(p);
  return r - ((r % tick) + tick) % tick;
}
std::int64_t ceil_tick(double p, std::int64_t tick) {
  const std::int64_t f = floor_tick(p, tick);
  return f == to_raw(p) ? f : f + tick;
}

// The engine's precision from the quantizer's metadata ("node=int8;node=fp32;..."), "fp32" when
// absent (a plain ONNX model or an fp32 engine).
std::string precision_of(const infer::Graph& g) {
  const auto it = g.metadata.find("tickrt.precision");
  return precision_from_metadata(it == g.metadata.end() ? std::string() : it->second);
}

std::string stem_of(const std::string& path) {
  std::size_t s = path.find_last_of('/');
  std::string b = s == std::string::npos ? path : path.substr(s + 1);
  if (b == "model.onnx" && s != std::string::npos && s > 0) {  // models/trained/bars_mlp/model.onnx -> bars_mlp
    const std::size_t s2 = path.find_last_of('/', s - 1);
    return path.substr(s2 == std::string::npos ? 0 : s2 + 1, s - (s2 == std::string::npos ? 0 : s2 + 1));
  }
  const std::size_t dot = b.find_last_of('.');
  return dot == std::string::npos ? b : b.substr(0, dot);
}

struct BarModel {
  std::shared_ptr<infer::Engine> engine;
  features::ModelPackage pkg;
  std::string precision;
};

Result<BarModel> load_bar_model(const std::string& path) {
  BarModel m;
  const bool onnx = path.size() > 5 && path.compare(path.size() - 5, 5, ".onnx") == 0;
  if (onnx) {
    auto g = infer::import_onnx_file(path);
    if (!g.ok()) return g.status().with_context(path);
    infer::BuildOptions bo;
    bo.batch = {1, 1, 1};
    auto e = infer::Engine::build(std::move(*g), bo);
    if (!e.ok()) return e.status().with_context(path);
    m.engine = std::move(*e);
  } else {
    auto e = infer::Engine::load(path);
    if (!e.ok()) return e.status().with_context(path);
    m.engine = std::move(*e);
  }
  auto pkg = features::parse_model_package(m.engine->graph().metadata);
  if (!pkg.ok()) return pkg.status().with_context(path);
  m.pkg = std::move(*pkg);
  if (m.pkg.features.size() != kBarFeatures)
    return Status(Code::invalid_argument, path + ": tickrt.features has " + std::to_string(m.pkg.features.size()) +
                                              " features, the bar features are " + std::to_string(kBarFeatures) +
                                              " (" + bar_feature_list() + "): not a bar model");
  for (std::size_t i = 0; i < kBarFeatures; ++i)
    if (m.pkg.features[i] != kBarFeatureNames[i])
      return Status(Code::invalid_argument, path + ": tickrt.features[" + std::to_string(i) + "] is '" +
                                                m.pkg.features[i] + "', the running bar feature code has '" +
                                                std::string(kBarFeatureNames[i]) + "'");
  if (m.pkg.window == 0 || m.pkg.window > 100'000)
    return Status(Code::invalid_argument, path + ": tickrt.window " + std::to_string(m.pkg.window) + " out of range");
  if (m.engine->num_inputs() != 1 || m.engine->num_outputs() < 1)
    return Status(Code::invalid_argument, path + ": a bar model has one input and an output of 3 logits");
  m.precision = precision_of(m.engine->graph());
  return m;
}

LatencySummary summarize(const std::string& name, const LatencyHistogram& h) {
  LatencySummary s;
  s.name = name;
  s.count = h.count();
  if (s.count == 0) return s;
  s.mean_ns = h.mean();
  s.p50_ns = static_cast<double>(h.percentile(50));
  s.p90_ns = static_cast<double>(h.percentile(90));
  s.p99_ns = static_cast<double>(h.percentile(99));
  s.p999_ns = static_cast<double>(h.percentile(99.9));
  s.max_ns = static_cast<double>(h.max());
  // Log-spaced buckets (x1.25) from 100 ns up to the max: enough for a histogram chart. Each
  // histogram bucket is counted where its lower bound falls (its width is <= 1/128 of it).
  for (double up = 100; s.bucket_upper_ns.empty() || s.bucket_upper_ns.back() < s.max_ns; up *= 1.25) {
    s.bucket_upper_ns.push_back(up);
    s.bucket_counts.push_back(0);
  }
  h.for_each_bucket([&](std::uint64_t lo, std::uint64_t, std::uint64_t n) {
    const auto it = std::lower_bound(s.bucket_upper_ns.begin(), s.bucket_upper_ns.end(), static_cast<double>(lo));
    const std::size_t k = it == s.bucket_upper_ns.end() ? s.bucket_upper_ns.size() - 1 : static_cast<std::size_t>(it - s.bucket_upper_ns.begin());
    s.bucket_counts[k] += n;
  });
  return s;
}

// The exchange side of the bar-fill model: the simulator's matching engine plus a liquidity
// account, driven at each bar's open and over each bar's range. Also the sink that carries our
// account's reports into the OMS's inbound ring (the role a gateway's IO thread plays live).
class BarVenue final : public sim::ReportSink {
 public:
  BarVenue(sim::MatchingEngine& me, exec::GatewayRings rings, const exec::SymbolName& sym, sim::SymbolIndex si,
           std::int64_t tick_raw, std::int64_t step_raw, double slippage_bps, double lp_qty)
      : me_(me), rings_(rings), sym_(sym), si_(si), tick_(tick_raw), step_(step_raw), slip_(slippage_bps * 1e-4) {
    lp_qty_raw_ = to_raw(lp_qty);
    lp_qty_raw_ -= lp_qty_raw_ % step_;
    me_.set_sink(this);
  }
  BarVenue(const BarVenue&) = delete;
  BarVenue& operator=(const BarVenue&) = delete;
  ~BarVenue() override { me_.set_sink(nullptr); }

  void on_exec_report(sim::AccountId account, const exec::ExecReport& r, std::int64_t deliver_ns) override {
    if (account != kUs) return;  // the liquidity account's own reports are not ours
    exec::ExecReport c = r;
    c.local_ns = deliver_ns;
    push(c);
  }

  // Bar open: our queued requests in ring order, each new order meeting the liquidity account's
  // quote on the side it would take (posted on first need: open +/- slippage), quotes pulled after.
  void open_phase(const Bar& b, std::int64_t now) {
    if (rings_.outbound->front() == nullptr) return;
    std::int64_t bid = 0, ask = 0;  // quoted prices this bar (0: not quoted)
    while (exec::GatewayRequest* g = rings_.outbound->front()) {
      if (g->op == exec::GatewayOp::new_order) {
        if (g->order.side == exec::Side::buy && ask == 0) {
          ask = ceil_tick(b.open * (1 + slip_), tick_);
          // One account's quotes at one price would trade with each other: keep them a tick apart.
          if (bid != 0 && ask <= bid) ask = bid + tick_;
          quote(exec::Side::sell, ask, now);
        } else if (g->order.side == exec::Side::sell && bid == 0) {
          bid = floor_tick(b.open * (1 - slip_), tick_);
          if (ask != 0 && bid >= ask) bid = ask - tick_;
          quote(exec::Side::buy, bid, now);
        }
      }
      handle(*g, now);
      rings_.outbound->pop();
    }
    if (bid != 0 || ask != 0) (void)me_.cancel_all(kLp, sym_, now);
  }

  // Bar range: our resting orders that the bar traded strictly through fill at their price.
  void range_phase(const Bar& b, std::int64_t now) {
    feed::Level l;
    if (me_.best_bid(si_, l) && l.price.raw > to_raw(b.low)) sweep(exec::Side::sell, floor_tick(b.low, tick_) + tick_, now);
    if (me_.best_ask(si_, l) && l.price.raw < to_raw(b.high)) sweep(exec::Side::buy, ceil_tick(b.high, tick_) - tick_, now);
  }

  std::uint64_t ring_full() const noexcept { return ring_full_; }

 private:
  void push(const exec::ExecReport& r) {
    if (!rings_.inbound->try_push(r)) ++ring_full_;  // sized so this never happens; counted if it does
  }
  // The liquidity provider's resting quote (gtc) or its sweep through the bar's range (ioc).
  void quote(exec::Side side, std::int64_t price_raw, std::int64_t now) { lp_order(side, price_raw, exec::TimeInForce::gtc, now); }
  void sweep(exec::Side side, std::int64_t price_raw, std::int64_t now) { lp_order(side, price_raw, exec::TimeInForce::ioc, now); }
  void lp_order(exec::Side side, std::int64_t price_raw, exec::TimeInForce tif, std::int64_t now) {
    if (price_raw <= 0) return;
    exec::OrderRequest q;
    q.symbol = sym_;
    q.side = side;
    q.type = exec::OrderType::limit;
    q.tif = tif;
    q.stp = exec::StpMode::none;
    q.price = Price::from_raw(price_raw);
    q.qty = Qty::from_raw(lp_qty_raw_);
    lp_id(q.client_order_id);
    (void)me_.submit(kLp, q, now);
  }
  // "lp-<n>" without a heap string (this runs per bar).
  void lp_id(exec::ClientOrderId& id) noexcept {
    char buf[24];
    const int n = std::snprintf(buf, sizeof buf, "lp-%llu", static_cast<unsigned long long>(++lp_seq_));
    (void)id.assign(std::string_view(buf, static_cast<std::size_t>(n)));
  }
  void handle(const exec::GatewayRequest& g, std::int64_t now) {
    exec::ExecReport r;
    if (!apply_gateway_request(me_, kUs, g, now, r)) return;  // reports came through on_exec_report
    r.local_ns = now;
    push(r);
  }

  sim::MatchingEngine& me_;
  exec::GatewayRings rings_;
  exec::SymbolName sym_;
  sim::SymbolIndex si_;
  std::int64_t tick_, step_;
  double slip_;
  std::int64_t lp_qty_raw_ = 0;
  std::uint64_t lp_seq_ = 0;
  std::uint64_t ring_full_ = 0;
};

Status validate(const BarBacktestConfig& c) {
  auto bad = [](const std::string& k, const std::string& why) { return Status(Code::invalid_argument, "bars." + k + ": " + why); };
  if (!(c.half_spread_bps >= 0 && c.half_spread_bps < 1000)) return bad("half_spread_bps", "must be in [0, 1000)");
  if (!(c.slippage_bps >= 0 && c.slippage_bps < 1000)) return bad("slippage_bps", "must be in [0, 1000)");
  if (!(c.maker_fee_bps > -100 && c.maker_fee_bps < 1000)) return bad("maker_fee_bps", "must be in (-100, 1000)");
  if (!(c.taker_fee_bps >= 0 && c.taker_fee_bps < 1000)) return bad("taker_fee_bps", "must be in [0, 1000)");
  if (c.order_latency_ns < 0) return bad("order_latency_ns", "must be >= 0");
  if (!(c.tick > 0)) return bad("tick", "must be > 0");
  if (!(c.lp_qty > 0)) return bad("lp_qty", "must be > 0");
  if (!(c.capital > 0)) return bad("capital", "must be > 0");
  if (c.equity_every == 0) return bad("equity_every", "must be >= 1");
  TICKRT_RETURN_IF_ERROR(strategy::validate(c.strategy));
  TICKRT_RETURN_IF_ERROR(risk::validate(c.symbol_limits));
  TICKRT_RETURN_IF_ERROR(risk::validate(c.account_limits));
  return Status::Ok();
}

}  // namespace

strategy::StrategyConfig BarBacktestConfig::default_strategy() {
  strategy::StrategyConfig s;
  s.symbol = "BTCUSD";
  s.style = strategy::OrderStyle::aggressive;
  s.aggressive_market = true;
  s.sizing = strategy::Sizing::fixed;
  s.order_qty = Qty::from_raw(1'000'000);     // 0.01 BTC per clip
  s.max_position = Qty::from_raw(1'000'000);  // one clip: long 0.01, flat or short 0.01
  s.qty_step = Qty::from_raw(10'000);         // 0.0001 (FTX BTC-PERP size increment)
  s.tick_size = Price::from_raw(1'000'000);   // 0.01
  s.min_interval_ns = 0;
  s.passive_max_age_ns = 0;
  // bars_mlp is rarely sure of a direction (p >= 0.55 on under 1 % of test bars): these let it
  // trade on about 7 % of bars. Chosen so the strategy trades at all, not tuned for PnL.
  s.enter_prob = 0.45;
  s.exit_prob = 0.38;
  s.min_edge = 0.10;
  return s;
}

Result<EngineRun> run_bar_engine(const BarSeries& bars, const BarEngineSpec& spec, const BarBacktestConfig& cfg_in) {
  BarBacktestConfig cfg = cfg_in;
  cfg.strategy.symbol = cfg.symbol;
  TICKRT_RETURN_IF_ERROR(validate(cfg));
  if (bars.bars.empty()) return Status(Code::invalid_argument, "bars: no bars to replay");
  if (bars.period_ns <= 0) return Status(Code::invalid_argument, "bars: unknown bar period");

  auto model = load_bar_model(spec.path);
  if (!model.ok()) return model.status();
  const std::size_t T = model->pkg.window, F = kBarFeatures;
  infer::ExecutionContext ctx(model->engine);
  if (Status st = ctx.prepare_batch(1); !st.ok()) return st.with_context(spec.path);
  {
    const infer::Dims& d = ctx.input_dims(0);
    std::int64_t n = 1;
    for (auto v : d) n *= v;
    if (n != static_cast<std::int64_t>(T * F))
      return Status(Code::invalid_argument, spec.path + ": input holds " + std::to_string(n) +
                                                " floats per window, tickrt.window x features = " +
                                                std::to_string(T * F));
    std::int64_t o = 1;
    for (auto v : ctx.output_dims(0)) o *= v;
    if (o != 3) return Status(Code::invalid_argument, spec.path + ": output has " + std::to_string(o) + " values, expected 3 (down/flat/up)");
  }

  // The exchange.
  const std::int64_t tick_raw = to_raw(cfg.tick);
  if (tick_raw <= 0) return Status(Code::invalid_argument, "bars.tick: below 1e-8");
  sim::SimConfig sc = replay_sim_config(cfg.maker_fee_bps, cfg.taker_fee_bps, cfg.seed);
  sim::SymbolSpec ss;
  if (!ss.name.assign(cfg.symbol)) return Status(Code::invalid_argument, "bars.symbol: longer than 23 characters");
  (void)ss.base.assign("BASE");
  (void)ss.quote.assign("QUOTE");
  ss.tick_size = Price::from_raw(tick_raw);
  ss.step_size = cfg.strategy.qty_step;
  ss.min_qty = cfg.strategy.qty_step;
  ss.max_qty = Qty::from_int(1'000'000);
  sc.symbols.push_back(ss);
  sim::MatchingEngine me(sc);
  if (!me.status().ok()) return me.status().with_context("bars: simulator");
  const sim::SymbolIndex si = me.find_symbol(cfg.symbol);

  // Rings between the OMS and the venue (the gateway's place), sized for a bar's worth of traffic.
  exec::RequestRing outbound(1024);
  exec::ReportRing inbound(1 << 14);
  exec::GatewayRings rings{&outbound, &inbound};
  exec::OmsConfig oc;
  oc.id_prefix = "bt";
  oc.symbols = {cfg.symbol};
  oc.max_open_orders = 256;
  auto oms = exec::Oms::create(oc, rings, nullptr);
  if (!oms.ok()) return oms.status().with_context("bars: oms");
  const int oidx = (*oms)->symbol_index(cfg.symbol);
  const std::int64_t t0 = bars.bars.front().ts_ns;
  auto risk = risk::RiskEngine::create(cfg.account_limits, t0);
  if (!risk.ok()) return risk.status();
  auto rid = (*risk)->add_symbol(cfg.symbol, cfg.symbol_limits);
  if (!rid.ok()) return rid.status();
  auto strat = strategy::SignalStrategy::create(cfg.strategy);
  if (!strat.ok()) return strat.status();
  BarVenue venue(me, rings, ss.name, si, tick_raw, cfg.strategy.qty_step.raw, cfg.slippage_bps, cfg.lp_qty);

  exec::Oms& om = **oms;
  risk::RiskEngine& rk = **risk;
  strategy::SignalStrategy& st = *strat;
  const risk::SymbolId rsym = *rid;

  EngineRun run;
  run.engine = spec.path;
  run.precision = model->precision;
  run.name = spec.name.empty() ? stem_of(spec.path) + (model->precision == "fp32" ? "" : "-" + model->precision) : spec.name;
  run.zero_latency = spec.zero_latency;
  const std::size_t nb = bars.bars.size();
  run.equity.reserve(nb / cfg.equity_every + 2);
  run.decisions.reserve(nb);
  run.fills.reserve(1024);

  BarFeatures fe(T);
  std::vector<float> input(T * F);
  LatencyHistogram inf_hist;
  std::array<risk::OpenOrder, 64> open;
  std::array<strategy::Intent, strategy::SignalStrategy::kMaxIntents> intents;
  const double hs = cfg.half_spread_bps * 1e-4;
  const auto wall0 = std::chrono::steady_clock::now();

  auto on_event = [&](const exec::OmsEvent& ev) {
    const exec::ExecReport& r = *ev.report;
    if (r.exec_type == exec::ExecType::rejected) ++run.counters.rejects;
    if (!ev.fill_applied) return;
    (void)rk.on_fill(rsym, r);
    Fill f;
    f.ts_ns = r.transact_ns;
    f.symbol = std::string(r.symbol.view());
    f.side = exec::side_sign(r.side);
    f.price = r.last_price.to_double();
    f.qty = r.last_qty.to_double();
    f.fee = static_cast<double>(r.commission_raw) / static_cast<double>(kDecimalScale);
    f.maker = r.is_maker;
    f.decision_ts_ns = ev.order != nullptr ? ev.order->req.created_ns : 0;
    run.fills.push_back(std::move(f));
  };

  for (std::size_t i = 0; i < nb; ++i) {
    const Bar& b = bars.bars[i];
    const std::int64_t close_ns = b.ts_ns + bars.period_ns;
    // 1-3: the orders decided at the previous close meet this bar.
    venue.open_phase(b, b.ts_ns + cfg.order_latency_ns);
    venue.range_phase(b, close_ns);
    while (om.poll(on_event) > 0) {
    }

    // 4: the close.
    fe.push(b);
    risk::MarketTop top;
    top.bid = Price::from_raw(floor_tick(b.close * (1 - hs), tick_raw));
    top.ask = Price::from_raw(ceil_tick(b.close * (1 + hs), tick_raw));
    if (top.ask.raw <= top.bid.raw) top.ask.raw = top.bid.raw + tick_raw;
    top.state = book::BookState::synced;
    top.update_ns = close_ns;
    (void)rk.on_market(rsym, top);
    om.mark(oidx, Price::from_raw(to_raw(b.close)));
    if (rk.latched() && om.open_orders() > 0) (void)om.cancel_all(oidx);

    // 5: decide.
    if (fe.ready()) {
      ++run.counters.samples;
      model->pkg.normalize(fe.window(), T, ctx.input(0));
      const auto a = std::chrono::steady_clock::now();
      const Code rc = ctx.run();
      inf_hist.record(std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - a).count());
      ++run.counters.inferences;
      if (rc != Code::ok) return Status(rc, spec.path + ": inference failed at bar " + std::to_string(i));
      const float* out = ctx.output(0);

      // The OMS's view as the live trader and the tick backtester build it; sent_ns = the order's creation
      // stamp, simulated time (the OMS's enqueue stamp is wall clock).
      const std::size_t n_open = pipeline::open_orders_of(om, oidx, open, /*caller_time=*/true);
      strategy::AccountView acct;
      acct.position = Qty::from_raw(om.position(oidx).qty_raw);
      acct.open = std::span<const risk::OpenOrder>(open.data(), n_open);
      const std::size_t n = st.on_model_output(out, top, acct, close_ns, intents);
      const risk::Exposure ex = risk::exposure_of(acct.open, static_cast<std::uint32_t>(om.open_orders()));
      for (std::size_t k = 0; k < n; ++k) {
        strategy::Intent& in = intents[k];
        if (in.kind == strategy::Intent::Kind::new_order) {
          if (rk.check_new(rsym, in.order, ex, close_ns) != risk::Reason::ok) {
            ++run.counters.risk_refused;
            continue;
          }
          if (om.submit(in.order) == exec::SubmitResult::ok) ++run.counters.orders;
        } else {
          if (rk.check_cancel(rsym, close_ns) != risk::Reason::ok) {
            ++run.counters.risk_refused;
            continue;
          }
          if (om.cancel(in.cancel.orig_client_order_id) == exec::SubmitResult::ok) ++run.counters.cancels;
        }
      }
      const strategy::Probabilities& p = st.last_probabilities();
      Decision d;
      d.seq = i;
      d.ts_ns = close_ns;
      d.signal = static_cast<std::int8_t>(st.signal());
      d.p_down = static_cast<float>(p.down);
      d.p_flat = static_cast<float>(p.flat);
      d.p_up = static_cast<float>(p.up);
      run.decisions.push_back(d);
    }
    ++run.counters.events;

    if (i % cfg.equity_every == 0 || i + 1 == nb) {
      const exec::Position& pos = om.position(oidx);
      EquityPoint e;
      e.ts_ns = close_ns;
      e.gross = static_cast<double>(pos.realized_raw + pos.unrealized_raw()) / static_cast<double>(kDecimalScale);
      e.equity = e.gross - static_cast<double>(pos.fees_raw) / static_cast<double>(kDecimalScale);
      e.position = static_cast<double>(pos.qty_raw) / static_cast<double>(kDecimalScale);
      e.mid = b.close;
      run.equity.push_back(e);
    }
  }
  if (venue.ring_full() > 0)
    return Status(Code::internal, "bars: " + std::to_string(venue.ring_full()) + " execution reports did not fit the OMS ring");
  run.counters.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
  run.latency.push_back(summarize("inference", inf_hist));
  return run;
}

Result<BacktestResult> run_bar_backtest(const BarSeries& bars, const std::vector<BarEngineSpec>& engines,
                                        const BarBacktestConfig& cfg) {
  if (engines.empty()) return Status(Code::invalid_argument, "bars: no engine given");
  BacktestResult r;
  r.title = "bar backtest: " + (bars.symbol.empty() ? cfg.symbol : bars.symbol) + ", " +
            std::to_string(bars.bars.size()) + " bars of " + std::to_string(bars.period_ns / 1'000'000'000) + " s";
  r.seed = cfg.seed;
  r.data_files = bars.files;
  if (!bars.bars.empty()) {
    r.start_ns = bars.bars.front().ts_ns;
    r.end_ns = bars.bars.back().ts_ns + bars.period_ns;
  }
  for (const BarEngineSpec& e : engines) {
    auto run = run_bar_engine(bars, e, cfg);
    if (!run.ok()) return run.status();
    r.runs.push_back(std::move(*run));
  }
  return r;
}

}  // namespace tickrt::backtest
