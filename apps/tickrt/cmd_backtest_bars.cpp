// `tickrt backtest --bars ...`: the bar backtester (src/backtest/bars.hpp). Thin: options ->
// BarBacktestConfig, every engine over the same bars, finalize (metrics + comparisons), report.
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <sstream>

#include "backtest/bars.hpp"
#include "backtest/metrics.hpp"
#include "backtest/report.hpp"
#include "backtest_bars_cli.hpp"

namespace tickrt::cli {
namespace {

[[noreturn]] void fail(const std::string& msg) {
  std::cerr << "tickrt backtest --bars: " << msg << "\n";
  throw CLI::RuntimeError(1);
}

// "YYYY-MM-DD" or "YYYY-MM-DD HH:MM" (UTC) -> ns; "" -> 0 (open bound).
std::int64_t parse_when(const std::string& s, const char* opt) {
  if (s.empty()) return 0;
  const std::string text = s.size() == 10 ? s + " 00:00:00" : (s.size() == 16 ? s + ":00" : s);
  auto r = backtest::parse_bars_csv("timestamp,open,high,low,close,volume\n" + text + ",1,1,1,1,0\n", opt);
  if (!r.ok() || r->bars.empty()) fail(std::string(opt) + ": '" + s + "' is not YYYY-MM-DD[ HH:MM] (UTC)");
  return r->bars.front().ts_ns;
}

std::vector<std::string> split_csv(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ','))
    if (!item.empty()) out.push_back(item);
  return out;
}

}  // namespace

void add_bars_options(CLI::App* c, const std::shared_ptr<BarsCliOptions>& o) {
  c->add_option("--bars", o->files,
                "bar mode: OHLCV bar files (FTX-layout .csv, Lean/Coinbase *_trade.zip), in time order; "
                "engines must be bar models (models/trained/bars_mlp)")
      ->delimiter(',');
  c->add_option("--bars-from", o->from, "bar mode: first bar (UTC, YYYY-MM-DD[ HH:MM])");
  c->add_option("--bars-to", o->to, "bar mode: end, exclusive (UTC, YYYY-MM-DD[ HH:MM])");
  c->add_option("--slippage-bps", o->slippage_bps, "bar mode: fills at next open x (1 +/- slippage)")->capture_default_str();
  c->add_option("--half-spread-bps", o->half_spread_bps, "bar mode: decision-time touch = close -/+ this")->capture_default_str();
  c->add_option("--maker-fee-bps", o->maker_fee_bps, "bar mode: simulator maker fee")->capture_default_str();
  c->add_option("--taker-fee-bps", o->taker_fee_bps, "bar mode: simulator taker fee")->capture_default_str();
  c->add_option("--order-latency-ms", o->order_latency_ms, "bar mode: order arrives this long after the next open")
      ->capture_default_str();
  c->add_option("--capital", o->capital, "bar mode: capital for returns / drawdown %")->capture_default_str();
  c->add_option("--bars-style", o->style, "bar mode: market | ioc | passive")
      ->check(CLI::IsMember({"market", "ioc", "passive"}))
      ->capture_default_str();
  c->add_option("--equity-every", o->equity_every, "bar mode: one equity point every N bars")->capture_default_str();
}

