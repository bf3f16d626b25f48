// tests/backtest/test_backtester.cpp — the tick backtester: determinism, the live code path,
// latency actually charged, zero-latency twins, clear errors (library and CLI), data absent.
// Uses data/captures/spot_btcusdt_20240808.gz (bundled) and models/trained/lstm_attn_s.
#include <gtest/gtest.h>

#include "../support/shell.hpp"
#include <unistd.h>

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include "backtest/backtester.hpp"
#include "backtest/metrics.hpp"
#include "backtest/result.hpp"
#include "core/clock.hpp"
#include "feed/capture_reader.hpp"
#include "pipeline/infer_stage.hpp"
#include "pipeline/market.hpp"
#include "pipeline/model.hpp"
#include "pipeline/trader.hpp"

using namespace tickrt;
using namespace tickrt::backtest;
namespace fs = std::filesystem;

namespace {

const char* kCapture = "data/captures/spot_btcusdt_20240808.gz";
const char* kModel = "models/trained/lstm_attn_s/model.onnx";

bool have_inputs() { return fs::exists(kCapture) && fs::exists(kModel); }
#define SKIP_WITHOUT_DATA() \
  if (!have_inputs()) GTEST_SKIP() << "needs " << kCapture << " and " << kModel << " (absent)"

// Fixed latencies (no measurement: deterministic) and an aggressive strategy (IOC takers fill at
// arrival, so a fill's time is exactly decision + charged latencies).
std::string toml(const std::string& inference, const std::string& extra = "") {
  return std::string("[backtest]\ndata = [\"") + kCapture + "\"]\nengines = [\"" + kModel +
         "\"]\nrecord_wall_time = false\nseed = 7\n" + extra +
         "[latency]\ninfer_at_boundary = false\nfeatures = \"fixed:20\"\ninference = \"" + inference +
         "\"\norder_out = \"fixed:300\"\norder_back = \"fixed:200\"\n"
         "[strategy]\nstyle = \"aggressive\"\nenter_prob = 0.40\nexit_prob = 0.34\nmin_edge = 0.0\nmin_interval_ms = 0\n"
         "[risk]\nmax_orders_per_s = 1000\nmax_daily_loss = 100000.0\nmax_drawdown = 100000.0\n";
}

BacktestConfig cfg_of(const std::string& text) {
  auto c = parse_backtest_config(text, "test.toml", ".");
  EXPECT_TRUE(c.ok()) << c.status().message();
  return c.value();
}

BacktestResult run_all(const BacktestConfig& c) {
  auto b = Backtester::create(c);
  EXPECT_TRUE(b.ok()) << b.status().message();
  auto r = b.value()->run_all("test");
  EXPECT_TRUE(r.ok()) << r.status().message();
  return r.value();
}

const LatencySummary* lat(const EngineRun& r, const std::string& name) {
  for (const auto& l : r.latency)
    if (l.name == name) return &l;
  return nullptr;
}

}  // namespace

TEST(Backtester, SameSeedGivesByteIdenticalResultJson) {
  SKIP_WITHOUT_DATA();
  const BacktestConfig c = cfg_of(toml("lognormal:150,0.4"));
  const std::string a = to_json(run_all(c));
  const std::string b = to_json(run_all(c));
  EXPECT_EQ(a, b);
  // And the seed matters (latency draws differ).
  BacktestConfig c2 = c;
  c2.seed = 8;
  EXPECT_NE(a, to_json(run_all(c2)));
}

