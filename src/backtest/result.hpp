// backtest/result.hpp — what a backtest produces: the one schema shared by the tick backtester
// (backtest/backtester.hpp), the bar backtester (backtest/bars.hpp), the report writer
// (backtest/report.hpp: HTML + CSV + JSON) and the distributed coordinator (issue 11), which
// assembles results that workers send back as JSON.
//
// Who fills what:
//   * a run driver (tick or bar) fills EngineRun::{name, engine, precision, zero_latency, fills,
//     equity, latency, decisions, counters} while it replays;
//   * compute_metrics() (backtest/metrics.hpp) fills EngineRun::metrics from fills + equity;
//   * compare_runs() fills BacktestResult::comparisons (Sharpe vs the FP32 baseline, the 5% flag,
//     decision disagreements and the PnL they account for);
//   * write_report() renders it; to_json()/from_json() round-trip it exactly (tested).
// Units: money in the quote asset as double (USDT for BTCUSDT); quantities in base units as
// double; times in ns since the Unix epoch, the replayed (simulated) clock, never wall time.
// Setup/offline path only: these vectors allocate freely; the replay hot path appends to
// vectors reserved up front.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.hpp"

namespace tickrt::backtest {

// One execution of our account (from the simulator's ExecReport).
struct Fill {
  std::int64_t ts_ns = 0;        // simulated time the fill happened at the venue
  std::string symbol;
  int side = 0;                  // +1 buy, -1 sell
  double price = 0;
  double qty = 0;                // base units, > 0
  double fee = 0;                // quote units, negative = rebate
  bool maker = false;
  std::int64_t decision_ts_ns = 0;  // the tick whose decision caused the order (0 unknown)
};

// Marked-to-market account value after an event, sampled (the driver decides how densely; the
// metrics resample to fixed periods).
struct EquityPoint {
  std::int64_t ts_ns = 0;
  double equity = 0;        // realised + unrealised PnL net of fees, quote units (starts at 0)
  double gross = 0;         // the same before fees
  double position = 0;      // base units, first traded symbol
  double mid = 0;           // mark price used
};

// One decision of the model/strategy at a sampled tick: what an engine said and did, so two
// engines can be compared decision by decision (same ticks in the same order: same seq).
struct Decision {
  std::uint64_t seq = 0;     // sample number in the replay (identical across engines)
  std::int64_t ts_ns = 0;
  std::int8_t signal = 0;    // -1 short, 0 flat, +1 long (after hysteresis)
  float p_down = 0, p_flat = 0, p_up = 0;
};

// A latency distribution, summarised and bucketed (for the report's histograms).
struct LatencySummary {
  std::string name;          // "inference", "features", "order", "feed", ...
  std::uint64_t count = 0;
  double mean_ns = 0, p50_ns = 0, p90_ns = 0, p99_ns = 0, p999_ns = 0, max_ns = 0;
  std::vector<double> bucket_upper_ns;   // ascending; counts[i] = samples in (upper[i-1], upper[i]]
  std::vector<std::uint64_t> bucket_counts;
};

struct Metrics {
  double pnl_gross = 0;       // quote units
  double fees = 0;            // quote units paid (negative = net rebate)
  double pnl_net = 0;         // pnl_gross - fees
  double capital = 0;         // the capital returns are measured against (config; stated)
  double sharpe = 0;          // annualised, see `annualisation`
  double sortino = 0;         // annualised, downside deviation of the same returns
  std::string annualisation;  // e.g. "1-minute returns x sqrt(525600) (24/7 market)"
  double max_drawdown = 0;    // quote units, >= 0, on net equity
  double max_drawdown_pct = 0;  // of capital
  double turnover = 0;        // traded notional, quote units
  double turnover_x = 0;      // turnover / capital
  double hit_rate = 0;        // winning round trips / round trips (0 when none)
  std::uint64_t trades = 0;   // fills
  std::uint64_t round_trips = 0;
  double avg_holding_s = 0;   // mean time a position is held (FIFO lots), seconds
};

struct RunCounters {
  std::uint64_t events = 0;       // market events replayed
  std::uint64_t samples = 0;      // feature samples
  std::uint64_t inferences = 0;
  std::uint64_t orders = 0, cancels = 0, rejects = 0, risk_refused = 0;
  double wall_seconds = 0;        // how long the replay took on this machine
  std::uint64_t inferred_at_boundary = 0;   // [latency] infer_at_boundary: samples whose model ran before their message
};

struct EngineRun {
  std::string name;            // label in the report, e.g. "int8", "int8@0lat"
  std::string engine;          // engine/ONNX path
  std::string precision;       // "fp32", "fp16", "int8", "mixed", "bars", ...
  bool zero_latency = false;   // inference charged 0 ns (speed separated from precision)
  Metrics metrics;
  RunCounters counters;
  std::vector<Fill> fills;
  std::vector<EquityPoint> equity;
  std::vector<Decision> decisions;
  std::vector<LatencySummary> latency;  // at least "inference"; also "feed", "order", "features"
};

// Run `b` against the baseline run `a` (the FP32 engine with the same zero_latency setting).
struct Comparison {
  std::string baseline, run;
  double sharpe_baseline = 0, sharpe_run = 0;
  double sharpe_diff_pct = 0;      // (run - baseline) / |baseline| x 100 (0 when baseline is 0)
  bool sharpe_flag = false;        // |sharpe_diff_pct| > 5
  std::uint64_t decisions_compared = 0;
  std::uint64_t decisions_differ = 0;  // signal differs at the same seq
  double pnl_diff = 0;              // run.pnl_net - baseline.pnl_net
  double pnl_in_disagreement = 0;   // the part of pnl_diff accrued while the two signals differed
};

struct BacktestResult {
  std::string title;
  std::string machine;              // lscpu model name
  std::string command;              // the command line that produced it
  std::uint64_t seed = 0;
  std::vector<std::string> data_files;
  std::string config_toml;          // the effective configuration, echoed
  std::int64_t start_ns = 0, end_ns = 0;  // replayed span
  std::vector<EngineRun> runs;
  std::vector<Comparison> comparisons;
};

// EngineRun::precision from an engine's "tickrt.precision" metadata (infer/quant writes
// "node=int8;node=fp32;..."): the one precision every node has, "mixed" when they differ, "fp32"
// when empty (a plain ONNX model or an fp32 engine). Both run drivers (tick and bar) name runs by it.
std::string precision_from_metadata(const std::string& desc);

// JSON, exact round trip (tested). from_json's errors name the field that is missing or wrong.
std::string to_json(const BacktestResult& r);
Result<BacktestResult> from_json(const std::string& text);

}  // namespace tickrt::backtest
