// `tickrt report <result.json> -o <dir>`: re-render a saved backtest result (report.html + CSVs +
// result.json), optionally recomputing the metrics and comparisons with another capital, return
// period or baseline. Thin: the work is backtest::finalize and backtest::write_report.
#include <CLI/CLI.hpp>

#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>

#include "backtest/metrics.hpp"
#include "backtest/report.hpp"
#include "commands.hpp"

namespace tickrt::cli {

namespace {

[[noreturn]] void report_fail(const std::string& msg, int rc = 1) {
  std::cerr << "tickrt report: " << msg << "\n";
  throw CLI::RuntimeError(rc);
}

// "auto", or <n><unit> with unit ms, s, m, h, d.
bool parse_period(const std::string& s, std::int64_t& ns) {
  if (s == "auto") {
    ns = 0;
    return true;
  }
  std::size_t pos = 0;
  long long v = 0;
  try {
    v = std::stoll(s, &pos);
  } catch (...) {
    return false;
  }
  const std::string unit = s.substr(pos);
  const long long mul = unit == "ms" ? 1'000'000LL : unit == "s" ? 1'000'000'000LL : unit == "m" ? 60'000'000'000LL
                        : unit == "h" ? 3'600'000'000'000LL : unit == "d" ? 86'400'000'000'000LL : 0;
  if (v <= 0 || mul == 0) return false;
  ns = v * mul;
  return true;
}

}  // namespace

void register_report(CLI::App& app) {
  struct Opts {
    std::string input, out;
    bool recompute = false;
    double capital = 0;
    std::string period = "auto";
    std::string baseline = "fp32";
    double flag_pct = 5.0;
    bool no_twins = false;
    std::size_t max_points = 2000;
  };
  auto o = std::make_shared<Opts>();
  CLI::App* cmd = app.add_subcommand("report", "Render a saved backtest result.json as report.html + CSVs (docs/BACKTEST.md)");
  cmd->add_option("result", o->input, "result.json written by `tickrt backtest` (or a distributed run)")->required();
  cmd->add_option("-o,--out", o->out, "Output directory (created; its report files are replaced)")->required();
  cmd->add_flag("--recompute", o->recompute,
                "Recompute every metric and comparison from the fills/equity/decisions (with the options below)");
  cmd->add_option("--capital", o->capital, "--recompute: capital for returns and drawdown % (default: the saved one)");
  cmd->add_option("--period", o->period, "--recompute: return period: auto (1s under a day, else 1m) or <n>ms|s|m|h|d")
      ->capture_default_str();
  cmd->add_option("--baseline", o->baseline, "Precision of the baseline run (--recompute; and the page's wording)")
      ->capture_default_str();
  cmd->add_option("--flag-pct", o->flag_pct, "Flag a Sharpe differing from the baseline by more, % (--recompute; wording)")
      ->capture_default_str();
  cmd->add_flag("--no-latency-twins", o->no_twins, "--recompute: leave out the run vs zero-latency twin comparisons");
  cmd->add_option("--max-points", o->max_points, "Points per curve drawn in the page (the CSVs keep all)")
      ->capture_default_str();
  cmd->footer(
      "Writes report.html (one file, works offline), result.json, runs.csv, comparison.csv, fills.csv,\n"
      "round_trips.csv and equity.csv into the output directory.\n\n"
      "Examples:\n"
      "  tickrt report bt-out/result.json -o /tmp/bt-view\n"
      "  tickrt report bt-out/result.json -o /tmp/bt-1m --recompute --period 1m --capital 50000\n"
      "  tickrt report merged.json -o report/ --recompute --baseline fp16 --flag-pct 10\n"
      "Exit codes: 0 ok, 1 unreadable or invalid result (the field is named), 2 usage.");
  cmd->callback([o] {
    std::ifstream in(o->input, std::ios::binary);
    if (!in) report_fail(o->input + ": cannot open");
    std::stringstream ss;
    ss << in.rdbuf();
    Result<backtest::BacktestResult> got = backtest::from_json(ss.str());
    if (!got.ok()) report_fail(o->input + ": " + got.status().message());
    backtest::BacktestResult r = std::move(got.value());
    if (o->recompute) {
      backtest::MetricsConfig mc;
      mc.capital = o->capital;
      if (mc.capital == 0)
        for (const auto& run : r.runs)
          if (run.metrics.capital > 0) {
            mc.capital = run.metrics.capital;
            break;
          }
      if (mc.capital == 0) mc.capital = backtest::MetricsConfig{}.capital;
      if (!parse_period(o->period, mc.period_ns))
        report_fail("--period '" + o->period + "': want auto or <n>ms|s|m|h|d", 2);
      backtest::CompareConfig cc;
      cc.baseline_precision = o->baseline;
      cc.flag_pct = o->flag_pct;
      cc.latency_twins = !o->no_twins;
      if (Status st = backtest::finalize(r, mc, cc); !st.ok()) report_fail(o->input + ": " + st.message());
    }
    backtest::ReportOptions ro;
    ro.max_points_per_curve = o->max_points;
    ro.baseline_precision = o->baseline;
    ro.flag_pct = o->flag_pct;
    if (Status st = backtest::write_report(r, o->out, ro); !st.ok()) report_fail(st.message());
    std::cout << o->out << "/report.html (" << r.runs.size() << " runs, " << r.comparisons.size()
              << " comparisons) and its CSV/JSON\n";
  });
}

}  // namespace tickrt::cli