// The lazy venue (RunRequest::eager_venue = false, the default: the matching engine's replay
// events are applied only when something can observe them) must give exactly the result of
// applying every event as it happens, on the real capture, for takers (aggressive) and for
// resting orders (passive: queue position and replay fills depend on every diff and trade).
TEST(Backtester, LazyVenueMatchesEager) {
  SKIP_WITHOUT_DATA();
  for (const char* style : {"aggressive", "passive"}) {
    std::string text = toml("lognormal:150,0.4");
    const std::string from = "style = \"aggressive\"";
    text.replace(text.find(from), from.size(), std::string("style = \"") + style + "\"");
    const BacktestConfig c = cfg_of(text);
    auto b = Backtester::create(c);
    ASSERT_TRUE(b.ok()) << b.status().message();
    BacktestResult lazy, eager;
    for (int z = 0; z < 2; ++z) {
      auto l = b.value()->run(RunRequest{0, z == 1, false});
      auto e = b.value()->run(RunRequest{0, z == 1, true});
      ASSERT_TRUE(l.ok() && e.ok());
      lazy.runs.push_back(std::move(l.value()));
      eager.runs.push_back(std::move(e.value()));
    }
    ASSERT_TRUE(finalize(lazy).ok());
    ASSERT_TRUE(finalize(eager).ok());
    EXPECT_FALSE(eager.runs[0].fills.empty()) << style << ": the comparison needs fills to mean anything";
    EXPECT_EQ(to_json(lazy), to_json(eager)) << style;
  }
  // No model: the same events, samples and summaries whether or not the venue book is kept.
  auto b = Backtester::create(cfg_of(toml("fixed:100")));
  ASSERT_TRUE(b.ok());
  auto l = b.value()->run(RunRequest{-1, false, false});
  auto e = b.value()->run(RunRequest{-1, false, true});
  ASSERT_TRUE(l.ok() && e.ok());
  EXPECT_EQ(l.value().counters.events, b.value()->data().events().size());
  EXPECT_EQ(l.value().counters.events, e.value().counters.events);
  EXPECT_EQ(l.value().counters.samples, e.value().counters.samples);
  EXPECT_GT(l.value().counters.samples, 0u);
}

TEST(Backtester, LatencyIsChargedOnEveryOrderSlowEngineFillsLater) {
  SKIP_WITHOUT_DATA();
  const BacktestResult fast = run_all(cfg_of(toml("fixed:100", "zero_latency_twins = false\n")));
  const BacktestResult slow = run_all(cfg_of(toml("fixed:40000", "zero_latency_twins = false\n")));
  ASSERT_EQ(fast.runs.size(), 1u);
  ASSERT_EQ(slow.runs.size(), 1u);
  for (const auto* res : {&fast, &slow}) {
    const EngineRun& r = res->runs[0];
    ASSERT_GT(r.fills.size(), 5u) << r.name << ": the test strategy should trade";
    const std::int64_t charged = 20'000 + (res == &fast ? 100'000 : 40'000'000) + 300'000;
    std::int64_t min_delay = INT64_MAX;
    for (const Fill& f : r.fills) {
      ASSERT_NE(f.decision_ts_ns, 0) << "every fill traces back to its decision";
      min_delay = std::min(min_delay, f.ts_ns - f.decision_ts_ns);
      EXPECT_GE(f.ts_ns - f.decision_ts_ns, charged) << "a fill before its order could reach the venue";
    }
    // IOC takers fill on arrival: some fill happens exactly at decision + features + inference + out
    // (or later when the trading thread was still busy with an earlier sample).
    EXPECT_EQ(min_delay, charged) << r.name;
  }
  const LatencySummary* li = lat(slow.runs[0], "inference");
  ASSERT_NE(li, nullptr);
  EXPECT_EQ(li->p50_ns, 40'000'000.0);
  EXPECT_EQ(lat(fast.runs[0], "inference")->max_ns, 100'000.0);
}

