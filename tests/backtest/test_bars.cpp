// tests/backtest/test_bars.cpp — bar data (FTX CSV, Coinbase zips), bar features against the
// trainer's golden rows, the bar model in the engine against PyTorch, and bar backtests through
// strategy/risk/OMS/simulator: fill model, determinism, metrics/report plumbing.
// Data under ../shared/data and the committed model: GTEST_SKIP with a message when absent.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <unistd.h>

#include "backtest/bar_features.hpp"
#include "backtest/bars.hpp"
#include "backtest/metrics.hpp"
#include "infer/engine.hpp"
#include "infer/npy.hpp"
#include "infer/onnx/onnx_import.hpp"
#include "infer/quant/quant.hpp"

namespace bt = tickrt::backtest;
namespace fs = std::filesystem;

namespace {

const std::string kFtx = "../shared/data/bars/ftx_btc-perp_1m_20211231_20220201.csv";
const std::string kCbDir = "../shared/data/bars/coinbase/minute/btcusd/";
const std::string kModel = "models/trained/bars_mlp/model.onnx";
constexpr std::int64_t kMin = 60'000'000'000LL;

// 2021-12-31 23:01:00 UTC and 2017-12-17 00:00:00 UTC in ns (date -u -d ... +%s).
constexpr std::int64_t kFtxFirst = 1640991660LL * 1'000'000'000LL;
constexpr std::int64_t kCb20171217 = 1513468800LL * 1'000'000'000LL;

#define NEED(path)                                                                   \
  do {                                                                               \
    if (!fs::exists(path)) GTEST_SKIP() << (path) << " absent (shared data / model)"; \
  } while (0)

const bt::BarSeries& ftx() {
  static const bt::BarSeries s = [] {
    auto r = bt::read_bars(kFtx);
    if (!r.ok()) return bt::BarSeries{};
    return std::move(r).value();
  }();
  return s;
}

// A file with exactly this name (the zip reader takes the day from it) in a per-process directory.
std::string tmp_file(const std::string& name, const std::string& content) {
  const fs::path d = fs::temp_directory_path() / ("tickrt_test_bars_" + std::to_string(::getpid()));
  fs::create_directories(d);
  const fs::path p = d / name;
  std::ofstream(p, std::ios::binary) << content;
  return p.string();
}

}  // namespace

// ---- reader ----------------------------------------------------------------------------------

TEST(BarsReader, FtxFile) {
  NEED(kFtx);
  auto r = bt::read_bars(kFtx);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r->bars.size(), 45031u);  // PROVENANCE.md
  EXPECT_EQ(r->period_ns, kMin);
  EXPECT_EQ(r->symbol, "BTC-PERP");
  const bt::Bar& b = r->bars.front();
  EXPECT_EQ(b.ts_ns, kFtxFirst);
  EXPECT_DOUBLE_EQ(b.open, 46319.0);
  EXPECT_DOUBLE_EQ(b.high, 46385.0);
  EXPECT_DOUBLE_EQ(b.low, 46319.0);
  EXPECT_DOUBLE_EQ(b.close, 46377.0);
  EXPECT_DOUBLE_EQ(b.volume, 2300413.7295);
  // "no gaps": every step is one minute
  for (std::size_t i = 1; i < r->bars.size(); ++i) ASSERT_EQ(r->bars[i].ts_ns - r->bars[i - 1].ts_ns, kMin) << i;
  EXPECT_DOUBLE_EQ(r->bars.back().close, 38544.0);
}

