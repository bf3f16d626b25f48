// backtest/bars.hpp — bar data and the bar backtester: OHLCV bars (minute or second) replayed
// through the SAME strategy (strategy/SignalStrategy), risk (risk/RiskEngine) and OMS (exec/Oms)
// code as live, with the tickrt inference engine deciding, against the simulator's matching
// engine (sim/matching_engine.hpp) under a documented bar-fill model. The contract.
//
// Who calls: `tickrt backtest --bars <file> --engines a.onnx,b.engine` (apps/tickrt), tests, tools.
// Setup path everywhere (Status/Result naming file:line or the key); the per-bar loop is the hot
// path of the strategy/risk/OMS/engine it drives (their own contracts), one thread, simulated clock.
//
// ---- data ------------------------------------------------------------------------------------
// read_bars(path) by file name:
//   *.csv  FTX/nautilus layout: header `timestamp,open,high,low,close,volume`, timestamp
//          "YYYY-MM-DD HH:MM:SS[.ffffff]" UTC; the bar period is the most common step.
//   *_trade.zip  QuantConnect/Lean Coinbase bars: one header-less CSV inside
//          (`ms since midnight,open,high,low,close,volume`), the day from the zip's name
//          (YYYYMMDD_trade.zip), the period from the inner name (`_minute_` / `_second_`).
//          Unzipped in memory with zlib (central directory -> raw inflate -> CRC-32 checked).
//          Quote zips (`_quote.zip`) are refused (not bars of trades).
// Several files (comma-separated in read_bars_files) are concatenated; time must increase.
// Every bar must have open/high/low/close > 0, low <= min(open, close), high >= max(open, close),
// volume >= 0, and a timestamp strictly after the previous one. Errors: "<file>:<line>: what".
// Timestamps are the bar's OPEN time (Lean: start of the period; FTX/nautilus: the bar's label,
// taken as its open time); a bar closes at ts + period.
// Gaps (Lean leaves out minutes without trades) are kept as gaps: features count bars, not time.
//
// ---- bar-fill model (what an order decided on bar t gets) --------------------------------------
// Decision at bar t's close (now = ts_t + period): features of bars ..t -> engine -> SignalStrategy
// with a synthetic touch bid/ask = close x (1 -/+ half_spread_bps) -> RiskEngine::check_new ->
// Oms::submit. The OMS's outbound ring is drained by BarVenue at bar t+1's open (ts_{t+1} +
// order_latency_ns), requests in ring order; before our first buy (sell) of the bar, a liquidity
// account quotes the opposite side at open x (1 + slippage_bps) (x (1 - slippage_bps)), rounded
// outward to the tick, with depth lp_qty on the simulator's book (a bar needing both sides keeps
// them at least a tick apart); the quotes are pulled after the requests. So:
//   * MARKET (default for bars) fills at next open +/- slippage, taker fee of the sim's fee model;
//   * LIMIT IOC fills only if its limit reaches that quote (else EXPIRED);
//   * a resting limit (LIMIT_MAKER/GTC) fills at ITS price, maker fee, when a LATER part of a bar
//     trades strictly through it: buy when low < price, sell when high > price (the liquidity
//     account sends an IOC at low + tick / high - tick after the open phase). Touching is not enough
//     (no queue position is known from bars).
// Limits: the open is the first trade of the bar, not the price at our arrival; depth is unlimited
// up to lp_qty (no market impact); intrabar order of high and low is unknown (a resting order
// canceled at the next open still saw the whole bar that followed its placement); funding
// (perpetuals) and borrow are ignored; one symbol per run.
// Equity is marked at each bar's close (OMS realized + unrealized - fees); decisions are recorded
// per bar with the bar index as seq (identical across engines: compare_runs works unchanged).
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "backtest/result.hpp"
#include "core/status.hpp"
#include "risk/risk_engine.hpp"
#include "strategy/signal_strategy.hpp"

