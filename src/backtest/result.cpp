// backtest/result.cpp — BacktestResult <-> JSON (nlohmann::ordered_json: fields in declaration order).
//
// One field list per struct (`fields`) drives both directions, so writer and reader cannot drift.
// Exactness: doubles are written in the shortest form that reads back to the same bits (nlohmann's
// grisu2 + max_digits10 fallback); 64-bit integers stay integers; float probabilities widen to double
// and narrow back exactly. JSON has no NaN/inf: those are written as the strings "NaN", "Infinity",
// "-Infinity" and read back. Unknown keys are ignored (a newer writer may add fields); a missing or
// mistyped key is an error naming its path, e.g. "runs[1].fills[7].price: expected a number".
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <type_traits>

#include "backtest/result.hpp"

namespace tickrt::backtest {

namespace {

using json = nlohmann::ordered_json;
constexpr const char* kSchema = "tickrt.backtest.result/1";

template <class A, class T> requires std::is_same_v<std::remove_const_t<T>, Fill>
void fields(A& a, T& f) {
  a("ts_ns", f.ts_ns); a("symbol", f.symbol); a("side", f.side); a("price", f.price); a("qty", f.qty);
  a("fee", f.fee); a("maker", f.maker); a("decision_ts_ns", f.decision_ts_ns);
}
template <class A, class T> requires std::is_same_v<std::remove_const_t<T>, EquityPoint>
void fields(A& a, T& p) {
  a("ts_ns", p.ts_ns); a("equity", p.equity); a("gross", p.gross); a("position", p.position); a("mid", p.mid);
}
template <class A, class T> requires std::is_same_v<std::remove_const_t<T>, Decision>
void fields(A& a, T& d) {
  a("seq", d.seq); a("ts_ns", d.ts_ns); a("signal", d.signal); a("p_down", d.p_down); a("p_flat", d.p_flat);
  a("p_up", d.p_up);
}
template <class A, class T> requires std::is_same_v<std::remove_const_t<T>, LatencySummary>
void fields(A& a, T& l) {
  a("name", l.name); a("count", l.count); a("mean_ns", l.mean_ns); a("p50_ns", l.p50_ns); a("p90_ns", l.p90_ns);
  a("p99_ns", l.p99_ns); a("p999_ns", l.p999_ns); a("max_ns", l.max_ns); a("bucket_upper_ns", l.bucket_upper_ns);
  a("bucket_counts", l.bucket_counts);
}
template <class A, class T> requires std::is_same_v<std::remove_const_t<T>, Metrics>
void fields(A& a, T& m) {
  a("pnl_gross", m.pnl_gross); a("fees", m.fees); a("pnl_net", m.pnl_net); a("capital", m.capital);
  a("sharpe", m.sharpe); a("sortino", m.sortino); a("annualisation", m.annualisation);
  a("max_drawdown", m.max_drawdown); a("max_drawdown_pct", m.max_drawdown_pct); a("turnover", m.turnover);
  a("turnover_x", m.turnover_x); a("hit_rate", m.hit_rate); a("trades", m.trades); a("round_trips", m.round_trips);
  a("avg_holding_s", m.avg_holding_s);
}
template <class A, class T> requires std::is_same_v<std::remove_const_t<T>, RunCounters>
void fields(A& a, T& c) {
  a("events", c.events); a("samples", c.samples); a("inferences", c.inferences);
  a("inferred_at_boundary", c.inferred_at_boundary); a("orders", c.orders);
  a("cancels", c.cancels); a("rejects", c.rejects); a("risk_refused", c.risk_refused);
  a("wall_seconds", c.wall_seconds);
}
template <class A, class T> requires std::is_same_v<std::remove_const_t<T>, EngineRun>
void fields(A& a, T& r) {
  a("name", r.name); a("engine", r.engine); a("precision", r.precision); a("zero_latency", r.zero_latency);
  a("metrics", r.metrics); a("counters", r.counters); a("latency", r.latency); a("fills", r.fills);
  a("equity", r.equity); a("decisions", r.decisions);
}
template <class A, class T> requires std::is_same_v<std::remove_const_t<T>, Comparison>
void fields(A& a, T& c) {
  a("baseline", c.baseline); a("run", c.run); a("sharpe_baseline", c.sharpe_baseline); a("sharpe_run", c.sharpe_run);
  a("sharpe_diff_pct", c.sharpe_diff_pct); a("sharpe_flag", c.sharpe_flag);
  a("decisions_compared", c.decisions_compared); a("decisions_differ", c.decisions_differ);
  a("pnl_diff", c.pnl_diff); a("pnl_in_disagreement", c.pnl_in_disagreement);
}
template <class A, class T> requires std::is_same_v<std::remove_const_t<T>, BacktestResult>
void fields(A& a, T& r) {
  a("title", r.title); a("machine", r.machine); a("command", r.command); a("seed", r.seed);
  a("data_files", r.data_files); a("config_toml", r.config_toml); a("start_ns", r.start_ns); a("end_ns", r.end_ns);
  a("runs", r.runs); a("comparisons", r.comparisons);
}

// ---- writing ----------------------------------------------------------------
json to_j(double x) {
  if (std::isnan(x)) return "NaN";
  if (std::isinf(x)) return x > 0 ? "Infinity" : "-Infinity";
  return x;
}
json to_j(float x) { return to_j(double(x)); }
json to_j(bool x) { return x; }
json to_j(std::int8_t x) { return int(x); }
json to_j(int x) { return x; }
json to_j(std::int64_t x) { return x; }
json to_j(std::uint64_t x) { return x; }
json to_j(const std::string& x) { return x; }
template <class T> json to_j(const std::vector<T>& v);
template <class T> requires std::is_class_v<T> json to_j(const T& s);

struct Writer {
  json& obj;
  template <class T> void operator()(const char* key, const T& v) { obj[key] = to_j(v); }
};

template <class T> json to_j(const std::vector<T>& v) {
  json arr = json::array();
  arr.get_ref<json::array_t&>().reserve(v.size());
  for (const T& x : v) arr.push_back(to_j(x));
  return arr;
}
template <class T> requires std::is_class_v<T> json to_j(const T& s) {
  json obj = json::object();
  Writer w{obj};
  fields(w, s);
  return obj;
}

// ---- reading ----------------------------------------------------------------
struct Ctx {
  Status err;
  bool fail(const std::string& path, const std::string& what) {
    if (err.ok()) err = Status(Code::parse_error, path + ": " + what);
    return false;
  }
};

bool from_j(const json& j, double& x, const std::string& path, Ctx& c) {
  if (j.is_number()) { x = j.get<double>(); return true; }
  if (j.is_string()) {
    const auto& s = j.get_ref<const std::string&>();
    if (s == "NaN") { x = std::numeric_limits<double>::quiet_NaN(); return true; }
    if (s == "Infinity") { x = std::numeric_limits<double>::infinity(); return true; }
    if (s == "-Infinity") { x = -std::numeric_limits<double>::infinity(); return true; }
  }
  return c.fail(path, "expected a number");
}
bool from_j(const json& j, float& x, const std::string& path, Ctx& c) {
  double d = 0;
  if (!from_j(j, d, path, c)) return false;
  x = float(d);
  return true;
}
bool from_j(const json& j, bool& x, const std::string& path, Ctx& c) {
  if (!j.is_boolean()) return c.fail(path, "expected true or false");
  x = j.get<bool>();
  return true;
}
template <class I> requires std::is_integral_v<I>
bool from_int(const json& j, I& x, const std::string& path, Ctx& c) {
  if (j.is_number_unsigned()) {
    const auto u = j.get<std::uint64_t>();
    if (u > std::uint64_t(std::numeric_limits<I>::max())) return c.fail(path, "integer out of range");
    x = I(u);
    return true;
  }
  if (j.is_number_integer()) {
    const auto s = j.get<std::int64_t>();
    if constexpr (std::is_unsigned_v<I>) {
      if (s < 0) return c.fail(path, "expected a non-negative integer");
      x = I(s);
    } else {
      if (s < std::int64_t(std::numeric_limits<I>::min()) || s > std::int64_t(std::numeric_limits<I>::max()))
        return c.fail(path, "integer out of range");
      x = I(s);
    }
    return true;
  }
  return c.fail(path, "expected an integer");
}
bool from_j(const json& j, std::int8_t& x, const std::string& p, Ctx& c) { return from_int(j, x, p, c); }
bool from_j(const json& j, int& x, const std::string& p, Ctx& c) { return from_int(j, x, p, c); }
bool from_j(const json& j, std::int64_t& x, const std::string& p, Ctx& c) { return from_int(j, x, p, c); }
bool from_j(const json& j, std::uint64_t& x, const std::string& p, Ctx& c) { return from_int(j, x, p, c); }
bool from_j(const json& j, std::string& x, const std::string& path, Ctx& c) {
  if (!j.is_string()) return c.fail(path, "expected a string");
  x = j.get<std::string>();
  return true;
}
template <class T> bool from_j(const json& j, std::vector<T>& v, const std::string& path, Ctx& c);
template <class T> requires std::is_class_v<T> bool from_j(const json& j, T& s, const std::string& path, Ctx& c);

struct Reader {
  const json& obj;
  const std::string& path;
  Ctx& c;
  template <class T> void operator()(const char* key, T& v) {
    if (!c.err.ok()) return;
    const std::string p = path.empty() ? std::string(key) : path + "." + key;
    auto it = obj.find(key);
    if (it == obj.end()) { c.fail(p, "missing"); return; }
    from_j(*it, v, p, c);
  }
};

template <class T> bool from_j(const json& j, std::vector<T>& v, const std::string& path, Ctx& c) {
  if (!j.is_array()) return c.fail(path, "expected an array");
  v.clear();
  v.resize(j.size());
  for (std::size_t i = 0; i < j.size(); ++i)
    if (!from_j(j[i], v[i], path + "[" + std::to_string(i) + "]", c)) return false;
  return true;
}
template <class T> requires std::is_class_v<T> bool from_j(const json& j, T& s, const std::string& path, Ctx& c) {
  if (!j.is_object()) return c.fail(path.empty() ? "result" : path, "expected an object");
  Reader r{j, path, c};
  fields(r, s);
  return c.err.ok();
}

}  // namespace

std::string to_json(const BacktestResult& r) {
  json j = json::object();
  j["schema"] = kSchema;
  Writer w{j};
  fields(w, r);
  return j.dump() + "\n";
}

std::string precision_from_metadata(const std::string& desc) {
  std::string word;
  std::size_t pos = 0;
  while (pos < desc.size()) {
    std::size_t e = desc.find(';', pos);
    if (e == std::string::npos) e = desc.size();
    const std::string item = desc.substr(pos, e - pos);
    const std::size_t eq = item.rfind('=');
    const std::string w = eq == std::string::npos ? item : item.substr(eq + 1);
    if (word.empty()) word = w;
    else if (!w.empty() && word != w) return "mixed";
    pos = e + 1;
  }
  return word.empty() ? "fp32" : word;
}

Result<BacktestResult> from_json(const std::string& text) {
  json j;
  try {
    j = json::parse(text);
  } catch (const json::parse_error& e) {
    return Status(Code::parse_error, std::string("backtest result JSON: ") + e.what());
  }
  if (!j.is_object()) return Status(Code::parse_error, "backtest result JSON: expected an object at the top");
  auto schema = j.find("schema");
  if (schema == j.end() || !schema->is_string() || schema->get<std::string>() != kSchema)
    return Status(Code::parse_error, std::string("backtest result JSON: schema: expected \"") + kSchema + "\"");
  BacktestResult r;
  Ctx c;
  if (!from_j(j, r, "", c)) return c.err.with_context("backtest result JSON");
  return r;
}

}  // namespace tickrt::backtest
