// backtest_bars_cli.hpp — the bar mode of `tickrt backtest` (src/backtest/bars.hpp), kept in its own
// file so the tick verb (cmd_backtest.cpp) only has to hook it in:
//   register:  auto bars = std::make_shared<BarsCliOptions>(); add_bars_options(c, bars);
//   callback:  if (bars_requested(*bars)) { run_bars_backtest(*bars, engines, out, seed, command); return; }
// run_bars_backtest prints a summary table on stdout, progress/errors on stderr, and throws
// CLI::RuntimeError(1) on a runtime error (bad file, engine, option: named on stderr).
#pragma once

#include <CLI/CLI.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace tickrt::cli {

struct BarsCliOptions {
  std::vector<std::string> files;   // --bars (repeatable, or comma-separated), in time order
  std::string from, to;             // --bars-from / --bars-to: "YYYY-MM-DD[ HH:MM]" UTC
  double slippage_bps = 1.0;
  double half_spread_bps = 0.5;
  double maker_fee_bps = 2.0;
  double taker_fee_bps = 7.0;
  double order_latency_ms = 50.0;
  double capital = 10'000;
  std::string style = "market";     // market | ioc | passive
  std::size_t equity_every = 1;
  std::string symbol = "BTCUSD";
};

// Adds --bars and the bar-only options to the `backtest` subcommand.
void add_bars_options(CLI::App* backtest, const std::shared_ptr<BarsCliOptions>& o);
inline bool bars_requested(const BarsCliOptions& o) { return !o.files.empty(); }
// engines: "path" or "label=path", comma-separated (the tick verb's syntax). out: result directory
// ("" -> bt-bars-out). seed < 0: 1.
void run_bars_backtest(const BarsCliOptions& o, const std::string& engines, const std::string& out, std::int64_t seed,
                       const std::string& command);

}  // namespace tickrt::cli