namespace tickrt::backtest {

struct Bar {
  std::int64_t ts_ns = 0;   // bar open time, ns since the Unix epoch (UTC)
  double open = 0, high = 0, low = 0, close = 0;
  double volume = 0;        // as in the file (FTX: USD; Coinbase: base units)
};

struct BarSeries {
  std::string symbol;        // e.g. "BTC-PERP" (FTX file), "BTCUSD" (Coinbase); "" unknown
  std::int64_t period_ns = 0;
  std::vector<std::string> files;
  std::vector<Bar> bars;
};

// One file (*.csv or *_trade.zip, see above).
Result<BarSeries> read_bars(const std::string& path);
// Several files, in the given order, concatenated (time must increase across files).
Result<BarSeries> read_bars_files(const std::vector<std::string>& paths);
// Parses the text of an FTX-layout CSV; `origin` names it in errors (tests).
Result<BarSeries> parse_bars_csv(const std::string& text, const std::string& origin);
// The one member of a single-file zip archive, inflated and CRC-checked (setup path).
Result<std::string> read_zip_member(const std::string& path, std::string* member_name = nullptr);
// Bars with from_ns <= ts < to_ns (either bound 0: open).
BarSeries slice(const BarSeries& s, std::int64_t from_ns, std::int64_t to_ns);

// ---- bar backtest --------------------------------------------------------------------------
struct BarBacktestConfig {
  std::string symbol = "BTCUSD";          // name inside OMS/risk/sim (any; one symbol per run)
  double half_spread_bps = 0.5;           // decision-time touch around the close
  double slippage_bps = 1.0;              // fills at next open x (1 +/- slippage_bps)
  double maker_fee_bps = 2.0;             // sim fee model; defaults: FTX tier 1 (2 / 7 bps)
  double taker_fee_bps = 7.0;
  std::int64_t order_latency_ns = 50'000'000;  // order reaches the venue this long after the open
  double tick = 0.01;                     // price tick of the simulated symbol (quote units)
  double lp_qty = 1000;                   // liquidity account's depth per side at the open
  double capital = 10'000;                // for metrics (returns measured against it)
  std::size_t equity_every = 1;           // an equity point every N bars (and the last bar)
  std::uint64_t seed = 1;                 // sim seed (no fault is on by default: no randomness)
  strategy::StrategyConfig strategy = default_strategy();
  risk::SymbolLimits symbol_limits;
  risk::AccountLimits account_limits;

  // Strategy defaults for minute bars: aggressive MARKET orders, one clip of 0.01 at a time,
  // no throttle between decisions (they are a bar apart anyway), enter at p >= 0.45 with an edge
  // of 0.10, exit below 0.38 (bars_mlp's probabilities are flat: see bars_backtest.cpp).
  static strategy::StrategyConfig default_strategy();
};

struct BarEngineSpec {
  std::string name;        // label in the report ("" -> file stem, precision)
  std::string path;        // .onnx (built here) or a tickrt engine file (Engine::load)
  bool zero_latency = true;  // bars: inference time is never charged to the simulated clock
};

// One engine over the series: an EngineRun with precision = the engine's "tickrt.precision"
// metadata ("fp32" when absent: a plain ONNX model), fills, equity, decisions, counters and the
// measured "inference" latency (wall clock, for the report; never charged to the bar clock).
// Metrics are left to compute_metrics (backtest/metrics.hpp), as for tick runs.
// Errors: model file (names it), feature list / window mismatch (names the key), config.
Result<EngineRun> run_bar_engine(const BarSeries& bars, const BarEngineSpec& engine, const BarBacktestConfig& cfg);
// Every engine, same bars, same config: a BacktestResult with one EngineRun per engine
// (metrics and comparisons left to compute_metrics / compare_runs).
Result<BacktestResult> run_bar_backtest(const BarSeries& bars, const std::vector<BarEngineSpec>& engines,
                                        const BarBacktestConfig& cfg);

}  // namespace tickrt::backtest
