// backtest/metrics.hpp — performance metrics of one EngineRun and the engine comparison.
//
// Who calls: a run driver (tick: backtest/backtester.hpp, bars: backtest/bars.hpp) once after all
// runs are replayed, usually through finalize(); `tickrt report --recompute` on a saved result.
// Offline path: allocates freely, never on the replay hot path. Pure functions of their inputs:
// the same runs give the same numbers bit for bit (no wall clock, no randomness).
//
// Definitions (stated once here, echoed in Metrics::annualisation and docs/BACKTEST.md "Metrics"):
//   * PnL: pnl_gross = the last EquityPoint's `gross` (realised + unrealised before fees, marked at
//     that point's mid); fees = sum of Fill::fee (negative = rebates); pnl_net = pnl_gross - fees.
//     No equity points: gross from the fills marked at the last fill price.
//   * Returns: net equity as a step function (each EquityPoint holds until the next; 0 before the
//     first) sampled on a fixed grid start, start+P, start+2P, ... <= end; r_k = (E_k - E_{k-1}) /
//     capital. A trailing partial period is left out of the returns (it is in the PnL).
//     P = MetricsConfig::period_ns; 0 = auto: 1 s when the span is under one day (the tick captures
//     are minutes long: 1-minute returns would be a handful), else 60 s.
//   * Sharpe = mean(r) / stdev(r) x sqrt(periods per year), stdev with n-1; periods per year =
//     365 x 86400 s / P (a 24/7 market, no risk-free rate). Sortino = mean(r) / sqrt(mean(min(r,0)^2))
//     x the same factor (target return 0, downside over all n periods). Both 0 with fewer than two
//     returns or a zero denominator (never NaN/inf: a flat run has Sharpe 0).
//   * Max drawdown: the largest fall of net equity from its running peak over every EquityPoint
//     (the peak starts at 0, the starting equity), quote units; max_drawdown_pct = that / capital x 100.
//   * Turnover = sum(price x qty) over fills; turnover_x = turnover / capital.
//   * Round trips: per symbol, FIFO lots. A fill against the open position closes the oldest lots
//     first; each (lot piece, closing fill) pair is one round trip with PnL = (exit - entry) x qty x
//     lot side minus both fills' fees pro rata by quantity; a fill larger than the position closes it
//     and opens a new lot with the rest (a flip). hit_rate = round trips with PnL > 0 / round trips
//     (unweighted); avg_holding_s = mean(exit ts - entry ts) over round trips (unweighted). Lots still
//     open at the end are not round trips.
//   * Comparison (compare_runs): see its comment.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "backtest/result.hpp"
#include "core/status.hpp"

namespace tickrt::backtest {

struct MetricsConfig {
  double capital = 10'000;          // quote units the returns and drawdown % are measured against
  std::int64_t period_ns = 0;       // return period; 0 = auto (see above)
  // The grid the returns are sampled on. 0 = the run's first/last EquityPoint. finalize() sets both
  // from BacktestResult::start_ns/end_ns so every run of one backtest shares one grid.
  std::int64_t start_ns = 0, end_ns = 0;
};

struct CompareConfig {
  std::string baseline_precision = "fp32";  // EngineRun::precision of the baseline run
  double flag_pct = 5.0;                    // flag when |Sharpe diff %| exceeds this
  // Also compare each run with its zero-latency twin (same engine path and precision,
  // zero_latency = true, the baseline): the cost of speed alone, precision held fixed.
  bool latency_twins = true;
};

// One FIFO round trip (exposed for the tests and the report's CSV).
struct RoundTrip {
  std::string symbol;
  int side = 0;                 // +1 long lot, -1 short lot
  double qty = 0;
  double entry_price = 0, exit_price = 0;
  std::int64_t entry_ts_ns = 0, exit_ts_ns = 0;
  double pnl = 0;               // net of both fills' fees pro rata
};

// FIFO round trips of `fills` in their order (fills must be in time order; they are from a driver).
std::vector<RoundTrip> round_trips(const std::vector<Fill>& fills);

// The resolved return period for a span (applies the auto rule).
std::int64_t resolve_period_ns(const MetricsConfig& cfg, std::int64_t span_ns);
// The sentence stored in Metrics::annualisation, e.g.
// "1-second returns of net equity / capital 10000, x sqrt(31536000) periods per year (24/7 market)".
std::string annualisation_text(std::int64_t period_ns, double capital);

// Net equity resampled on the grid (E_0 .. E_K); returns are the successive differences / capital.
std::vector<double> resample_equity(const std::vector<EquityPoint>& equity, std::int64_t start_ns,
                                    std::int64_t end_ns, std::int64_t period_ns);

// Every metric of one run. Errors: capital <= 0 or not finite, period < 0, end < start, a fill with
// qty <= 0 / a non-finite number / side not +-1 (named by index), equity not in time order.
Result<Metrics> compute_metrics(const EngineRun& run, const MetricsConfig& cfg);

// Each run against its baseline (runs must have `metrics` filled):
//   * precision comparisons: the run whose precision == baseline_precision and whose zero_latency
//     equals this run's (the first such run; none -> no comparison for this run);
//   * latency comparisons (latency_twins): a run with zero_latency = false against its twin with the
//     same engine path and precision and zero_latency = true.
// Per comparison: sharpe_diff_pct = (run - base) / |base| x 100 (0 when base Sharpe is 0), flag when
// |diff| > flag_pct; decisions matched by seq (both sorted by seq), counted and compared by signal;
// pnl_diff = run.pnl_net - base.pnl_net; pnl_in_disagreement: the time between consecutive matched
// decisions [ts_i, ts_i+1) is one interval where the two signals are (base_i, run_i); the difference
// of the two runs' net equity changes over it counts as "disagreement" PnL when the signals differ.
// Before the first and after the last matched decision counts as agreement; so the agreement and
// disagreement parts add up to pnl_diff (up to rounding) when each run's final equity is its pnl_net.
std::vector<Comparison> compare_runs(const std::vector<EngineRun>& runs, const CompareConfig& cfg = {});

// A precision comparison (same zero_latency on both sides) or a latency one (run vs its 0-latency twin).
bool is_latency_comparison(const BacktestResult& r, const Comparison& c);

// compute_metrics for every run (grid from r.start_ns/end_ns when set) then compare_runs into
// r.comparisons. The error names the run.
Status finalize(BacktestResult& r, const MetricsConfig& mcfg = {}, const CompareConfig& ccfg = {});

}  // namespace tickrt::backtest
