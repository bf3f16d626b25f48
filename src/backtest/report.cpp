// backtest/report.cpp — see report.hpp for what is written and the hooks the tests rely on.
#include "backtest/report.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cctype>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "backtest/metrics.hpp"

namespace tickrt::backtest {

namespace {

// ---- small formatting helpers ---------------------------------------------------------------
// Shortest text that reads back to the same double (CSV and the embedded chart data).
std::string num(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "Infinity" : "-Infinity";
  char buf[32];
  auto res = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, res.ptr);
}
// Chart data needs ~6 digits, not 17: a third of the page size.
std::string num6(double v) {
  if (!std::isfinite(v)) return "null";
  char buf[32];
  auto res = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::general, 6);
  return std::string(buf, res.ptr);
}

// One more CSV cell.
void cell(std::string& s, const std::string& v) {
  s += ',';
  s += v;
}

// item(0), item(1), ... separated by commas.
template <class F>
void join(std::string& out, std::size_t n, F item) {
  for (std::size_t i = 0; i < n; ++i) {
    if (i) out += ',';
    out += item(i);
  }
}

std::string html_escape(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

// A JSON string literal, safe inside <script type="application/json">: "</" cannot close the tag.
std::string json_str(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '<': out += "\\u003c"; break;
      case '>': out += "\\u003e"; break;
      case '&': out += "\\u0026"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += char(c);
        }
    }
  }
  return out + "\"";
}

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string utc(std::int64_t ns) {
  if (ns == 0) return "-";
  std::time_t t = std::time_t(ns / 1'000'000'000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm);
  return buf;
}

std::string basename_of(const std::string& path) {
  const auto slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// ---- per-run derived data for the charts ---------------------------------------------------------
struct Curve {
  std::vector<std::int64_t> t;
  std::vector<double> y;
};

// Keep the first and last point and, per time bucket, the lowest and highest point in time order.
Curve reduce(const Curve& c, std::size_t max_points) {
  const std::size_t n = c.t.size();
  if (n <= max_points || max_points < 4) return c;
  const std::size_t buckets = max_points / 2;
  const double t0 = double(c.t.front()), span = std::max(1.0, double(c.t.back()) - t0);
  std::vector<std::size_t> keep = {0};
  std::size_t i = 1;
  while (i + 1 < n) {
    const std::size_t b = std::min(buckets - 1, std::size_t((double(c.t[i]) - t0) / span * double(buckets)));
    std::size_t lo = i, hi = i;
    std::size_t j = i;
    for (; j + 1 < n; ++j) {
      const std::size_t bj = std::min(buckets - 1, std::size_t((double(c.t[j]) - t0) / span * double(buckets)));
      if (bj != b) break;
      if (c.y[j] < c.y[lo]) lo = j;
      if (c.y[j] > c.y[hi]) hi = j;
    }
    keep.push_back(std::min(lo, hi));
    if (hi != lo) keep.push_back(std::max(lo, hi));
    i = j;
  }
  keep.push_back(n - 1);
  Curve out;
  out.t.reserve(keep.size());
  out.y.reserve(keep.size());
  for (std::size_t k : keep) {
    out.t.push_back(c.t[k]);
    out.y.push_back(c.y[k]);
  }
  return out;
}

struct RunCurves {
  Curve equity, drawdown;
};

RunCurves curves_of(const EngineRun& run, std::int64_t start_ns) {
  RunCurves rc;
  // The account is flat (equity 0) at the start of the span, before the first point (metrics.hpp).
  if (!run.equity.empty() && start_ns != 0 && run.equity.front().ts_ns > start_ns) {
    rc.equity.t.push_back(start_ns);
    rc.equity.y.push_back(0);
  }
  for (const EquityPoint& p : run.equity) {
    rc.equity.t.push_back(p.ts_ns);
    rc.equity.y.push_back(p.equity);
  }
  double peak = 0;
  rc.drawdown.t = rc.equity.t;
  rc.drawdown.y.reserve(rc.equity.y.size());
  for (double e : rc.equity.y) {
    peak = std::max(peak, e);
    rc.drawdown.y.push_back(e - peak);
  }
  return rc;
}

bool same_curve(const std::vector<EquityPoint>& a, const std::vector<EquityPoint>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (a[i].ts_ns != b[i].ts_ns || a[i].equity != b[i].equity) return false;
  return true;
}

// Same colour for an engine and its zero-latency twin (the twin is dashed).
const char* const kPalette[] = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e",
                                "#17becf", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22"};

std::vector<std::string> run_colours(const BacktestResult& r) {
  std::map<std::string, std::size_t> key_index;
  std::vector<std::string> out;
  for (const EngineRun& run : r.runs) {
    const std::string key = run.engine + "\x1f" + run.precision;
    auto [it, inserted] = key_index.emplace(key, key_index.size());
    out.push_back(kPalette[it->second % (sizeof kPalette / sizeof kPalette[0])]);
  }
  return out;
}

std::int64_t span_start(const BacktestResult& r) {
  if (r.start_ns != 0) return r.start_ns;
  std::int64_t s = 0;
  for (const EngineRun& run : r.runs)
    if (!run.equity.empty() && (s == 0 || run.equity.front().ts_ns < s)) s = run.equity.front().ts_ns;
  return s;
}
std::int64_t span_end(const BacktestResult& r) {
  if (r.end_ns != 0) return r.end_ns;
  std::int64_t e = 0;
  for (const EngineRun& run : r.runs)
    if (!run.equity.empty()) e = std::max(e, run.equity.back().ts_ns);
  return e;
}

std::vector<std::string> latency_names(const BacktestResult& r) {
  std::vector<std::string> names;
  for (const EngineRun& run : r.runs)
    for (const LatencySummary& l : run.latency)
      if (std::find(names.begin(), names.end(), l.name) == names.end()) names.push_back(l.name);
  return names;
}

// ---- the page ----------------------------------------------------------------------------------
constexpr const char* kStyle = R"CSS(
:root { --fg:#1d232a; --muted:#5b6673; --line:#d8dee4; --bg:#fff; --flag:#fde2e1; --flagfg:#a4161a; --ok:#e6f4ea; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; color: var(--fg);
       background: var(--bg); margin: 0 auto; padding: 20px 28px 40px; max-width: 1280px; }
h1 { font-size: 22px; margin: 0 0 8px; } h2 { font-size: 17px; margin: 28px 0 8px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
h3 { font-size: 14px; margin: 14px 0 4px; }
dl.meta { display: grid; grid-template-columns: max-content 1fr; gap: 2px 14px; margin: 0; }
dl.meta dt { color: var(--muted); } dl.meta dd { margin: 0; overflow-wrap: anywhere; }
code { font: 12px/1.4 ui-monospace, "DejaVu Sans Mono", monospace; background: #f3f5f7; padding: 1px 4px; border-radius: 3px; }
pre { font: 12px/1.4 ui-monospace, "DejaVu Sans Mono", monospace; background: #f3f5f7; padding: 8px; overflow: auto; max-height: 360px; }
table { border-collapse: collapse; margin: 6px 0; font-variant-numeric: tabular-nums; }
th, td { border-bottom: 1px solid var(--line); padding: 3px 7px; text-align: right; white-space: nowrap; }
th { background: #f6f8fa; font-weight: 600; white-space: normal; vertical-align: bottom; }
.scroll { overflow-x: auto; max-width: 100%; }
td.l, th.l { text-align: left; }
tr.flagged td.diff, td.flag { background: var(--flag); color: var(--flagfg); font-weight: 600; }
td.okflag { color: var(--muted); }
.neg { color: #b42318; } .pos { color: #067647; }
p.note { color: var(--muted); margin: 4px 0; max-width: 980px; }
.chart { width: 100%; height: auto; display: block; border: 1px solid var(--line); border-radius: 4px; }
.legend { display: flex; flex-wrap: wrap; gap: 4px 18px; margin: 6px 0; }
.legend span.sw { display: inline-block; width: 26px; height: 0; border-top: 3px solid; vertical-align: middle; margin-right: 6px; }
.legend span.sw.dash { border-top-style: dashed; }
.hists { display: grid; grid-template-columns: repeat(auto-fill, minmax(300px, 1fr)); gap: 8px 14px; }
figure { margin: 0; } figcaption { font-size: 12px; color: var(--muted); }
svg text { font: 11px system-ui, "DejaVu Sans", sans-serif; fill: #444; }
svg .grid { stroke: #eceff2; } svg .zero { stroke: #9aa4ae; } svg .axis { stroke: #9aa4ae; }
svg path.series { fill: none; stroke-width: 1.6; } svg rect.bar { fill: #4c78a8; }
svg line.p50 { stroke: #2ca02c; stroke-dasharray: 3 2; } svg line.p99 { stroke: #d62728; stroke-dasharray: 3 2; }
footer { margin-top: 30px; color: var(--muted); font-size: 12px; }
)CSS";

// Draws every chart from #report-data. Plain ES2017, no library, nothing fetched.
constexpr const char* kScript = R"JS(
(function () {
  "use strict";
  var NS = "http://www.w3.org/2000/svg";
  function el(tag, attrs, parent, text) {
    var e = document.createElementNS(NS, tag);
    for (var k in attrs) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    if (parent) parent.appendChild(e);
    return e;
  }
  function ticks(lo, hi, n) {
    var step0 = (hi - lo) / n, mag = Math.pow(10, Math.floor(Math.log10(step0))), r = step0 / mag;
    var step = (r < 1.5 ? 1 : r < 3 ? 2 : r < 7 ? 5 : 10) * mag, out = [];
    for (var v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Math.abs(v) < step * 1e-9 ? 0 : v);
    return out;
  }
  function fmt(v) {
    var a = Math.abs(v);
    if (a !== 0 && (a >= 1e6 || a < 1e-3)) return v.toExponential(1);
    return String(+v.toFixed(a >= 100 ? 0 : a >= 10 ? 1 : a >= 1 ? 2 : 4));
  }
  function fmtNs(ns) {
    if (ns >= 1e9) return +(ns / 1e9).toPrecision(3) + " s";
    if (ns >= 1e6) return +(ns / 1e6).toPrecision(3) + " ms";
    if (ns >= 1e3) return +(ns / 1e3).toPrecision(3) + " \u00b5s";
    return +ns.toPrecision(3) + " ns";
  }
  function timeUnit(spanS) {
    if (spanS > 2 * 86400) return [86400, "days"];
    if (spanS > 2 * 3600) return [3600, "hours"];
    if (spanS > 120) return [60, "minutes"];
    return [1, "seconds"];
  }
  // series: [{name, color, dash, t: [s], y: [...]}]
  function lineChart(svg, series, yLabel, xLabel) {
    var W = 960, H = 330, L = 74, R = 14, T = 12, B = 40;
    svg.setAttribute("viewBox", "0 0 " + W + " " + H);
    var x0 = Infinity, x1 = -Infinity, y0 = 0, y1 = 0;
    series.forEach(function (s) {
      for (var i = 0; i < s.t.length; i++) {
        if (s.t[i] < x0) x0 = s.t[i]; if (s.t[i] > x1) x1 = s.t[i];
        if (s.y[i] === null) continue;
        if (s.y[i] < y0) y0 = s.y[i]; if (s.y[i] > y1) y1 = s.y[i];
      }
    });
    if (!isFinite(x0)) { x0 = 0; x1 = 1; }
    if (x1 <= x0) x1 = x0 + 1;
    if (y1 <= y0) { y0 -= 1; y1 += 1; }
    var pad = (y1 - y0) * 0.05; y0 -= pad; y1 += pad;
    var unit = timeUnit(x1 - x0);
    var sx = function (v) { return L + (v - x0) / (x1 - x0) * (W - L - R); };
    var sy = function (v) { return T + (y1 - v) / (y1 - y0) * (H - T - B); };
    var g = el("g", {"class": "axes"}, svg);
    ticks(y0, y1, 6).forEach(function (v) {
      el("line", {"class": v === 0 ? "zero" : "grid", x1: L, x2: W - R, y1: sy(v), y2: sy(v)}, g);
      el("text", {x: L - 6, y: sy(v) + 4, "text-anchor": "end"}, g, fmt(v));
    });
    ticks(x0 / unit[0], x1 / unit[0], 10).forEach(function (v) {
      var x = sx(v * unit[0]);
      if (x < L - 0.5 || x > W - R + 0.5) return;
      el("line", {"class": "grid", x1: x, x2: x, y1: T, y2: H - B}, g);
      el("text", {x: x, y: H - B + 15, "text-anchor": "middle"}, g, fmt(v));
    });
    el("line", {"class": "axis", x1: L, x2: L, y1: T, y2: H - B}, g);
    el("line", {"class": "axis", x1: L, x2: W - R, y1: H - B, y2: H - B}, g);
    el("text", {x: (L + W - R) / 2, y: H - 6, "text-anchor": "middle"}, g, unit[1] + " " + xLabel);
    el("text", {x: 14, y: (T + H - B) / 2, "text-anchor": "middle",
                transform: "rotate(-90 14 " + (T + H - B) / 2 + ")"}, g, yLabel);
    var drawn = 0;
    series.forEach(function (s) {
      var d = [];
      for (var i = 0; i < s.t.length; i++) {
        if (s.y[i] === null) continue;
        d.push((d.length ? "L" : "M") + sx(s.t[i]).toFixed(1) + " " + sy(s.y[i]).toFixed(1));
      }
      var p = el("path", {"class": "series", d: d.join(""), stroke: s.color, "data-run": s.name,
                          "data-points": String(d.length)}, svg);
      if (s.dash) p.setAttribute("stroke-dasharray", "6 4");
      el("title", {}, p, s.name);
      if (d.length) drawn++;
    });
    svg.setAttribute("data-series", String(drawn));
    svg.setAttribute("data-rendered", "1");
  }
  function histogram(svg, h) {
    var W = 320, H = 160, L = 8, R = 8, T = 30, B = 30;
    svg.setAttribute("viewBox", "0 0 " + W + " " + H);
    var first = -1, last = -1, max = 0, over = 0;
    for (var i = 0; i < h.counts.length; i++) {
      if (h.counts[i] > 0) { if (first < 0) first = i; last = i; }
    }
    // A few outliers (a page fault, a busy core) would stretch the axis and squeeze the body of the
    // distribution into one bar: draw up to the p99.9 bucket and count the rest as "beyond".
    if (first >= 0 && h.p999 > 0) {
      var cut = first;
      while (cut < last && h.upper[cut] < h.p999) cut++;
      for (var i = cut + 1; i <= last; i++) over += h.counts[i];
      last = cut;
    }
    for (var i = first; first >= 0 && i <= last; i++) if (h.counts[i] > max) max = h.counts[i];
    if (first < 0) {
      el("text", {x: W / 2, y: H / 2, "text-anchor": "middle"}, svg, "no samples");
      svg.setAttribute("data-bars", "0");
      svg.setAttribute("data-rendered", "1");
      return;
    }
    var n = last - first + 1, bw = (W - L - R) / n, bars = 0;
    for (var i = first; i <= last; i++) {
      var c = h.counts[i], bh = c / max * (H - T - B);
      if (c > 0) {
        var r = el("rect", {"class": "bar", x: (L + (i - first) * bw + 0.5).toFixed(1), y: (H - B - bh).toFixed(1),
                            width: Math.max(0.8, bw - 1).toFixed(1), height: Math.max(0.5, bh).toFixed(1)}, svg);
        el("title", {}, r, "\u2264 " + fmtNs(h.upper[i]) + ": " + c);
        bars++;
      }
    }
    var xAt = function (ns) {  // the bucket holding ns, drawn at its middle
      var i = first;
      while (i < last && h.upper[i] < ns) i++;
      return L + (i - first + 0.5) * bw;
    };
    [["p50", h.p50, 11], ["p99", h.p99, 24]].forEach(function (q) {  // one label row each: never overlap
      var x = xAt(q[1]), right = x > W - 110;
      el("line", {"class": q[0], x1: x, x2: x, y1: q[2] + 3, y2: H - B}, svg);
      el("text", {x: right ? x - 3 : x + 3, y: q[2], "text-anchor": right ? "end" : "start"}, svg,
         q[0] + " " + fmtNs(q[1]));
    });
    el("line", {"class": "axis", x1: L, x2: W - R, y1: H - B, y2: H - B}, svg);
    var lo = first > 0 ? h.upper[first - 1] : 0;
    el("text", {x: L, y: H - B + 14, "text-anchor": "start"}, svg, fmtNs(lo));
    el("text", {x: W - R, y: H - B + 14, "text-anchor": "end"}, svg, fmtNs(h.upper[last]));
    // Bars are one bucket each (the driver's buckets, usually log-spaced): tick the powers of ten
    // between the ends so the scale can be read.
    var lastX = L + 50;  // the end labels take ~50 units each
    for (var i = first; i < last; i++) {
      var lg = Math.log10(h.upper[i]);
      if (!(h.upper[i] >= 1) || Math.abs(lg - Math.round(lg)) > 0.01) continue;
      var x = L + (i - first + 1) * bw;
      el("line", {"class": "axis", x1: x, x2: x, y1: H - B, y2: H - B + 4}, svg);
      if (x - lastX < 50 || x > W - R - 66) continue;
      el("text", {x: x, y: H - B + 14, "text-anchor": "middle"}, svg, fmtNs(h.upper[i]));
      lastX = x;
    }
    el("text", {x: W / 2, y: H - 4, "text-anchor": "middle"}, svg,
       "max count " + max + (over ? ", " + over + " beyond p99.9 (max " + fmtNs(h.max) + ")" : ""));
    svg.setAttribute("data-beyond", String(over));
    svg.setAttribute("data-bars", String(bars));
    svg.setAttribute("data-rendered", "1");
  }
  try {
    var data = JSON.parse(document.getElementById("report-data").textContent);
    var xl = "since " + data.start;
    lineChart(document.getElementById("chart-equity"),
              data.runs.map(function (r) { return {name: r.name, color: r.color, dash: r.dash, t: r.t, y: r.eq}; }),
              "net equity (" + data.quote + ")", xl);
    lineChart(document.getElementById("chart-drawdown"),
              data.runs.map(function (r) { return {name: r.name, color: r.color, dash: r.dash, t: r.dt, y: r.dd}; }),
              "drawdown (" + data.quote + ")", xl);
    data.hist.forEach(function (h) { histogram(document.getElementById(h.id), h); });
    document.body.setAttribute("data-report", "rendered");
  } catch (e) {
    document.body.setAttribute("data-report", "error: " + (e && e.message ? e.message : String(e)));
    throw e;
  }
})();
)JS";

void meta_row(std::string& h, const char* key, const std::string& value_html) {
  h += "<dt>";
  h += key;
  h += "</dt><dd>";
  h += value_html;
  h += "</dd>\n";
}

// A number cell with its exact value for scripts and a formatted one for people.
void num_cell(std::string& h, const char* metric, double v, int decimals, bool sign_colour = false) {
  h += "<td data-metric=\"";
  h += metric;
  h += "\" data-value=\"" + num(v) + "\"";
  if (sign_colour && v != 0 && std::isfinite(v)) h += v < 0 ? " class=\"neg\"" : " class=\"pos\"";
  h += ">" + format_fixed(v, decimals) + "</td>";
}
// Money: cents for large amounts, more digits for the small PnL of a short capture (a -0.0054
// difference must not print as -0.01 or 0.00).
int money_decimals(double v) {
  const double a = std::fabs(v);
  return a >= 100 ? 2 : a >= 1 ? 3 : 4;
}

void int_cell(std::string& h, const char* metric, std::uint64_t v) {
  h += "<td data-metric=\"";
  h += metric;
  h += "\" data-value=\"" + std::to_string(v) + "\">" + std::to_string(v) + "</td>";
}

std::string run_label(const EngineRun& run) {
  return html_escape(run.name);
}

void engines_table(std::string& h, const BacktestResult& r, const std::string& base) {
  // One row per engine (engine path + precision): its latency run and its zero-latency twin side by side.
  struct Row { const EngineRun* lat = nullptr; const EngineRun* zero = nullptr; };
  std::vector<std::string> order;
  std::map<std::string, Row> rows;
  for (const EngineRun& run : r.runs) {
    const std::string key = run.engine + "\x1f" + run.precision;
    if (!rows.count(key)) order.push_back(key);
    Row& row = rows[key];
    if (run.zero_latency) { if (!row.zero) row.zero = &run; }
    else if (!row.lat) row.lat = &run;
  }
  auto comparison_of = [&](const EngineRun* run, bool latency_kind) -> const Comparison* {
    if (!run) return nullptr;
    for (const Comparison& c : r.comparisons)
      if (c.run == run->name && is_latency_comparison(r, c) == latency_kind) return &c;
    return nullptr;
  };
  auto diff_cell = [&](const Comparison* c, const char* metric) {
    if (!c) { h += "<td class=\"okflag\">-</td>"; return; }
    h += "<td data-metric=\"";
    h += metric;
    h += "\" data-value=\"" + num(c->sharpe_diff_pct) + "\" data-flag=\"" + (c->sharpe_flag ? "1" : "0") + "\"";
    h += c->sharpe_flag ? " class=\"flag\" title=\"|Sharpe difference| above the flag threshold\">&#9873; "
                        : " class=\"okflag\">";
    h += (c->sharpe_diff_pct > 0 ? "+" : "") + format_fixed(c->sharpe_diff_pct, 1) + "%</td>";
  };
  auto sharpe_cell = [&](const EngineRun* run, const char* metric) {
    if (!run) { h += "<td>-</td>"; return; }
    num_cell(h, metric, run->metrics.sharpe, 2);
  };
  auto pnl_cell = [&](const EngineRun* run, const char* metric) {
    if (!run) { h += "<td>-</td>"; return; }
    num_cell(h, metric, run->metrics.pnl_net, money_decimals(run->metrics.pnl_net), true);
  };
  h += "<div class=\"scroll\"><table id=\"engines\"><thead><tr><th class=\"l\">engine</th><th class=\"l\">precision</th>"
       "<th>Sharpe</th><th>vs " + base + "</th><th>Sharpe @0 lat</th><th>vs " + base + " @0 lat</th>"
       "<th title=\"Sharpe with the measured inference latency vs the same engine with zero latency\">cost of latency</th>"
       "<th>PnL net</th><th>PnL net @0 lat</th></tr></thead><tbody>\n";
  for (const std::string& key : order) {
    const Row& row = rows[key];
    const EngineRun* any = row.lat ? row.lat : row.zero;
    h += "<tr data-engine=\"" + html_escape(any->engine) + "\" data-precision=\"" + html_escape(any->precision) + "\">";
    h += "<td class=\"l\" title=\"" + html_escape(any->engine) + "\">" + html_escape(basename_of(any->engine)) + "</td>";
    h += "<td class=\"l\">" + html_escape(any->precision) + "</td>";
    sharpe_cell(row.lat, "sharpe");
    diff_cell(comparison_of(row.lat, false), "sharpe_diff_pct");
    sharpe_cell(row.zero, "sharpe_zero_latency");
    diff_cell(comparison_of(row.zero, false), "sharpe_diff_pct_zero_latency");
    diff_cell(comparison_of(row.lat, true), "sharpe_latency_cost_pct");
    pnl_cell(row.lat, "pnl_net");
    pnl_cell(row.zero, "pnl_net_zero_latency");
    h += "</tr>\n";
  }
  h += "</tbody></table></div>\n";
}

void comparison_table(std::string& h, const BacktestResult& r, const std::string& base) {
  h += "<div class=\"scroll\"><table id=\"comparison\"><thead><tr><th class=\"l\">kind</th><th class=\"l\">baseline</th><th class=\"l\">run</th>"
       "<th>Sharpe baseline</th><th>Sharpe run</th><th>Sharpe diff %</th><th>flag</th>"
       "<th>decisions compared</th><th>differ</th><th>differ %</th><th>PnL diff</th><th>of which while signals differ</th>"
       "</tr></thead><tbody>\n";
  for (const Comparison& c : r.comparisons) {
    const bool lat = is_latency_comparison(r, c);
    h += "<tr data-baseline=\"" + html_escape(c.baseline) + "\" data-run=\"" + html_escape(c.run) + "\" data-kind=\"" +
         (lat ? "latency" : "precision") + "\" data-flag=\"" + (c.sharpe_flag ? "1" : "0") + "\"" +
         (c.sharpe_flag ? " class=\"flagged\"" : "") + ">";
    h += std::string("<td class=\"l\">") + (lat ? std::string("latency (vs 0-latency twin)") : "precision (vs " + base + ")") + "</td>";
    h += "<td class=\"l\">" + html_escape(c.baseline) + "</td><td class=\"l\">" + html_escape(c.run) + "</td>";
    num_cell(h, "sharpe_baseline", c.sharpe_baseline, 2);
    num_cell(h, "sharpe_run", c.sharpe_run, 2);
    h += "<td class=\"diff\" data-metric=\"sharpe_diff_pct\" data-value=\"" + num(c.sharpe_diff_pct) + "\">" +
         (c.sharpe_diff_pct > 0 ? "+" : "") + format_fixed(c.sharpe_diff_pct, 1) + "%</td>";
    h += c.sharpe_flag ? "<td class=\"flag\" data-metric=\"sharpe_flag\">&#9873; " : "<td class=\"okflag\" data-metric=\"sharpe_flag\">";
    h += c.sharpe_flag ? "flagged</td>" : "-</td>";
    int_cell(h, "decisions_compared", c.decisions_compared);
    int_cell(h, "decisions_differ", c.decisions_differ);
    num_cell(h, "decisions_differ_pct",
             c.decisions_compared ? 100.0 * double(c.decisions_differ) / double(c.decisions_compared) : 0.0, 2);
    num_cell(h, "pnl_diff", c.pnl_diff, money_decimals(c.pnl_diff), true);
    num_cell(h, "pnl_in_disagreement", c.pnl_in_disagreement, money_decimals(c.pnl_in_disagreement), true);
    h += "</tr>\n";
  }
  h += "</tbody></table></div>\n";
}

void metrics_table(std::string& h, const BacktestResult& r, const std::vector<std::string>& colours) {
  h += "<div class=\"scroll\"><table id=\"metrics\"><thead><tr><th class=\"l\">run</th><th class=\"l\">precision</th><th>0 lat</th>"
       "<th>PnL net</th><th>PnL gross</th><th>fees</th><th>Sharpe</th><th>Sortino</th><th>max DD</th><th>max DD %</th>"
       "<th>turnover</th><th>turnover &times;cap</th><th>trades</th><th>round trips</th><th>hit rate %</th>"
       "<th>avg hold s</th><th>capital</th></tr></thead><tbody>\n";
  for (std::size_t i = 0; i < r.runs.size(); ++i) {
    const EngineRun& run = r.runs[i];
    const Metrics& m = run.metrics;
    h += "<tr data-run=\"" + html_escape(run.name) + "\"><td class=\"l\"><span style=\"color:" + colours[i] +
         "\">&#9632;</span> " + run_label(run) + "</td><td class=\"l\">" + html_escape(run.precision) + "</td><td>" +
         (run.zero_latency ? "yes" : "no") + "</td>";
    num_cell(h, "pnl_net", m.pnl_net, money_decimals(m.pnl_net), true);
    num_cell(h, "pnl_gross", m.pnl_gross, money_decimals(m.pnl_gross), true);
    num_cell(h, "fees", m.fees, money_decimals(m.fees));
    num_cell(h, "sharpe", m.sharpe, 2);
    num_cell(h, "sortino", m.sortino, 2);
    num_cell(h, "max_drawdown", m.max_drawdown, money_decimals(m.max_drawdown));
    num_cell(h, "max_drawdown_pct", m.max_drawdown_pct, 3);
    num_cell(h, "turnover", m.turnover, 0);
    num_cell(h, "turnover_x", m.turnover_x, 2);
    int_cell(h, "trades", m.trades);
    int_cell(h, "round_trips", m.round_trips);
    num_cell(h, "hit_rate", m.hit_rate * 100.0, 1);
    num_cell(h, "avg_holding_s", m.avg_holding_s, 1);
    num_cell(h, "capital", m.capital, 0);
    h += "</tr>\n";
  }
  h += "</tbody></table></div>\n";
}

void counters_table(std::string& h, const BacktestResult& r) {
  h += "<div class=\"scroll\"><table id=\"counters\"><thead><tr><th class=\"l\">run</th><th>events</th><th>samples</th><th>inferences</th>"
       "<th>orders</th><th>cancels</th><th>rejects</th><th>risk refused</th><th>at boundary</th><th>wall s</th><th>events/s</th>"
       "</tr></thead><tbody>\n";
  for (const EngineRun& run : r.runs) {
    const RunCounters& c = run.counters;
    h += "<tr data-run=\"" + html_escape(run.name) + "\"><td class=\"l\">" + run_label(run) + "</td>";
    int_cell(h, "events", c.events);
    int_cell(h, "samples", c.samples);
    int_cell(h, "inferences", c.inferences);
    int_cell(h, "orders", c.orders);
    int_cell(h, "cancels", c.cancels);
    int_cell(h, "rejects", c.rejects);
    int_cell(h, "risk_refused", c.risk_refused);
    int_cell(h, "inferred_at_boundary", c.inferred_at_boundary);
    num_cell(h, "wall_seconds", c.wall_seconds, 3);
    num_cell(h, "events_per_s", c.wall_seconds > 0 ? double(c.events) / c.wall_seconds : 0.0, 0);
    h += "</tr>\n";
  }
  h += "</tbody></table></div>\n";
}

}  // namespace

std::string format_fixed(double v, int decimals) {
  if (std::isnan(v)) return "-";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  std::string s = buf;
  // "-0.00" reads as a loss that is not there.
  if (s[0] == '-' && s.find_first_of("123456789") == std::string::npos) s.erase(0, 1);
  return s;
}

std::string render_html(const BacktestResult& r, const ReportOptions& opt) {
  const std::vector<std::string> colours = run_colours(r);
  std::string base = opt.baseline_precision;  // the table headers say "vs FP32"
  for (char& ch : base) ch = char(std::toupper(static_cast<unsigned char>(ch)));
  base = html_escape(base);
  const std::int64_t start = span_start(r), end = span_end(r);
  std::string h;
  h.reserve(64 * 1024);
  const std::string title = r.title.empty() ? std::string("tickrt backtest") : r.title;
  h += "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
       "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>" +
       html_escape(title) + "</title>\n<style>" + kStyle + "</style></head>\n<body data-report=\"pending\">\n";

  // Header: what produced this.
  h += "<header><h1 id=\"title\">" + html_escape(title) + "</h1>\n<dl class=\"meta\" id=\"meta\">\n";
  meta_row(h, "machine", html_escape(r.machine.empty() ? "-" : r.machine));
  meta_row(h, "command", "<code id=\"command\">" + html_escape(r.command.empty() ? "-" : r.command) + "</code>");
  meta_row(h, "seed", "<span id=\"seed\">" + std::to_string(r.seed) + "</span>");
  {
    const double secs = end > start ? double(end - start) * 1e-9 : 0.0;
    meta_row(h, "span", html_escape(utc(start)) + " &rarr; " + html_escape(utc(end)) + " (" + format_fixed(secs, 1) + " s)");
  }
  std::string files = "<ul id=\"data-files\" style=\"margin:0;padding-left:18px\">";
  for (const std::string& f : r.data_files) files += "<li><code>" + html_escape(f) + "</code></li>";
  files += "</ul>";
  meta_row(h, "data files", r.data_files.empty() ? std::string("-") : files);
  meta_row(h, "runs", std::to_string(r.runs.size()));
  h += "</dl>\n";
  if (!r.config_toml.empty())
    h += "<details><summary>effective configuration</summary><pre id=\"config\">" + html_escape(r.config_toml) +
         "</pre></details>\n";
  h += "</header>\n";

  // The comparison.
  std::string annualisation;
  double capital = 0;
  for (const EngineRun& run : r.runs) {
    if (annualisation.empty()) annualisation = run.metrics.annualisation;
    if (capital == 0) capital = run.metrics.capital;
  }
  h += "<section id=\"comparison-section\"><h2>Engines side by side</h2>\n";
  h += "<p class=\"note\" id=\"annualisation\">Sharpe and Sortino: " +
       html_escape(annualisation.empty() ? std::string("not computed") : annualisation) +
       ". Sharpe = mean / standard deviation of the returns; Sortino uses the downside deviation (target 0). "
       "A flag (&#9873;) marks a Sharpe that differs by more than " + format_fixed(opt.flag_pct, opt.flag_pct == std::floor(opt.flag_pct) ? 0 : 1) +
       "% from the " + base + " run with the same latency "
       "setting; &ldquo;cost of latency&rdquo; compares each engine with its own zero-latency twin (same engine, "
       "inference charged 0 ns), so the effect of speed is apart from the effect of precision.</p>\n";
  engines_table(h, r, base);
  h += "<h3>Comparisons</h3>\n<p class=\"note\">Decisions are matched by sample number; &ldquo;of which while "
       "signals differ&rdquo; is the part of the PnL difference accrued between a decision where the two signals "
       "differed and the next decision.</p>\n";
  comparison_table(h, r, base);
  h += "</section>\n";

  // Charts.
  h += "<section id=\"charts\"><h2>Equity (net of fees)</h2>\n<svg id=\"chart-equity\" class=\"chart\" "
       "role=\"img\" aria-label=\"net equity of every run\"></svg>\n<div class=\"legend\" id=\"legend\">";
  for (std::size_t i = 0; i < r.runs.size(); ++i)
    h += "<span><span class=\"sw" + std::string(r.runs[i].zero_latency ? " dash" : "") + "\" style=\"border-color:" +
         colours[i] + "\"></span>" + run_label(r.runs[i]) + "</span>";
  h += "</div>\n";
  // Runs with the same equity curve are drawn on top of each other: say so, or a reader looks for
  // the hidden line (common: an engine and its zero-latency twin when latency never changed a fill).
  {
    std::vector<bool> done(r.runs.size(), false);
    std::string groups;
    for (std::size_t i = 0; i < r.runs.size(); ++i) {
      if (done[i] || r.runs[i].equity.empty()) continue;
      std::string g = html_escape(r.runs[i].name);
      bool any = false;
      for (std::size_t j = i + 1; j < r.runs.size(); ++j) {
        if (done[j] || !same_curve(r.runs[i].equity, r.runs[j].equity)) continue;
        done[j] = any = true;
        g += " = " + html_escape(r.runs[j].name);
      }
      if (any) groups += (groups.empty() ? "" : "; ") + g;
    }
    if (!groups.empty())
      h += "<p class=\"note\" id=\"identical-curves\">Identical equity curves, drawn on top of each other: " + groups +
           ".</p>\n";
  }
  h += "<h2>Drawdown</h2>\n<svg id=\"chart-drawdown\" class=\"chart\" role=\"img\" "
       "aria-label=\"drawdown of every run from its running peak\"></svg>\n</section>\n";

  h += "<section id=\"metrics-section\"><h2>Metrics</h2>\n";
  metrics_table(h, r, colours);
  h += "<p class=\"note\">PnL in quote units; max DD % and turnover &times;cap are of the capital column. Hit rate and "
       "holding time are over FIFO round trips of the fills (a partial close is its own round trip), net of fees "
       "pro rata.</p>\n</section>\n";

  // Latency histograms: one figure per run and distribution, filled by the script.
  h += "<section id=\"latency-section\"><h2>Latency</h2>\n<p class=\"note\" id=\"latency-note\">What the simulated clock "
       "charged. <b>inference</b> is what a sample's message waited for the model; <b>inference_run</b> is the model's "
       "runs themselves. With <code>[latency] infer_at_boundary</code> (as <code>tickrt run</code>'s default) the model "
       "runs when the clock passes the sample's boundary, before the message that crosses it, so most messages wait "
       "for nothing (the counters' &ldquo;at boundary&rdquo; column).</p>\n<div id=\"latency\">\n";
  std::string hist_json = "[";
  for (std::size_t i = 0; i < r.runs.size(); ++i) {
    const EngineRun& run = r.runs[i];
    h += "<h3>" + run_label(run) + "</h3>\n<div class=\"hists\">\n";
    for (std::size_t k = 0; k < run.latency.size(); ++k) {
      const LatencySummary& l = run.latency[k];
      const std::string id = "hist-" + std::to_string(i) + "-" + std::to_string(k);
      h += "<figure><svg id=\"" + id + "\" class=\"hist chart\" data-run=\"" + html_escape(run.name) +
           "\" data-latency=\"" + html_escape(l.name) + "\"></svg><figcaption><b>" + html_escape(l.name) + "</b> n=" +
           std::to_string(l.count) + " mean " + format_fixed(l.mean_ns / 1e3, 1) + " &micro;s, p50 " +
           format_fixed(l.p50_ns / 1e3, 1) + ", p99 " + format_fixed(l.p99_ns / 1e3, 1) + ", p99.9 " +
           format_fixed(l.p999_ns / 1e3, 1) + ", max " + format_fixed(l.max_ns / 1e3, 1) +
           " &micro;s</figcaption></figure>\n";
      if (hist_json.size() > 1) hist_json += ",";
      hist_json += "{\"id\":" + json_str(id) + ",\"p50\":" + num6(l.p50_ns) + ",\"p99\":" + num6(l.p99_ns) + ",\"p999\":" + num6(l.p999_ns) +
                   ",\"max\":" + num6(l.max_ns) + ",\"upper\":[";
      const std::size_t nb = std::min(l.bucket_upper_ns.size(), l.bucket_counts.size());
      join(hist_json, nb, [&](std::size_t b) { return num6(l.bucket_upper_ns[b]); });
      hist_json += "],\"counts\":[";
      join(hist_json, nb, [&](std::size_t b) { return std::to_string(l.bucket_counts[b]); });
      hist_json += "]}";
    }
    if (run.latency.empty()) h += "<p class=\"note\">no latency recorded</p>\n";
    h += "</div>\n";
  }
  hist_json += "]";
  h += "</div>\n</section>\n";

  h += "<section id=\"counters-section\"><h2>Replay counters</h2>\n";
  counters_table(h, r);
  h += "</section>\n";
  h += "<footer>Written by tickrt (backtest/report.cpp). Beside this file: result.json (re-render with "
       "<code>tickrt report result.json -o DIR</code>), runs.csv, comparison.csv, fills.csv, round_trips.csv, "
       "equity.csv. Times are the replayed clock; equity curves are reduced to at most " +
       std::to_string(opt.max_points_per_curve) + " points each for drawing (the CSV has them all).</footer>\n";

  // Chart data: times in seconds since the span start.
  std::string data = "{\"start\":" + json_str(utc(start)) + ",\"quote\":\"quote units\",\"runs\":[";
  for (std::size_t i = 0; i < r.runs.size(); ++i) {
    const RunCurves rc = curves_of(r.runs[i], start);
    const Curve eq = reduce(rc.equity, opt.max_points_per_curve);
    const Curve dd = reduce(rc.drawdown, opt.max_points_per_curve);
    auto secs = [&](const Curve& c) {
      std::string s = "[";
      join(s, c.t.size(), [&](std::size_t k) { return num6(double(c.t[k] - start) * 1e-9); });
      return s + "]";
    };
    auto ys = [&](const Curve& c) {
      std::string s = "[";
      join(s, c.y.size(), [&](std::size_t k) { return num6(c.y[k]); });
      return s + "]";
    };
    if (i) data += ",";
    data += "{\"name\":" + json_str(r.runs[i].name) + ",\"color\":" + json_str(colours[i]) +
            ",\"dash\":" + (r.runs[i].zero_latency ? "true" : "false") + ",\"t\":" + secs(eq) + ",\"eq\":" + ys(eq) +
            ",\"dt\":" + secs(dd) + ",\"dd\":" + ys(dd) + "}";
  }
  data += "],\"hist\":" + hist_json + "}";
  h += "<script type=\"application/json\" id=\"report-data\">" + data + "</script>\n";
  h += "<script>";
  h += kScript;
  h += "</script>\n</body></html>\n";
  return h;
}

// ---- CSV ----------------------------------------------------------------------------------------
std::string runs_csv(const BacktestResult& r) {
  const std::vector<std::string> lat = latency_names(r);
  std::string s =
      "name,engine,precision,zero_latency,pnl_gross,fees,pnl_net,capital,sharpe,sortino,max_drawdown,"
      "max_drawdown_pct,turnover,turnover_x,hit_rate,trades,round_trips,avg_holding_s,events,samples,inferences,"
      "orders,cancels,rejects,risk_refused,wall_seconds,inferred_at_boundary";
  for (const std::string& n : lat)
    for (const char* q : {"count", "mean_ns", "p50_ns", "p90_ns", "p99_ns", "p999_ns", "max_ns"})
      cell(s, csv_field(n + "_" + q));
  s += ",annualisation\n";
  for (const EngineRun& run : r.runs) {
    const Metrics& m = run.metrics;
    const RunCounters& c = run.counters;
    s += csv_field(run.name) + "," + csv_field(run.engine) + "," + csv_field(run.precision) + "," +
         (run.zero_latency ? "1" : "0");
    for (double v : {m.pnl_gross, m.fees, m.pnl_net, m.capital, m.sharpe, m.sortino, m.max_drawdown,
                     m.max_drawdown_pct, m.turnover, m.turnover_x, m.hit_rate})
      cell(s, num(v));
    cell(s, std::to_string(m.trades));
    cell(s, std::to_string(m.round_trips));
    cell(s, num(m.avg_holding_s));
    for (std::uint64_t v : {c.events, c.samples, c.inferences, c.orders, c.cancels, c.rejects, c.risk_refused})
      cell(s, std::to_string(v));
    cell(s, num(c.wall_seconds));
    cell(s, std::to_string(c.inferred_at_boundary));
    for (const std::string& n : lat) {
      const LatencySummary* l = nullptr;
      for (const LatencySummary& x : run.latency)
        if (x.name == n) l = &x;
      if (!l) { s += ",,,,,,,"; continue; }
      cell(s, std::to_string(l->count));
      for (double v : {l->mean_ns, l->p50_ns, l->p90_ns, l->p99_ns, l->p999_ns, l->max_ns}) cell(s, num(v));
    }
    cell(s, csv_field(m.annualisation));
    s += '\n';
  }
  return s;
}

std::string comparison_csv(const BacktestResult& r) {
  std::string s = "kind,baseline,run,sharpe_baseline,sharpe_run,sharpe_diff_pct,sharpe_flag,decisions_compared,"
                  "decisions_differ,pnl_diff,pnl_in_disagreement\n";
  for (const Comparison& c : r.comparisons) {
    s += std::string(is_latency_comparison(r, c) ? "latency" : "precision") + "," + csv_field(c.baseline) + "," +
         csv_field(c.run) + "," + num(c.sharpe_baseline) + "," + num(c.sharpe_run) + "," + num(c.sharpe_diff_pct) +
         "," + (c.sharpe_flag ? "1" : "0") + "," + std::to_string(c.decisions_compared) + "," +
         std::to_string(c.decisions_differ) + "," + num(c.pnl_diff) + "," + num(c.pnl_in_disagreement) + "\n";
  }
  return s;
}

std::string fills_csv(const BacktestResult& r) {
  std::string s = "run,ts_ns,symbol,side,price,qty,fee,maker,decision_ts_ns\n";
  for (const EngineRun& run : r.runs)
    for (const Fill& f : run.fills)
      s += csv_field(run.name) + "," + std::to_string(f.ts_ns) + "," + csv_field(f.symbol) + "," +
           std::to_string(f.side) + "," + num(f.price) + "," + num(f.qty) + "," + num(f.fee) + "," +
           (f.maker ? "1" : "0") + "," + std::to_string(f.decision_ts_ns) + "\n";
  return s;
}

std::string round_trips_csv(const BacktestResult& r) {
  std::string s = "run,symbol,side,qty,entry_ts_ns,entry_price,exit_ts_ns,exit_price,pnl\n";
  for (const EngineRun& run : r.runs)
    for (const RoundTrip& t : round_trips(run.fills))
      s += csv_field(run.name) + "," + csv_field(t.symbol) + "," + std::to_string(t.side) + "," + num(t.qty) + "," +
           std::to_string(t.entry_ts_ns) + "," + num(t.entry_price) + "," + std::to_string(t.exit_ts_ns) + "," +
           num(t.exit_price) + "," + num(t.pnl) + "\n";
  return s;
}

std::string equity_csv(const BacktestResult& r) {
  std::string s = "run,ts_ns,equity,gross,position,mid\n";
  for (const EngineRun& run : r.runs)
    for (const EquityPoint& p : run.equity)
      s += csv_field(run.name) + "," + std::to_string(p.ts_ns) + "," + num(p.equity) + "," + num(p.gross) + "," +
           num(p.position) + "," + num(p.mid) + "\n";
  return s;
}

Status write_report(const BacktestResult& r, const std::string& dir, const ReportOptions& opt) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Status(Code::io_error, "report: cannot create directory " + dir + ": " + ec.message());
  auto write = [&](const char* name, const std::string& text) -> Status {
    const fs::path p = fs::path(dir) / name;
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    if (!out) return Status(Code::io_error, "report: cannot open " + p.string() + " for writing");
    out.write(text.data(), std::streamsize(text.size()));
    out.close();
    if (!out) return Status(Code::io_error, "report: writing " + p.string() + " failed (disk full?)");
    return Status::Ok();
  };
  TICKRT_RETURN_IF_ERROR(write("result.json", to_json(r)));
  TICKRT_RETURN_IF_ERROR(write("runs.csv", runs_csv(r)));
  TICKRT_RETURN_IF_ERROR(write("comparison.csv", comparison_csv(r)));
  TICKRT_RETURN_IF_ERROR(write("fills.csv", fills_csv(r)));
  TICKRT_RETURN_IF_ERROR(write("round_trips.csv", round_trips_csv(r)));
  TICKRT_RETURN_IF_ERROR(write("equity.csv", equity_csv(r)));
  TICKRT_RETURN_IF_ERROR(write("report.html", render_html(r, opt)));
  return Status::Ok();
}

}  // namespace tickrt::backtest
