// backtest/metrics.cpp — see metrics.hpp for every definition.
#include "backtest/metrics.hpp"

#include <algorithm>
#include <cmath>
#include <deque>
#include <map>
#include <numeric>

namespace tickrt::backtest {

namespace {

constexpr std::int64_t kSecond = 1'000'000'000;
constexpr std::int64_t kDay = 86'400 * kSecond;
constexpr double kSecondsPerYear = 365.0 * 86'400.0;

bool finite(double x) { return std::isfinite(x); }

// Net equity at time t: the last point with ts <= t, 0 before the first (the account starts flat).
// `hint` walks forward for monotone queries (resampling), so the whole grid is one pass.
double equity_at(const std::vector<EquityPoint>& eq, std::int64_t t, std::size_t& hint) {
  while (hint < eq.size() && eq[hint].ts_ns <= t) ++hint;
  return hint == 0 ? 0.0 : eq[hint - 1].equity;
}

double equity_at(const std::vector<EquityPoint>& eq, std::int64_t t) {
  auto it = std::upper_bound(eq.begin(), eq.end(), t,
                             [](std::int64_t v, const EquityPoint& p) { return v < p.ts_ns; });
  return it == eq.begin() ? 0.0 : std::prev(it)->equity;
}

std::string fmt_number(double x) {
  // Integers print without a fraction ("10000"), others with up to 6 significant digits.
  char buf[64];
  if (x == std::floor(x) && std::fabs(x) < 1e15) std::snprintf(buf, sizeof buf, "%.0f", x);
  else std::snprintf(buf, sizeof buf, "%.6g", x);
  return buf;
}

std::string period_words(std::int64_t p) {
  if (p % kDay == 0) return fmt_number(double(p / kDay)) + "-day";
  if (p % (3600 * kSecond) == 0) return fmt_number(double(p / (3600 * kSecond))) + "-hour";
  if (p % (60 * kSecond) == 0) return fmt_number(double(p / (60 * kSecond))) + "-minute";
  if (p % kSecond == 0) return fmt_number(double(p / kSecond)) + "-second";
  if (p % 1'000'000 == 0) return fmt_number(double(p / 1'000'000)) + "-millisecond";
  return fmt_number(double(p)) + "-ns";
}

}  // namespace

std::int64_t resolve_period_ns(const MetricsConfig& cfg, std::int64_t span_ns) {
  if (cfg.period_ns > 0) return cfg.period_ns;
  return span_ns < kDay ? kSecond : 60 * kSecond;
}

std::string annualisation_text(std::int64_t period_ns, double capital) {
  const double ppy = kSecondsPerYear * 1e9 / double(period_ns);
  return period_words(period_ns) + " returns of net equity / capital " + fmt_number(capital) +
         ", x sqrt(" + fmt_number(ppy) + ") periods per year (24/7 market, 365 days, risk-free rate 0)";
}

std::vector<double> resample_equity(const std::vector<EquityPoint>& equity, std::int64_t start_ns,
                                    std::int64_t end_ns, std::int64_t period_ns) {
  std::vector<double> grid;
  if (period_ns <= 0 || end_ns < start_ns) return grid;
  const std::int64_t k_max = (end_ns - start_ns) / period_ns;
  grid.reserve(std::size_t(k_max) + 1);
  std::size_t hint = 0;
  for (std::int64_t k = 0; k <= k_max; ++k) grid.push_back(equity_at(equity, start_ns + k * period_ns, hint));
  return grid;
}

std::vector<RoundTrip> round_trips(const std::vector<Fill>& fills) {
  struct Lot {
    int side;
    double qty, price, fee_per_qty;
    std::int64_t ts;
  };
  std::map<std::string, std::deque<Lot>> open;  // per symbol; all lots of one symbol share a side
  std::vector<RoundTrip> out;
  for (const Fill& f : fills) {
    auto& lots = open[f.symbol];
    const double fee_per_qty = f.qty > 0 ? f.fee / f.qty : 0.0;
    double left = f.qty;
    // Close the oldest opposite lots first.
    while (left > 0 && !lots.empty() && lots.front().side != f.side) {
      Lot& lot = lots.front();
      const double q = std::min(left, lot.qty);
      RoundTrip rt;
      rt.symbol = f.symbol;
      rt.side = lot.side;
      rt.qty = q;
      rt.entry_price = lot.price;
      rt.exit_price = f.price;
      rt.entry_ts_ns = lot.ts;
      rt.exit_ts_ns = f.ts_ns;
      rt.pnl = (f.price - lot.price) * q * lot.side - (lot.fee_per_qty + fee_per_qty) * q;
      out.push_back(std::move(rt));
      lot.qty -= q;
      left -= q;
      // A residue below a billionth of the fill is rounding of the subtraction, not a lot.
      if (lot.qty <= 1e-12 * std::max(1.0, f.qty)) lots.pop_front();
    }
    if (left > 1e-12 * std::max(1.0, f.qty)) lots.push_back({f.side, left, f.price, fee_per_qty, f.ts_ns});
  }
  return out;
}

Result<Metrics> compute_metrics(const EngineRun& run, const MetricsConfig& cfg) {
  const std::string where = "run '" + run.name + "': ";
  if (!(cfg.capital > 0) || !finite(cfg.capital))
    return Status(Code::invalid_argument, where + "capital must be > 0 (got " + fmt_number(cfg.capital) + ")");
  if (cfg.period_ns < 0) return Status(Code::invalid_argument, where + "period_ns must be >= 0");
  for (std::size_t i = 0; i < run.fills.size(); ++i) {
    const Fill& f = run.fills[i];
    if (!(f.qty > 0) || !finite(f.qty) || !finite(f.price) || !finite(f.fee) || (f.side != 1 && f.side != -1))
      return Status(Code::invalid_argument,
                    where + "fills[" + std::to_string(i) + "]: needs qty > 0, finite price/fee, side +1/-1");
    if (i > 0 && f.ts_ns < run.fills[i - 1].ts_ns)
      return Status(Code::invalid_argument, where + "fills[" + std::to_string(i) + "]: ts_ns before the previous fill");
  }
  for (std::size_t i = 0; i < run.equity.size(); ++i) {
    const EquityPoint& p = run.equity[i];
    if (!finite(p.equity) || !finite(p.gross))
      return Status(Code::invalid_argument, where + "equity[" + std::to_string(i) + "]: not a finite number");
    if (i > 0 && p.ts_ns < run.equity[i - 1].ts_ns)
      return Status(Code::invalid_argument, where + "equity[" + std::to_string(i) + "]: ts_ns before the previous point");
  }

  Metrics m;
  m.capital = cfg.capital;
  m.trades = run.fills.size();
  for (const Fill& f : run.fills) {
    m.fees += f.fee;
    m.turnover += f.price * f.qty;
  }
  if (!run.equity.empty()) {
    m.pnl_gross = run.equity.back().gross;
  } else if (!run.fills.empty()) {
    // No marks from the driver: cash flows plus the open position at the last fill price.
    std::map<std::string, std::pair<double, double>> pos;  // symbol -> (qty, last price)
    double cash = 0;
    for (const Fill& f : run.fills) {
      cash -= f.side * f.price * f.qty;
      pos[f.symbol].first += f.side * f.qty;
      pos[f.symbol].second = f.price;
    }
    for (const auto& [sym, qp] : pos) cash += qp.first * qp.second;
    m.pnl_gross = cash;
  }
  m.pnl_net = m.pnl_gross - m.fees;
  m.turnover_x = m.turnover / cfg.capital;

  // Drawdown over every point (the peak starts at the starting equity, 0).
  double peak = 0, dd = 0;
  for (const EquityPoint& p : run.equity) {
    peak = std::max(peak, p.equity);
    dd = std::max(dd, peak - p.equity);
  }
  m.max_drawdown = dd;
  m.max_drawdown_pct = dd / cfg.capital * 100.0;

  // Returns on the fixed grid.
  std::int64_t start = cfg.start_ns, end = cfg.end_ns;
  if (start == 0 && !run.equity.empty()) start = run.equity.front().ts_ns;
  if (end == 0 && !run.equity.empty()) end = run.equity.back().ts_ns;
  if (end < start)
    return Status(Code::invalid_argument, where + "end_ns " + std::to_string(end) + " before start_ns " + std::to_string(start));
  const std::int64_t period = resolve_period_ns(cfg, end - start);
  m.annualisation = annualisation_text(period, cfg.capital);
  const std::vector<double> grid = resample_equity(run.equity, start, end, period);
  if (grid.size() >= 3) {  // two returns at least
    const std::size_t n = grid.size() - 1;
    std::vector<double> r(n);
    for (std::size_t k = 0; k < n; ++k) r[k] = (grid[k + 1] - grid[k]) / cfg.capital;
    const double mean = std::accumulate(r.begin(), r.end(), 0.0) / double(n);
    double ss = 0, down = 0;
    for (double x : r) {
      ss += (x - mean) * (x - mean);
      if (x < 0) down += x * x;
    }
    const double sd = std::sqrt(ss / double(n - 1));
    const double dsd = std::sqrt(down / double(n));
    const double ann = std::sqrt(kSecondsPerYear * 1e9 / double(period));
    // A tiny stdev from rounding of a flat curve is still flat: compare against the returns' scale.
    if (sd > 1e-15) m.sharpe = mean / sd * ann;
    if (dsd > 1e-15) m.sortino = mean / dsd * ann;
  }

  const std::vector<RoundTrip> rts = round_trips(run.fills);
  m.round_trips = rts.size();
  if (!rts.empty()) {
    std::size_t wins = 0;
    double hold = 0;
    for (const RoundTrip& rt : rts) {
      wins += rt.pnl > 0 ? 1 : 0;
      hold += double(rt.exit_ts_ns - rt.entry_ts_ns) * 1e-9;
    }
    m.hit_rate = double(wins) / double(rts.size());
    m.avg_holding_s = hold / double(rts.size());
  }
  return m;
}

namespace {

std::vector<Decision> sorted_by_seq(const std::vector<Decision>& d) {
  std::vector<Decision> out = d;
  if (!std::is_sorted(out.begin(), out.end(), [](const Decision& a, const Decision& b) { return a.seq < b.seq; }))
    std::stable_sort(out.begin(), out.end(), [](const Decision& a, const Decision& b) { return a.seq < b.seq; });
  return out;
}

Comparison compare_pair(const EngineRun& base, const EngineRun& run, double flag_pct) {
  Comparison c;
  c.baseline = base.name;
  c.run = run.name;
  c.sharpe_baseline = base.metrics.sharpe;
  c.sharpe_run = run.metrics.sharpe;
  if (base.metrics.sharpe != 0)
    c.sharpe_diff_pct = (run.metrics.sharpe - base.metrics.sharpe) / std::fabs(base.metrics.sharpe) * 100.0;
  c.sharpe_flag = std::fabs(c.sharpe_diff_pct) > flag_pct;
  c.pnl_diff = run.metrics.pnl_net - base.metrics.pnl_net;

  const std::vector<Decision> a = sorted_by_seq(base.decisions);
  const std::vector<Decision> b = sorted_by_seq(run.decisions);
  // Matched decisions: (ts from the baseline, signals of both).
  struct M { std::int64_t ts; bool differ; };
  std::vector<M> matched;
  for (std::size_t i = 0, j = 0; i < a.size() && j < b.size();) {
    if (a[i].seq < b[j].seq) ++i;
    else if (b[j].seq < a[i].seq) ++j;
    else {
      matched.push_back({a[i].ts_ns, a[i].signal != b[j].signal});
      ++i, ++j;
    }
  }
  c.decisions_compared = matched.size();
  for (std::size_t k = 0; k < matched.size(); ++k) {
    if (!matched[k].differ) continue;
    ++c.decisions_differ;
    const std::int64_t t0 = matched[k].ts;
    // The interval ends at the next matched decision; after the last one, at the end of both curves.
    double run_end, base_end;
    if (k + 1 < matched.size()) {
      run_end = equity_at(run.equity, matched[k + 1].ts - 1);
      base_end = equity_at(base.equity, matched[k + 1].ts - 1);
    } else {
      run_end = run.equity.empty() ? 0.0 : run.equity.back().equity;
      base_end = base.equity.empty() ? 0.0 : base.equity.back().equity;
    }
    const double run_d = run_end - equity_at(run.equity, t0 - 1);
    const double base_d = base_end - equity_at(base.equity, t0 - 1);
    c.pnl_in_disagreement += run_d - base_d;
  }
  return c;
}

}  // namespace

std::vector<Comparison> compare_runs(const std::vector<EngineRun>& runs, const CompareConfig& cfg) {
  std::vector<Comparison> out;
  for (std::size_t i = 0; i < runs.size(); ++i) {
    const EngineRun& run = runs[i];
    if (run.precision == cfg.baseline_precision) continue;
    for (std::size_t j = 0; j < runs.size(); ++j) {
      if (runs[j].precision == cfg.baseline_precision && runs[j].zero_latency == run.zero_latency) {
        out.push_back(compare_pair(runs[j], run, cfg.flag_pct));
        break;
      }
    }
  }
  if (cfg.latency_twins) {
    for (const EngineRun& run : runs) {
      if (run.zero_latency) continue;
      for (const EngineRun& twin : runs) {
        if (twin.zero_latency && twin.engine == run.engine && twin.precision == run.precision) {
          out.push_back(compare_pair(twin, run, cfg.flag_pct));
          break;
        }
      }
    }
  }
  return out;
}

bool is_latency_comparison(const BacktestResult& r, const Comparison& c) {
  const EngineRun* a = nullptr;
  const EngineRun* b = nullptr;
  for (const EngineRun& run : r.runs) {
    if (run.name == c.baseline) a = &run;
    if (run.name == c.run) b = &run;
  }
  return a && b && a->zero_latency != b->zero_latency;
}

Status finalize(BacktestResult& r, const MetricsConfig& mcfg, const CompareConfig& ccfg) {
  MetricsConfig m = mcfg;
  if (m.start_ns == 0) m.start_ns = r.start_ns;
  if (m.end_ns == 0) m.end_ns = r.end_ns;
  for (EngineRun& run : r.runs) {
    Result<Metrics> got = compute_metrics(run, m);
    if (!got.ok()) return got.status();
    run.metrics = std::move(got.value());
  }
  r.comparisons = compare_runs(r.runs, ccfg);
  return Status::Ok();
}

}  // namespace tickrt::backtest