TEST(Backtester, ZeroLatencyTwinDiffersOnlyInLatency) {
  SKIP_WITHOUT_DATA();
  const BacktestResult r = run_all(cfg_of(toml("fixed:5000")));
  ASSERT_EQ(r.runs.size(), 2u);
  const EngineRun& a = r.runs[0];
  const EngineRun& z = r.runs[1];
  EXPECT_FALSE(a.zero_latency);
  EXPECT_TRUE(z.zero_latency);
  EXPECT_EQ(a.engine, z.engine);
  EXPECT_EQ(a.precision, z.precision);
  // Same samples, same model outputs (precision held fixed); only the clock differs.
  ASSERT_EQ(a.decisions.size(), z.decisions.size());
  ASSERT_GT(a.decisions.size(), 1000u);
  for (std::size_t i = 0; i < a.decisions.size(); ++i) {
    ASSERT_EQ(a.decisions[i].seq, z.decisions[i].seq);
    ASSERT_EQ(a.decisions[i].ts_ns, z.decisions[i].ts_ns);
    ASSERT_EQ(a.decisions[i].p_up, z.decisions[i].p_up);
    ASSERT_EQ(a.decisions[i].p_down, z.decisions[i].p_down);
  }
  EXPECT_EQ(lat(z, "inference")->max_ns, 0.0);
  EXPECT_EQ(lat(a, "inference")->p50_ns, 5'000'000.0);
  EXPECT_EQ(lat(a, "features")->p50_ns, lat(z, "features")->p50_ns);
  EXPECT_EQ(lat(a, "feed")->p99_ns, lat(z, "feed")->p99_ns);
  // The venue saw the orders 5 ms apart: the fills (times, and so PnL) differ.
  ASSERT_FALSE(a.fills.empty());
  ASSERT_FALSE(z.fills.empty());
  EXPECT_NE(a.fills.front().ts_ns, z.fills.front().ts_ns);
  // The comparison against the twin is there.
  bool found = false;
  for (const Comparison& c : r.comparisons)
    if (c.run == a.name && c.baseline == z.name) found = true;
  EXPECT_TRUE(found);
}

// The backtest replays pre-parsed events through MarketHandler::on_event; live parses lines with
// on_line. Same windows -> same model outputs, sample by sample.
TEST(Backtester, PreparsedReplayGivesTheLiveLinePathsModelOutputs) {
  SKIP_WITHOUT_DATA();
  BacktestConfig c = cfg_of(toml("fixed:10", "zero_latency_twins = false\n"));
  auto b = Backtester::create(c);
  ASSERT_TRUE(b.ok()) << b.status().message();
  auto run = b.value()->run(RunRequest{0, false});
  ASSERT_TRUE(run.ok()) << run.status().message();
  const EngineRun& r = run.value();

  pipeline::ModelOptions mo;
  mo.path = kModel;
  mo.max_batch = 1;
  auto model = pipeline::load_model(mo);
  ASSERT_TRUE(model.ok()) << model.status().message();
  auto inst = pipeline::make_instance(model.value(), 1);
  ASSERT_TRUE(inst.ok());
  pipeline::ModelSlot slot(std::move(inst.value()));
  auto clock = TscClock::calibrate();
  ASSERT_TRUE(clock.ok());
  pipeline::InferStage stage(slot, pipeline::BatchConfig{1, 0, false}, clock.value());
  pipeline::MarketHandler mh(features::FeatureConfig{});
  feed::CaptureReader rd;
  ASSERT_TRUE(rd.open(kCapture).ok());
  std::string_view line;
  pipeline::SampleMeta meta;
  pipeline::InferResult res;
  std::size_t k = 0;
  while (rd.next(line)) {
    if (mh.on_line(line, pipeline::TickStamps{}, meta) != 1) continue;
    ASSERT_TRUE(stage.infer_one(meta, mh.symbol(meta.symbol)->fe, res));
    ASSERT_LT(k, r.decisions.size());
    ASSERT_EQ(r.decisions[k].p_down, res.out[0]) << "sample " << k;
    ASSERT_EQ(r.decisions[k].p_up, res.out[2]) << "sample " << k;
    ++k;
  }
  EXPECT_EQ(k, r.decisions.size());
  EXPECT_EQ(r.counters.events, b.value()->data().events().size());
}

