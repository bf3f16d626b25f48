// pipeline/runtime.cpp — wiring, threads, shutdown and the report (see pipeline.hpp).
#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <sstream>
#include <mutex>
#include <thread>

#include "core/clock.hpp"
#include "exec/binance_gateway.hpp"
#include "exec/journal.hpp"
#include "metrics/http_server.hpp"
#include "metrics/registry.hpp"
#include "metrics/standard.hpp"
#include "pipeline/capture_source.hpp"
#include "pipeline/gateway_config.hpp"
#include "pipeline/infer_stage.hpp"
#include "pipeline/market.hpp"
#include "pipeline/model.hpp"
#include "pipeline/pipeline.hpp"
#include "pipeline/threads.hpp"
#include "pipeline/trader.hpp"
#include "pipeline/wire_tap.hpp"
#include "pipeline/ws_client.hpp"
#include "sim/matching_engine.hpp"
#include "venue/venue.hpp"

namespace tickrt::pipeline {

struct Pipeline::Impl {
  PipelineConfig cfg;
  std::ostream* out = nullptr;
  TscClock clock;

  // venue (feed.source = sim, or order entry for the capture source)
  std::unique_ptr<sim::MatchingEngine> engine;
  std::unique_ptr<venue::VenueServer> venue;
  std::string ws_base, rest_base;
  std::unique_ptr<WireTap> tap;
  std::vector<std::pair<exec::ClientOrderId, std::uint64_t>> order_causes;  // main thread: id -> md frame

  // feed
  std::unique_ptr<CaptureSource> capture;
  std::unique_ptr<WsFeed> ws;
  std::unique_ptr<SnapshotFetcher> snaps;
  std::vector<std::string> feed_symbols;  // subscribed (WS) symbols, upper case
  std::string ws_target;
  std::unique_ptr<MarketHandler> mh;
  std::int64_t disconnected_at = 0;
  double time_scale = 1.0;   // sim/url source at speed s > 0: feature time runs s x wall time
  std::int64_t time_base = 0;
  std::uint64_t frame_seq = 0;

  // model + inference
  std::shared_ptr<const LoadedModel> model;
  std::vector<std::unique_ptr<ModelSlot>> slots;
  std::vector<std::unique_ptr<InferStage>> stages;
  std::unique_ptr<ModelSwapper> swapper;
  std::vector<std::unique_ptr<SpscRing<InferRequest>>> req_rings;
  std::vector<std::unique_ptr<SpscRing<InferResult>>> res_rings;

  // execution
  std::unique_ptr<exec::Journal> journal;
  std::unique_ptr<exec::RequestRing> outbound;
  std::unique_ptr<exec::ReportRing> inbound;
  std::unique_ptr<exec::BinanceGateway> gateway;
  std::vector<exec::SendTrace> send_traces;  // the gateway's per-order stage stamps (after stop)
  std::unique_ptr<Trader> trader;
  std::vector<std::string> traded;

  // metrics
  std::unique_ptr<metrics::Registry> registry;
  std::unique_ptr<metrics::MetricsServer> server;
  metrics::StandardMetrics std_metrics;
  bool have_metrics = false;

  // threads and control
  std::vector<std::thread> threads;
  std::atomic<bool> shutdown{false};      // main -> pipeline threads: stop taking market data
  std::atomic<bool> feed_done{false};     // capture source ended
  std::atomic<bool> cancel_all_req{false};
  std::atomic<int> infer_running{0};
  std::atomic<std::uint64_t> dropped_windows{0};
  StageLatency lat_feed, lat_exec;
  std::vector<std::unique_ptr<StageLatency>> lat_infer;
  std::mutex thread_errors_mu;
  std::vector<std::string> thread_errors;  // pinning failures, printed by the main thread
  RunSummary sum;
  // [threads] reserve_pinned_cpus: the CPUs of every thread but the pinned ones (setup(); start_thread_pinned).
  bool reserve_cpus = false;
  cpu_set_t others_cpus{};
  // Path warm-up (keep_warm_path, inline_loop): time of each slice (market slices, then the trader's), cycles.
  static constexpr int kPathSlices = MarketHandler::kWarmSlices + Trader::kWarmSlices;
  std::unique_ptr<std::array<LatencyHistogram, kPathSlices>> path_warm_ns;
  std::uint64_t path_warm_cycles = 0;
  std::uint64_t cancels_at_shutdown = 0;
  std::size_t open_at_end = 0;
  int order_lines = 0;

  void observe(StageLatency& lat, Stage s, std::int64_t ns) noexcept {
    lat.record(s, ns);
    if (have_metrics) std_metrics.stage_latency[static_cast<std::size_t>(s)]->observe(ns);
  }
  std::int64_t dt(std::uint64_t a, std::uint64_t b) const noexcept {
    return clock.ticks_to_ns(static_cast<std::int64_t>(b - a));
  }