TEST(BarsReader, MalformedLinesNameFileAndLine) {
  const std::string head = "timestamp,open,high,low,close,volume\n";
  const std::string ok1 = "2022-01-01 00:00:00.000000,100,101,99,100.5,10\n";
  struct Case {
    std::string line, what;
  } cases[] = {
      {"2022-01-01 00:01:00.000000,100,101,99,100.5\n", "expected 6 fields"},
      {"2022-01-01 00:01:00.000000,100,101,99,100.5,10,3\n", "expected 6 fields"},
      {"2022-13-01 00:01:00,100,101,99,100.5,10\n", "bad timestamp"},
      {"2022-01-01 00:01:00,100,abc,99,100.5,10\n", "bad high 'abc'"},
      {"2022-01-01 00:01:00,100,101,99,100.5,nan\n", "bad volume"},
      {"2022-01-01 00:01:00,100,99,98,100.5,10\n", "inconsistent bar"},
      {"2022-01-01 00:01:00,0,101,0,100.5,10\n", "prices must be > 0"},
      {"2022-01-01 00:01:00,100,101,99,100.5,-1\n", "volume must be >= 0"},
      {"2022-01-01 00:00:00,100,101,99,100.5,10\n", "not after the previous"},
  };
  for (const Case& c : cases) {
    const std::string path = tmp_file("bad.csv", head + ok1 + c.line);
    auto r = bt::read_bars(path);
    ASSERT_FALSE(r.ok()) << c.line;
    EXPECT_NE(r.status().message().find(path + ":3: "), std::string::npos) << r.status().message();
    EXPECT_NE(r.status().message().find(c.what), std::string::npos) << r.status().message();
    fs::remove(path);
  }
  auto nohead = bt::parse_bars_csv(ok1, "x.csv");
  ASSERT_FALSE(nohead.ok());
  EXPECT_NE(nohead.status().message().find("x.csv:1: expected the header"), std::string::npos);
  auto good = bt::parse_bars_csv(head + ok1 + "2022-01-01 00:01:00,100.5,102,100,101,5\r\n\n", "g.csv");
  ASSERT_TRUE(good.ok()) << good.status().to_string();
  EXPECT_EQ(good->bars.size(), 2u);
  EXPECT_EQ(good->period_ns, kMin);
  auto missing = bt::read_bars("/nonexistent/bars.csv");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("/nonexistent/bars.csv"), std::string::npos);
}

TEST(BarsReader, CoinbaseZip) {
  const std::string z = kCbDir + "20171217_trade.zip";
  NEED(z);
  auto r = bt::read_bars(z);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r->bars.size(), 1440u);  // Python zipfile: 1440 lines (no trailing newline)
  EXPECT_EQ(r->period_ns, kMin);
  EXPECT_EQ(r->symbol, "BTCUSD");
  EXPECT_EQ(r->bars[0].ts_ns, kCb20171217);
  EXPECT_DOUBLE_EQ(r->bars[0].open, 19650.02);
  EXPECT_DOUBLE_EQ(r->bars[0].low, 19505);
  EXPECT_DOUBLE_EQ(r->bars[0].volume, 61.34020731);
  EXPECT_EQ(r->bars[1].ts_ns, kCb20171217 + kMin);
  // Second bars: period from the member name.
  const std::string s = "../shared/data/bars/coinbase/second/btcusd/20161009_trade.zip";
  if (fs::exists(s)) {
    auto q = bt::read_bars(s);
    ASSERT_TRUE(q.ok()) << q.status().to_string();
    EXPECT_EQ(q->period_ns, 1'000'000'000LL);
    EXPECT_EQ(q->bars.size(), 4004u);  // seconds with trades only
  }
  // Two days in order concatenate; out of order is refused, naming the file.
  auto two = bt::read_bars_files({kCbDir + "20180404_trade.zip", kCbDir + "20180405_trade.zip"});
  ASSERT_TRUE(two.ok()) << two.status().to_string();
  EXPECT_GT(two->bars.size(), 2000u);
  auto bad = bt::read_bars_files({kCbDir + "20180405_trade.zip", kCbDir + "20180404_trade.zip"});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("20180404_trade.zip: starts before"), std::string::npos);
  // Quote bars refused with the reason.
  auto quote = bt::read_bars(kCbDir + "20171217_quote.zip");
  ASSERT_FALSE(quote.ok());
  EXPECT_NE(quote.status().message().find("quote bars"), std::string::npos);
}