// Trader::on_result (live, TscClock) and on_result_at (backtest, caller's time) make the same
// intents for the same inputs.
TEST(Backtester, TraderCallerTimeMakesTheSameOrdersAsLive) {
  pipeline::PipelineConfig pc;
  pc.style = "aggressive";
  pc.min_interval_ms = 0;
  pc.max_orders_per_s = 100000;
  pc.journal.clear();
  auto clock = TscClock::calibrate();
  ASSERT_TRUE(clock.ok());
  exec::RequestRing out_live(256), out_bt(256);
  exec::ReportRing in_live(256), in_bt(256);
  auto live = pipeline::Trader::create(pc, {"BTCUSDT"}, {&out_live, &in_live}, nullptr, 1, clock.value());
  auto bt = pipeline::Trader::create(pc, {"BTCUSDT"}, {&out_bt, &in_bt}, nullptr, 1, clock.value());
  ASSERT_TRUE(live.ok() && bt.ok());
  live.value()->map_symbol(0, "BTCUSDT");
  bt.value()->map_symbol(0, "BTCUSDT");
  pipeline::StageLatency lat;
  // Logits (the strategy softmaxes them): up, up, down, flat, up, down.
  const std::array<std::array<float, 3>, 6> probs{{{-2.f, -1.f, 3.f}, {-2.f, -1.f, 2.5f}, {3.f, -1.f, -2.f},
                                                   {0.f, 2.f, 0.f}, {-3.f, -1.f, 3.f}, {3.f, -1.f, -3.f}}};
  std::int64_t sim_now = 1'723'161'300'000'000'000;
  int orders = 0;
  for (std::size_t i = 0; i < probs.size(); ++i) {
    pipeline::InferResult r;
    r.ok = true;
    r.n_out = 3;
    for (int c = 0; c < 3; ++c) r.out[c] = probs[i][static_cast<std::size_t>(c)];
    r.meta.symbol = 0;
    r.meta.tradable = true;
    r.meta.best_bid = {Price::from_raw(6'170'000'000'000 + static_cast<std::int64_t>(i) * 1'000'000), Qty::from_raw(100'000'000)};
    r.meta.best_ask = {Price::from_raw(6'170'001'000'000 + static_cast<std::int64_t>(i) * 1'000'000), Qty::from_raw(100'000'000)};
    pipeline::InferResult rl = r, rb = r;
    rl.meta.book_update_ns = clock.value().now_ns();
    rb.meta.book_update_ns = sim_now;
    const int nl = live.value()->on_result(rl, lat);
    const int nb = bt.value()->on_result_at(rb, lat, sim_now);
    ASSERT_EQ(nl, nb) << "decision " << i;
    exec::GatewayRequest a, b;
    while (out_live.try_pop(a)) {
      ASSERT_TRUE(out_bt.try_pop(b));
      EXPECT_EQ(a.op, b.op);
      EXPECT_EQ(a.order.side, b.order.side);
      EXPECT_EQ(a.order.type, b.order.type);
      EXPECT_EQ(a.order.price.raw, b.order.price.raw);
      EXPECT_EQ(a.order.qty.raw, b.order.qty.raw);
      EXPECT_EQ(a.order.client_order_id, b.order.client_order_id);
      EXPECT_EQ(a.cancel.orig_client_order_id, b.cancel.orig_client_order_id);
      if (b.op == exec::GatewayOp::new_order) {
        EXPECT_EQ(b.order.created_ns, sim_now) << "the strategy stamped the caller's time";
        ++orders;
      }
    }
    EXPECT_FALSE(out_bt.try_pop(b));
    sim_now += 100'000'000;
  }
  EXPECT_GT(orders, 0);
}

