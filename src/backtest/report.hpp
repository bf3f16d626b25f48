// backtest/report.hpp — renders a BacktestResult for people: one self-contained HTML file plus CSV
// and JSON beside it.
//
// Who calls: `tickrt backtest` (and the bar backtester) after finalize() (backtest/metrics.hpp);
// `tickrt report <result.json> -o <dir>` to re-render a saved result. Offline path.
//
// write_report(r, dir) creates `dir` (and parents) and writes:
//   report.html      one file, works offline: no CDN, no external fetch, no file beside it needed.
//                    Tables are plain HTML written here (readable without JavaScript); the charts
//                    are drawn into inline <svg> elements by a small inline script from a JSON block
//                    embedded in the page (<script type="application/json" id="report-data">).
//   result.json      to_json(r) (exact round trip; re-render with `tickrt report`)
//   runs.csv         one row per run: every Metrics field, the counters, and mean/p50/p99/max of
//                    each latency distribution present in any run (<name>_p50_ns, ...)
//   comparison.csv   one row per Comparison, with kind = precision | latency
//   fills.csv        every fill of every run
//   round_trips.csv  the FIFO round trips the hit rate and holding time come from
//   equity.csv       every equity point of every run (the charts use a reduced copy)
//
// Stable hooks for tests and scripts (documented in docs/BACKTEST.md "Report"):
//   #meta (title, machine, command, seed, data files), #annualisation,
//   table#comparison (tr[data-run][data-baseline][data-kind][data-flag="1|0"]),
//   table#metrics (tr[data-run] > td[data-metric=<Metrics field>][data-value=<exact>]),
//   svg#chart-equity and svg#chart-drawdown (path.series[data-run] with the curve in `d`),
//   svg.hist[data-run][data-latency] under #latency (rect.bar per non-empty bucket).
//   The script sets data-rendered="1" and data-series=<n> on every chart it drew, and
//   body[data-report] = "rendered" when all charts are drawn, or "error: <message>" when it failed.
#pragma once

#include <cstddef>
#include <string>

#include "backtest/result.hpp"
#include "core/status.hpp"

namespace tickrt::backtest {

struct ReportOptions {
  // Each curve is reduced to about this many points for the page (min and max of each time bucket
  // are kept, so spikes and the drawdown's bottom survive); the CSVs keep every point.
  std::size_t max_points_per_curve = 2000;
  // Only the page's wording (the comparisons are already in the result): the baseline and the flag
  // threshold the comparisons were made with (CompareConfig).
  std::string baseline_precision = "fp32";
  double flag_pct = 5.0;
};

std::string render_html(const BacktestResult& r, const ReportOptions& opt = {});
std::string runs_csv(const BacktestResult& r);
std::string comparison_csv(const BacktestResult& r);
std::string fills_csv(const BacktestResult& r);
std::string round_trips_csv(const BacktestResult& r);
std::string equity_csv(const BacktestResult& r);

// Writes every file above into `dir`; the error names the file that could not be written.
Status write_report(const BacktestResult& r, const std::string& dir, const ReportOptions& opt = {});

// How the page prints numbers (the browser test finds them by the same rule): fixed decimals,
// "-" for NaN, "inf"/"-inf".
std::string format_fixed(double v, int decimals);

}  // namespace tickrt::backtest
