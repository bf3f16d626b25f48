// `tickrt backtest`: the latency-aware tick backtester (src/backtest/backtester.hpp). Thin:
// options -> BacktestConfig, run every engine (+ zero-latency twins), write the result and report,
// print a summary table. Progress on stderr, the table on stdout.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "backtest/backtester.hpp"
#include "backtest/metrics.hpp"
#include "backtest_bars_cli.hpp"
#include "commands.hpp"
#if __has_include("backtest/report.hpp")
#include "backtest/report.hpp"
#define TICKRT_HAVE_BT_REPORT 1
#endif

namespace tickrt::cli {

namespace {

struct BtOpts {
  std::string config;
  std::string engines;
  std::vector<std::string> data;
  std::string out;
  std::int64_t seed = -1;
  std::string twins;           // "" = config; on|off
  bool no_model = false;       // throughput: replay without a model (no inference, no orders)
  int repeat = 1;              // --no-model: replays (the best is reported)
  bool eager_venue = false;    // --no-model: keep the venue book too (unobserved without orders)
  std::string command;
};

[[noreturn]] void fail(const std::string& msg, int rc = 1) {
  std::cerr << "tickrt backtest: " << msg << "\n";
  throw CLI::RuntimeError(rc);
}

void progress(const std::string& run, std::uint64_t done, std::uint64_t total) {
  if (run.rfind("load ", 0) == 0) {
    std::cerr << run << "\n";
    return;
  }
  std::cerr << "\r[" << run << "] events " << done << " / " << total << (done == total ? "\n" : "") << std::flush;
}

int run_backtest(const BtOpts& o) {
  namespace bt = backtest;
  auto cfg = o.config.empty() ? bt::parse_backtest_config(bt::kDefaultBacktestToml, "<embedded>", TICKRT_SOURCE_DIR)
                              : bt::load_backtest_config(o.config);
  if (!cfg.ok()) fail(cfg.status().message());
  bt::BacktestConfig c = std::move(cfg.value());
  if (!o.engines.empty()) c.engines = bt::parse_engine_list(o.engines);
  if (!o.data.empty()) c.data = o.data;
  if (!o.out.empty()) c.out = o.out;
  if (o.seed >= 0) c.seed = static_cast<std::uint64_t>(o.seed);
  if (o.twins == "on") c.zero_latency_twins = true;
  else if (o.twins == "off") c.zero_latency_twins = false;
  if (o.no_model) c.engines.clear();
  for (const auto& e : c.engines)
    if (!std::filesystem::is_regular_file(e.path)) fail("engine " + e.path + ": file not found");
  if (!o.no_model && c.engines.empty()) fail("no engine: give --engines a.engine,b.onnx (or backtest.engines)", 2);

  auto b = bt::Backtester::create(c, progress);
  if (!b.ok()) fail(b.status().message());
  bt::Backtester& B = *b.value();
  const auto& ls = B.data().stats();
  std::fprintf(stderr, "data: %zu file(s), %llu events (%llu malformed lines skipped), parsed in %.3f s; symbol traded: %s\n",
               B.data().files().size(), static_cast<unsigned long long>(ls.events),
               static_cast<unsigned long long>(ls.malformed), static_cast<double>(ls.parse_ns) * 1e-9,
               B.config().symbol.empty() ? "(first in data)" : B.config().symbol.c_str());
  std::fprintf(stderr, "latency: features %s; order out %s, back %s\n", B.features_latency_text().c_str(),
               B.config().order_out.c_str(), B.config().order_back.c_str());

  if (o.no_model) {
    // Throughput: events replayed per second with no model: book + features (our side), from the
    // events parsed once into memory; the venue's replay book too with --eager-venue (without
    // orders nothing observes it, so by default it is skipped: backtester.hpp RunRequest).
    double best = 0;
    std::uint64_t events = 0;
    for (int k = 0; k < std::max(1, o.repeat); ++k) {
      auto r = B.run(bt::RunRequest{-1, false, o.eager_venue});
      if (!r.ok()) fail(r.status().message());
      events = r.value().counters.events;
      const double eps = static_cast<double>(events) / r.value().counters.wall_seconds;
      best = std::max(best, eps);
      std::fprintf(stdout, "no-model replay %d: %llu events in %.4f s = %.3f M events/s\n", k + 1,
                   static_cast<unsigned long long>(events), r.value().counters.wall_seconds, eps * 1e-6);
    }
    const double parse_eps = static_cast<double>(ls.lines) / (static_cast<double>(ls.parse_ns) * 1e-9);
    std::fprintf(stdout, "best: %.3f M events/s (%.3f M book levels/s); load (gunzip + parse, once): %.3f M lines/s; ratio %.2fx\n",
                 best * 1e-6, best * static_cast<double>(ls.levels) / static_cast<double>(std::max<std::uint64_t>(1, events)) * 1e-6,
                 parse_eps * 1e-6, best / parse_eps);
    return 0;
  }
  for (std::size_t e = 0; e < c.engines.size(); ++e)
    std::fprintf(stderr, "engine %s: inference %s\n", c.engines[e].path.c_str(), B.inference_latency_text(static_cast<int>(e)).c_str());

  auto res = B.run_all(o.command, progress);
  if (!res.ok()) fail(res.status().message());
  const bt::BacktestResult& R = res.value();
  std::error_code ec;
  std::filesystem::create_directories(c.out, ec);
  if (ec) fail(c.out + ": cannot create the output directory: " + ec.message());
#if defined(TICKRT_HAVE_BT_REPORT)
  if (Status s = bt::write_report(R, c.out); !s.ok()) fail(s.message());
#else
  {
    std::ofstream f(c.out + "/result.json", std::ios::binary);
    f << bt::to_json(R);
    if (!f) fail(c.out + "/result.json: write failed");
  }
#endif

  // inf_p50_us: what the samples' messages waited for the model (charged); run_p50_us: the model's runs themselves;
  // at_bnd%: samples whose model ran at their boundary, before their message ([latency] infer_at_boundary).
  std::printf("%-28s %6s %4s %8s %10s %10s %8s %8s %9s %7s %10s %10s %7s %9s\n", "run", "prec", "0lat", "fills", "pnl_net", "fees",
              "sharpe", "sortino", "maxdd", "hit", "inf_p50_us", "run_p50_us", "at_bnd%", "Mev/s");
  for (const bt::EngineRun& r : R.runs) {
    double inf50 = 0, run50 = 0;
    for (const auto& l : r.latency) {
      if (l.name == "inference") inf50 = l.p50_ns * 1e-3;
      if (l.name == "inference_run") run50 = l.p50_ns * 1e-3;
    }
    const double at_bnd = r.counters.inferences > 0 ? 100.0 * static_cast<double>(r.counters.inferred_at_boundary) /
                                                          static_cast<double>(r.counters.inferences) : 0.0;
    // Replay throughput of the run (wall time on this machine; real inference of every sample included).
    const double mevs = r.counters.wall_seconds > 0 ? static_cast<double>(r.counters.events) / r.counters.wall_seconds * 1e-6 : 0;
    std::printf("%-28s %6s %4s %8zu %10.4f %10.4f %8.3f %8.3f %9.4f %7.3f %10.2f %10.2f %7.1f %9.3f\n", r.name.c_str(), r.precision.c_str(),
                r.zero_latency ? "yes" : "no", r.fills.size(), r.metrics.pnl_net, r.metrics.fees, r.metrics.sharpe,
                r.metrics.sortino, r.metrics.max_drawdown, r.metrics.hit_rate, inf50, run50, at_bnd, mevs);
  }
  if (!R.comparisons.empty()) {
    std::printf("\n%-28s %-28s %10s %5s %10s %10s %12s\n", "run", "vs", "sharpe_d%", "flag", "decisions", "differ", "pnl_in_diff");
    for (const bt::Comparison& cm : R.comparisons)
      std::printf("%-28s %-28s %10.2f %5s %10llu %10llu %12.4f\n", cm.run.c_str(), cm.baseline.c_str(), cm.sharpe_diff_pct,
                  cm.sharpe_flag ? "YES" : "no", static_cast<unsigned long long>(cm.decisions_compared),
                  static_cast<unsigned long long>(cm.decisions_differ), cm.pnl_in_disagreement);
  }
  if (!R.runs.empty()) std::printf("\n%s\n", R.runs.front().metrics.annualisation.c_str());
  std::printf("result: %s\n", c.out.c_str());
  return 0;
}

}  // namespace

void register_backtest(CLI::App& app) {
  auto o = std::make_shared<BtOpts>();
  CLI::App* c = app.add_subcommand("backtest", "Latency-aware tick backtest: engines compared on replayed captures (docs/BACKTEST.md)");
  c->add_option("--config", o->config, "backtest TOML (configs/backtest.toml lists every key and default)");
  c->add_option("--engines", o->engines, "comma-separated engines: path or label=path; .onnx (built FP32) or .engine");
  c->add_option("--data", o->data, "capture files (override backtest.data)");
  c->add_option("--out", o->out, "output directory (result.json, report)");
  c->add_option("--seed", o->seed, "seed of every latency draw and the simulator");
  c->add_option("--zero-latency-twins", o->twins, "on|off: also run each engine with 0 ns inference")->check(CLI::IsMember({"on", "off"}));
  c->add_flag("--no-model", o->no_model, "throughput mode: replay without a model (book + features + venue matching)");
  c->add_option("--repeat", o->repeat, "--no-model: number of replays (best reported)")->capture_default_str();
  c->add_flag("--eager-venue", o->eager_venue,
              "--no-model: also apply every depth/trade event to the venue's book (by default the venue book is "
              "updated lazily, only when an order or an equity point can observe it: never without a model)");
  auto bars = std::make_shared<BarsCliOptions>();  // bar mode (--bars ...): cmd_backtest_bars.cpp
  add_bars_options(c, bars);
  add_bus_backtest_options(c);  // --distributed nats://...: jobs for `tickrt worker` (cmd_bus.cpp)
  c->footer(
      "Examples:\n"
      "  tickrt backtest --config configs/backtest.toml\n"
      "  tickrt backtest --engines fp32=models/trained/lstm_attn_s/model.onnx,int8=build/lstm.int8.engine --out bt-out\n"
      "  tickrt backtest --data ../shared/data/binance_ws/spot/btcusdt_20240809.gz --engines m.onnx --seed 7 --zero-latency-twins off\n"
      "  tickrt backtest --no-model --repeat 5 --data data/captures/spot_btcusdt_20240808.gz   (throughput)\n"
      "  tickrt backtest --bars ../shared/data/bars/ftx_btc-perp_1m_20211231_20220201.csv --engines models/trained/bars_mlp/model.onnx   (bars)\n"
      "Exit codes: 0 ok, 1 runtime error (bad file/engine/config key: named on stderr), 2 usage.");
  c->callback([o, bars, &app] {
    (void)app;
    std::ostringstream cmd;
    cmd << "tickrt backtest";
    if (!o->config.empty()) cmd << " --config " << o->config;
    if (!o->engines.empty()) cmd << " --engines " << o->engines;
    for (const auto& d : o->data) cmd << " --data " << d;
    if (!o->out.empty()) cmd << " --out " << o->out;
    if (o->seed >= 0) cmd << " --seed " << o->seed;
    if (!o->twins.empty()) cmd << " --zero-latency-twins " << o->twins;
    o->command = cmd.str();
    if (bars_requested(*bars)) return run_bars_backtest(*bars, o->engines, o->out, o->seed, o->command);
    if (bus_backtest_requested()) {  // the same sweep on worker processes (src/bus/jobs.hpp)
      if (const int rc = run_distributed_backtest(o->config, o->engines, o->data, o->out, o->seed, o->twins, o->command); rc != 0)
        throw CLI::RuntimeError(rc);
      return;
    }
    if (const int rc = run_backtest(*o); rc != 0) throw CLI::RuntimeError(rc);
  });
}

}  // namespace tickrt::cli