TEST(Backtester, ErrorsNameTheKeyAndTheFile) {
  auto bad_key = parse_backtest_config("[latency]\norder_outt = \"fixed:1\"\n", "my.toml", ".");
  ASSERT_FALSE(bad_key.ok());
  EXPECT_NE(bad_key.status().message().find("my.toml"), std::string::npos) << bad_key.status().message();
  EXPECT_NE(bad_key.status().message().find("latency.order_outt"), std::string::npos) << bad_key.status().message();
  auto bad_dist = parse_backtest_config("[latency]\norder_out = \"gauss:1\"\n", "my.toml", ".");
  ASSERT_FALSE(bad_dist.ok());
  EXPECT_NE(bad_dist.status().message().find("latency.order_out"), std::string::npos) << bad_dist.status().message();
  auto bad_strat = parse_backtest_config("[strategy]\nenter_prob = \"x\"\n", "my.toml", ".");
  ASSERT_FALSE(bad_strat.ok());
  EXPECT_NE(bad_strat.status().message().find("enter_prob"), std::string::npos) << bad_strat.status().message();
  auto bad_queue = parse_backtest_config("[sim]\nqueue_model = \"lifo\"\n", "my.toml", ".");
  ASSERT_FALSE(bad_queue.ok());
  EXPECT_NE(bad_queue.status().message().find("sim.queue_model"), std::string::npos);
  // The streaming reset policy: the live [model] keys' twins under [backtest] (one policy, same defaults).
  auto stream_keys = parse_backtest_config("[backtest]\nstream_max_gap_ms = 250\nstream_warmup = 16\n", "my.toml", ".");
  ASSERT_TRUE(stream_keys.ok()) << stream_keys.status().message();
  EXPECT_EQ(stream_keys.value().stream_max_gap_ms, 250);
  EXPECT_EQ(stream_keys.value().stream_warmup, 16);
  auto bad_gap = parse_backtest_config("[backtest]\nstream_max_gap_ms = 0\n", "my.toml", ".");
  ASSERT_FALSE(bad_gap.ok());
  EXPECT_NE(bad_gap.status().message().find("backtest.stream_max_gap_ms"), std::string::npos) << bad_gap.status().message();
  auto defaults = parse_backtest_config(kDefaultBacktestToml, "<embedded>", ".");
  ASSERT_TRUE(defaults.ok()) << defaults.status().message();
  EXPECT_EQ(defaults.value().engines.size(), 1u);
  EXPECT_EQ(defaults.value().stream_max_gap_ms, 5000);
  EXPECT_EQ(defaults.value().stream_warmup, -1);

  SKIP_WITHOUT_DATA();
  BacktestConfig c = cfg_of(toml("fixed:10"));
  c.engines = {EngineSpec{"x", "/nonexistent/model.engine", ""}};
  auto b = Backtester::create(c);
  ASSERT_FALSE(b.ok());
  EXPECT_NE(b.status().message().find("/nonexistent/model.engine"), std::string::npos) << b.status().message();
  c = cfg_of(toml("fixed:10"));
  c.data = {"/nonexistent/capture.gz"};
  b = Backtester::create(c);
  ASSERT_FALSE(b.ok());
  EXPECT_NE(b.status().message().find("/nonexistent/capture.gz"), std::string::npos) << b.status().message();
}

#ifdef TICKRT_BIN
namespace {
// The CLI's errors go to stderr; stdout (progress, tables) is not read.
int sh(const std::string& cmd, std::string& err) { return tickrt::test::sh(cmd, err, tickrt::test::Capture::stderr_only); }
}  // namespace

TEST(BacktestCli, BadEnginePathOrConfigKeyExitsOneNamingIt) {
  std::string err;
  EXPECT_EQ(sh(std::string(TICKRT_BIN) + " backtest --engines /nonexistent/m.engine", err), 1);
  EXPECT_NE(err.find("/nonexistent/m.engine"), std::string::npos) << err;
  const std::string cfg = (fs::temp_directory_path() / ("tickrt_bt_bad_" + std::to_string(::getpid()) + ".toml")).string();
  std::ofstream(cfg) << "[backtest]\nseeds = 3\n";
  EXPECT_EQ(sh(std::string(TICKRT_BIN) + " backtest --config " + cfg, err), 1);
  EXPECT_NE(err.find("backtest.seeds"), std::string::npos) << err;
  EXPECT_NE(err.find(cfg), std::string::npos) << err;
}