  Status setup();
  Status setup_feed();
  Status setup_venue(bool with_market_data);
  Status setup_exec();
  Status recover(const exec::JournalContents& jc);
  Status setup_metrics();
  bool poll_feed(SampleMeta& meta, StageLatency& lat) noexcept;
  // Local ns -> feature time: scaled by the replay speed from time_base (the first frame's stamp).
  std::int64_t scaled(std::int64_t ns) const noexcept {
    return time_base + static_cast<std::int64_t>(static_cast<double>(ns - time_base) * time_scale);
  }
  // Feature time of a frame read at rns (ns): the stamp itself, or scaled by the replay speed (time_scale).
  std::int64_t feature_ts(std::int64_t rns) noexcept {
    if (time_scale == 1.0) return rns;
    if (time_base == 0) time_base = rns;
    return scaled(rns);
  }
  // The feature clock now, in the messages' time base (-1: none yet, or a capture at speed 0). No message
  // stamped before it can still come (live stamps are taken on this thread at read; a capture bounds it).
  std::int64_t feature_now() const noexcept {
    if (capture) return capture->market_now_ns();
    if (!ws) return -1;
    const std::int64_t n = now_ns();
    if (time_scale == 1.0) return n;
    return time_base == 0 ? -1 : scaled(n);
  }
  // infer_at_boundary (inline, between ticks): a boundary the feature clock passed -> its rows and the model
  // run on them (one symbol per call). True when it did that work.
  bool infer_at_boundary(InferStage& stage, StageLatency& lat) noexcept;
  void record_feed_stamps(StageLatency& lat) noexcept;
  bool feed_stamps_pending = false;   // inline: the last message's stage stamps, recorded after its decision
  void shutdown_trading(StageLatency& lat) noexcept;
  void inline_loop();
  void feed_loop();
  void infer_loop(std::size_t i);
  void exec_loop();
  void print_log();
  void start_thread_pinned(const ThreadConfig& tc, const char* name, std::function<void()> fn);
};

// ---- setup ---------------------------------------------------------------------------------------

Status Pipeline::Impl::setup_venue(bool with_market_data) {
  venue::SimSetup s = venue::default_sim_setup();
  s.venue.port = 0;
  s.venue.captures.clear();
  // Several captures (one per symbol) are interleaved by the venue on their receive stamps (venue.hpp).
  if (with_market_data) s.venue.captures = capture_paths(cfg);
  s.venue.speed = cfg.speed;
  s.venue.busy_poll_cpu = cfg.sim_cpu;
  engine = std::make_unique<sim::MatchingEngine>(s.engine);
  if (!engine->status().ok()) return engine->status().with_context("sim engine");
  venue = std::make_unique<venue::VenueServer>(s.venue, *engine);
  TICKRT_RETURN_IF_ERROR(venue->start().with_context("venue"));
  ws_base = "ws://127.0.0.1:" + std::to_string(venue->port());
  rest_base = "http://127.0.0.1:" + std::to_string(venue->port());
  return Status::Ok();
}

Status Pipeline::Impl::setup_feed() {
  features::FeatureConfig fc;  // the model package check pins window and sampling to these
  if (model && model->streaming) fc.window = replay_rows(*model);  // streaming: the replay buffer >= warm-up
  mh = std::make_unique<MarketHandler>(fc);
  // Streaming (inline only): every row is stepped as it comes, so the first due sample costs one step.
  // Window prefix (inline): the rows before the first due sample and rows skipped later start a prefix too.
  if (model && cfg.mode == ThreadMode::inline_ && (model->streaming || model->prefix_slice > 0)) mh->set_row_samples(true);
  const std::vector<std::string> caps = capture_paths(cfg);
  const std::string& cap = caps.front();
  if (cfg.source == FeedSource::capture) {
    auto src = CaptureSource::open(cap, 1 + cfg.extra_symbols, cfg.speed);
    if (!src.ok()) return src.status().with_context("feed.capture");
    capture = std::move(src.value());
    feed_symbols = {capture->symbol()};
    if (cfg.trade) TICKRT_RETURN_IF_ERROR(setup_venue(false));
    return Status::Ok();
  }
  if (cfg.source == FeedSource::sim) {
    // Every capture's symbol is subscribed (and traded: setup_exec), in the order given.
    const char* key = cfg.captures.empty() ? "feed.capture" : "feed.captures";
    feed_symbols.clear();
    for (const std::string& c : caps) {
      auto probe = CaptureSource::open(c, 1, 0, 2000);  // the capture's symbol
      if (!probe.ok()) return probe.status().with_context(key);
      const std::string sym = probe.value()->symbol();
      if (std::find(feed_symbols.begin(), feed_symbols.end(), sym) == feed_symbols.end()) feed_symbols.push_back(sym);
    }
    TICKRT_RETURN_IF_ERROR(setup_venue(true));
    if (cfg.speed > 0) time_scale = cfg.speed;
    if (cfg.wire_tap) {
      tap = std::make_unique<WireTap>(venue->port());
      TICKRT_RETURN_IF_ERROR(tap->start());
      ws_base = "ws://127.0.0.1:" + std::to_string(tap->port());
    }
  } else {
    feed_symbols = cfg.symbols;
    // A replay server that outlives us (`tickrt sim --speed s`) streams s x recorded time: feature
    // time follows it. A real exchange: speed 1 (the default), wall time.
    if (cfg.speed > 0) time_scale = cfg.speed;
    ws_base = cfg.ws_url;
    rest_base = cfg.rest_url;
  }
  for (const std::string& s : feed_symbols) (void)mh->intern(s);
  ws = std::make_unique<WsFeed>();
  ws_target = combined_stream_target(feed_symbols);
  TICKRT_RETURN_IF_ERROR(ws->connect(ws_base, ws_target).with_context("feed"));
  snaps = std::make_unique<SnapshotFetcher>(rest_base, feed_symbols);
  snaps->start();
  for (std::size_t i = 0; i < feed_symbols.size(); ++i) (void)snaps->request(static_cast<std::uint16_t>(i));
  return Status::Ok();
}

Status Pipeline::Impl::setup_exec() {
  if (!cfg.trade) return Status::Ok();
  if (!venue && (cfg.api_key.empty() || cfg.api_secret.empty())) {
    *out << "note: exec.api_key/api_secret empty: market data and inference only (no orders)\n";
    cfg.trade = false;
    return Status::Ok();
  }
  // One [exec] -> gateway mapping with the NATS exec node (pipeline/gateway_config.hpp).
  auto gc = gateway_config(cfg, venue ? (tap ? tap->port() : venue->port()) : std::uint16_t{0});
  if (!gc.ok()) return gc.status();
  const exec::BinanceConfig& bc = gc.value();
  // Every feed symbol trades, each with its own strategy, risk limits, position and PnL (Trader); more
  // than the risk engine holds is a setup error (naming the key), not a silent subset.
  traded = feed_symbols;
  if (traded.size() > risk::RiskEngine::kMaxSymbols) {
    const char* key = cfg.source == FeedSource::url ? "feed.symbols" : "feed.captures";
    return Status(Code::invalid_argument, std::string(key) + ": " + std::to_string(traded.size()) + " symbols, at most " +
                                              std::to_string(risk::RiskEngine::kMaxSymbols) +
                                              " can be traded by one process (risk::RiskEngine::kMaxSymbols); "
                                              "subscribe fewer, split them over processes, or set exec.trade = false");
  }
  std::uint32_t session = exec::clock_session_number();  // no journal: ids still differ across restarts
  exec::JournalContents jc;  // the journal as it was before this session (recovery input)
  if (!cfg.journal.empty()) {
    const std::string jp = cfg.journal;  // relative to the working directory (state, not config)
    auto j = exec::Journal::open(jp);
    if (!j.ok()) return j.status().with_context("exec.journal");
    journal = std::move(j.value());
    auto loaded = journal->load();
    if (!loaded.ok()) return loaded.status().with_context("exec.journal " + jp);
    jc = std::move(loaded.value());
    auto s = journal->begin_session(cfg.id_prefix);
    if (!s.ok()) return s.status().with_context("exec.journal");
    session = s.value();
  }
  outbound = std::make_unique<exec::RequestRing>(1024);
  inbound = std::make_unique<exec::ReportRing>(4096);
  exec::GatewayRings rings{outbound.get(), inbound.get()};
  auto t = Trader::create(cfg, traded, rings, journal.get(), session, clock);
  if (!t.ok()) return t.status();
  trader = std::move(t.value());
  if (cfg.keep_warm == "infer" && cfg.keep_warm_path && cfg.mode == ThreadMode::inline_)
    TICKRT_RETURN_IF_ERROR(trader->enable_warm(cfg, traded));
  gateway = std::make_unique<exec::BinanceGateway>(bc);
  TICKRT_RETURN_IF_ERROR(recover(jc));
  TICKRT_RETURN_IF_ERROR(gateway->start(rings).with_context("exec gateway"));
  return Status::Ok();
}

// Restart recovery, before the gateway's IO thread starts (exec/recovery.hpp; the blocking
// queries work before start()). The in-process venue is born with this process, so a journal
// from an earlier run cannot be on it: nothing to reconcile (noted, not replayed). Any venue that
// outlives us (feed.source = url) is reconciled; what cannot be explained fails closed: the OMS
// is halted, no gateway starts, and create() returns kRecoveryFailedClosed with every mismatch.
Status Pipeline::Impl::recover(const exec::JournalContents& jc) {
  sum.recovery_records = jc.records.size();
  if (jc.records.empty() || !cfg.recover) return Status::Ok();
  if (venue) {
    *out << "recovery: exec.journal " << cfg.journal << " holds " << jc.records.size()
         << " rows from earlier runs against another in-process venue (this one starts empty): not reconciled\n";
    sum.recovery = "skipped (in-process venue)";
    return Status::Ok();
  }
  exec::RecoveryConfig rc;
  rc.full_trade_history = cfg.recovery_full_history;
  rc.allow_foreign_orders = cfg.allow_foreign_orders;
  exec::RecoveryReport rep;
  Status st = gateway->sync_time().with_context("exec recovery");
  if (st.ok()) st = trader->recover(jc, *gateway, journal.get(), rc, rep);
  sum.recovery = rep.summary();
  sum.recovered_position_raw = trader->oms().position(trader->oms_index(0)).qty_raw;
  sum.symbols.resize(trader->symbol_count());
  for (std::size_t i = 0; i < trader->symbol_count(); ++i) {
    sum.symbols[i].symbol = trader->symbol_name(i);
    sum.symbols[i].recovered_position_raw = trader->oms().position(trader->oms_index(i)).qty_raw;
  }
  sum.recovered_orders = rep.orders_replayed;
  sum.recovered_fills = rep.fills_replayed;
  if (!st.ok() || !rep.ok) {
    std::string msg = std::string(kRecoveryFailedClosed) + " (exec.journal " + cfg.journal + ", " + rest_base + "): ";
    if (!st.ok()) msg += "exchange not reachable: " + st.to_string();
    for (std::size_t i = 0; i < rep.mismatches.size(); ++i) msg += (i ? "; " : "") + rep.mismatches[i];
    msg += ". No order was sent (OMS halted, gateway not started).";
    return Status(Code::out_of_sync, msg);
  }
  *out << "recovery: " << rep.summary() << "\n";
  return Status::Ok();
}

Status Pipeline::Impl::setup_metrics() {
  if (!cfg.metrics) return Status::Ok();
  registry = std::make_unique<metrics::Registry>();
  std::vector<std::string_view> stage_keys;
  for (std::size_t i = 0; i < kStageCount; ++i) stage_keys.push_back(stage_key(static_cast<Stage>(i)));
  std::vector<std::string_view> syms(traded.begin(), traded.end());
  auto sm = metrics::register_standard(*registry, "0.1.0", stage_keys, syms);
  if (!sm.ok()) return sm.status().with_context("metrics");
  std_metrics = sm.value();
  if (trader) {
    TICKRT_RETURN_IF_ERROR(metrics::register_risk(*registry, trader->risk()));
    trader->set_metrics(&std_metrics);
  }
  metrics::ServerConfig sc;
  const std::size_t colon = cfg.metrics_listen.rfind(':');
  if (colon == std::string::npos) return Status(Code::invalid_argument, "metrics.listen: expected host:port, got " + cfg.metrics_listen);
  sc.address = cfg.metrics_listen.substr(0, colon);
  sc.port = static_cast<std::uint16_t>(std::atoi(cfg.metrics_listen.c_str() + colon + 1));
  sc.bearer_token = cfg.control_token;
  server = std::make_unique<metrics::MetricsServer>(*registry, sc);
  server->set_health([this] {
    metrics::HealthReport h;
    const bool latched = trader && trader->risk().latched();
    h.healthy = !latched && !shutdown.load();
    h.json = std::string("{\"status\":\"") + (h.healthy ? "ok" : "unhealthy") + "\",\"kill_switch\":" + (latched ? "true" : "false") +
             ",\"model_version\":" + std::to_string(slots.empty() ? 0 : slots[0]->running_version()) + "}";
    return h;
  });
  server->set_control("swap", [this](std::string_view body) {
    std::string path(body);
    while (!path.empty() && (path.back() == '\n' || path.back() == '\r' || path.back() == ' ')) path.pop_back();
    swapper->request_swap(path);
    return metrics::ControlResult{202, "{\"status\":\"queued\",\"path\":\"" + (path.empty() ? cfg.model : path) + "\"}"};
  });
  server->set_control("kill", [this](std::string_view) {
    if (trader) trader->risk().request_kill();
    return metrics::ControlResult{200, "{\"status\":\"kill requested\"}"};
  });
  server->set_control("cancel-all", [this](std::string_view) {
    cancel_all_req.store(true);
    return metrics::ControlResult{200, "{\"status\":\"cancel-all requested\"}"};
  });
  Status st = server->start();
  if (!st.ok()) {
    // A second instance (or a test) holding the port must not stop trading: say so and go on.
    *out << "warning: metrics server not started: " << st.to_string() << "\n";
    server.reset();
  }
  have_metrics = true;
  return Status::Ok();
}

Status Pipeline::Impl::setup() {
  // Threads started from here on (venue, journal, gateway, metrics, snapshots, swapper) inherit this thread's CPU
  // mask: keep them off the pinned threads' CPUs for the setup, then give the main thread its mask back.
  const cpu_set_t main_cpus = current_thread_cpus();
  std::vector<int> pinned = {cfg.feed.cpu, cfg.gateway_cpu, cfg.sim_cpu};
  if (cfg.mode == ThreadMode::pipelined) pinned.insert(pinned.end(), {cfg.infer.cpu, cfg.exec.cpu});
  const cpu_set_t others = without(main_cpus, pinned);
  if (cfg.reserve_pinned_cpus && CPU_COUNT(&others) > 0 && !CPU_EQUAL(&others, &main_cpus) &&
      set_current_thread_cpus(others, "tickrt setup").ok()) {
    reserve_cpus = true;
    others_cpus = others;
  }
  struct RestoreMask {
    const cpu_set_t& m;
    bool on;
    ~RestoreMask() {
      if (on) (void)set_current_thread_cpus(m, "tickrt setup");
    }
  } restore{main_cpus, reserve_cpus};
  auto c = TscClock::calibrate(std::chrono::milliseconds(20));
  if (!c.ok()) return c.status();
  clock = c.value();
  // Model first: a model that does not fit the feature code stops everything before any socket.
  ModelOptions mo;
  mo.path = resolve_path(cfg, cfg.model);
  mo.max_batch = cfg.mode == ThreadMode::inline_ ? 1 : cfg.max_batch;
  mo.workspace_limit = static_cast<std::size_t>(cfg.workspace_limit_mb) << 20;
  mo.require_golden = cfg.require_golden;
  mo.golden_tol = cfg.golden_tol;
  mo.precision = cfg.precision;
  mo.prefix_slice = cfg.mode == ThreadMode::inline_ && cfg.window_prefix ? cfg.window_prefix_slice : 0;
  mo.calib = cfg.calib.empty() ? std::string() : resolve_path(cfg, cfg.calib);
  mo.calib_cache = cfg.calib_cache.empty() ? std::string() : resolve_path(cfg, cfg.calib_cache);
  mo.golden_min_agreement = cfg.golden_min_agreement;
  mo.stream.max_gap_ns = cfg.stream_max_gap_ms * 1'000'000;
  mo.stream.warmup = cfg.stream_warmup;
  std::string device_note;
  auto dev = choose_device(cfg.engine_device, cfg.engine_fallback, device_note);
  if (!dev.ok()) return dev.status();
  if (!device_note.empty()) *out << "warning: " << device_note << "\n";
  mo.device = dev.value();
  auto m = load_model(mo);
  if (!m.ok()) return m.status().with_context("model.path");
  model = m.value();
  if (model->streaming && cfg.mode != ThreadMode::inline_)
    return Status(Code::unsupported, mo.path + ": a streaming model (tickrt.state) runs in inline mode only: set threads.mode = \"inline\"")
        .with_context("threads.mode");
  const int n_infer = cfg.mode == ThreadMode::inline_ ? 1 : cfg.infer_threads;
  std::vector<ModelSlot*> raw_slots;
  BatchConfig bc{mo.max_batch, static_cast<std::int64_t>(cfg.max_delay_us) * 1000, cfg.coalesce};
  for (int i = 0; i < n_infer; ++i) {
    auto inst = make_instance(model, mo.max_batch);
    if (!inst.ok()) return inst.status();
    slots.push_back(std::make_unique<ModelSlot>(std::move(inst.value())));
    raw_slots.push_back(slots.back().get());
    stages.push_back(std::make_unique<InferStage>(*slots.back(), bc, clock));
    slots.back()->set_swap_warm(cfg.swap_warm, static_cast<std::int64_t>(cfg.swap_warm_max_ms) * 1'000'000);
    stages.back()->set_warm({cfg.keep_warm == "touch" ? KeepWarm::touch : cfg.keep_warm == "infer" ? KeepWarm::infer : KeepWarm::off,
                             cfg.keep_warm_after_us * 1000, 64, cfg.keep_warm_trickle_us * 1000});
    lat_infer.push_back(std::make_unique<StageLatency>());
    if (cfg.mode == ThreadMode::pipelined) {
      req_rings.push_back(std::make_unique<SpscRing<InferRequest>>(static_cast<std::size_t>(cfg.ring_capacity)));
      res_rings.push_back(std::make_unique<SpscRing<InferResult>>(static_cast<std::size_t>(cfg.ring_capacity)));
    }
  }
  swapper = std::make_unique<ModelSwapper>(mo, model, raw_slots, cfg.watch, cfg.watch_ms);
  TICKRT_RETURN_IF_ERROR(setup_feed());
  TICKRT_RETURN_IF_ERROR(setup_exec());
  TICKRT_RETURN_IF_ERROR(setup_metrics());
  swapper->start();
  return Status::Ok();
}

// ---- hot loops -----------------------------------------------------------------------------------

bool Pipeline::Impl::poll_feed(SampleMeta& meta, StageLatency& lat) noexcept {
  TickStamps t;
  int due = 0;
  if (capture) {
    std::string_view line;
    if (!capture->next(line)) {
      if (capture->done()) feed_done.store(true, std::memory_order_relaxed);
      return false;
    }
    t.recv = TscClock::ticks();
    t.recv_ns = clock.to_ns(t.recv);
    due = mh->on_line(line, t, meta);
  } else {
    if (std::string* snap = snaps->take()) {
      // A REST snapshot (startup or resync): parsed like any message; freed here (rare path).
      t.recv = TscClock::ticks();
      due = mh->on_json(*snap, feature_ts(now_ns()), t, meta);   // the frames' time base (a scaled replay)
      delete snap;
      if (due == MarketHandler::kRowOnly) stages[0]->step_row(meta, mh->symbol(meta.symbol)->fe);
      return due == 1;
    }
    feed::SymbolId gap_sym;
    while (mh->take_resync_needed(gap_sym)) {
      if (cfg.mode == ThreadMode::inline_) stages[0]->on_resync(gap_sym);  // streaming state restarts
      const std::string_view name = mh->symbol_name(gap_sym);
      for (std::size_t i = 0; i < feed_symbols.size(); ++i)
        if (feed_symbols[i] == name) (void)snaps->request(static_cast<std::uint16_t>(i));
      if (have_metrics) std_metrics.resyncs->add();
    }
    std::string_view frame;
    std::uint64_t tsc = 0;
    std::int64_t rns = 0;
    if (!ws->poll(frame, tsc, rns)) {
      if (!ws->connected()) {
        // Recovery path (not steady state): reconnect after feed.reconnect_ms, then resync.
        const std::int64_t now = now_ns();
        if (disconnected_at == 0) disconnected_at = now;
        if (now - disconnected_at >= static_cast<std::int64_t>(cfg.reconnect_ms) * 1'000'000 && !shutdown.load()) {
          disconnected_at = now;
          if (ws->connect(ws_base, ws_target).ok()) {
            disconnected_at = 0;
            mh->begin_connection();
            for (std::size_t i = 0; i < feed_symbols.size(); ++i) (void)snaps->request(static_cast<std::uint16_t>(i));
          }
        }
      }
      return false;
    }
    t.recv = tsc;
    t.recv_ns = rns;
    // Feature time: the receive stamp, scaled by the replay speed for the simulator (sampling every
    // 100 ms of MARKET time, as the model was trained, whatever the speed; 1x: the stamp itself).
    due = mh->on_json(frame, feature_ts(rns), t, meta);
    if (due == 1) meta.md_seq = ws->frames();  // the frame number: what the wire tap counts
  }
  if (due == MarketHandler::kRowOnly) stages[0]->step_row(meta, mh->symbol(meta.symbol)->fe);  // inline streaming only
  // Stage times of every accepted message (sampled or not): the handler's last stamps. The inline loop
  // records them after the tick's decision (feed_stamps_pending), off the tick's path.
  const TickStamps& ls = mh->last_stamps();
  if (ls.recv == t.recv && ls.parsed != 0) {
    if (cfg.mode == ThreadMode::inline_) feed_stamps_pending = true;
    else record_feed_stamps(lat);
  }
  if (have_metrics) std_metrics.messages->add();
  return due == 1;
}

bool Pipeline::Impl::infer_at_boundary(InferStage& stage, StageLatency& lat) noexcept {
  const std::int64_t now = feature_now();
  if (now < 0) return false;
  SampleMeta m;
  const feed::SymbolId sym = mh->sample_boundaries(now, m);
  if (sym == feed::kNoSymbol) return false;
  std::uint64_t t0 = 0, t1 = 0;
  if (stage.infer_ahead(m, mh->symbol(sym)->fe, t0, t1)) observe(lat, Stage::infer_ahead, dt(t0, t1));
  return true;
}

void Pipeline::Impl::record_feed_stamps(StageLatency& lat) noexcept {
  const TickStamps& ls = mh->last_stamps();
  observe(lat, Stage::recv_parsed, dt(ls.recv, ls.parsed));
  observe(lat, Stage::book, dt(ls.parsed, ls.book));
  observe(lat, Stage::features, dt(ls.book, ls.feat));
}

void Pipeline::Impl::shutdown_trading(StageLatency& lat) noexcept {
  if (!trader) return;
  cancels_at_shutdown = trader->cancel_all();
  const std::int64_t deadline = now_ns() + static_cast<std::int64_t>(cfg.cancel_timeout_ms) * 1'000'000;
  while (trader->open_orders() > 0 && now_ns() < deadline) {
    if (trader->poll(lat) == 0) std::this_thread::sleep_for(std::chrono::microseconds(200));
    // Cancels whose push failed (ring full) or orders acked after the first pass: cancel again.
    if (trader->open_orders() > 0) cancels_at_shutdown += trader->cancel_all();
  }
  for (int i = 0; i < 20; ++i) {  // late reports (fills racing the cancels) into the books
    if (trader->poll(lat) == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  open_at_end = trader->open_orders();
}

void Pipeline::Impl::inline_loop() {
  Idler idler(cfg.feed);
  InferStage& stage = *stages[0];
  StageLatency& lat = lat_feed;
  InferResult res;
  SampleMeta meta;
  // keep_warm = "infer" also keeps the feed path warm: once per keep_warm_after_us of idleness, either the last
  // frame is parsed again into a scratch event (MarketHandler::warm), or, with keep_warm_path, one cycle of the
  // path warm-up runs: the market handler's slices (parse, book seed, book + sampling + features, trade) and
  // the trader's (decide, settle) on scratch state, ONE slice per idle pass (a tick arriving meanwhile waits
  // for at most one; the model's keep-warm waits for the cycle's end), abandoned when a message comes.
  // With infer_at_boundary no tick waits for the model, yet its keep-warm still pays: without the throw-away
  // inferences and trickles the order ticks' parse and book ran slower (device A/B, docs/BENCHMARKS.md "## streaming"
  // session 19), so the feed/path warm-up keeps riding on keep_warm = "infer".
  const bool feed_warm = cfg.keep_warm == "infer";
  const bool path_warm = feed_warm && cfg.keep_warm_path;
  const std::uint64_t warm_after = clock.ns_to_ticks(cfg.keep_warm_after_us * 1000);
  std::uint64_t last_work_tsc = TscClock::ticks(), feed_warm_tsc = 0;
  // The trickle's market half (keep_warm_trickle_us, the model's half is InferStage::idle()): every trickle period,
  // 4 chunks (~70 lines) of the live books read, so a diff's deep levels are in cache when it comes.
  const std::uint64_t book_touch_every = feed_warm ? clock.ns_to_ticks(cfg.keep_warm_trickle_us * 1000) : 0;
  std::uint64_t book_touch_tsc = 0;
  int path_slice = -1;          // the next slice of the cycle in progress; -1: none
  const bool ahead = cfg.infer_at_boundary;   // rows and the model at the boundary, by the clock
  bool have_res = false;        // res holds a result the trader decided on
  if (path_warm) path_warm_ns = std::make_unique<std::array<LatencyHistogram, kPathSlices>>();
  while (!shutdown.load(std::memory_order_relaxed)) {
    bool work = false;
    if (poll_feed(meta, lat)) {
      work = true;
      const SymbolState* s = mh->symbol(meta.symbol);
      if (trader) trader->map_symbol(meta.symbol, s->name);
      if (stage.infer_one(meta, s->fe, res)) {
        // The decision first, the latency records after it (histograms and metrics are off the tick's path).
        const int n = trader ? trader->on_result(res, lat) : 0;
        have_res = trader != nullptr;
        observe(lat, Stage::inference, dt(res.infer_start, res.infer_end));
        observe(lat, Stage::window_result, dt(meta.t.feat, res.infer_end));
        if (have_metrics && n > 0) std_metrics.orders->add(static_cast<std::uint64_t>(n));
      }
    }
    if (feed_stamps_pending) {
      record_feed_stamps(lat);
      feed_stamps_pending = false;
      mh->keep_frame();   // the frame for the warm-ups, copied now (it is valid until the next poll)
    }
    if (trader) {
      if (cancel_all_req.exchange(false, std::memory_order_relaxed)) (void)trader->cancel_all();
      if (trader->poll(lat) > 0) work = true;
    }
    if (work) {
      idler.reset();
      if (feed_warm) last_work_tsc = TscClock::ticks();
      path_slice = -1;   // a message came: the scratch event may point at levels the parser has refilled
    } else if (ahead && infer_at_boundary(stage, lat)) {
      // A boundary passed: its rows were taken and the model ran on them (first: the crossing message needs it).
      idler.reset();
    } else if (path_slice >= 0) {
      const std::uint64_t t0 = TscClock::ticks();
      if (path_slice < MarketHandler::kWarmSlices) mh->warm_slice(path_slice);
      else if (trader && have_res) trader->warm_slice(path_slice - MarketHandler::kWarmSlices, res);
      const std::uint64_t t1 = TscClock::ticks();
      (*path_warm_ns)[static_cast<std::size_t>(path_slice)].record(dt(t0, t1));
      if (++path_slice == kPathSlices) {
        path_slice = -1;
        ++path_warm_cycles;
        feed_warm_tsc = t1;
      }
      idler.idle();
    } else {
      stage.idle();  // swap warm-up / keep_warm between ticks (warm.hpp)
      if (feed_warm) {
        const std::uint64_t now = TscClock::ticks();
        if (book_touch_every > 0 && now - book_touch_tsc >= book_touch_every) {
          mh->touch_books(4);
          book_touch_tsc = now;
        }
        if (now - last_work_tsc >= warm_after && now - feed_warm_tsc >= warm_after) {
          if (path_warm) {
            path_slice = 0;   // the cycle starts at the next idle pass
          } else {
            mh->warm();
            feed_warm_tsc = TscClock::ticks();
          }
        }
      }
      idler.idle();
    }
  }
  shutdown_trading(lat);
}

void Pipeline::Impl::feed_loop() {
  Idler idler(cfg.feed);
  StageLatency& lat = lat_feed;
  SampleMeta meta;
  const std::size_t n = req_rings.size();
  while (!shutdown.load(std::memory_order_relaxed)) {
    if (poll_feed(meta, lat)) {
      const SymbolState* s = mh->symbol(meta.symbol);
      SpscRing<InferRequest>& ring = *req_rings[meta.symbol % n];
      if (!enqueue_window(ring, meta, s->fe)) dropped_windows.fetch_add(1, std::memory_order_relaxed);
      if (have_metrics) std_metrics.queue_depth->set(static_cast<double>(ring.size()));
      idler.reset();
    } else {
      idler.idle();
    }
  }
}

void Pipeline::Impl::infer_loop(std::size_t i) {
  Idler idler(cfg.infer);
  InferStage& stage = *stages[i];
  SpscRing<InferRequest>& in = *req_rings[i];
  SpscRing<InferResult>& outr = *res_rings[i];
  // Queue wait and inference per window are recorded by the execution thread from the results.
  for (;;) {
    const int b = stage.poll(in, outr);
    if (b > 0) {
      idler.reset();
      if (have_metrics) std_metrics.batch_size->observe(b);
      continue;
    }
    if (shutdown.load(std::memory_order_relaxed) && in.empty()) break;
    stage.idle();  // swap warm-up / keep_warm (warm.hpp)
    idler.idle();
  }
  infer_running.fetch_sub(1);
}

void Pipeline::Impl::exec_loop() {
  Idler idler(cfg.exec);
  StageLatency& lat = lat_exec;
  InferResult r;
  for (;;) {
    bool work = false;
    for (auto& ring : res_rings) {
      while (ring->try_pop(r)) {
        work = true;
        observe(lat, Stage::queue_wait, dt(r.enqueue_tsc, r.infer_start));
        observe(lat, Stage::inference, dt(r.infer_start, r.infer_end));
        observe(lat, Stage::window_result, dt(r.meta.t.feat, r.infer_end));
        if (trader) {
          trader->map_symbol(r.meta.symbol, mh->symbol_name(r.meta.symbol));
          const int n = trader->on_result(r, lat);
          if (have_metrics && n > 0) std_metrics.orders->add(static_cast<std::uint64_t>(n));
        }
      }
    }
    if (trader) {
      if (cancel_all_req.exchange(false, std::memory_order_relaxed)) (void)trader->cancel_all();
      if (trader->poll(lat) > 0) work = true;
    }
    if (shutdown.load(std::memory_order_relaxed) && infer_running.load() == 0) {
      bool empty = true;
      for (auto& ring : res_rings) empty &= ring->empty();
      if (empty) break;
    }
    if (work) idler.reset();
    else idler.idle();
  }
  shutdown_trading(lat);
}

void Pipeline::Impl::start_thread_pinned(const ThreadConfig& tc, const char* name, std::function<void()> fn) {
  threads.emplace_back([this, tc, name, fn = std::move(fn)] {
    name_current_thread(name);
    // Unpinned pipeline threads stay off the pinned ones' CPUs too ([threads] reserve_pinned_cpus).
    Status st = tc.cpu < 0 && reserve_cpus ? set_current_thread_cpus(others_cpus, name) : pin_current_thread(tc.cpu, name);
    if (!st.ok()) {
      // Reported by the main thread (no I/O on a pipeline thread); the thread runs unpinned.
      std::lock_guard<std::mutex> g(thread_errors_mu);
      thread_errors.push_back(st.to_string());
    }
    fn();
  });
}

// ---- main thread ---------------------------------------------------------------------------------

void Pipeline::Impl::print_log() {
  if (!trader) return;
  LogRecord r;
  while (trader->log().try_pop(r)) {
    if (r.kind == LogRecord::Kind::order && tap) order_causes.emplace_back(r.id, r.md_seq);
    if (!cfg.print_orders) continue;
    if (order_lines >= cfg.max_order_lines) {
      if (order_lines == cfg.max_order_lines) *out << "  ... (further order lines not printed: report.max_order_lines)\n";
      ++order_lines;
      continue;
    }
    ++order_lines;
    char buf[256];
    const char* kind = "";
    switch (r.kind) {
      case LogRecord::Kind::order: kind = "ORDER "; break;
      case LogRecord::Kind::cancel: kind = "CANCEL"; break;
      case LogRecord::Kind::fill: kind = "FILL  "; break;
      case LogRecord::Kind::reject: kind = "REJECT"; break;
      case LogRecord::Kind::refused: kind = "RISK  "; break;
      case LogRecord::Kind::expired: kind = "EXPIRE"; break;
      case LogRecord::Kind::canceled: kind = "CXLD  "; break;
    }
    const double price = r.price.to_double(), qty = r.qty.to_double();
    if (r.kind == LogRecord::Kind::order) {
      std::snprintf(buf, sizeof(buf), "  %s %-4s %-11s %.*s %-8s qty %.5f @ %.2f  (p_up %.2f p_down %.2f, md #%" PRIu64 ")\n", kind,
                    std::string(exec::side_name(r.side)).c_str(), std::string(exec::order_type_name(r.type)).c_str(),
                    static_cast<int>(r.id.len), r.id.data, r.symbol.data, qty, price, r.p_up, r.p_down, r.md_seq);
    } else if (r.kind == LogRecord::Kind::refused) {
      std::snprintf(buf, sizeof(buf), "  %s %-4s %s qty %.5f @ %.2f refused: %s\n", kind, std::string(exec::side_name(r.side)).c_str(),
                    r.symbol.data, qty, price, std::string(risk::reason_name(static_cast<risk::Reason>(r.code))).c_str());
    } else if (r.kind == LogRecord::Kind::reject) {
      std::snprintf(buf, sizeof(buf), "  %s %.*s code %d\n", kind, static_cast<int>(r.id.len), r.id.data, r.code);
    } else {
      std::snprintf(buf, sizeof(buf), "  %s %-4s %.*s qty %.5f @ %.2f%s\n", kind, std::string(exec::side_name(r.side)).c_str(),
                    static_cast<int>(r.id.len), r.id.data, qty, price,
                    r.kind == LogRecord::Kind::fill ? (r.maker ? " maker" : " taker") : "");
    }
    *out << buf;
  }
  out->flush();
}

Pipeline::Pipeline(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Pipeline::~Pipeline() {
  Impl& m = *impl_;
  m.shutdown.store(true);
  for (auto& t : m.threads)
    if (t.joinable()) t.join();
  if (m.swapper) m.swapper->stop();
  if (m.server) m.server->stop();
  if (m.gateway) m.gateway->stop();
  if (m.journal) m.journal->close();
  if (m.snaps) m.snaps->stop();
  if (m.ws) m.ws->close();
  if (m.tap) m.tap->stop();
  if (m.venue) m.venue->stop();
}

Result<std::unique_ptr<Pipeline>> Pipeline::create(const PipelineConfig& cfg, std::ostream& out) {
  auto impl = std::make_unique<Impl>();
  impl->cfg = cfg;
  impl->out = &out;
  std::unique_ptr<Pipeline> p(new Pipeline(std::move(impl)));
  Status st = p->impl_->setup();
  if (!st.ok()) return st;
  return p;
}

Status Pipeline::run(const std::atomic<bool>& stop) {
  Impl& m = *impl_;
  const PipelineConfig& cfg = m.cfg;
  *m.out << "model: " << m.model->path << " (v" << m.model->version << ", " << m.model->validation << ", load "
         << m.model->load_ms << " ms)\n";
  *m.out << "feed: " << feed_source_name(cfg.source);
  if (m.venue) *m.out << " (in-process venue on 127.0.0.1:" << m.venue->port() << ")";
  *m.out << ", symbols:";
  for (const auto& s : m.feed_symbols) *m.out << " " << s;
  if (cfg.extra_symbols) *m.out << " + " << cfg.extra_symbols << " renamed copies";
  *m.out << "; mode " << thread_mode_name(cfg.mode) << "; speed " << cfg.speed << "x";
  if (m.server) *m.out << "; metrics http://" << cfg.metrics_listen.substr(0, cfg.metrics_listen.rfind(':')) << ":" << m.server->port() << "/metrics";
  *m.out << "\n";
  if (cfg.mode == ThreadMode::inline_) {
    m.start_thread_pinned(cfg.feed, "tickrt-inline", [&m] { m.inline_loop(); });
  } else {
    m.infer_running.store(static_cast<int>(m.stages.size()));
    m.start_thread_pinned(cfg.feed, "tickrt-feed", [&m] { m.feed_loop(); });
    for (std::size_t i = 0; i < m.stages.size(); ++i)
      m.start_thread_pinned(cfg.infer, "tickrt-infer", [&m, i] { m.infer_loop(i); });
    m.start_thread_pinned(cfg.exec, "tickrt-exec", [&m] { m.exec_loop(); });
  }
  const std::int64_t t0 = now_ns();
  std::int64_t next_venue_check = t0;
  bool pin_reported = false;
  std::string reason;
  for (;;) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    m.print_log();
    if (!pin_reported && now_ns() - t0 > 200'000'000) {
      pin_reported = true;
      std::lock_guard<std::mutex> g(m.thread_errors_mu);
      for (const std::string& e : m.thread_errors) *m.out << "warning: thread not pinned: " << e << "\n";
    }
    const std::int64_t now = now_ns();
    if (stop.load()) { reason = "signal"; break; }
    if (cfg.duration_s > 0 && now - t0 >= static_cast<std::int64_t>(cfg.duration_s * 1e9)) { reason = "duration"; break; }
    if (m.feed_done.load()) { reason = "capture ended"; break; }
    if (m.venue && cfg.source == FeedSource::sim && now >= next_venue_check) {
      next_venue_check = now + 250'000'000;
      if (m.venue->counters().replay_done) {
        std::this_thread::sleep_for(std::chrono::milliseconds(200));  // the last frames in flight
        reason = "capture ended";
        break;
      }
    }
  }
  m.shutdown.store(true);
  for (auto& t : m.threads) t.join();
  m.threads.clear();
  if (m.snaps) m.snaps->stop();
  if (m.ws) m.ws->close();
  m.print_log();
  m.swapper->stop();
  if (m.gateway) {
    m.gateway->stop();
    m.send_traces = m.gateway->send_traces();
  }
  RunSummary& s = m.sum;
  s.stop_reason = reason;
  s.latency.reset();
  if (m.tap) {
    // Wire-to-wire, venue side: frame out of the venue -> the order it caused into the venue.
    for (const auto& [id, frame] : m.order_causes) {
      const std::int64_t o = m.tap->order_ns(std::string(id.view()));
      const std::int64_t f = m.tap->frame_ns(frame);
      if (o > 0 && f > 0 && o >= f) s.latency.record(Stage::wire_to_wire, o - f);
    }
  }
  s.seconds = static_cast<double>(now_ns() - t0) / 1e9;
  s.messages = m.mh->counters().messages;
  s.malformed = m.mh->counters().malformed;
  s.samples = m.mh->counters().samples;
  s.swap_first.reset();
  s.swap_others.reset();
  for (auto& st : m.stages) {
    s.swap_first.merge(st->first_on_new_engine());
    s.swap_others.merge(st->other_inferences());
    s.inferences += st->counters().inferences;
    s.batches += st->counters().batches;
    s.coalesced += st->counters().coalesced;
  }
  s.dropped_windows = m.dropped_windows.load();
  s.swaps_ok = m.swapper->swaps_ok();
  s.swaps_failed = m.swapper->swaps_failed();
  s.model_version = m.slots[0]->running_version();
  s.latency.merge(m.lat_feed);
  s.latency.merge(m.lat_exec);
  for (auto& l : m.lat_infer) s.latency.merge(*l);
  if (m.trader) {
    const TraderCounters& c = m.trader->counters();
    s.order_parts = m.trader->order_parts();
    s.orders = c.orders;
    s.cancels = c.cancels;
    s.fills = c.fills;
    s.rejects = c.rejects;
    s.risk_refused = c.risk_refused;
    const risk::RiskCounters& rc = m.trader->risk().counters();
    for (std::size_t r = 1; r < risk::kReasonCount; ++r)
      if (const std::uint64_t n = rc.refused[r].get(); n > 0)
        s.risk_refused_by.emplace_back(std::string(risk::reason_name(static_cast<risk::Reason>(r))), n);
    s.open_orders_at_end = m.open_at_end;
    s.cancels_at_shutdown = m.cancels_at_shutdown;
    // One entry per traded symbol; the scalar fields are the first symbol's (as before several symbols).
    s.symbols.resize(m.trader->symbol_count());
    for (std::size_t i = 0; i < m.trader->symbol_count(); ++i) {
      const exec::Position& pos = m.trader->oms().position(m.trader->oms_index(i));
      SymbolSummary& y = s.symbols[i];
      y.symbol = m.trader->symbol_name(i);
      y.position_raw = pos.qty_raw;
      y.realized_raw = pos.realized_raw;
      y.unrealized_raw = pos.unrealized_raw();
      y.fees_raw = pos.fees_raw;
    }
    const SymbolSummary& f = s.symbols.front();
    s.position_raw = f.position_raw;
    s.realized_raw = f.realized_raw;
    s.unrealized_raw = f.unrealized_raw;
    s.fees_raw = f.fees_raw;
  }
  if (m.journal) {
    Status fs = m.journal->flush();
    const exec::JournalStats js = m.journal->stats();
    s.journal_written = js.written;
    s.journal_appended = js.appended;
    m.journal->close();
    if (!fs.ok()) return fs.with_context("journal flush");
  }
  return Status::Ok();
}

const RunSummary& Pipeline::summary() const noexcept { return impl_->sum; }
ModelSwapper& Pipeline::swapper() noexcept { return *impl_->swapper; }
std::uint16_t Pipeline::metrics_port() const noexcept { return impl_->server ? impl_->server->port() : 0; }
std::uint16_t Pipeline::venue_port() const noexcept { return impl_->venue ? impl_->venue->port() : 0; }
const PipelineConfig& Pipeline::config() const noexcept { return impl_->cfg; }

std::int64_t Pipeline::venue_open_orders() {
  Impl& m = *impl_;
  if (!m.venue || !m.engine) return -1;
  std::int64_t n = 0;
  m.venue->run_sync([&] {
    std::vector<sim::OrderState> v;
    m.engine->open_orders(1, nullptr, v);
    n = static_cast<std::int64_t>(v.size());
  });
  return n;
}

std::string Pipeline::report() const {
  const Impl& m = *impl_;
  const RunSummary& s = m.sum;
  std::ostringstream o;
  char buf[512];
  o << "\n== tickrt run summary (" << s.stop_reason << " after " << static_cast<int>(s.seconds * 10) / 10.0 << " s, mode "
    << thread_mode_name(m.cfg.mode) << ")\n";
  std::snprintf(buf, sizeof(buf),
                "market data: %" PRIu64 " messages (%" PRIu64 " malformed), %" PRIu64 " model windows, %" PRIu64
                " inferences in %" PRIu64 " batches (%" PRIu64 " coalesced, %" PRIu64 " windows dropped)\n",
                s.messages, s.malformed, s.samples, s.inferences, s.batches, s.coalesced, s.dropped_windows);
  o << buf;
  std::snprintf(buf, sizeof(buf), "throughput: %.0f messages/s, %.0f inferences/s, mean batch %.2f\n", s.seconds > 0 ? s.messages / s.seconds : 0.0,
                s.seconds > 0 ? s.inferences / s.seconds : 0.0, s.batches ? static_cast<double>(s.inferences) / static_cast<double>(s.batches) : 0.0);
  o << buf;
  std::snprintf(buf, sizeof(buf), "model: running v%" PRIu64 "; hot swaps %" PRIu64 " adopted, %" PRIu64 " refused\n", s.model_version,
                s.swaps_ok, s.swaps_failed);
  o << buf;
  if (m.swapper && (s.swaps_ok + s.swaps_failed) > 0) o << "  last swap: " << m.swapper->last_result().message << "\n";
  if (s.swap_first.count() > 0) {
    auto us = [](std::int64_t ns) { return static_cast<double>(ns) / 1000.0; };
    std::snprintf(buf, sizeof(buf),
                  "  inference on the first tick of each new engine (%" PRIu64 "): P50 %.1f / max %.1f us; every other inference (%" PRIu64
                  "): P50 %.1f / P99 %.1f / max %.1f us; largest added (first max - other P50) %.1f us\n",
                  s.swap_first.count(), us(s.swap_first.percentile(50)), us(s.swap_first.max()), s.swap_others.count(),
                  us(s.swap_others.percentile(50)), us(s.swap_others.percentile(99)), us(s.swap_others.max()),
                  us(s.swap_first.max() - s.swap_others.percentile(50)));
    o << buf;
  }
  {
    std::uint64_t passes = 0, runs = 0, trickles = 0;
    for (const auto& st : m.stages) {
      passes += st->counters().warm_passes;
      runs += st->counters().warm_runs;
      trickles += st->counters().trickles;
    }
    const std::size_t warm_kib = m.slots.empty() ? 0 : m.slots[0]->current()->warm.bytes / 1024;
    std::snprintf(buf, sizeof(buf), "engine: precision %s; keep_warm %s (after %lld us idle): %" PRIu64 " touch passes of %zu KiB, %" PRIu64
                  " throw-away inferences, %" PRIu64 " trickles (every %lld us)\n",
                  m.model->precision.c_str(), m.cfg.keep_warm.c_str(), static_cast<long long>(m.cfg.keep_warm_after_us), passes, warm_kib, runs,
                  trickles, static_cast<long long>(m.cfg.keep_warm_trickle_us));
    o << buf;
    if (!m.slots.empty()) {
      if (const StreamRunner* sr = m.slots[0]->current()->stream.get(); sr != nullptr) {
        // Streaming: how many steps ran from a prepared state (the recurrent half done between ticks).
        const StreamCounters& sc = sr->counters();
        std::snprintf(buf, sizeof(buf), "stream: %" PRIu64 " steps (%" PRIu64 " replayed), %" PRIu64 " from a prepared state (h @ R between ticks, %" PRIu64
                      " prepares), %" PRIu64 " warm steps; resets: %" PRIu64 " session, %" PRIu64 " gap (> %lld ms), %" PRIu64
                      " rows lost, %" PRIu64 " resync; %" PRIu64 " samples withheld in warm-up\n", sc.steps, sc.replayed, sc.prepared_steps,
                      sc.prepares, sc.warm_steps, sc.resets_session, sc.resets_gap, static_cast<long long>(m.cfg.stream_max_gap_ms),
                      sc.resets_lost, sc.resets_resync, sc.not_warm);
        o << buf;
      }
    }
    if (m.cfg.mode == ThreadMode::inline_ && !m.stages.empty()) {
      const InferCounters& ic = m.stages[0]->counters();
      std::snprintf(buf, sizeof(buf), "inference at the boundary (infer_at_boundary %s): %" PRIu64 " boundaries sampled by the clock, %" PRIu64
                    " model runs between ticks, %" PRIu64 " due samples found their result ready\n",
                    m.cfg.infer_at_boundary ? "on" : "off", m.mh->counters().sampled_ahead, ic.ahead_runs, ic.ahead_used);
      o << buf;
    }
    if (m.path_warm_ns) {
      // The path warm-up's cycles and each slice's time (what a tick arriving during one waits for).
      static constexpr const char* kSliceNames[Impl::kPathSlices] = {"parse", "book seed", "book+features", "trade", "decide", "settle"};
      o << "path warm (keep_warm_path): " << m.path_warm_cycles << " cycles, " << m.mh->warm_applied() << " scratch updates, "
        << (m.trader ? m.trader->warm_orders() : 0) << " shadow orders; slice P50 / P99 / max us:";
      for (int i = 0; i < Impl::kPathSlices; ++i) {
        const LatencyHistogram& h = (*m.path_warm_ns)[static_cast<std::size_t>(i)];
        std::snprintf(buf, sizeof(buf), " %s %.2f / %.2f / %.2f%s", kSliceNames[i], static_cast<double>(h.percentile(50)) / 1000.0,
                      static_cast<double>(h.percentile(99)) / 1000.0, static_cast<double>(h.max()) / 1000.0, i + 1 < Impl::kPathSlices ? ";" : "\n");
        o << buf;
      }
    }
    const ModelInstance* cur = m.slots.empty() ? nullptr : m.slots[0]->current();
    if (cur != nullptr && cur->prefix) {
      const PrefixCounters pc = m.slots[0]->prefix_counters();  // every model this run adopted
      std::snprintf(buf, sizeof(buf), "engine: window prefix (slices of %d LSTM steps between ticks): %" PRIu64 " samples from a prefix, %" PRIu64
                    " whole windows, %" PRIu64 " slices, %" PRIu64 " prefixes dropped\n",
                    m.cfg.window_prefix_slice, pc.hits, pc.misses, pc.slices, pc.dropped);
      o << buf;
    } else if (cur != nullptr && m.cfg.window_prefix && m.cfg.mode == ThreadMode::inline_ && !cur->prefix_note.empty()) {
      o << "engine: window prefix off: " << cur->prefix_note << "\n";
    }
  }
  if (m.trader) {
    std::snprintf(buf, sizeof(buf),
                  "orders: %" PRIu64 " sent, %" PRIu64 " cancels, %" PRIu64 " fills, %" PRIu64 " rejects, %" PRIu64
                  " refused by risk; shutdown: %" PRIu64 " cancels sent, %" PRIu64 " orders still open\n",
                  s.orders, s.cancels, s.fills, s.rejects, s.risk_refused, s.cancels_at_shutdown, s.open_orders_at_end);
    o << buf;
    if (!s.risk_refused_by.empty()) {
      o << "refused by risk, by rule:";
      bool under_min = false;
      for (const auto& [rule, n] : s.risk_refused_by) {
        o << ' ' << rule << ' ' << n;
        under_min = under_min || rule == risk::reason_name(risk::Reason::min_order_notional);
      }
      o << "\n";
      if (under_min)
        o << "  min_order_notional: order_qty x price was under [risk] min_order_notional (the venue's minimum, "
             "default 5 USDT); give that symbol its own order_qty in a [strategy.symbols.<SYMBOL>] table "
             "(configs/tickrt.toml)\n";
    }
    const double q = 1e-8;
    std::int64_t net_raw = 0;
    for (const SymbolSummary& y : s.symbols) {
      std::snprintf(buf, sizeof(buf),
                    "position %s: %.5f; PnL (quote): realized %.4f, unrealized %.4f, fees %.4f, net %.4f\n",
                    y.symbol.c_str(), static_cast<double>(y.position_raw) * q, static_cast<double>(y.realized_raw) * q,
                    static_cast<double>(y.unrealized_raw) * q, static_cast<double>(y.fees_raw) * q,
                    static_cast<double>(y.net_raw()) * q);
      o << buf;
      net_raw += y.net_raw();
    }
    // The symbols' quote assets are summed as one (USDT pairs; a mix of quotes would need conversion).
    std::snprintf(buf, sizeof(buf), "total net PnL (quote, %zu symbol%s): %.4f\n", s.symbols.size(),
                  s.symbols.size() == 1 ? "" : "s", static_cast<double>(net_raw) * q);
    o << buf;
    if (m.journal) {
      std::snprintf(buf, sizeof(buf), "journal: %s, %" PRIu64 " rows appended, %" PRIu64 " written\n", m.cfg.journal.c_str(),
                    s.journal_appended, s.journal_written);
      o << buf;
    }
  } else {
    o << "orders: none (exec.trade = false or no API key)\n";
  }
  o << "\nper-stage latency (TSC, one time base; us):\n" << latency_table(s.latency);
  if (const std::string b = order_parts_table(s.order_parts); !b.empty()) o << b;
  if (const std::string b = send_breakdown_table(m.send_traces); !b.empty()) o << b;
  return o.str();
}

}  // namespace tickrt::pipeline