TEST(BarsReader, DamagedZipIsAnErrorNotACrash) {
  const std::string z = kCbDir + "20171217_trade.zip";
  NEED(z);
  std::ifstream f(z, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  ASSERT_GT(bytes.size(), 1000u);
  // Flip bytes in the compressed data: inflate or the CRC must catch it.
  std::string flipped = bytes;
  for (std::size_t i = 200; i < 260; ++i) flipped[i] = static_cast<char>(flipped[i] ^ 0x5a);
  const std::string p1 = tmp_file("20171217_trade.zip", flipped);
  auto r1 = bt::read_bars(p1);
  ASSERT_FALSE(r1.ok());
  EXPECT_NE(r1.status().message().find(p1), std::string::npos) << r1.status().message();
  // Truncated archive: no end-of-central-directory record.
  const std::string p2 = tmp_file("20171218_trade.zip", bytes.substr(0, bytes.size() / 2));
  auto r2 = bt::read_bars(p2);
  ASSERT_FALSE(r2.ok());
  EXPECT_NE(r2.status().message().find("not a zip archive"), std::string::npos) << r2.status().message();
  fs::remove(p1);
  fs::remove(p2);
}

// ---- features --------------------------------------------------------------------------------

TEST(BarFeatures, WindowIsTheLastRowsOldestFirst) {
  bt::BarFeatures fe(4);
  std::vector<std::vector<float>> rows;
  double px = 100;
  for (int i = 0; i < 70; ++i) {
    bt::Bar b;
    b.ts_ns = i * kMin;
    b.open = px;
    px *= (i % 3 == 0) ? 1.001 : 0.9995;
    b.close = px;
    b.high = std::max(b.open, b.close) + 0.05;
    b.low = std::min(b.open, b.close) - 0.05;
    b.volume = 10 + i % 7;
    std::vector<float> row(bt::kBarFeatures);
    fe.push(b, row.data());
    rows.push_back(row);
    EXPECT_EQ(fe.ready(), static_cast<std::size_t>(i + 1) >= bt::kBarWarmup + 3) << i;
    for (float v : row) ASSERT_TRUE(std::isfinite(v));
  }
  const float* w = fe.window();
  for (std::size_t t = 0; t < 4; ++t)
    for (std::size_t k = 0; k < bt::kBarFeatures; ++k) EXPECT_EQ(w[t * bt::kBarFeatures + k], rows[66 + t][k]);
  // ret_1 by hand: bar 68 fell 0.05 %, bar 69 rose 0.1 %
  EXPECT_NEAR(rows[68][0], std::log(0.9995) * 1e4, 1e-3);
  EXPECT_NEAR(rows[69][0], std::log(1.001) * 1e4, 1e-3);
  EXPECT_EQ(bt::bar_feature_list().rfind("bar_ret_1,", 0), 0u);
}

TEST(BarFeatures, MatchTheTrainerOnTheFtxFile) {
  NEED(kFtx);
  const std::string g = "models/trained/bars_mlp/golden_features.npy";
  NEED(g);
  auto gold = tickrt::infer::read_npy(g);
  ASSERT_TRUE(gold.ok()) << gold.status().to_string();
  ASSERT_EQ(gold->dims.size(), 2u);
  ASSERT_EQ(static_cast<std::size_t>(gold->dims[1]), bt::kBarFeatures);
  const std::size_t n = static_cast<std::size_t>(gold->dims[0]);
  ASSERT_GE(ftx().bars.size(), n);
  bt::BarFeatures fe(8);
  const float* ref = gold->as<float>();
  double worst = 0;
  for (std::size_t i = 0; i < n; ++i) {
    float row[bt::kBarFeatures];
    fe.push(ftx().bars[i], row);
    for (std::size_t k = 0; k < bt::kBarFeatures; ++k) {
      const double d = std::fabs(static_cast<double>(row[k]) - ref[i * bt::kBarFeatures + k]);
      const double tol = 1e-4 + 1e-5 * std::fabs(ref[i * bt::kBarFeatures + k]);
      worst = std::max(worst, d);
      ASSERT_LE(d, tol) << "row " << i << " feature " << bt::kBarFeatureNames[k];
    }
  }
  RecordProperty("max_abs_diff", std::to_string(worst));
}

TEST(BarModel, EngineMatchesPyTorch) {
  NEED(kModel);
  auto px = tickrt::infer::read_npy("models/trained/bars_mlp/parity_x.npy");
  auto pl = tickrt::infer::read_npy("models/trained/bars_mlp/parity_logits.npy");
  ASSERT_TRUE(px.ok() && pl.ok());
  auto g = tickrt::infer::import_onnx_file(kModel);
  ASSERT_TRUE(g.ok()) << g.status().to_string();
  tickrt::infer::BuildOptions bo;
  bo.batch = {1, 1, 1};
  auto e = tickrt::infer::Engine::build(std::move(*g), bo);
  ASSERT_TRUE(e.ok()) << e.status().to_string();
  tickrt::infer::ExecutionContext ctx(*e);
  ASSERT_TRUE(ctx.prepare_batch(1).ok());
  const std::size_t n = static_cast<std::size_t>(px->dims[0]);
  const std::size_t per = static_cast<std::size_t>(px->count()) / n;
  for (std::size_t i = 0; i < n; ++i) {
    std::copy(px->as<float>() + i * per, px->as<float>() + (i + 1) * per, ctx.input(0));
    ASSERT_EQ(ctx.run(), tickrt::Code::ok);
    for (int k = 0; k < 3; ++k) EXPECT_NEAR(ctx.output(0)[k], pl->as<float>()[i * 3 + k], 1e-4) << i;
  }
}

// ---- backtests -------------------------------------------------------------------------------

namespace {

bt::BarSeries days(std::int64_t from_day, std::int64_t n_days) {
  const std::int64_t day = 86'400'000'000'000LL;
  const std::int64_t start = kFtxFirst + 59 * kMin + from_day * day;  // 2022-01-01 00:00 + from_day
  return bt::slice(ftx(), start, start + n_days * day);
}

bt::BarEngineSpec model_spec() { return bt::BarEngineSpec{"bars_mlp", kModel, true}; }

}  // namespace

TEST(BarBacktest, ThreeDaysThroughTheLiveStagesWithTheFillModel) {
  NEED(kFtx);
  NEED(kModel);
  const bt::BarSeries s = days(27, 3);  // inside the model's test split (from 2022-01-27)
  ASSERT_EQ(s.bars.size(), 3u * 1440u);
  bt::BarBacktestConfig cfg;
  const auto t0 = std::chrono::steady_clock::now();
  auto r = bt::run_bar_backtest(s, {model_spec()}, cfg);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_LT(secs, 20.0);
  ASSERT_EQ(r->runs.size(), 1u);
  const bt::EngineRun& run = r->runs[0];
  EXPECT_EQ(run.precision, "fp32");
  EXPECT_EQ(run.name, "bars_mlp");
  EXPECT_EQ(run.equity.size(), s.bars.size());
  EXPECT_EQ(run.counters.events, s.bars.size());
  EXPECT_EQ(run.counters.inferences, s.bars.size() - (bt::kBarWarmup + 32 - 2));
  EXPECT_EQ(run.decisions.size(), run.counters.inferences);
  ASSERT_GT(run.fills.size(), 10u);
  EXPECT_EQ(run.counters.rejects, 0u);
  ASSERT_EQ(run.latency.size(), 1u);
  EXPECT_EQ(run.latency[0].count, run.counters.inferences);

  // Fill model: every fill is a taker MARKET at the open of the bar after its decision, +-
  // slippage, at open time + order latency; fee = taker bps of the notional (floor to 1e-8).
  std::size_t bar = 0;
  double pos = 0;
  for (const bt::Fill& f : run.fills) {
    while (bar < s.bars.size() && s.bars[bar].ts_ns + cfg.order_latency_ns < f.ts_ns) ++bar;
    ASSERT_LT(bar, s.bars.size());
    const bt::Bar& b = s.bars[bar];
    EXPECT_EQ(f.ts_ns, b.ts_ns + cfg.order_latency_ns);
    EXPECT_EQ(f.decision_ts_ns, b.ts_ns);  // decided at the previous bar's close == this bar's open time
    EXPECT_FALSE(f.maker);
    const double expect = f.side > 0 ? std::ceil(b.open * (1 + 1e-4) * 100 - 1e-6) / 100
                                     : std::floor(b.open * (1 - 1e-4) * 100 + 1e-6) / 100;
    EXPECT_NEAR(f.price, expect, 1e-6) << "fill at " << f.ts_ns;
    EXPECT_NEAR(f.fee, f.price * f.qty * 7e-4, 1e-7);
    pos += f.side * f.qty;
    EXPECT_LE(std::fabs(pos), 0.01 + 1e-12);  // max_position: one clip either way
  }
  EXPECT_NEAR(run.equity.back().position, pos, 1e-12);

  // Metrics and comparison plumbing (bt-report's functions) take the run as they take tick runs.
  bt::BacktestResult res = *r;
  ASSERT_TRUE(bt::finalize(res, bt::MetricsConfig{10'000, 0, 0, 0}).ok());
  const bt::Metrics& m = res.runs[0].metrics;
  EXPECT_EQ(m.trades, run.fills.size());
  EXPECT_GT(m.fees, 0);
  EXPECT_NEAR(m.pnl_net, run.equity.back().equity, 1e-6);
  EXPECT_NE(m.annualisation.find("60"), std::string::npos) << m.annualisation;  // 1-minute returns over > 1 day
}

TEST(BarBacktest, Deterministic) {
  NEED(kFtx);
  NEED(kModel);
  const bt::BarSeries s = days(28, 1);
  bt::BarBacktestConfig cfg;
  bt::BarEngineSpec a = model_spec(), b = model_spec();
  b.name = "again";
  auto r = bt::run_bar_backtest(s, {a, b}, cfg);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  const bt::EngineRun &x = r->runs[0], &y = r->runs[1];
  ASSERT_GT(x.fills.size(), 0u);
  ASSERT_EQ(x.fills.size(), y.fills.size());
  for (std::size_t i = 0; i < x.fills.size(); ++i) {
    EXPECT_EQ(x.fills[i].ts_ns, y.fills[i].ts_ns);
    EXPECT_EQ(x.fills[i].price, y.fills[i].price);
    EXPECT_EQ(x.fills[i].qty, y.fills[i].qty);
  }
  ASSERT_EQ(x.equity.size(), y.equity.size());
  for (std::size_t i = 0; i < x.equity.size(); ++i) ASSERT_EQ(x.equity[i].equity, y.equity[i].equity) << i;
  ASSERT_EQ(x.decisions.size(), y.decisions.size());
  for (std::size_t i = 0; i < x.decisions.size(); ++i) ASSERT_EQ(x.decisions[i].signal, y.decisions[i].signal) << i;
}

// The use the bar backtester exists for: FP32 against an INT8 engine of the same bar model (built
// here with the quantizer, calibrated on the committed train-split windows), compared by compare_runs.
TEST(BarBacktest, Fp32AgainstInt8Engine) {
  NEED(kFtx);
  NEED(kModel);
  namespace inf = tickrt::infer;
  auto g = inf::import_onnx_file(kModel);
  ASSERT_TRUE(g.ok()) << g.status().to_string();
  auto calib = inf::read_npy("models/trained/bars_mlp/calib_x.npy");  // train-split windows
  ASSERT_TRUE(calib.ok());
  inf::quant::QuantOptions qo;
  auto spec = inf::quant::parse_precision_spec("int8");
  ASSERT_TRUE(spec.ok());
  qo.spec = *spec;
  qo.calib = &*calib;
  qo.calibrator = inf::quant::Calibrator::minmax;
  inf::BuildOptions bo;
  bo.batch = {1, 1, 64};
  auto e = inf::quant::build_engine(*g, bo, qo);
  ASSERT_TRUE(e.ok()) << e.status().to_string();
  const std::string path = tmp_file("bars_mlp.int8.engine", "");
  ASSERT_TRUE((*e)->save(path).ok());

  const bt::BarSeries s = days(27, 2);
  auto r = bt::run_bar_backtest(s, {model_spec(), bt::BarEngineSpec{"int8", path, true}}, bt::BarBacktestConfig{});
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  ASSERT_EQ(r->runs.size(), 2u);
  EXPECT_EQ(r->runs[0].precision, "fp32");
  EXPECT_EQ(r->runs[1].precision, "int8");
  bt::BacktestResult res = *r;
  ASSERT_TRUE(bt::finalize(res).ok());
  ASSERT_EQ(res.comparisons.size(), 1u);
  const bt::Comparison& c = res.comparisons[0];
  EXPECT_EQ(c.baseline, "bars_mlp");
  EXPECT_EQ(c.run, "int8");
  EXPECT_EQ(c.decisions_compared, r->runs[0].decisions.size());
  // INT8 logits differ slightly: the signals agree on the vast majority of bars.
  EXPECT_LT(c.decisions_differ * 20, c.decisions_compared);
  RecordProperty("int8_decisions_differ", std::to_string(c.decisions_differ));
  fs::remove(path);
}

TEST(BarBacktest, ZeroSlippageFillsAtTheOpen) {
  NEED(kFtx);
  NEED(kModel);
  const bt::BarSeries s = days(28, 1);
  bt::BarBacktestConfig cfg;
  cfg.slippage_bps = 0;
  cfg.taker_fee_bps = 0;
  auto r = bt::run_bar_backtest(s, {model_spec()}, cfg);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  const bt::EngineRun& run = r->runs[0];
  ASSERT_GT(run.fills.size(), 0u);
  std::size_t bar = 0;
  for (const bt::Fill& f : run.fills) {
    while (s.bars[bar].ts_ns + cfg.order_latency_ns < f.ts_ns) ++bar;
    EXPECT_EQ(f.price, s.bars[bar].open) << f.ts_ns;  // FTX prices are whole dollars: on the tick
    EXPECT_EQ(f.fee, 0.0);
  }
}

TEST(BarBacktest, PassiveOrdersFillOnlyWhenTradedThrough) {
  NEED(kFtx);
  NEED(kModel);
  const bt::BarSeries s = days(27, 2);
  bt::BarBacktestConfig cfg;
  cfg.strategy.style = tickrt::strategy::OrderStyle::passive;
  cfg.strategy.aggressive_market = false;
  cfg.strategy.passive_max_age_ns = 5 * kMin;
  auto r = bt::run_bar_backtest(s, {model_spec()}, cfg);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  const bt::EngineRun& run = r->runs[0];
  ASSERT_GT(run.fills.size(), 0u);
  for (const bt::Fill& f : run.fills) {
    EXPECT_TRUE(f.maker);
    EXPECT_NEAR(f.fee, f.price * f.qty * 2e-4, 1e-7);
    // The bar whose range filled it ends at f.ts_ns: its low (buy) / high (sell) went through the price.
    const bt::Bar* b = nullptr;
    for (const bt::Bar& x : s.bars)
      if (x.ts_ns + kMin == f.ts_ns) b = &x;
    ASSERT_NE(b, nullptr);
    if (f.side > 0) EXPECT_LT(b->low, f.price);
    else EXPECT_GT(b->high, f.price);
  }
}

TEST(BarBacktest, ErrorsNameWhatIsWrong) {
  NEED(kFtx);
  const bt::BarSeries s = days(27, 1);
  bt::BarBacktestConfig cfg;
  cfg.slippage_bps = -1;
  auto r = bt::run_bar_backtest(s, {model_spec()}, cfg);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("bars.slippage_bps"), std::string::npos);
  // A tick model is not a bar model: the feature list says so.
  const std::string tick_model = "models/trained/lstm_attn_s/model.onnx";
  if (fs::exists(tick_model)) {
    auto t = bt::run_bar_backtest(s, {bt::BarEngineSpec{"", tick_model, true}}, bt::BarBacktestConfig{});
    ASSERT_FALSE(t.ok());
    EXPECT_NE(t.status().message().find("not a bar model"), std::string::npos) << t.status().message();
  }
  auto none = bt::run_bar_backtest(s, {bt::BarEngineSpec{"", "/nonexistent/m.onnx", true}}, bt::BarBacktestConfig{});
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.status().message().find("/nonexistent/m.onnx"), std::string::npos);
}