TEST(BacktestCli, ComparesAnFp32OnnxWithAnFp16EngineAndWritesTheResult) {
  SKIP_WITHOUT_DATA();
  const fs::path dir = fs::temp_directory_path() / ("tickrt_bt_cli_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::string err;
  // An FP16 engine with the project's own builder (no calibration needed; ~1 s).
  const std::string eng = (dir / "lstm.fp16.engine").string();
  ASSERT_EQ(sh(std::string(TICKRT_BIN) + " build " + kModel + " -o " + eng + " --batch 1:1:8 --precision fp16", err), 0) << err;
  const std::string cfg = (dir / "bt.toml").string();
  std::ofstream(cfg) << "[latency]\nfeatures = \"fixed:20\"\ninference_samples = 50\n";
  const std::string cmd = std::string(TICKRT_BIN) + " backtest --config " + cfg + " --data " +
                          fs::absolute(kCapture).string() + " --engines fp32=" + fs::absolute(kModel).string() + "," + eng +
                          " --out " + (dir / "out").string() + " --zero-latency-twins off --seed 3";
  ASSERT_EQ(sh(cmd, err), 0) << err;
  ASSERT_TRUE(fs::exists(dir / "out" / "result.json")) << err;
  std::ifstream f(dir / "out" / "result.json");
  const std::string text((std::istreambuf_iterator<char>(f)), {});
  auto r = from_json(text);
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(r.value().runs.size(), 2u);
  EXPECT_EQ(r.value().runs[0].name, "fp32");
  EXPECT_EQ(r.value().runs[0].precision, "fp32");
  EXPECT_EQ(r.value().runs[1].precision, "fp16") << "read from the engine's tickrt.precision metadata";
  EXPECT_EQ(r.value().seed, 3u);
  bool compared = false;
  for (const Comparison& c : r.value().comparisons)
    if (c.baseline == "fp32" && c.run == r.value().runs[1].name) compared = c.decisions_compared > 1000;
  EXPECT_TRUE(compared);
  EXPECT_NE(err.find("events"), std::string::npos) << "progress on stderr";
}

#endif

// configs/backtest.toml is the documented copy of the defaults: it parses, its paths resolve, and
// every value equals the embedded default's.
TEST(Backtester, ShippedConfigParsesAndMatchesTheDefaults) {
  auto shipped = load_backtest_config("configs/backtest.toml");
  ASSERT_TRUE(shipped.ok()) << shipped.status().message();
  auto def = parse_backtest_config(kDefaultBacktestToml, "<embedded>", ".");
  ASSERT_TRUE(def.ok());
  ASSERT_EQ(shipped.value().data.size(), 1u);
  EXPECT_EQ(fs::weakly_canonical(shipped.value().data[0]), fs::weakly_canonical(def.value().data[0]));
  EXPECT_EQ(fs::weakly_canonical(shipped.value().engines[0].path), fs::weakly_canonical(def.value().engines[0].path));
  EXPECT_EQ(shipped.value().order_out, def.value().order_out);
  EXPECT_EQ(shipped.value().trading.enter_prob, def.value().trading.enter_prob);
  EXPECT_EQ(shipped.value().queue_model, def.value().queue_model);
}

// Each engine may carry its own inference latency (by run label); an unknown label is an error.
TEST(Backtester, PerEngineInferenceLatencyByLabel) {
  SKIP_WITHOUT_DATA();
  const std::string text = std::string("[backtest]\ndata = [\"") + kCapture + "\"]\nengines = [\"fast=" + kModel + "\", \"slow=" +
                           kModel + "\"]\nzero_latency_twins = false\nrecord_wall_time = false\n"
                           "[latency]\nfeatures = \"fixed:20\"\ninference = \"fixed:100\"\n"
                           "inference_by_engine = { slow = \"fixed:30000\" }\n";
  const BacktestResult r = run_all(cfg_of(text));
  ASSERT_EQ(r.runs.size(), 2u);
  // The engines' own runs (infer_at_boundary is on by default, so the messages mostly waited for nothing).
  EXPECT_EQ(lat(r.runs[0], "inference_run")->p50_ns, 100'000.0);
  EXPECT_EQ(lat(r.runs[1], "inference_run")->p50_ns, 30'000'000.0);
  EXPECT_EQ(lat(r.runs[0], "inference")->p50_ns, 0.0);
  const std::string wrong = std::string("[backtest]\ndata = [\"") + kCapture + "\"]\nengines = [\"fast=" + kModel +
                            "\"]\n[latency]\ninference = \"fixed:100\"\ninference_by_engine = { slwo = \"fixed:1\" }\n";
  auto b = Backtester::create(cfg_of(wrong));
  ASSERT_FALSE(b.ok());
  EXPECT_NE(b.status().message().find("latency.inference_by_engine.slwo"), std::string::npos) << b.status().message();
  EXPECT_NE(b.status().message().find("fast"), std::string::npos) << b.status().message();
}

// latency.infer_at_boundary (tickrt run's [engine] infer_at_boundary): the model runs when the clock passes the
// sample's boundary if the trading thread is free before the message that crosses it, which then waits only for
// what is left of the run. The tests above charge the message path (infer_at_boundary = false in toml()).
TEST(Backtester, InferenceAtTheBoundaryChargesOnlyWhatTheMessageWaitsFor) {
  SKIP_WITHOUT_DATA();
  auto cfg = [](const std::string& inference, bool on) {
    std::string t = toml(inference, "zero_latency_twins = false\n");
    if (on) t.replace(t.find("infer_at_boundary = false"), 25, "infer_at_boundary = true ");
    return cfg_of(t);
  };
  const BacktestResult off = run_all(cfg("fixed:5000", false));
  const BacktestResult on = run_all(cfg("fixed:5000", true));
  const BacktestResult slow = run_all(cfg("fixed:150000", true));
  ASSERT_EQ(on.runs.size(), 1u);
  const EngineRun& a = off.runs[0];
  const EngineRun& b = on.runs[0];
  const EngineRun& s = slow.runs[0];
  EXPECT_EQ(a.counters.inferred_at_boundary, 0u);
  // A 5 ms model fits between a boundary and its message almost always (messages ~30 ms apart, boundaries 100 ms).
  EXPECT_GT(b.counters.inferred_at_boundary, b.counters.inferences * 9 / 10);
  EXPECT_EQ(lat(a, "inference")->p50_ns, 5'000'000.0);
  EXPECT_EQ(lat(b, "inference")->p50_ns, 0.0);             // the result was ready when the message came
  EXPECT_EQ(lat(b, "inference_run")->p50_ns, 5'000'000.0); // the runs themselves, at the boundary
  EXPECT_GT(lat(b, "inference")->max_ns, 0.0);             // a message soon after its boundary waited ...
  EXPECT_LE(lat(b, "inference")->max_ns, 5'000'000.0);     // ... for at most the rest of the run
  // The same logits at the same samples: only when the venue saw the orders differs.
  ASSERT_EQ(a.decisions.size(), b.decisions.size());
  ASSERT_GT(a.decisions.size(), 1000u);
  for (std::size_t i = 0; i < a.decisions.size(); ++i) {
    ASSERT_EQ(a.decisions[i].seq, b.decisions[i].seq);
    ASSERT_EQ(a.decisions[i].p_up, b.decisions[i].p_up);
    ASSERT_EQ(a.decisions[i].p_down, b.decisions[i].p_down);
  }
  // A 150 ms model outlasts the 100 ms between boundaries: the thread is sometimes still busy when a message comes
  // (that message runs the model itself, charged in full), and a message often waits for the rest of a run.
  EXPECT_LT(s.counters.inferred_at_boundary, s.counters.inferences);
  EXPECT_GT(s.counters.inferred_at_boundary, 0u);
  EXPECT_GT(lat(s, "inference")->p50_ns, 5'000'000.0);
  EXPECT_EQ(lat(s, "inference")->max_ns, 150'000'000.0);
}

// latency.window_prefix: a measured window LSTM model is charged the last step (the live inline path with
// [engine] window_prefix) where the prefix would be ready; same decisions as charging the whole window.
TEST(Backtester, WindowPrefixChargesTheLastStepWithTheSameDecisions) {
  SKIP_WITHOUT_DATA();
  const BacktestResult on = run_all(cfg_of(toml("measured", "zero_latency_twins = false\n")));
  const std::string off_text = toml("measured", "zero_latency_twins = false\n");
  const BacktestResult off = run_all(cfg_of(off_text.substr(0, off_text.find("[strategy]")) + "window_prefix = false\n" +
                                            off_text.substr(off_text.find("[strategy]"))));
  ASSERT_EQ(on.runs.size(), 1u);
  ASSERT_EQ(off.runs.size(), 1u);
  const LatencySummary* lon = lat(on.runs[0], "inference");
  const LatencySummary* loff = lat(off.runs[0], "inference");
  ASSERT_TRUE(lon && loff);
  std::printf("inference charged, P50: window prefix on %.1f us, off %.1f us\n", lon->p50_ns * 1e-3, loff->p50_ns * 1e-3);
  // One step per layer + attention + head against 2 x 64 steps: several times less (timing noise aside).
  EXPECT_LT(lon->p50_ns * 2.5, loff->p50_ns);
  // The logits are the same, so are the decisions (up to where latency moves what the venue shows).
  EXPECT_EQ(on.runs[0].counters.inferences, off.runs[0].counters.inferences);
  EXPECT_EQ(on.runs[0].decisions.size(), off.runs[0].decisions.size());
}