void run_bars_backtest(const BarsCliOptions& o, const std::string& engines, const std::string& out_dir, std::int64_t seed,
                       const std::string& command) {
  namespace bt = backtest;
  std::vector<std::string> files;
  for (const auto& f : o.files)
    for (auto& p : split_csv(f)) files.push_back(p);
  auto all = bt::read_bars_files(files);
  if (!all.ok()) fail(all.status().message());
  const bt::BarSeries bars = bt::slice(*all, parse_when(o.from, "--bars-from"), parse_when(o.to, "--bars-to"));
  if (bars.bars.empty()) fail("no bars in the chosen span (--bars-from/--bars-to)");

  std::vector<bt::BarEngineSpec> specs;
  for (const std::string& e : split_csv(engines)) {
    const std::size_t eq = e.find('=');
    bt::BarEngineSpec s;
    if (eq != std::string::npos) {
      s.name = e.substr(0, eq);
      s.path = e.substr(eq + 1);
    } else {
      s.path = e;
    }
    if (!std::filesystem::is_regular_file(s.path)) fail("engine " + s.path + ": file not found");
    specs.push_back(s);
  }
  if (specs.empty()) fail("no engine: give --engines models/trained/bars_mlp/model.onnx[,int8=bars.int8.engine]");

  bt::BarBacktestConfig cfg;
  cfg.symbol = o.symbol;
  cfg.slippage_bps = o.slippage_bps;
  cfg.half_spread_bps = o.half_spread_bps;
  cfg.maker_fee_bps = o.maker_fee_bps;
  cfg.taker_fee_bps = o.taker_fee_bps;
  cfg.order_latency_ns = static_cast<std::int64_t>(o.order_latency_ms * 1e6);
  cfg.capital = o.capital;
  cfg.equity_every = o.equity_every;
  cfg.seed = seed < 0 ? 1 : static_cast<std::uint64_t>(seed);
  if (o.style == "ioc") {
    cfg.strategy.aggressive_market = false;
  } else if (o.style == "passive") {
    cfg.strategy.style = strategy::OrderStyle::passive;
    cfg.strategy.aggressive_market = false;
    cfg.strategy.passive_max_age_ns = 5 * bars.period_ns;
  }
  std::fprintf(stderr, "bars: %zu file(s), %zu bars of %lld s (%s), %zu engine(s)\n", files.size(), bars.bars.size(),
               static_cast<long long>(bars.period_ns / 1'000'000'000), bars.symbol.c_str(), specs.size());

  auto res = bt::run_bar_backtest(bars, specs, cfg);
  if (!res.ok()) fail(res.status().message());
  bt::BacktestResult R = std::move(res.value());
  {
    std::ostringstream c;
    c << command;
    for (const auto& f : o.files) c << " --bars " << f;
    if (!o.from.empty()) c << " --bars-from \"" << o.from << "\"";
    if (!o.to.empty()) c << " --bars-to \"" << o.to << "\"";
    c << " --slippage-bps " << o.slippage_bps << " --half-spread-bps " << o.half_spread_bps << " --maker-fee-bps "
      << o.maker_fee_bps << " --taker-fee-bps " << o.taker_fee_bps << " --order-latency-ms " << o.order_latency_ms
      << " --bars-style " << o.style;
    R.command = c.str();
  }
  {
    std::ostringstream t;
    t << "slippage_bps = " << cfg.slippage_bps << "\nhalf_spread_bps = " << cfg.half_spread_bps
      << "\nmaker_fee_bps = " << cfg.maker_fee_bps << "\ntaker_fee_bps = " << cfg.taker_fee_bps
      << "\norder_latency_ms = " << o.order_latency_ms << "\nstyle = \"" << o.style << "\"\ncapital = " << cfg.capital
      << "\nenter_prob = " << cfg.strategy.enter_prob << "\nexit_prob = " << cfg.strategy.exit_prob
      << "\nmin_edge = " << cfg.strategy.min_edge << "\norder_qty = " << cfg.strategy.order_qty.to_double()
      << "\nmax_position = " << cfg.strategy.max_position.to_double() << "\n";
    R.config_toml = "[bars]\n" + t.str();
  }
  bt::MetricsConfig mc;
  mc.capital = cfg.capital;
  if (Status s = bt::finalize(R, mc); !s.ok()) fail(s.message());
  const std::string out = out_dir.empty() ? "bt-bars-out" : out_dir;
  if (Status s = bt::write_report(R, out); !s.ok()) fail(s.message());

  std::printf("%-20s %6s %7s %12s %10s %9s %8s %9s %7s %9s %10s\n", "run", "prec", "fills", "pnl_net", "fees", "sharpe",
              "sortino", "maxdd", "hit", "hold_min", "inf_p50_us");
  for (const bt::EngineRun& r : R.runs) {
    double inf50 = 0;
    for (const auto& l : r.latency)
      if (l.name == "inference") inf50 = l.p50_ns * 1e-3;
    std::printf("%-20s %6s %7zu %12.4f %10.4f %9.3f %8.3f %9.4f %7.3f %9.1f %10.2f\n", r.name.c_str(),
                r.precision.c_str(), r.fills.size(), r.metrics.pnl_net, r.metrics.fees, r.metrics.sharpe,
                r.metrics.sortino, r.metrics.max_drawdown, r.metrics.hit_rate, r.metrics.avg_holding_s / 60.0, inf50);
  }
  for (const bt::Comparison& cm : R.comparisons)
    std::printf("%s vs %s: sharpe %+.2f %%%s, decisions differ %llu / %llu, pnl diff %.4f (%.4f while they differed)\n",
                cm.run.c_str(), cm.baseline.c_str(), cm.sharpe_diff_pct, cm.sharpe_flag ? " FLAG (>5 %)" : "",
                static_cast<unsigned long long>(cm.decisions_differ), static_cast<unsigned long long>(cm.decisions_compared),
                cm.pnl_diff, cm.pnl_in_disagreement);
  if (!R.runs.empty()) std::printf("%s\n", R.runs.front().metrics.annualisation.c_str());
  std::printf("replayed %zu bars per engine in %.3f s (first engine); result: %s\n", bars.bars.size(),
              R.runs.empty() ? 0.0 : R.runs.front().counters.wall_seconds, out.c_str());
}

}  // namespace tickrt::cli
